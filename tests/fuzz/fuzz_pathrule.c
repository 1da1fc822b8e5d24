/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the name rules (common/pathrule.c) the receiver applies to spool names
 * and relative paths from the link, and for escape_name (common/escape.c), which every log
 * line naming a file goes through. The input, up to its first NUL, is the name.
 *
 * pathrule_check and pathrule_spool_check are compared both ways with an oracle written here
 * from the rules in common/pathrule.h (UTF-8 by tests/unit/ref_utf8.h), so a name is accepted
 * exactly when it keeps them: an accepted path has no byte < 0x20, no DEL, no backslash, is
 * valid UTF-8 without the refused code points, has no empty, ".", ".." or hidden component
 * and at most PATHRULE_DEPTH_MAX of them. A refusal gives a non-empty reason of printable
 * ASCII; the reason buffer is allocated at its exact size (1..64 bytes) so overruns show.
 *
 * escape_name: printable ASCII only, within cap - 1 bytes, decoding back to exactly the name
 * when it fits, else to a prefix of it followed by "...", cut no earlier than it had to be.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/pathrule.h"
#include "tests/unit/ref_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_pathrule: %s\n", what);
		abort();
	}
}

/* ---- oracle for common/pathrule.h ---- */

static bool refused_cp(uint32_t cp)
{
	static const uint32_t r[][2] = {
		{0x0000, 0x001f}, {0x007f, 0x009f}, {0x00ad, 0x00ad}, {0x0600, 0x0605}, {0x061c, 0x061c},
		{0x06dd, 0x06dd}, {0x070f, 0x070f}, {0x0890, 0x0891}, {0x08e2, 0x08e2}, {0x180e, 0x180e},
		{0x200b, 0x200f}, {0x2028, 0x202e}, {0x2060, 0x2064}, {0x2066, 0x206f}, {0xfeff, 0xfeff},
		{0xfff9, 0xfffb}, {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
		{0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe007f},
	};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (cp >= r[i][0] && cp <= r[i][1])
			return true;
	return false;
}

static uint32_t ref_decode(const uint8_t *p, size_t len)
{
	if (len == 1)
		return p[0];
	uint32_t cp = p[0] & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (size_t k = 1; k < len; k++)
		cp = cp << 6 | (p[k] & 0x3f);
	return cp;
}

static bool ref_path_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > PATHRULE_PATH_MAX)
		return false;
	const uint8_t *p = (const uint8_t *)s;
	for (size_t i = 0; i < n;) {
		size_t l = ref_utf8(p + i, n - i);
		if (l == 0 || refused_cp(ref_decode(p + i, l)) || p[i] == '\\')
			return false;
		i += l;
	}
	unsigned depth = 0;
	for (size_t i = 0; i <= n;) {
		size_t len = strcspn(s + i, "/");
		const char *c = s + i;
		if (++depth > PATHRULE_DEPTH_MAX || len == 0 || len > PATHRULE_NAME_MAX || c[0] == '.')
			return false; /* '.' first also covers "." and ".." */
		i += len + 1;
	}
	return true;
}

static bool ref_spool_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > PATHRULE_SPOOL_MAX || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void check_reason(int rc, const char *why, size_t whylen)
{
	size_t n = strnlen(why, whylen);
	check(n < whylen, "reason not NUL-terminated within its buffer");
	if (rc == 0) {
		check(n == 0, "a reason given on success");
		return;
	}
	check(rc < 0, "positive return");
	check(n > 0 || whylen == 1, "a refusal without a reason");
	for (size_t i = 0; i < n; i++)
		check(why[i] >= 0x20 && why[i] < 0x7f, "a reason that is not printable ASCII");
}

/* ---- escape_name ---- */

static void put_utf8(uint8_t *out, size_t *o, uint32_t cp)
{
	if (cp < 0x800) {
		out[(*o)++] = (uint8_t)(0xc0 | cp >> 6);
	} else if (cp < 0x10000) {
		out[(*o)++] = (uint8_t)(0xe0 | cp >> 12);
		out[(*o)++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	} else {
		out[(*o)++] = (uint8_t)(0xf0 | cp >> 18);
		out[(*o)++] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		out[(*o)++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	}
	out[(*o)++] = (uint8_t)(0x80 | (cp & 0x3f));
}

/* Decodes the first len bytes of an escaped name into out (room for 4 * len bytes); its length.
 * Each escape must be well formed and the shortest way to write its byte or character. */
static size_t unescape(const char *e, size_t len, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		char c = e[i];
		check(c >= 0x20 && c < 0x7f, "escaped name not printable ASCII");
		if (c != '\\') {
			out[o++] = (uint8_t)c;
			i++;
			continue;
		}
		check(i + 1 < len, "a lone backslash at the end");
		if (e[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
		} else if (e[i + 1] == 'x') {
			unsigned v = 0;
			check(i + 4 <= len && sscanf(e + i + 2, "%2x", &v) == 1 &&
				      strspn(e + i + 2, "0123456789abcdef") >= 2,
			      "bad \\x escape");
			check(!(v >= 0x20 && v < 0x7f), "\\x escape of a printable byte");
			out[o++] = (uint8_t)v;
			i += 4;
		} else if (e[i + 1] == 'u') {
			const char *close = memchr(e + i, '}', len - i);
			check(e[i + 2] == '{' && close, "bad \\u escape");
			size_t hex = (size_t)(close - (e + i + 3));
			check(hex >= 2 && hex <= 6 && strspn(e + i + 3, "0123456789abcdef") == hex,
			      "bad \\u escape digits");
			uint32_t cp = (uint32_t)strtoul(e + i + 3, NULL, 16);
			check(cp >= 0x80 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff),
			      "\\u escape of a code point with no multi-byte UTF-8 form");
			put_utf8(out, &o, cp);
			i = (size_t)(close - e) + 1;
		} else {
			check(false, "unknown escape");
		}
	}
	return o;
}

static void check_escape(const char *s, size_t n, size_t cap, char *full, size_t full_len)
{
	char *buf = malloc(cap); /* exact size: ASan sees an overrun */
	uint8_t *dec = malloc(4 * cap + 4);
	check(buf && dec, "out of memory");
	check(escape_name(s, buf, cap) == buf, "escape_name does not return buf");
	size_t len = strnlen(buf, cap);
	check(len < cap, "escaped name longer than cap - 1");
	if (full_len <= cap - 1) {
		check(len == full_len && memcmp(buf, full, len) == 0, "a name that fits was changed");
	} else {
		check(len >= 3 && memcmp(buf + len - 3, "...", 3) == 0, "a cut name without '...'");
		size_t d = unescape(buf, len - 3, dec);
		check(d <= n && memcmp(dec, s, d) == 0, "a cut name is not a prefix of the name");
		check(memcmp(full, buf, len - 3) == 0, "a cut name is not a prefix of the full one");
		/* "\u{10ffff}" is the longest unit: cutting earlier wastes room. */
		check(len - 3 + 10 > cap - 1 - 3, "cut earlier than needed");
	}
	free(dec);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	char *s = malloc(n + 1);
	check(s != NULL, "out of memory");
	memcpy(s, data, n);
	s[n] = '\0';

	size_t whylen = 1 + size % 64;
	char *why = malloc(whylen);
	check(why != NULL, "out of memory");
	memset(why, 'X', whylen);
	int rc = pathrule_check(s, why, whylen);
	check_reason(rc, why, whylen);
	check((rc == 0) == ref_path_ok(s), rc == 0 ? "pathrule_check accepted a name that breaks the rules"
						  : "pathrule_check refused a name that keeps the rules");
	check(pathrule_check(s, NULL, 0) == rc, "result depends on the reason buffer");
	memset(why, 'X', whylen);
	rc = pathrule_spool_check(s, why, whylen);
	check_reason(rc, why, whylen);
	check((rc == 0) == ref_spool_ok(s), rc == 0 ? "pathrule_spool_check accepted a bad spool name"
						   : "pathrule_spool_check refused a good spool name");
	free(why);

	/* The full escape (each unit is at most 10 bytes for 1 input byte or more). */
	size_t fcap = 10 * n + 16;
	char *full = malloc(fcap);
	uint8_t *dec = malloc(4 * fcap);
	check(full && dec, "out of memory");
	escape_name(s, full, fcap);
	size_t full_len = strlen(full);
	check(full_len < fcap, "escape longer than its bound");
	size_t d = unescape(full, full_len, dec);
	check(d == n && memcmp(dec, s, n) == 0, "escaped name does not decode back to the name");
	free(dec);
	check_escape(s, n, ESCAPE_NAME_MAX, full, full_len);
	check_escape(s, n, 4 + size % 61, full, full_len);
	check_escape(s, n, 4 + n % 13, full, full_len);
	free(full);
	free(s);
	return 0;
}
