/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for tx/framing.c, the framer of event streams from local clients (tcp:,
 * unix: intake). Input:
 *
 *   +--------+--------------------------+------------------------------+
 *   | max    | chunk sizes (4 bytes)    | the stream                   |
 *   +--------+--------------------------+------------------------------+
 *     max_line = 16 + max * 64 (16..16336: both sides of the framer's first 4 KiB buffer)
 *
 * The stream is fed in chunks whose sizes cycle through the four chunk bytes (0 feeds an empty
 * chunk; all four 0 feeds the stream whole), then framer_finish. Every event must have
 * 0 < len <= max_line and, in line mode, no LF. The same stream fed whole, and byte by byte,
 * must give the same events and rejects (with their lengths) and the same -EPROTO: framing
 * never depends on how reads split the stream.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tx/framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	struct framer f;
	uint8_t *log;
	size_t len, cap;
};

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_framing: %s\n", what);
		abort();
	}
}

static void put(struct trace *t, const void *p, size_t n)
{
	if (t->len + n > t->cap) {
		size_t nc = t->cap ? t->cap : 256;
		while (nc < t->len + n)
			nc *= 2;
		t->log = realloc(t->log, nc);
		check(t->log != NULL, "out of memory");
		t->cap = nc;
	}
	memcpy(t->log + t->len, p, n);
	t->len += n;
}

static void on_event(void *ctx, const uint8_t *p, size_t len)
{
	struct trace *t = ctx;
	check(len > 0, "an empty event");
	check(len <= t->f.max, "an event longer than max_line");
	check(t->f.mode == FRAMER_LINES || t->f.mode == FRAMER_OCTETS, "an event in no mode");
	if (t->f.mode == FRAMER_LINES)
		check(memchr(p, '\n', len) == NULL, "an LF inside a line event");
	uint64_t l = len;
	put(t, "E", 1);
	put(t, &l, sizeof(l));
	put(t, p, len);
}

static void on_reject(void *ctx, const char *why, size_t len)
{
	struct trace *t = ctx;
	check(why != NULL, "a reject without a reason");
	uint64_t l = len;
	put(t, "R", 1);
	put(t, &l, sizeof(l));
}

/* Feeds s[0..n): chunk sizes cycle through sizes[0..4) (NULL: whole; all zero: whole). */
static int run(struct trace *t, size_t max, const uint8_t *s, size_t n, const uint8_t *sizes)
{
	memset(t, 0, sizeof(*t));
	check(framer_init(&t->f, max, on_event, on_reject, t) == 0, "framer_init");
	int rc = 0;
	if (!sizes || (sizes[0] | sizes[1] | sizes[2] | sizes[3]) == 0) {
		rc = framer_feed(&t->f, s, n);
	} else {
		size_t off = 0;
		for (unsigned k = 0; off < n && rc == 0; k = (k + 1) % 4) {
			size_t c = sizes[k] < n - off ? sizes[k] : n - off;
			rc = framer_feed(&t->f, s + off, c);
			off += c;
		}
	}
	check(rc == 0 || rc == -EPROTO, "framer_feed returned neither 0 nor -EPROTO");
	if (rc == 0)
		framer_finish(&t->f);
	put(t, rc ? "P" : "F", 1);
	return rc;
}

static void done(struct trace *t)
{
	framer_free(&t->f);
	free(t->log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	size_t max = 16 + (size_t)data[0] * 64;
	const uint8_t *sizes = data + 1, *s = data + 5;
	size_t n = size - 5;

	struct trace a, b, c;
	static const uint8_t ones[4] = {1, 1, 1, 1};
	int ra = run(&a, max, s, n, sizes);
	int rb = run(&b, max, s, n, NULL);
	int rc = run(&c, max, s, n, ones);
	check(ra == rb && rb == rc, "the result depends on how the stream is cut");
	check(a.len == b.len && memcmp(a.log, b.log, a.len) == 0, "chunked and whole streams differ");
	check(c.len == b.len && memcmp(c.log, b.log, c.len) == 0, "byte-by-byte and whole streams differ");
	/* The mode is the first byte's. */
	if (n)
		check(a.f.mode == (s[0] >= '1' && s[0] <= '9' ? FRAMER_OCTETS : FRAMER_LINES),
		      "the mode is not the first byte's");
	done(&a);
	done(&b);
	done(&c);
	return 0;
}
