/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/chain.{h,c}: the online tracker (in order, repeat, gap, late fill, mismatch, fork,
 * replay, reset), its saved heads, and the offline check over a log's records in any order
 * (reordered, missing, injected with a wrong previous hash, a stream that may not begin above
 * seq 1, a fork, a reset with and without a second seq 1, a seq 1 audited late).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/chain.h"

static const uint8_t key_a[32] = {1}, key_b[32] = {2};

/* A chain of n records, seq 1..n, each naming the one before (index 0 unused). */
static void make_chain(struct chain_link *c, size_t n, uint64_t session)
{
	memset(c, 0, (n + 1) * sizeof(*c));
	for (size_t i = 1; i <= n; i++) {
		c[i].seq = i;
		c[i].session = session;
		c[i].object = 100 + i;
		crypto_hash_sha256(c[i].hash, (const uint8_t *)&c[i], offsetof(struct chain_link, hash));
		if (i > 1) {
			c[i].prev_session = c[i - 1].session;
			c[i].prev_object = c[i - 1].object;
			memcpy(c[i].prev_hash, c[i - 1].hash, HASH_LEN);
		}
	}
}

static uint64_t now = 1000;

static enum chain_verdict add(struct chain_stream *st, const struct chain_link *l, uint64_t *f,
			      uint64_t *t)
{
	uint64_t a, b;
	enum chain_verdict v = chain_stream_add(st, l, now, f ? f : &a, t ? t : &b);
	return v;
}

static void test_online(void **state)
{
	(void)state;
	struct chain_link c[21];
	make_chain(c, 20, 7);
	struct chain_stream *st = calloc(1, sizeof(*st));
	uint64_t f, t;
	assert_int_equal(add(st, &c[3], NULL, NULL), CHAIN_FIRST); /* the log begins at 3 */
	assert_int_equal(add(st, &c[4], NULL, NULL), CHAIN_NEXT);
	assert_int_equal(add(st, &c[4], NULL, NULL), CHAIN_REPEAT); /* fec.repeat */
	assert_int_equal(add(st, &c[5], NULL, NULL), CHAIN_NEXT);
	/* 6 and 7 lost, 8 arrives: a gap naming 6..7 */
	assert_int_equal(add(st, &c[8], &f, &t), CHAIN_GAP);
	assert_int_equal(f, 6);
	assert_int_equal(t, 7);
	assert_true(chain_verdict_is_break(CHAIN_GAP));
	/* not due before its time; nothing else open */
	struct chain_gap g;
	assert_int_equal(chain_stream_next_due(st), 1000);
	assert_false(chain_stream_due(st, 999, &g));
	assert_string_equal(chain_verdict_name(CHAIN_GAP), "missing");
	/* 7 arrives late: fills, and names 6 (unknown) so no mismatch */
	assert_int_equal(add(st, &c[7], NULL, NULL), CHAIN_LATE);
	assert_int_equal(add(st, &c[7], NULL, NULL), CHAIN_REPEAT);
	assert_int_equal(add(st, &c[6], NULL, NULL), CHAIN_LATE);
	/* filled before it was due: never a break */
	assert_false(chain_stream_due(st, UINT64_MAX, &g));
	assert_int_equal(chain_stream_next_due(st), UINT64_MAX);
	assert_int_equal(add(st, &c[9], NULL, NULL), CHAIN_NEXT);
	/* a record injected at 10 that does not name 9 */
	struct chain_link x = c[10];
	x.prev_hash[0] ^= 1;
	x.hash[0] ^= 1;
	assert_int_equal(add(st, &x, &f, &t), CHAIN_MISMATCH);
	assert_int_equal(f, 9);
	/* the genuine 10 now: a fork at 10 */
	assert_int_equal(add(st, &c[10], &f, NULL), CHAIN_FORK);
	assert_int_equal(f, 10);
	/* the record the stream's start (3) names as its predecessor: late, not replayed */
	assert_int_equal(add(st, &c[2], NULL, NULL), CHAIN_LATE);
	/* a late record whose previous hash does not match the one held at seq - 1 */
	now = 2000;
	assert_int_equal(add(st, &c[13], NULL, NULL), CHAIN_GAP); /* 11..12 missing */
	struct chain_link y = c[12];
	y.prev_hash[5] ^= 1;
	y.hash[5] ^= 1;
	assert_int_equal(add(st, &y, NULL, NULL), CHAIN_LATE); /* 11 unknown: cannot tell */
	struct chain_link z = c[11];
	z.prev_hash[5] ^= 1;
	z.hash[5] ^= 1;
	assert_int_equal(add(st, &z, &f, NULL), CHAIN_MISMATCH); /* 10 is known */
	assert_int_equal(f, 10);
	assert_false(chain_stream_due(st, UINT64_MAX, &g)); /* 11 and 12 came */
	/* a gap that stays open, partly filled from its top and its middle: each part named by
	 * the record above it */
	struct chain_link w[31];
	make_chain(w, 30, 8);
	struct chain_stream *s2 = calloc(1, sizeof(*s2));
	now = 5000;
	assert_int_equal(add(s2, &w[1], NULL, NULL), CHAIN_FIRST);
	assert_int_equal(add(s2, &w[10], &f, &t), CHAIN_GAP); /* 2..9 */
	assert_int_equal(add(s2, &w[9], NULL, NULL), CHAIN_LATE);  /* 2..8, named by 9 */
	assert_int_equal(add(s2, &w[5], NULL, NULL), CHAIN_LATE);  /* 2..4 (by 5) and 6..8 (by 9) */
	assert_int_equal(chain_stream_next_due(s2), 5000);
	assert_false(chain_stream_due(s2, 4999, &g));
	assert_true(chain_stream_due(s2, 5000, &g));
	assert_int_equal(g.first, 2);
	assert_int_equal(g.last, 4);
	assert_int_equal(g.last_object, w[4].object);
	assert_true(chain_stream_due(s2, 5000, &g));
	assert_int_equal(g.first, 6);
	assert_int_equal(g.last, 8);
	assert_int_equal(g.last_object, w[8].object);
	assert_false(chain_stream_due(s2, UINT64_MAX, &g)); /* each given once */
	assert_int_equal(add(s2, &w[7], NULL, NULL), CHAIN_LATE); /* after its break: still late */
	/* more gaps than the table holds: none is lost before it is given */
	unsigned given = 0;
	for (int i = 12; i <= 30; i += 2)
		assert_int_equal(add(s2, &w[i], NULL, NULL), CHAIN_GAP);
	while (chain_stream_due(s2, UINT64_MAX, &g))
		given++;
	assert_int_equal(given, 10);
	/* a full table pushes the oldest open gap out: given by the next chain_stream_due,
	 * whatever its age (rx asks after every record) */
	struct chain_link *v = calloc(2 * CHAIN_GAPS + 22, sizeof(*v));
	make_chain(v, 2 * CHAIN_GAPS + 21, 9);
	memset(s2, 0, sizeof(*s2));
	assert_int_equal(add(s2, &v[1], NULL, NULL), CHAIN_FIRST);
	given = 0;
	for (int i = 3; i <= 2 * CHAIN_GAPS + 21; i += 2) {
		assert_int_equal(add(s2, &v[i], NULL, NULL), CHAIN_GAP);
		while (chain_stream_due(s2, 0, &g)) /* older than time 0: only the pushed-out */
			given++;
	}
	assert_int_equal(given, 10);
	while (chain_stream_due(s2, UINT64_MAX, &g))
		given++;
	assert_int_equal(given, CHAIN_GAPS + 10); /* every gap, once */
	free(v);
	free(s2);
	/* the sender began anew: seq 1, other bytes */
	struct chain_link n[4];
	make_chain(n, 3, 9);
	assert_int_equal(add(st, &n[1], NULL, NULL), CHAIN_RESET);
	assert_int_equal(add(st, &n[2], NULL, NULL), CHAIN_NEXT);
	struct chain_link zero = {0};
	assert_int_equal(add(st, &zero, NULL, NULL), CHAIN_INVALID);
	free(st);
}

/* A fresh stream whose seq 2 completes before its seq 1 (FEC, interleaving): seq 1 is the
 * predecessor the start names by hash, so it comes late, not as a reset; so does seq 1 below a
 * start at 2 after more records; a seq 1 that is not the one the start names is a reset. */
static void test_early_start(void **state)
{
	(void)state;
	struct chain_link c[6];
	make_chain(c, 5, 7);
	struct chain_stream *st = calloc(1, sizeof(*st));
	assert_int_equal(add(st, &c[2], NULL, NULL), CHAIN_FIRST);
	assert_int_equal(add(st, &c[3], NULL, NULL), CHAIN_NEXT);
	assert_int_equal(add(st, &c[1], NULL, NULL), CHAIN_LATE);
	assert_int_equal(add(st, &c[1], NULL, NULL), CHAIN_REPEAT);
	assert_int_equal(add(st, &c[4], NULL, NULL), CHAIN_NEXT);
	free(st);
	st = calloc(1, sizeof(*st));
	assert_int_equal(add(st, &c[3], NULL, NULL), CHAIN_FIRST);
	assert_int_equal(add(st, &c[2], NULL, NULL), CHAIN_LATE); /* down, one at a time */
	assert_int_equal(add(st, &c[1], NULL, NULL), CHAIN_LATE);
	free(st);
	/* below the start but not the record it names: an old record neither seen nor missing */
	st = calloc(1, sizeof(*st));
	assert_int_equal(add(st, &c[5], NULL, NULL), CHAIN_FIRST);
	assert_int_equal(add(st, &c[3], NULL, NULL), CHAIN_REPLAYED);
	free(st);
	struct chain_link other[3];
	make_chain(other, 2, 9);
	st = calloc(1, sizeof(*st));
	assert_int_equal(add(st, &c[2], NULL, NULL), CHAIN_FIRST);
	assert_int_equal(add(st, &other[1], NULL, NULL), CHAIN_RESET);
	free(st);
}

static void test_set_save_load(void **state)
{
	(void)state;
	struct chain_link c[6];
	make_chain(c, 5, 0x1122334455667788ull);
	struct chain_set s = {0};
	assert_null(chain_set_get(&s, key_a, "Bad"));
	assert_null(chain_set_get(&s, key_a, ""));
	assert_null(chain_set_get(&s, key_a, "a/b"));
	struct chain_stream *a = chain_set_get(&s, key_a, "cam-1");
	struct chain_stream *b = chain_set_get(&s, key_b, "cam-1");
	assert_non_null(a);
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(chain_set_get(&s, key_a, "cam-1"), a);
	assert_non_null(chain_set_get(&s, key_a, "idle")); /* never started: not saved */
	for (int i = 1; i <= 4; i++)
		assert_int_not_equal(add(a, &c[i], NULL, NULL), CHAIN_INVALID);
	assert_int_equal(add(b, &c[2], NULL, NULL), CHAIN_FIRST);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(chain_set_save(&s, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, " cam-1 4 1122334455667788 104 "));
	assert_null(strstr(text, "idle"));
	struct chain_set r = {0};
	assert_int_equal(chain_set_load(&r, text, len, 0), 0);
	assert_int_equal(r.n, 2);
	struct chain_stream *ra = chain_set_get(&r, key_a, "cam-1");
	assert_int_equal(ra->head.seq, 4);
	assert_memory_equal(ra->head.hash, c[4].hash, HASH_LEN);
	assert_int_equal(add(ra, &c[4], NULL, NULL), CHAIN_REPEAT);
	assert_int_equal(add(ra, &c[5], NULL, NULL), CHAIN_NEXT); /* goes on after a restart */
	/* damaged state is refused */
	static const char *bad[] = {
		"chain 00 cam 1 0000000000000000 1 00\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 0 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 CAM 1 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 1 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101 x\n",
		"stream\n",
		/* a signed or too large seq: never a head of UINT64_MAX */
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam -1 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam +4 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam "
		"9223372036854775809 0000000000000001 1 "
		"0101010101010101010101010101010101010101010101010101010101010101\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 4 "
		"0000000000000001 -1 0101010101010101010101010101010101010101010101010101010101010101\n",
		/* gaps: at or above the head, first above last, 0, R not 0 or 1, a torn gap */
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 4 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		" gap 2 4 0000000000000001 1 0\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 4 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		" gap 3 2 0000000000000001 1 0\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 4 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		" gap 0 2 0000000000000001 1 0\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 4 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		" gap 2 2 0000000000000001 1 2\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 4 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		" gap 2 2 0000000000000001 1 01\n",
		"chain 0101010101010101010101010101010101010101010101010101010101010101 cam 4 "
		"0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		" gap 2 2 0000000000000001\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct chain_set t = {0};
		assert_int_equal(chain_set_load(&t, bad[i], strlen(bad[i]), 0), -EBADMSG);
		chain_set_free(&t);
	}
	/* A NUL byte (a file zero-filled by a crash) is refused, not read as the file's end: the
	 * stream after it would be silently forgotten. */
	char nul[] = "chain 0101010101010101010101010101010101010101010101010101010101010101 cam 1 "
		     "0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		     "\n\0chain 0101010101010101010101010101010101010101010101010101010101010101 lab 1 "
		     "0000000000000001 1 0101010101010101010101010101010101010101010101010101010101010101"
		     "\n";
	struct chain_set t = {0};
	assert_int_equal(chain_set_load(&t, nul, sizeof(nul) - 1, 0), -EBADMSG);
	chain_set_free(&t);
	/* Open gaps go round, held again from the load (`now`), given or not as they were: a
	 * record filling one after a restart is late, not replayed. */
	struct chain_stream *g = chain_set_get(&s, key_a, "gaps");
	assert_int_equal(add(g, &c[1], NULL, NULL), CHAIN_FIRST);
	assert_int_equal(add(g, &c[3], NULL, NULL), CHAIN_GAP);
	assert_int_equal(add(g, &c[5], NULL, NULL), CHAIN_GAP);
	struct chain_gap given;
	assert_true(chain_stream_due(g, UINT64_MAX, &given)); /* 2 given, 4 not yet */
	assert_int_equal(given.first, 2);
	char *gt = NULL;
	size_t glen = 0;
	assert_int_equal(chain_set_save(&s, &gt, &glen), 0);
	assert_non_null(strstr(gt, " gaps 5 1122334455667788 105 "));
	assert_non_null(strstr(gt, " gap 2 2 1122334455667788 102 1 gap 4 4 1122334455667788 104 0\n"));
	struct chain_set rg = {0};
	assert_int_equal(chain_set_load(&rg, gt, glen, 500), 0);
	struct chain_stream *h = chain_set_get(&rg, key_a, "gaps");
	assert_int_equal(h->ngaps, 2);
	assert_int_equal(chain_stream_next_due(h), 500);
	assert_false(chain_stream_due(h, 499, &given));
	assert_int_equal(add(h, &c[2], NULL, NULL), CHAIN_LATE);
	assert_true(chain_stream_due(h, 500, &given));
	assert_int_equal(given.first, 4);
	assert_false(chain_stream_due(h, UINT64_MAX, &given));
	free(gt);
	chain_set_free(&rg);
	free(text);
	chain_set_free(&s);
	chain_set_free(&r);
}

static void test_offline(void **state)
{
	(void)state;
	struct chain_link c[11], d[4];
	make_chain(c, 10, 5);
	make_chain(d, 3, 6);
	struct chain_entry e[32];
	size_t n = 0;
	enum chain_verdict v;
	uint64_t f, t;
	/* stream 0 begins at 2 (earlier lines not in the log: may_begin), out of order, with a
	 * repeat; stream 1 whole, its seq 2 audited before its seq 1 */
	static const int order[] = {2, 4, 3, 5, 5, 7, 6, 8, 9, 10};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++, n++)
		e[n] = (struct chain_entry){.stream = 0, .line = n + 1, .l = c[order[i]],
					      .may_begin = true};
	static const int dorder[] = {2, 1, 3};
	for (int i = 0; i < 3; i++, n++)
		e[n] = (struct chain_entry){.stream = 1, .line = n + 1, .l = d[dorder[i]]};
	assert_int_equal(chain_check(e, n, &v, &f, &t), -1);
	/* stream 0 not allowed to begin at 2 (the log is whole): seq 1 is missing below it */
	struct chain_entry g[32];
	memcpy(g, e, n * sizeof(*e));
	for (size_t i = 0; i < n; i++)
		g[i].may_begin = false;
	long bad = chain_check(g, n, &v, &f, &t);
	assert_int_equal(bad, 0);
	assert_int_equal(v, CHAIN_GAP);
	assert_int_equal(f, 1);
	assert_int_equal(t, 1);
	/* then stream 0 begins anew at 1: a reset is a break, named at the new seq 1 */
	struct chain_link r[3];
	make_chain(r, 2, 77);
	memcpy(g, e, n * sizeof(*e));
	size_t m = n;
	g[m] = (struct chain_entry){.stream = 0, .line = m + 1, .l = r[1]};
	m++;
	g[m] = (struct chain_entry){.stream = 0, .line = m + 1, .l = r[2]};
	m++;
	bad = chain_check(g, m, &v, &f, &t);
	assert_int_equal(bad, (long)n);
	assert_int_equal(v, CHAIN_RESET);
	assert_int_equal(f, 1);
	/* stream 1 begins anew at 1 after its 1..3: a second seq 1 is a reset too */
	memcpy(g, e, n * sizeof(*e));
	m = n;
	g[m] = (struct chain_entry){.stream = 1, .line = m + 1, .l = r[1]};
	m++;
	bad = chain_check(g, m, &v, &f, &t);
	assert_int_equal(bad, (long)n);
	assert_int_equal(v, CHAIN_RESET);
	/* a second record at seq 6 naming the right 5 (the sender forked): a fork, named at
	 * the later one in log order */
	memcpy(g, e, n * sizeof(*e));
	m = n;
	struct chain_link x = c[6];
	x.object = 999;
	x.hash[0] ^= 1;
	g[m] = (struct chain_entry){.stream = 0, .line = m + 1, .l = x, .may_begin = true};
	m++;
	bad = chain_check(g, m, &v, &f, &t);
	assert_int_equal(bad, (long)n);
	assert_int_equal(v, CHAIN_FORK);
	assert_int_equal(f, 6);
	assert_int_equal(t, 6);
	/* 6 and 7 removed: the first record naming a missing one is 8 (line order) */
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (!(e[i].stream == 0 && (e[i].l.seq == 6 || e[i].l.seq == 7) && e[i].l.session == 5))
			g[m++] = e[i];
	bad = chain_check(g, m, &v, &f, &t);
	assert_true(bad >= 0);
	assert_int_equal(g[bad].l.seq, 8);
	assert_int_equal(v, CHAIN_GAP);
	assert_int_equal(f, 6);
	assert_int_equal(t, 7);
	/* an injected record at 4 that names another 3 */
	memcpy(g, e, n * sizeof(*e));
	g[1].l.prev_hash[0] ^= 1;
	bad = chain_check(g, n, &v, &f, &t);
	assert_int_equal(bad, 1);
	assert_int_equal(v, CHAIN_MISMATCH);
	assert_int_equal(f, 3);
	/* a stream of one record, and no records */
	assert_int_equal(chain_check(e, 1, &v, &f, &t), -1);
	assert_int_equal(chain_check(e, 0, &v, &f, &t), -1);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_online),
		cmocka_unit_test(test_early_start),
		cmocka_unit_test(test_set_save_load),
		cmocka_unit_test(test_offline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
