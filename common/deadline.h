/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deadlines: the one way a loop decides what is due and how long it may sleep.
 *
 * A deadline is an absolute time on CLOCK_MONOTONIC in ns (deadline_now), DEADLINE_NEVER
 * when not armed. Every loop, on every pass, whatever traffic there is:
 *
 *   now = deadline_now();
 *   if (deadline_due(at, now)) run it (and re-arm);     -- before or after the I/O, but always
 *   wait at most deadline_ms(earliest at, now) for I/O;
 *
 * so a stream that never pauses cannot starve a timer, and a wall-clock step changes none
 * (the wall clock is only for timestamps written out). deadline_every is a periodic one.
 */
#ifndef SLUICE_DEADLINE_H
#define SLUICE_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define DEADLINE_NEVER UINT64_MAX

/* CLOCK_MONOTONIC, ns (the clock of mono_ns in common/log.h). */
uint64_t deadline_now(void);

static inline bool deadline_due(uint64_t at, uint64_t now) { return at <= now; }

static inline uint64_t deadline_min(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* now + ms; a negative ms (poll's "no timeout") is DEADLINE_NEVER. */
uint64_t deadline_in_ms(uint64_t now, int ms);

/* A poll(2)/epoll timeout that wakes at `at` (rounded up to the millisecond, so a wake is never
 * early): 0 when due, -1 for DEADLINE_NEVER, else at most INT32_MAX. */
int deadline_ms(uint64_t at, uint64_t now);

/* The same, capped at cap_ms (>= 0): a loop that also polls something without a deadline. */
int deadline_ms_max(uint64_t at, uint64_t now, int cap_ms);

/* `at` as a timespec on CLOCK_MONOTONIC, for clock_nanosleep(TIMER_ABSTIME) and
 * pthread_cond_clockwait(CLOCK_MONOTONIC). */
struct timespec deadline_timespec(uint64_t at);

/* A periodic deadline: due every period_ns; first due at start + period_ns. */
struct deadline_every {
	uint64_t at, period_ns;
};
void deadline_every_init(struct deadline_every *t, uint64_t now, uint64_t period_ns);
/* True when due, and then re-armed a period from now (a late run does not bunch the next). */
bool deadline_every_take(struct deadline_every *t, uint64_t now);

#endif
