/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pacing at a fixed bit rate. Nobody can tell the sender to slow down, so it must never exceed
 * the configured rate over any 10 ms window. Token bucket on CLOCK_MONOTONIC with a depth of
 * PACER_BURST_NS worth of bytes; waiting sleeps (clock_nanosleep), it never spins.
 *
 * The bound: if every send goes through pacer_wait, the bytes handed to the link in any window
 * of T ns are at most rate * (T + PACER_BURST_NS) / 8e9, plus, when one charge costs more than
 * PACER_BURST_NS, that charge's excess over it. Callers keep a batch below the burst (at
 * 1 Gbit/s, 62,500 bytes) to get the plain bound: over 10 ms, at most 5% above the rate. A
 * caller that sends when pacer_delay_ns is 0 and charges afterwards may add one charge.
 */
#ifndef SLUICE_PACER_H
#define SLUICE_PACER_H

#include <stddef.h>
#include <stdint.h>

#define PACER_BURST_NS 500000ull /* 0.5 ms of credit at most */
/* A sender that must wait sleeps until at least this much credit has built up (within the
 * burst), so a sender held by the rate wakes every 0.4 ms, not once per small batch: each
 * wake is two context switches on a core shared with the workers. The bound is unchanged. */
#define PACER_WAKE_NS 400000ull /* below 450 us: tests/unit/test_pacer.c */

struct pacer {
	uint64_t rate_bps; /* > 0 */
	uint64_t next_ns;  /* when the next byte may leave; never below now - PACER_BURST_NS */
	uint64_t frac;     /* what the last charges left below 1 ns, in units of 1/rate_bps ns */
};

/* rate_bps 0 is taken as 1. Starts with no credit: the first bytes leave now, the next after
 * their cost. */
void pacer_init(struct pacer *p, uint64_t rate_bps);
/* Nanoseconds until the next byte may be sent (0 = now). */
uint64_t pacer_delay_ns(const struct pacer *p, uint64_t now_ns);
/* Nanoseconds until `bytes` may be sent together (0 = now): until the credit covers them, or
 * the bucket is full when they cost more than it holds. */
uint64_t pacer_delay_bytes_ns(const struct pacer *p, uint64_t now_ns, size_t bytes);
/* When a sender that wants to send `bytes` at now_ns should wake: now_ns when they may leave
 * now; otherwise when the credit covers them and at least PACER_WAKE_NS (at most the bucket). */
uint64_t pacer_wake_ns(const struct pacer *p, uint64_t now_ns, size_t bytes);
/* Sleep until pacer_wake_ns, then charge `bytes`. */
void pacer_wait(struct pacer *p, size_t bytes);
/* Charge without sleeping (caller sent already, or is about to). */
void pacer_charge(struct pacer *p, uint64_t now_ns, size_t bytes);

#endif
