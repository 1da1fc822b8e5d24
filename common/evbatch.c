/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/evbatch.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/cursor.h"
#include "common/hash.h"

#define HDR 24

int evbatch_begin(struct evbatch_builder *b, const char *source, uint64_t stream, uint64_t after)
{
	size_t n = strlen(source);
	if (n == 0 || n > EVBATCH_NAME_MAX)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	memcpy(b->source, source, n);
	b->stream = stream;
	b->after = after;
	b->cap = 4096;
	b->raw = malloc(b->cap);
	if (!b->raw)
		return -ENOMEM;
	b->len = HDR + n;
	memcpy(b->raw + HDR, source, n);
	return 0;
}

int evbatch_add(struct evbatch_builder *b, uint64_t seq, uint64_t tx_time_ns, const void *data,
		uint32_t len)
{
	if (len > EVBATCH_EVENT_MAX)
		return -EMSGSIZE;
	size_t need = b->len + 20 + len;
	if (need + EVCHAIN_MAX_LEN > EVBATCH_RAW_MAX) /* room for the chain record */
		return -ENOSPC;
	if (need > b->cap) {
		size_t nc = b->cap;
		while (nc < need)
			nc *= 2;
		uint8_t *n = realloc(b->raw, nc);
		if (!n)
			return -ENOMEM;
		b->raw = n;
		b->cap = nc;
	}
	le64_write(b->raw + b->len, seq);
	le64_write(b->raw + b->len + 8, tx_time_ns);
	for (int i = 0; i < 4; i++)
		b->raw[b->len + 16 + i] = (uint8_t)(len >> (8 * i));
	memcpy(b->raw + b->len + 20, data, len);
	b->len = need;
	b->count++;
	return 0;
}

size_t evbatch_raw_len(const struct evbatch_builder *b) { return b->len; }

void evbatch_chain(struct evbatch_builder *b, uint64_t batch, uint8_t flags,
		   const uint8_t prev[EVCHAIN_HASH_LEN], const uint8_t sign_sk[64])
{
	b->batch = batch;
	b->flags = flags;
	memcpy(b->prev, prev, EVCHAIN_HASH_LEN);
	b->sign_sk = sign_sk;
}

/* The first and last event seq of the raw batch in b (count >= 1). */
static void seq_span(const struct evbatch_builder *b, uint64_t *first, uint64_t *last)
{
	size_t off = HDR + strlen(b->source);
	*first = le64_read(b->raw + off);
	for (uint32_t i = 0; i + 1 < b->count; i++) {
		uint32_t len = (uint32_t)b->raw[off + 16] | (uint32_t)b->raw[off + 17] << 8 |
			       (uint32_t)b->raw[off + 18] << 16 | (uint32_t)b->raw[off + 19] << 24;
		off += 20 + len;
	}
	*last = le64_read(b->raw + off);
}

/* Append the signed chain record to the raw bytes. */
static int seal(struct evbatch_builder *b)
{
	if (!b->sign_sk || b->batch == 0 || b->count == 0)
		return -EINVAL;
	if (b->len + EVCHAIN_MAX_LEN > b->cap) {
		uint8_t *n = realloc(b->raw, b->len + EVCHAIN_MAX_LEN);
		if (!n)
			return -ENOMEM;
		b->raw = n;
		b->cap = b->len + EVCHAIN_MAX_LEN;
	}
	struct evchain_rec r = {.flags = b->flags, .count = b->count, .stream = b->stream,
				.batch = b->batch, .after = b->after};
	seq_span(b, &r.first, &r.last);
	hash_sha256(b->raw, b->len, r.content);
	memcpy(r.prev, b->prev, EVCHAIN_HASH_LEN);
	memcpy(r.source, b->source, sizeof(r.source));
	int n = evchain_sign(&r, b->sign_sk, b->raw + b->len, EVCHAIN_MAX_LEN);
	if (n < 0)
		return n;
	evchain_hash(b->raw + b->len, (size_t)n, b->record_hash);
	b->len += (size_t)n;
	return 0;
}

long evbatch_finish(struct evbatch_builder *b, int zstd_level, uint8_t **out)
{
	struct wcursor w;
	wcursor_init(&w, b->raw, HDR);
	wcursor_u8(&w, 2);
	wcursor_u8(&w, 0);
	wcursor_u8(&w, (uint8_t)strlen(b->source));
	wcursor_u8(&w, 0);
	wcursor_u32(&w, b->count);
	wcursor_u64(&w, b->stream);
	wcursor_u64(&w, b->after);
	int rc = seal(b);
	if (rc != 0)
		return rc;
	size_t bound = ZSTD_compressBound(b->len);
	uint8_t *o = malloc(5 + (bound > b->len ? bound : b->len));
	if (!o)
		return -ENOMEM;
	size_t plen = 0;
	uint8_t codec = EVBATCH_RAW;
	if (zstd_level > 0) {
		size_t z = ZSTD_compress(o + 5, bound, b->raw, b->len, zstd_level);
		if (!ZSTD_isError(z) && z < b->len) {
			codec = EVBATCH_ZSTD;
			plen = z;
		}
	}
	if (codec == EVBATCH_RAW) {
		memcpy(o + 5, b->raw, b->len);
		plen = b->len;
	}
	o[0] = codec;
	for (int i = 0; i < 4; i++)
		o[1 + i] = (uint8_t)(b->len >> (8 * i));
	*out = o;
	return (long)(5 + plen);
}

void evbatch_free(struct evbatch_builder *b)
{
	free(b->raw);
	memset(b, 0, sizeof(*b));
}

static int bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EBADMSG;
}

int evbatch_decode(const uint8_t *obj, size_t len, struct evbatch *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	struct cursor c;
	cursor_init(&c, obj, len);
	uint8_t codec = cursor_u8(&c);
	uint32_t raw_len = cursor_u32(&c);
	if (c.err)
		return bad(why, "batch shorter than its header");
	if (raw_len > EVBATCH_RAW_MAX) {
		if (why)
			*why = "batch larger than the decompression cap";
		return -E2BIG;
	}
	if (raw_len < HDR)
		return bad(why, "raw length too small");
	const uint8_t *payload = obj + c.off;
	size_t plen = cursor_left(&c);
	out->raw = malloc(raw_len);
	if (!out->raw)
		return -ENOMEM;
	if (codec == EVBATCH_RAW) {
		if (plen != raw_len) {
			evbatch_release(out);
			return bad(why, "raw batch length mismatch");
		}
		memcpy(out->raw, payload, plen);
	} else if (codec == EVBATCH_ZSTD) {
		unsigned long long fcs = ZSTD_getFrameContentSize(payload, plen);
		if (fcs != raw_len) {
			evbatch_release(out);
			return bad(why, "zstd frame size does not match the batch header");
		}
		size_t z = ZSTD_decompress(out->raw, raw_len, payload, plen);
		if (ZSTD_isError(z) || z != raw_len) {
			evbatch_release(out);
			return bad(why, "zstd data is corrupt or of the wrong size");
		}
	} else {
		evbatch_release(out);
		return bad(why, "unknown codec");
	}
	cursor_init(&c, out->raw, raw_len);
	uint8_t version = cursor_u8(&c), flags = cursor_u8(&c), nl = cursor_u8(&c), rsv = cursor_u8(&c);
	uint32_t count = cursor_u32(&c);
	out->stream = cursor_u64(&c);
	out->after = cursor_u64(&c);
	if (version == 1) {
		evbatch_release(out);
		return bad(why, "batch version 1 (unsigned, no chain record): the sender needs "
			   "updating");
	}
	if (version != 2 || flags || rsv || nl == 0 || nl > EVBATCH_NAME_MAX) {
		evbatch_release(out);
		return bad(why, "bad batch header");
	}
	cursor_copy(&c, out->source, nl);
	out->source[nl] = '\0';
	if (c.err || memchr(out->source, 0, nl) || count > (raw_len - HDR) / 20) {
		evbatch_release(out);
		return bad(why, "bad source name or count");
	}
	out->ev = calloc(count ? count : 1, sizeof(*out->ev));
	if (!out->ev) {
		evbatch_release(out);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct evbatch_event *e = &out->ev[i];
		e->seq = cursor_u64(&c);
		e->tx_time_ns = cursor_u64(&c);
		e->len = cursor_u32(&c);
		e->data = e->len <= EVBATCH_EVENT_MAX ? cursor_take(&c, e->len) : NULL;
		if (!e->data) {
			evbatch_release(out);
			return bad(why, "event runs past the end of the batch");
		}
	}
	size_t body = c.off;
	out->record = out->raw + body;
	out->record_len = raw_len - body;
	const char *rwhy = NULL;
	if (count == 0 || evchain_decode(out->record, out->record_len, &out->chain, &rwhy) != 0) {
		evbatch_release(out);
		return bad(why, rwhy ? rwhy : "a batch without events");
	}
	uint8_t content[EVCHAIN_HASH_LEN];
	hash_sha256(out->raw, body, content);
	const struct evchain_rec *r = &out->chain;
	if (strcmp(r->source, out->source) != 0 || r->stream != out->stream ||
	    r->after != out->after || r->count != count || r->first != out->ev[0].seq ||
	    r->last != out->ev[count - 1].seq) {
		evbatch_release(out);
		return bad(why, "chain record does not describe this batch");
	}
	if (sodium_memcmp(content, r->content, EVCHAIN_HASH_LEN) != 0) {
		evbatch_release(out);
		return bad(why, "chain record's content hash does not match the batch");
	}
	out->count = count;
	return 0;
}

void evbatch_release(struct evbatch *b)
{
	free(b->raw);
	free(b->ev);
	memset(b, 0, sizeof(*b));
}
