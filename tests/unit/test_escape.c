/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/escape.{h,c}: a table of names and their escaped form; truncation that never splits
 * an escape; random byte strings, whose escaped form is printable ASCII and decodes back to the
 * same bytes (seeded); and a log line carrying a hostile name, read back from stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/log.h"
#include "seeded.h"

static const char *const table[][2] = {
	{"cam/2026/seg 1.ts", "cam/2026/seg 1.ts"},
	{"", ""},
	{"rlo-\xe2\x80\xaestp.exe", "rlo-\\u{202e}stp.exe"},
	{"a\x1b[31mred", "a\\x1b[31mred"},
	{"csi\xc2\x9b" "31m", "csi\\u{9b}31m"},
	{"caf\xc3\xa9", "caf\\u{e9}"},
	{"\xf0\x9f\x8e\xa5", "\\u{1f3a5}"},
	{"\xef\xbb\xbf\xe2\x80\x8b", "\\u{feff}\\u{200b}"},
	{"a\xff" "b", "a\\xffb"},
	{"\xc0\xaf", "\\xc0\\xaf"},          /* overlong '/': two bad bytes */
	{"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* a surrogate */
	{"\xe2\x82", "\\xe2\\x82"},          /* cut short */
	{"a\\x41", "a\\\\x41"},              /* a literal backslash cannot pose as an escape */
	{"\n\t\r\x7f", "\\x0a\\x09\\x0d\\x7f"},
	{"~!\"#$%&'()*+,-./:;<=>?@[]^_`{|}", "~!\"#$%&'()*+,-./:;<=>?@[]^_`{|}"},
};

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char buf[256];
		const char *r = escape_name(table[i][0], buf, sizeof(buf));
		assert_ptr_equal(r, buf);
		if (strcmp(buf, table[i][1]) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf, table[i][1]);
		assert_string_equal(ESCAPED(table[i][0]), table[i][1]);
	}
	char buf[16];
	assert_string_equal(escape_name(NULL, buf, sizeof(buf)), "(none)");
}

static void test_truncation(void **state)
{
	char in[2001], buf[64];
	memset(in, 'a', 2000);
	in[2000] = '\0';
	escape_name(in, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 63);
	assert_string_equal(buf + 60, "...");
	assert_int_equal(strspn(buf, "a"), 60);
	/* an escape is never cut: 3 of \xff (12 bytes) and "..." in 16 */
	memset(in, 0xff, 100);
	in[100] = '\0';
	char small[16];
	assert_string_equal(escape_name(in, small, sizeof(small)), "\\xff\\xff\\xff...");
	/* exactly fitting: no "..." */
	assert_string_equal(escape_name("\xe2\x80\xae", small, 9), "\\u{202e}");
	assert_string_equal(escape_name("\xe2\x80\xae" "a", small, 9), "...");
	assert_string_equal(escape_name("abc", small, 4), "abc");
	assert_string_equal(escape_name("abcd", small, 4), "...");
	/* ESCAPED() is bounded: a maximal path of the worst kind ends in "..." */
	static char worst[4096];
	memset(worst, 0x80, 4095);
	const char *e = ESCAPED(worst);
	assert_true(strlen(e) <= ESCAPE_NAME_MAX - 1 && strlen(e) > ESCAPE_NAME_MAX - 8);
	assert_string_equal(e + strlen(e) - 7, "\\x80...");
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The inverse of escape_name, for the property test; -1 on text it would never produce. */
static long unescape(const char *s, uint8_t *out)
{
	long n = 0;
	while (*s) {
		if (*s != '\\') {
			out[n++] = (uint8_t)*s++;
			continue;
		}
		s++;
		if (*s == '\\') {
			out[n++] = '\\';
			s++;
		} else if (*s == 'x') {
			int h = hexval(s[1]), l = hexval(s[2]);
			if (h < 0 || l < 0)
				return -1;
			out[n++] = (uint8_t)(h << 4 | l);
			s += 3;
		} else if (*s == 'u' && s[1] == '{') {
			uint32_t cp = 0;
			for (s += 2; *s != '}'; s++) {
				if (hexval(*s) < 0)
					return -1;
				cp = cp << 4 | (uint32_t)hexval(*s);
			}
			s++;
			if (cp < 0x80)
				return -1; /* ASCII is never written this way */
			if (cp < 0x800) {
				out[n++] = (uint8_t)(0xc0 | cp >> 6);
			} else if (cp < 0x10000) {
				out[n++] = (uint8_t)(0xe0 | cp >> 12);
				out[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			} else {
				out[n++] = (uint8_t)(0xf0 | cp >> 18);
				out[n++] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
				out[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			}
			if (cp >= 0x80)
				out[n++] = (uint8_t)(0x80 | (cp & 0x3f));
		} else {
			return -1;
		}
	}
	return n;
}

static void test_random_round_trip(void **state)
{
	seed_init("test_escape");
	static const uint8_t pick[] = {0x00, 0x1b, 0x7f, 0x80, 0x9b, 0xc2, 0xc3, 0xe2, 0x80, 0xae,
				       0xed, 0xf0, 0xf4, 0x8f, 0xbf, 0xff, '\\', 'x', 'u', '{', '}', 'a'};
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t in[64];
		size_t n = rnd() % sizeof(in);
		for (size_t i = 0; i < n; i++) {
			in[i] = (rnd() & 1) ? pick[rnd() % sizeof(pick)] : (uint8_t)rnd();
			if (in[i] == 0)
				in[i] = 1;
		}
		in[n] = '\0';
		char buf[ESCAPE_NAME_MAX];
		escape_name((const char *)in, buf, sizeof(buf));
		for (const char *p = buf; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				fail_msg("iteration %d: byte 0x%02x in the escaped text", iter,
					 (unsigned char)*p);
		uint8_t back[128];
		long m = unescape(buf, back);
		if (m != (long)n || memcmp(back, in, n) != 0)
			fail_msg("iteration %d: \"%s\" does not decode to the %zu bytes given", iter, buf, n);
	}
}

/* What reaches the log: a name with every kind of hostile byte comes out as printable ASCII. */
static void test_log_line(void **state)
{
	char path[] = "/tmp/sluice-test-escape-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	const char *hostile = "rlo-\xe2\x80\xaestp.exe\n2026-01-01 fake line \x1b[2J\xc2\x9b\xff";
	log_info("sent cam/%s (1 bytes)", ESCAPED(hostile));
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	char line[1024];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	line[n] = '\0';
	assert_non_null(strstr(line, " info: sent cam/rlo-\\u{202e}stp.exe\\x0a2026-01-01 fake line "
				     "\\x1b[2J\\u{9b}\\xff (1 bytes)\n"));
	/* one line, printable ASCII */
	assert_ptr_equal(strchr(line, '\n'), line + n - 1);
	for (ssize_t i = 0; i < n - 1; i++)
		assert_true((unsigned char)line[i] >= 0x20 && (unsigned char)line[i] <= 0x7e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_log_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
