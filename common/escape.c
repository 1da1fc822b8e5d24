/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"

/* The escaped form of the character or byte at p (n bytes left) into unit; its length. */
static size_t next_unit(const uint8_t *p, size_t n, char unit[16], size_t *consumed)
{
	size_t l = utf8_seq(p, n);
	*consumed = 1;
	if (p[0] == '\\') {
		memcpy(unit, "\\\\", 2);
		return 2;
	}
	if (p[0] >= 0x20 && p[0] <= 0x7e) {
		unit[0] = (char)p[0];
		return 1;
	}
	if (l > 1) {
		uint32_t cp = p[0] & (l == 2 ? 0x1f : l == 3 ? 0x0f : 0x07);
		for (size_t k = 1; k < l; k++)
			cp = (cp << 6) | (p[k] & 0x3f);
		*consumed = l;
		return (size_t)snprintf(unit, 16, "\\u{%x}", (unsigned)cp);
	}
	return (size_t)snprintf(unit, 16, "\\x%02x", p[0]);
}

const char *escape_name(const char *s, char *buf, size_t cap)
{
	if (!s) {
		snprintf(buf, cap, "(none)");
		return buf;
	}
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), total = 0, used;
	char unit[16]; /* the longest: "\u{10ffff}" */
	for (size_t i = 0; i < n && total <= cap - 1; i += used)
		total += next_unit(p + i, n - i, unit, &used);
	bool cut = total > cap - 1;
	size_t room = cut ? cap - 1 - 3 : cap - 1, out = 0;
	for (size_t i = 0; i < n; i += used) {
		size_t ulen = next_unit(p + i, n - i, unit, &used);
		if (out + ulen > room)
			break;
		memcpy(buf + out, unit, ulen);
		out += ulen;
	}
	if (cut) {
		memcpy(buf + out, "...", 3);
		out += 3;
	}
	buf[out] = '\0';
	return buf;
}
