/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hw/impair.{h,c}: the same seed gives the same output, emit for emit, and another seed does
 * not; uniform drop over 200k datagrams and Gilbert-Elliott loss and mean burst length over a
 * million, within 6 standard deviations (or a stated margin) of the configuration; duplicates
 * are exact copies right after the original; held datagrams come back 1..8 datagrams late and
 * flush returns the rest; a corrupted datagram differs from its original in exactly one bit;
 * replays are earlier datagrams; injected ones are 1..1500 bytes; every stat against what was
 * seen; spec parsing and each kind of error. SLUICE_TEST_SEED=N repeats a run (it seeds the
 * engine).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/impair.h"
#include "seeded.h"

#define PKT 64 /* test datagrams: 8-byte index, then bytes derived from it */

struct cap {
	size_t n, cap;
	uint8_t (*d)[PKT];
	size_t *len;
	uint64_t hash; /* over every emit, lengths included */
};

static void cap_emit(void *ctx, const uint8_t *p, size_t len)
{
	struct cap *c = ctx;
	for (size_t i = 0; i < len; i++)
		c->hash = (c->hash ^ p[i]) * 0x100000001b3ull;
	c->hash = (c->hash ^ len) * 0x100000001b3ull;
	if (!c->d)
		return; /* hashing only */
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->d = realloc(c->d, c->cap * sizeof(*c->d));
		c->len = realloc(c->len, c->cap * sizeof(*c->len));
		assert_non_null(c->d);
		assert_non_null(c->len);
	}
	memset(c->d[c->n], 0, PKT);
	memcpy(c->d[c->n], p, len < PKT ? len : PKT);
	c->len[c->n++] = len;
}

static void cap_init(struct cap *c, bool keep)
{
	memset(c, 0, sizeof(*c));
	c->hash = 0xcbf29ce484222325ull;
	if (keep) {
		c->cap = 1024;
		c->d = malloc(c->cap * sizeof(*c->d));
		c->len = malloc(c->cap * sizeof(*c->len));
		assert_non_null(c->d);
		assert_non_null(c->len);
	}
}

static void cap_free(struct cap *c)
{
	free(c->d);
	free(c->len);
}

static void make(uint8_t *d, uint64_t i)
{
	memcpy(d, &i, 8);
	uint64_t x = i * 0x9e3779b97f4a7c15ull + 1;
	for (int k = 8; k < PKT; k++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		d[k] = (uint8_t)(x * 0x2545f4914f6cdd1dull >> 56);
	}
}

static uint64_t index_of(const uint8_t *d)
{
	uint64_t i;
	memcpy(&i, d, 8);
	return i;
}

static bool is_original(const uint8_t *d, size_t len, uint64_t n)
{
	uint8_t want[PKT];
	uint64_t i = index_of(d);
	if (len != PKT || i >= n)
		return false;
	make(want, i);
	return memcmp(want, d, PKT) == 0;
}

static struct impair *engine(const char *spec, uint64_t seed)
{
	struct impair_config c;
	assert_int_equal(impair_config_parse(spec, &c), 0);
	c.seed = seed;
	struct impair *im = impair_new(&c);
	assert_non_null(im);
	return im;
}

/* Feeds datagrams 0..n-1 and flushes. */
static void run(struct impair *im, uint64_t n, struct cap *c)
{
	uint8_t d[PKT];
	for (uint64_t i = 0; i < n; i++) {
		make(d, i);
		impair_process(im, d, PKT, cap_emit, c);
	}
	impair_flush(im, cap_emit, c);
}

static uint64_t test_seed(void) { return rnd(); }

static void within(const char *what, double got, double want, double margin)
{
	printf("test_impair: %s %.5f, expected %.5f +- %.5f\n", what, got, want, margin);
	if (fabs(got - want) > margin)
		fail_msg("%s: %f not within %f of %f", what, got, margin, want);
}

static void test_determinism(void **state)
{
	const char *spec = "drop=0.05,burst=0.02:5,reorder=0.05,dup=0.03,corrupt=0.02,replay=0.02,inject=0.02";
	uint64_t seed = test_seed();
	struct cap a, b, c;
	cap_init(&a, false);
	cap_init(&b, false);
	cap_init(&c, false);
	struct impair *x = engine(spec, seed), *y = engine(spec, seed), *z = engine(spec, seed + 1);
	run(x, 50000, &a);
	run(y, 50000, &b);
	run(z, 50000, &c);
	struct impair_stats sx, sy;
	impair_stats(x, &sx);
	impair_stats(y, &sy);
	assert_memory_equal(&sx, &sy, sizeof(sx));
	assert_true(a.hash == b.hash);
	assert_true(a.hash != c.hash);
	/* Every feature did something. */
	assert_true(sx.dropped && sx.burst_dropped && sx.reordered && sx.duplicated && sx.corrupted &&
		    sx.replayed && sx.injected);
	impair_free(x);
	impair_free(y);
	impair_free(z);
}

static void test_nothing(void **state)
{
	struct impair *im = engine("", 1);
	struct cap c;
	cap_init(&c, true);
	run(im, 10000, &c);
	assert_int_equal(c.n, 10000);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(index_of(c.d[i]), i);
		assert_true(is_original(c.d[i], c.len[i], 10000));
	}
	struct impair_stats s;
	impair_stats(im, &s);
	assert_int_equal(s.in, 10000);
	assert_int_equal(s.out, 10000);
	assert_int_equal(s.dropped + s.reordered + s.duplicated + s.corrupted + s.replayed + s.injected, 0);
	cap_free(&c);
	impair_free(im);
}

static void test_uniform_drop(void **state)
{
	const uint64_t n = 200000;
	const double p = 0.05;
	struct impair *im = engine("drop=0.05", test_seed());
	struct cap c;
	cap_init(&c, true);
	run(im, n, &c);
	struct impair_stats s;
	impair_stats(im, &s);
	assert_int_equal(s.in, n);
	assert_int_equal(s.out, c.n);
	assert_int_equal(s.in - s.dropped, s.out);
	assert_int_equal(s.burst_dropped, 0);
	within("uniform drop rate", (double)s.dropped / (double)n, p, 6 * sqrt(p * (1 - p) / (double)n));
	/* What is left is the rest, in order. */
	uint64_t last = 0;
	for (size_t i = 0; i < c.n; i++) {
		assert_true(is_original(c.d[i], c.len[i], n));
		assert_true(i == 0 || index_of(c.d[i]) > last);
		last = index_of(c.d[i]);
	}
	cap_free(&c);
	impair_free(im);
}

/* Runs of missing indices in what came out: the loss bursts. */
static void bursts(const struct cap *c, uint64_t n, uint64_t *lost, uint64_t *runs)
{
	uint64_t expect = 0;
	*lost = *runs = 0;
	for (size_t i = 0; i <= c->n; i++) {
		uint64_t at = i < c->n ? index_of(c->d[i]) : n;
		if (at > expect) {
			*lost += at - expect;
			(*runs)++;
		}
		expect = at + 1;
	}
}

static void test_gilbert_elliott(void **state)
{
	static const struct {
		const char *spec;
		double loss, len;
	} cases[] = {
		{"burst=0.03:30", 0.03, 30},
		{"burst=0.05:4", 0.05, 4},
		{"burst=0.2:2", 0.2, 2},
		{"burst=0.01:1", 0.01, 1},
	};
	const uint64_t n = 1000000;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct impair *im = engine(cases[k].spec, test_seed());
		struct cap c;
		cap_init(&c, true);
		run(im, n, &c);
		struct impair_stats s;
		impair_stats(im, &s);
		uint64_t lost, runs;
		bursts(&c, n, &lost, &runs);
		assert_int_equal(lost, s.dropped);
		assert_int_equal(s.burst_dropped, s.dropped);
		double loss = cases[k].loss, len = cases[k].len;
		/*
		 * Loss is a sum of ~n*loss/len geometric bursts: its variance is about
		 * (n*loss/len) * (len^2 * (2 - 1/len)) / n^2 (burst count and size both vary).
		 * Bursts are geometric with mean len: the mean's sd is sqrt(len*(len-1)/bursts).
		 * Adjacent bursts separated by no good datagram merge, hence the burst length is
		 * checked against what the chain gives: a good run has mean 1/p_gb.
		 */
		double nb = (double)n * loss / len;
		double sd_loss = sqrt(nb * len * len * (2 - 1 / len)) / (double)n;
		char what[64];
		snprintf(what, sizeof(what), "%s loss", cases[k].spec);
		within(what, (double)s.dropped / (double)n, loss, 6 * sd_loss);
		snprintf(what, sizeof(what), "%s mean burst", cases[k].spec);
		within(what, (double)lost / (double)runs, len, 6 * sqrt(len * (len - 1) / nb) + 0.02 * len);
		cap_free(&c);
		impair_free(im);
	}
}

static void test_duplicate(void **state)
{
	const uint64_t n = 200000;
	const double p = 0.02;
	struct impair *im = engine("dup=0.02", test_seed());
	struct cap c;
	cap_init(&c, true);
	run(im, n, &c);
	struct impair_stats s;
	impair_stats(im, &s);
	assert_int_equal(s.out, n + s.duplicated);
	assert_int_equal(c.n, s.out);
	uint64_t dups = 0, want = 0;
	for (size_t i = 0; i < c.n; i++) {
		assert_true(is_original(c.d[i], c.len[i], n));
		uint64_t at = index_of(c.d[i]);
		if (at + 1 == want) { /* the one just before, again */
			dups++;
			continue;
		}
		assert_int_equal(at, want);
		want++;
	}
	assert_int_equal(dups, s.duplicated);
	within("duplicate rate", (double)dups / (double)n, p, 6 * sqrt(p * (1 - p) / (double)n));
	cap_free(&c);
	impair_free(im);
}

static void test_reorder(void **state)
{
	const uint64_t n = 200000;
	const double p = 0.03;
	struct impair *im = engine("reorder=0.03", test_seed());
	struct cap c;
	cap_init(&c, true);
	run(im, n, &c);
	struct impair_stats s;
	impair_stats(im, &s);
	assert_int_equal(c.n, n);
	assert_int_equal(s.out, n);
	/* Each index once; a late one came out after 1..8 datagrams fed after it. */
	uint8_t *seen = calloc(n, 1);
	uint64_t *pos = calloc(n, sizeof(*pos));
	assert_non_null(seen);
	assert_non_null(pos);
	for (size_t i = 0; i < c.n; i++) {
		assert_true(is_original(c.d[i], c.len[i], n));
		uint64_t at = index_of(c.d[i]);
		assert_false(seen[at]);
		seen[at] = 1;
		pos[at] = i;
	}
	uint64_t late = 0, hist[10] = {0};
	uint64_t max_after = 0;
	for (uint64_t i = 0; i < n; i++) {
		/* Later indices that left before i did. */
		uint64_t after = 0;
		for (uint64_t j = i + 1; j < n && j <= i + 20; j++)
			after += pos[j] < pos[i];
		if (after) {
			late++;
			assert_true(after <= 8);
			hist[after]++;
			if (after > max_after)
				max_after = after;
		}
	}
	printf("test_impair: %" PRIu64 " late; by how many:", late);
	for (int k = 1; k <= 8; k++)
		printf(" %" PRIu64, hist[k]);
	printf("\n");
	/* A held datagram is not "late" when every one fed after it within its window was held
	 * too and left after it (about 0.3% of them at 3%): late may fall short, never exceed. */
	assert_true(late <= s.reordered);
	assert_true(s.reordered - late <= s.reordered / 100);
	assert_int_equal(max_after, 8);
	within("reorder rate", (double)late / (double)n, p, 6 * sqrt(p * (1 - p) / (double)n));
	/* Flush hands back what is held. */
	struct impair *im2 = engine("reorder=1", 1);
	struct cap c2;
	cap_init(&c2, true);
	uint8_t d[PKT];
	for (uint64_t i = 0; i < 5; i++) {
		make(d, i);
		impair_process(im2, d, PKT, cap_emit, &c2);
	}
	assert_true(c2.n < 5);
	impair_flush(im2, cap_emit, &c2);
	assert_int_equal(c2.n, 5);
	impair_flush(im2, cap_emit, &c2);
	assert_int_equal(c2.n, 5);
	free(seen);
	free(pos);
	cap_free(&c);
	cap_free(&c2);
	impair_free(im);
	impair_free(im2);
}

static void test_corrupt(void **state)
{
	const uint64_t n = 100000;
	const double p = 0.01;
	struct impair *im = engine("corrupt=0.01", test_seed());
	struct cap c;
	cap_init(&c, true);
	uint8_t d[PKT];
	uint64_t bad = 0;
	for (uint64_t i = 0; i < n; i++) {
		make(d, i);
		size_t before = c.n;
		impair_process(im, d, PKT, cap_emit, &c);
		assert_int_equal(c.n, before + 1);
		assert_int_equal(c.len[before], PKT);
		unsigned bits = 0;
		for (int k = 0; k < PKT; k++)
			bits += (unsigned)__builtin_popcount(c.d[before][k] ^ d[k]);
		assert_true(bits <= 1);
		bad += bits;
	}
	struct impair_stats s;
	impair_stats(im, &s);
	assert_int_equal(bad, s.corrupted);
	within("corrupt rate", (double)bad / (double)n, p, 6 * sqrt(p * (1 - p) / (double)n));
	/* Empty datagrams pass untouched. */
	impair_process(im, d, 0, cap_emit, &c);
	assert_int_equal(c.len[c.n - 1], 0);
	cap_free(&c);
	impair_free(im);
}

static void test_replay_inject(void **state)
{
	const uint64_t n = 100000;
	struct impair *im = engine("replay=0.01,inject=0.01", test_seed());
	struct cap c;
	cap_init(&c, true);
	uint8_t d[PKT];
	uint64_t replays = 0, originals = 0, others = 0, oldest = 0;
	for (uint64_t i = 0; i < n; i++) {
		make(d, i);
		size_t before = c.n;
		impair_process(im, d, PKT, cap_emit, &c);
		assert_true(c.n >= before + 1 && c.n <= before + 3);
		assert_memory_equal(c.d[before], d, PKT); /* the datagram itself first */
		originals++;
		for (size_t k = before + 1; k < c.n; k++) {
			if (is_original(c.d[k], c.len[k], n) && index_of(c.d[k]) < i) {
				replays++; /* an older datagram, whole: a replay (or, rarely, an injected copy
					      whose changed byte... never: a copy always differs) */
				assert_true(i - index_of(c.d[k]) <= 1024);
				if (i - index_of(c.d[k]) > oldest)
					oldest = i - index_of(c.d[k]);
			} else {
				others++;
				assert_true(c.len[k] >= 1 && c.len[k] <= (c.len[k] == PKT ? PKT : 1500));
			}
		}
	}
	struct impair_stats s;
	impair_stats(im, &s);
	assert_int_equal(originals, n);
	assert_int_equal(replays, s.replayed);
	assert_int_equal(others, s.injected);
	assert_int_equal(s.out, n + s.replayed + s.injected);
	assert_true(oldest > 900); /* replays reach far back into the 1024 kept */
	within("replay rate", (double)replays / (double)n, 0.01, 6 * sqrt(0.01 * 0.99 / (double)n));
	within("inject rate", (double)others / (double)n, 0.01, 6 * sqrt(0.01 * 0.99 / (double)n));
	cap_free(&c);
	impair_free(im);
}

/* Every stat adds up when everything is on at once. */
static void test_conservation(void **state)
{
	struct impair *im = engine("drop=0.1,burst=0.05:3,reorder=0.1,dup=0.1,corrupt=0.1,replay=0.05,inject=0.05",
				   test_seed());
	struct cap c;
	cap_init(&c, false);
	/* Datagram sizes from 0 to 65,535, and one longer (cut). */
	uint8_t *big = calloc(1, 70000);
	assert_non_null(big);
	for (uint64_t i = 0; i < 20000; i++)
		impair_process(im, big, i % 97 == 0 ? 65535 : (size_t)(rnd() % 2000), cap_emit, &c);
	impair_process(im, big, 70000, cap_emit, &c);
	impair_flush(im, cap_emit, &c);
	struct impair_stats s;
	impair_stats(im, &s);
	assert_int_equal(s.in, 20001);
	assert_int_equal(s.out, s.in - s.dropped + s.duplicated + s.replayed + s.injected);
	assert_true(s.burst_dropped <= s.dropped);
	free(big);
	impair_free(im);
}

static void test_parse(void **state)
{
	struct impair_config c;
	assert_int_equal(impair_config_parse(
				 "drop=0.05,burst=0.03:30,reorder=0.01,dup=0.02,corrupt=0.001,replay=0.004,inject=0.005,seed=7",
				 &c),
			 0);
	assert_true(c.drop == 0.05 && c.burst_loss == 0.03 && c.burst_len == 30);
	assert_true(c.reorder == 0.01 && c.duplicate == 0.02 && c.corrupt == 0.001);
	assert_true(c.replay == 0.004 && c.inject == 0.005 && c.seed == 7);

	assert_int_equal(impair_config_parse("", &c), 0);
	assert_true(c.drop == 0 && c.burst_loss == 0 && c.reorder == 0 && c.duplicate == 0);
	assert_true(c.corrupt == 0 && c.replay == 0 && c.inject == 0 && c.seed == 1);
	assert_int_equal(impair_config_parse(NULL, &c), 0);
	assert_int_equal(impair_config_parse("drop=0,drop=1,seed=18446744073709551615", &c), 0);
	assert_true(c.drop == 1 && c.seed == UINT64_MAX);
	assert_int_equal(impair_config_parse("burst=0:1,dup=1e-3", &c), 0);
	assert_true(c.burst_loss == 0 && c.burst_len == 1 && c.duplicate == 0.001);
	assert_int_equal(impair_config_parse("burst=0.5:2.5", &c), 0);
	assert_true(c.burst_len == 2.5);

	static const char *const bad[] = {
		"loss=0.1",        /* unknown key */
		"Drop=0.1",        /* keys are lower case */
		"drop",            /* no '=' */
		"drop=",           /* empty */
		"=0.1",            /* no key */
		"drop=x",          /* not a number */
		"drop=0.1x",       /* trailing junk */
		"drop=0.1 ",       /* trailing space */
		"drop=1.5",        /* out of range */
		"drop=-0.1",       /* out of range */
		"drop=nan",        /* not a probability */
		"drop=inf",        /* not a probability */
		"dup=2",           /* out of range */
		"burst=0.03",      /* no length */
		"burst=0.03:",     /* empty length */
		"burst=:30",       /* empty loss */
		"burst=0.03:0.5",  /* a burst is at least one datagram */
		"burst=0.03:inf",  /* finite */
		"burst=0.03:nan",  /* a number */
		"burst=1:30",      /* every datagram lost is not a burst model */
		"burst=0.03:30:2", /* junk */
		"seed=",           /* empty */
		"seed=abc",        /* not a number */
		"seed=-1",         /* unsigned */
		"seed= 1",         /* no spaces */
		"seed=1.5",        /* an integer */
		"seed=18446744073709551616", /* 2^64 */
		"drop=0.1,oops",   /* a bad pair after a good one */
		"drop=0.1,x=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = impair_config_parse(bad[i], &c);
		if (rc != -EINVAL)
			fail_msg("'%s' gave %d, want -EINVAL", bad[i], rc);
	}
}

int main(void)
{
	seed_init("test_impair");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_uniform_drop),
		cmocka_unit_test(test_gilbert_elliott),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_replay_inject),
		cmocka_unit_test(test_conservation),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
