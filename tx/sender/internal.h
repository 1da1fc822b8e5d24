/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender engine's parts (the files of tx/sender/) and what they share: the state of a
 * struct sender, its objects and groups, and the functions one part calls in another. Not for
 * use outside tx/sender/. policy.c is the sender thread's loop and says what goes when; the
 * other files are what it calls.
 */
#ifndef SLUICE_TX_SENDER_INTERNAL_H
#define SLUICE_TX_SENDER_INTERNAL_H

#include "tx/sender/sender.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/annauth.h"
#include "common/log.h"
#include "common/session.h"
#include "fec/fec.h"
#include "hw/link.h"
#include "hw/pacer.h"
#include "tx/tx_metrics.h"

#define SEND_BATCH 32
#define ANNOUNCE_INTERVAL_NS 1000000000ull
#define MAX_INTERLEAVE 256
#define EVENT_SPREAD_NS 250000ull /* between the repair packets of an event batch */
#define TRICKLE_MAX 65536          /* repair packets waiting; beyond, they leave at once */

/* A repair packet of an event batch, due later: spread in time, a burst of loss cannot take
 * all of a batch's packets. */
struct trickle {
	struct trickle *next, *prev;
	uint64_t due; /* mono_ns */
	size_t len;
	uint8_t data[];
};

struct tx_obj {
	struct tx_obj *next;
	uint8_t kind;
	uint64_t id;
	uint64_t len;
	struct fec_partition part;
	uint32_t next_block;
	unsigned pass;       /* 1..repeat, FILE only */
	int fd;              /* FILE */
	struct stat st0;     /* FILE: at open, to notice changes */
	struct tx_file *file;
	uint8_t *mem;        /* MANIFEST / EVENTS bytes */
	uint8_t *leaves;     /* FILE: leaf hashes, filled on the first pass */
	bool aborted;
	bool last;           /* MANIFEST: the file is complete once this has been sent */
	struct manifest *man;   /* MANIFEST: not signed yet (mem NULL): group_seal_manifest */
	struct tx_obj *file_obj; /* MANIFEST: the FILE object that keeps the signed bytes for its
				    next repeat, or NULL (the last) */
	uint8_t *signed_man;    /* FILE: its manifest as first signed, for every repeat */
	size_t signed_len;
};

struct block_job {
	struct tx_obj *obj;
	struct group *g;
	uint32_t block, k, m, data_len;
	uint64_t offset; /* FILE: where the block starts in the file; the worker reads it */
	bool hash;
	uint8_t *src;
	uint32_t slot[FEC_MAX_SYMBOLS];
};

struct group {
	unsigned nblocks;
	struct block_job jobs[MAX_INTERLEAVE];
	void *jobptrs[MAX_INTERLEAVE];
	struct tx_obj *ending[MAX_INTERLEAVE];
	unsigned nending;
	struct tx_obj *mhead, *mtail; /* manifests to send once the group has left */
	uint8_t *src;
	uint8_t *pkts;
	struct link_pkt *wire;
	unsigned npkts;
	uint64_t base_pn;
	uint64_t content; /* file content bytes in its blocks (sender_content_bytes) */
	struct workers_batch *batch;
};

struct scratch {
	struct fec_codec *codec;
	struct aead *aead;
	uint8_t *repair;
};

struct sender {
	struct sender_config c;
	size_t pkt_len;         /* WIRE_DATA_OVERHEAD + T */
	unsigned max_symbols;   /* block_max + its repair count */
	uint64_t session;
	uint8_t eph_pk[32];
	uint8_t ann_key[ANNAUTH_KEY_LEN]; /* announcement MAC (common/annauth.h) */
	struct session_secret secret;
	uint64_t start_ns;
	uint64_t start_mono;
	struct workers *workers;
	struct scratch *scratch;  /* one per worker, then the sender thread's own */
	struct group groups[2];
	unsigned send_batch;      /* packets per link_send: SEND_BATCH, or what fits the burst */
	_Atomic uint64_t content_sent;  /* sender_content_bytes */
	_Atomic uint64_t new_rate_bps; /* sender_set_rate's, taken before the next batch leaves; 0: none */
	uint8_t *evsrc;           /* event objects: one block's source symbols */
	uint8_t *evpkts;          /* and its sealed packets */
	struct link_pkt *evwire;
	struct trickle *trickle, *trickle_tail; /* sorted by due */
	uint64_t drain_until;     /* at stop: queued events and repairs go until then (mono_ns) */
	size_t ntrickle;
	struct pacer pacer;
	struct txchain *chain;    /* per-spool chain heads (tx/txchain.h); sender thread only */
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct tx_file *queue; /* submitted, sorted by mtime */

	/* sender thread only */
	struct tx_obj *norm_head, *norm_tail; /* file content */
	uint64_t next_pn;
	uint64_t next_id;    /* files */
	uint64_t next_ev_id; /* event batches: an id space of their own (WIRE_EVENT_ID_BASE) */
	uint64_t *outstanding; /* object ids started but not complete, ascending */
	size_t noutstanding, outstanding_cap;
	size_t nunrecorded;    /* ids started, not recorded there (no memory), not complete */
	uint64_t unrecorded_floor; /* while nunrecorded: at or below the lowest of them */
	uint64_t packets, objects;
	uint64_t next_announce_ns;
	unsigned inflight_files;
	struct tx_file *unsent;
};

/* objects.c: FILE and MANIFEST objects, the lists they wait in, the file ids outstanding */
struct tx_obj *object_new(struct sender *s, uint8_t kind, uint64_t id, uint64_t len);
void object_free(struct tx_obj *o);
void object_push_back(struct tx_obj **head, struct tx_obj **tail, struct tx_obj *o);
void object_push_front(struct tx_obj **head, struct tx_obj **tail, struct tx_obj *o);
struct tx_obj *object_pop_front(struct tx_obj **head, struct tx_obj **tail);
void object_outstanding_add(struct sender *s, uint64_t id);
void object_outstanding_del(struct sender *s, uint64_t id);
uint64_t object_done_id(const struct sender *s);
struct tx_obj *object_next_file(struct sender *s);
void object_file_done(struct sender *s, struct tx_file *f, int status);
uint32_t object_repair_count(const struct sender *s, uint8_t kind, uint32_t k);

/* groups.c: file content, `interleave` blocks at a time, prepared by the workers */
void group_fill(struct sender *s, struct group *g);
void group_run_block(void *job, unsigned wi, void *ctx);
void group_finish(struct sender *s, struct group *g);
/* Right before a manifest leaves: its chain position taken (and saved) and its bytes signed,
 * once per file; 0 or -errno (the manifest cannot leave). */
int group_seal_manifest(struct sender *s, struct tx_obj *m);

/* small.c: manifests and event batches, coded and sealed on the sender thread. SMALL_STOPPED:
 * the sender stopped before its source packets had all left; SMALL_FAILED: it could not be
 * coded or a packet could not be sealed (logged, counted), and what was not sent never will be. */
enum small_result { SMALL_SENT, SMALL_STOPPED, SMALL_FAILED };
enum small_result small_send(struct sender *s, uint8_t kind, const uint8_t *obj, size_t len,
			     uint64_t id);

/* trickle.c: small objects' repair packets, spread in time */
void trickle_add(struct sender *s, const uint8_t *pkt, size_t len, uint64_t due);
void trickle_send(struct sender *s, bool all);

/* announce.c: the session announcement */
void announce_send(struct sender *s);
void announce_if_due(struct sender *s);

/* pace.c: the one way data packets leave; false when the sender stopped before all had */
bool pace_send(struct sender *s, struct link_pkt *wire, unsigned n);
bool pace_stalled(struct sender *s);
/* The pacer's rate and the batch size that fits its burst (the sender thread's, or before it). */
void pace_set_rate(struct sender *s, uint64_t rate_bps);

/* policy.c: the sender thread */
void *policy_main(void *p);

#endif
