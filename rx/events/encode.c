/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The text of the events lane: one JSON line per event (rx/events/events.h shows it), and
 * events_encode, the event itself as placed after "event": a strict JSON object minified, or
 * else a JSON string of its bytes.
 */
#include "rx/events/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/utf8.h"
#include "rx/rx_metrics.h"

void *(*encode_out_realloc)(void *, size_t) = realloc;

static int buf_grow(struct buf *b, const void *p, size_t n, void *(*grow)(void *, size_t))
{
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *np = grow(b->p, nc);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int buf_add(struct buf *b, const void *p, size_t n) { return buf_grow(b, p, n, realloc); }

static int out_add(struct events *e, const void *p, size_t n)
{
	return buf_grow(&e->out, p, n, encode_out_realloc);
}

static void iso_time(uint64_t ns, char out[48])
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000ull / 1000u));
}

/* The bytes as valid UTF-8: a byte outside a valid sequence becomes U+0000..U+00FF. */
static int to_utf8(const uint8_t *p, size_t n, struct buf *b)
{
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq(p + i, n - i);
		if (l) {
			if (buf_add(b, p + i, l) != 0)
				return -ENOMEM;
			i += l;
		} else {
			uint8_t two[2] = {(uint8_t)(0xc0 | (p[i] >> 6)), (uint8_t)(0x80 | (p[i] & 0x3f))};
			if (buf_add(b, two, 2) != 0)
				return -ENOMEM;
			i++;
		}
	}
	return 0;
}

/* Minify validated JSON: drop whitespace outside strings. */
static int minify(const uint8_t *p, size_t n, struct buf *b)
{
	bool in_str = false, esc = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			continue;
		} else if (c == '"') {
			in_str = true;
		}
		if (buf_add(b, &c, 1) != 0)
			return -ENOMEM;
	}
	return 0;
}

static bool is_object(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i == n || p[i] != '{')
		return false;
	/* jansson skips a raw NUL after a number or literal: refuse raw NULs before it looks. */
	if (memchr(p, 0, n))
		return false;
	json_error_t err;
	json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	bool ok = j && json_is_object(j);
	json_decref(j);
	return ok;
}

char *events_encode(const uint8_t *data, size_t n, size_t *len)
{
	struct buf b = {0};
	if (is_object(data, n)) {
		if (minify(data, n, &b) != 0) {
			free(b.p);
			return NULL;
		}
		*len = b.len;
		return b.p;
	}
	if (to_utf8(data, n, &b) != 0) {
		free(b.p);
		return NULL;
	}
	json_t *s = json_stringn_nocheck(b.p ? b.p : "", b.len);
	free(b.p);
	if (!s)
		return NULL;
	char *out = json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(s);
	if (out)
		*len = strlen(out);
	return out;
}

/* Append one line for an event to e->out; written (and counted) by order_flush(). */
void encode_line(struct events *e, struct source *s, uint64_t seq, uint64_t tx_ns,
		 const uint8_t *data, size_t len, uint64_t rx_ns)
{
	if (!s->have_last_tx || tx_ns / 1000u > s->last_tx_us) {
		s->have_last_tx = true;
		s->last_tx_us = tx_ns / 1000u;
	}
	size_t elen, start = e->out.len;
	char *ev = events_encode(data, len, &elen);
	char head[256], tx[48], rx[48];
	iso_time(tx_ns, tx);
	iso_time(rx_ns, rx);
	int n = snprintf(head, sizeof(head),
			 "{\"source\":\"%s\",\"seq\":%" PRIu64 ",\"tx_time\":\"%s\",\"rx_time\":\"%s\",\"event\":",
			 s->name, seq, tx, rx);
	if (!ev || out_add(e, head, (size_t)n) != 0 || out_add(e, ev, elen) != 0 ||
	    out_add(e, "}\n", 2) != 0) {
		free(ev);
		e->out.len = start; /* no part of this line before the next one */
		if (e->out.p)
			e->out.p[start] = '\0';
		rxm_add(RXM_EVENTS_LOST, 1);
		log_rlk(LOG_ERROR, s->name, "events %s: out of memory: seq %" PRIu64 " lost", s->name, seq);
		return;
	}
	free(ev);
	e->out.lines++; /* delivered once order_flush has written it */
}
