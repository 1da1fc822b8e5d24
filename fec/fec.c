/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Erasure codec on Intel ISA-L: the generator is gf_gen_cauchy1_matrix's, ec_init_tables and
 * ec_encode_data do the byte work, and the encoding tables are cached per (K, M).
 *
 * Decoding pays only for what was lost. With y_1..y_e the missing source symbols, x_1..x_e
 * the generator rows of e received repair symbols r, and z the received source symbols s_z:
 *
 *   r = S s_y + C_z s_z, S = [1 / (x_a + y_b)]  (e x e, a Cauchy matrix, so invertible)
 *   s_y = S^-1 r + S^-1 C_z s_z                 (over GF(2^8), + is XOR: no signs)
 *
 * so one e x K matrix D = [S^-1 C_z | S^-1] over the inputs [received sources | repair rows]
 * rebuilds every missing symbol in one ec_encode_data call: e * K multiply-adds per byte.
 *
 * D is not computed by inverting S (gf_invert_matrix is O(e^3) scalar gf_mul calls, 125 us
 * for e = 32, longer than the byte work of a 1408-byte block) nor by multiplying S^-1 C_z
 * (O(e^2 K), 550 us). A Cauchy matrix has a closed-form inverse: by partial fractions, for any
 * input point w (a received source z or a chosen repair row x_a), the coefficient of that
 * input in missing symbol y_b is
 *
 *   D[b][w] = phi(w) * beta(b) / (y_b + w)
 *   phi(w)  = prod_b' (w + y_b')   / prod_{a : x_a != w} (w + x_a)
 *   beta(b) = prod_a  (y_b + x_a)  / prod_{b' != b} (y_b + y_b')
 *
 * and every factor is non-zero because the points are distinct (sources < K <= repair rows).
 * In the log domain that is O(e K) table look-ups in all; nothing is allocated.
 */
#include "fec/fec.h"

#include <errno.h>
#include <isa-l/erasure_code.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 64
/* A decode rebuilds e <= min(K, M) symbols with K + M <= 255: e <= 127 and e * K <= 127 * 128. */
#define DEC_MAX_E (FEC_MAX_SYMBOLS / 2)
#define DEC_MAX_KE (DEC_MAX_E * (FEC_MAX_SYMBOLS - DEC_MAX_E))

struct table {
	struct table *next;
	unsigned k, m;
	uint8_t g[]; /* ec_init_tables: 32 * k * m */
};

struct fec_codec {
	struct table *buckets[BUCKETS];
	/* GF(2^8), polynomial 0x11d, generator 2: gexp[i] = 2^(i mod 255) up to the largest sum
	 * of three reduced logs. */
	uint8_t glog[256];
	uint8_t gexp[3 * 255];
	uint8_t lbeta[DEC_MAX_E];     /* log beta(b) */
	uint8_t d[DEC_MAX_KE];        /* e x K decode matrix */
	uint8_t dtab[32 * DEC_MAX_KE]; /* its ec_init_tables */
};

struct fec_codec *fec_codec_new(void)
{
	struct fec_codec *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	unsigned x = 1;
	for (unsigned i = 0; i < sizeof(c->gexp); i++) {
		if (i < 255)
			c->glog[x] = (uint8_t)i;
		c->gexp[i] = (uint8_t)x; /* 2 has order 255: this is 2^(i mod 255) */
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
	return c;
}

void fec_codec_free(struct fec_codec *c)
{
	if (!c)
		return;
	for (int i = 0; i < BUCKETS; i++) {
		while (c->buckets[i]) {
			struct table *t = c->buckets[i];
			c->buckets[i] = t->next;
			free(t);
		}
	}
	free(c);
}

/* m is compared apart from k so that k + m cannot wrap. */
static bool valid(const struct fec_codec *c, unsigned k, unsigned m, size_t len)
{
	return c && k >= 1 && k <= FEC_MAX_SYMBOLS && m <= FEC_MAX_SYMBOLS - k && len >= 1 &&
	       len <= INT_MAX;
}

static const uint8_t *enc_tables(struct fec_codec *c, unsigned k, unsigned m)
{
	unsigned b = (k * 31 + m) % BUCKETS;
	for (struct table *t = c->buckets[b]; t; t = t->next)
		if (t->k == k && t->m == m)
			return t->g;
	struct table *t = malloc(sizeof(*t) + 32u * k * m);
	uint8_t *a = malloc((size_t)(k + m) * k);
	if (!t || !a) {
		free(t);
		free(a);
		return NULL;
	}
	gf_gen_cauchy1_matrix(a, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, a + (size_t)k * k, t->g);
	free(a);
	t->k = k;
	t->m = m;
	t->next = c->buckets[b];
	c->buckets[b] = t;
	return t->g;
}

int fec_encode(struct fec_codec *c, unsigned k, unsigned m, size_t len, uint8_t *const *src,
	       uint8_t *const *repair)
{
	if (!valid(c, k, m, len) || !src || (m && !repair))
		return -EINVAL;
	if (m == 0)
		return 0;
	const uint8_t *g = enc_tables(c, k, m);
	if (!g)
		return -ENOMEM;
	ec_encode_data((int)len, (int)k, (int)m, (uint8_t *)g, (uint8_t **)src, (uint8_t **)repair);
	return 0;
}

/* log(1 / v) for v != 0, in 1..255 so that sums of logs never go negative. */
static unsigned nlog(const struct fec_codec *c, unsigned v) { return 255u - c->glog[v]; }

int fec_decode(struct fec_codec *c, unsigned k, unsigned m, size_t len, uint8_t *const *sym,
	       const bool *present)
{
	if (!valid(c, k, m, len) || !sym || !present)
		return -EINVAL;
	unsigned y[FEC_MAX_SYMBOLS], w[FEC_MAX_SYMBOLS];
	unsigned e = 0, nr = 0;
	for (unsigned i = 0; i < k; i++) {
		if (present[i])
			w[nr++] = i;
		else
			y[e++] = i;
	}
	if (e == 0)
		return 0;
	/* the inputs: received sources w[0..nr-1], then the first e received repair rows */
	unsigned nx = 0;
	for (unsigned j = 0; j < m && nx < e; j++)
		if (present[k + j])
			w[nr + nx++] = k + j;
	if (nx < e)
		return -ENOSPC;
	const unsigned *x = w + nr;

	for (unsigned b = 0; b < e; b++) {
		unsigned l = 0;
		for (unsigned a = 0; a < e; a++)
			l += c->glog[y[b] ^ x[a]];
		for (unsigned b2 = 0; b2 < e; b2++)
			if (b2 != b)
				l += nlog(c, y[b] ^ y[b2]);
		c->lbeta[b] = (uint8_t)(l % 255);
	}
	for (unsigned col = 0; col < k; col++) {
		unsigned v = w[col], l = 0;
		for (unsigned b = 0; b < e; b++)
			l += c->glog[v ^ y[b]];
		for (unsigned a = 0; a < e; a++)
			if (x[a] != v)
				l += nlog(c, v ^ x[a]);
		unsigned lphi = l % 255;
		for (unsigned b = 0; b < e; b++)
			c->d[b * k + col] = c->gexp[lphi + c->lbeta[b] + nlog(c, y[b] ^ v)];
	}

	uint8_t *in[FEC_MAX_SYMBOLS], *out[FEC_MAX_SYMBOLS];
	for (unsigned col = 0; col < k; col++)
		in[col] = sym[w[col]];
	for (unsigned b = 0; b < e; b++)
		out[b] = sym[y[b]];
	ec_init_tables((int)k, (int)e, c->d, c->dtab);
	ec_encode_data((int)len, (int)k, (int)e, c->dtab, in, out);
	return 0;
}
