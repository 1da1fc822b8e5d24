/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chain of custody of each event source (common/evchain.h), on the receiver: a batch's
 * signed record is verified with the pinned sender keys before any of its events is written,
 * then placed in its source's chain (batches may arrive in any order within EVCHAIN_WINDOW;
 * a missing one is given up EVENTS_REORDER_NS after a later one arrived, as the events lane
 * gives up its seqs). Each new batch is recorded in the audit log with its signed record,
 * each break with what is known of it. The chain's state is one fixed-width record rewritten
 * in place in STATE/evchain/<source> after each batch (synced at most once a second and at a
 * clean stop: the page cache outlives a crash of the process); batches held ahead of a missing
 * one at a crash are not in it, so the first batch after such a restart can name them as
 * missing. A state file that does not parse is a chain_break "state_unreadable".
 */
#include "rx/events/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/evchain.h"
#include "common/keys.h"
#include "common/log.h"
#include "rx/audit.h"
#include "rx/rx_metrics.h"

static void audit_or_log(struct events *e, const struct audit_record *r)
{
	int rc = audit_write(e->audit, r);
	if (rc != 0)
		log_rl(LOG_ERROR, "audit log: %s", strerror(rc < 0 ? -rc : rc));
}

void source_chain_rejected(struct events *e, uint64_t session, const char *source, const char *why)
{
	struct audit_record r = {.outcome = AUDIT_REJECTED, .source = source ? source : "",
				 .session = session, .reason = why};
	audit_or_log(e, &r);
	rxm_add(RXM_EVENT_BATCHES_REJECTED, 1);
}

struct brk_ctx {
	struct events *e;
	struct source *s;
};

static void on_break(void *arg, const struct evchain_break *b)
{
	struct brk_ctx *c = arg;
	struct source *s = c->s;
	char why[256];
	struct audit_record r = {.outcome = AUDIT_CHAIN_BREAK, .source = s->name,
				 .session = s->session, .batch = b->batch,
				 .batch_last = b->batch_last, .sender = s->chain->sender,
				 .reason = why};
	switch (b->kind) {
	case EVCHAIN_MISSING:
		r.have_events = b->have_events;
		r.event_first = b->event_first;
		r.event_last = b->event_last;
		if (b->have_events)
			snprintf(why, sizeof(why), "lost: batch %" PRIu64 "..%" PRIu64 " never arrived "
				 "(events %" PRIu64 "..%" PRIu64 ")", b->batch, b->batch_last,
				 b->event_first, b->event_last);
		else
			snprintf(why, sizeof(why), "lost: batch %" PRIu64 "..%" PRIu64 " never arrived",
				 b->batch, b->batch_last);
		break;
	case EVCHAIN_MISMATCH:
		snprintf(why, sizeof(why), "mismatch: batch %" PRIu64 " does not follow the record "
			 "of batch %" PRIu64 " (injected, reordered by the sender, or forked)", b->batch,
			 b->batch - 1);
		break;
	case EVCHAIN_FORK:
		snprintf(why, sizeof(why), "fork: batch %" PRIu64 " arrived twice with different "
			 "signed records", b->batch);
		break;
	case EVCHAIN_REBASE:
		if (b->have_prev)
			snprintf(why, sizeof(why), "restart: the chain begins again at batch %" PRIu64
				 " (the sender's chain state was lost or reset, or another sender); "
				 "batches after %" PRIu64 " cannot be accounted for", b->batch,
				 b->batch_prev);
		else
			snprintf(why, sizeof(why), "restart: the chain begins again at batch %" PRIu64,
				 b->batch);
		break;
	}
	log_warn("events %s: chain break: %s", s->name, why);
	audit_or_log(c->e, &r);
	rxm_add(RXM_EVENT_CHAIN_BREAKS, 1);
}

/* The record's width on disk: above the longest evchain_save line (188 bytes), padded with
 * spaces before its newline. Written in place in one pwrite, never truncated: a process killed
 * at any point leaves the old record or the new one, whole. */
#define STATE_WIDTH 256
#define STATE_SYNC_NS 1000000000ull

static void save(struct events *e, struct source *s)
{
	if (s->chain_fd < 0 || !s->chain->have)
		return;
	char buf[STATE_WIDTH];
	int n = evchain_save(s->chain, buf, sizeof(buf));
	if (n > 0) {
		memset(buf + n - 1, ' ', STATE_WIDTH - (size_t)n);
		buf[STATE_WIDTH - 1] = '\n';
	}
	if (n < 0 || pwrite(s->chain_fd, buf, STATE_WIDTH, 0) != STATE_WIDTH) {
		log_rl(LOG_ERROR, "events %s: cannot save its chain in STATE/evchain: %s", s->name,
		       n < 0 ? strerror(-n) : strerror(errno));
		return;
	}
	/* A power cut loses at most the last second of it (the page cache outlives a crash of
	 * the process). */
	uint64_t now = e->mono();
	if (now - s->chain_synced_ns >= STATE_SYNC_NS) {
		if (fdatasync(s->chain_fd) != 0)
			log_rl(LOG_ERROR, "events %s: STATE/evchain/%s: fdatasync: %s", s->name, s->name,
			       strerror(errno));
		s->chain_synced_ns = now;
	}
}

/* A record as save writes it (padded), or a line as an older receiver wrote it (exact). */
static int load(struct evchain *c, char *buf, size_t n)
{
	if (n == STATE_WIDTH && buf[n - 1] == '\n') {
		while (n > 1 && buf[n - 2] == ' ')
			n--;
		buf[n - 1] = '\n';
	}
	return evchain_load(c, buf, n);
}

/* Not a silent new chain: the batches after the state that was lost cannot be accounted
 * for, so this is a break, audited and counted; the chain is followed from the next batch. */
static void state_unreadable(struct events *e, struct source *s, uint64_t session)
{
	char why[160];
	snprintf(why, sizeof(why), "state_unreadable: STATE/evchain/%s does not parse; the chain is "
		 "followed anew from the next batch", s->name);
	log_error("events %s: %s", s->name, why);
	struct audit_record r = {.outcome = AUDIT_CHAIN_BREAK, .source = s->name,
				 .session = session, .reason = why};
	audit_or_log(e, &r);
	rxm_add(RXM_EVENT_CHAIN_BREAKS, 1);
}

/* The source's chain, from STATE/evchain/<source> on first use. */
static int open_chain(struct events *e, struct source *s, uint64_t session)
{
	if (s->chain)
		return 0;
	s->chain = calloc(1, sizeof(*s->chain));
	if (!s->chain)
		return -ENOMEM;
	s->chain_fd = -1;
	if (e->chain_dirfd < 0)
		return 0;
	s->chain_fd = openat(e->chain_dirfd, s->name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->chain_fd < 0) {
		log_error("events %s: STATE/evchain/%s: %s: its chain is followed in memory only",
			  s->name, s->name, strerror(errno));
		return 0;
	}
	s->chain_synced_ns = e->mono();
	char buf[STATE_WIDTH + 1];
	ssize_t n = pread(s->chain_fd, buf, sizeof(buf), 0);
	if (n < 0 || (n > 0 && load(s->chain, buf, (size_t)n) != 0)) {
		memset(s->chain, 0, sizeof(*s->chain));
		state_unreadable(e, s, session);
		if (ftruncate(s->chain_fd, 0) != 0) /* the next save writes it whole */
			log_error("events %s: STATE/evchain/%s: %s", s->name, s->name, strerror(errno));
	}
	return 0;
}

int source_chain_verify(struct events *e, uint64_t session, const struct evbatch *b)
{
	size_t k = 0;
	while (k < e->nsenders && evchain_verify(b->record, b->record_len, e->senders[k]) != 0)
		k++;
	if (k < e->nsenders)
		return (int)k;
	char why[160];
	snprintf(why, sizeof(why), "bad signature: event batch %" PRIu64 " (events %" PRIu64
		 "..%" PRIu64 ", unverified) is not signed by a pinned sender key",
		 b->chain.batch, b->chain.first, b->chain.last);
	log_rl(LOG_WARN, "events %s: batch refused: %s", ESCAPED(b->source), why);
	source_chain_rejected(e, session, b->source, why);
	return -EPERM;
}

int source_chain_batch(struct events *e, struct source *s, uint64_t session, const struct evbatch *b,
		int k)
{
	int rc = open_chain(e, s, session);
	if (rc != 0)
		return rc;
	s->session = session;
	uint8_t h[EVCHAIN_HASH_LEN];
	evchain_hash(b->record, b->record_len, h);
	struct brk_ctx ctx = {e, s};
	bool first = !s->chain->have;
	enum evchain_verdict v = evchain_track(s->chain, &b->chain, h, e->fps[k], e->mono(), 0,
					       on_break, &ctx);
	if (v == EVCHAIN_NEW) {
		const char *why = NULL;
		if (b->chain.flags & EVCHAIN_RESTART)
			why = "sender restarted; the chain goes on";
		else if (first)
			why = "chain followed from here";
		struct audit_record r = {.outcome = AUDIT_EVENTS, .source = s->name,
					 .session = session, .batch = b->chain.batch,
					 .have_events = true, .event_first = b->chain.first,
					 .event_last = b->chain.last, .sender = e->fps[k],
					 .reason = why, .record = b->record,
					 .record_len = b->record_len};
		audit_or_log(e, &r);
		save(e, s);
	}
	return 0;
}

uint64_t source_chain_due(const struct source *s)
{
	return s->chain ? evchain_due(s->chain, EVENTS_REORDER_NS) : UINT64_MAX;
}

void source_chain_tick(struct events *e, struct source *s, uint64_t now)
{
	if (!s->chain || !s->chain->nahead || source_chain_due(s) > now)
		return;
	struct brk_ctx ctx = {e, s};
	evchain_expire(s->chain, now, EVENTS_REORDER_NS, on_break, &ctx);
	save(e, s);
}

void source_chain_close(struct events *e, struct source *s)
{
	if (!s->chain)
		return;
	struct brk_ctx ctx = {e, s};
	evchain_expire(s->chain, UINT64_MAX, 0, on_break, &ctx);
	save(e, s);
	if (s->chain_fd >= 0) {
		fdatasync(s->chain_fd);
		close(s->chain_fd);
	}
	free(s->chain);
	s->chain = NULL;
}
