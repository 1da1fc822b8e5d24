/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deliver role's parts (the files of rx/deliver/) and what they share: the state of a
 * struct deliver, and the functions one part calls in another. Not for use outside rx/deliver/.
 *
 * The deliver role's state machine, per (session, object):
 *
 *   (none) --BLOCK/MANIFEST/FILE_END--> pending --FILE_END + MANIFEST--> commit --> closed
 *                                          |                               |
 *                                          +--LOST / evicted / bad field---+--> closed
 *
 * A pending object holds a temp file FILES/.sluice-tmp/<session hex>-<object>, one leaf hash,
 * offset and length per block that arrived, FILE_END's length and block count, and the raw
 * manifest. Commit runs every check of rx/deliver/deliver.h, cheapest first, then renames the
 * temp file into place or removes it. Closed ids are remembered in a ring, so that the rest of
 * a rejected object's messages cannot open it again. Nothing the link role says is believed:
 * its offsets, lengths and counts only ever narrow what is accepted, never widen it.
 */
#ifndef SLUICE_RX_DELIVER_INTERNAL_H
#define SLUICE_RX_DELIVER_INTERNAL_H

#include "rx/deliver/deliver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/chain.h"
#include "common/manifest.h"
#include "rx/audit.h"
#include "rx/rx_metrics.h"

#define BUCKETS 2048                        /* pending hash table, 2 x DELIVER_PENDING_MAX */
#define CLOSED_MAX 4096                     /* ids whose outcome is decided */
#define REJECTED_MAX 1024                   /* of those, the rejected ones (see on_lost) */
#define TABLE_BYTES_MAX (256ull << 20)      /* per-block bookkeeping of all pending objects */
#define NOT_ARRIVED UINT64_MAX
#define ENTRY_BYTES (HASH_LEN + sizeof(struct blk))
#define ORPHANS_MAX DELIVER_PENDING_MAX     /* ids a deliver process that died held unfinished */
#define DECIDED_FILE "decided"              /* STATE/decided: the file ids decided lately */
#define COMMITTING_FILE "committing"        /* STATE/committing: the file being given its name */
#define CUT_FILE "committing-cut"           /* STATE/committing-cut: one whose commit a stop cut */

struct dsession {
	uint64_t id;
	uint8_t pk[32];
	char fp[17];
};

struct blk {
	uint64_t off; /* NOT_ARRIVED, or where the block was written */
	uint32_t len;
};

struct pending {
	struct pending *older, *newer; /* age list, oldest first */
	struct pending *hnext;
	uint64_t session, object;
	int fd;                        /* temp file, -1 until the first block */
	bool tmp_exists;
	char tmpname[48];
	uint8_t *leaves;               /* HASH_LEN per block */
	struct blk *blk;
	uint32_t cap;                  /* entries allocated */
	uint32_t top;                  /* highest block index that arrived, + 1 */
	bool ended;
	uint64_t length;
	uint32_t nblocks;
	uint8_t *manifest;
	size_t manifest_len;
	struct manifest *man;          /* decoded, passed check_manifest; NULL until judged */
	bool partial;                  /* the link role held it unfinished at a clean stop */
	uint64_t partial_len;          /* and the length its data packets gave */
	int full_rc;                   /* -ENOSPC or -EDQUOT: the filesystem was full (temp file
					  removed, blocks ignored; lost once its manifest says what
					  it was), else 0 */
	const char *full_step;         /* what failed, for the audit line */
	const char *chain_note;        /* how its manifest joined the spool's chain, when not in
					  order (chain.c), for its audit line; NULL */
	bool resumed;                  /* kept across a clean stop: its manifest may have taken
					  its place in the chain before it */
};

struct closed_id {
	uint64_t session, object;
};

struct deliver {
	int rootfd, tmpfd;
	int statefd; /* the state folder, for STATE/senders; -1: not kept */
	uint8_t (*senders)[32];
	size_t nsenders;
	uint64_t object_limit;
	struct audit *audit;
	int watch_fd; /* deliver_watch */
	int (*watch_ready)(void *arg);
	void *watch_arg;
	void (*tick)(void *arg, uint64_t now); /* deliver_on_tick */
	void *tick_arg;
	struct dsession sessions[DELIVER_SESSIONS_MAX];
	size_t nsessions, session_next;
	struct pending *buckets[BUCKETS];
	struct pending *oldest, *newest;
	size_t npending;
	uint64_t table_bytes;
	struct closed_id closed[CLOSED_MAX];
	size_t nclosed, closed_next;
	struct closed_id rejected[REJECTED_MAX];
	size_t nrejected, rejected_next;
	uint64_t bad_messages;
	struct versions *versions; /* what is stored under each name */
	struct events *events;
	struct ring *ring;
	uint8_t *copy; /* a BLOCK_REF's bytes, out of the ring */
	size_t copy_cap;
	struct deliver_kept *kept; /* objects resumed from a clean stop (rx/kept.h) */
	size_t nkept;
	/* Ids whose temp file a deliver process that did not stop cleanly left (resume_tmp):
	 * their lost line, if they come to one, says deliver_restart. */
	struct closed_id orphans[ORPHANS_MAX];
	size_t norphans;
	/* STATE/decided (-1: not kept): the file ids closed lately, 16 bytes each (session,
	 * object, little-endian), so that after this process dies the next one knows them as
	 * decided although STATE/senders may not say so (decided_trim keeps it bounded). */
	int decidedfd;
	int commitfd; /* STATE/committing */
	struct cut_commit { /* a commit a stop cut short, audited once its session is named */
		bool on;
		uint64_t session, object;
	} cut;
	bool exiting; /* deliver_free: what is closed now is dropped, not decided */
	struct chain_set chains;   /* per (sender, spool): chain.c */
	int chainsfd;              /* STATE/chains opened to append each new head; -1 */
	uint64_t chains_appended;  /* bytes appended since it was last written whole */
	bool chains_dirty;         /* an append failed: written whole at the next tick */
	uint64_t chains_saved_ns;  /* mono */
};

/* table.c: the sessions told of, the pending objects, the ids decided */
struct dsession *table_session(struct deliver *d, uint64_t id);
struct pending *table_find(struct deliver *d, uint64_t session, uint64_t object);
struct pending *table_get(struct deliver *d, uint64_t session, uint64_t object, int *rc);
int table_reserve(struct deliver *d, struct pending *p, uint32_t b);
void table_close(struct deliver *d, struct pending *p);
bool table_is_closed(const struct deliver *d, uint64_t session, uint64_t object);
void table_mark_closed(struct deliver *d, uint64_t session, uint64_t object);
bool table_was_rejected(const struct deliver *d, uint64_t session, uint64_t object);
void table_mark_rejected(struct deliver *d, uint64_t session, uint64_t object);

/* resume.c: ids left unfinished by a deliver process that died */
bool orphan_take(struct deliver *d, uint64_t session, uint64_t object);
bool orphan_has(const struct deliver *d, uint64_t session, uint64_t object);
void decided_load(struct deliver *d);
void decided_trim(struct deliver *d);
/* An id as STATE/decided and STATE/committing hold it: session, then object, little-endian. */
#define IDREC_LEN 16
void idrec_encode(uint8_t rec[IDREC_LEN], uint64_t session, uint64_t object);
void idrec_decode(const uint8_t rec[IDREC_LEN], uint64_t *session, uint64_t *object);
void committing_recover(struct deliver *d);
void committing_mark(struct deliver *d, uint64_t session, uint64_t object);
void committing_clear(struct deliver *d);
void committing_named(struct deliver *d, uint64_t session);
void committing_at_exit(struct deliver *d);
void orphans_at_exit(struct deliver *d);

/* outcome.c: an object's audit line, and the outcomes that end it without a file */
void outcome_audit(struct deliver *d, enum audit_outcome outcome, uint64_t session,
		   uint64_t object, const struct manifest *man, const char *stored_as,
		   const char *reason, uint64_t size);
/* The same for a file with a verified manifest: its signed bytes go in the line too. */
void outcome_audit_signed(struct deliver *d, enum audit_outcome outcome, const struct pending *p,
			  const struct manifest *man, const char *stored_as, const char *reason);
void outcome_lost(struct deliver *d, struct pending *p, const char *reason);
bool outcome_is_disk_full(int rc);
void outcome_disk_full(struct deliver *d, struct pending *p, const char *step, int rc);
void outcome_rejected(struct deliver *d, struct pending *p, const struct manifest *man,
		      const char *reason);
int outcome_rejectf(struct deliver *d, struct pending *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* commit.c: the manifest and content checks, and the file's final name */
int commit_judge_manifest(struct deliver *d, struct pending *p, bool final);
void commit_object(struct deliver *d, struct pending *p);

/* chain.c: each accepted manifest's place in its spool's chain, breaks audited */
#define DELIVER_CHAIN_HOLD_NS 5000000000ull /* a gap this old is a break */
void chain_note_manifest(struct deliver *d, struct pending *p);
void chain_load(struct deliver *d);
void chain_save(struct deliver *d, bool now);
uint64_t chain_next_due(const struct deliver *d); /* a deadline (common/deadline.h) */
void chain_tick(struct deliver *d, uint64_t now);
void chain_flush(struct deliver *d); /* every open gap a break, heads saved: at a stop */

/* resume.c: objects kept across a clean stop */
int resume_tmp(struct deliver *d);

#endif
