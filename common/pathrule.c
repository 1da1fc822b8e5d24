/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/pathrule.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"

/* Code points a name must not hold beyond C0 and DEL (common/pathrule.h), ascending. */
static const struct {
	uint32_t lo, hi;
	const char *what;
} unreadable[] = {
	{0x0080, 0x009f, "a control character"},
	{0x00ad, 0x00ad, "an invisible format character"},
	{0x0600, 0x0605, "an invisible format character"},
	{0x061c, 0x061c, "a bidirectional control"},
	{0x06dd, 0x06dd, "an invisible format character"},
	{0x070f, 0x070f, "an invisible format character"},
	{0x0890, 0x0891, "an invisible format character"},
	{0x08e2, 0x08e2, "an invisible format character"},
	{0x180e, 0x180e, "an invisible format character"},
	{0x200b, 0x200d, "an invisible format character"},
	{0x200e, 0x200f, "a bidirectional control"},
	{0x2028, 0x2029, "a line or paragraph separator"},
	{0x202a, 0x202e, "a bidirectional control"},
	{0x2060, 0x2064, "an invisible format character"},
	{0x2066, 0x2069, "a bidirectional control"},
	{0x206a, 0x206f, "an invisible format character"},
	{0xfeff, 0xfeff, "an invisible format character"},
	{0xfff9, 0xfffb, "an invisible format character"},
	{0x110bd, 0x110bd, "an invisible format character"},
	{0x110cd, 0x110cd, "an invisible format character"},
	{0x13430, 0x1343f, "an invisible format character"},
	{0x1bca0, 0x1bca3, "an invisible format character"},
	{0x1d173, 0x1d17a, "an invisible format character"},
	{0xe0000, 0xe007f, "an invisible format character"},
};

static int refuse(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	if (why && whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *unreadable_kind(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++) {
		if (cp < unreadable[i].lo)
			return NULL;
		if (cp <= unreadable[i].hi)
			return unreadable[i].what;
	}
	return NULL;
}

/* The code point of a valid sequence of len bytes (utf8_seq said so). */
static uint32_t decode(const uint8_t *p, size_t len)
{
	static const uint8_t lead_mask[5] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	uint32_t cp = p[0] & lead_mask[len];
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	return cp;
}

int pathrule_spool_check(const char *spool, char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!spool)
		return refuse(why, whylen, "missing spool name");
	size_t n = strnlen(spool, PATHRULE_SPOOL_MAX + 1);
	if (n == 0)
		return refuse(why, whylen, "empty spool name");
	if (n > PATHRULE_SPOOL_MAX)
		return refuse(why, whylen, "spool name longer than %d bytes", PATHRULE_SPOOL_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = spool[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return refuse(why, whylen, "spool name has a byte outside [a-z0-9._-] at %zu", i);
	}
	if (strcmp(spool, "..") == 0)
		return refuse(why, whylen, "spool name '..' would leave the output folder");
	if (strcmp(spool, ".") == 0)
		return refuse(why, whylen, "spool name '.' is the output folder itself");
	if (spool[0] == '.')
		return refuse(why, whylen, "spool name starts with '.' (hidden names are refused)");
	return 0;
}

static int check_component(const char *c, size_t len, unsigned idx, char *why, size_t whylen)
{
	if (len == 0)
		return refuse(why, whylen, "path component %u is empty ('//' or a trailing '/')", idx);
	if (len > PATHRULE_NAME_MAX)
		return refuse(why, whylen, "path component %u is longer than %d bytes", idx,
			      PATHRULE_NAME_MAX);
	if (len == 2 && c[0] == '.' && c[1] == '.')
		return refuse(why, whylen, "path component '..' would leave the output folder");
	if (len == 1 && c[0] == '.')
		return refuse(why, whylen, "path component '.' is not allowed");
	if (c[0] == '.')
		return refuse(why, whylen, "path component %u starts with '.' (hidden names are refused)",
			      idx);
	return 0;
}

int pathrule_check(const char *rel, char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!rel)
		return refuse(why, whylen, "missing path");
	size_t n = strnlen(rel, PATHRULE_PATH_MAX + 1);
	if (n == 0)
		return refuse(why, whylen, "empty path");
	if (n > PATHRULE_PATH_MAX)
		return refuse(why, whylen, "path longer than %d bytes", PATHRULE_PATH_MAX);
	if (rel[0] == '/')
		return refuse(why, whylen, "absolute path: it would leave the output folder");
	/* Bytes first, so that the reasons below never describe an unprintable name. */
	const uint8_t *p = (const uint8_t *)rel;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return refuse(why, whylen, "path has a control byte 0x%02x at %zu", p[i], i);
		if (p[i] == '\\')
			return refuse(why, whylen, "path has a backslash at %zu", i);
		size_t l = utf8_seq(p + i, n - i);
		if (l == 0)
			return refuse(why, whylen, "path is not valid UTF-8 at byte %zu", i);
		if (l > 1) {
			uint32_t cp = decode(p + i, l);
			const char *what = unreadable_kind(cp);
			if (what)
				return refuse(why, whylen, "path has %s U+%04X at byte %zu", what,
					      (unsigned)cp, i);
		}
		i += l;
	}
	unsigned depth = 0;
	const char *c = rel;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (++depth > PATHRULE_DEPTH_MAX)
			return refuse(why, whylen, "path deeper than %d components", PATHRULE_DEPTH_MAX);
		int rc = check_component(c, len, depth, why, whylen);
		if (rc)
			return rc;
		if (!slash)
			break;
		c = slash + 1;
	}
	return 0;
}
