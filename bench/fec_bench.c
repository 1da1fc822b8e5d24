/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FEC throughput on one core, in GB/s of source data (K * T bytes per block): encoding, and
 * decoding with the worst case (M erasures, all of them source symbols) and with about 5% of
 * the source symbols lost, at the block shapes Sluice uses for MTU 1500 (K=128, M=32, T=1408)
 * and MTU 9000 (K=64, M=16, T=8952). Each decode call sees a fresh erasure pattern, drawn in
 * advance, so the matrix inversion and table set-up are paid every time, as on the receiver.
 * One block, warm in cache: this is the codec's cost, not the memory system's.
 * Prints "fec encode k=.. m=.. T=..: X.XX GB/s" and "fec decode ... erasures=E: X.XX GB/s".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fec/fec.h"

#define RUN_NS 500000000ull
#define PATTERNS 64

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x5eed;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void die(const char *what)
{
	fprintf(stderr, "fec_bench: %s\n", what);
	exit(1);
}

struct shape {
	unsigned k, m;
	size_t T;
};

static void bench(struct fec_codec *c, struct shape s)
{
	unsigned n = s.k + s.m;
	uint8_t *sym[FEC_MAX_SYMBOLS], *orig = malloc((size_t)s.k * s.T);
	uint8_t *mem = malloc((size_t)n * s.T);
	if (!orig || !mem)
		die("out of memory");
	for (unsigned i = 0; i < n; i++)
		sym[i] = mem + (size_t)i * s.T;
	for (size_t i = 0; i < (size_t)s.k * s.T; i++)
		orig[i] = (uint8_t)rnd();
	memcpy(mem, orig, (size_t)s.k * s.T);

	/* encode */
	if (fec_encode(c, s.k, s.m, s.T, sym, sym + s.k) != 0)
		die("encode failed");
	uint64_t t0 = now_ns(), blocks = 0, t;
	while ((t = now_ns()) - t0 < RUN_NS) {
		for (int i = 0; i < 16; i++)
			if (fec_encode(c, s.k, s.m, s.T, sym, sym + s.k) != 0)
				die("encode failed");
		blocks += 16;
	}
	printf("fec encode k=%u m=%u T=%zu: %.2f GB/s\n", s.k, s.m, s.T,
	       (double)blocks * s.k * s.T / (double)(t - t0));
	fflush(stdout);

	/* decode: M erasures among the sources (or all of them), then about 5% */
	unsigned worst = s.m < s.k ? s.m : s.k, some = (s.k * 5 + 99) / 100;
	unsigned cases[2] = {worst, some};
	static bool present[PATTERNS][FEC_MAX_SYMBOLS];
	for (int ci = 0; ci < 2; ci++) {
		unsigned e = cases[ci];
		for (int p = 0; p < PATTERNS; p++) {
			unsigned idx[FEC_MAX_SYMBOLS];
			for (unsigned i = 0; i < n; i++) {
				idx[i] = i;
				present[p][i] = true;
			}
			for (unsigned i = 0; i < e; i++) {
				unsigned j = i + (unsigned)(rnd() % (s.k - i)), tmp = idx[i];
				idx[i] = idx[j];
				idx[j] = tmp;
				present[p][idx[i]] = false;
			}
			/* the last M - e repair symbols are lost too: exactly K survive */
			for (unsigned j = e; j < s.m; j++)
				present[p][n - 1 - (j - e)] = false;
		}
		/* once for correctness */
		memset(mem, 0, (size_t)s.k * s.T);
		for (unsigned i = 0; i < s.k; i++)
			if (present[0][i])
				memcpy(sym[i], orig + (size_t)i * s.T, s.T);
		if (fec_decode(c, s.k, s.m, s.T, sym, present[0]) != 0 ||
		    memcmp(mem, orig, (size_t)s.k * s.T) != 0)
			die("decode gave wrong data");
		t0 = now_ns();
		blocks = 0;
		while ((t = now_ns()) - t0 < RUN_NS) {
			for (int i = 0; i < 16; i++)
				if (fec_decode(c, s.k, s.m, s.T, sym, present[(blocks + i) % PATTERNS]) != 0)
					die("decode failed");
			blocks += 16;
		}
		printf("fec decode k=%u m=%u T=%zu erasures=%u: %.2f GB/s\n", s.k, s.m, s.T, e,
		       (double)blocks * s.k * s.T / (double)(t - t0));
		fflush(stdout);
	}
	free(mem);
	free(orig);
}

int main(void)
{
	static const struct shape shapes[] = {{128, 32, 1408}, {64, 16, 8952}};
	struct fec_codec *c = fec_codec_new();
	if (!c)
		die("out of memory");
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		bench(c, shapes[i]);
	fec_codec_free(c);
	return 0;
}
