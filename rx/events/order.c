/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The events lane's reorder buffer, per source: an event above the next seq waits in held[]
 * until the seqs below it arrive; a gap is given up (logged, counted in
 * sluice_rx_events_lost_total) when its time is up or a buffer is full, and what follows it
 * without a gap is written. order_flush writes the lines of one pass to the day file and
 * hands them to forwarding.
 *
 * A new stream's start: a batch says where the sender's previous batch ended (`after`), not
 * where the stream began, and the batches of a new stream may arrive out of order (one waits
 * for FEC repair). So unless a batch has after 0 (the stream's first seq), every event waits
 * until EVENTS_REORDER_NS after the stream's first batch arrived; then the stream starts at the
 * lowest `after` seen. An event below it that arrives later still was neither written nor
 * counted: it is counted lost then.
 */
#include "rx/events/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "rx/forward.h"
#include "rx/rx_metrics.h"

static void held_drop_front(struct events *e, struct source *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->heldbytes -= s->held[i].len;
		e->held_total -= s->held[i].len;
		free(s->held[i].data);
	}
	if (n == 0)
		return; /* held may still be NULL */
	memmove(s->held, s->held + n, (s->nheld - n) * sizeof(*s->held));
	s->nheld -= n;
}

void order_flush(struct events *e, struct source *s, uint64_t rx_ns)
{
	if (!e->out.len)
		return;
	uint64_t nlines = e->out.lines;
	int rc = sources_dir(e, s);
	if (rc == 0)
		rc = dayfile_open(s, dayfile_day_of(rx_ns));
	off_t end = rc == 0 ? lseek(s->fd, 0, SEEK_END) : 0;
	if (rc == 0 && end < 0)
		rc = -errno;
	if (rc == 0 && (rc = dayfile_write(s->fd, e->out.p, e->out.len)) != 0 &&
	    ftruncate(s->fd, end) != 0) /* no line cut short, for the next ones to follow */
		log_rlk(LOG_ERROR, s->name, "events %s: cannot cut a short write: %s", s->name, strerror(errno));
	if (rc != 0) {
		bool full = rc == -ENOSPC || rc == -EDQUOT;
		log_rlk(LOG_ERROR, s->name, "events %s: cannot write %" PRIu64 " events%s: %s", s->name, nlines,
		       full ? " (disk_full)" : "", strerror(-rc));
		rxm_add(RXM_EVENTS_LOST, nlines);
		if (full)
			rxm_add(RXM_DISK_FULL, 1);
		if (s->have_stream) /* counted lost: a restart must not count them again as a gap */
			sources_save_stream(e, s);
	} else {
		rxm_add(RXM_EVENTS_DELIVERED, nlines);
		s->dirty = true;
	}
	forward_lines(e->fw, e->out.p, e->out.len);
	e->out.len = 0;
	e->out.lines = 0;
}

void order_gap(struct source *s, uint64_t from, uint64_t to)
{
	rxm_add(RXM_EVENTS_LOST, to - from);
	log_rlk(LOG_WARN, s->name, "events %s: seq %" PRIu64 "..%" PRIu64 " missing: %" PRIu64 " event%s lost", s->name,
		 from, to - 1, to - from, to - from == 1 ? "" : "s");
}

/* Write the held events that follow next without a gap. */
void order_drain(struct events *e, struct source *s, uint64_t rx_ns)
{
	size_t i = 0;
	while (i < s->nheld && s->held[i].seq == s->next) {
		encode_line(e, s, s->held[i].seq, s->held[i].tx_ns, s->held[i].data, s->held[i].len, rx_ns);
		s->next++;
		i++;
	}
	held_drop_front(e, s, i);
}

/* Give up the gap before the first held event. */
void order_skip_gap(struct events *e, struct source *s, uint64_t rx_ns)
{
	if (!s->nheld)
		return;
	order_gap(s, s->next, s->held[0].seq);
	s->next = s->held[0].seq;
	order_drain(e, s, rx_ns);
}

int order_hold(struct events *e, struct source *s, const struct evbatch_event *ev, uint64_t now)
{
	size_t lo = 0, hi = s->nheld;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->held[mid].seq < ev->seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nheld && s->held[lo].seq == ev->seq)
		return 1; /* already held: a duplicate */
	if (s->nheld == s->heldcap) {
		size_t nc = s->heldcap ? s->heldcap * 2 : 64;
		struct held *n = realloc(s->held, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->held = n;
		s->heldcap = nc;
	}
	uint8_t *copy = malloc(ev->len ? ev->len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, ev->data, ev->len);
	/* The seqs below it were missed already if a later event is held (now is the latest time). */
	uint64_t since = lo < s->nheld ? s->held[lo].since : now;
	memmove(s->held + lo + 1, s->held + lo, (s->nheld - lo) * sizeof(*s->held));
	s->held[lo] = (struct held){ev->seq, ev->tx_time_ns, since, ev->len, copy};
	s->nheld++;
	s->heldbytes += ev->len;
	e->held_total += ev->len;
	return 0;
}

void order_start(struct events *e, struct source *s, const struct evbatch *b, uint64_t now,
		 uint64_t rx_ns)
{
	uint64_t first = UINT64_MAX; /* seq 2^64-1 is refused (events_batch): it starts nothing */
	for (uint32_t i = 0; i < b->count; i++)
		if (b->ev[i].seq < first)
			first = b->ev[i].seq;
	if (first == UINT64_MAX)
		return;
	uint64_t after = b->after <= first ? b->after : first;
	if (!s->starting || after < s->start_after) {
		s->start_after = after;
		s->start_first = first;
	}
	if (!s->starting) {
		s->starting = true;
		s->start_since = now;
	}
	if (after == 0)
		order_start_fix(e, s, rx_ns);
}

void order_start_fix(struct events *e, struct source *s, uint64_t rx_ns)
{
	if (!s->starting)
		return;
	s->starting = false;
	s->have_next = true;
	s->next = s->floor = s->start_after;
	if (s->start_first > s->next && (!s->nheld || s->held[0].seq >= s->start_first)) {
		/* The batch the stream starts at says the sender dropped the seqs before it. */
		uint64_t n = s->start_first - s->next;
		rxm_add(RXM_EVENTS_LOST, n);
		log_rl(LOG_WARN, "events %s: seq %" PRIu64 "..%" PRIu64 " dropped by the sender (its "
		       "queue was full): %" PRIu64 " event%s lost", s->name, s->next, s->start_first - 1, n,
		       n == 1 ? "" : "s");
		s->next = s->start_first;
	}
	order_drain(e, s, rx_ns);
}
