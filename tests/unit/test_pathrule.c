/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/pathrule.{h,c}: the one rule set both sides apply to a spool file's name. A table of
 * relative paths, one or more per class of refusal with the words its reason must contain;
 * every code point U+0000..U+10FFFF, alone and inside a name, against a reference list of the
 * refused ranges written out here independently of the implementation's table; spool names;
 * and the limits shared with the manifest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/manifest.h"
#include "common/pathrule.h"
#include "rx/safepath.h"

struct rcase {
	const char *path;
	const char *why; /* NULL: accepted; else a substring of the reason */
};

static const struct rcase cases[] = {
	{"seg.ts", NULL},
	{"2026/11/22/caf\xc3\xa9 \xe2\x82\xac.mp4", NULL},
	{"\xf0\x9f\x8e\xa5", NULL},
	{"a\xc2\x9b" "b", "control character U+009B at byte 1"},
	{"\xc2\x9f", "control character U+009F at byte 0"},
	{"rlo-\xe2\x80\xaestp.exe", "bidirectional control U+202E at byte 4"},
	{"\xe2\x80\xaa", "bidirectional control U+202A"},
	{"\xe2\x81\xa9", "bidirectional control U+2069"},
	{"\xe2\x80\x8e", "bidirectional control U+200E"},
	{"\xd8\x9c", "bidirectional control U+061C"},
	{"zw\xe2\x80\x8bsp", "invisible format character U+200B at byte 2"},
	{"\xe2\x80\x8d", "invisible format character U+200D"},
	{"\xe2\x81\xa0", "invisible format character U+2060"},
	{"\xe2\x81\xa4", "invisible format character U+2064"},
	{"\xef\xbb\xbf" "bom", "invisible format character U+FEFF at byte 0"},
	{"\xc2\xad", "invisible format character U+00AD"},
	{"\xe1\xa0\x8e", "invisible format character U+180E"},
	{"\xf3\xa0\x80\x80", "invisible format character U+E0000"},
	{"\xf3\xa0\x81\xbf", "invisible format character U+E007F"},
	{"\xe2\x80\xa9", "line or paragraph separator U+2029"},
	{"a\tb", "control byte 0x09 at 1"},
	{"a\nb", "control byte 0x0a at 1"},
	{"\x7f", "control byte 0x7f"},
	{"a\xff" "b", "not valid UTF-8 at byte 1"},
	{"\xc2", "not valid UTF-8"},
	{"../x", "path component '..' would leave the output folder"},
	{"/x", "absolute path"},
	{".x", "starts with '.'"},
	{"a\\b", "backslash"},
	{"", "empty path"},
};

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		char why[256];
		memset(why, 'X', sizeof(why));
		int rc = pathrule_check(c->path, why, sizeof(why));
		if (!c->why) {
			if (rc != 0)
				fail_msg("case %zu refused: %s", i, why);
			assert_string_equal(why, "");
			continue;
		}
		if (rc != -EINVAL)
			fail_msg("case %zu (%zu bytes) accepted", i, strlen(c->path));
		if (!strstr(why, c->why))
			fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, why, c->why);
		for (const char *w = why; *w; w++)
			assert_true((unsigned char)*w >= 0x20 && (unsigned char)*w < 0x7f);
		/* the receiver refuses it for the same reason */
		char rwhy[256];
		assert_int_equal(safepath_check("cam", c->path, rwhy, sizeof(rwhy)), -EINVAL);
		assert_string_equal(rwhy, why);
	}
}

/* Cc, Cf, Zl and Zp of Unicode 15.1, and the whole tag block: the refused code points. */
static const uint32_t refused[][2] = {
	{0x0000, 0x001f}, {0x007f, 0x009f}, {0x00ad, 0x00ad}, {0x0600, 0x0605}, {0x061c, 0x061c},
	{0x06dd, 0x06dd}, {0x070f, 0x070f}, {0x0890, 0x0891}, {0x08e2, 0x08e2}, {0x180e, 0x180e},
	{0x200b, 0x200f}, {0x2028, 0x202e}, {0x2060, 0x2064}, {0x2066, 0x206f}, {0xfeff, 0xfeff},
	{0xfff9, 0xfffb}, {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
	{0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe007f},
};

static bool is_refused(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (cp >= refused[i][0] && cp <= refused[i][1])
			return true;
	return false;
}

static size_t put_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static void test_every_code_point(void **state)
{
	unsigned nrefused = 0;
	for (uint32_t cp = 1; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue; /* not encodable: invalid UTF-8, covered by the table */
		char name[16] = "x";
		size_t n = 1 + put_utf8(cp, name + 1);
		memcpy(name + n, "y", 2);
		bool want_refused = is_refused(cp) || cp == '/' || cp == '\\';
		if (cp == '/') /* "x/y": two components, fine */
			want_refused = false;
		char why[128];
		int rc = pathrule_check(name, why, sizeof(why));
		if (want_refused != (rc != 0))
			fail_msg("U+%04X: %s", (unsigned)cp, rc ? why : "accepted");
		if (rc != 0 && cp >= 0x80) {
			char hex[32];
			snprintf(hex, sizeof(hex), "U+%04X at byte 1", (unsigned)cp);
			if (!strstr(why, hex))
				fail_msg("U+%04X: reason \"%s\" does not name it", (unsigned)cp, why);
		}
		nrefused += rc != 0;
	}
	/* 31 C0 (NUL aside), DEL, 32 C1, the backslash and 203 more: pins the reference list. */
	assert_int_equal(nrefused, 268);
}

static void test_limits(void **state)
{
	_Static_assert(MANIFEST_SPOOL_MAX == PATHRULE_SPOOL_MAX, "one spool name limit");
	_Static_assert(MANIFEST_PATH_MAX == PATHRULE_PATH_MAX, "one path limit");
	_Static_assert(SAFEPATH_PATH_MAX == PATHRULE_PATH_MAX, "one path limit");
	char path[PATHRULE_PATH_MAX + 16], why[128];
	/* depth 32 accepted, 33 refused */
	size_t n = 0;
	for (int i = 0; i < 33; i++) {
		path[n++] = 'd';
		path[n++] = '/';
	}
	path[2 * 32 - 1] = '\0';
	assert_int_equal(pathrule_check(path, why, sizeof(why)), 0);
	path[2 * 32 - 1] = '/';
	path[2 * 33 - 1] = '\0';
	assert_int_equal(pathrule_check(path, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "deeper than 32 components"));
	/* 4095 bytes accepted, 4096 refused */
	for (n = 0; n < PATHRULE_PATH_MAX; n++)
		path[n] = (n % 200 == 199) ? '/' : 'p';
	path[n] = '\0';
	assert_int_equal(pathrule_check(path, why, sizeof(why)), 0);
	path[n] = 'p';
	path[n + 1] = '\0';
	assert_int_equal(pathrule_check(path, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than 4095 bytes"));
	/* a component of 256 bytes */
	memset(path, 'c', 256);
	path[256] = '\0';
	assert_int_equal(pathrule_check(path, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "component 1 is longer than 255 bytes"));
	assert_int_equal(pathrule_check(NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(pathrule_check("a\nb", NULL, 0), -EINVAL);
}

static void test_spool(void **state)
{
	char why[128];
	assert_int_equal(pathrule_spool_check("cam-north.2_x", why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(pathrule_spool_check(".cam", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "starts with '.'"));
	assert_int_equal(pathrule_spool_check("Cam", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "outside [a-z0-9._-]"));
	assert_int_equal(pathrule_spool_check("", why, sizeof(why)), -EINVAL);
	char s[70];
	memset(s, 's', 63);
	s[63] = '\0';
	assert_int_equal(pathrule_spool_check(s, why, sizeof(why)), 0);
	s[63] = 's';
	s[64] = '\0';
	assert_int_equal(pathrule_spool_check(s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than 63"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_spool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
