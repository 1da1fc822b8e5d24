/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Userspace link impairment for tests (the kernel here has no netem): drop (uniform, and
 * Gilbert-Elliott bursts), reorder, duplicate, corrupt, replay of old datagrams and injected
 * garbage, all from one seeded PRNG so a failing run can be replayed by its seed.
 */
#ifndef SLUICE_IMPAIR_H
#define SLUICE_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

struct impair_config {
	double drop;        /* uniform drop probability, 0..1 */
	double burst_loss;  /* Gilbert-Elliott: mean loss rate, 0 = off */
	double burst_len;   /* Gilbert-Elliott: mean burst length in packets (>= 1) */
	double reorder;     /* probability a datagram is held back and sent after the next few */
	double duplicate;   /* probability a datagram is sent twice */
	double corrupt;     /* probability one random byte is flipped */
	double replay;      /* probability an older datagram is sent again */
	double inject;      /* probability a random garbage datagram is added */
	uint64_t seed;
};

/* Parse "drop=0.05,burst=0.03:30,reorder=0.01,dup=0.01,corrupt=0.001,replay=0.001,inject=0.001,seed=7". */
int impair_config_parse(const char *spec, struct impair_config *c);

struct impair;
typedef void (*impair_emit_fn)(void *ctx, const uint8_t *pkt, size_t len);

struct impair *impair_new(const struct impair_config *c);
void impair_free(struct impair *im);
/* Feed one datagram; emit() is called zero or more times with what leaves. */
void impair_process(struct impair *im, const uint8_t *pkt, size_t len, impair_emit_fn emit, void *ctx);
/* Send whatever is held back for reordering. */
void impair_flush(struct impair *im, impair_emit_fn emit, void *ctx);

struct impair_stats {
	uint64_t in, out, dropped, reordered, duplicated, corrupted, replayed, injected;
};
void impair_stats(const struct impair *im, struct impair_stats *s);

#endif
