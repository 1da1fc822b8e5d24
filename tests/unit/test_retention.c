/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* rx/retention.c with a chosen `now`: only files delivered (inode change time) before the
 * cutoff go, whatever their mtime (a delivered file keeps the sender's, which may be years
 * old); folders left empty go, except those right below the root; the temp folder and
 * symbolic links stay; days 0 keeps all. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rx/retention.h"

static char tmpdir[] = "/tmp/sluice-test-retention.XXXXXX";

static const char *at(const char *rel)
{
	static char p[4][512];
	static unsigned i;
	char *out = p[i++ % 4];
	snprintf(out, sizeof(p[0]), "%s/%s", tmpdir, rel);
	return out;
}

/* A file delivered now with the sender's mtime of 2000-01-01; its ctime in seconds. */
static uint64_t deliver(const char *rel)
{
	FILE *f = fopen(at(rel), "w");
	assert_non_null(f);
	fputs("content\n", f);
	fclose(f);
	struct timespec ts[2] = {{.tv_sec = 946684800}, {.tv_sec = 946684800}};
	assert_int_equal(utimensat(AT_FDCWD, at(rel), ts, 0), 0);
	struct stat st;
	assert_int_equal(stat(at(rel), &st), 0);
	return (uint64_t)st.st_ctim.tv_sec;
}

static bool exists(const char *rel) { return access(at(rel), F_OK) == 0; }

static void test_retention(void **state)
{
	(void)state;
	assert_int_equal(mkdir(at("cam"), 0755), 0);
	assert_int_equal(mkdir(at("cam/old"), 0755), 0);
	assert_int_equal(mkdir(at("cam/old/deep"), 0755), 0);
	assert_int_equal(mkdir(at("idle"), 0755), 0);
	assert_int_equal(mkdir(at(".sluice-tmp"), 0755), 0);
	uint64_t t_old = deliver("cam/old/deep/a.ts");
	deliver("idle/b.ts");
	deliver(".sluice-tmp/0000000000000001-1");
	deliver("outside.ts");
	assert_int_equal(symlink(at("outside.ts"), at("cam/link.ts")), 0);
	while ((uint64_t)time(NULL) <= t_old) /* the next second, at most one away */
		usleep(10000);
	uint64_t t_new = deliver("cam/new.ts");
	assert_true(t_new > t_old);

	/* Days 0 keeps all; files sent today with an old mtime are not older than 30 days. */
	assert_int_equal(retention_sweep(tmpdir, 0, t_new + 1000 * 86400ull), 0);
	assert_int_equal(retention_sweep(tmpdir, 30, (uint64_t)time(NULL)), 0);
	assert_true(exists("cam/old/deep/a.ts") && exists("cam/new.ts"));

	/* A day after t_old, plus a second: only what was delivered in that second is older. */
	int n = retention_sweep(at("cam"), 1, t_old + 86400 + 1);
	assert_int_equal(n, 1);
	assert_false(exists("cam/old/deep/a.ts"));
	assert_false(exists("cam/old/deep")); /* left empty */
	/* A folder right below the root (a spool's, an event source's) stays, even empty: the
	 * writers keep it open. */
	assert_true(exists("cam/old"));
	assert_true(exists("cam/new.ts"));
	assert_true(exists("cam/link.ts") && exists("outside.ts")); /* links: never followed */

	/* At the root: the temp folder is not retention's, however old. */
	n = retention_sweep(tmpdir, 1, t_new + 86400 + 1);
	assert_int_equal(n, 3); /* cam/new.ts, idle/b.ts and outside.ts */
	assert_false(exists("idle/b.ts"));
	assert_true(exists("idle"));
	assert_true(exists(".sluice-tmp/0000000000000001-1"));
	assert_false(exists("cam/new.ts"));
	assert_true(exists("cam")); /* the link is still in it */
	assert_int_equal(retention_sweep(at("missing"), 1, t_new), -ENOENT);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_retention)};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
