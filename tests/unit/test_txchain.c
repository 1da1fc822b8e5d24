/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/txchain.{h,c}: the sender's per-spool chain heads go on across a reopen (the last line of
 * a spool counts, a torn or damaged line is skipped, a seq never goes back), the file is
 * rewritten with one line per spool, and without a state folder the heads live in memory.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tx/txchain.h"

static char dir[64], path[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sluice-txchain-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/chain", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void head_is(struct txchain *c, const char *spool, uint64_t seq, uint64_t session,
		    uint64_t object, uint8_t fill)
{
	uint64_t s, se, o;
	uint8_t h[HASH_LEN], want[HASH_LEN];
	memset(want, fill, HASH_LEN);
	txchain_head(c, spool, &s, &se, &o, h);
	assert_int_equal(s, seq);
	assert_int_equal(se, session);
	assert_int_equal(o, object);
	assert_memory_equal(h, want, HASH_LEN);
}

static void test_restart(void **state)
{
	(void)state;
	struct txchain *c;
	uint8_t h[HASH_LEN];
	assert_int_equal(txchain_open(&c, dir), 0);
	head_is(c, "cam", 0, 0, 0, 0); /* none yet */
	memset(h, 0x11, HASH_LEN);
	assert_int_equal(txchain_advance(c, "cam", 1, 0xabc, 1, h), 0);
	memset(h, 0x22, HASH_LEN);
	assert_int_equal(txchain_advance(c, "cam", 2, 0xabc, 2, h), 0);
	memset(h, 0x33, HASH_LEN);
	assert_int_equal(txchain_advance(c, "door", 1, 0xabc, 3, h), 0);
	/* appended before close: a killed sender (no close) goes on from the file */
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "cam 2 0000000000000abc 2 2222"));
	struct txchain *k;
	assert_int_equal(txchain_open(&k, dir), 0);
	head_is(k, "cam", 2, 0xabc, 2, 0x22);
	head_is(k, "door", 1, 0xabc, 3, 0x33);
	txchain_close(k);
	txchain_close(c);
	/* rewritten whole: one line per spool */
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	int lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	/* a damaged line, a line going back, and a torn last line are skipped */
	f = fopen(path, "a");
	fputs("garbage\n", f);
	fputs("cam 1 0000000000000abc 1 1111111111111111111111111111111111111111111111111111111111111111\n", f);
	fputs("cam 9 0000000000000abc 9 99", f);
	fclose(f);
	assert_int_equal(txchain_open(&c, dir), 0);
	head_is(c, "cam", 2, 0xabc, 2, 0x22);
	txchain_close(c);
	/* a seq with a sign or above 2^63 is refused, not taken as a huge head that wins */
	static const char *bad_seq[] = {"-1", "+3", "9223372036854775809", "18446744073709551615"};
	for (size_t i = 0; i < sizeof(bad_seq) / sizeof(bad_seq[0]); i++) {
		f = fopen(path, "a");
		fprintf(f, "cam %s 0000000000000abc 9 9999999999999999999999999999999999999999999999999999999999999999\n",
			bad_seq[i]);
		fclose(f);
		assert_int_equal(txchain_open(&c, dir), 0);
		head_is(c, "cam", 2, 0xabc, 2, 0x22);
		txchain_close(c);
	}
	/* memory only */
	assert_int_equal(txchain_open(&c, NULL), 0);
	memset(h, 0x44, HASH_LEN);
	assert_int_equal(txchain_advance(c, "oneshot", 1, 5, 6, h), 0);
	head_is(c, "oneshot", 1, 5, 6, 0x44);
	txchain_close(c);
}

/* A well-formed line whose spool name is too long to be a spool's (64..79 bytes) is skipped
 * with the damaged-line warning, as every other line skipped: never silently. */
static void test_long_spool_warned(void **state)
{
	(void)state;
	FILE *f = fopen(path, "w");
	fprintf(f, "%070d 1 0000000000000abc 1 %064d\n", 7, 0);
	fputs("cam 1 0000000000000abc 1 1111111111111111111111111111111111111111111111111111111111111111\n", f);
	fclose(f);
	char logpath[128];
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	int fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	struct txchain *c;
	int rc = txchain_open(&c, dir);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	char buf[1024];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(logpath);
	assert_int_equal(rc, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "/chain:1: ignoring a damaged chain line"));
	head_is(c, "cam", 1, 0xabc, 1, 0x11);
	txchain_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_spool_warned, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
