/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/evchain.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/cursor.h"
#include "common/seqtext.h"

int evchain_sign(const struct evchain_rec *r, const uint8_t sign_sk[64], uint8_t *out, size_t cap)
{
	size_t nl = strlen(r->source);
	if (nl == 0 || nl > EVCHAIN_NAME_MAX || r->batch == 0 ||
	    (r->flags & ~(EVCHAIN_RESTART | EVCHAIN_RESET)) || cap < EVCHAIN_MAX_LEN)
		return -EINVAL;
	struct wcursor w;
	wcursor_init(&w, out, cap);
	wcursor_u8(&w, 1);
	wcursor_u8(&w, r->flags);
	wcursor_u8(&w, (uint8_t)nl);
	wcursor_u8(&w, 0);
	wcursor_u32(&w, r->count);
	wcursor_u64(&w, r->stream);
	wcursor_u64(&w, r->batch);
	wcursor_u64(&w, r->first);
	wcursor_u64(&w, r->last);
	wcursor_u64(&w, r->after);
	wcursor_bytes(&w, r->content, EVCHAIN_HASH_LEN);
	wcursor_bytes(&w, r->prev, EVCHAIN_HASH_LEN);
	wcursor_bytes(&w, r->source, nl);
	size_t body = EVCHAIN_FIXED_LEN + nl;
	crypto_sign_detached(out + body, NULL, out, body, sign_sk);
	return (int)(body + EVCHAIN_SIG_LEN);
}

static int bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EBADMSG;
}

int evchain_decode(const uint8_t *p, size_t len, struct evchain_rec *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	struct cursor c;
	cursor_init(&c, p, len);
	uint8_t version = cursor_u8(&c);
	r->flags = cursor_u8(&c);
	uint8_t nl = cursor_u8(&c), rsv = cursor_u8(&c);
	r->count = cursor_u32(&c);
	r->stream = cursor_u64(&c);
	r->batch = cursor_u64(&c);
	r->first = cursor_u64(&c);
	r->last = cursor_u64(&c);
	r->after = cursor_u64(&c);
	cursor_copy(&c, r->content, EVCHAIN_HASH_LEN);
	cursor_copy(&c, r->prev, EVCHAIN_HASH_LEN);
	if (c.err)
		return bad(why, "chain record shorter than its header");
	if (version != 1)
		return bad(why, "chain record of an unknown version");
	if (rsv || (r->flags & ~(EVCHAIN_RESTART | EVCHAIN_RESET)))
		return bad(why, "chain record with unknown flags");
	if (nl == 0 || nl > EVCHAIN_NAME_MAX)
		return bad(why, "chain record with a bad source name length");
	if (r->batch == 0 || r->count == 0)
		return bad(why, "chain record with batch 0 or no events");
	cursor_copy(&c, r->source, nl);
	cursor_take(&c, EVCHAIN_SIG_LEN);
	if (!cursor_done(&c))
		return bad(why, "chain record length does not match its source name");
	if (memchr(r->source, 0, nl))
		return bad(why, "chain record source name holds a NUL byte");
	return 0;
}

int evchain_verify(const uint8_t *p, size_t len, const uint8_t pk[32])
{
	if (len < EVCHAIN_FIXED_LEN + 1 + EVCHAIN_SIG_LEN)
		return -EPERM;
	size_t body = len - EVCHAIN_SIG_LEN;
	return crypto_sign_verify_detached(p + body, p, body, pk) == 0 ? 0 : -EPERM;
}

void evchain_hash(const uint8_t *p, size_t len, uint8_t out[EVCHAIN_HASH_LEN])
{
	crypto_hash_sha256(out, p, len);
}

/* ---- tracker ---- */

static void rebase(struct evchain *c, const struct evchain_rec *r, const uint8_t *h,
		   const char *sender)
{
	c->have = true;
	c->stream = r->stream;
	snprintf(c->sender, sizeof(c->sender), "%s", sender);
	c->next = r->batch + 1;
	c->last_known = true;
	memcpy(c->last, h, EVCHAIN_HASH_LEN);
	c->last_event = r->last;
	c->nahead = 0;
}

/* The batches from c->next up to ahead[0] are given up; ahead[0] becomes the next known. */
static void give_up_hole(struct evchain *c, evchain_break_cb cb, void *ctx)
{
	const struct evchain_slot *a = &c->ahead[0];
	struct evchain_break b = {.kind = EVCHAIN_MISSING, .batch = c->next,
				  .batch_last = a->batch - 1, .tag = a->tag};
	if (c->last_known && a->after > c->last_event + 1) {
		b.have_events = true;
		b.event_first = c->last_event + 1;
		b.event_last = a->after - 1;
	}
	cb(ctx, &b);
	c->next = a->batch;
	c->last_known = false;
}

/* Pop the arrived batches at the front. */
static void advance(struct evchain *c)
{
	size_t k = 0;
	while (k < c->nahead && c->ahead[k].batch == c->next) {
		memcpy(c->last, c->ahead[k].hash, EVCHAIN_HASH_LEN);
		c->last_event = c->ahead[k].last;
		c->last_known = true;
		c->next++;
		k++;
	}
	memmove(c->ahead, c->ahead + k, (c->nahead - k) * sizeof(c->ahead[0]));
	c->nahead -= k;
}

static void mismatch(const struct evchain_slot *s, evchain_break_cb cb, void *ctx)
{
	struct evchain_break b = {.kind = EVCHAIN_MISMATCH, .batch = s->batch,
				  .batch_last = s->batch, .tag = s->tag};
	cb(ctx, &b);
}

enum evchain_verdict evchain_track(struct evchain *c, const struct evchain_rec *r,
				   const uint8_t h[EVCHAIN_HASH_LEN], const char *sender,
				   uint64_t now, uint64_t tag, evchain_break_cb cb, void *ctx)
{
	if (!c->have) {
		rebase(c, r, h, sender);
		return EVCHAIN_NEW;
	}
	if (c->stream != r->stream || strcmp(c->sender, sender) != 0 || (r->flags & EVCHAIN_RESET)) {
		if (c->stream == r->stream && strcmp(c->sender, sender) == 0 && r->batch < c->next)
			return EVCHAIN_DUP; /* the reset batch itself, again */
		evchain_expire(c, now, 0, cb, ctx);
		struct evchain_break b = {.kind = EVCHAIN_REBASE, .batch = r->batch,
					  .batch_last = r->batch, .have_prev = c->next > 1,
					  .batch_prev = c->next - 1, .tag = tag};
		cb(ctx, &b);
		rebase(c, r, h, sender);
		return EVCHAIN_NEW;
	}
	if (r->batch < c->next) {
		if (r->batch + 1 == c->next && c->last_known &&
		    sodium_memcmp(h, c->last, EVCHAIN_HASH_LEN) != 0) {
			struct evchain_break b = {.kind = EVCHAIN_FORK, .batch = r->batch,
						  .batch_last = r->batch, .tag = tag};
			cb(ctx, &b);
		}
		return EVCHAIN_DUP;
	}
	size_t i = 0;
	while (i < c->nahead && c->ahead[i].batch < r->batch)
		i++;
	if (i < c->nahead && c->ahead[i].batch == r->batch) {
		if (sodium_memcmp(h, c->ahead[i].hash, EVCHAIN_HASH_LEN) != 0) {
			struct evchain_break b = {.kind = EVCHAIN_FORK, .batch = r->batch,
						  .batch_last = r->batch, .tag = tag};
			cb(ctx, &b);
		}
		return EVCHAIN_DUP;
	}
	if (r->batch == c->next && c->nahead == 0) { /* in order: the common case */
		struct evchain_slot s = {.batch = r->batch, .tag = tag};
		memcpy(s.prev, r->prev, EVCHAIN_HASH_LEN);
		if (c->last_known && sodium_memcmp(r->prev, c->last, EVCHAIN_HASH_LEN) != 0)
			mismatch(&s, cb, ctx);
		memcpy(c->last, h, EVCHAIN_HASH_LEN);
		c->last_event = r->last;
		c->last_known = true;
		c->next++;
		return EVCHAIN_NEW;
	}
	if (c->nahead == EVCHAIN_WINDOW) {
		give_up_hole(c, cb, ctx);
		advance(c);
		return evchain_track(c, r, h, sender, now, tag, cb, ctx);
	}
	memmove(c->ahead + i + 1, c->ahead + i, (c->nahead - i) * sizeof(c->ahead[0]));
	struct evchain_slot *s = &c->ahead[i];
	*s = (struct evchain_slot){.batch = r->batch, .first = r->first, .last = r->last,
				   .after = r->after, .since = now, .tag = tag};
	memcpy(s->hash, h, EVCHAIN_HASH_LEN);
	memcpy(s->prev, r->prev, EVCHAIN_HASH_LEN);
	c->nahead++;
	/* The links to both neighbours, where they are known. */
	if (r->batch == c->next) {
		if (c->last_known && sodium_memcmp(r->prev, c->last, EVCHAIN_HASH_LEN) != 0)
			mismatch(s, cb, ctx);
	} else if (i > 0 && c->ahead[i - 1].batch + 1 == r->batch &&
		   sodium_memcmp(r->prev, c->ahead[i - 1].hash, EVCHAIN_HASH_LEN) != 0) {
		mismatch(s, cb, ctx);
	}
	if (i + 1 < c->nahead && c->ahead[i + 1].batch == r->batch + 1 &&
	    sodium_memcmp(c->ahead[i + 1].prev, h, EVCHAIN_HASH_LEN) != 0)
		mismatch(&c->ahead[i + 1], cb, ctx);
	advance(c);
	return EVCHAIN_NEW;
}

uint64_t evchain_due(const struct evchain *c, uint64_t timeout)
{
	uint64_t since = UINT64_MAX;
	for (size_t i = 0; i < c->nahead; i++)
		if (c->ahead[i].since < since)
			since = c->ahead[i].since;
	return since == UINT64_MAX || since > UINT64_MAX - timeout ? since : since + timeout;
}

void evchain_expire(struct evchain *c, uint64_t now, uint64_t timeout, evchain_break_cb cb,
		    void *ctx)
{
	/* A hole is missed since the earliest arrival above it, which holds for the lowest hole
	 * first; the ones above it then wait their own time. */
	while (c->nahead && (now == UINT64_MAX || evchain_due(c, timeout) <= now)) {
		give_up_hole(c, cb, ctx);
		advance(c);
	}
}

int evchain_save(const struct evchain *c, char *buf, size_t cap)
{
	char last[2 * EVCHAIN_HASH_LEN + 1] = "-";
	if (c->last_known)
		sodium_bin2hex(last, sizeof(last), c->last, EVCHAIN_HASH_LEN);
	int n = snprintf(buf, cap, "sluice-evchain 1 sender=%s stream=%016" PRIx64 " next=%" PRIu64
			 " event=%" PRIu64 " last=%s\n", c->sender, c->stream, c->next,
			 c->last_event, last);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int evchain_load(struct evchain *c, const char *buf, size_t len)
{
	char line[256], sender[17], last[65], next[SEQTEXT_LEN], event[SEQTEXT_LEN];
	int used = 0;
	if (len >= sizeof(line))
		return -EBADMSG;
	memcpy(line, buf, len);
	line[len] = '\0';
	memset(c, 0, sizeof(*c));
	if (sscanf(line, "sluice-evchain 1 sender=%16[0-9a-f] stream=%16" SCNx64 " next=" SEQTEXT_SCAN
		   " event=" SEQTEXT_SCAN " last=%64[0-9a-f-]\n%n", sender, &c->stream, next, event,
		   last, &used) != 5 || (size_t)used != len || strlen(sender) != 16 ||
	    !seqtext_parse(next, &c->next) || !seqtext_parse(event, &c->last_event) || c->next == 0)
		return -EBADMSG;
	size_t got = 0;
	if (strcmp(last, "-") != 0) {
		if (strlen(last) != 64 ||
		    sodium_hex2bin(c->last, EVCHAIN_HASH_LEN, last, 64, NULL, &got, NULL) != 0 ||
		    got != EVCHAIN_HASH_LEN)
			return -EBADMSG;
		c->last_known = true;
	}
	memcpy(c->sender, sender, sizeof(sender));
	c->have = true;
	return 0;
}
