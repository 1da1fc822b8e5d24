/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token bucket kept as a time. next_ns is when the bytes charged so far have left at the
 * configured rate; now - next_ns, when positive, is the credit, capped at PACER_BURST_NS by
 * pulling next_ns up to now - PACER_BURST_NS before each charge. A charge of b bytes moves
 * next_ns on by b * 8e9 / rate ns, computed in 128 bits with the remainder carried to the next
 * charge, so no rate is exceeded by rounding, however small the packets or high the rate.
 *
 * Bytes may leave once the credit covers all of them: next_ns + cost <= now (or, for a charge
 * dearer than the whole bucket, once the bucket is full). Then for sends at t_a..t_b inside a
 * window [t0, t0 + T]: next_ns before the first is >= t0 - BURST, next_ns after the last is
 * <= t_b + max(0, cost_b - BURST) <= t0 + T + max(0, cost_b - BURST), and each charge advanced
 * next_ns by its cost, so the costs sum to at most T + BURST (+ the last one's excess): the
 * bound stated in the header, to within the remainder (< 1 ns) carried. Waiting is one
 * clock_nanosleep(TIMER_ABSTIME) on CLOCK_MONOTONIC, the clock mono_ns reads; timer slack
 * only makes a sender later, never earlier.
 */
#include "hw/pacer.h"

#include <errno.h>
#include <time.h>

#include "common/log.h"

#define NS_PER_S 1000000000ull
#define COST_MAX (1ull << 62) /* ~146 years: a charge beyond this is clamped, never wraps */

void pacer_init(struct pacer *p, uint64_t rate_bps)
{
	p->rate_bps = rate_bps ? rate_bps : 1;
	p->next_ns = mono_ns();
	p->frac = 0;
}

/* Cost of `bytes` in ns, and the remainder below 1 ns (in 1/rate_bps ns) it leaves. */
static uint64_t cost_ns(const struct pacer *p, size_t bytes, uint64_t frac, uint64_t *rem)
{
	unsigned __int128 num = (unsigned __int128)bytes * 8u * NS_PER_S + frac;
	unsigned __int128 q = num / p->rate_bps;
	if (rem)
		*rem = (uint64_t)(num % p->rate_bps);
	return q > COST_MAX ? COST_MAX : (uint64_t)q;
}

static uint64_t floor_ns(uint64_t now)
{
	return now > PACER_BURST_NS ? now - PACER_BURST_NS : 0;
}

uint64_t pacer_delay_ns(const struct pacer *p, uint64_t now)
{
	return p->next_ns > now ? p->next_ns - now : 0;
}

/* When `bytes` may leave: once the credit covers their cost, raised to at least min_ns and
 * capped at the bucket. */
static uint64_t ready_at(const struct pacer *p, uint64_t now, size_t bytes, uint64_t min_ns)
{
	uint64_t cost = cost_ns(p, bytes, p->frac, NULL);
	if (cost < min_ns)
		cost = min_ns;
	if (cost > PACER_BURST_NS)
		cost = PACER_BURST_NS;
	uint64_t next = p->next_ns > floor_ns(now) ? p->next_ns : floor_ns(now);
	return next + cost;
}

uint64_t pacer_delay_bytes_ns(const struct pacer *p, uint64_t now, size_t bytes)
{
	uint64_t at = ready_at(p, now, bytes, 0);
	return at > now ? at - now : 0;
}

uint64_t pacer_wake_ns(const struct pacer *p, uint64_t now, size_t bytes)
{
	return ready_at(p, now, bytes, 0) <= now ? now : ready_at(p, now, bytes, PACER_WAKE_NS);
}

void pacer_charge(struct pacer *p, uint64_t now, size_t bytes)
{
	if (p->next_ns < floor_ns(now)) {
		p->next_ns = floor_ns(now);
		p->frac = 0;
	}
	uint64_t cost = cost_ns(p, bytes, p->frac, &p->frac);
	p->next_ns = p->next_ns > UINT64_MAX - cost ? UINT64_MAX : p->next_ns + cost;
}

void pacer_wait(struct pacer *p, size_t bytes)
{
	uint64_t now = mono_ns();
	uint64_t at = pacer_wake_ns(p, now, bytes);
	if (at > now) {
		struct timespec ts = {.tv_sec = (time_t)(at / NS_PER_S), .tv_nsec = (long)(at % NS_PER_S)};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		now = mono_ns();
		if (now < at)
			now = at; /* never charge before the time waited for */
	}
	pacer_charge(p, now, bytes);
}
