/* SPDX-FileCopyrightText: 2026 Sluice developers */
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

/* Parse "drop=0.05,burst=0.03:30,reorder=0.01,dup=0.01,corrupt=0.001,replay=0.001,inject=0.001,seed=7".
 * Every key is optional (absent: 0, seed 1; "" is no impairment), a repeated key keeps its last
 * value. Probabilities are decimal numbers in [0, 1]; burst is LOSS:LEN with 0 <= LOSS < 1 and
 * LEN >= 1 (finite); seed is a decimal unsigned 64-bit integer. 0, or -EINVAL for an unknown
 * key, a missing '=', an empty or malformed value or one out of range (c is then undefined);
 * -ENOMEM. */
int impair_config_parse(const char *spec, struct impair_config *c);

struct impair;
typedef void (*impair_emit_fn)(void *ctx, const uint8_t *pkt, size_t len);

/* NULL when out of memory. The same config (seed included) and the same input give the same
 * output, emit() for emit(). */
struct impair *impair_new(const struct impair_config *c);
void impair_free(struct impair *im);
/* Feed one datagram (len <= IMPAIR_PKT_MAX; longer is cut); emit() is called zero or more
 * times with what leaves, pointers valid only during the call. In that order: datagrams held
 * back that are now due, this one (unless dropped or held), its duplicate, a replayed older
 * datagram, an injected one. A held datagram leaves after 1 to 8 later ones were fed. */
void impair_process(struct impair *im, const uint8_t *pkt, size_t len, impair_emit_fn emit, void *ctx);
/* Send whatever is held back for reordering. */
void impair_flush(struct impair *im, impair_emit_fn emit, void *ctx);

#define IMPAIR_PKT_MAX 65535

/* in: datagrams fed; out: emit() calls; dropped: uniform and burst drops (burst_dropped of
 * them in Gilbert-Elliott bursts); the others count datagrams so treated (corrupted counts
 * this datagram's flip only; duplicates are exact copies). */
struct impair_stats {
	uint64_t in, out, dropped, reordered, duplicated, corrupted, replayed, injected;
	uint64_t burst_dropped;
};
void impair_stats(const struct impair *im, struct impair_stats *s);

#endif
