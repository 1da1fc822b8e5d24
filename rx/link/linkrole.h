/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's link role: everything that touches bytes from the link. It reads datagrams,
 * refuses what is malformed, unknown, forged or replayed (cheapest check first, each reason
 * counted), opens sessions from signed announcements of pinned senders, authenticates every
 * data packet before FEC sees it, rebuilds blocks, and hands complete blocks, manifests and
 * event batches to the deliver role as messages (rx/msg.h). Partial objects are held in
 * memory up to limits.memory, evicting the oldest. It never touches the output folders.
 */
#ifndef SLUICE_RX_LINK_LINKROLE_H
#define SLUICE_RX_LINK_LINKROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/keys.h"
#include "common/session.h"

struct link;
struct ring;

/* A file object the deliver role kept at the last clean stop (rx/kept.h): when its sender
 * session rejoins, the object continues with these blocks done (a bit per block below top). */
struct linkrole_resume {
	uint64_t session, object, length;
	uint32_t top;
	const uint8_t *done;
};

struct linkrole_config {
	struct link *link;              /* NULL for tests: feed linkrole_packet() */
	const struct keys_rx *keys;     /* in-process (tests, fuzzing): the static secret here.
					   NULL in the link process, which gets instead: */
	const uint8_t *rx_pk;           /* the receiver's public key (32 bytes) */
	const uint8_t *mac_keys;        /* per pinned sender, its announcement MAC key */
	/* The session's keys from a signed announcement the link role has checked: asked of the
	 * key holder (rx/monitor/keyholder.h). 0, or -errno (refused: the session does not open). */
	int (*derive)(void *ctx, const uint8_t *ann, size_t len, struct session_secret *out);
	void *derive_ctx;
	const uint8_t (*senders)[32];   /* pinned sender keys */
	size_t nsenders;
	uint64_t memory_limit;
	uint64_t object_limit;
	int out_fd;                     /* stream to the deliver role; -1 to discard (fuzzing) */
	int ev_fd;                      /* EVENTS messages go here instead when >= 0: a lane of
					   their own, so events never queue behind file blocks */
	struct ring *ring;              /* file blocks go through it when it has room (rx/ring.h);
					   NULL: always inline */
	const char *state_dir;          /* newest session counter per sender; NULL = not kept */
	/* Or, in the link process (no files): STATE/senders's text as the monitor read it, and
	 * saves sent to the deliver role as STATE messages, which it writes. */
	const char *state_text;
	size_t state_len;
	bool state_msg;
	/* Called on every tick (about every 100 ms) while linkrole_run runs, and while it hands
	 * over its queue at a stop; may be NULL. */
	void (*tick)(void *ctx);
	void *tick_ctx;
	const struct linkrole_resume *resume; /* copied by linkrole_new */
	size_t nresume;
};

struct linkrole;

int linkrole_new(struct linkrole **out, const struct linkrole_config *c)
	__attribute__((warn_unused_result));
/* Receive and process until linkrole_stop(); 0, or -errno on a fatal link error or when the
 * deliver role's channel is closed (-EPIPE: nothing could be handed over). While more than
 * its cap is queued for the deliver role, it does not read the link (the timers still run). At the
 * stop, each unfinished file object of a sender's current session is named to the deliver
 * role (PARTIAL, with its length) before the queue is flushed, so that it can be kept. */
int linkrole_run(struct linkrole *l);
void linkrole_stop(struct linkrole *l); /* thread-safe */
/* One pass of linkrole_run's loop (tests): 0, or -errno as linkrole_run returns it. */
int linkrole_run_once(struct linkrole *l);
/* Bytes queued for the deliver role (tests, metrics). */
uint64_t linkrole_queued(const struct linkrole *l);
/* One datagram (may be modified in place). now_ns: CLOCK_MONOTONIC. */
void linkrole_packet(struct linkrole *l, uint8_t *pkt, size_t len, uint64_t now_ns);
/* Timers: lost objects, retired sessions, link state. */
void linkrole_tick(struct linkrole *l, uint64_t now_ns);
/* Push queued messages to the deliver role; true when nothing is left queued. */
bool linkrole_flush(struct linkrole *l);
void linkrole_free(struct linkrole *l);

#endif
