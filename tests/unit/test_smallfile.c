/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/smallfile.c, the one atomic state-file writer: the content is replaced whole; a write
 * that fails (file size limit, a folder where the file should be, a missing folder) leaves the
 * old content and no temp name; the mode is the one given; a symlink or a crash's leftover at
 * the temp name is replaced, never followed; writing "a" leaves a state file "a.tmp" alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/smallfile.h"

static char tmpdir[] = "/tmp/sluice-test-smallfile.XXXXXX";
static int dirfd_;

static const char *at(const char *rel)
{
	static char p[4][512];
	static unsigned i;
	char *out = p[i++ % 4];
	snprintf(out, sizeof(p[0]), "%s/%s", tmpdir, rel);
	return out;
}

static void assert_content(const char *rel, const char *want)
{
	char buf[8192];
	long n = smallfile_read(at(rel), buf, sizeof(buf));
	assert_int_equal(n, (long)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
}

/* The folder holds exactly these names (NULL-terminated), whatever their order. */
static void assert_names(const char *const *want)
{
	size_t nwant = 0, seen = 0;
	while (want[nwant])
		nwant++;
	DIR *d = opendir(tmpdir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bool found = false;
		for (size_t i = 0; i < nwant; i++)
			found |= strcmp(e->d_name, want[i]) == 0;
		if (!found)
			fail_msg("unexpected name left in the folder: %s", e->d_name);
		seen++;
	}
	closedir(d);
	assert_int_equal(seen, nwant);
}

static void test_replace(void **state)
{
	assert_int_equal(smallfile_write(at("state"), "first version\n", 14, 0600), 0);
	assert_content("state", "first version\n");
	assert_int_equal(smallfile_write(at("state"), "2\n", 2, 0600), 0); /* shorter */
	assert_content("state", "2\n");
	assert_int_equal(smallfile_writeat(dirfd_, "state", "third, by dirfd\n", 16, 0600), 0);
	assert_content("state", "third, by dirfd\n");
	assert_int_equal(smallfile_writeat(dirfd_, "state", "", 0, 0600), 0); /* empty */
	assert_content("state", "");
	assert_names((const char *const[]){"state", NULL});

	assert_int_equal(smallfile_writeat(dirfd_, "sub/state", "x", 1, 0600), -EINVAL);
	assert_int_equal(smallfile_writeat(dirfd_, "", "x", 1, 0600), -EINVAL);
	char longname[300];
	memset(longname, 'n', 255);
	longname[255] = '\0'; /* a legal name, but its temp name would not be */
	assert_int_equal(smallfile_writeat(dirfd_, longname, "x", 1, 0600), -ENAMETOOLONG);
	assert_names((const char *const[]){"state", NULL});
	assert_int_equal(unlinkat(dirfd_, "state", 0), 0);
}

/* Disk full, deterministically and also as root: a file size limit cuts the write short. */
static void test_short_write_keeps_old(void **state)
{
	assert_int_equal(smallfile_writeat(dirfd_, "state", "old content\n", 12, 0600), 0);
	static char big[8192];
	memset(big, 'b', sizeof(big));
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = (struct rlimit){.rlim_cur = 4096, .rlim_max = old.rlim_max};
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = smallfile_writeat(dirfd_, "state", big, sizeof(big), 0600);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);
	assert_int_equal(rc, -EFBIG);
	assert_content("state", "old content\n");
	assert_names((const char *const[]){"state", NULL});
	assert_int_equal(unlinkat(dirfd_, "state", 0), 0);
}

static void test_failed_rename_and_missing_folder(void **state)
{
	assert_int_equal(mkdirat(dirfd_, "adir", 0700), 0);
	assert_int_equal(smallfile_writeat(dirfd_, "adir", "x", 1, 0600), -EISDIR);
	assert_int_equal(smallfile_write(at("nofolder/state"), "x", 1, 0600), -ENOENT);
	assert_names((const char *const[]){"adir", NULL});
	assert_int_equal(unlinkat(dirfd_, "adir", AT_REMOVEDIR), 0);
}

static void test_mode(void **state)
{
	mode_t um = umask(0);
	assert_int_equal(smallfile_writeat(dirfd_, "m", "x", 1, 0640), 0);
	struct stat st;
	assert_int_equal(fstatat(dirfd_, "m", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(fchmodat(dirfd_, "m", 0644, 0), 0);
	assert_int_equal(smallfile_writeat(dirfd_, "m", "y", 1, 0600), 0); /* the new file's mode */
	assert_int_equal(fstatat(dirfd_, "m", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(077);
	assert_int_equal(smallfile_writeat(dirfd_, "m", "z", 1, 0644), 0); /* less the umask */
	assert_int_equal(fstatat(dirfd_, "m", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(um);
	assert_int_equal(unlinkat(dirfd_, "m", 0), 0);
}

static void test_temp_name_planted(void **state)
{
	/* A symlink at the temp name: the victim it points to keeps its bytes. */
	assert_int_equal(smallfile_writeat(dirfd_, "victim", "victim bytes\n", 13, 0600), 0);
	assert_int_equal(symlinkat("victim", dirfd_, ".state" SMALLFILE_TMP_SUFFIX), 0);
	assert_int_equal(smallfile_writeat(dirfd_, "state", "new state\n", 10, 0600), 0);
	assert_content("state", "new state\n");
	assert_content("victim", "victim bytes\n");
	struct stat st;
	assert_int_equal(fstatat(dirfd_, "state", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_names((const char *const[]){"state", "victim", NULL});

	/* A temp file left by a crash mid-write does not block the next write. */
	int fd = openat(dirfd_, ".state" SMALLFILE_TMP_SUFFIX, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "half", 4), 4);
	close(fd);
	assert_int_equal(smallfile_write(at("state"), "after crash\n", 12, 0600), 0);
	assert_content("state", "after crash\n");
	assert_names((const char *const[]){"state", "victim", NULL});
	assert_int_equal(unlinkat(dirfd_, "state", 0), 0);
	assert_int_equal(unlinkat(dirfd_, "victim", 0), 0);
}

/* Event sources "a" and "a.tmp" both have state files in one folder. */
static void test_neighbour_named_tmp(void **state)
{
	assert_int_equal(smallfile_writeat(dirfd_, "a.tmp", "stream of a.tmp\n", 16, 0600), 0);
	assert_int_equal(smallfile_writeat(dirfd_, "a", "stream of a\n", 12, 0600), 0);
	assert_content("a.tmp", "stream of a.tmp\n");
	assert_content("a", "stream of a\n");
	assert_names((const char *const[]){"a", "a.tmp", NULL});
	assert_int_equal(unlinkat(dirfd_, "a", 0), 0);
	assert_int_equal(unlinkat(dirfd_, "a.tmp", 0), 0);
}

static int setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dirfd_ >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
	close(dirfd_);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_short_write_keeps_old),
		cmocka_unit_test(test_failed_rename_and_missing_folder),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_temp_name_planted),
		cmocka_unit_test(test_neighbour_named_tmp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
