/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/framing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEN_DIGITS_MAX 10
#define FRAMER_BUF_START 4096

int framer_init(struct framer *f, size_t max_line, framer_event_fn ev, framer_reject_fn rej, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->max = max_line;
	f->on_event = ev;
	f->on_reject = rej;
	f->ctx = ctx;
	f->cap = max_line + 1 < FRAMER_BUF_START ? max_line + 1 : FRAMER_BUF_START;
	f->buf = malloc(f->cap);
	return f->buf ? 0 : -ENOMEM;
}

/* Room for need bytes (need <= max + 1): an idle connection holds only FRAMER_BUF_START. */
static int room(struct framer *f, size_t need)
{
	if (need <= f->cap)
		return 0;
	size_t nc = f->cap;
	while (nc < need)
		nc *= 2;
	if (nc > f->max + 1)
		nc = f->max + 1;
	uint8_t *n = realloc(f->buf, nc);
	if (!n)
		return -ENOMEM;
	f->buf = n;
	f->cap = nc;
	return 0;
}

void framer_free(struct framer *f)
{
	free(f->buf);
	f->buf = NULL;
}

static void line_end(struct framer *f)
{
	if (f->skipping) {
		f->on_reject(f->ctx, "line longer than max_line", (size_t)f->skipped);
		f->skipping = 0;
		f->skipped = 0;
	} else {
		size_t n = f->len;
		if (n && f->buf[n - 1] == '\r')
			n--;
		if (n > f->max)
			f->on_reject(f->ctx, "line longer than max_line", n);
		else if (n)
			f->on_event(f->ctx, f->buf, n);
	}
	f->len = 0;
}

/* Lines: consume up to and including the next LF. */
static size_t feed_lines(struct framer *f, const uint8_t *p, size_t n)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t take = lf ? (size_t)(lf - p) : n;
	/* The buffer holds max + 1 bytes: a line of max bytes and its CR. */
	if (!f->skipping && (f->len + take > f->max + 1 || room(f, f->len + take) != 0)) {
		f->skipping = 1;
		f->skipped = f->len;
		f->len = 0;
	}
	if (f->skipping) {
		f->skipped += take;
	} else {
		memcpy(f->buf + f->len, p, take);
		f->len += take;
	}
	if (lf) {
		line_end(f);
		return take + 1;
	}
	return take;
}

/* Octet counting: "LEN SP MSG". */
static int feed_octets(struct framer *f, const uint8_t *p, size_t n, size_t *used)
{
	size_t i = 0;
	while (f->want == 0 && i < n) {
		uint8_t c = p[i];
		if (c == ' ' && f->digits) {
			i++;
			f->digits = 0;
			if (f->count == 0)
				continue; /* "0 ": an empty frame */
			f->want = f->count;
			f->len = 0;
			f->skipping = f->count > f->max || room(f, (size_t)f->count) != 0;
			f->skipped = 0;
			break;
		}
		/* Decimal without leading zeros: "0 " (an empty frame) is fine, "01" is not. */
		if (c < '0' || c > '9' || (f->digits == 1 && f->count == 0) || f->digits == LEN_DIGITS_MAX)
			return -EPROTO;
		f->count = f->count * 10 + (uint64_t)(c - '0');
		f->digits++;
		i++;
	}
	if (f->want && i < n) {
		size_t take = n - i < f->want ? n - i : (size_t)f->want;
		if (f->skipping)
			f->skipped += take;
		else
			memcpy(f->buf + f->len, p + i, take);
		if (!f->skipping)
			f->len += take;
		f->want -= take;
		i += take;
		if (f->want == 0) {
			if (f->skipping)
				f->on_reject(f->ctx, "frame longer than max_line", (size_t)f->count);
			else
				f->on_event(f->ctx, f->buf, f->len);
			f->skipping = 0;
			f->len = 0;
			f->count = 0;
		}
	}
	*used = i;
	return 0;
}

int framer_feed(struct framer *f, const uint8_t *p, size_t n)
{
	while (n) {
		if (f->mode == FRAMER_UNKNOWN)
			f->mode = p[0] >= '1' && p[0] <= '9' ? FRAMER_OCTETS : FRAMER_LINES;
		size_t used;
		if (f->mode == FRAMER_LINES) {
			used = feed_lines(f, p, n);
		} else {
			int rc = feed_octets(f, p, n, &used);
			if (rc != 0)
				return rc;
		}
		p += used;
		n -= used;
	}
	return 0;
}

bool framer_pending(const struct framer *f, size_t *bytes)
{
	*bytes = f->skipping ? (size_t)f->skipped : f->len;
	if (f->mode == FRAMER_LINES)
		return f->len || f->skipping;
	return f->mode == FRAMER_OCTETS && (f->want || f->digits);
}

void framer_finish(struct framer *f)
{
	if (f->mode == FRAMER_LINES && (f->len || f->skipping))
		line_end(f);
	else if (f->mode == FRAMER_OCTETS && (f->want || f->digits))
		f->on_reject(f->ctx, "stream ended inside a frame", (size_t)(f->count - f->want));
	f->len = 0;
	f->want = 0;
	f->digits = 0;
	f->count = 0;
	f->skipping = 0;
}
