/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Impairment engine. One xoshiro256** generator seeded from the config drives every decision
 * in a fixed order per datagram, so a seed replays a run exactly. Gilbert-Elliott: two states,
 * every datagram lost in the bad state, none in the good; P(bad->good) = 1 / burst_len and
 * P(good->bad) = loss * r / (1 - loss) give a long-run loss of `burst_loss` in bursts of mean
 * length `burst_len`.
 */
#include "hw/impair.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HOLD_MAX 8
#define HISTORY 1024
#define PKT_MAX 65536

struct held {
	uint8_t *data;
	size_t len;
	unsigned release_after; /* datagrams still to pass before this one goes */
};

struct impair {
	struct impair_config c;
	uint64_t s[4];
	bool bad;
	double p_gb, p_bg;
	struct held hold[HOLD_MAX];
	unsigned nhold;
	uint8_t *hist[HISTORY];
	size_t hist_len[HISTORY];
	unsigned hist_n, hist_next;
	uint8_t *tmp;
	struct impair_stats st;
};

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(struct impair *im)
{
	uint64_t *s = im->s;
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static double uniform(struct impair *im) { return (double)(next(im) >> 11) * 0x1.0p-53; }
static bool chance(struct impair *im, double p) { return p > 0 && uniform(im) < p; }

int impair_config_parse(const char *spec, struct impair_config *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	char *copy = strdup(spec ? spec : ""), *save = NULL;
	if (!copy)
		return -ENOMEM;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		char *end;
		double d = strtod(v, &end);
		if (strcmp(k, "burst") == 0) {
			if (*end != ':')
				rc = -EINVAL;
			c->burst_loss = d;
			c->burst_len = strtod(end + 1, &end);
			if (*end || c->burst_len < 1 || d < 0 || d >= 1)
				rc = -EINVAL;
			continue;
		}
		if (strcmp(k, "seed") == 0) {
			c->seed = strtoull(v, &end, 10);
			if (*end)
				rc = -EINVAL;
			continue;
		}
		if (*end || d < 0 || d > 1) {
			rc = -EINVAL;
			break;
		}
		if (strcmp(k, "drop") == 0)
			c->drop = d;
		else if (strcmp(k, "reorder") == 0)
			c->reorder = d;
		else if (strcmp(k, "dup") == 0)
			c->duplicate = d;
		else if (strcmp(k, "corrupt") == 0)
			c->corrupt = d;
		else if (strcmp(k, "replay") == 0)
			c->replay = d;
		else if (strcmp(k, "inject") == 0)
			c->inject = d;
		else
			rc = -EINVAL;
	}
	free(copy);
	return rc;
}

struct impair *impair_new(const struct impair_config *c)
{
	struct impair *im = calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	im->c = *c;
	uint64_t z = c->seed;
	for (int i = 0; i < 4; i++) { /* splitmix64 */
		z += 0x9e3779b97f4a7c15ull;
		uint64_t x = z;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		im->s[i] = x ^ (x >> 31);
	}
	if (c->burst_loss > 0) {
		im->p_bg = 1.0 / c->burst_len;
		im->p_gb = c->burst_loss * im->p_bg / (1.0 - c->burst_loss);
	}
	im->tmp = malloc(PKT_MAX);
	if (!im->tmp) {
		free(im);
		return NULL;
	}
	return im;
}

void impair_free(struct impair *im)
{
	if (!im)
		return;
	for (unsigned i = 0; i < im->nhold; i++)
		free(im->hold[i].data);
	for (unsigned i = 0; i < HISTORY; i++)
		free(im->hist[i]);
	free(im->tmp);
	free(im);
}

static void out(struct impair *im, const uint8_t *p, size_t len, impair_emit_fn emit, void *ctx)
{
	im->st.out++;
	emit(ctx, p, len);
}

static void remember(struct impair *im, const uint8_t *p, size_t len)
{
	if (im->c.replay <= 0 && im->c.inject <= 0)
		return;
	unsigned i = im->hist_next;
	uint8_t *n = realloc(im->hist[i], len ? len : 1);
	if (!n)
		return;
	memcpy(n, p, len);
	im->hist[i] = n;
	im->hist_len[i] = len;
	im->hist_next = (i + 1) % HISTORY;
	if (im->hist_n < HISTORY)
		im->hist_n++;
}

/* Held datagrams count down; those due leave now. */
static void release(struct impair *im, impair_emit_fn emit, void *ctx, bool all)
{
	unsigned w = 0;
	for (unsigned i = 0; i < im->nhold; i++) {
		struct held *h = &im->hold[i];
		if (all || h->release_after == 0) {
			out(im, h->data, h->len, emit, ctx);
			free(h->data);
		} else {
			h->release_after--;
			im->hold[w++] = *h;
		}
	}
	im->nhold = w;
}

void impair_process(struct impair *im, const uint8_t *pkt, size_t len, impair_emit_fn emit, void *ctx)
{
	im->st.in++;
	if (len > PKT_MAX)
		len = PKT_MAX;
	/* Decisions in a fixed order, each drawing from the generator. */
	bool drop = chance(im, im->c.drop);
	if (im->c.burst_loss > 0) {
		im->bad = im->bad ? !chance(im, im->p_bg) : chance(im, im->p_gb);
		drop = drop || im->bad;
	}
	bool corrupt = chance(im, im->c.corrupt);
	bool dup = chance(im, im->c.duplicate);
	bool reorder = chance(im, im->c.reorder);
	bool replay = chance(im, im->c.replay);
	bool inject = chance(im, im->c.inject);
	uint64_t r1 = next(im), r2 = next(im);

	release(im, emit, ctx, false);
	if (drop) {
		im->st.dropped++;
	} else {
		const uint8_t *p = pkt;
		if (corrupt && len > 0) {
			memcpy(im->tmp, pkt, len);
			im->tmp[r1 % len] ^= (uint8_t)(1u << (r2 % 8));
			p = im->tmp;
			im->st.corrupted++;
		}
		if (reorder && im->nhold < HOLD_MAX) {
			struct held *h = &im->hold[im->nhold];
			h->data = malloc(len ? len : 1);
			if (h->data) {
				memcpy(h->data, p, len);
				h->len = len;
				h->release_after = 1 + (unsigned)(r2 % 8);
				im->nhold++;
				im->st.reordered++;
			} else {
				out(im, p, len, emit, ctx);
			}
		} else {
			out(im, p, len, emit, ctx);
		}
		if (dup) {
			im->st.duplicated++;
			out(im, p, len, emit, ctx);
		}
	}
	if (replay && im->hist_n) {
		unsigned i = (unsigned)(r1 % im->hist_n);
		im->st.replayed++;
		out(im, im->hist[i], im->hist_len[i], emit, ctx);
	}
	if (inject) {
		size_t n = 1 + r2 % 1500;
		if (im->hist_n && (r1 & 1)) { /* a recent datagram with one byte changed */
			unsigned i = (unsigned)((r1 >> 1) % im->hist_n);
			n = im->hist_len[i];
			memcpy(im->tmp, im->hist[i], n);
			if (n)
				im->tmp[(r2 >> 8) % n] ^= 0x5a;
		} else {
			for (size_t k = 0; k < n; k++)
				im->tmp[k] = (uint8_t)next(im);
		}
		im->st.injected++;
		out(im, im->tmp, n, emit, ctx);
	}
	remember(im, pkt, len);
}

void impair_flush(struct impair *im, impair_emit_fn emit, void *ctx) { release(im, emit, ctx, true); }

void impair_stats(const struct impair *im, struct impair_stats *s) { *s = im->st; }
