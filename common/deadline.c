/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/deadline.h"

#include <limits.h>

uint64_t deadline_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t deadline_in_ms(uint64_t now, int ms)
{
	return ms < 0 ? DEADLINE_NEVER : now + (uint64_t)ms * 1000000ull;
}

int deadline_ms(uint64_t at, uint64_t now)
{
	if (at == DEADLINE_NEVER)
		return -1;
	if (at <= now)
		return 0;
	uint64_t ms = (at - now + 999999) / 1000000;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int deadline_ms_max(uint64_t at, uint64_t now, int cap_ms)
{
	int ms = deadline_ms(at, now);
	return ms < 0 || ms > cap_ms ? cap_ms : ms;
}

struct timespec deadline_timespec(uint64_t at)
{
	if (at == DEADLINE_NEVER)
		at = (uint64_t)INT64_MAX; /* far enough */
	return (struct timespec){.tv_sec = (time_t)(at / 1000000000ull),
				 .tv_nsec = (long)(at % 1000000000ull)};
}

void deadline_every_init(struct deadline_every *t, uint64_t now, uint64_t period_ns)
{
	t->period_ns = period_ns;
	t->at = now + period_ns;
}

bool deadline_every_take(struct deadline_every *t, uint64_t now)
{
	if (!deadline_due(t->at, now))
		return false;
	t->at = now + t->period_ns;
	return true;
}
