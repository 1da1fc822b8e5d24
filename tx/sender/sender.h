/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender engine: one thread turns queued files into a paced stream of sealed FEC symbols.
 *
 * A file becomes a FILE object (content, cut into blocks per fec/fec.h) followed by a MANIFEST
 * object with the same id (signed: spool, path, size, mtime, content hash), sent like an event
 * batch (heavily protected, repair spread in time); with fec.repeat R the pair is sent R times. Blocks are taken `interleave` at a time, across object boundaries,
 * into a *group*; the group's packets are numbered in wire order, round-robin over its blocks,
 * so a burst of loss spreads across blocks. Worker threads hash, encode and seal the blocks of
 * group g+1 while the sender thread paces group g onto the link. A session announcement leaves
 * at start and every second, between batches.
 *
 * Event batches (tx/evqueue.h) pre-empt file content: before every batch of packets the
 * sender thread takes the batches that are due, encodes and seals them itself and sends them
 * first, so an event waits at most one batch, which is kept within the pacer's burst
 * (PACER_BURST_NS). They share the pacer: file content gets what events leave of the rate.
 * A batch's source packets leave at once and its repair packets follow 250 us apart.
 *
 * A file is complete, and `done` is called with 0, when the last packet of its last manifest
 * copy has been handed to the link; with -EAGAIN when it changed, shrank or vanished while
 * being read (the caller queues it again); with another -errno when it could not be opened.
 */
#ifndef SLUICE_TX_SENDER_H
#define SLUICE_TX_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/keys.h"

struct link;
struct evq;

struct tx_file {
	struct tx_file *next;
	char spool[CONFIG_NAME_MAX];
	char *relpath;     /* relative to the spool, '/'-separated */
	char *path;        /* to open */
	uint64_t size;     /* at pick-up, for the backlog gauge */
	uint64_t mtime_ns; /* at pick-up: oldest first */
	uint64_t ino;      /* set by the sender: the inode it read (0: not opened) */
	uint64_t session;  /* set by the sender: the session and file object id it went as */
	uint64_t object_id;
	void *owner;       /* the caller's */
};

typedef void (*sender_done_fn)(void *ctx, struct tx_file *f, int status);

struct sender_config {
	const struct keys_tx *keys;
	const uint8_t *rx_pk;
	struct link *link;
	unsigned mtu;
	unsigned symbol_size;
	unsigned block_max;
	unsigned overhead_pct;
	unsigned interleave;
	unsigned repeat;
	uint64_t rate_bps;
	unsigned workers;
	uint64_t session_counter; /* persisted, grows at every start */
	uint64_t prev_session;    /* announced: the session before this one (tx/journal.h) */
	uint64_t prev_done_id;    /* and the done id it stopped with; 0 unknown */
	sender_done_fn done;      /* called on the sender thread */
	void *done_ctx;
	struct evq *events;       /* event batches, sent ahead of file content; may be NULL */
	const char *chain_state;  /* STATE for the spools' chain heads (tx/txchain.h); NULL: in
				     memory only */
};

struct sender;

int sender_new(struct sender **out, const struct sender_config *c) __attribute__((warn_unused_result));
int sender_start(struct sender *s) __attribute__((warn_unused_result));
/* link.rate anew (SIGHUP): the sender thread takes it before its next batch. 0 is ignored. */
void sender_set_rate(struct sender *s, uint64_t rate_bps);
/* Queue a file (thread-safe); oldest mtime goes first. The sender owns f until done(). */
void sender_submit(struct sender *s, struct tx_file *f);
/* Stop at the next batch boundary and join; files not fully sent are not reported done. */
void sender_stop(struct sender *s);
/* Files given back by sender_stop that were queued or in flight (a list via ->next). */
struct tx_file *sender_take_unsent(struct sender *s);
void sender_free(struct sender *s);
uint64_t sender_session(const struct sender *s);
/* File content bytes whose packets have been handed to the link, every repeat counted (a file
 * sent R times adds its size R times), advancing with each batch of a group; any thread. */
uint64_t sender_content_bytes(struct sender *s);
/* Every file id below it has left completely (all repeats). After sender_stop(): final. */
uint64_t sender_done_id(struct sender *s);
/* Wake the sender: events were queued (tx/evqueue.h wake callback; any thread). */
void sender_kick(void *sender);
/* True when nothing is queued or in flight. */
bool sender_idle(struct sender *s);

#endif
