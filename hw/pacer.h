/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pacing at a fixed bit rate. Nobody can tell the sender to slow down, so it must never exceed
 * the configured rate over any 10 ms window. Token bucket on CLOCK_MONOTONIC with a depth of
 * PACER_BURST_NS worth of bytes; waiting sleeps (clock_nanosleep), it never spins.
 */
#ifndef SLUICE_PACER_H
#define SLUICE_PACER_H

#include <stddef.h>
#include <stdint.h>

#define PACER_BURST_NS 500000ull /* 0.5 ms of credit at most */

struct pacer {
	uint64_t rate_bps;
	uint64_t next_ns; /* when the next byte may leave */
};

void pacer_init(struct pacer *p, uint64_t rate_bps);
/* Nanoseconds until `bytes` may be sent (0 = now). */
uint64_t pacer_delay_ns(const struct pacer *p, uint64_t now_ns);
/* Sleep until allowed, then charge `bytes`. */
void pacer_wait(struct pacer *p, size_t bytes);
/* Charge without sleeping (caller sent already). */
void pacer_charge(struct pacer *p, uint64_t now_ns, size_t bytes);

#endif
