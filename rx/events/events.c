/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's events lane (rx/events/events.h): an event batch's events written in seq
 * order per source, what the sender dropped and duplicates counted, a stream reset from the
 * sender followed; its timers (gaps given up, files synced each second, lines forwarded); and
 * set-up and clean stop.
 */
#include "rx/events/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/log.h"
#include "common/mkdirs.h"
#include "rx/forward.h"
#include "rx/rx_metrics.h"

#define SYNC_NS 1000000000ull

/* A stream id other than the one known: the sender's sequence state was reset. The first
 * stream seen is adopted as it is (the seq recovered from the file still holds). */
static void new_stream(struct events *e, struct source *s, uint64_t stream, uint64_t first)
{
	if (s->have_stream) {
		uint64_t rx_ns = now_ns();
		order_start_fix(e, s, rx_ns);
		while (s->nheld) /* what the old stream left: in order, gaps logged */
			order_skip_gap(e, s, rx_ns);
		order_flush(e, s, rx_ns);
		log_rlk(LOG_WARN, s->name, "events %s: the sender's sequence was reset (stream %016" PRIx64 " after %016" PRIx64
			 "); seq restarts at %" PRIu64, s->name, stream, s->stream, first);
		s->have_next = false;
		s->floor = 0;
		s->have_last_tx = false;
	}
	s->stream = stream;
	s->have_stream = true;
}

static bool held_full(const struct events *e, const struct source *s)
{
	return s->nheld > EVENTS_REORDER_MAX || s->heldbytes > EVENTS_REORDER_BYTES ||
	       (s->nheld && e->held_total > EVENTS_REORDER_TOTAL);
}

int events_batch(struct events *e, uint64_t session, const uint8_t *obj, size_t len)
{
	struct evbatch b;
	const char *why = "";
	int rc = evbatch_decode(obj, len, &b, &why);
	if (rc != 0) {
		log_rlk(LOG_WARN, why, "events: batch refused: %s", why);
		char r[128];
		snprintf(r, sizeof(r), "malformed event batch: %s", why);
		source_chain_rejected(e, session, NULL, r);
		return rc;
	}
	int key = source_chain_verify(e, session, &b); /* before the name is used for anything */
	if (key < 0) {
		evbatch_release(&b);
		return key;
	}
	struct source *s = sources_get(e, b.source, &why);
	if (!s) {
		char r[160];
		snprintf(r, sizeof(r), "event batch for a source that cannot be used (%s)", why);
		source_chain_rejected(e, session, NULL, r);
		rxm_add(RXM_EVENTS_LOST, b.count);
		log_rl(LOG_ERROR, "events: batch for source '%s' refused (%s): %" PRIu32 " event%s lost",
		       ESCAPED(b.source), why, b.count, b.count == 1 ? "" : "s");
		evbatch_release(&b);
		return -EINVAL;
	}
	if ((rc = source_chain_batch(e, s, session, &b, key)) != 0) {
		evbatch_release(&b);
		return rc;
	}
	bool fresh = !s->have_stream || s->stream != b.stream;
	if (fresh)
		new_stream(e, s, b.stream, b.count ? b.ev[0].seq : 0);
	uint64_t rx_ns = now_ns(), mono = e->mono(), dups = 0, late = 0;
	uint64_t back = 0, back_lo = 0, back_hi = 0;
	if (!s->have_next && b.count) /* a new stream: where it starts is not known yet */
		order_start(e, s, &b, mono, rx_ns);
	if (s->have_next && b.count && b.after == s->next && b.ev[0].seq > s->next &&
	    (!s->nheld || s->held[0].seq >= b.ev[0].seq)) {
		/* Everything before `after` is written: the seqs up to this batch were dropped by
		 * the sender from its full queue. Nothing to wait for. */
		uint64_t n = b.ev[0].seq - s->next;
		rxm_add(RXM_EVENTS_LOST, n);
		log_rlk(LOG_WARN, s->name, "events %s: seq %" PRIu64 "..%" PRIu64 " dropped by the sender (its "
		       "queue was full): %" PRIu64 " event%s lost", s->name, s->next, b.ev[0].seq - 1, n,
		       n == 1 ? "" : "s");
		s->next = b.ev[0].seq;
		order_drain(e, s, rx_ns);
	}
	for (uint32_t i = 0; i < b.count; i++) {
		const struct evbatch_event *ev = &b.ev[i];
		if (ev->seq == UINT64_MAX) { /* next would wrap; no sender hands this out */
			log_rlk(LOG_WARN, s->name, "events %s: seq 2^64-1 refused", s->name);
			continue;
		}
		if (!s->have_next) { /* every event waits for the stream's start */
			int h = order_hold(e, s, ev, mono);
			if (h >= 0 && !held_full(e, s)) {
				dups += (uint64_t)h;
				continue;
			}
			order_start_fix(e, s, rx_ns); /* no room to wait: start at what is known */
			if (h >= 0) {
				dups += (uint64_t)h;
				while (held_full(e, s))
					order_skip_gap(e, s, rx_ns);
				continue;
			}
		}
		if (ev->seq < s->floor) {
			late++;
			continue;
		}
		if (ev->seq < s->next) {
			if (s->have_last_tx && ev->tx_time_ns / 1000u > s->last_tx_us) {
				back_lo = back ? (ev->seq < back_lo ? ev->seq : back_lo) : ev->seq;
				back_hi = back ? (ev->seq > back_hi ? ev->seq : back_hi) : ev->seq;
				back++;
			} else {
				dups++;
			}
			continue;
		}
		if (ev->seq == s->next) {
			encode_line(e, s, ev->seq, ev->tx_time_ns, ev->data, ev->len, rx_ns);
			s->next++;
			order_drain(e, s, rx_ns);
			continue;
		}
		int h = order_hold(e, s, ev, mono);
		if (h == 1) {
			dups++;
		} else if (h < 0) {
			order_skip_gap(e, s, rx_ns); /* no memory to wait: give up the gap now */
			if (ev->seq >= s->next) {
				if (ev->seq > s->next)
					order_gap(s, s->next, ev->seq);
				encode_line(e, s, ev->seq, ev->tx_time_ns, ev->data, ev->len, rx_ns);
				s->next = ev->seq + 1;
			}
		}
		while (held_full(e, s))
			order_skip_gap(e, s, rx_ns);
	}
	order_flush(e, s, rx_ns);
	if (fresh)
		sources_save_stream(e, s); /* after the lines: they do not wait for this file's fsync */
	if (late) {
		rxm_add(RXM_EVENTS_LOST, late);
		log_rl(LOG_WARN, "events %s: %" PRIu64 " event%s below seq %" PRIu64 ", where the stream "
		       "was started without them, came too late: lost", s->name, late,
		       late == 1 ? "" : "s", s->floor);
	}
	if (back) {
		/* Not a replay (that carries the tx_time written) but new events whose seqs were
		 * used already: written, they would break seq order and the resume from the file. */
		rxm_add(RXM_EVENTS_LOST, back);
		rxm_add(RXM_EVENTS_SEQ_BACK, back);
		log_rl(LOG_WARN, "events %s: seq went back in the same stream: %" PRIu64 " event%s with seq "
		       "%" PRIu64 "..%" PRIu64 ", below %" PRIu64 " already written, carry newer tx_times "
		       "(the sender's state restored from an old copy?): not written, lost; resetting the "
		       "sender's state for this source starts a new stream", s->name, back,
		       back == 1 ? "" : "s", back_lo, back_hi, s->next);
	}
	if (dups) {
		rxm_add(RXM_EVENTS_DUPLICATE, dups);
		log_rlk(LOG_INFO, s->name, "events %s: %" PRIu64 " duplicate event%s dropped", s->name, dups,
		       dups == 1 ? "" : "s");
	}
	evbatch_release(&b);
	return 0;
}

int events_timeout_ms(struct events *e)
{
	uint64_t now = e->mono(), due = UINT64_MAX;
	bool dirty = false;
	for (size_t i = 0; i < e->nsrc; i++) {
		struct source *s = e->src[i];
		if (s->nheld && s->held[0].since + EVENTS_REORDER_NS < due)
			due = s->held[0].since + EVENTS_REORDER_NS;
		if (source_chain_due(s) < due)
			due = source_chain_due(s);
		if (s->starting && s->start_since + EVENTS_REORDER_NS < due)
			due = s->start_since + EVENTS_REORDER_NS;
		dirty |= s->dirty;
	}
	if (dirty && e->last_sync + SYNC_NS < due)
		due = e->last_sync + SYNC_NS;
	int fw = forward_timeout_ms(e->fw);
	if (due == UINT64_MAX)
		return fw;
	int ms = due <= now ? 0 : (int)((due - now + 999999) / 1000000);
	return fw >= 0 && fw < ms ? fw : ms;
}

void events_tick(struct events *e)
{
	uint64_t now = e->mono(), rx_ns = now_ns();
	for (size_t i = 0; i < e->nsrc; i++) {
		struct source *s = e->src[i];
		if (s->starting && now >= s->start_since + EVENTS_REORDER_NS)
			order_start_fix(e, s, rx_ns);
		while (s->have_next && s->nheld && now >= s->held[0].since + EVENTS_REORDER_NS)
			order_skip_gap(e, s, rx_ns); /* every gap that is due, each on its own time */
		order_flush(e, s, rx_ns);
		source_chain_tick(e, s, now);
	}
	if (now >= e->last_sync + SYNC_NS) {
		for (size_t i = 0; i < e->nsrc; i++) {
			struct source *s = e->src[i];
			if (s->dirty && s->fd >= 0 && fdatasync(s->fd) != 0)
				log_rlk(LOG_ERROR, s->name, "events %s: fsync: %s", s->name, strerror(errno));
			s->dirty = false;
		}
		e->last_sync = now;
	}
	forward_tick(e->fw);
}

int events_new(struct events **out, const struct events_config *c)
{
	struct events *e = calloc(1, sizeof(*e));
	if (!e) {
		forward_free(c->forward);
		return -ENOMEM;
	}
	e->fw = c->forward;
	e->mono = c->mono ? c->mono : mono_ns;
	e->audit = c->audit;
	e->chain_dirfd = -1;
	int rc = 0;
	if (c->nsenders) {
		e->senders = malloc(c->nsenders * sizeof(*e->senders));
		e->fps = malloc(c->nsenders * sizeof(*e->fps));
		if (!e->senders || !e->fps)
			rc = -ENOMEM;
		for (size_t i = 0; rc == 0 && i < c->nsenders; i++) {
			memcpy(e->senders[i], c->senders[i], 32);
			keys_fingerprint(e->senders[i], e->fps[i]);
		}
		e->nsenders = c->nsenders;
	}
	if (rc == 0)
		rc = mkdirs(c->dir, 0750, false);
	if (rc == 0 && c->state) {
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/events", c->state) >= (int)sizeof(p))
			rc = -ENAMETOOLONG;
		else if ((rc = mkdirs(p, 0700, false)) == 0 && !(e->state_dir = strdup(p)))
			rc = -ENOMEM;
		if (rc == 0 && snprintf(p, sizeof(p), "%s/evchain", c->state) < (int)sizeof(p) &&
		    (rc = mkdirs(p, 0700, false)) == 0 &&
		    (e->chain_dirfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			rc = -errno;
	}
	if (rc == 0) {
		e->rootfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (e->rootfd < 0)
			rc = -errno;
	}
	if (rc != 0) {
		log_error("events folder %s: %s", c->dir, strerror(-rc));
		forward_free(e->fw);
		free(e->state_dir);
		free(e->senders);
		free(e->fps);
		if (e->chain_dirfd >= 0)
			close(e->chain_dirfd);
		free(e);
		return rc;
	}
	e->last_sync = e->mono();
	*out = e;
	return 0;
}

void events_free(struct events *e)
{
	if (!e)
		return;
	uint64_t rx_ns = now_ns();
	for (size_t i = 0; i < e->nsrc; i++) {
		struct source *s = e->src[i];
		order_start_fix(e, s, rx_ns);
		while (s->nheld)
			order_skip_gap(e, s, rx_ns);
		order_flush(e, s, rx_ns);
		if (s->have_stream)
			sources_save_stream(e, s); /* next=: where a restart goes on */
		source_chain_close(e, s);
		if (s->fd >= 0) {
			if (s->dirty)
				fdatasync(s->fd);
			close(s->fd);
		}
		if (s->dirfd >= 0)
			close(s->dirfd);
		free(s->held);
		free(s);
	}
	forward_free(e->fw);
	free(e->out.p);
	free(e->state_dir);
	free(e->senders);
	free(e->fps);
	if (e->chain_dirfd >= 0)
		close(e->chain_dirfd);
	close(e->rootfd);
	free(e);
}
