/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Erasure codec on Intel ISA-L. Encoding tables are cached per (K, M); decoding builds, for
 * the e missing source symbols, an e x e inverse of the Cauchy sub-matrix of the repair rows
 * used, and one e x K decode matrix over [received sources | repair rows]:
 *
 *   y = C_m x_m + C_r x_r   (repair rows: missing and received source columns)
 *   x_m = S^-1 y + S^-1 C_r x_r,   S = C_m (e x e, invertible: every square sub-matrix of a
 *                                   Cauchy matrix is)
 *
 * so the work is O(e^3 + e^2 K) for the matrix and e * K multiply-adds per byte.
 */
#include "fec/fec.h"

#include <errno.h>
#include <isa-l/erasure_code.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 64

struct table {
	struct table *next;
	unsigned k, m;
	uint8_t *g; /* 32 * k * m */
};

struct fec_codec {
	struct table *buckets[BUCKETS];
	uint8_t *s;    /* e x e sub-matrix, scratch */
	uint8_t *inv;  /* e x e inverse */
	uint8_t *d;    /* e x k decode matrix */
	uint8_t *dtab; /* 32 * k * e decode tables */
};

/* Element of the generator's repair part: row r (>= k), column c (< k). */
static uint8_t cauchy(unsigned r, unsigned c) { return gf_inv((uint8_t)(r ^ c)); }

struct fec_codec *fec_codec_new(void)
{
	struct fec_codec *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->s = malloc(FEC_MAX_SYMBOLS * FEC_MAX_SYMBOLS);
	c->inv = malloc(FEC_MAX_SYMBOLS * FEC_MAX_SYMBOLS);
	c->d = malloc(FEC_MAX_SYMBOLS * FEC_MAX_SYMBOLS);
	c->dtab = malloc(32u * FEC_MAX_SYMBOLS * FEC_MAX_SYMBOLS);
	if (!c->s || !c->inv || !c->d || !c->dtab) {
		fec_codec_free(c);
		return NULL;
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
			free(t->g);
			free(t);
		}
	}
	free(c->s);
	free(c->inv);
	free(c->d);
	free(c->dtab);
	free(c);
}

static bool valid(unsigned k, unsigned m, size_t len)
{
	return k >= 1 && k + m <= FEC_MAX_SYMBOLS && len >= 1 && len <= INT32_MAX;
}

static const uint8_t *enc_tables(struct fec_codec *c, unsigned k, unsigned m)
{
	unsigned b = (k * 31 + m) % BUCKETS;
	for (struct table *t = c->buckets[b]; t; t = t->next)
		if (t->k == k && t->m == m)
			return t->g;
	struct table *t = calloc(1, sizeof(*t));
	uint8_t *a = malloc((size_t)(k + m) * k);
	if (t)
		t->g = malloc(32u * k * m);
	if (!t || !a || !t->g) {
		if (t)
			free(t->g);
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
	if (!valid(k, m, len))
		return -EINVAL;
	if (m == 0)
		return 0;
	const uint8_t *g = enc_tables(c, k, m);
	if (!g)
		return -ENOMEM;
	ec_encode_data((int)len, (int)k, (int)m, (uint8_t *)g, (uint8_t **)src, (uint8_t **)repair);
	return 0;
}

int fec_decode(struct fec_codec *c, unsigned k, unsigned m, size_t len, uint8_t *const *sym,
	       const bool *present)
{
	if (!valid(k, m, len))
		return -EINVAL;
	unsigned miss[FEC_MAX_SYMBOLS], recv[FEC_MAX_SYMBOLS], rows[FEC_MAX_SYMBOLS];
	unsigned e = 0, nr = 0, nrep = 0;
	for (unsigned i = 0; i < k; i++) {
		if (present[i])
			recv[nr++] = i;
		else
			miss[e++] = i;
	}
	if (e == 0)
		return 0;
	for (unsigned j = 0; j < m && nrep < e; j++)
		if (present[k + j])
			rows[nrep++] = k + j;
	if (nrep < e)
		return -ENOSPC;
	/* S = C[rows][miss], inverted. */
	for (unsigned a = 0; a < e; a++)
		for (unsigned b = 0; b < e; b++)
			c->s[a * e + b] = cauchy(rows[a], miss[b]);
	if (gf_invert_matrix(c->s, c->inv, (int)e) != 0)
		return -EIO;
	/* D = [S^-1 C[rows][recv] | S^-1] over inputs [received sources | repair rows]. */
	for (unsigned a = 0; a < e; a++) {
		for (unsigned t = 0; t < nr; t++) {
			uint8_t v = 0;
			for (unsigned b = 0; b < e; b++)
				v ^= gf_mul(c->inv[a * e + b], cauchy(rows[b], recv[t]));
			c->d[a * k + t] = v;
		}
		for (unsigned t = 0; t < e; t++)
			c->d[a * k + nr + t] = c->inv[a * e + t];
	}
	uint8_t *in[FEC_MAX_SYMBOLS], *out[FEC_MAX_SYMBOLS];
	for (unsigned t = 0; t < nr; t++)
		in[t] = sym[recv[t]];
	for (unsigned t = 0; t < e; t++) {
		in[nr + t] = sym[rows[t]];
		out[t] = sym[miss[t]];
	}
	ec_init_tables((int)k, (int)e, c->d, c->dtab);
	ec_encode_data((int)len, (int)k, (int)e, c->dtab, in, out);
	return 0;
}
