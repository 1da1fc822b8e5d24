/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Impairment engine. One xoshiro256** generator, seeded through splitmix64, drives every
 * decision in a fixed order per datagram (drop, burst state, corrupt, duplicate, reorder,
 * replay, inject; a feature set to 0 draws nothing), so a seed replays a run exactly.
 *
 * Gilbert-Elliott: two states, every datagram lost in the bad one, none in the good. The state
 * moves before each datagram: bad -> good with r = 1 / burst_len, good -> bad with
 * p = loss * r / (1 - loss). Bursts are then geometric with mean 1 / r = burst_len, and the
 * chain spends p / (p + r) = loss of its time bad: the long-run loss is burst_loss.
 *
 * Reordering holds a copy in one of HOLD_MAX slots and lets it go after 1..8 later datagrams
 * have been fed (when every slot is taken, the datagram is not reordered). Replay and inject
 * keep the last HISTORY datagrams fed, in buffers that only grow, and only when either is on.
 * Nothing is allocated per datagram once those buffers have reached their size.
 */
#include "hw/impair.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HOLD_MAX 8
#define HOLD_AFTER_MAX 8
#define HISTORY 1024
#define INJECT_RECENT 64   /* an injected copy is of one of the last 64 datagrams */
#define INJECT_LEN_MAX 1500

struct held {
	uint8_t *data; /* IMPAIR_PKT_MAX bytes */
	size_t len;
	unsigned release_after; /* datagrams still to be fed before this one leaves */
	bool busy;
};

struct past {
	uint8_t *data;
	size_t len, cap;
};

struct impair {
	struct impair_config c;
	uint64_t s[4];
	bool bad;
	double p_gb, p_bg;
	bool keep_history;
	struct held hold[HOLD_MAX];
	unsigned nhold;
	struct past hist[HISTORY];
	unsigned hist_n, hist_next;
	uint8_t *tmp; /* IMPAIR_PKT_MAX bytes: the corrupted or injected datagram */
	struct impair_stats st;
};

/* ---- xoshiro256** (Blackman, Vigna) ---- */

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
/* Draws only when p > 0, so a feature left off leaves the sequence of the others alone. */
static bool chance(struct impair *im, double p) { return p > 0 && uniform(im) < p; }
/* 0..n-1, n >= 1 (the bias of a 64-bit modulo is below 2^-50 here). */
static uint64_t below(struct impair *im, uint64_t n) { return next(im) % n; }

static void seed(struct impair *im, uint64_t z)
{
	for (int i = 0; i < 4; i++) { /* splitmix64: never all zero */
		z += 0x9e3779b97f4a7c15ull;
		uint64_t x = z;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		im->s[i] = x ^ (x >> 31);
	}
}

/* ---- spec ---- */

static int parse_prob(const char *v, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (end == v || *end || errno || !(d >= 0 && d <= 1))
		return -EINVAL; /* !(..) also refuses NaN */
	*out = d;
	return 0;
}

static int parse_burst(char *v, struct impair_config *c)
{
	char *colon = strchr(v, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	double loss, len;
	char *end;
	if (parse_prob(v, &loss) != 0 || loss >= 1)
		return -EINVAL;
	errno = 0;
	len = strtod(colon + 1, &end);
	if (end == colon + 1 || *end || errno || !(len >= 1) || isinf(len))
		return -EINVAL;
	c->burst_loss = loss;
	c->burst_len = len;
	return 0;
}

static int parse_seed(const char *v, uint64_t *out)
{
	if (*v < '0' || *v > '9') /* strtoull would take "-1" and " 1" */
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (*end || errno)
		return -EINVAL;
	*out = x;
	return 0;
}

static int parse_pair(char *key, char *v, struct impair_config *c)
{
	if (strcmp(key, "burst") == 0)
		return parse_burst(v, c);
	if (strcmp(key, "seed") == 0)
		return parse_seed(v, &c->seed);
	static const struct {
		const char *key;
		size_t off;
	} probs[] = {
		{"drop", offsetof(struct impair_config, drop)},
		{"reorder", offsetof(struct impair_config, reorder)},
		{"dup", offsetof(struct impair_config, duplicate)},
		{"corrupt", offsetof(struct impair_config, corrupt)},
		{"replay", offsetof(struct impair_config, replay)},
		{"inject", offsetof(struct impair_config, inject)},
	};
	for (size_t i = 0; i < sizeof(probs) / sizeof(probs[0]); i++)
		if (strcmp(key, probs[i].key) == 0)
			return parse_prob(v, (double *)((char *)c + probs[i].off));
	return -EINVAL;
}

int impair_config_parse(const char *spec, struct impair_config *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	char *copy = strdup(spec ? spec : "");
	if (!copy)
		return -ENOMEM;
	int rc = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		rc = parse_pair(tok, eq + 1, c);
	}
	free(copy);
	return rc;
}

/* ---- engine ---- */

struct impair *impair_new(const struct impair_config *c)
{
	struct impair *im = calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	im->c = *c;
	seed(im, c->seed);
	if (c->burst_loss > 0 && c->burst_loss < 1) {
		im->p_bg = c->burst_len > 1 ? 1.0 / c->burst_len : 1.0;
		im->p_gb = c->burst_loss * im->p_bg / (1.0 - c->burst_loss);
	}
	im->keep_history = c->replay > 0 || c->inject > 0;
	im->tmp = malloc(IMPAIR_PKT_MAX);
	if (!im->tmp)
		goto err_free;
	if (c->reorder > 0) {
		for (unsigned i = 0; i < HOLD_MAX; i++) {
			im->hold[i].data = malloc(IMPAIR_PKT_MAX);
			if (!im->hold[i].data)
				goto err_free;
		}
	}
	return im;

err_free:
	impair_free(im);
	return NULL;
}

void impair_free(struct impair *im)
{
	if (!im)
		return;
	for (unsigned i = 0; i < HOLD_MAX; i++)
		free(im->hold[i].data);
	for (unsigned i = 0; i < HISTORY; i++)
		free(im->hist[i].data);
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
	struct past *h = &im->hist[im->hist_next];
	if (h->cap < len || !h->data) {
		size_t cap = len > 2048 ? len : 2048;
		uint8_t *n = realloc(h->data, cap);
		if (!n)
			return; /* forget this one: replay picks among the others */
		h->data = n;
		h->cap = cap;
	}
	memcpy(h->data, p, len);
	h->len = len;
	im->hist_next = (im->hist_next + 1) % HISTORY;
	if (im->hist_n < HISTORY)
		im->hist_n++;
}

/* The k-th most recent datagram remembered, k = 0 the last. */
static const struct past *recent(const struct impair *im, unsigned k)
{
	return &im->hist[(im->hist_next + HISTORY - 1 - k) % HISTORY];
}

/* Held datagrams count down one per datagram fed; those due leave, in slot order. */
static void release(struct impair *im, impair_emit_fn emit, void *ctx, bool all)
{
	for (unsigned i = 0; i < HOLD_MAX && im->nhold; i++) {
		struct held *h = &im->hold[i];
		if (!h->busy)
			continue;
		if (all || h->release_after == 0) {
			out(im, h->data, h->len, emit, ctx);
			h->busy = false;
			im->nhold--;
		} else {
			h->release_after--;
		}
	}
}

static bool hold(struct impair *im, const uint8_t *p, size_t len, unsigned after)
{
	for (unsigned i = 0; i < HOLD_MAX; i++) {
		struct held *h = &im->hold[i];
		if (h->busy || !h->data)
			continue;
		memcpy(h->data, p, len);
		h->len = len;
		/* release() runs as each later datagram is fed and lets go at 0 on the one after. */
		h->release_after = after;
		h->busy = true;
		im->nhold++;
		return true;
	}
	return false;
}

static void inject(struct impair *im, impair_emit_fn emit, void *ctx)
{
	size_t n;
	if (im->hist_n && (next(im) & 1)) { /* a recent datagram with one byte changed */
		unsigned window = im->hist_n < INJECT_RECENT ? im->hist_n : INJECT_RECENT;
		const struct past *h = recent(im, (unsigned)below(im, window));
		n = h->len;
		memcpy(im->tmp, h->data, n);
		if (n)
			im->tmp[below(im, n)] ^= (uint8_t)(1 + below(im, 255));
	} else {
		n = 1 + (size_t)below(im, INJECT_LEN_MAX);
		for (size_t k = 0; k < n; k += 8) {
			uint64_t r = next(im);
			memcpy(im->tmp + k, &r, n - k < 8 ? n - k : 8);
		}
	}
	im->st.injected++;
	out(im, im->tmp, n, emit, ctx);
}

void impair_process(struct impair *im, const uint8_t *pkt, size_t len, impair_emit_fn emit, void *ctx)
{
	im->st.in++;
	if (len > IMPAIR_PKT_MAX)
		len = IMPAIR_PKT_MAX;
	release(im, emit, ctx, false);

	bool drop = chance(im, im->c.drop), burst = false;
	if (im->p_bg > 0) {
		im->bad = im->bad ? !chance(im, im->p_bg) : chance(im, im->p_gb);
		burst = im->bad;
	}
	if (drop || burst) {
		im->st.dropped++;
		im->st.burst_dropped += burst;
	} else {
		const uint8_t *p = pkt;
		if (chance(im, im->c.corrupt) && len > 0) {
			memcpy(im->tmp, pkt, len);
			im->tmp[below(im, len)] ^= (uint8_t)(1u << below(im, 8));
			p = im->tmp;
			im->st.corrupted++;
		}
		bool dup = chance(im, im->c.duplicate);
		if (chance(im, im->c.reorder) && hold(im, p, len, 1 + (unsigned)below(im, HOLD_AFTER_MAX)))
			im->st.reordered++;
		else
			out(im, p, len, emit, ctx);
		if (dup) {
			im->st.duplicated++;
			out(im, p, len, emit, ctx);
		}
	}
	if (chance(im, im->c.replay) && im->hist_n) {
		const struct past *h = recent(im, (unsigned)below(im, im->hist_n));
		im->st.replayed++;
		out(im, h->data, h->len, emit, ctx);
	}
	if (chance(im, im->c.inject))
		inject(im, emit, ctx);
	if (im->keep_history)
		remember(im, pkt, len);
}

void impair_flush(struct impair *im, impair_emit_fn emit, void *ctx) { release(im, emit, ctx, true); }

void impair_stats(const struct impair *im, struct impair_stats *s) { *s = im->st; }
