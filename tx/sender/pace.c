/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every data packet leaves through pace_send: in batches of at most send_batch (what the
 * pacer's burst allows), each batch after the pacer's wait, counted. File content, manifests,
 * event batches and their repair packets share the one pacer (hw/pacer.h).
 */
#include "tx/sender/internal.h"

#include <time.h>

void pace_set_rate(struct sender *s, uint64_t rate_bps)
{
	s->pacer.rate_bps = rate_bps ? rate_bps : 1;
	s->pacer.frac = 0;
	s->pacer.next_ns = 0; /* what was owed at the old rate is not waited out at the new one */
	/* A batch costs at most the pacer's burst, so an event waits at most that long. */
	uint64_t burst = rate_bps / 8 * PACER_BURST_NS / 1000000000ull;
	s->send_batch = (unsigned)(burst / s->pkt_len);
	if (s->send_batch > SEND_BATCH)
		s->send_batch = SEND_BATCH;
	if (s->send_batch == 0)
		s->send_batch = 1;
}

#define PACE_SLICE_NS 100000000ull

/* The pacer's wait for sz bytes, slept in slices of PACE_SLICE_NS so that neither a stop nor a
 * new rate (SIGHUP) waits out a packet paced at a slow one (below about 6 kbit/s, one costs
 * over 2 s): false, and nothing sent, once the sender is stopping. What is left goes at the
 * next start (a file is journalled only once its manifest has left: policy.c); a batch of
 * events not sent is counted by its caller. */
static bool wait_or_stop(struct sender *s, size_t sz)
{
	for (;;) {
		uint64_t rate = atomic_exchange(&s->new_rate_bps, 0); /* sender_set_rate, meanwhile */
		if (rate)
			pace_set_rate(s, rate);
		uint64_t now = mono_ns(), at = pacer_wake_ns(&s->pacer, now, sz);
		if (at <= now + PACE_SLICE_NS)
			break;
		if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			return false;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)PACE_SLICE_NS};
		(void)nanosleep(&ts, NULL);
	}
	pacer_wait(&s->pacer, sz);
	return true;
}

/* The pacer would hold the next packet past a slice: at a stop, wait_or_stop gives up. */
bool pace_stalled(struct sender *s)
{
	uint64_t now = mono_ns();
	return pacer_wake_ns(&s->pacer, now, s->pkt_len) > now + PACE_SLICE_NS;
}

/* Sends packets [0, n) of wire in batches, paced. False when the sender stopped before all
 * had left (wait_or_stop). */
bool pace_send(struct sender *s, struct link_pkt *wire, unsigned n)
{
	/* p moves by what was sent: wait_or_stop may take a new rate, and with it a new batch */
	for (unsigned p = 0, b; p < n; p += b) {
		b = n - p < s->send_batch ? n - p : s->send_batch;
		size_t sz = 0;
		for (unsigned i = 0; i < b; i++)
			sz += wire[p + i].len;
		if (!wait_or_stop(s, sz))
			return false;
		int rc = link_send(s->c.link, &wire[p], b);
		if (rc < 0) {
			txm_add(TXM_SEND_ERRORS, 1);
			log_rl(LOG_ERROR, "link send failed: %s", strerror(-rc));
		} else {
			txm_add(TXM_PACKETS, b);
			txm_add(TXM_BYTES, sz);
		}
		s->packets += b;
	}
	return true;
}
