/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/wire.{h,c} and common/cursor.h: DATA and ANNOUNCE round trips with every field at its
 * boundaries, the byte offsets of the diagram in wire.h, every truncation, trailing bytes, bad
 * magic / version / type, and each field range check. Seeded random round trips and random
 * header mutations (a mutated header is either refused or decodes to what re-encodes to it).
 * SLUICE_TEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cursor.h"
#include "common/wire.h"
#include "tests/unit/seeded.h"

static int seed_setup(void **state)
{
	seed_init("test_wire");
	return 0;
}

/* ---- helpers ---- */

static uint64_t rd64(const uint8_t *p) { return le64_read(p); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24); }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* A whole DATA datagram: header, T payload bytes, 16 tag bytes. Caller frees. */
static uint8_t *data_datagram(const struct wire_data_hdr *h, size_t *len)
{
	*len = WIRE_DATA_OVERHEAD + (size_t)h->symbol_size;
	uint8_t *p = malloc(*len);
	assert_non_null(p);
	wire_data_hdr_encode(p, h);
	rnd_bytes(p + WIRE_DATA_HDR_LEN, *len - WIRE_DATA_HDR_LEN);
	return p;
}

static void assert_data_equal(const struct wire_data_hdr *a, const struct wire_data_hdr *b)
{
	assert_int_equal(a->session, b->session);
	assert_int_equal(a->pn, b->pn);
	assert_int_equal(a->object_id, b->object_id);
	assert_int_equal(a->object_len, b->object_len);
	assert_int_equal(a->block, b->block);
	assert_int_equal(a->symbol_size, b->symbol_size);
	assert_int_equal(a->k, b->k);
	assert_int_equal(a->m, b->m);
	assert_int_equal(a->esi, b->esi);
	assert_int_equal(a->kind, b->kind);
}

static void assert_announce_equal(const struct wire_announce *a, const struct wire_announce *b)
{
	assert_int_equal(a->session, b->session);
	assert_memory_equal(a->sender_pk, b->sender_pk, WIRE_KEY_LEN);
	assert_memory_equal(a->receiver_pk, b->receiver_pk, WIRE_KEY_LEN);
	assert_memory_equal(a->ephemeral_pk, b->ephemeral_pk, WIRE_KEY_LEN);
	assert_int_equal(a->counter, b->counter);
	assert_int_equal(a->time_ns, b->time_ns);
	assert_int_equal(a->start_ns, b->start_ns);
	assert_int_equal(a->packets, b->packets);
	assert_int_equal(a->objects, b->objects);
	assert_int_equal(a->next_object_id, b->next_object_id);
	assert_int_equal(a->done_object_id, b->done_object_id);
	assert_int_equal(a->symbol_size, b->symbol_size);
	assert_int_equal(a->mtu, b->mtu);
	assert_int_equal(a->overhead_pct, b->overhead_pct);
	assert_int_equal(a->block_max, b->block_max);
	assert_int_equal(a->interleave, b->interleave);
	assert_int_equal(a->repeat, b->repeat);
	assert_int_equal(a->aead, b->aead);
	assert_memory_equal(a->sig, b->sig, WIRE_SIG_LEN);
	assert_memory_equal(a->mac, b->mac, WIRE_ANNOUNCE_MAC_LEN);
	assert_int_equal(a->prev_session, b->prev_session);
	assert_int_equal(a->prev_done_id, b->prev_done_id);
}

static const struct wire_data_hdr data_ok = {
	.session = 0x0123456789abcdefull, .pn = 7, .object_id = 3, .object_len = 1000, .block = 0,
	.symbol_size = 64, .k = 10, .m = 3, .esi = 4, .kind = WIRE_KIND_FILE,
};

static struct wire_announce announce_ok(void)
{
	struct wire_announce a = {
		.session = 0xfeedfacecafebeefull, .counter = 42, .time_ns = 1700000000000000000ull,
		.start_ns = 1699999999000000000ull, .packets = 123456, .objects = 12,
		.next_object_id = 13, .done_object_id = 10, .symbol_size = 1400, .mtu = 1500,
		.overhead_pct = 25, .block_max = 128, .interleave = 16, .repeat = 1,
		.aead = WIRE_AEAD_CHACHA20POLY1305,
	};
	for (int i = 0; i < WIRE_KEY_LEN; i++) {
		a.sender_pk[i] = (uint8_t)(0x10 + i);
		a.receiver_pk[i] = (uint8_t)(0x40 + i);
		a.ephemeral_pk[i] = (uint8_t)(0x80 + i);
	}
	for (int i = 0; i < WIRE_SIG_LEN; i++)
		a.sig[i] = (uint8_t)(0xc0 + i);
	for (int i = 0; i < WIRE_ANNOUNCE_MAC_LEN; i++)
		a.mac[i] = (uint8_t)(0x30 + i);
	return a;
}

/* ---- DATA ---- */

static const struct wire_data_hdr data_table[] = {
	{0, 0, 0, 0, 0, WIRE_SYMBOL_MIN, 1, 0, 0, WIRE_KIND_FILE},
	{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT16_MAX, 255, 0, 254,
	 WIRE_KIND_EVENTS},
	{UINT64_MAX, UINT64_MAX, WIRE_EVENT_ID_BASE - 1, UINT64_MAX, UINT32_MAX, UINT16_MAX, 255, 0,
	 254, WIRE_KIND_FILE},
	{1, (1ull << 22) - 1, 1, 1, 1, 17, 1, 254, 254, WIRE_KIND_MANIFEST},
	{0x8000000000000000ull, 1ull << 22, 0x7fffffffffffffffull, 1ull << 40, 0x80000000u, 1400,
	 128, 127, 0, WIRE_KIND_FILE},
	{0x0102030405060708ull, 0x1112131415161718ull, 0x2122232425262728ull,
	 0x3132333435363738ull, 0x41424344u, 0x5152, 0x61, 0x62, 0x63, WIRE_KIND_MANIFEST},
	{42, 1, WIRE_EVENT_ID_BASE, 3, 4, 8192, 254, 1, 254, WIRE_KIND_EVENTS},
};

static void test_data_roundtrip(void **state)
{
	for (size_t i = 0; i < sizeof(data_table) / sizeof(data_table[0]); i++) {
		const struct wire_data_hdr *h = &data_table[i];
		size_t len;
		uint8_t *p = data_datagram(h, &len);
		uint64_t session = 0;
		assert_int_equal(wire_peek(p, len, &session), WIRE_TYPE_DATA);
		assert_int_equal(session, h->session);
		struct wire_data_hdr d;
		memset(&d, 0xa5, sizeof(d));
		assert_int_equal(wire_data_decode(p, len, &d), 0);
		assert_data_equal(&d, h);
		/* Re-encoding gives back the same header bytes. */
		uint8_t again[WIRE_DATA_HDR_LEN];
		wire_data_hdr_encode(again, &d);
		assert_memory_equal(again, p, WIRE_DATA_HDR_LEN);
		/* An ANNOUNCE decoder refuses a DATA datagram by type, whatever its length. */
		struct wire_announce a;
		assert_int_equal(wire_announce_decode(p, len, &a), WIRE_ETYPE);
		free(p);
	}
}

/* The offsets of the diagram in wire.h, little-endian. */
static void test_data_layout(void **state)
{
	const struct wire_data_hdr *h = &data_table[5];
	uint8_t p[WIRE_DATA_HDR_LEN];
	memset(p, 0xee, sizeof(p));
	wire_data_hdr_encode(p, h);
	assert_int_equal(p[0], 'S');
	assert_int_equal(p[1], 'L');
	assert_int_equal(p[2], 2);
	assert_int_equal(p[3], WIRE_TYPE_DATA);
	assert_int_equal(rd64(p + 4), h->session);
	assert_int_equal(p[4], 0x08); /* least significant byte first */
	assert_int_equal(rd64(p + 12), h->pn);
	assert_int_equal(rd64(p + 20), h->object_id);
	assert_int_equal(rd64(p + 28), h->object_len);
	assert_int_equal(rd32(p + 36), h->block);
	assert_int_equal(rd16(p + 40), h->symbol_size);
	assert_int_equal(p[42], h->k);
	assert_int_equal(p[43], h->m);
	assert_int_equal(p[44], h->esi);
	assert_int_equal(p[45], h->kind);
	assert_int_equal(rd16(p + 46), 0);
}

static void test_data_random_roundtrip(void **state)
{
	for (int n = 0; n < 20000; n++) {
		struct wire_data_hdr h = {
			.session = rnd(), .pn = rnd(), .object_id = rnd(), .object_len = rnd(),
			.block = (uint32_t)rnd(), .symbol_size = (uint16_t)(WIRE_SYMBOL_MIN + rnd() % 200),
			.kind = (uint8_t)(1 + rnd() % WIRE_KIND_MAX),
		};
		/* event batches in their own id space, files and manifests below it */
		h.object_id = h.kind == WIRE_KIND_EVENTS ? h.object_id | WIRE_EVENT_ID_BASE
							 : h.object_id & ~WIRE_EVENT_ID_BASE;
		h.k = (uint8_t)(1 + rnd() % 255);
		h.m = (uint8_t)(rnd() % (256 - h.k));
		h.esi = (uint8_t)(rnd() % (h.k + h.m));
		size_t len;
		uint8_t *p = data_datagram(&h, &len);
		struct wire_data_hdr d;
		assert_int_equal(wire_data_decode(p, len, &d), 0);
		assert_data_equal(&d, &h);
		free(p);
	}
}

static int data_expected_short(size_t len)
{
	return len < WIRE_DATA_OVERHEAD ? WIRE_ESHORT : WIRE_ELENGTH;
}

static void test_data_truncated(void **state)
{
	for (size_t i = 0; i < sizeof(data_table) / sizeof(data_table[0]); i++) {
		size_t len;
		uint8_t *p = data_datagram(&data_table[i], &len);
		/* Each truncation sits at the very end of its allocation: ASan sees a read past n. */
		uint8_t *end = malloc(len);
		assert_non_null(end);
		for (size_t n = 0; n < len; n++) {
			uint8_t *q = end + (len - n);
			memmove(q, p, n);
			struct wire_data_hdr d;
			uint64_t session;
			int want = data_expected_short(n);
			if (wire_data_decode(q, n, &d) != want)
				fail_msg("entry %zu: length %zu of %zu: got %d, want %d", i, n, len,
					 wire_data_decode(q, n, &d), want);
			int pk = wire_peek(q, n, &session);
			assert_int_equal(pk, n < WIRE_PREFIX_LEN ? WIRE_ESHORT : WIRE_TYPE_DATA);
		}
		free(end);
		free(p);
	}
}

static void test_data_overlong(void **state)
{
	for (size_t i = 0; i < sizeof(data_table) / sizeof(data_table[0]); i++) {
		size_t len;
		uint8_t *p = data_datagram(&data_table[i], &len);
		for (size_t extra = 1; extra <= 17; extra += 16) {
			uint8_t *q = calloc(1, len + extra);
			memcpy(q, p, len);
			struct wire_data_hdr d;
			assert_int_equal(wire_data_decode(q, len + extra, &d), WIRE_ELENGTH);
			free(q);
		}
		free(p);
	}
}

/* Which byte to set to what, and the error every decoder must report. */
struct mutation {
	size_t off;
	uint8_t val;
	int want;
};

static const struct mutation prefix_mutations[] = {
	{0, 's', WIRE_EMAGIC},       {0, 0, WIRE_EMAGIC},     {1, 'l', WIRE_EMAGIC},
	{1, 0xff, WIRE_EMAGIC},      {2, 0, WIRE_EVERSION},   {2, 1, WIRE_EVERSION},
	{2, 3, WIRE_EVERSION},
	{2, 0xff, WIRE_EVERSION},    {3, 0, WIRE_ETYPE},      {3, 3, WIRE_ETYPE},
	{3, 0xff, WIRE_ETYPE},
};

static void test_prefix_bad(void **state)
{
	size_t dlen;
	uint8_t *dp = data_datagram(&data_ok, &dlen);
	struct wire_announce a = announce_ok();
	uint8_t ap[WIRE_ANNOUNCE_LEN];
	wire_announce_encode(ap, &a);
	for (size_t i = 0; i < sizeof(prefix_mutations) / sizeof(prefix_mutations[0]); i++) {
		const struct mutation *mu = &prefix_mutations[i];
		uint64_t session;
		struct wire_data_hdr d;
		struct wire_announce da;
		uint8_t *q = malloc(dlen);
		memcpy(q, dp, dlen);
		q[mu->off] = mu->val;
		assert_int_equal(wire_peek(q, dlen, &session), mu->want);
		assert_int_equal(wire_data_decode(q, dlen, &d), mu->want);
		free(q);
		uint8_t aq[WIRE_ANNOUNCE_LEN];
		memcpy(aq, ap, sizeof(aq));
		aq[mu->off] = mu->val;
		assert_int_equal(wire_peek(aq, sizeof(aq), &session), mu->want);
		assert_int_equal(wire_announce_decode(aq, sizeof(aq), &da), mu->want);
	}
	/* An ANNOUNCE fed to the DATA decoder: refused by type, even at a DATA-like length. */
	struct wire_data_hdr d;
	assert_int_equal(wire_data_decode(ap, sizeof(ap), &d), WIRE_ETYPE);
	assert_int_equal(wire_data_decode(ap, WIRE_DATA_OVERHEAD + 16, &d), WIRE_ETYPE);
	free(dp);
}

/* Field range checks: (header, T) that must be refused with WIRE_EFIELD, or accepted. */
struct data_field_case {
	const char *what;
	uint16_t t;
	uint8_t k, m, esi, kind;
	uint16_t flags;
	int want;
};

static const struct data_field_case data_fields[] = {
	{"K = 0", 64, 0, 3, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"K = 0, M = 0", 64, 0, 0, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"K = 1", 64, 1, 0, 0, WIRE_KIND_FILE, 0, 0},
	{"K + M = 256 (128 + 128)", 64, 128, 128, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"K + M = 256 (1 + 255)", 64, 1, 255, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"K + M = 256 (255 + 1)", 64, 255, 1, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"K + M = 510", 64, 255, 255, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"K + M = 255", 64, 200, 55, 254, WIRE_KIND_FILE, 0, 0},
	{"K = 255, M = 0", 64, 255, 0, 254, WIRE_KIND_FILE, 0, 0},
	{"esi = K + M", 64, 10, 3, 13, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"esi = 255", 64, 10, 3, 255, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"esi = K + M - 1", 64, 10, 3, 12, WIRE_KIND_FILE, 0, 0},
	{"esi = K, M = 0", 64, 10, 0, 10, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"T = 0", 0, 10, 3, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"T = 1", 1, 10, 3, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"T = WIRE_SYMBOL_MIN - 1", WIRE_SYMBOL_MIN - 1, 10, 3, 0, WIRE_KIND_FILE, 0, WIRE_EFIELD},
	{"T = WIRE_SYMBOL_MIN", WIRE_SYMBOL_MIN, 10, 3, 0, WIRE_KIND_FILE, 0, 0},
	{"kind 0", 64, 10, 3, 0, WIRE_KIND_INVALID, 0, WIRE_EFIELD},
	{"kind max + 1", 64, 10, 3, 0, WIRE_KIND_MAX + 1, 0, WIRE_EFIELD},
	{"kind 255", 64, 10, 3, 0, 255, 0, WIRE_EFIELD},
	{"kind max", 64, 10, 3, 0, WIRE_KIND_MAX, 0, 0},
	{"flags 1", 64, 10, 3, 0, WIRE_KIND_FILE, 1, WIRE_EFIELD},
	{"flags 0x100", 64, 10, 3, 0, WIRE_KIND_FILE, 0x100, WIRE_EFIELD},
	{"flags 0x8000", 64, 10, 3, 0, WIRE_KIND_FILE, 0x8000, WIRE_EFIELD},
};

static void test_data_fields(void **state)
{
	for (size_t i = 0; i < sizeof(data_fields) / sizeof(data_fields[0]); i++) {
		const struct data_field_case *c = &data_fields[i];
		struct wire_data_hdr h = data_ok;
		h.symbol_size = c->t;
		h.k = c->k;
		h.m = c->m;
		h.esi = c->esi;
		h.kind = c->kind;
		if (c->kind == WIRE_KIND_EVENTS)
			h.object_id |= WIRE_EVENT_ID_BASE;
		size_t len;
		uint8_t *p = data_datagram(&h, &len);
		p[46] = (uint8_t)c->flags;
		p[47] = (uint8_t)(c->flags >> 8);
		struct wire_data_hdr d;
		int rc = wire_data_decode(p, len, &d);
		if (rc != c->want)
			fail_msg("%s: got %d (%s), want %d", c->what, rc, wire_strerror(rc), c->want);
		if (rc == 0)
			assert_data_equal(&d, &h);
		free(p);
	}
}

/* Event batches are numbered apart from files: an id of the other space is refused. */
static void test_data_id_spaces(void **state)
{
	static const struct {
		uint8_t kind;
		uint64_t id;
		int want;
	} cases[] = {
		{WIRE_KIND_EVENTS, 1, WIRE_EFIELD},
		{WIRE_KIND_EVENTS, WIRE_EVENT_ID_BASE - 1, WIRE_EFIELD},
		{WIRE_KIND_EVENTS, WIRE_EVENT_ID_BASE, 0},
		{WIRE_KIND_EVENTS, UINT64_MAX, 0},
		{WIRE_KIND_FILE, WIRE_EVENT_ID_BASE, WIRE_EFIELD},
		{WIRE_KIND_FILE, WIRE_EVENT_ID_BASE - 1, 0},
		{WIRE_KIND_MANIFEST, WIRE_EVENT_ID_BASE + 7, WIRE_EFIELD},
		{WIRE_KIND_MANIFEST, 7, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wire_data_hdr h = data_ok;
		h.kind = cases[i].kind;
		h.object_id = cases[i].id;
		size_t len;
		uint8_t *p = data_datagram(&h, &len);
		struct wire_data_hdr d;
		int rc = wire_data_decode(p, len, &d);
		if (rc != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].want);
		free(p);
	}
}

/* A mutated header is either refused or decodes to fields that re-encode to the same bytes:
 * the decoder never silently ignores a byte. */
static void test_data_mutations(void **state)
{
	size_t len;
	uint8_t *p = data_datagram(&data_ok, &len);
	unsigned accepted = 0;
	for (int n = 0; n < 100000; n++) {
		uint8_t *q = malloc(len);
		memcpy(q, p, len);
		int flips = 1 + (int)(rnd() % 3);
		for (int f = 0; f < flips; f++)
			q[rnd() % WIRE_DATA_HDR_LEN] = (uint8_t)rnd();
		struct wire_data_hdr d;
		int rc = wire_data_decode(q, len, &d);
		if (rc == 0) {
			uint8_t again[WIRE_DATA_HDR_LEN];
			wire_data_hdr_encode(again, &d);
			assert_memory_equal(again, q, WIRE_DATA_HDR_LEN);
			assert_int_equal(d.symbol_size, data_ok.symbol_size);
			accepted++;
		} else {
			assert_true(rc >= WIRE_EFIELD && rc <= WIRE_ESHORT);
		}
		free(q);
	}
	assert_true(accepted > 0);
	free(p);
}

/* ---- ANNOUNCE ---- */

static void test_announce_roundtrip(void **state)
{
	struct wire_announce base = announce_ok();
	struct wire_announce table[8];
	for (int i = 0; i < 8; i++)
		table[i] = base;
	/* minimums */
	table[1].session = 0;
	table[1].counter = table[1].time_ns = table[1].start_ns = table[1].packets = 0;
	table[1].objects = table[1].next_object_id = table[1].done_object_id = 0;
	table[1].symbol_size = WIRE_SYMBOL_MIN;
	table[1].mtu = 0;
	table[1].overhead_pct = 0;
	table[1].block_max = 1;
	table[1].interleave = 1;
	table[1].repeat = 1;
	table[1].aead = WIRE_AEAD_AES256GCM;
	memset(table[1].sender_pk, 0, WIRE_KEY_LEN);
	memset(table[1].sig, 0, WIRE_SIG_LEN);
	/* maximums */
	table[2].session = UINT64_MAX;
	table[2].counter = table[2].time_ns = table[2].start_ns = table[2].packets = UINT64_MAX;
	table[2].objects = UINT64_MAX;
	table[2].next_object_id = table[2].done_object_id = WIRE_EVENT_ID_BASE - 1; /* file ids */
	memset(table[2].mac, 0xff, WIRE_ANNOUNCE_MAC_LEN);
	table[2].symbol_size = table[2].mtu = table[2].overhead_pct = UINT16_MAX;
	table[2].block_max = 254;
	table[2].interleave = 255;
	table[2].repeat = 255;
	table[2].aead = WIRE_AEAD_CHACHA20POLY1305;
	memset(table[2].ephemeral_pk, 0xff, WIRE_KEY_LEN);
	memset(table[2].sig, 0xff, WIRE_SIG_LEN);
	/* done == next, done = 0 below a large next */
	table[3].done_object_id = table[3].next_object_id = 1;
	table[4].done_object_id = 0;
	table[4].next_object_id = WIRE_EVENT_ID_BASE - 1;
	/* random */
	for (int i = 5; i < 8; i++) {
		rnd_bytes(table[i].sender_pk, WIRE_KEY_LEN);
		rnd_bytes(table[i].receiver_pk, WIRE_KEY_LEN);
		rnd_bytes(table[i].ephemeral_pk, WIRE_KEY_LEN);
		rnd_bytes(table[i].sig, WIRE_SIG_LEN);
		rnd_bytes(table[i].mac, WIRE_ANNOUNCE_MAC_LEN);
		table[i].session = rnd();
		table[i].counter = rnd();
		table[i].time_ns = rnd();
		table[i].start_ns = rnd();
		table[i].packets = rnd();
		table[i].objects = rnd();
		table[i].next_object_id = rnd() & ~WIRE_EVENT_ID_BASE;
		table[i].done_object_id = table[i].next_object_id - rnd() % (table[i].next_object_id + 1);
		table[i].symbol_size = (uint16_t)(WIRE_SYMBOL_MIN + rnd() % (65536 - WIRE_SYMBOL_MIN));
		table[i].mtu = (uint16_t)rnd();
		table[i].overhead_pct = (uint16_t)rnd();
		table[i].block_max = (uint8_t)(1 + rnd() % 254);
		table[i].interleave = (uint8_t)(1 + rnd() % 255);
		table[i].repeat = (uint8_t)(1 + rnd() % 255);
		table[i].aead = (uint8_t)(1 + rnd() % 2);
		table[i].prev_session = rnd();
		table[i].prev_done_id = rnd() & ~WIRE_EVENT_ID_BASE;
	}
	for (int i = 0; i < 8; i++) {
		uint8_t p[WIRE_ANNOUNCE_LEN];
		memset(p, 0xee, sizeof(p));
		wire_announce_encode(p, &table[i]);
		uint64_t session = 0;
		assert_int_equal(wire_peek(p, sizeof(p), &session), WIRE_TYPE_ANNOUNCE);
		assert_int_equal(session, table[i].session);
		struct wire_announce d;
		memset(&d, 0x5a, sizeof(d));
		int rc = wire_announce_decode(p, sizeof(p), &d);
		if (rc != 0)
			fail_msg("announce %d: %d (%s)", i, rc, wire_strerror(rc));
		assert_announce_equal(&d, &table[i]);
		uint8_t again[WIRE_ANNOUNCE_LEN];
		wire_announce_encode(again, &d);
		assert_memory_equal(again, p, sizeof(p));
	}
}

static void test_announce_layout(void **state)
{
	struct wire_announce a = announce_ok();
	a.counter = 0x0102030405060708ull;
	a.time_ns = 0x1112131415161718ull;
	a.start_ns = 0x2122232425262728ull;
	a.packets = 0x3132333435363738ull;
	a.objects = 0x4142434445464748ull;
	a.next_object_id = 0x5152535455565758ull;
	a.done_object_id = 0x5152535455565757ull;
	a.symbol_size = 0x6162;
	a.mtu = 0x6364;
	a.overhead_pct = 0x6566;
	a.block_max = 0x67;
	a.interleave = 0x68;
	a.repeat = 0x69;
	a.prev_session = 0x7172737475767778ull;
	a.prev_done_id = 0x0182838485868788ull;
	uint8_t p[WIRE_ANNOUNCE_LEN];
	wire_announce_encode(p, &a);
	assert_int_equal(p[0], 'S');
	assert_int_equal(p[1], 'L');
	assert_int_equal(p[2], 2);
	assert_int_equal(p[3], WIRE_TYPE_ANNOUNCE);
	assert_int_equal(rd64(p + 4), a.session);
	assert_memory_equal(p + 12, a.sender_pk, 32);
	assert_memory_equal(p + 44, a.receiver_pk, 32);
	assert_memory_equal(p + 76, a.ephemeral_pk, 32);
	assert_int_equal(rd64(p + 108), a.counter);
	assert_int_equal(p[108], 0x08);
	assert_int_equal(rd64(p + 116), a.time_ns);
	assert_int_equal(rd64(p + 124), a.start_ns);
	assert_int_equal(rd64(p + 132), a.packets);
	assert_int_equal(rd64(p + 140), a.objects);
	assert_int_equal(rd64(p + 148), a.next_object_id);
	assert_int_equal(rd64(p + 156), a.done_object_id);
	assert_int_equal(rd16(p + 164), a.symbol_size);
	assert_int_equal(rd16(p + 166), a.mtu);
	assert_int_equal(rd16(p + 168), a.overhead_pct);
	assert_int_equal(p[170], a.block_max);
	assert_int_equal(p[171], a.interleave);
	assert_int_equal(p[172], a.repeat);
	assert_int_equal(p[173], a.aead);
	assert_int_equal(rd16(p + 174), 0);
	assert_int_equal(rd64(p + 176), a.prev_session);
	assert_int_equal(rd64(p + 184), a.prev_done_id);
	assert_int_equal(WIRE_ANNOUNCE_SIGNED_LEN, 192);
	assert_memory_equal(p + WIRE_ANNOUNCE_SIGNED_LEN, a.sig, WIRE_SIG_LEN);
	assert_int_equal(WIRE_ANNOUNCE_MACED_LEN, 256);
	assert_int_equal(WIRE_ANNOUNCE_LEN, 272);
	assert_memory_equal(p + WIRE_ANNOUNCE_MACED_LEN, a.mac, WIRE_ANNOUNCE_MAC_LEN);
}

static void test_announce_truncated_overlong(void **state)
{
	struct wire_announce a = announce_ok();
	uint8_t p[WIRE_ANNOUNCE_LEN + 17];
	memset(p, 0, sizeof(p));
	wire_announce_encode(p, &a);
	uint8_t *end = malloc(WIRE_ANNOUNCE_LEN);
	assert_non_null(end);
	for (size_t n = 0; n < WIRE_ANNOUNCE_LEN; n++) {
		uint8_t *q = end + (WIRE_ANNOUNCE_LEN - n);
		memmove(q, p, n);
		struct wire_announce d;
		uint64_t session;
		int rc = wire_announce_decode(q, n, &d);
		if (rc != WIRE_ESHORT)
			fail_msg("length %zu: got %d, want WIRE_ESHORT", n, rc);
		assert_int_equal(wire_peek(q, n, &session),
				 n < WIRE_PREFIX_LEN ? WIRE_ESHORT : WIRE_TYPE_ANNOUNCE);
	}
	free(end);
	for (size_t extra = 1; extra <= 17; extra += 16) {
		struct wire_announce d;
		assert_int_equal(wire_announce_decode(p, WIRE_ANNOUNCE_LEN + extra, &d), WIRE_ELENGTH);
	}
}

struct announce_field_case {
	const char *what;
	size_t off;   /* byte to set */
	uint8_t val;
	int want;
};

static const struct announce_field_case announce_fields[] = {
	{"block max 0", 170, 0, WIRE_EFIELD},
	{"block max 255", 170, 255, WIRE_EFIELD},
	{"block max 254", 170, 254, 0},
	{"block max 1", 170, 1, 0},
	{"interleave 0", 171, 0, WIRE_EFIELD},
	{"interleave 255", 171, 255, 0},
	{"repeat 0", 172, 0, WIRE_EFIELD},
	{"repeat 255", 172, 255, 0},
	{"aead 0", 173, WIRE_AEAD_INVALID, WIRE_EFIELD},
	{"aead 3", 173, 3, WIRE_EFIELD},
	{"aead 255", 173, 255, WIRE_EFIELD},
	{"aead AES-256-GCM", 173, WIRE_AEAD_AES256GCM, 0},
	{"aead ChaCha20-Poly1305", 173, WIRE_AEAD_CHACHA20POLY1305, 0},
	{"flags low byte", 174, 1, WIRE_EFIELD},
	{"flags high byte", 175, 0x80, WIRE_EFIELD},
	{"symbol size 15 (low byte; high byte is 0)", 164, WIRE_SYMBOL_MIN - 1, WIRE_EFIELD},
	{"symbol size 0", 164, 0, WIRE_EFIELD},
	{"symbol size 16", 164, WIRE_SYMBOL_MIN, 0},
};

static void test_announce_fields(void **state)
{
	struct wire_announce a = announce_ok();
	a.symbol_size = 0x0080; /* high byte 0: setting byte 164 sets the whole value */
	for (size_t i = 0; i < sizeof(announce_fields) / sizeof(announce_fields[0]); i++) {
		const struct announce_field_case *c = &announce_fields[i];
		uint8_t p[WIRE_ANNOUNCE_LEN];
		wire_announce_encode(p, &a);
		p[c->off] = c->val;
		struct wire_announce d;
		int rc = wire_announce_decode(p, sizeof(p), &d);
		if (rc != c->want)
			fail_msg("%s: got %d (%s), want %d", c->what, rc, wire_strerror(rc), c->want);
	}
	/* done > next, by one and by a lot; done == next is fine (checked in the round trip) */
	static const uint64_t pairs[][3] = {
		{11, 10, WIRE_EFIELD}, {1, 0, WIRE_EFIELD}, {UINT64_MAX, 0, WIRE_EFIELD},
		{UINT64_MAX, UINT64_MAX - 1, WIRE_EFIELD}, {10, 10, 0}, {0, 0, 0},
		/* the ids count files only: an event id there is refused */
		{0, WIRE_EVENT_ID_BASE, WIRE_EFIELD}, {WIRE_EVENT_ID_BASE - 1, WIRE_EVENT_ID_BASE - 1, 0},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct wire_announce b = announce_ok();
		b.done_object_id = pairs[i][0];
		b.next_object_id = pairs[i][1];
		b.prev_done_id = i % 2 ? WIRE_EVENT_ID_BASE - 1 : 0; /* the largest file id is fine */
		uint8_t p[WIRE_ANNOUNCE_LEN];
		wire_announce_encode(p, &b);
		struct wire_announce d;
		int rc = wire_announce_decode(p, sizeof(p), &d);
		if (rc != (int)(int64_t)pairs[i][2])
			fail_msg("done %" PRIu64 " next %" PRIu64 ": got %d", pairs[i][0], pairs[i][1], rc);
	}
}

static void test_announce_prev_done_event_id(void **state)
{
	struct wire_announce a = announce_ok();
	a.prev_done_id = WIRE_EVENT_ID_BASE;
	uint8_t p[WIRE_ANNOUNCE_LEN];
	wire_announce_encode(p, &a);
	struct wire_announce d;
	assert_int_equal(wire_announce_decode(p, sizeof(p), &d), WIRE_EFIELD);
}

static void test_strerror(void **state)
{
	static const int errs[] = {WIRE_ESHORT, WIRE_EMAGIC, WIRE_EVERSION, WIRE_ETYPE, WIRE_ELENGTH,
				   WIRE_EFIELD};
	const char *unknown = wire_strerror(-100);
	assert_non_null(unknown);
	assert_string_equal(wire_strerror(0), unknown);
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		assert_non_null(wire_strerror(errs[i]));
		assert_string_not_equal(wire_strerror(errs[i]), unknown);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(wire_strerror(errs[i]), wire_strerror(errs[j]));
	}
}

/* ---- cursor.h ---- */

static void test_cursor_read(void **state)
{
	static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
				    0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
	struct cursor c;
	cursor_init(&c, b, sizeof(b));
	assert_int_equal(cursor_left(&c), 15);
	assert_int_equal(cursor_u8(&c), 0x01);
	assert_int_equal(cursor_u16(&c), 0x0302);
	assert_int_equal(cursor_u32(&c), 0x07060504);
	assert_int_equal(cursor_u64(&c), 0x0f0e0d0c0b0a0908ull);
	assert_false(c.err);
	assert_true(cursor_done(&c));
	assert_int_equal(cursor_left(&c), 0);
	/* One more byte: error, zero, and no longer done. */
	assert_int_equal(cursor_u8(&c), 0);
	assert_true(c.err);
	assert_false(cursor_done(&c));

	/* Leftovers are not done. */
	cursor_init(&c, b, sizeof(b));
	(void)cursor_u64(&c);
	assert_false(cursor_done(&c));
	assert_int_equal(cursor_left(&c), 7);

	/* A short read returns zero, sets err, consumes nothing, and sticks. */
	cursor_init(&c, b, 3);
	assert_int_equal(cursor_u32(&c), 0);
	assert_true(c.err);
	assert_int_equal(c.off, 0);
	assert_int_equal(cursor_left(&c), 0);
	assert_int_equal(cursor_u8(&c), 0); /* would fit, but err sticks */
	assert_null(cursor_take(&c, 0));

	/* A u64 whose high half is short: the error flag is what callers check. */
	cursor_init(&c, b, 6);
	(void)cursor_u64(&c);
	assert_true(c.err);
	assert_false(cursor_done(&c));

	/* Huge lengths cannot wrap the bounds check. */
	cursor_init(&c, b, sizeof(b));
	(void)cursor_u8(&c);
	assert_null(cursor_take(&c, SIZE_MAX));
	assert_true(c.err);
	cursor_init(&c, b, sizeof(b));
	assert_non_null(cursor_take(&c, sizeof(b)));
	assert_true(cursor_done(&c));

	/* cursor_copy zero-fills on a short read. */
	uint8_t out[8];
	memset(out, 0xaa, sizeof(out));
	cursor_init(&c, b, 4);
	cursor_copy(&c, out, sizeof(out));
	assert_true(c.err);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	cursor_init(&c, b, 8);
	cursor_copy(&c, out, sizeof(out));
	assert_true(cursor_done(&c));
	assert_memory_equal(out, b, 8);

	/* Zero-length cursor is done at once; a zero-length take succeeds. */
	cursor_init(&c, b, 0);
	assert_true(cursor_done(&c));
	assert_non_null(cursor_take(&c, 0));
	assert_true(cursor_done(&c));
}

static void test_wcursor(void **state)
{
	uint8_t buf[16];
	memset(buf, 0xee, sizeof(buf));
	struct wcursor w;
	wcursor_init(&w, buf, 15);
	wcursor_u8(&w, 0x01);
	wcursor_u16(&w, 0x0302);
	wcursor_u32(&w, 0x07060504);
	wcursor_u64(&w, 0x0f0e0d0c0b0a0908ull);
	assert_false(w.err);
	assert_int_equal(w.off, 15);
	for (int i = 0; i < 15; i++)
		assert_int_equal(buf[i], i + 1);
	/* Past the capacity: error, nothing written past cap. */
	wcursor_u8(&w, 0x55);
	assert_true(w.err);
	assert_int_equal(buf[15], 0xee);
	assert_int_equal(w.off, 15);

	/* A write that does not fit writes none of its bytes. */
	memset(buf, 0xee, sizeof(buf));
	wcursor_init(&w, buf, 3);
	wcursor_u32(&w, 0x11223344);
	assert_true(w.err);
	for (int i = 0; i < 4; i++)
		assert_int_equal(buf[i], 0xee);
	wcursor_init(&w, buf, 4);
	wcursor_u8(&w, 1);
	assert_null(wcursor_take(&w, SIZE_MAX));
	assert_true(w.err);
	wcursor_u8(&w, 2); /* sticks */
	assert_int_equal(w.off, 1);
	wcursor_init(&w, buf, 4);
	wcursor_bytes(&w, NULL, 0);
	assert_false(w.err);
	wcursor_bytes(&w, "abcde", 5);
	assert_true(w.err);

	/* le64 helpers agree with the cursors. */
	for (int n = 0; n < 1000; n++) {
		uint64_t v = rnd();
		uint8_t a[8], b8[8];
		le64_write(a, v);
		wcursor_init(&w, b8, 8);
		wcursor_u64(&w, v);
		assert_memory_equal(a, b8, 8);
		assert_int_equal(le64_read(a), v);
		struct cursor c;
		cursor_init(&c, a, 8);
		assert_int_equal(cursor_u64(&c), v);
		assert_int_equal(a[0], (uint8_t)v);
		assert_int_equal(a[7], (uint8_t)(v >> 56));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_roundtrip),
		cmocka_unit_test(test_data_layout),
		cmocka_unit_test(test_data_random_roundtrip),
		cmocka_unit_test(test_data_truncated),
		cmocka_unit_test(test_data_overlong),
		cmocka_unit_test(test_prefix_bad),
		cmocka_unit_test(test_data_fields),
		cmocka_unit_test(test_data_id_spaces),
		cmocka_unit_test(test_data_mutations),
		cmocka_unit_test(test_announce_roundtrip),
		cmocka_unit_test(test_announce_layout),
		cmocka_unit_test(test_announce_truncated_overlong),
		cmocka_unit_test(test_announce_fields),
		cmocka_unit_test(test_announce_prev_done_event_id),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_cursor_read),
		cmocka_unit_test(test_wcursor),
	};
	return cmocka_run_group_tests(tests, seed_setup, NULL);
}
