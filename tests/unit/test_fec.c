/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fec/: the ISA-L codec against a plain reference written here (log/exp tables for GF(2^8)
 * with polynomial 0x11d and generator 2, the Cauchy matrix C[j][i] = 1 / ((K + j) ^ i)),
 * byte for byte on encoding; decoding with seeded random erasures checked against the original
 * source symbols, for many (K, M) pairs from K = 1 and M = 0 up to K + M = 255, odd lengths,
 * exactly K survivors, the worst case (every erasure a source symbol) and one survivor too few.
 * Every symbol buffer ends exactly at a PROT_NONE guard page, so an overrun faults even inside
 * ISA-L's assembly, which ASan does not instrument. Then the RFC 5052 partition and the repair
 * count at their edges. FEC_SEED=N (or SLUICE_TEST_SEED=N) repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fec/fec.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n) { return (unsigned)(rnd() % n); }

/* ---- reference GF(2^8): polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator 2 ---- */

static uint8_t gexp[510], glog[256];

static void gf_ref_init(void)
{
	unsigned x = 1;
	for (unsigned i = 0; i < 255; i++) {
		gexp[i] = gexp[i + 255] = (uint8_t)x;
		glog[x] = (uint8_t)i;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
}

static uint8_t gmul(uint8_t a, uint8_t b)
{
	return a && b ? gexp[glog[a] + glog[b]] : 0;
}

static uint8_t ginv(uint8_t a)
{
	assert_true(a != 0);
	return gexp[255 - glog[a]];
}

static uint8_t ref_cauchy(unsigned k, unsigned j, unsigned i)
{
	return ginv((uint8_t)((k + j) ^ i));
}

static void ref_encode(unsigned k, unsigned m, size_t len, uint8_t *const *src, uint8_t *const *rep)
{
	for (unsigned j = 0; j < m; j++) {
		memset(rep[j], 0, len);
		for (unsigned i = 0; i < k; i++) {
			uint8_t c = ref_cauchy(k, j, i);
			for (size_t b = 0; b < len; b++)
				rep[j][b] ^= gmul(c, src[i][b]);
		}
	}
}

/* ---- buffers that end at a guard page ---- */

static size_t page;

static uint8_t *guarded(size_t len)
{
	size_t span = (len + page - 1) / page * page;
	uint8_t *p = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + span, page, PROT_NONE), 0);
	return p + span - len;
}

static void guarded_free(uint8_t *p, size_t len)
{
	size_t span = (len + page - 1) / page * page;
	assert_int_equal(munmap(p + len - span, span + page), 0);
}

static void fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* A block: the original symbols (reference-encoded) and working copies. */
struct block {
	unsigned k, m;
	size_t len;
	uint8_t *orig[FEC_MAX_SYMBOLS];
	uint8_t *sym[FEC_MAX_SYMBOLS];
};

static struct block *block_new(unsigned k, unsigned m, size_t len)
{
	struct block *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	b->k = k;
	b->m = m;
	b->len = len;
	for (unsigned i = 0; i < k + m; i++) {
		b->orig[i] = malloc(len);
		assert_non_null(b->orig[i]);
		b->sym[i] = guarded(len);
		if (i < k)
			fill(b->orig[i], len);
	}
	ref_encode(k, m, len, b->orig, b->orig + k);
	return b;
}

static void block_free(struct block *b)
{
	for (unsigned i = 0; i < b->k + b->m; i++) {
		free(b->orig[i]);
		guarded_free(b->sym[i], b->len);
	}
	free(b);
}

static void check_encode(struct fec_codec *c, struct block *b)
{
	for (unsigned i = 0; i < b->k + b->m; i++) {
		if (i < b->k)
			memcpy(b->sym[i], b->orig[i], b->len);
		else
			memset(b->sym[i], 0xa5, b->len);
	}
	assert_int_equal(fec_encode(c, b->k, b->m, b->len, b->sym, b->sym + b->k), 0);
	for (unsigned i = 0; i < b->k + b->m; i++)
		if (memcmp(b->sym[i], b->orig[i], b->len) != 0)
			fail_msg("k=%u m=%u len=%zu: symbol %u differs from the reference", b->k, b->m,
				 b->len, i);
}

/*
 * Decode with present[]; missing sources start as garbage, missing repair symbols are NULL
 * (decoding must not touch them). On success every source symbol must equal the original and
 * no received symbol may have changed.
 */
static int try_decode(struct fec_codec *c, struct block *b, const bool *present)
{
	uint8_t *ptr[FEC_MAX_SYMBOLS];
	for (unsigned i = 0; i < b->k + b->m; i++) {
		if (present[i])
			memcpy(b->sym[i], b->orig[i], b->len);
		else if (i < b->k)
			memset(b->sym[i], 0x5a, b->len);
		ptr[i] = present[i] || i < b->k ? b->sym[i] : NULL;
	}
	int rc = fec_decode(c, b->k, b->m, b->len, ptr, present);
	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < b->k + b->m; i++) {
		if ((i < b->k || present[i]) && memcmp(b->sym[i], b->orig[i], b->len) != 0)
			fail_msg("k=%u m=%u len=%zu: symbol %u wrong after decoding (%s)", b->k, b->m,
				 b->len, i, present[i] ? "received" : "rebuilt");
	}
	return 0;
}

/* Lose `lost` symbols chosen at random among all k + m. */
static void lose_random(bool *present, unsigned n, unsigned lost)
{
	unsigned idx[FEC_MAX_SYMBOLS];
	for (unsigned i = 0; i < n; i++) {
		idx[i] = i;
		present[i] = true;
	}
	for (unsigned i = 0; i < lost; i++) {
		unsigned j = i + rnd_below(n - i);
		unsigned t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
		present[idx[i]] = false;
	}
}

/* Exactly k survivors with as many lost source symbols as possible: min(k, m) sources. */
static void lose_worst(bool *present, unsigned k, unsigned m)
{
	unsigned e = k < m ? k : m;
	lose_random(present, k, e);
	for (unsigned j = 0; j < m; j++)
		present[k + j] = true;
	/* the remaining m - e losses fall on repair symbols */
	unsigned more = m - e, idx[FEC_MAX_SYMBOLS];
	for (unsigned j = 0; j < m; j++)
		idx[j] = j;
	for (unsigned i = 0; i < more; i++) {
		unsigned j = i + rnd_below(m - i);
		unsigned t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
		present[k + idx[i]] = false;
	}
}

static unsigned count_present(const bool *present, unsigned n)
{
	unsigned c = 0;
	for (unsigned i = 0; i < n; i++)
		c += present[i];
	return c;
}

static void exercise(struct fec_codec *c, unsigned k, unsigned m, size_t len, unsigned trials)
{
	struct block *b = block_new(k, m, len);
	bool present[FEC_MAX_SYMBOLS];
	unsigned n = k + m;

	check_encode(c, b);

	/* nothing lost */
	lose_random(present, n, 0);
	assert_int_equal(try_decode(c, b, present), 0);
	/* the worst case */
	lose_worst(present, k, m);
	assert_int_equal(count_present(present, n), k);
	assert_int_equal(try_decode(c, b, present), 0);
	/* exactly k survivors, and any number of losses up to m */
	for (unsigned t = 0; t < trials; t++) {
		lose_random(present, n, m);
		assert_int_equal(try_decode(c, b, present), 0);
		lose_random(present, n, rnd_below(m + 1));
		assert_int_equal(try_decode(c, b, present), 0);
	}
	/* one too few */
	lose_random(present, n, m + 1);
	assert_int_equal(try_decode(c, b, present), -ENOSPC);
	block_free(b);
}

static const size_t lens[] = {1, 3, 1407, 1409};

static const struct {
	unsigned k, m;
} pairs[] = {
	{1, 0},   {1, 1},   {1, 2},    {1, 7},   {1, 254}, {2, 0},   {2, 1},    {2, 2},
	{3, 5},   {4, 4},   {5, 2},    {7, 3},   {10, 4},  {16, 16}, {17, 3},   {32, 8},
	{64, 16}, {100, 0}, {100, 25}, {128, 32}, {128, 127}, {223, 32}, {254, 1}, {200, 55},
};

static void test_pairs(void **state)
{
	struct fec_codec *c = fec_codec_new();
	assert_non_null(c);
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			exercise(c, pairs[p].k, pairs[p].m, lens[l], pairs[p].k + pairs[p].m > 100 ? 2 : 6);
	fec_codec_free(c);
}

/* SIMD edges: lengths around 16, 32 and 64 bytes and their multiples. */
static void test_lengths(void **state)
{
	static const size_t more[] = {2,   15,  16,  17,  31,  32,  33,  63,  64,
				      65,  127, 128, 129, 191, 255, 256, 4097};
	struct fec_codec *c = fec_codec_new();
	assert_non_null(c);
	for (size_t l = 0; l < sizeof(more) / sizeof(more[0]); l++) {
		exercise(c, 5, 3, more[l], 4);
		exercise(c, 12, 6, more[l], 4);
	}
	fec_codec_free(c);
}

/* Random (k, m) pairs and lengths through one codec, so its caches see many shapes. */
static void test_random_shapes(void **state)
{
	struct fec_codec *c = fec_codec_new();
	assert_non_null(c);
	for (int t = 0; t < 40; t++) {
		unsigned k = 1 + rnd_below(t % 4 ? 40 : 254);
		unsigned m = rnd_below(FEC_MAX_SYMBOLS - k + 1);
		if (t % 4 && m > 24)
			m = rnd_below(25);
		size_t len = 1 + rnd_below(t % 3 ? 300 : 3000);
		exercise(c, k, m, len, 3);
	}
	fec_codec_free(c);
}

/* Alternating shapes through one codec, and two codecs, agree with the reference. */
static void test_cache(void **state)
{
	struct fec_codec *a = fec_codec_new(), *b = fec_codec_new();
	assert_non_null(a);
	assert_non_null(b);
	struct block *x = block_new(20, 5, 100), *y = block_new(5, 20, 100), *z = block_new(20, 6, 100);
	for (int i = 0; i < 3; i++) {
		check_encode(a, x);
		check_encode(a, y);
		check_encode(b, z);
		check_encode(a, z);
		check_encode(b, x);
	}
	block_free(x);
	block_free(y);
	block_free(z);
	fec_codec_free(a);
	fec_codec_free(b);
	fec_codec_free(NULL);
}

static void test_bad_args(void **state)
{
	struct fec_codec *c = fec_codec_new();
	assert_non_null(c);
	uint8_t buf[FEC_MAX_SYMBOLS + 1][4];
	uint8_t *p[FEC_MAX_SYMBOLS + 1];
	bool present[FEC_MAX_SYMBOLS + 1];
	for (unsigned i = 0; i <= FEC_MAX_SYMBOLS; i++) {
		p[i] = buf[i];
		present[i] = true;
	}
	assert_int_equal(fec_encode(c, 0, 1, 4, p, p + 1), -EINVAL);
	assert_int_equal(fec_encode(c, 1, 1, 0, p, p + 1), -EINVAL);
	assert_int_equal(fec_encode(c, 200, 56, 4, p, p + 200), -EINVAL);
	assert_int_equal(fec_encode(c, 256, 0, 4, p, p + 1), -EINVAL);
	assert_int_equal(fec_encode(c, 1, UINT32_MAX, 4, p, p + 1), -EINVAL);
	assert_int_equal(fec_encode(c, 1, 1, (size_t)INT32_MAX + 1, p, p + 1), -EINVAL);
	assert_int_equal(fec_encode(NULL, 1, 1, 4, p, p + 1), -EINVAL);
	assert_int_equal(fec_decode(c, 0, 1, 4, p, present), -EINVAL);
	assert_int_equal(fec_decode(c, 1, 1, 0, p, present), -EINVAL);
	assert_int_equal(fec_decode(c, 200, 56, 4, p, present), -EINVAL);
	assert_int_equal(fec_decode(c, 1, 1, (size_t)INT32_MAX + 1, p, present), -EINVAL);
	assert_int_equal(fec_decode(NULL, 1, 1, 4, p, present), -EINVAL);
	assert_int_equal(fec_decode(c, 1, 1, 4, NULL, present), -EINVAL);
	assert_int_equal(fec_decode(c, 1, 1, 4, p, NULL), -EINVAL);
	/* the largest valid shape is accepted */
	assert_int_equal(fec_encode(c, 200, 55, 4, p, p + 200), 0);
	assert_int_equal(fec_decode(c, 200, 55, 4, p, present), 0);
	fec_codec_free(c);
}

/* M = 0: encoding does nothing, decoding succeeds only with every source symbol. */
static void test_no_repair(void **state)
{
	struct fec_codec *c = fec_codec_new();
	assert_non_null(c);
	uint8_t s0[3] = {1, 2, 3}, s1[3] = {4, 5, 6};
	uint8_t *p[2] = {s0, s1};
	bool present[2] = {true, true};
	assert_int_equal(fec_encode(c, 2, 0, 3, p, NULL), 0);
	assert_int_equal(fec_decode(c, 2, 0, 3, p, present), 0);
	assert_int_equal(s0[2], 3);
	assert_int_equal(s1[0], 4);
	present[1] = false;
	assert_int_equal(fec_decode(c, 2, 0, 3, p, present), -ENOSPC);
	fec_codec_free(c);
}

/* K = 1: repair j is the source times 1 / (1 + j); repair 0 is a copy. */
static void test_single_source(void **state)
{
	struct fec_codec *c = fec_codec_new();
	assert_non_null(c);
	struct block *b = block_new(1, 4, 1409);
	check_encode(c, b);
	assert_memory_equal(b->sym[1], b->sym[0], b->len);
	for (unsigned j = 0; j < 4; j++)
		assert_int_equal(b->sym[1 + j][7], gmul(ginv((uint8_t)(1 + j)), b->sym[0][7]));
	bool present[5] = {false, false, false, true, false};
	assert_int_equal(try_decode(c, b, present), 0);
	block_free(b);
	fec_codec_free(c);
}

/* ---- partition ---- */

static uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* Every property of RFC 5052 section 9.1 as fec.h states it, block by block. */
static void check_partition(uint64_t L, uint32_t T, uint32_t B)
{
	struct fec_partition p;
	assert_int_equal(fec_partition_init(&p, L, T, B), 0);
	uint64_t kt = L ? ceil_div(L, T) : 1;
	uint64_t n = ceil_div(kt, B);
	assert_int_equal(p.length, L);
	assert_int_equal(p.symbol_size, T);
	assert_int_equal(p.nsymbols, kt);
	assert_int_equal(p.nblocks, n);
	assert_int_equal(p.k_large, ceil_div(kt, n));
	assert_int_equal(p.k_small, kt / n);
	assert_true(p.k_large <= B);
	assert_true(p.k_small >= 1);
	assert_int_equal(p.n_large, kt % n);
	uint64_t syms = 0, bytes = 0;
	for (uint32_t b = 0; b < p.nblocks; b++) {
		uint32_t k = fec_partition_k(&p, b);
		uint64_t off = fec_partition_offset(&p, b);
		uint32_t len = fec_partition_len(&p, b);
		assert_int_equal(k, b < p.n_large ? p.k_large : p.k_small);
		assert_true(k >= 1 && k <= B);
		assert_true(p.k_large - k <= 1);
		assert_int_equal(off, bytes);
		assert_int_equal(off, syms * T);
		if (b + 1 < p.nblocks) {
			assert_int_equal(len, (uint64_t)k * T);
		} else {
			/* the last block: its last symbol holds at least one byte */
			assert_true(len <= (uint64_t)k * T);
			assert_true(L == 0 || len > (uint64_t)(k - 1) * T);
		}
		syms += k;
		bytes += len;
	}
	assert_int_equal(syms, kt);
	assert_int_equal(bytes, L);
}

static void test_partition_edges(void **state)
{
	static const uint32_t Ts[] = {1, 2, 3, 1408, 8952};
	static const uint32_t Bs[] = {1, 2, 3, 7, 128, 223, 254};
	for (size_t t = 0; t < sizeof(Ts) / sizeof(Ts[0]); t++) {
		for (size_t b = 0; b < sizeof(Bs) / sizeof(Bs[0]); b++) {
			uint64_t T = Ts[t], B = Bs[b];
			const uint64_t Ls[] = {0,         1,         T - 1,         T,
					       T + 1,     2 * T,     B * T - 1,     B * T,
					       B * T + 1, 2 * B * T, 3 * B * T + 1, 5 * B * T - 1,
					       (B + 1) * T, (B * B + 3) * T - 3};
			for (size_t l = 0; l < sizeof(Ls) / sizeof(Ls[0]); l++)
				check_partition(Ls[l], Ts[t], Bs[b]);
		}
	}
}

static void test_partition_values(void **state)
{
	struct fec_partition p;
	/* empty object: one block, K = 1, no bytes */
	assert_int_equal(fec_partition_init(&p, 0, 1408, 128), 0);
	assert_int_equal(p.nblocks, 1);
	assert_int_equal(fec_partition_k(&p, 0), 1);
	assert_int_equal(fec_partition_offset(&p, 0), 0);
	assert_int_equal(fec_partition_len(&p, 0), 0);
	/* 129 symbols, at most 128 per block: 65 + 64 */
	assert_int_equal(fec_partition_init(&p, 129 * 1408 - 5, 1408, 128), 0);
	assert_int_equal(p.nblocks, 2);
	assert_int_equal(fec_partition_k(&p, 0), 65);
	assert_int_equal(fec_partition_k(&p, 1), 64);
	assert_int_equal(fec_partition_offset(&p, 1), 65 * 1408);
	assert_int_equal(fec_partition_len(&p, 1), 64 * 1408 - 5);
	/* exact multiple: 256 symbols, two full blocks of 128 */
	assert_int_equal(fec_partition_init(&p, 256 * 1408, 1408, 128), 0);
	assert_int_equal(p.nblocks, 2);
	assert_int_equal(p.n_large, 0);
	assert_int_equal(fec_partition_k(&p, 0), 128);
	assert_int_equal(fec_partition_len(&p, 1), 128 * 1408);
	/* 4 GiB at T = 1408, B = 128: 3050403 symbols in 23832 blocks */
	uint64_t L = 4ull << 30;
	assert_int_equal(fec_partition_init(&p, L, 1408, 128), 0);
	assert_int_equal(p.nsymbols, 3050403);
	assert_int_equal(p.nblocks, 23832);
	assert_int_equal(p.k_large, 128);
	assert_int_equal(p.k_small, 127);
	check_partition(L, 1408, 128);
	check_partition(L - 1, 1408, 128);
	check_partition(L + 1, 1408, 128);
	check_partition(L, 8952, 64);
}

static void test_partition_random(void **state)
{
	for (int i = 0; i < 2000; i++) {
		uint32_t T = 1 + rnd_below(i % 2 ? 9000 : 16);
		uint32_t B = 1 + rnd_below(254);
		uint64_t L = rnd() % ((uint64_t)T * B * (1 + rnd_below(40)) + 2);
		check_partition(L, T, B);
	}
}

static void test_partition_limits(void **state)
{
	struct fec_partition p;
	assert_int_equal(fec_partition_init(&p, 100, 0, 128), -EINVAL);
	assert_int_equal(fec_partition_init(&p, 100, 1408, 0), -EINVAL);
	assert_int_equal(fec_partition_init(&p, 100, 1408, 255), -EINVAL);
	assert_int_equal(fec_partition_init(&p, 100, 1408, 254), 0);
	/* N = 2^32 - 1 blocks is the most */
	assert_int_equal(fec_partition_init(&p, UINT32_MAX, 1, 1), 0);
	assert_int_equal(p.nblocks, UINT32_MAX);
	assert_int_equal(fec_partition_offset(&p, UINT32_MAX - 1), UINT32_MAX - 1);
	assert_int_equal(fec_partition_len(&p, UINT32_MAX - 1), 1);
	assert_int_equal(fec_partition_init(&p, (uint64_t)UINT32_MAX + 1, 1, 1), -EFBIG);
	assert_int_equal(fec_partition_init(&p, (uint64_t)UINT32_MAX * 254 * 1408, 1408, 254), 0);
	assert_int_equal(p.nblocks, UINT32_MAX);
	uint32_t last = p.nblocks - 1;
	assert_int_equal(fec_partition_offset(&p, last) + fec_partition_len(&p, last), p.length);
	assert_int_equal(fec_partition_init(&p, (uint64_t)UINT32_MAX * 254 * 1408 + 1, 1408, 254), -EFBIG);
	assert_int_equal(fec_partition_init(&p, UINT64_MAX, 1, 254), -EFBIG);
	/* the largest object: 2^32 - 1 blocks of 2^32 - 1 bytes */
	uint64_t big = (uint64_t)UINT32_MAX * UINT32_MAX;
	assert_int_equal(fec_partition_init(&p, big, UINT32_MAX, 1), 0);
	assert_int_equal(p.nblocks, UINT32_MAX);
	last = p.nblocks - 1;
	assert_int_equal(fec_partition_len(&p, 0), UINT32_MAX);
	assert_int_equal(fec_partition_offset(&p, last) + fec_partition_len(&p, last), big);
	assert_int_equal(fec_partition_init(&p, big + 1, UINT32_MAX, 1), -EFBIG);
	assert_int_equal(fec_partition_init(&p, UINT64_MAX, UINT32_MAX, 254), -EFBIG);
	/* a block's length must fit fec_partition_len's uint32_t */
	assert_int_equal(fec_partition_init(&p, UINT32_MAX, 1u << 31, 2), 0);
	assert_int_equal(p.nblocks, 1);
	assert_int_equal(fec_partition_len(&p, 0), UINT32_MAX);
	assert_int_equal(fec_partition_init(&p, 1ull << 32, 1u << 31, 2), -EFBIG);
	assert_int_equal(fec_partition_init(&p, 1ull << 32, 1u << 31, 1), 0);
	assert_int_equal(fec_partition_len(&p, 1), 1u << 31);
	assert_int_equal(fec_partition_init(&p, 3, UINT32_MAX, 254), 0);
	assert_int_equal(fec_partition_len(&p, 0), 3);
}

/* ---- repair count ---- */

static void test_repair_count(void **state)
{
	for (uint32_t k = 0; k <= 300; k++)
		assert_int_equal(fec_repair_count(k, 0), 0);
	assert_int_equal(fec_repair_count(0, 10), 0);
	assert_int_equal(fec_repair_count(255, 10), 0);
	assert_int_equal(fec_repair_count(UINT32_MAX, UINT32_MAX), 0);
	/* the floor of 2 */
	assert_int_equal(fec_repair_count(1, 1), 2);
	assert_int_equal(fec_repair_count(1, 100), 2);
	assert_int_equal(fec_repair_count(20, 5), 2);
	assert_int_equal(fec_repair_count(40, 5), 2);
	/* ceil(k * pct / 100) */
	assert_int_equal(fec_repair_count(1, 300), 3);
	assert_int_equal(fec_repair_count(41, 5), 3);
	assert_int_equal(fec_repair_count(128, 5), 7);
	assert_int_equal(fec_repair_count(128, 25), 32);
	assert_int_equal(fec_repair_count(100, 25), 25);
	assert_int_equal(fec_repair_count(101, 25), 26);
	assert_int_equal(fec_repair_count(200, 100), 55);
	/* the cap k + m <= 255 */
	assert_int_equal(fec_repair_count(254, 5), 1);
	assert_int_equal(fec_repair_count(253, 5), 2);
	assert_int_equal(fec_repair_count(240, 10), 15);
	assert_int_equal(fec_repair_count(1, UINT32_MAX), 254);
	assert_int_equal(fec_repair_count(254, UINT32_MAX), 1);
	for (uint32_t k = 1; k < FEC_MAX_SYMBOLS; k++) {
		for (unsigned pct = 1; pct <= 400; pct += 7) {
			uint32_t m = fec_repair_count(k, pct);
			uint32_t want = (uint32_t)ceil_div((uint64_t)k * pct, 100);
			if (want < 2)
				want = 2;
			if (want > FEC_MAX_SYMBOLS - k)
				want = FEC_MAX_SYMBOLS - k;
			assert_int_equal(m, want);
		}
	}
}

static int setup(void **state)
{
	const char *e = getenv("FEC_SEED");
	if (!e)
		e = getenv("SLUICE_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("test_fec: seed %" PRIu64 " (FEC_SEED=%" PRIu64 " repeats this run)\n", seed, seed);
	fflush(stdout);
	rng_state = seed;
	page = (size_t)sysconf(_SC_PAGESIZE);
	gf_ref_init();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_no_repair),
		cmocka_unit_test(test_single_source),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_random_shapes),
		cmocka_unit_test(test_partition_values),
		cmocka_unit_test(test_partition_edges),
		cmocka_unit_test(test_partition_random),
		cmocka_unit_test(test_partition_limits),
		cmocka_unit_test(test_repair_count),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
