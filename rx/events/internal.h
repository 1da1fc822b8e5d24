/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The events lane's parts (the files of rx/events/) and what they share: the state of a
 * struct events and of each source, and the functions one part calls in another. Not for use
 * outside rx/events/.
 *
 *   events.c   events_batch and the lane's timers: a batch's events in seq order, stream resets
 *   order.c    the reorder buffer: events held until the seqs below them arrive, gaps given up
 *   encode.c   the text of one line (events_encode for the event itself)
 *   dayfile.c  the day files: opened per UTC day, a cut-short last line repaired, the last seq
 *              recovered at start
 *   sources.c  the table of sources and their stream ids in STATE/events
 *   chain.c    each batch's signature and place in its source's chain, audited; the chain's
 *              state in STATE/evchain
 */
#ifndef SLUICE_RX_EVENTS_INTERNAL_H
#define SLUICE_RX_EVENTS_INTERNAL_H

#include "rx/events/events.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/evbatch.h"

/* since: when the gap right below this event was first missed, i.e. when the earliest of
 * this and every later held event arrived (a seq is missing as soon as any higher one is
 * here). Non-decreasing along held[], so held[0] is always the first gap due. */
struct held {
	uint64_t seq, tx_ns;
	uint64_t since; /* e->mono() */
	uint32_t len;
	uint8_t *data;
};

struct source {
	char name[EVBATCH_NAME_MAX + 1];
	int dirfd;
	int fd;            /* today's file, or -1 */
	int64_t day;       /* of fd: days since 1970 (UTC) */
	bool dirty;        /* written since the last fsync */
	bool have_stream;
	uint64_t stream;
	bool have_next;
	uint64_t next;     /* next seq to write */
	/* A new stream's start (no seq from a file, no batch with after 0 yet): its events wait
	 * up to EVENTS_REORDER_NS from start_since for the batches before them (order_start). */
	bool starting;
	uint64_t start_after, start_first, start_since;
	uint64_t floor;    /* seqs below it were never this stream's to write: late ones are lost */
	/* The newest tx_time written in this stream, in microseconds (what the file keeps): an
	 * event below next with a newer one is not a duplicate, the sender's seq went back. */
	bool have_last_tx;
	uint64_t last_tx_us;
	struct held *held; /* sorted by seq, all > next */
	size_t nheld, heldcap, heldbytes;
	struct evchain *chain; /* NULL until the first signed batch */
	int chain_fd;          /* STATE/evchain/<source>, or -1 */
	uint64_t chain_synced_ns; /* mono: its last fdatasync */
	uint64_t session;      /* of the last batch, for break lines */
};

struct buf {
	char *p;
	size_t len, cap;
	uint64_t lines; /* whole lines in p */
};

struct events {
	int rootfd;
	char *state_dir; /* STATE/events, or NULL */
	struct source *src[EVENTS_SOURCES_MAX];
	size_t nsrc;
	uint64_t last_sync;
	struct buf out;
	struct forward *fw;
	size_t held_total; /* bytes in all reorder buffers */
	uint64_t (*mono)(void);
	struct audit *audit;
	uint8_t (*senders)[32];
	char (*fps)[17];
	size_t nsenders;
	int chain_dirfd; /* STATE/evchain, or -1 */
};

/* encode.c: how e->out grows (realloc; tests fail it on demand) */
extern void *(*encode_out_realloc)(void *, size_t);
/* encode.c: append one line for an event to e->out (a lost one is logged and counted) */
void encode_line(struct events *e, struct source *s, uint64_t seq, uint64_t tx_ns,
		 const uint8_t *data, size_t len, uint64_t rx_ns);

/* dayfile.c: the file of one UTC day, and what the newest one says at start */
int64_t dayfile_day_of(uint64_t ns);
int dayfile_open(struct source *s, int64_t day);
int dayfile_write(int fd, const char *p, size_t n);
void dayfile_recover(struct source *s);

/* sources.c: a source by name (created and recovered on first use), its stream id saved.
 * NULL, with the reason in *why, for a name refused, a full table or no memory. */
struct source *sources_get(struct events *e, const char *name, const char **why);
/* s->dirfd open on EVENTS/<source>, made again if it was removed (a removed today's file is
 * closed too, so that a new one is made): 0 or -errno (logged). */
int sources_dir(struct events *e, struct source *s);
void sources_save_stream(struct events *e, struct source *s);

/* chain.c: source_chain_verify returns the index of the pinned key the batch's record verifies with,
 * or -EPERM (refused: audited and counted), before anything of the batch is used; source_chain_batch
 * places it in its source's chain and audits it (0 or -ENOMEM); source_chain_tick gives up missing
 * batches whose time is up; source_chain_due is when (UINT64_MAX: none); source_chain_close gives up all,
 * saves and closes. */
int source_chain_verify(struct events *e, uint64_t session, const struct evbatch *b);
int source_chain_batch(struct events *e, struct source *s, uint64_t session, const struct evbatch *b,
		int key);
void source_chain_rejected(struct events *e, uint64_t session, const char *source, const char *why);
void source_chain_tick(struct events *e, struct source *s, uint64_t now);
uint64_t source_chain_due(const struct source *s);
void source_chain_close(struct events *e, struct source *s);

/* order.c: writing in seq order. order_flush writes e->out to today's file and to forwarding,
 * counting its lines delivered or lost; order_gap logs and counts the seqs from..to-1 as lost;
 * order_drain and order_skip_gap add lines to e->out; order_hold returns 0 (held), 1 (a
 * duplicate of a held event) or -ENOMEM. */
void order_flush(struct events *e, struct source *s, uint64_t rx_ns);
void order_gap(struct source *s, uint64_t from, uint64_t to);
void order_drain(struct events *e, struct source *s, uint64_t rx_ns);
void order_skip_gap(struct events *e, struct source *s, uint64_t rx_ns);
int order_hold(struct events *e, struct source *s, const struct evbatch_event *ev, uint64_t now);
/* order.c: a new stream's start. order_start notes a batch that arrived while the start is not
 * known (and fixes it at once for a batch with after 0: nothing comes before seq 0);
 * order_start_fix fixes it at the lowest `after` seen and writes what follows it. */
void order_start(struct events *e, struct source *s, const struct evbatch *b, uint64_t now,
		 uint64_t rx_ns);
void order_start_fix(struct events *e, struct source *s, uint64_t rx_ns);

#endif
