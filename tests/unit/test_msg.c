/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/msg.{h,c}: the messages between the receiver's link and deliver roles. Round trips of
 * every type with every field, the layout of msg.h, header checks (unknown type, body longer
 * than MSG_BODY_MAX, shorter than the type's fixed part), every truncation of every body,
 * trailing bytes, the LOST reason limit, and encoder errors. SLUICE_TEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cursor.h"
#include "rx/msg.h"
#include "tests/unit/seeded.h"

static int seed_setup(void **state)
{
	seed_init("test_msg");
	return 0;
}

/* The fixed part of each body, from msg.h's table; and whether the rest is data. */
static const struct {
	enum msg_type type;
	const char *name;
	size_t fixed;
	int has_data;
} types[] = {
	{MSG_SESSION, "SESSION", 8 + 8 + 8 + 32 + 4, 0},
	{MSG_BLOCK, "BLOCK", 8 + 8 + 4 + 8, 1},
	{MSG_FILE_END, "FILE_END", 8 + 8 + 8 + 4, 0},
	{MSG_MANIFEST, "MANIFEST", 8 + 8, 1},
	{MSG_LOST, "LOST", 8 + 8 + 1, 1},
	{MSG_EVENTS, "EVENTS", 8 + 8, 1},
	{MSG_BLOCK_REF, "BLOCK_REF", 8 + 8 + 4 + 8 + 8 + 4, 0},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static struct msg msg_random(size_t ti, const uint8_t *data, size_t data_len)
{
	struct msg m;
	memset(&m, 0, sizeof(m));
	m.type = types[ti].type;
	m.session = rnd();
	if (m.type != MSG_SESSION)
		m.object = rnd();
	switch (m.type) {
	case MSG_SESSION:
		m.counter = rnd();
		m.start_ns = rnd();
		rnd_bytes(m.sender_pk, 32);
		m.flags = (uint32_t)rnd();
		break;
	case MSG_BLOCK:
		m.block = (uint32_t)rnd();
		m.offset = rnd();
		break;
	case MSG_BLOCK_REF:
		m.block = (uint32_t)rnd();
		m.offset = rnd();
		m.ring_pos = rnd();
		m.ring_len = (uint32_t)rnd();
		break;
	case MSG_FILE_END:
		m.length = rnd();
		m.nblocks = (uint32_t)rnd();
		break;
	case MSG_LOST:
		m.kind = (uint8_t)rnd();
		break;
	default:
		break;
	}
	if (types[ti].has_data) {
		m.data = data;
		m.data_len = data_len;
	}
	return m;
}

static void assert_msg_equal(const struct msg *a, const struct msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->session, b->session);
	assert_int_equal(a->object, b->object);
	assert_int_equal(a->counter, b->counter);
	assert_int_equal(a->start_ns, b->start_ns);
	assert_memory_equal(a->sender_pk, b->sender_pk, 32);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->block, b->block);
	assert_int_equal(a->offset, b->offset);
	assert_int_equal(a->ring_pos, b->ring_pos);
	assert_int_equal(a->ring_len, b->ring_len);
	assert_int_equal(a->length, b->length);
	assert_int_equal(a->nblocks, b->nblocks);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->data_len, b->data_len);
	if (a->data_len)
		assert_memory_equal(a->data, b->data, a->data_len);
}

/* Encode, decode header and body, compare; returns the encoded length. */
static size_t roundtrip(const struct msg *m, uint8_t *buf, size_t cap)
{
	int n = msg_encode(m, buf, cap);
	if (n < 0)
		fail_msg("type %d, data %zu: encode returned %d", m->type, m->data_len, n);
	assert_int_equal((size_t)n, msg_encoded_len(m));
	/* The head alone, as the link role writes it before data it does not copy. */
	uint8_t head[MSG_HEAD_MAX];
	int h = msg_encode_head(m, head, sizeof(head));
	assert_true(h >= MSG_HDR_LEN && h <= n);
	assert_memory_equal(head, buf, (size_t)h);
	if (h < n) {
		assert_int_equal((size_t)(n - h), m->data_len);
		assert_memory_equal(buf + h, m->data, m->data_len);
	}
	enum msg_type t = MSG_INVALID;
	uint32_t len = 0;
	assert_int_equal(msg_header_decode(buf, &t, &len), 0);
	assert_int_equal(t, m->type);
	assert_int_equal(len, (size_t)n - MSG_HDR_LEN);
	struct msg d;
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(msg_body_decode(t, buf + MSG_HDR_LEN, len, &d), 0);
	assert_msg_equal(&d, m);
	if (d.data_len) /* data points into the body, not into a copy */
		assert_ptr_equal(d.data, buf + MSG_HDR_LEN + ((size_t)n - MSG_HDR_LEN - d.data_len));
	return (size_t)n;
}

static void test_roundtrip(void **state)
{
	static const size_t data_lens[] = {0, 1, 2, 63, 200, 201, 4096, 65536};
	uint8_t *data = malloc(65536);
	uint8_t *buf = malloc(MSG_HDR_LEN + 128 + 65536);
	rnd_bytes(data, 65536);
	for (size_t ti = 0; ti < NTYPES; ti++) {
		for (size_t di = 0; di < sizeof(data_lens) / sizeof(data_lens[0]); di++) {
			size_t dl = types[ti].has_data ? data_lens[di] : 0;
			if (types[ti].type == MSG_LOST && dl > MSG_REASON_MAX)
				continue;
			struct msg m = msg_random(ti, data, dl);
			size_t n = roundtrip(&m, buf, MSG_HDR_LEN + 128 + 65536);
			assert_int_equal(n, MSG_HDR_LEN + types[ti].fixed + dl);
		}
		/* boundary values */
		struct msg m = msg_random(ti, data, types[ti].has_data ? 3 : 0);
		m.session = m.object = m.counter = m.start_ns = m.offset = m.length = 0;
		m.flags = m.block = m.nblocks = 0;
		m.kind = 0;
		if (m.type == MSG_SESSION)
			memset(m.sender_pk, 0, 32);
		roundtrip(&m, buf, 1024);
		m.session = UINT64_MAX;
		if (m.type != MSG_SESSION)
			m.object = UINT64_MAX;
		if (m.type == MSG_SESSION) {
			m.counter = m.start_ns = UINT64_MAX;
			m.flags = UINT32_MAX;
			memset(m.sender_pk, 0xff, 32);
		}
		if (m.type == MSG_BLOCK) {
			m.offset = UINT64_MAX;
			m.block = UINT32_MAX;
		}
		if (m.type == MSG_FILE_END) {
			m.length = UINT64_MAX;
			m.nblocks = UINT32_MAX;
		}
		if (m.type == MSG_LOST)
			m.kind = UINT8_MAX;
		roundtrip(&m, buf, 1024);
	}
	/* LOST with a reason of exactly MSG_REASON_MAX bytes */
	struct msg m = msg_random(4, data, MSG_REASON_MAX);
	assert_int_equal(m.type, MSG_LOST);
	roundtrip(&m, buf, 1024);
	free(buf);
	free(data);
}

/* Fields that are not part of a type are neither written nor read back. */
static void test_unrelated_fields(void **state)
{
	uint8_t buf[256];
	struct msg m;
	memset(&m, 0, sizeof(m));
	m.type = MSG_FILE_END;
	m.session = 1;
	m.object = 2;
	m.length = 3;
	m.nblocks = 4;
	m.counter = 99; /* SESSION's */
	m.kind = 7;     /* LOST's */
	m.data = buf;   /* no data in FILE_END */
	m.data_len = 10;
	int n = msg_encode(&m, buf + 64, sizeof(buf) - 64);
	assert_int_equal(n, MSG_HDR_LEN + 28);
	assert_int_equal((size_t)n, msg_encoded_len(&m));
	struct msg d;
	assert_int_equal(msg_body_decode(MSG_FILE_END, buf + 64 + MSG_HDR_LEN, 28, &d), 0);
	assert_int_equal(d.counter, 0);
	assert_int_equal(d.kind, 0);
	assert_int_equal(d.data_len, 0);
	assert_int_equal(d.length, 3);
	assert_int_equal(d.nblocks, 4);
}

static void test_layout(void **state)
{
	uint8_t buf[256], data[3] = {0xd1, 0xd2, 0xd3};
	struct msg m;
	memset(&m, 0, sizeof(m));
	m.type = MSG_BLOCK;
	m.session = 0x0102030405060708ull;
	m.object = 0x1112131415161718ull;
	m.block = 0x21222324u;
	m.offset = 0x3132333435363738ull;
	m.data = data;
	m.data_len = 3;
	int n = msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 8 + 28 + 3);
	static const uint8_t want[] = {
		2, 0, 0, 0, 31, 0, 0, 0,                        /* type, length, little-endian */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* session */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, /* object */
		0x24, 0x23, 0x22, 0x21,                         /* block */
		0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31, /* offset */
		0xd1, 0xd2, 0xd3,                               /* data */
	};
	assert_memory_equal(buf, want, sizeof(want));

	memset(&m, 0, sizeof(m));
	m.type = MSG_SESSION;
	m.session = 1;
	m.counter = 2;
	m.start_ns = 3;
	for (int i = 0; i < 32; i++)
		m.sender_pk[i] = (uint8_t)(0x40 + i);
	m.flags = 1;
	n = msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 8 + 60);
	assert_int_equal(buf[0], MSG_SESSION);
	assert_int_equal(buf[4], 60);
	assert_int_equal(le64_read(buf + 8), 1);
	assert_int_equal(le64_read(buf + 16), 2);
	assert_int_equal(le64_read(buf + 24), 3);
	assert_memory_equal(buf + 32, m.sender_pk, 32);
	assert_int_equal(buf[64], 1);
	assert_int_equal(buf[65] | buf[66] | buf[67], 0);

	memset(&m, 0, sizeof(m));
	m.type = MSG_LOST;
	m.session = 5;
	m.object = 6;
	m.kind = 2;
	m.data = (const uint8_t *)"gone";
	m.data_len = 4;
	n = msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 8 + 17 + 4);
	assert_int_equal(buf[0], MSG_LOST);
	assert_int_equal(buf[4], 21);
	assert_int_equal(buf[24], 2);
	assert_memory_equal(buf + 25, "gone", 4);

	memset(&m, 0, sizeof(m));
	m.type = MSG_BLOCK_REF;
	m.session = 7;
	m.object = 8;
	m.block = 9;
	m.offset = 10;
	m.ring_pos = 0x4142434445464748ull;
	m.ring_len = 0x51525354u;
	n = msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 8 + 40);
	assert_int_equal(buf[0], MSG_BLOCK_REF);
	assert_int_equal(buf[4], 40);
	assert_int_equal(le64_read(buf + 8), 7);
	assert_int_equal(le64_read(buf + 16), 8);
	assert_int_equal(buf[24], 9);
	assert_int_equal(le64_read(buf + 28), 10);
	assert_int_equal(le64_read(buf + 36), 0x4142434445464748ull);
	static const uint8_t len_le[] = {0x54, 0x53, 0x52, 0x51};
	assert_memory_equal(buf + 44, len_le, 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_header(void **state)
{
	uint8_t h[MSG_HDR_LEN];
	enum msg_type t;
	uint32_t len;
	/* unknown types */
	static const uint32_t bad_types[] = {MSG_INVALID, MSG_TYPE_MAX + 1, 255, 256, 0x01000001u,
					     UINT32_MAX};
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		put32(h, bad_types[i]);
		put32(h + 4, 100);
		t = MSG_INVALID;
		len = 12345;
		assert_int_equal(msg_header_decode(h, &t, &len), -EBADMSG);
		/* nothing written on failure */
		assert_int_equal(t, MSG_INVALID);
		assert_int_equal(len, 12345);
	}
	for (size_t ti = 0; ti < NTYPES; ti++) {
		put32(h, types[ti].type);
		static const uint32_t lens_bad_big[] = {MSG_BODY_MAX + 1, MSG_BODY_MAX + 2, 0x80000000u,
							UINT32_MAX};
		for (size_t i = 0; i < 4; i++) {
			put32(h + 4, lens_bad_big[i]);
			assert_int_equal(msg_header_decode(h, &t, &len), -EBADMSG);
		}
		/* every length below the fixed part */
		for (uint32_t l = 0; l < types[ti].fixed; l++) {
			put32(h + 4, l);
			if (msg_header_decode(h, &t, &len) != -EBADMSG)
				fail_msg("%s with length %u accepted", types[ti].name, l);
		}
		put32(h + 4, (uint32_t)types[ti].fixed);
		assert_int_equal(msg_header_decode(h, &t, &len), 0);
		assert_int_equal(t, types[ti].type);
		assert_int_equal(len, types[ti].fixed);
		/* The largest body: only types that carry data may use it (a fixed-size type
		 * with a longer length would be refused by the body decoder). */
		put32(h + 4, MSG_BODY_MAX);
		assert_int_equal(msg_header_decode(h, &t, &len), 0);
		assert_int_equal(len, MSG_BODY_MAX);
	}
}

/* Every truncation of every body; trailing bytes; the body decoder's own length checks. */
static void test_body_lengths(void **state)
{
	uint8_t data[64];
	rnd_bytes(data, sizeof(data));
	uint8_t buf[512];
	for (size_t ti = 0; ti < NTYPES; ti++) {
		struct msg m = msg_random(ti, data, types[ti].has_data ? sizeof(data) : 0);
		int n = msg_encode(&m, buf, sizeof(buf));
		assert_true(n > 0);
		size_t blen = (size_t)n - MSG_HDR_LEN;
		uint8_t *end = malloc(blen + 1);
		for (size_t l = 0; l <= blen; l++) {
			uint8_t *q = end + (blen + 1 - l); /* at the very end of the allocation */
			memmove(q, buf + MSG_HDR_LEN, l);
			struct msg d;
			int rc = msg_body_decode(types[ti].type, q, l, &d);
			if (l < types[ti].fixed || (!types[ti].has_data && l != blen)) {
				if (rc != -EBADMSG)
					fail_msg("%s body of %zu bytes (of %zu) accepted", types[ti].name, l, blen);
			} else {
				/* data types: a shorter body is a shorter payload */
				if (rc != 0)
					fail_msg("%s body of %zu bytes refused", types[ti].name, l);
				assert_int_equal(d.data_len, l - types[ti].fixed);
				assert_int_equal(d.session, m.session);
			}
		}
		free(end);
		/* One byte more than the fixed part for types without data. */
		if (!types[ti].has_data) {
			uint8_t over[128];
			memset(over, 0, sizeof(over));
			memcpy(over, buf + MSG_HDR_LEN, blen);
			over[blen] = 0;
			struct msg d;
			assert_int_equal(msg_body_decode(types[ti].type, over, blen + 1, &d), -EBADMSG);
			assert_int_equal(msg_body_decode(types[ti].type, over, blen + 100 > 128 ? 128 : blen + 100, &d),
					 -EBADMSG);
		}
		/* The wrong type for a body of another type's size. */
		struct msg d;
		for (size_t tj = 0; tj < NTYPES; tj++) {
			int rc = msg_body_decode(types[tj].type, buf + MSG_HDR_LEN, blen, &d);
			int fits = types[tj].has_data ? blen >= types[tj].fixed : blen == types[tj].fixed;
			if (fits && types[tj].type == MSG_LOST && blen - types[tj].fixed > MSG_REASON_MAX)
				fits = 0;
			assert_int_equal(rc, fits ? 0 : -EBADMSG);
		}
		static const enum msg_type bad[] = {MSG_INVALID, (enum msg_type)(MSG_TYPE_MAX + 1),
						    (enum msg_type)100};
		for (size_t i = 0; i < 3; i++)
			assert_int_equal(msg_body_decode(bad[i], buf + MSG_HDR_LEN, blen, &d), -EBADMSG);
	}
	/* A body longer than MSG_BODY_MAX is refused even for data types. */
	uint8_t *huge = calloc(1, (size_t)MSG_BODY_MAX + 1);
	struct msg d;
	assert_int_equal(msg_body_decode(MSG_BLOCK, huge, (size_t)MSG_BODY_MAX + 1, &d), -EBADMSG);
	assert_int_equal(msg_body_decode(MSG_BLOCK, huge, MSG_BODY_MAX, &d), 0);
	assert_int_equal(d.data_len, MSG_BODY_MAX - 28);
	free(huge);
}

static void test_lost_reason(void **state)
{
	uint8_t reason[MSG_REASON_MAX + 50], buf[512];
	memset(reason, 'r', sizeof(reason));
	for (size_t rl = MSG_REASON_MAX - 1; rl <= MSG_REASON_MAX + 2; rl++) {
		struct msg m = {.type = MSG_LOST, .session = 1, .object = 2, .kind = 1, .data = reason,
				.data_len = rl};
		int n = msg_encode(&m, buf, sizeof(buf));
		assert_int_equal(n, rl <= MSG_REASON_MAX ? (int)(MSG_HDR_LEN + 17 + rl) : -EINVAL);
		/* a body with a long reason, built by hand: refused on the decoding side too */
		uint8_t body[17 + MSG_REASON_MAX + 50];
		memset(body, 0, 17);
		memcpy(body + 17, reason, rl);
		struct msg d;
		int rc = msg_body_decode(MSG_LOST, body, 17 + rl, &d);
		if (rc != (rl <= MSG_REASON_MAX ? 0 : -EBADMSG))
			fail_msg("LOST reason of %zu bytes: got %d", rl, rc);
	}
}

static void test_encode_errors(void **state)
{
	uint8_t data[100], buf[256];
	rnd_bytes(data, sizeof(data));
	/* unknown types */
	static const enum msg_type bad[] = {MSG_INVALID, (enum msg_type)(MSG_TYPE_MAX + 1),
					    (enum msg_type)1000};
	for (size_t i = 0; i < 3; i++) {
		struct msg m = {.type = bad[i]};
		assert_int_equal(msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	}
	/* every capacity short of the need: -ENOSPC, and nothing past the capacity touched */
	for (size_t ti = 0; ti < NTYPES; ti++) {
		struct msg m = msg_random(ti, data, types[ti].has_data ? 50 : 0);
		size_t need = msg_encoded_len(&m);
		for (size_t cap = 0; cap < need; cap++) {
			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(msg_encode(&m, buf, cap), -ENOSPC);
			for (size_t i = cap; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 0xee);
		}
		assert_int_equal(msg_encode(&m, buf, need), (int)need);
	}
	/* a body over MSG_BODY_MAX: refused before anything is read from data */
	struct msg m = {.type = MSG_BLOCK, .data = data, .data_len = MSG_BODY_MAX};
	assert_int_equal(msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.data_len = MSG_BODY_MAX - 28;
	assert_int_equal(msg_encode(&m, buf, sizeof(buf)), -ENOSPC);
}

/* Seeded random messages through encode / decode. */
static void test_random(void **state)
{
	uint8_t data[300], buf[512];
	for (int n = 0; n < 20000; n++) {
		size_t ti = rnd() % NTYPES;
		size_t dl = types[ti].has_data ? rnd() % (types[ti].type == MSG_LOST ? MSG_REASON_MAX + 1
										      : sizeof(data) + 1)
					       : 0;
		rnd_bytes(data, dl);
		struct msg m = msg_random(ti, data, dl);
		roundtrip(&m, buf, sizeof(buf));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_unrelated_fields),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_body_lengths),
		cmocka_unit_test(test_lost_reason),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, seed_setup, NULL);
}
