/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/framing.{h,c}: the per-connection event framer. Every case runs the framer over a whole
 * stream and records what it reports as one log ('E' + length + bytes per event, 'R' per
 * reject, with the reject's length in octet mode), then compares that log byte for byte with
 * the expected one, and with the logs of the same stream cut at every pair of positions (three
 * chunks, some empty). By hand: LF and CRLF lines, empty lines, a line of exactly max_line and
 * one byte more, octet counting with split LEN digits, "0 " frames, frames over max_line, bad
 * counts, the end of a stream in each mode, and lines and frames around the framer's first
 * 4 KiB buffer with max_line 10000, framer_pending after each kind of prefix. Then a seeded
 * random run (xorshift64*): random events, framed both ways by a plain reference, fed in
 * random chunk sizes, max_line up to 16000.
 * SLUICE_TEST_SEED=N changes the random run's seed (a fixed one by default).
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

#include "tx/framing.h"

/* ---- a growable byte log ---- */

struct log {
	uint8_t *p;
	size_t len, cap;
};

static void log_put(struct log *l, const void *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t nc = l->cap ? l->cap : 256;
		while (nc < l->len + n)
			nc *= 2;
		l->p = realloc(l->p, nc);
		assert_non_null(l->p);
		l->cap = nc;
	}
	if (n)
		memcpy(l->p + l->len, p, n);
	l->len += n;
}

static void log_len(struct log *l, size_t n)
{
	uint8_t b[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
	log_put(l, b, 4);
}

static void exp_event(struct log *l, const void *p, size_t n)
{
	log_put(l, "E", 1);
	log_len(l, n);
	log_put(l, p, n);
}

static void exp_str(struct log *l, const char *s) { exp_event(l, s, strlen(s)); }

/* Octet mode records the reject's length too: it is the LEN the sender announced. */
static void exp_reject(struct log *l, bool octets, size_t n)
{
	log_put(l, "R", 1);
	if (octets)
		log_len(l, n);
}

static void log_free(struct log *l)
{
	free(l->p);
	memset(l, 0, sizeof(*l));
}

/* ---- the framer's callbacks ---- */

struct rec {
	struct framer f;
	struct log got;
	size_t max;
};

static void on_event(void *ctx, const uint8_t *data, size_t len)
{
	struct rec *r = ctx;
	assert_true(len > 0);
	assert_true(len <= r->max);
	if (r->f.mode == FRAMER_LINES)
		assert_null(memchr(data, '\n', len));
	exp_event(&r->got, data, len);
}

static void on_reject(void *ctx, const char *why, size_t len)
{
	struct rec *r = ctx;
	assert_non_null(why);
	exp_reject(&r->got, r->f.mode == FRAMER_OCTETS, len);
}

static void rec_init(struct rec *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
	assert_int_equal(framer_init(&r->f, max, on_event, on_reject, r), 0);
}

static void rec_free(struct rec *r)
{
	framer_free(&r->f);
	log_free(&r->got);
}

/* Feeds s[0..n) cut at a and b (a <= b <= n): returns the first nonzero framer_feed result. */
static int feed3(struct rec *r, const uint8_t *s, size_t n, size_t a, size_t b)
{
	int rc = framer_feed(&r->f, s, a);
	if (rc == 0)
		rc = framer_feed(&r->f, s + a, b - a);
	if (rc == 0)
		rc = framer_feed(&r->f, s + b, n - b);
	return rc;
}

static void assert_log(const struct log *got, const struct log *want)
{
	if (got->len != want->len || (want->len && memcmp(got->p, want->p, want->len) != 0)) {
		print_error("framer log differs: got %zu bytes, want %zu\n", got->len, want->len);
		fail();
	}
}

/*
 * Runs the stream whole, byte by byte, and cut at every pair of positions; each run must give
 * exactly `want` and the return code `want_rc` (from the feeds; framer_finish after when
 * `finish`).
 */
static void check_stream(size_t max, const void *stream, size_t n, bool finish, int want_rc,
			 const struct log *want)
{
	const uint8_t *s = stream;
	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b++) {
			struct rec r;
			rec_init(&r, max);
			int rc = feed3(&r, s, n, a, b);
			if (rc != want_rc) {
				print_error("cut at %zu and %zu: rc %d, want %d\n", a, b, rc, want_rc);
				fail();
			}
			if (finish && rc == 0)
				framer_finish(&r.f);
			assert_log(&r.got, want);
			rec_free(&r);
		}
	}
	struct rec r;
	rec_init(&r, max);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = framer_feed(&r.f, s + i, 1);
	assert_int_equal(rc, want_rc);
	if (finish && rc == 0)
		framer_finish(&r.f);
	assert_log(&r.got, want);
	rec_free(&r);
}

#define STREAM(s) (s), (sizeof(s) - 1)

/* ---- lines ---- */

static void test_lines_split_everywhere(void **state)
{
	(void)state;
	static const char s[] = "alpha\nbeta gamma\r\n\n\r\ndelta\r\r\n{\"k\":\"v 1\"}\nend\n";
	struct log w = {0};
	exp_str(&w, "alpha");
	exp_str(&w, "beta gamma");
	exp_str(&w, "delta\r");
	exp_str(&w, "{\"k\":\"v 1\"}");
	exp_str(&w, "end");
	check_stream(64, STREAM(s), false, 0, &w);
	check_stream(64, STREAM(s), true, 0, &w); /* finish after a whole last line adds nothing */
	log_free(&w);
}

static void test_lines_crlf(void **state)
{
	(void)state;
	struct log w = {0};
	exp_str(&w, "a");
	exp_str(&w, "b\r");         /* one CR is dropped, not two */
	exp_str(&w, "c\rd");        /* a CR inside a line stays */
	exp_str(&w, "\re");         /* a CR at the start too */
	exp_str(&w, "f");
	check_stream(16, STREAM("a\r\nb\r\r\nc\rd\r\n\re\nf\r\n"), false, 0, &w);
	log_free(&w);

	/* A line of a lone CR is empty: nothing. */
	struct log none = {0};
	check_stream(16, STREAM("\r\n\r\n"), true, 0, &none);
}

static void test_lines_empty(void **state)
{
	(void)state;
	struct log w = {0};
	exp_str(&w, "x");
	exp_str(&w, "y");
	check_stream(8, STREAM("\n\n\nx\n\r\n\n\ny\n\n"), true, 0, &w);
	log_free(&w);

	/* The first byte is an LF: line mode, even though digits follow. */
	struct log d = {0};
	exp_str(&d, "5 hello");
	check_stream(8, STREAM("\n5 hello\n"), true, 0, &d);
	log_free(&d);

	/* A first byte '0' is not a count: line mode. */
	struct log z = {0};
	exp_str(&z, "0 x");
	check_stream(8, STREAM("0 x\n"), true, 0, &z);
	log_free(&z);
}

static void test_lines_max(void **state)
{
	(void)state;
	/* max_line 8: 8 bytes pass, with LF or CRLF; 9 are refused and the next line still comes. */
	struct log w = {0};
	exp_str(&w, "abcdefgh");
	exp_str(&w, "ABCDEFGH");
	exp_reject(&w, false, 9);
	exp_str(&w, "next");
	exp_reject(&w, false, 9);
	exp_str(&w, "after");
	exp_reject(&w, false, 40);
	exp_str(&w, "last");
	exp_str(&w, "1234567\r"); /* 8 bytes once its own CR is dropped */
	exp_reject(&w, false, 9);
	check_stream(8,
		     STREAM("abcdefgh\nABCDEFGH\r\nabcdefghi\nnext\nabcdefghi\r\nafter\n"
			    "0123456789012345678901234567890123456789\nlast\n1234567\r\r\n"
			    "12345678\r\r\n"),
		     true, 0, &w);
	log_free(&w);

	/* An overlong last line without LF, and one of exactly max_line: at the end of stream. */
	struct log a = {0};
	exp_reject(&a, false, 9);
	check_stream(8, STREAM("abcdefghi"), true, 0, &a);
	log_free(&a);
	struct log b = {0};
	exp_str(&b, "abcdefgh");
	check_stream(8, STREAM("abcdefgh"), true, 0, &b);
	log_free(&b);

	/* max_line 1. */
	struct log c = {0};
	exp_str(&c, "a");
	exp_reject(&c, false, 2);
	exp_str(&c, "c");
	check_stream(1, STREAM("a\r\nbb\nc\n"), true, 0, &c);
	log_free(&c);
}

static void test_lines_finish(void **state)
{
	(void)state;
	struct log w = {0};
	exp_str(&w, "one");
	exp_str(&w, "two without LF");
	check_stream(32, STREAM("one\ntwo without LF"), true, 0, &w);

	/* Without framer_finish the unfinished line is held, not reported. */
	struct log held = {0};
	exp_str(&held, "one");
	check_stream(32, STREAM("one\ntwo without LF"), false, 0, &held);

	/* A second finish adds nothing; nor does a finish on an empty stream. */
	struct rec r;
	rec_init(&r, 32);
	assert_int_equal(framer_feed(&r.f, (const uint8_t *)"one\ntwo without LF", 18), 0);
	framer_finish(&r.f);
	framer_finish(&r.f);
	assert_log(&r.got, &w);
	rec_free(&r);
	rec_init(&r, 32);
	framer_finish(&r.f);
	assert_int_equal(r.got.len, 0);
	rec_free(&r);
	log_free(&w);
	log_free(&held);
}

/* Feeds the stream in chunks of `chunk` bytes (0: whole) and finishes it. */
static void check_chunks(size_t max, const uint8_t *s, size_t n, size_t chunk, const struct log *want)
{
	struct rec r;
	rec_init(&r, max);
	for (size_t off = 0; off < n;) {
		size_t c = chunk && chunk < n - off ? chunk : n - off;
		assert_int_equal(framer_feed(&r.f, s + off, c), 0);
		off += c;
	}
	framer_finish(&r.f);
	assert_log(&r.got, want);
	rec_free(&r);
}

/* max_line past the framer's first 4 KiB buffer: lines and frames around both sizes. */
static void test_long_lines(void **state)
{
	(void)state;
	const size_t max = 10000;
	static const size_t sizes[] = {4094, 4095, 4096, 4097, 8191, 8192, 9999, 10000, 10001, 30000, 3};
	static const size_t chunks[] = {0, 1, 1000, 4095, 4096, 4097, 7, 10001};
	for (int octets = 0; octets < 2; octets++) {
		struct log s = {0}, w = {0};
		uint8_t *data = malloc(30000 + 2);
		assert_non_null(data);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = sizes[i];
			for (size_t k = 0; k < n; k++)
				data[k] = (uint8_t)('a' + (k * 7 + i) % 26);
			if (octets) {
				char len[24];
				int l = snprintf(len, sizeof(len), "%zu ", n);
				log_put(&s, len, (size_t)l);
				log_put(&s, data, n);
			} else {
				log_put(&s, data, n);
				log_put(&s, i % 2 ? "\r\n" : "\n", i % 2 ? 2 : 1);
			}
			if (n > max)
				exp_reject(&w, octets, n);
			else
				exp_event(&w, data, n);
		}
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
			check_chunks(max, s.p, s.len, chunks[c], &w);
		free(data);
		log_free(&s);
		log_free(&w);
	}
}

/* ---- octet counting ---- */

static void test_octets_split_everywhere(void **state)
{
	(void)state;
	struct log w = {0};
	exp_str(&w, "hello");
	exp_str(&w, "a\nb\r\nc");          /* LF and CR are data here */
	exp_str(&w, "twelve bytes");
	exp_str(&w, "x");
	check_stream(64, STREAM("5 hello6 a\nb\r\nc12 twelve bytes1 x"), false, 0, &w);
	check_stream(64, STREAM("5 hello6 a\nb\r\nc12 twelve bytes1 x"), true, 0, &w);
	log_free(&w);

	/* A three-digit LEN split everywhere, and a frame of exactly max_line. */
	uint8_t s[256];
	int n = snprintf((char *)s, sizeof(s), "100 ");
	memset(s + n, 'q', 100);
	memcpy(s + n + 100, "2 ok", 4);
	struct log m = {0};
	exp_event(&m, s + n, 100);
	exp_str(&m, "ok");
	check_stream(100, s, (size_t)n + 104, true, 0, &m);
	log_free(&m);
}

static void test_octets_zero_frames(void **state)
{
	(void)state;
	/* tx/framing.h: "zero-length frames are not events": skipped, the connection goes on. */
	struct log w = {0};
	exp_str(&w, "abc");
	exp_str(&w, "def");
	check_stream(16, STREAM("3 abc0 0 3 def0 "), true, 0, &w);
	log_free(&w);
}

static void test_octets_overlong(void **state)
{
	(void)state;
	/* max_line 8: LEN 9 is refused with its length and skipped; the next frame comes. */
	struct log w = {0};
	exp_str(&w, "12345678");
	exp_reject(&w, true, 9);
	exp_str(&w, "ok");
	exp_reject(&w, true, 30);
	exp_str(&w, "z");
	check_stream(8, STREAM("8 123456789 1234567892 ok30 012345678901234567890123456789"
			       "1 z"),
		     true, 0, &w);
	log_free(&w);

	/* Ten digits is the longest LEN: refused as too long, not as a bad count. */
	struct rec r;
	rec_init(&r, 8);
	assert_int_equal(framer_feed(&r.f, (const uint8_t *)STREAM("9999999999 abc")), 0);
	framer_finish(&r.f); /* the stream ends inside that frame */
	struct log e = {0};
	exp_reject(&e, true, 3);
	assert_log(&r.got, &e);
	rec_free(&r);
	log_free(&e);
}

static void test_octets_bad_count(void **state)
{
	(void)state;
	struct log w = {0};
	exp_str(&w, "abc");
	/* Events before the bad count are delivered, then -EPROTO, wherever the stream is cut. */
	check_stream(16, STREAM("3 abc03 abc"), false, -EPROTO, &w);      /* leading zero */
	check_stream(16, STREAM("3 abcx"), false, -EPROTO, &w);           /* a letter */
	check_stream(16, STREAM("3 abc3x abc"), false, -EPROTO, &w);      /* a letter after a digit */
	check_stream(16, STREAM("3 abc 3 abc"), false, -EPROTO, &w);      /* SP without LEN */
	check_stream(16, STREAM("3 abc\n3 abc"), false, -EPROTO, &w);     /* an LF between frames */
	check_stream(16, STREAM("3 abc3\tabc"), false, -EPROTO, &w);      /* not SP after LEN */
	check_stream(16, STREAM("3 abc12345678901 "), false, -EPROTO, &w); /* 11 digits */
	check_stream(16, STREAM("3 abc00000000001 x"), false, -EPROTO, &w);
	log_free(&w);

	struct log none = {0};
	check_stream(16, STREAM("1x"), false, -EPROTO, &none);
	check_stream(16, STREAM("12345678901 "), false, -EPROTO, &none);
}

static void test_octets_finish(void **state)
{
	(void)state;
	/* An unfinished frame at the end of stream is refused, never delivered in part. */
	struct log w = {0};
	exp_str(&w, "abc");
	exp_reject(&w, true, 3);
	check_stream(16, STREAM("3 abc5 hel"), true, 0, &w);
	log_free(&w);

	/* Only LEN digits, or LEN and SP, then the end. */
	struct rec r;
	rec_init(&r, 16);
	assert_int_equal(framer_feed(&r.f, (const uint8_t *)STREAM("3 abc12")), 0);
	framer_finish(&r.f);
	assert_int_equal(r.got.len, 8 + 5); /* 'E', length, "abc"; 'R', length */
	assert_int_equal(r.got.p[8], 'R');
	rec_free(&r);
	rec_init(&r, 16);
	assert_int_equal(framer_feed(&r.f, (const uint8_t *)STREAM("3 abc4 ")), 0);
	framer_finish(&r.f);
	assert_int_equal(r.got.len, 8 + 5);
	assert_int_equal(r.got.p[8], 'R');
	rec_free(&r);

	/* A finish after whole frames only reports nothing more; a second finish neither. */
	struct log full = {0};
	exp_str(&full, "abc");
	rec_init(&r, 16);
	assert_int_equal(framer_feed(&r.f, (const uint8_t *)STREAM("3 abc")), 0);
	framer_finish(&r.f);
	framer_finish(&r.f);
	assert_log(&r.got, &full);
	rec_free(&r);
	log_free(&full);
}

/* ---- seeded random: a reference framing, random chunk sizes ---- */

static uint64_t xs_state;

static uint64_t xs(void) /* xorshift64* */
{
	xs_state ^= xs_state >> 12;
	xs_state ^= xs_state << 25;
	xs_state ^= xs_state >> 27;
	return xs_state * 0x2545f4914f6cdd1dull;
}

static size_t xs_below(size_t n) { return n ? (size_t)(xs() % n) : 0; }

/* A byte for a line: never LF; CR and digits often, to hit the CR rule and the mode choice. */
static uint8_t line_byte(void)
{
	switch (xs_below(8)) {
	case 0:
		return '\r';
	case 1:
		return (uint8_t)('0' + xs_below(10));
	default: {
		uint8_t c = (uint8_t)xs();
		return c == '\n' ? ' ' : c;
	}
	}
}

/* One random stream in line mode: the bytes and what the framer must report. */
static void random_lines(struct log *s, struct log *w, size_t max)
{
	size_t nlines = 1 + xs_below(40);
	uint8_t *line = malloc(3 * max + 4);
	assert_non_null(line);
	if (xs_below(2)) {
		if (xs_below(2))
			log_put(s, "\n", 1); /* an empty first line */
		else
			log_put(s, "\r\n", 2);
	}
	for (size_t i = 0; i < nlines; i++) {
		size_t n;
		switch (xs_below(6)) {
		case 0:
			n = 0;
			break;
		case 1:
			n = max + 1 + xs_below(2 * max + 2); /* overlong */
			break;
		case 2:
			n = max + (xs_below(3)) - 1; /* at the edge */
			break;
		default:
			n = 1 + xs_below(max);
		}
		for (size_t k = 0; k < n; k++)
			line[k] = line_byte();
		/* Line mode needs a first byte outside 1-9. */
		if (s->len == 0 && (n == 0 || (line[0] >= '1' && line[0] <= '9'))) {
			if (n == 0)
				n = 1;
			line[0] = 'L';
		}
		bool last = i + 1 == nlines;
		/* LF, CRLF, or (for the last line) nothing and framer_finish. */
		int end = last ? (int)xs_below(3) : (int)xs_below(2);
		size_t eff = n;
		if (end == 0 && n && line[n - 1] == '\r')
			eff--; /* "x\r" + LF: the framer drops that CR */
		if (end == 2 && n && line[n - 1] == '\r')
			end = 1; /* keep the case of a CR right before the end of stream out */
		log_put(s, line, n);
		if (end == 0)
			log_put(s, "\n", 1);
		else if (end == 1)
			log_put(s, "\r\n", 2);
		if (eff > max)
			exp_reject(w, false, 0);
		else if (eff)
			exp_event(w, line, eff);
	}
	free(line);
}

static void random_octets(struct log *s, struct log *w, size_t max)
{
	size_t nframes = 1 + xs_below(40);
	uint8_t *msg = malloc(3 * max + 4);
	assert_non_null(msg);
	for (size_t i = 0; i < nframes; i++) {
		size_t n = xs_below(5) == 0 ? max + 1 + xs_below(2 * max + 2) : 1 + xs_below(max);
		for (size_t k = 0; k < n; k++)
			msg[k] = (uint8_t)xs();
		char len[24];
		int l = snprintf(len, sizeof(len), "%zu ", n);
		log_put(s, len, (size_t)l);
		bool cut = i + 1 == nframes && xs_below(4) == 0;
		size_t sent = cut ? xs_below(n) : n;
		log_put(s, msg, sent);
		if (cut)
			exp_reject(w, true, sent); /* the end of stream inside the frame */
		else if (n > max)
			exp_reject(w, true, n);
		else
			exp_event(w, msg, n);
	}
	free(msg);
}

/* For a failure: the stream (C-escaped) and the two logs, to make a hand case of it. */
static void dump(const char *what, const struct log *l)
{
	fprintf(stderr, "%s (%zu bytes): \"", what, l->len);
	for (size_t i = 0; i < l->len && i < 4096; i++) {
		uint8_t c = l->p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x\"\"", c);
	}
	fprintf(stderr, "\"\n");
}

static void test_random(void **state)
{
	(void)state;
	const char *e = getenv("SLUICE_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : 0x5111ce0f4a31ull;
	printf("test_framing: seed %" PRIu64 " (SLUICE_TEST_SEED=%" PRIu64 " repeats this run)\n", seed,
	       seed);
	xs_state = seed ? seed : 1;
	for (int round = 0; round < 3000; round++) {
		/* Tiny, ordinary, and past the framer's first 4 KiB buffer (it grows to max + 1). */
		size_t max = round % 10 == 9    ? 4000 + xs_below(12000)
			     : xs_below(4) == 0 ? 1 + xs_below(4)
						 : 1 + xs_below(300);
		bool octets = xs_below(2);
		struct log s = {0}, w = {0};
		if (octets)
			random_octets(&s, &w, max);
		else
			random_lines(&s, &w, max);
		struct rec r;
		rec_init(&r, max);
		size_t off = 0;
		while (off < s.len) {
			size_t chunk = xs_below(4) == 0 ? xs_below(4) : 1 + xs_below(2 * max + 16);
			if (chunk > s.len - off)
				chunk = s.len - off;
			int rc = framer_feed(&r.f, s.p + off, chunk);
			if (rc != 0) {
				print_error("round %d (seed %" PRIu64 "): framer_feed %d at offset %zu\n",
					    round, seed, rc, off);
				dump("stream", &s);
				fail();
			}
			off += chunk;
		}
		framer_finish(&r.f);
		assert_int_equal(r.f.mode, octets ? FRAMER_OCTETS : FRAMER_LINES);
		if (r.got.len != w.len || (w.len && memcmp(r.got.p, w.p, w.len) != 0)) {
			print_error("round %d (seed %" PRIu64 ", %s, max_line %zu): the logs differ\n", round,
				    seed, octets ? "octets" : "lines", max);
			dump("stream", &s);
			dump("want", &w);
			dump("got", &r.got);
			fail();
		}
		rec_free(&r);
		log_free(&s);
		log_free(&w);
	}
}

/* framer_pending: what intake counts as dropped when it closes a connection itself. */
static void test_pending(void **state)
{
	(void)state;
	static const struct {
		const char *stream;
		size_t max;
		bool pending;
		size_t bytes;
	} cases[] = {
		{"", 16, false, 0},		 /* nothing read yet */
		{"one\n", 16, false, 0},	 /* a whole line */
		{"one\ntw", 16, true, 2},	 /* a line begun */
		{"one\r", 16, true, 4},	 /* the CR still belongs to it */
		{"0123456789abcdefXYZ", 16, true, 19}, /* over max_line: being skipped */
		{"0123456789abcdefXYZ\n", 16, false, 0},
		{"12", 16, true, 0},		 /* octets: LEN begun */
		{"5 abc", 16, true, 3},		 /* octets: MSG begun */
		{"5 abcde", 16, false, 0},	 /* octets: a whole frame */
		{"5 abcde0 ", 16, false, 0},	 /* octets: then an empty frame */
		{"20 abc", 16, true, 3},	 /* octets: over max_line, being skipped */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rec r;
		rec_init(&r, cases[i].max);
		size_t n = strlen(cases[i].stream), bytes = 99;
		assert_int_equal(framer_feed(&r.f, (const uint8_t *)cases[i].stream, n), 0);
		bool p = framer_pending(&r.f, &bytes);
		if (p != cases[i].pending || (p && bytes != cases[i].bytes))
			fail_msg("'%s': pending %d (%zu bytes), want %d (%zu)", cases[i].stream, p, bytes,
				 cases[i].pending, cases[i].bytes);
		framer_finish(&r.f);
		assert_false(framer_pending(&r.f, &bytes));
		rec_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_lines_split_everywhere),
		cmocka_unit_test(test_lines_crlf),
		cmocka_unit_test(test_lines_empty),
		cmocka_unit_test(test_lines_max),
		cmocka_unit_test(test_lines_finish),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_octets_split_everywhere),
		cmocka_unit_test(test_octets_zero_frames),
		cmocka_unit_test(test_octets_overlong),
		cmocka_unit_test(test_octets_bad_count),
		cmocka_unit_test(test_octets_finish),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
