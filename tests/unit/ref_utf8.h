/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test oracle shared by tests/unit/test_events.c and tests/fuzz/fuzz_events.c: well-formed
 * UTF-8 per the Unicode Standard's Table 3-7, written as a table so that it stays independent
 * of the code under test (common/utf8.c).
 */
#ifndef SLUICE_TESTS_REF_UTF8_H
#define SLUICE_TESTS_REF_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length of the well-formed UTF-8 sequence at p (n bytes left), or 0. */
static size_t ref_utf8(const uint8_t *p, size_t n)
{
	static const struct {
		uint8_t lo0, hi0, lo1, hi1, len;
	} t[] = {
		{0x00, 0x7f, 0, 0, 1},       {0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3},
		{0xe1, 0xec, 0x80, 0xbf, 3}, {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3},
		{0xf0, 0xf0, 0x90, 0xbf, 4}, {0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (p[0] < t[i].lo0 || p[0] > t[i].hi0)
			continue;
		if (t[i].len == 1)
			return 1;
		if (n < t[i].len || p[1] < t[i].lo1 || p[1] > t[i].hi1)
			return 0;
		for (size_t k = 2; k < t[i].len; k++)
			if (p[k] < 0x80 || p[k] > 0xbf)
				return 0;
		return t[i].len;
	}
	return 0;
}

#endif
