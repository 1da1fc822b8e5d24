/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token bucket in time units: next_ns is when the bytes charged so far may have left. Credit
 * is capped at PACER_BURST_NS, so over any window of length t at most rate * (t + burst) bits
 * leave: at 10 ms with the 0.5 ms cap, within 5% of the rate.
 */
#include "hw/pacer.h"

#include <errno.h>
#include <time.h>

#include "common/log.h"

void pacer_init(struct pacer *p, uint64_t rate_bps)
{
	p->rate_bps = rate_bps ? rate_bps : 1;
	p->next_ns = mono_ns();
}

static uint64_t cost_ns(const struct pacer *p, size_t bytes)
{
	return (uint64_t)((unsigned __int128)bytes * 8u * 1000000000u / p->rate_bps);
}

uint64_t pacer_delay_ns(const struct pacer *p, uint64_t now)
{
	return p->next_ns > now ? p->next_ns - now : 0;
}

void pacer_charge(struct pacer *p, uint64_t now, size_t bytes)
{
	if (p->next_ns + PACER_BURST_NS < now)
		p->next_ns = now - PACER_BURST_NS;
	p->next_ns += cost_ns(p, bytes);
}

void pacer_wait(struct pacer *p, size_t bytes)
{
	uint64_t now = mono_ns();
	if (p->next_ns > now) {
		struct timespec ts = {(time_t)(p->next_ns / 1000000000u), (long)(p->next_ns % 1000000000u)};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		now = mono_ns();
	}
	pacer_charge(p, now, bytes);
}
