/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* tx/progress.{h,c}: units, times, bar or plain from the environment, and the bytes of a
 * redraw (the terminal itself is tests/e2e/test_progress.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tx/progress.h"

static void test_formats(void **state)
{
	(void)state;
	static const struct {
		uint64_t v;
		const char *bytes, *rate, *time;
	} cases[] = {
		{0, "0 B", "0 bit/s", "0:00"},
		{999, "999 B", "999 bit/s", "16:39"},
		{1000, "1.0 kB", "1.0 kbit/s", "16:40"},
		{450000000, "450 MB", "450 Mbit/s", "125000:00:00"},
		{1000000000, "1.0 GB", "1.0 Gbit/s", "277777:46:40"},
		{24000000, "24.0 MB", "24.0 Mbit/s", "6666:40:00"},
		{3599, "3.6 kB", "3.6 kbit/s", "59:59"},
		{3600, "3.6 kB", "3.6 kbit/s", "1:00:00"},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		progress_fmt_bytes(buf, sizeof(buf), cases[i].v);
		assert_string_equal(buf, cases[i].bytes);
		progress_fmt_rate(buf, sizeof(buf), (double)cases[i].v);
		assert_string_equal(buf, cases[i].rate);
		progress_fmt_time(buf, sizeof(buf), cases[i].v);
		assert_string_equal(buf, cases[i].time);
	}
}

static void test_not_a_terminal(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct progress p;
	setenv("TERM", "xterm", 1);
	progress_init(&p, fds[1], stderr, false, 1, 100, 1);
	assert_false(p.bar);
	close(fds[0]);
	close(fds[1]);
}

/* Bytes of a redraw, drawn into a file as if it were a terminal (no window size: 80 columns). */
static void test_redraw(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	struct progress p;
	unsetenv("NO_COLOR");
	progress_init(&p, fileno(f), f, false, 2, 1000000000, 1);
	p.bar = true;
	progress_tick(&p, 450000000);
	progress_clear(&p);
	setenv("NO_COLOR", "1", 1);
	progress_init(&p, fileno(f), f, false, 2, 1000000000, 1);
	p.bar = true;
	p.start_ns -= 5000000000ull; /* 5 s ago: 720 Mbit/s, 6 s to go */
	progress_tick(&p, 450000000);
	progress_finish(&p, 1000000000, 2, 0);
	unsetenv("NO_COLOR");
	char got[1024] = {0};
	rewind(f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	/* No window size: 80 columns, the bar takes what the text leaves (80 - 56 = 24 wide). */
	assert_true(n > 4);
	assert_memory_equal(got, "\r\x1b[K[", 5);
	assert_non_null(strstr(got, "]  45%  450 MB / 1.0 GB  "));
	const char *rest = strstr(got + 4, "\r\x1b[K\r"); /* progress_clear, then the NO_COLOR line */
	assert_non_null(rest);
	const char *nc = "\r[==========>             ]  45%  450 MB / 1.0 GB  720 Mbit/s  ETA 0:06\r";
	assert_memory_equal(rest + 4, nc, strlen(nc));
	const char *end = strrchr(got, '\r');
	assert_string_equal(end, "\r[========================] 100%  1.0 GB  1.6 Gbit/s  2 files sent in 0:05\n");
	assert_null(strchr(rest + 4, '\x1b'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_not_a_terminal),
		cmocka_unit_test(test_redraw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
