/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/replay.{h,c}: the RFC 6479 window against a plain reference (every accepted number
 * in a hash set, plus the window rule) over a million seeded random operations, and the
 * edges by hand: in order, duplicates, out of order within the window, the window's last slot
 * and the first one past it, large jumps over stale bits, packet number 0 and the top of the
 * range. SLUICE_TEST_SEED=N repeats a run.
 *
 * The rule (replay.h): with H the highest number accepted so far, pn is new and acceptable iff
 * pn != UINT64_MAX, it was never accepted, and pn > H or H - pn < REPLAY_WINDOW.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/replay.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int seed_setup(void **state)
{
	const char *e = getenv("SLUICE_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("test_replay: seed %" PRIu64 " (SLUICE_TEST_SEED=%" PRIu64 " repeats this run)\n",
	       seed, seed);
	rng_state = seed;
	return 0;
}

/* ---- reference: a set of every accepted number, and the highest ---- */

#define REF_BITS 22
#define REF_SLOTS (1u << REF_BITS)
#define REF_EMPTY UINT64_MAX /* never accepted, so free to mark empty slots */

struct ref {
	uint64_t *slot;
	size_t n;
	bool any;
	uint64_t high;
};

static void ref_init(struct ref *r)
{
	if (!r->slot)
		r->slot = malloc(sizeof(uint64_t) * REF_SLOTS);
	assert_non_null(r->slot);
	memset(r->slot, 0xff, sizeof(uint64_t) * REF_SLOTS);
	r->n = 0;
	r->any = false;
	r->high = 0;
}

static size_t ref_hash(uint64_t pn)
{
	uint64_t h = pn * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> (64 - REF_BITS));
}

static bool ref_seen(const struct ref *r, uint64_t pn)
{
	for (size_t i = ref_hash(pn);; i = (i + 1) & (REF_SLOTS - 1)) {
		if (r->slot[i] == REF_EMPTY)
			return false;
		if (r->slot[i] == pn)
			return true;
	}
}

static bool ref_check(const struct ref *r, uint64_t pn)
{
	if (pn == UINT64_MAX || ref_seen(r, pn))
		return false;
	return !r->any || pn > r->high || r->high - pn < REPLAY_WINDOW;
}

static bool ref_update(struct ref *r, uint64_t pn)
{
	if (!ref_check(r, pn))
		return false;
	assert_true(r->n < REF_SLOTS / 2);
	size_t i = ref_hash(pn);
	while (r->slot[i] != REF_EMPTY)
		i = (i + 1) & (REF_SLOTS - 1);
	r->slot[i] = pn;
	r->n++;
	if (!r->any || pn > r->high)
		r->high = pn;
	r->any = true;
	return true;
}

/* ---- by hand ---- */

static void test_in_order(void **state)
{
	struct replay r;
	replay_init(&r);
	for (uint64_t pn = 0; pn < 100000; pn++) {
		assert_true(replay_check(&r, pn));
		assert_true(replay_update(&r, pn));
		assert_false(replay_check(&r, pn));
		assert_false(replay_update(&r, pn));
		if (pn > 0)
			assert_false(replay_update(&r, pn - 1));
	}
}

static void test_duplicates(void **state)
{
	struct replay r;
	replay_init(&r);
	static const uint64_t pns[] = {10, 11, 9, 64, 63, 65, 1000, 999, 128, 127, 0};
	for (size_t i = 0; i < sizeof(pns) / sizeof(pns[0]); i++)
		assert_true(replay_update(&r, pns[i]));
	for (size_t i = 0; i < sizeof(pns) / sizeof(pns[0]); i++) {
		assert_false(replay_check(&r, pns[i]));
		assert_false(replay_update(&r, pns[i]));
	}
	/* Their neighbours, never seen, are still fine. */
	assert_true(replay_update(&r, 12));
	assert_true(replay_update(&r, 62));
	assert_true(replay_update(&r, 1));
}

static void test_out_of_order(void **state)
{
	struct replay r;
	replay_init(&r);
	const uint64_t top = 4 * (uint64_t)REPLAY_WINDOW;
	assert_true(replay_update(&r, top));
	/* every number of the window below the top, in a scrambled order, each once */
	uint64_t step = 7919; /* prime, coprime with the window size */
	for (uint64_t i = 0; i < REPLAY_WINDOW - 1; i++) {
		uint64_t pn = top - 1 - (i * step) % (REPLAY_WINDOW - 1);
		if (!replay_update(&r, pn))
			fail_msg("pn %" PRIu64 " (%" PRIu64 " below the top) refused", pn, top - pn);
		assert_false(replay_update(&r, pn));
	}
	for (uint64_t pn = top - REPLAY_WINDOW + 1; pn <= top; pn++)
		assert_false(replay_check(&r, pn));
}

static void test_window_edge(void **state)
{
	struct replay r;
	replay_init(&r);
	const uint64_t top = 1000000;
	assert_true(replay_update(&r, top));
	/* one past the oldest slot of the window: too old; the oldest slot: accepted */
	assert_false(replay_check(&r, top - REPLAY_WINDOW));
	assert_false(replay_update(&r, top - REPLAY_WINDOW));
	assert_false(replay_check(&r, 0));
	assert_true(replay_check(&r, top - REPLAY_WINDOW + 1));
	assert_true(replay_update(&r, top - REPLAY_WINDOW + 1));
	assert_false(replay_update(&r, top - REPLAY_WINDOW + 1));
	/* One step forward: the slot that was oldest falls out, without being "seen" anew. */
	assert_true(replay_update(&r, top + 1));
	assert_false(replay_check(&r, top - REPLAY_WINDOW + 1));
	assert_true(replay_update(&r, top - REPLAY_WINDOW + 2));
}

/* A jump leaves stale bits in the ring; numbers that share their slot must not be refused. */
static void test_large_jumps(void **state)
{
	static const uint64_t jumps[] = {1, 63, 64, 65, 127, 128, REPLAY_WINDOW - 1, REPLAY_WINDOW,
					 REPLAY_WINDOW + 1, REPLAY_WORDS * 64 - 1, REPLAY_WORDS * 64,
					 REPLAY_WORDS * 64 + 1, 2 * REPLAY_WORDS * 64,
					 3 * REPLAY_WORDS * 64 + 17, 1ull << 32, 1ull << 40};
	for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		struct replay r;
		replay_init(&r);
		const uint64_t base = 1000000;
		/* fill the whole window below base */
		for (uint64_t pn = base - REPLAY_WINDOW + 1; pn <= base; pn++)
			assert_true(replay_update(&r, pn));
		uint64_t high = base + jumps[j];
		assert_true(replay_update(&r, high));
		/* Everything between the old and the new top inside the new window is unseen. */
		uint64_t lo = high - REPLAY_WINDOW + 1;
		for (uint64_t pn = (lo > base ? lo : base + 1); pn < high; pn++)
			if (!replay_check(&r, pn))
				fail_msg("jump %" PRIu64 ": pn %" PRIu64 " refused though never seen", jumps[j], pn);
		/* The old numbers still inside the new window stay seen, the rest are too old. */
		for (uint64_t pn = base - REPLAY_WINDOW + 1; pn <= base; pn++)
			assert_false(replay_check(&r, pn));
		/* Numbers aliasing the old ones in the ring (same word and bit), inside the window. */
		for (uint64_t pn = base - REPLAY_WINDOW + 1; pn <= base; pn += 97) {
			uint64_t alias = pn + REPLAY_WORDS * 64 * ((high - pn) / (REPLAY_WORDS * 64));
			if (alias > base && alias < high && high - alias < REPLAY_WINDOW)
				assert_true(replay_check(&r, alias));
		}
	}
}

static void test_first_packet(void **state)
{
	struct replay r;
	replay_init(&r);
	assert_true(replay_check(&r, 0));
	assert_true(replay_update(&r, 0));
	assert_false(replay_update(&r, 0));
	assert_true(replay_update(&r, 1));

	/* A first packet far from zero: numbers below its window are too old. */
	replay_init(&r);
	assert_true(replay_update(&r, 1ull << 40));
	assert_false(replay_check(&r, 0));
	assert_false(replay_check(&r, (1ull << 40) - REPLAY_WINDOW));
	assert_true(replay_check(&r, (1ull << 40) - REPLAY_WINDOW + 1));
	assert_true(replay_check(&r, (1ull << 40) - 1));

	/* A first packet inside the first window: lower ones are still fine. */
	replay_init(&r);
	assert_true(replay_update(&r, 100));
	for (uint64_t pn = 0; pn < 100; pn++)
		assert_true(replay_update(&r, pn));
}

static void test_top_of_range(void **state)
{
	struct replay r;
	replay_init(&r);
	assert_false(replay_check(&r, UINT64_MAX));
	assert_false(replay_update(&r, UINT64_MAX));
	assert_true(replay_update(&r, UINT64_MAX - 1));
	assert_false(replay_update(&r, UINT64_MAX - 1));
	assert_false(replay_update(&r, UINT64_MAX));
	assert_true(replay_update(&r, UINT64_MAX - 2));
	assert_true(replay_update(&r, UINT64_MAX - REPLAY_WINDOW));
	assert_false(replay_update(&r, UINT64_MAX - REPLAY_WINDOW - 1));
	assert_false(replay_update(&r, 0));

	replay_init(&r);
	for (uint64_t pn = UINT64_MAX - 3 * REPLAY_WINDOW; pn < UINT64_MAX; pn++)
		assert_true(replay_update(&r, pn));
	assert_false(replay_update(&r, UINT64_MAX));
	assert_false(replay_update(&r, UINT64_MAX - 1));
}

/* ---- against the reference ---- */

/* h - d and h + d without wrapping: off the ends, somewhere in range instead. */
static uint64_t below(uint64_t h, uint64_t d) { return d <= h ? h - d : rnd() % (h + 1); }
static uint64_t above(uint64_t h, uint64_t d)
{
	return d < UINT64_MAX - h ? h + d : UINT64_MAX - rnd() % 4;
}

static uint64_t next_pn(const struct ref *ref, const uint64_t *recent, size_t nrecent)
{
	uint64_t h = ref->high;
	uint64_t w = REPLAY_WINDOW;
	switch (rnd() % 16) {
	case 0: case 1: case 2: case 3: case 4:
		return above(h, 1 + rnd() % 4);                 /* in order, small gaps */
	case 5: case 6: case 7:
		return below(h, rnd() % (w + 200));             /* around and past the window */
	case 8:
		return above(below(h, w + 2), rnd() % 5);       /* the window edge */
	case 9: case 10:
		return nrecent ? recent[rnd() % nrecent] : h;   /* a duplicate */
	case 11:
		return above(h, 1 + rnd() % (4 * w));           /* a jump within a few windows */
	case 12:
		return above(h, (rnd() % 8) * 64 * REPLAY_WORDS + rnd() % 128); /* ring aliases */
	case 13:
		return below(above(h, 64 - (h & 63) + rnd() % 3), 1); /* word boundaries */
	case 14:
		return rnd() % 64 == 0 ? above(h, 1ull << (20 + rnd() % 20)) : below(h, rnd() % 64);
	default:
		return rnd() % 1024 == 0 ? UINT64_MAX - rnd() % 3 : below(h, rnd()); /* anywhere */
	}
}

static void test_reference(void **state)
{
	struct ref ref = {0};
	struct replay r;
	uint64_t recent[64];
	size_t nrecent = 0;
	unsigned long accepted = 0, refused = 0;
	const unsigned long ops = 1000000;
	for (unsigned long op = 0; op < ops; op++) {
		if (op % 100000 == 0) {
			/* fresh windows, some of them near the top of the range */
			replay_init(&r);
			ref_init(&ref);
			nrecent = 0;
			if ((op / 100000) % 3 == 2) {
				uint64_t start = UINT64_MAX - 50 * (uint64_t)REPLAY_WINDOW - rnd() % 1000;
				assert_true(replay_update(&r, start));
				assert_true(ref_update(&ref, start));
			}
		}
		uint64_t pn = next_pn(&ref, recent, nrecent);
		bool want = ref_check(&ref, pn);
		bool got = replay_check(&r, pn);
		if (got != want)
			fail_msg("op %lu: check(%" PRIu64 ") = %d, reference %d (highest %" PRIu64 ")", op, pn,
				 got, want, ref.high);
		bool upd = rnd() % 8 != 0; /* sometimes only checked: an AEAD failure */
		if (upd) {
			bool u = replay_update(&r, pn);
			bool ru = ref_update(&ref, pn);
			if (u != ru)
				fail_msg("op %lu: update(%" PRIu64 ") = %d, reference %d", op, pn, u, ru);
			if (u) {
				accepted++;
				recent[nrecent < 64 ? nrecent++ : rnd() % 64] = pn;
			} else {
				refused++;
			}
		}
	}
	printf("test_replay: %lu operations, %lu accepted, %lu refused\n", ops, accepted, refused);
	assert_true(accepted > ops / 10);
	assert_true(refused > ops / 10);
	free(ref.slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_large_jumps),
		cmocka_unit_test(test_first_packet),
		cmocka_unit_test(test_top_of_range),
		cmocka_unit_test(test_reference),
	};
	return cmocka_run_group_tests(tests, seed_setup, NULL);
}
