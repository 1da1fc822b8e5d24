/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/manifest.{h,c} and common/hash.{h,c}: sign / verify round trips at the string length
 * limits, the byte layout of manifest.h, a wrong key, every single-bit flip, every truncation,
 * trailing bytes, malformed fields and NUL bytes under a valid signature (built here by an
 * encoder of our own), and the tree hash recomputed with libsodium's SHA-256.
 * SLUICE_TEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cursor.h"
#include "common/hash.h"
#include "common/manifest.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static uint8_t tx_pk[32], tx_sk[64], other_pk[32], other_sk[64];

static int seed_setup(void **state)
{
	const char *e = getenv("SLUICE_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("test_manifest: seed %" PRIu64 " (SLUICE_TEST_SEED=%" PRIu64 " repeats this run)\n",
	       seed, seed);
	rng_state = seed;
	if (sodium_init() < 0)
		return -1;
	uint8_t s[32];
	rnd_bytes(s, 32);
	crypto_sign_seed_keypair(tx_pk, tx_sk, s);
	rnd_bytes(s, 32);
	crypto_sign_seed_keypair(other_pk, other_sk, s);
	return 0;
}

static void rnd_name(char *out, size_t len)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789._-/";
	for (size_t i = 0; i < len; i++)
		out[i] = cs[rnd() % (sizeof(cs) - 1)];
	out[len] = '\0';
}

static struct manifest *manifest_make(size_t spool_len, size_t path_len)
{
	struct manifest *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->symbol_size = (uint16_t)(1 + rnd() % 65535);
	m->block_max = (uint8_t)(1 + rnd() % 254);
	m->session = rnd();
	m->object_id = rnd();
	m->size = rnd();
	m->mtime_ns = rnd();
	rnd_bytes(m->hash, HASH_LEN);
	rnd_name(m->spool, spool_len);
	rnd_name(m->path, path_len);
	m->chain_seq = 2 + rnd() % 1000;
	m->prev_session = rnd();
	m->prev_object = rnd();
	rnd_bytes(m->prev_hash, HASH_LEN);
	return m;
}

static void assert_manifest_equal(const struct manifest *a, const struct manifest *b)
{
	assert_int_equal(a->symbol_size, b->symbol_size);
	assert_int_equal(a->block_max, b->block_max);
	assert_int_equal(a->session, b->session);
	assert_int_equal(a->object_id, b->object_id);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->mtime_ns, b->mtime_ns);
	assert_memory_equal(a->hash, b->hash, HASH_LEN);
	assert_string_equal(a->spool, b->spool);
	assert_string_equal(a->path, b->path);
	assert_int_equal(a->chain_seq, b->chain_seq);
	assert_int_equal(a->prev_session, b->prev_session);
	assert_int_equal(a->prev_object, b->prev_object);
	assert_memory_equal(a->prev_hash, b->prev_hash, HASH_LEN);
}

/*
 * Our own encoder of the format in manifest.h, with every field under the caller's control
 * (including those manifest_sign() would never write), signed with sk. Returns the length.
 */
struct raw {
	uint8_t version, flags;
	uint16_t symbol_size;
	uint8_t block_max;
	uint8_t spool_len; /* as written in the header */
	uint16_t path_len;
	uint64_t session, object_id, size, mtime_ns;
	uint8_t hash[32];
	uint64_t chain_seq, prev_session, prev_object;
	uint8_t prev_hash[32];
	const uint8_t *spool, *path; /* spool_len and path_len bytes */
};

static size_t raw_sign(const struct raw *r, const uint8_t *sk, uint8_t *out)
{
	size_t n = 0;
	out[n++] = r->version;
	out[n++] = r->flags;
	out[n++] = (uint8_t)r->symbol_size;
	out[n++] = (uint8_t)(r->symbol_size >> 8);
	out[n++] = r->block_max;
	out[n++] = r->spool_len;
	out[n++] = (uint8_t)r->path_len;
	out[n++] = (uint8_t)(r->path_len >> 8);
	le64_write(out + n, r->session);
	le64_write(out + n + 8, r->object_id);
	le64_write(out + n + 16, r->size);
	le64_write(out + n + 24, r->mtime_ns);
	n += 32;
	memcpy(out + n, r->hash, 32);
	n += 32;
	le64_write(out + n, r->chain_seq);
	le64_write(out + n + 8, r->prev_session);
	le64_write(out + n + 16, r->prev_object);
	n += 24;
	memcpy(out + n, r->prev_hash, 32);
	n += 32;
	memcpy(out + n, r->spool, r->spool_len);
	n += r->spool_len;
	memcpy(out + n, r->path, r->path_len);
	n += r->path_len;
	crypto_sign_detached(out + n, NULL, out, n, sk);
	return n + 64;
}

static struct raw raw_ok(void)
{
	struct raw r = {.version = 2, .flags = 0, .chain_seq = 7, .prev_session = 0x99aabbccddeeff00ull,
			.prev_object = 41, .symbol_size = 1400, .block_max = 128,
			.spool_len = 6, .path_len = 11, .session = 0x1122334455667788ull,
			.object_id = 42, .size = 123456789, .mtime_ns = 1700000000123456789ull,
			.spool = (const uint8_t *)"camera", .path = (const uint8_t *)"dir/file.ts"};
	for (int i = 0; i < 32; i++) {
		r.hash[i] = (uint8_t)i;
		r.prev_hash[i] = (uint8_t)(0xa0 + i);
	}
	return r;
}

static void test_roundtrip(void **state)
{
	static const size_t lens[][2] = {
		{1, 1}, {MANIFEST_SPOOL_MAX, 1}, {1, MANIFEST_PATH_MAX},
		{MANIFEST_SPOOL_MAX, MANIFEST_PATH_MAX}, {6, 40}, {17, 255}, {8, 256},
	};
	uint8_t *buf = malloc(MANIFEST_MAX_LEN);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct manifest *m = manifest_make(lens[i][0], lens[i][1]);
		int n = manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN);
		assert_int_equal(n, MANIFEST_FIXED_LEN + lens[i][0] + lens[i][1] + 64);
		assert_true(n <= MANIFEST_MAX_LEN);
		struct manifest *d = calloc(1, sizeof(*d));
		memset(d, 0x5a, sizeof(*d));
		assert_int_equal(manifest_verify(buf, (size_t)n, tx_pk, d), 0);
		assert_manifest_equal(d, m);
		/* An exact-size output buffer is enough; one byte less is not. */
		uint8_t *exact = malloc((size_t)n);
		assert_int_equal(manifest_sign(m, tx_sk, exact, (size_t)n), n);
		assert_memory_equal(exact, buf, (size_t)n); /* Ed25519 is deterministic */
		assert_int_equal(manifest_sign(m, tx_sk, exact, (size_t)n - 1), -EINVAL);
		assert_int_equal(manifest_sign(m, tx_sk, exact, 0), -EINVAL);
		free(exact);
		free(d);
		free(m);
	}
	free(buf);
}

/* The layout of manifest.h, and our encoder agrees with manifest_sign byte for byte. */
static void test_layout(void **state)
{
	struct raw r = raw_ok();
	uint8_t ours[MANIFEST_MAX_LEN], theirs[MANIFEST_MAX_LEN];
	size_t n = raw_sign(&r, tx_sk, ours);
	struct manifest m = {0};
	m.symbol_size = r.symbol_size;
	m.block_max = r.block_max;
	m.session = r.session;
	m.object_id = r.object_id;
	m.size = r.size;
	m.mtime_ns = r.mtime_ns;
	memcpy(m.hash, r.hash, 32);
	memcpy(m.spool, r.spool, r.spool_len);
	memcpy(m.path, r.path, r.path_len);
	m.chain_seq = r.chain_seq;
	m.prev_session = r.prev_session;
	m.prev_object = r.prev_object;
	memcpy(m.prev_hash, r.prev_hash, 32);
	int tn = manifest_sign(&m, tx_sk, theirs, sizeof(theirs));
	assert_int_equal(tn, (int)n);
	assert_memory_equal(ours, theirs, n);
	assert_int_equal(theirs[0], 2);
	assert_int_equal(theirs[1], 0);
	assert_int_equal(theirs[2] | theirs[3] << 8, 1400);
	assert_int_equal(theirs[4], 128);
	assert_int_equal(theirs[5], 6);
	assert_int_equal(theirs[6] | theirs[7] << 8, 11);
	assert_int_equal(le64_read(theirs + 8), r.session);
	assert_int_equal(le64_read(theirs + 16), r.object_id);
	assert_int_equal(le64_read(theirs + 24), r.size);
	assert_int_equal(le64_read(theirs + 32), r.mtime_ns);
	assert_memory_equal(theirs + 40, r.hash, 32);
	assert_int_equal(le64_read(theirs + 72), 7);
	assert_int_equal(le64_read(theirs + 80), r.prev_session);
	assert_int_equal(le64_read(theirs + 88), 41);
	assert_memory_equal(theirs + 96, r.prev_hash, 32);
	assert_memory_equal(theirs + 128, "camera", 6);
	assert_memory_equal(theirs + 134, "dir/file.ts", 11);
	assert_int_equal(crypto_sign_verify_detached(theirs + 145, theirs, 145, tx_pk), 0);
	/* manifest_chain_hash is SHA-256 of all the signed bytes */
	uint8_t h[32], want[32];
	manifest_chain_hash(theirs, n, h);
	crypto_hash_sha256(want, theirs, n);
	assert_memory_equal(h, want, 32);
}

static void test_wrong_key(void **state)
{
	struct manifest *m = manifest_make(5, 20);
	uint8_t buf[MANIFEST_MAX_LEN];
	int n = manifest_sign(m, tx_sk, buf, sizeof(buf));
	assert_true(n > 0);
	struct manifest d;
	assert_int_equal(manifest_verify(buf, (size_t)n, other_pk, &d), -EPERM);
	assert_int_equal(manifest_verify(buf, (size_t)n, tx_pk, &d), 0);
	/* Signed by another key, verified with ours. */
	n = manifest_sign(m, other_sk, buf, sizeof(buf));
	assert_int_equal(manifest_verify(buf, (size_t)n, tx_pk, &d), -EPERM);
	uint8_t zero_pk[32] = {0};
	assert_int_not_equal(manifest_verify(buf, (size_t)n, zero_pk, &d), 0);
	free(m);
}

static void test_bit_flips(void **state)
{
	struct manifest *m = manifest_make(7, 33);
	uint8_t buf[MANIFEST_MAX_LEN];
	int n = manifest_sign(m, tx_sk, buf, sizeof(buf));
	assert_true(n > 0);
	unsigned perm = 0, bad = 0;
	for (size_t bit = 0; bit < (size_t)n * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		struct manifest d;
		int rc = manifest_verify(buf, (size_t)n, tx_pk, &d);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rc == 0)
			fail_msg("bit %zu (byte %zu) flipped: still verifies", bit, bit / 8);
		assert_true(rc == -EPERM || rc == -EBADMSG || (bit / 8 == 0 && rc == -EPROTONOSUPPORT));
		perm += rc == -EPERM;
		bad += rc == -EBADMSG;
	}
	/* both kinds of refusal were seen: a length flip is malformed, a hash flip is forged */
	assert_true(perm > 0 && bad > 0);
	struct manifest d;
	assert_int_equal(manifest_verify(buf, (size_t)n, tx_pk, &d), 0);
	free(m);
}

static void test_truncated_overlong(void **state)
{
	struct manifest *m = manifest_make(9, 50);
	uint8_t buf[MANIFEST_MAX_LEN + 1];
	int n = manifest_sign(m, tx_sk, buf, sizeof(buf));
	assert_true(n > 0);
	uint8_t *end = malloc((size_t)n);
	for (size_t len = 0; len < (size_t)n; len++) {
		uint8_t *q = end + ((size_t)n - len); /* at the very end of the allocation */
		memmove(q, buf, len);
		struct manifest d;
		int rc = manifest_verify(q, len, tx_pk, &d);
		if (rc != -EBADMSG)
			fail_msg("truncated to %zu of %d: got %d", len, n, rc);
	}
	free(end);
	struct manifest d;
	buf[n] = 0;
	assert_int_equal(manifest_verify(buf, (size_t)n + 1, tx_pk, &d), -EBADMSG);
	/* trailing bytes even when the signature covers them */
	struct raw r = raw_ok();
	uint8_t raw[MANIFEST_MAX_LEN + 64];
	size_t rn = raw_sign(&r, tx_sk, raw);
	assert_int_equal(manifest_verify(raw, rn, tx_pk, &d), 0);
	memmove(raw + rn - 64 + 1, raw + rn - 64, 64);
	raw[rn - 64] = 'x';
	crypto_sign_detached(raw + rn - 64 + 1, NULL, raw, rn - 64 + 1, tx_sk);
	assert_int_equal(manifest_verify(raw, rn + 1, tx_pk, &d), -EBADMSG);
	free(m);
}

static void test_sign_limits(void **state)
{
	uint8_t *buf = malloc(MANIFEST_MAX_LEN);
	struct manifest *m = manifest_make(1, 1);
	m->spool[0] = '\0';
	assert_int_equal(manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN), -EINVAL);
	rnd_name(m->spool, 1);
	m->path[0] = '\0';
	assert_int_equal(manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN), -EINVAL);
	rnd_name(m->path, 1);
	m->chain_seq = 0;
	assert_int_equal(manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN), -EINVAL);
	m->chain_seq = 1; /* the first of a chain names no previous manifest */
	assert_int_equal(manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN), -EINVAL);
	m->prev_session = m->prev_object = 0;
	assert_int_equal(manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN), -EINVAL);
	memset(m->prev_hash, 0, HASH_LEN);
	assert_true(manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN) > 0);
	rnd_name(m->path, MANIFEST_PATH_MAX);
	rnd_name(m->spool, MANIFEST_SPOOL_MAX);
	int n = manifest_sign(m, tx_sk, buf, MANIFEST_MAX_LEN);
	assert_int_equal(n, MANIFEST_MAX_LEN);
	free(m);
	free(buf);
}

/* Fields manifest_sign never writes, under a valid signature: verify still refuses. */
static void test_verify_fields(void **state)
{
	uint8_t *path = malloc(MANIFEST_PATH_MAX + 1), *spool = malloc(256);
	memset(path, 'p', MANIFEST_PATH_MAX + 1);
	memset(spool, 's', 256);
	struct {
		const char *what;
		uint8_t version, flags;
		uint16_t symbol_size;
		uint8_t block_max, spool_len;
		uint16_t path_len;
		int nul_at; /* -1: none; else index in spool || path where a NUL goes */
		int want;
	} cases[] = {
		{"valid", 2, 0, 1400, 128, 6, 11, -1, 0},
		{"version 0", 0, 0, 1400, 128, 6, 11, -1, -EPROTONOSUPPORT},
		{"version 1", 1, 0, 1400, 128, 6, 11, -1, -EPROTONOSUPPORT},
		{"version 3", 3, 0, 1400, 128, 6, 11, -1, -EPROTONOSUPPORT},
		{"flags 1", 2, 1, 1400, 128, 6, 11, -1, -EBADMSG},
		{"flags 0x80", 2, 0x80, 1400, 128, 6, 11, -1, -EBADMSG},
		{"symbol size 0", 2, 0, 0, 128, 6, 11, -1, -EBADMSG},
		{"block max 0", 2, 0, 1400, 0, 6, 11, -1, -EBADMSG},
		{"spool length 0", 2, 0, 1400, 128, 0, 11, -1, -EBADMSG},
		{"spool length 64", 2, 0, 1400, 128, 64, 11, -1, -EBADMSG},
		{"spool length 255", 2, 0, 1400, 128, 255, 11, -1, -EBADMSG},
		{"spool length 63", 2, 0, 1400, 128, 63, 11, -1, 0},
		{"path length 0", 2, 0, 1400, 128, 6, 0, -1, -EBADMSG},
		{"path length 4096", 2, 0, 1400, 128, 6, 4096, -1, -EBADMSG},
		{"path length 4095", 2, 0, 1400, 128, 6, 4095, -1, 0},
		{"NUL first in spool", 2, 0, 1400, 128, 6, 11, 0, -EBADMSG},
		{"NUL inside spool", 2, 0, 1400, 128, 6, 11, 3, -EBADMSG},
		{"NUL last in spool", 2, 0, 1400, 128, 6, 11, 5, -EBADMSG},
		{"NUL first in path", 2, 0, 1400, 128, 6, 11, 6, -EBADMSG},
		{"NUL inside path", 2, 0, 1400, 128, 6, 11, 10, -EBADMSG},
		{"NUL last in path", 2, 0, 1400, 128, 6, 11, 16, -EBADMSG},
	};
	uint8_t *out = malloc(MANIFEST_FIXED_LEN + 255 + 65535 + 64);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct raw r = raw_ok();
		r.version = cases[i].version;
		r.flags = cases[i].flags;
		r.symbol_size = cases[i].symbol_size;
		r.block_max = cases[i].block_max;
		r.spool_len = cases[i].spool_len;
		r.path_len = cases[i].path_len;
		memset(spool, 's', 256);
		memset(path, 'p', MANIFEST_PATH_MAX + 1);
		if (cases[i].nul_at >= 0) {
			if (cases[i].nul_at < r.spool_len)
				spool[cases[i].nul_at] = 0;
			else
				path[cases[i].nul_at - r.spool_len] = 0;
		}
		r.spool = spool;
		r.path = path;
		size_t n = raw_sign(&r, tx_sk, out);
		struct manifest *d = calloc(1, sizeof(*d));
		int rc = manifest_verify(out, n, tx_pk, d);
		if (rc != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].what, rc, cases[i].want);
		if (rc == 0) {
			assert_int_equal(strlen(d->spool), r.spool_len);
			assert_int_equal(strlen(d->path), r.path_len);
		}
		free(d);
	}
	free(out);
	free(path);
	free(spool);
}

/* The chain fields: under the signature, and checked for sense under a valid one. */
static void test_chain_fields(void **state)
{
	uint8_t out[MANIFEST_MAX_LEN];
	struct manifest d;
	struct raw r = raw_ok();
	size_t n = raw_sign(&r, tx_sk, out);
	assert_int_equal(manifest_verify(out, n, tx_pk, &d), 0);
	assert_int_equal(d.chain_seq, 7);
	assert_int_equal(d.prev_session, r.prev_session);
	assert_int_equal(d.prev_object, 41);
	assert_memory_equal(d.prev_hash, r.prev_hash, 32);
	/* Each chain field altered after signing: the signature fails. */
	static const struct {
		const char *what;
		size_t at;
	} fields[] = {{"chain seq", 72}, {"chain seq high byte", 79}, {"previous session", 80},
		      {"previous object", 88}, {"previous hash first", 96}, {"previous hash last", 127}};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		out[fields[i].at] ^= 0x01;
		int rc = manifest_verify(out, n, tx_pk, &d);
		out[fields[i].at] ^= 0x01;
		if (rc != -EPERM)
			fail_msg("%s altered: got %d, want -EPERM", fields[i].what, rc);
	}
	/* Signed, but senseless. */
	r.chain_seq = 0;
	n = raw_sign(&r, tx_sk, out);
	assert_int_equal(manifest_verify(out, n, tx_pk, &d), -EBADMSG);
	r.chain_seq = 1; /* the first names a predecessor */
	n = raw_sign(&r, tx_sk, out);
	assert_int_equal(manifest_verify(out, n, tx_pk, &d), -EBADMSG);
	r.prev_session = r.prev_object = 0;
	n = raw_sign(&r, tx_sk, out);
	assert_int_equal(manifest_verify(out, n, tx_pk, &d), -EBADMSG); /* hash still set */
	memset(r.prev_hash, 0, 32);
	n = raw_sign(&r, tx_sk, out);
	assert_int_equal(manifest_verify(out, n, tx_pk, &d), 0);
	assert_int_equal(d.chain_seq, 1);
	/* A version 1 manifest (an older sender): refused as such, not as malformed. */
	uint8_t v1[72 + 6 + 11 + 64] = {1, 0, 0x78, 0x05, 128, 6, 11, 0};
	memcpy(v1 + 72, "cameradir/file.ts", 17);
	crypto_sign_detached(v1 + 89, NULL, v1, 89, tx_sk);
	assert_int_equal(manifest_verify(v1, sizeof(v1), tx_pk, &d), -EPROTONOSUPPORT);
}

/* ---- hash ---- */

static void ref_leaf(uint32_t b, const uint8_t *data, size_t len, uint8_t out[32])
{
	crypto_hash_sha256_state st;
	uint8_t pre[5] = {0x00, (uint8_t)b, (uint8_t)(b >> 8), (uint8_t)(b >> 16), (uint8_t)(b >> 24)};
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, pre, 5);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

static void ref_root(uint64_t length, const uint8_t *leaves, uint32_t n, uint8_t out[32])
{
	uint8_t *buf = malloc(9 + (size_t)n * 32);
	buf[0] = 0x01;
	le64_write(buf + 1, length);
	memcpy(buf + 9, leaves, (size_t)n * 32);
	crypto_hash_sha256(out, buf, 9 + (size_t)n * 32);
	free(buf);
}

static void test_hash_known(void **state)
{
	/* SHA-256 of the 5 bytes 00 00 00 00 00: hash_leaf(0, empty), fixed for all time. */
	static const char leaf0_hex[] =
		"8855508aade16ec573d21e6a485dfd0a7624085c1a14b5ecdd6485de0c6839a4";
	uint8_t h[32];
	char hex[65];
	hash_leaf(0, NULL, 0, h);
	hash_hex(h, hex);
	assert_string_equal(hex, leaf0_hex);

	static const struct {
		uint32_t block;
		size_t len;
	} leaves[] = {{0, 0}, {0, 1}, {1, 3}, {2, 55}, {3, 56}, {4, 64}, {0x01020304u, 1000},
		      {UINT32_MAX, 65536}, {7, 1 << 20}};
	uint8_t *data = malloc(1 << 20);
	rnd_bytes(data, 1 << 20);
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		uint8_t got[32], want[32];
		hash_leaf(leaves[i].block, data, leaves[i].len, got);
		ref_leaf(leaves[i].block, data, leaves[i].len, want);
		assert_memory_equal(got, want, 32);
		/* the block number is bound in */
		hash_leaf(leaves[i].block ^ 1, data, leaves[i].len, want);
		assert_memory_not_equal(got, want, 32);
	}
	static const struct {
		uint64_t length;
		uint32_t n;
	} roots[] = {{0, 0}, {0, 1}, {1, 1}, {1000, 3}, {UINT64_MAX, 2}, {1ull << 40, 17}};
	uint8_t leafbuf[17 * 32];
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		rnd_bytes(leafbuf, sizeof(leafbuf));
		uint8_t got[32], want[32];
		hash_root(roots[i].length, leafbuf, roots[i].n, got);
		ref_root(roots[i].length, leafbuf, roots[i].n, want);
		assert_memory_equal(got, want, 32);
		hash_root(roots[i].length + 1, leafbuf, roots[i].n, want);
		assert_memory_not_equal(got, want, 32);
	}
	/* A leaf and a root over the same bytes differ (domain separation by the first byte). */
	uint8_t a[32], b[32];
	memset(leafbuf, 0, 64);
	hash_leaf(0, leafbuf, 4, a);
	hash_root(0, leafbuf, 0, b);
	assert_memory_not_equal(a, b, 32);

	/* hash_hex: lower-case hex, NUL-terminated, same as libsodium's. */
	char want_hex[65];
	rnd_bytes(h, 32);
	hash_hex(h, hex);
	sodium_bin2hex(want_hex, sizeof(want_hex), h, 32);
	assert_string_equal(hex, want_hex);
	free(data);
}

/* The per-thread digest contexts give the same answers from several threads at once. */
struct hash_job {
	uint64_t seed;
	int bad;
};

static void *hash_thread(void *arg)
{
	struct hash_job *j = arg;
	uint8_t buf[3000];
	uint64_t s = j->seed;
	for (int n = 0; n < 500; n++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			buf[i] = (uint8_t)(s >> 56);
		}
		size_t len = (size_t)(s % sizeof(buf));
		uint8_t got[32], want[32];
		hash_leaf((uint32_t)n, buf, len, got);
		ref_leaf((uint32_t)n, buf, len, want);
		if (memcmp(got, want, 32) != 0)
			j->bad++;
	}
	return NULL;
}

static void test_hash_threads(void **state)
{
	pthread_t t[4];
	struct hash_job jobs[4];
	for (int i = 0; i < 4; i++) {
		jobs[i].seed = rnd();
		jobs[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, hash_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].bad, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_chain_fields),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_truncated_overlong),
		cmocka_unit_test(test_sign_limits),
		cmocka_unit_test(test_verify_fields),
		cmocka_unit_test(test_hash_known),
		cmocka_unit_test(test_hash_threads),
	};
	return cmocka_run_group_tests(tests, seed_setup, NULL);
}
