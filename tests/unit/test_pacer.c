/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hw/pacer.{h,c}: the charging arithmetic on a made-up clock (costs, the burst cap after idle,
 * no overflow or rounding drift at 100 Gbit/s with 9000-byte packets nor at 1 bit/s with huge
 * charges), the delay for a charge that the credit covers or not, the wake-up quantum of a
 * sender that must wait, the header's bound checked
 * over every 10 ms window of a seeded greedy sender on a simulated clock, and one short real
 * run: 2 MB at 800 Mbit/s takes at least ~18 ms (lower bounds only: the machine is shared).
 * SLUICE_TEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hw/pacer.h"
#include "seeded.h"

#define MS 1000000ull
#define S 1000000000ull
#define T0 (1000 * S) /* a made-up "now", far from 0 */

static void at(struct pacer *p, uint64_t rate, uint64_t t)
{
	pacer_init(p, rate);
	p->next_ns = t; /* the made-up clock instead of mono_ns() */
}

static void test_charge_math(void **state)
{
	struct pacer p;
	at(&p, 1000000, T0); /* 1 Mbit/s: a byte is 8 us */
	assert_int_equal(pacer_delay_ns(&p, T0), 0);
	pacer_charge(&p, T0, 1250); /* 10,000 bits: 10 ms */
	assert_int_equal(pacer_delay_ns(&p, T0), 10 * MS);
	assert_int_equal(pacer_delay_ns(&p, T0 + 4 * MS), 6 * MS);
	assert_int_equal(pacer_delay_ns(&p, T0 + 10 * MS), 0);
	assert_int_equal(pacer_delay_ns(&p, T0 + 11 * MS), 0);
	pacer_charge(&p, T0 + 3 * MS, 125); /* still in debt: queues behind, +1 ms */
	assert_int_equal(p.next_ns, T0 + 11 * MS);

	at(&p, 800000000, T0); /* 800 Mbit/s: 1500 bytes = 15 us */
	for (int i = 0; i < 1000; i++)
		pacer_charge(&p, T0, 1500);
	assert_int_equal(p.next_ns, T0 + 15 * MS);

	at(&p, 0, T0); /* rate 0 is 1 bit/s, not a division by zero */
	assert_int_equal(p.rate_bps, 1);
	pacer_charge(&p, T0, 1);
	assert_int_equal(p.next_ns, T0 + 8 * S);
}

static void test_burst_cap(void **state)
{
	struct pacer p;
	at(&p, 1000000000, T0); /* 1 Gbit/s: 0.5 ms of credit is 62,500 bytes */
	/* Idle for a second: the credit is the cap, not a second's worth. */
	uint64_t t = T0 + S;
	pacer_charge(&p, t, 0);
	assert_int_equal(p.next_ns, t - PACER_BURST_NS);
	assert_int_equal(pacer_delay_bytes_ns(&p, t, 62500), 0);
	assert_int_equal(pacer_delay_bytes_ns(&p, t, 62501), 0); /* dearer than the bucket: full is enough */
	assert_int_equal(pacer_delay_bytes_ns(&p, t, 125), 0);
	pacer_charge(&p, t, 62500); /* the whole credit */
	assert_int_equal(p.next_ns, t);
	assert_int_equal(pacer_delay_ns(&p, t), 0);
	assert_int_equal(pacer_delay_bytes_ns(&p, t, 125), 1000); /* 1000 bits: 1 us */
	pacer_charge(&p, t, 125000); /* 1 ms more */
	assert_int_equal(pacer_delay_ns(&p, t), 1 * MS);
	assert_int_equal(pacer_delay_bytes_ns(&p, t, 1250), 1 * MS + 10000);

	/* Half the bucket used, then idle 0.2 ms: 0.45 ms of credit, never above the cap. */
	at(&p, 1000000000, T0);
	pacer_charge(&p, T0 + S, 31250); /* cap, then 0.25 ms spent: next = t - 0.25 ms */
	t = T0 + S + 200000;
	assert_int_equal(p.next_ns, T0 + S - 250000);
	assert_int_equal(pacer_delay_bytes_ns(&p, t, 56250), 0);    /* 0.45 ms */
	assert_int_equal(pacer_delay_bytes_ns(&p, t, 56375), 1000); /* 1 us more */
	/* Charge 0.2 ms later than that with 1 s of idle: capped again. */
	pacer_charge(&p, t + S, 1);
	assert_int_equal(p.next_ns, t + S - PACER_BURST_NS + 8);
}

/* A sender that has to wait sleeps until PACER_WAKE_NS of credit has built up (or its batch's
 * cost, within the bucket), not just the cost of a small batch. */
static void test_wake(void **state)
{
	struct pacer p;
	at(&p, 1000000000, T0); /* 1 Gbit/s: 1 byte is 8 ns */
	uint64_t t = T0 + S;
	pacer_charge(&p, t, 0);
	assert_int_equal(pacer_wake_ns(&p, t, 62500), t); /* the credit covers it: now */
	pacer_charge(&p, t, 62500);                         /* bucket empty, next == t */
	assert_int_equal(pacer_wake_ns(&p, t, 125), t + PACER_WAKE_NS);       /* 1 us raised */
	assert_int_equal(pacer_wake_ns(&p, t, 56250), t + 450000);            /* 0.45 ms as is */
	assert_int_equal(pacer_wake_ns(&p, t, 1000000), t + PACER_BURST_NS); /* capped */
	/* In debt by 1 ms: wake when the debt is paid plus the quantum. */
	pacer_charge(&p, t, 125000);
	assert_int_equal(pacer_wake_ns(&p, t, 1408), t + 1 * MS + PACER_WAKE_NS);
	/* Waking there, the batch is covered, and so is the quantum's worth after it. */
	uint64_t w = pacer_wake_ns(&p, t, 1408);
	assert_int_equal(pacer_delay_bytes_ns(&p, w, 1408), 0);
	pacer_charge(&p, w, 1408);
	assert_int_equal(pacer_delay_bytes_ns(&p, w, PACER_WAKE_NS / 8 - 1408), 0);
	assert_int_equal(pacer_wake_ns(&p, w, PACER_WAKE_NS / 8 - 1408), w);
}

static void test_no_overflow_100g(void **state)
{
	struct pacer p;
	at(&p, 100000000000ull, T0); /* 100 Gbit/s, jumbo frames: 720 ns each */
	for (int i = 0; i < 1000000; i++)
		pacer_charge(&p, T0, 9000);
	assert_int_equal(p.next_ns, T0 + 720 * MS);
	assert_int_equal(p.frac, 0);

	/* 1408-byte packets at 100 Gbit/s cost 112.64 ns: the fractions add up exactly. */
	at(&p, 100000000000ull, T0);
	for (int i = 0; i < 100000; i++)
		pacer_charge(&p, T0, 1408);
	assert_int_equal(p.next_ns, T0 + 11264000); /* 1e5 * 11264 bits / 1e11 */

	/* 3 Gbit/s, 1 byte at a time: 8/3 ns each, never rounded in the sender's favour. */
	at(&p, 3000000000ull, T0);
	for (int i = 0; i < 3000; i++)
		pacer_charge(&p, T0, 1);
	assert_int_equal(p.next_ns, T0 + 8000);

	/* The largest charges neither wrap nor overflow the 64-bit clock. */
	at(&p, 1, T0);
	pacer_charge(&p, T0, SIZE_MAX);
	assert_true(p.next_ns > T0);
	assert_true(pacer_delay_ns(&p, T0) >= (1ull << 61));
	at(&p, UINT64_MAX, T0);
	pacer_charge(&p, T0, SIZE_MAX);
	assert_true(p.next_ns >= T0);
	assert_true(p.next_ns - T0 <= 8 * S); /* ~2^64 * 8 bits at ~2^64 bit/s */
	at(&p, 1, T0);
	for (int i = 0; i < 8; i++) /* saturates at the end of time rather than wrapping */
		pacer_charge(&p, T0, SIZE_MAX);
	assert_int_equal(p.next_ns, UINT64_MAX);
	at(&p, 100000000000ull, T0);
	assert_int_equal(pacer_delay_bytes_ns(&p, T0, SIZE_MAX), PACER_BURST_NS);
}

/*
 * A greedy sender on a simulated clock: random batches up to the burst, each sent the moment
 * pacer_delay_bytes_ns says so (plus random lateness). Over every 10 ms window (sliding by
 * send times), bytes <= rate * (10 ms + burst), and on the whole run the rate is reached.
 */
static void test_window_bound(void **state)
{
	enum { SENDS = 200000 };
	const uint64_t rate = 950000000ull, win = 10 * MS;
	const uint64_t burst_bytes = rate * PACER_BURST_NS / 8 / S; /* 59,375 */
	uint64_t *ts = malloc(SENDS * sizeof(*ts));
	uint64_t *sz = malloc(SENDS * sizeof(*sz));
	assert_non_null(ts);
	assert_non_null(sz);
	struct pacer p;
	at(&p, rate, T0);
	uint64_t now = T0;
	for (int i = 0; i < SENDS; i++) {
		size_t b = rnd() % 4 == 0 ? 1 + rnd() % burst_bytes : 1408 * (1 + rnd() % 32);
		if (b > burst_bytes)
			b = burst_bytes;
		if (rnd() % 64 == 0)
			now += rnd() % (2 * MS); /* idle: credit builds, up to the cap */
		if (rnd() % 2)
			now += pacer_delay_bytes_ns(&p, now, b);
		else
			now = pacer_wake_ns(&p, now, b); /* as pacer_wait sleeps */
		now += rnd() % 4 == 0 ? rnd() % 3000 : 0;
		assert_int_equal(pacer_delay_bytes_ns(&p, now, b), 0);
		pacer_charge(&p, now, b);
		ts[i] = now;
		sz[i] = b;
	}
	/* Window starting at each send: two pointers. */
	unsigned __int128 limit = (unsigned __int128)rate * (win + PACER_BURST_NS);
	uint64_t in = 0, worst = 0;
	for (int a = 0, b = 0; a < SENDS; in -= sz[a], a++) {
		while (b < SENDS && ts[b] < ts[a] + win)
			in += sz[b++];
		if (in > worst)
			worst = in;
		if ((unsigned __int128)in * 8 * S > limit)
			fail_msg("%" PRIu64 " bytes in the 10 ms from %" PRIu64 " ns", in, (uint64_t)(ts[a] - T0));
	}
	printf("test_pacer: busiest 10 ms window %.2f%% of the rate (bound %.0f%%)\n",
	       100.0 * (double)worst * 8 * S / ((double)rate * win),
	       100.0 * (double)(win + PACER_BURST_NS) / (double)win);
	free(ts);
	free(sz);
}

/* 2 MB at 800 Mbit/s is 20 ms; with 0.5 ms of burst at most, never under ~18 ms. */
static void test_real_time(void **state)
{
	struct pacer p;
	pacer_init(&p, 800000000ull);
	uint64_t t0 = mono_ns();
	size_t left = 2000000;
	unsigned waits = 0;
	while (left) {
		size_t b = left < 1408 * 32 ? left : 1408 * 32;
		pacer_wait(&p, b);
		left -= b;
		waits++;
	}
	uint64_t took = mono_ns() - t0;
	printf("test_pacer: 2 MB at 800 Mbit/s in %.2f ms (%u waits)\n", (double)took / 1e6, waits);
	assert_true(took >= 18 * MS);
}

int main(void)
{
	seed_init("test_pacer");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charge_math),
		cmocka_unit_test(test_burst_cap),
		cmocka_unit_test(test_wake),
		cmocka_unit_test(test_no_overflow_100g),
		cmocka_unit_test(test_window_bound),
		cmocka_unit_test(test_real_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
