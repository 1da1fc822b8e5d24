/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* common/mkdirs.c: creates what is missing; a file where a folder must be is -ENOTDIR, not
 * success (a state folder named as a regular file must fail where it is made). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mkdirs.h"

static char tmpdir[] = "/tmp/sluice-test-mkdirs.XXXXXX";

static const char *at(const char *rel)
{
	static char p[4][512];
	static unsigned i;
	char *out = p[i++ % 4];
	snprintf(out, sizeof(p[0]), "%s/%s", tmpdir, rel);
	return out;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdirs(void **state)
{
	FILE *f = fopen(at("file"), "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(mkdir(at("dir"), 0755), 0);
	assert_int_equal(symlink("dir", at("link")), 0);

	assert_int_equal(mkdirs(at("a/b/c"), 0700, false), 0);
	assert_true(is_dir(at("a/b/c")));
	assert_int_equal(mkdirs(at("a/b/c"), 0700, false), 0); /* already there */
	assert_int_equal(mkdirs(at("p/q/audit.jsonl"), 0750, true), 0);
	assert_true(is_dir(at("p/q")));
	assert_false(is_dir(at("p/q/audit.jsonl")));
	assert_int_equal(mkdirs(at("link/x"), 0700, false), 0); /* a link to a folder is one */
	assert_true(is_dir(at("dir/x")));

	assert_int_equal(mkdirs(at("file"), 0700, false), -ENOTDIR);
	assert_int_equal(mkdirs(at("file/sub"), 0700, false), -ENOTDIR);
	assert_int_equal(mkdirs(at("file/sub/log"), 0700, true), -ENOTDIR);
	assert_int_equal(mkdirs(at("file/x"), 0700, true), -ENOTDIR); /* parent only: the file */
}

static int teardown(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state) { return mkdtemp(tmpdir) ? 0 : -1; }

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_mkdirs)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
