/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/evchain.{h,c} and the v2 event batch (common/evbatch.h): a signed batch decodes to its
 * events and its chain record, which verifies with the sender's key and with no other; every
 * byte of the record changed (each signed field) fails the signature, a changed event fails the
 * content hash, a version 1 batch is refused by name, and the cursor ends at the end (a byte
 * more or less is refused). The tracker: in order, a gap given up on time or at a window
 * overflow (named with batch and event seqs), a mismatching prev, a replay, a fork, reordering
 * inside the window, a new stream, and save/load of its state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/evbatch.h"
#include "common/evchain.h"

static uint8_t pk[32], sk[64], pk2[32], sk2[64];

static int setup(void **st)
{
	(void)st;
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	return 0;
}

/* A batch of seqs first..first+n-1 of "vms", batch seq `batch`, prev `prev`. */
static long build(uint64_t batch, const uint8_t *prev, uint64_t first, uint32_t n, int level,
		  uint8_t **obj, uint8_t hash[32])
{
	struct evbatch_builder b;
	assert_int_equal(evbatch_begin(&b, "vms", 0x1234, first), 0);
	for (uint32_t i = 0; i < n; i++) {
		char ev[32];
		int l = snprintf(ev, sizeof(ev), "{\"n\":%u}", (unsigned)(first + i));
		assert_int_equal(evbatch_add(&b, first + i, 1000 + i, ev, (uint32_t)l), 0);
	}
	static const uint8_t zero[32];
	evbatch_chain(&b, batch, 0, prev ? prev : zero, sk);
	long len = evbatch_finish(&b, level, obj);
	if (hash)
		memcpy(hash, b.record_hash, 32);
	evbatch_free(&b);
	return len;
}

static void test_roundtrip(void **st)
{
	(void)st;
	for (int level = 0; level <= 1; level++) {
		uint8_t *obj = NULL, h[32];
		long len = build(7, NULL, 40, 3, level, &obj, h);
		assert_true(len > 0);
		struct evbatch d;
		const char *why = NULL;
		assert_int_equal(evbatch_decode(obj, (size_t)len, &d, &why), 0);
		assert_int_equal(d.count, 3);
		assert_int_equal(d.chain.batch, 7);
		assert_int_equal(d.chain.first, 40);
		assert_int_equal(d.chain.last, 42);
		assert_int_equal(d.chain.count, 3);
		assert_int_equal(d.chain.stream, 0x1234);
		assert_string_equal(d.chain.source, "vms");
		assert_int_equal(evchain_verify(d.record, d.record_len, pk), 0);
		assert_int_equal(evchain_verify(d.record, d.record_len, pk2), -EPERM);
		uint8_t h2[32];
		evchain_hash(d.record, d.record_len, h2);
		assert_memory_equal(h, h2, 32);
		evbatch_release(&d);
		free(obj);
	}
}

/* Every byte of the record is under the signature; every byte before it under the content hash. */
static void test_tamper(void **st)
{
	(void)st;
	uint8_t *obj = NULL;
	long len = build(1, NULL, 5, 2, 0, &obj, NULL);
	struct evbatch d;
	const char *why = NULL;
	assert_int_equal(evbatch_decode(obj, (size_t)len, &d, &why), 0);
	size_t rec_off = (size_t)(d.record - d.raw) + 5, rec_len = d.record_len;
	evbatch_release(&d);
	for (size_t i = 0; i < rec_len; i++) {
		obj[rec_off + i] ^= 0x01;
		int rc = evbatch_decode(obj, (size_t)len, &d, &why);
		if (rc == 0) {
			/* decoded: only the signature can tell */
			assert_int_equal(evchain_verify(d.record, d.record_len, pk), -EPERM);
			evbatch_release(&d);
		} else {
			assert_int_equal(rc, -EBADMSG);
		}
		obj[rec_off + i] ^= 0x01;
	}
	/* An event byte changed: the content hash. */
	obj[5 + 24 + 3 + 20] ^= 0x01;
	assert_int_equal(evbatch_decode(obj, (size_t)len, &d, &why), -EBADMSG);
	assert_string_equal(why, "chain record's content hash does not match the batch");
	obj[5 + 24 + 3 + 20] ^= 0x01;
	/* A byte less, a byte more (raw length adjusted): the cursor ends at the end. */
	uint8_t *longer = calloc(1, (size_t)len + 1);
	memcpy(longer, obj, (size_t)len);
	longer[1]++;
	assert_int_equal(evbatch_decode(longer, (size_t)len + 1, &d, &why), -EBADMSG);
	obj[1]--;
	assert_int_equal(evbatch_decode(obj, (size_t)len - 1, &d, &why), -EBADMSG);
	obj[1]++;
	/* Version 1: refused by name. */
	obj[5] = 1;
	assert_int_equal(evbatch_decode(obj, (size_t)len, &d, &why), -EBADMSG);
	assert_non_null(strstr(why, "version 1"));
	free(longer);
	free(obj);
}

static void test_unsigned_refused(void **st)
{
	(void)st;
	struct evbatch_builder b;
	uint8_t *obj = NULL;
	assert_int_equal(evbatch_begin(&b, "vms", 1, 0), 0);
	assert_int_equal(evbatch_add(&b, 0, 0, "x", 1), 0);
	assert_int_equal(evbatch_finish(&b, 0, &obj), -EINVAL); /* no evbatch_chain */
	evbatch_free(&b);
}

/* ---- tracker ---- */

struct got {
	struct evchain_break b[16];
	int n;
};

static void on_break(void *ctx, const struct evchain_break *b)
{
	struct got *g = ctx;
	if (g->n < 16)
		g->b[g->n] = *b;
	g->n++;
}

/* Records of batches 1..n of one chain, each with 10 events: batch k holds 10(k-1)..10k-1. */
struct chain {
	struct evchain_rec r[40];
	uint8_t h[40][32];
};

static void make_chain(struct chain *c, int n, uint64_t stream)
{
	uint8_t prev[32] = {0};
	for (int k = 1; k <= n; k++) {
		struct evchain_rec *r = &c->r[k];
		*r = (struct evchain_rec){.count = 10, .stream = stream, .batch = (uint64_t)k,
					  .first = 10u * (k - 1), .last = 10u * k - 1,
					  .after = 10u * (k - 1)};
		memcpy(r->prev, prev, 32);
		strcpy(r->source, "vms");
		uint8_t buf[EVCHAIN_MAX_LEN];
		int len = evchain_sign(r, sk, buf, sizeof(buf));
		assert_true(len > 0);
		evchain_hash(buf, (size_t)len, c->h[k]);
		memcpy(prev, c->h[k], 32);
	}
}

static enum evchain_verdict feed(struct evchain *t, struct chain *c, int k, uint64_t now,
				 struct got *g)
{
	return evchain_track(t, &c->r[k], c->h[k], "0011223344556677", now, (uint64_t)k, on_break, g);
}

static void test_track_in_order_and_gap(void **st)
{
	(void)st;
	static struct chain c;
	static struct evchain t;
	struct got g = {0};
	make_chain(&c, 10, 9);
	memset(&t, 0, sizeof(t));
	for (int k = 1; k <= 3; k++)
		assert_int_equal(feed(&t, &c, k, 0, &g), EVCHAIN_NEW);
	assert_int_equal(g.n, 0);
	/* 4 and 5 lost; 6 arrives at t=100, 7 at 150 */
	assert_int_equal(feed(&t, &c, 6, 100, &g), EVCHAIN_NEW);
	assert_int_equal(feed(&t, &c, 7, 150, &g), EVCHAIN_NEW);
	assert_int_equal(g.n, 0);
	assert_int_equal(evchain_due(&t, 1000), 1100);
	evchain_expire(&t, 1099, 1000, on_break, &g);
	assert_int_equal(g.n, 0);
	evchain_expire(&t, 1100, 1000, on_break, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.b[0].kind, EVCHAIN_MISSING);
	assert_int_equal(g.b[0].batch, 4);
	assert_int_equal(g.b[0].batch_last, 5);
	assert_true(g.b[0].have_events);
	assert_int_equal(g.b[0].event_first, 30);
	assert_int_equal(g.b[0].event_last, 49);
	assert_int_equal(g.b[0].tag, 6);
	assert_int_equal(t.next, 8);
	assert_int_equal(t.nahead, 0);
	/* 8 follows 7: no break */
	assert_int_equal(feed(&t, &c, 8, 2000, &g), EVCHAIN_NEW);
	assert_int_equal(g.n, 1);
}

static void test_track_reorder_replay_fork(void **st)
{
	(void)st;
	static struct chain c;
	static struct evchain t;
	struct got g = {0};
	make_chain(&c, 10, 9);
	memset(&t, 0, sizeof(t));
	assert_int_equal(feed(&t, &c, 1, 0, &g), EVCHAIN_NEW);
	assert_int_equal(feed(&t, &c, 3, 0, &g), EVCHAIN_NEW);
	assert_int_equal(feed(&t, &c, 2, 0, &g), EVCHAIN_NEW); /* late, within the window */
	assert_int_equal(t.next, 4);
	assert_int_equal(t.nahead, 0);
	assert_int_equal(g.n, 0);
	/* replays: nothing new, no break */
	assert_int_equal(feed(&t, &c, 2, 0, &g), EVCHAIN_DUP);
	assert_int_equal(feed(&t, &c, 3, 0, &g), EVCHAIN_DUP);
	assert_int_equal(feed(&t, &c, 5, 0, &g), EVCHAIN_NEW);
	assert_int_equal(feed(&t, &c, 5, 0, &g), EVCHAIN_DUP);
	assert_int_equal(g.n, 0);
	/* another record claiming batch 5: a fork */
	uint8_t other[32];
	memset(other, 0xab, 32);
	assert_int_equal(evchain_track(&t, &c.r[5], other, "0011223344556677", 0, 55, on_break, &g),
			 EVCHAIN_DUP);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.b[0].kind, EVCHAIN_FORK);
	assert_int_equal(g.b[0].batch, 5);
}

static void test_track_mismatch(void **st)
{
	(void)st;
	static struct chain c, d;
	static struct evchain t;
	struct got g = {0};
	make_chain(&c, 10, 9);
	make_chain(&d, 10, 9);
	d.r[3].prev[0] ^= 1; /* batch 3 of d names another predecessor */
	memset(&t, 0, sizeof(t));
	feed(&t, &c, 1, 0, &g);
	feed(&t, &c, 2, 0, &g);
	assert_int_equal(feed(&t, &d, 3, 0, &g), EVCHAIN_NEW);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.b[0].kind, EVCHAIN_MISMATCH);
	assert_int_equal(g.b[0].batch, 3);
	/* Out of order too: 5 known, then a 4 whose hash 5 does not name */
	g.n = 0;
	feed(&t, &d, 5, 0, &g);
	uint8_t h4[32];
	memcpy(h4, c.h[4], 32);
	h4[1] ^= 1;
	assert_int_equal(evchain_track(&t, &c.r[4], h4, "0011223344556677", 0, 4, on_break, &g),
			 EVCHAIN_NEW);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.b[0].kind, EVCHAIN_MISMATCH);
	assert_int_equal(g.b[0].batch, 5);
}

static void test_track_window_and_stream(void **st)
{
	(void)st;
	static struct chain c, n;
	static struct evchain t;
	struct got g = {0};
	make_chain(&c, 3, 9);
	memset(&t, 0, sizeof(t));
	feed(&t, &c, 1, 0, &g);
	/* EVCHAIN_WINDOW batches ahead of a missing 2: one more gives 2 up */
	for (uint64_t k = 3; k < 3 + EVCHAIN_WINDOW; k++) {
		struct evchain_rec r = c.r[1];
		r.batch = k;
		uint8_t h[32] = {(uint8_t)k};
		evchain_track(&t, &r, h, "0011223344556677", 0, k, on_break, &g);
	}
	/* the links among them do not match (made-up hashes): mismatches, no missing yet */
	int mism = g.n;
	assert_int_equal(t.nahead, EVCHAIN_WINDOW);
	struct evchain_rec r = c.r[1];
	r.batch = 3 + EVCHAIN_WINDOW;
	uint8_t h[32] = {0};
	g.n = 0;
	evchain_track(&t, &r, h, "0011223344556677", 0, 0, on_break, &g);
	(void)mism;
	assert_true(g.n >= 1);
	assert_int_equal(g.b[0].kind, EVCHAIN_MISSING);
	assert_int_equal(g.b[0].batch, 2);
	assert_int_equal(g.b[0].batch_last, 2);
	/* A new stream: a rebase naming where the old chain ended */
	make_chain(&n, 2, 77);
	g.n = 0;
	assert_int_equal(feed(&t, &n, 1, 0, &g), EVCHAIN_NEW);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.b[0].kind, EVCHAIN_REBASE);
	assert_true(g.b[0].have_prev);
	assert_int_equal(g.b[0].batch_prev, 3 + EVCHAIN_WINDOW);
	assert_int_equal(feed(&t, &n, 2, 0, &g), EVCHAIN_NEW);
	assert_int_equal(g.n, 1);
}

static void test_save_load(void **st)
{
	(void)st;
	static struct chain c;
	static struct evchain t, u;
	struct got g = {0};
	make_chain(&c, 5, 9);
	memset(&t, 0, sizeof(t));
	for (int k = 1; k <= 3; k++)
		feed(&t, &c, k, 0, &g);
	char buf[256];
	int n = evchain_save(&t, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(evchain_load(&u, buf, (size_t)n), 0);
	assert_int_equal(u.next, 4);
	assert_int_equal(u.last_event, 29);
	assert_memory_equal(u.last, c.h[3], 32);
	assert_int_equal(feed(&u, &c, 4, 0, &g), EVCHAIN_NEW); /* continues: no break */
	assert_int_equal(g.n, 0);
	buf[n - 2] = 'x';
	assert_int_equal(evchain_load(&u, buf, (size_t)n), -EBADMSG);
	/* a signed or too large next or event is refused */
	static const char *bad[] = {
		"sluice-evchain 1 sender=0123456789abcdef stream=0000000000000005 next=-1 event=3 last=-\n",
		"sluice-evchain 1 sender=0123456789abcdef stream=0000000000000005 next=+4 event=3 last=-\n",
		"sluice-evchain 1 sender=0123456789abcdef stream=0000000000000005 next=4 event=-1 last=-\n",
		("sluice-evchain 1 sender=0123456789abcdef stream=0000000000000005 "
		 "next=9223372036854775809 event=3 last=-\n"),
	};
	const char *good = "sluice-evchain 1 sender=0123456789abcdef stream=0000000000000005 next=4 "
			   "event=3 last=-\n";
	assert_int_equal(evchain_load(&u, good, strlen(good)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(evchain_load(&u, bad[i], strlen(bad[i])), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_unsigned_refused),
		cmocka_unit_test(test_track_in_order_and_gap),
		cmocka_unit_test(test_track_reorder_replay_fork),
		cmocka_unit_test(test_track_mismatch),
		cmocka_unit_test(test_track_window_and_stream),
		cmocka_unit_test(test_save_load),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
