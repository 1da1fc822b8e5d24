/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/keep.c (`after: delete`): a sent file is deleted only if it is still the file that was
 * sent. A camera that writes a new file under the same name (rename over it) at the moment tx
 * deletes the sent one must not lose the new one: the check and the removal used to be two
 * steps on the name (lstat, then unlink), and a file put there in between was deleted unsent
 * (found by red-team review 5). unlink and unlinkat are interposed here: when `swap` is set,
 * the first of them puts a new file under the name first, as the camera would. renameat2 too:
 * with `no_noreplace` set it fails with EINVAL, as on file systems without RENAME_NOREPLACE
 * (some NFS, CIFS, FUSE), where a changed file was left under the hidden name, unsent; with
 * `no_putback` set, a rename from the hidden name fails with EACCES.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "tx/keep.h"
#include "tx/tx_metrics.h"

static char dir[] = "/tmp/sluice-keep-XXXXXX", name[64];
static int swap, no_noreplace, no_putback;
static char aside_seen[4096]; /* the new name of the last RENAME_NOREPLACE */

static void put(const char *path, const char *text)
{
	char tmp[80];
	snprintf(tmp, sizeof(tmp), "%s/.new", dir);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

static void camera_swap(void)
{
	if (swap) {
		swap = 0;
		put(name, "NEW");
	}
}

int unlink(const char *path);
int unlinkat(int dirfd, const char *path, int flags);
int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned);
	if (!real)
		real = (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");
	if (flags & RENAME_NOREPLACE)
		snprintf(aside_seen, sizeof(aside_seen), "%s", newpath);
	const char *base = strrchr(oldpath, '/');
	if (no_putback && base && strncmp(base + 1, ".sluice-delete-", 15) == 0) {
		errno = EACCES;
		return -1;
	}
	if (no_noreplace && (flags & RENAME_NOREPLACE)) {
		errno = EINVAL;
		return -1;
	}
	return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int unlink(const char *path)
{
	static int (*real)(const char *);
	if (!real)
		real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
	camera_swap();
	return real(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	static int (*real)(int, const char *, int);
	if (!real)
		real = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
	camera_swap();
	return real(dirfd, path, flags);
}

static char *read_all(const char *path)
{
	static char buf[64];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(void)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Sends name (as tx would have) and has keep delete it at once; mtime_delta changes the file's
 * mtime after the send. */
static void send_and_delete_as(const char *path, int mtime_delta)
{
	put(path, "SENT");
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	uint64_t mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	if (mtime_delta) {
		struct timespec t[2] = {st.st_atim, st.st_mtim};
		t[1].tv_sec += mtime_delta;
		assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct keep *k = NULL;
	assert_int_equal(keep_start(&k, &loop), 0);
	struct keep_file f = {.key = 1, .spool = "cam", .relpath = strrchr(path, '/') + 1, .path = path,
			      .size = (uint64_t)st.st_size, .mtime_ns = mtime, .ino = (uint64_t)st.st_ino,
			      .sent_ns = (uint64_t)time(NULL) * 1000000000ull - 1000000000ull,
			      .keep_for_ms = 0};
	keep_add(k, &f);
	keep_close(k);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void send_and_delete(int mtime_delta) { send_and_delete_as(name, mtime_delta); }

static void test_deletes_the_sent_file(void **state)
{
	(void)state;
	uint64_t deleted = metric_get(&tx_metrics[TXM_FILES_DELETED]);
	send_and_delete(0);
	assert_null(read_all(name));
	assert_int_equal(entries(), 0);
	assert_int_equal(metric_get(&tx_metrics[TXM_FILES_DELETED]) - deleted, 1);
}

static void test_keeps_a_changed_file(void **state)
{
	(void)state;
	uint64_t deleted = metric_get(&tx_metrics[TXM_FILES_DELETED]);
	send_and_delete(5);
	assert_string_equal(read_all(name), "SENT");
	assert_int_equal(entries(), 1); /* nothing left beside it */
	assert_int_equal(metric_get(&tx_metrics[TXM_FILES_DELETED]) - deleted, 0);
	assert_int_equal(unlink(name), 0);
}

/* Without RENAME_NOREPLACE: the sent file is still deleted, and a changed one put back. */
static void test_no_noreplace(void **state)
{
	(void)state;
	no_noreplace = 1;
	uint64_t deleted = metric_get(&tx_metrics[TXM_FILES_DELETED]);
	send_and_delete(0);
	assert_null(read_all(name));
	assert_int_equal(metric_get(&tx_metrics[TXM_FILES_DELETED]) - deleted, 1);
	send_and_delete(5);
	char *got = read_all(name);
	assert_non_null(got);
	assert_string_equal(got, "SENT");
	assert_int_equal(entries(), 1); /* nothing left under a hidden name */
	assert_int_equal(unlink(name), 0);
	no_noreplace = 0;
}

/* A changed file that cannot be put back is left under the hidden name: logged and counted as
 * left aside (it was counted as a refused name). */
static void test_put_back_fails(void **state)
{
	(void)state;
	uint64_t aside = metric_get(&tx_metrics[TXM_LEFT_ASIDE]);
	uint64_t refused = metric_get(&tx_metrics[TXM_REFUSED]);
	no_putback = 1;
	send_and_delete(5);
	no_putback = 0;
	assert_null(read_all(name));
	assert_int_equal(entries(), 1);
	assert_int_equal(metric_get(&tx_metrics[TXM_LEFT_ASIDE]) - aside, 1);
	assert_int_equal(metric_get(&tx_metrics[TXM_REFUSED]) - refused, 0);
	char hidden[4200];
	snprintf(hidden, sizeof(hidden), "%s/.sluice-delete-%d-%s", dir, (int)getpid(), strrchr(name, '/') + 1);
	assert_string_equal(read_all(hidden), "SENT");
	assert_int_equal(unlink(hidden), 0);
}

/* The new file arrives under the name as the sent one is removed: it stays, unsent. */
static void test_new_file_in_the_window_kept(void **state)
{
	(void)state;
	swap = 1;
	send_and_delete(0);
	assert_int_equal(swap, 0); /* the camera did write */
	char *got = read_all(name);
	assert_non_null(got);
	assert_string_equal(got, "NEW");
	assert_int_equal(entries(), 1);
	assert_int_equal(unlink(name), 0);
}

/* The hidden name carries the file's name (a sluice-tx killed before the removal leaves it
 * there; the next start's scan puts it back under that name, tx/spool.c), unless the two do
 * not fit NAME_MAX together: then .sluice-delete-PID alone. */
static void test_aside_name_carries_the_name(void **state)
{
	(void)state;
	char want[4096];
	aside_seen[0] = '\0';
	send_and_delete(0);
	snprintf(want, sizeof(want), "%s/.sluice-delete-%d-a.ts", dir, (int)getpid());
	assert_string_equal(aside_seen, want);
	assert_int_equal(entries(), 0);

	/* a base name of 240 bytes: ".sluice-delete-PID-" and it are over 255 */
	char longname[4096];
	int n = snprintf(longname, sizeof(longname), "%s/", dir);
	memset(longname + n, 'x', 240);
	longname[n + 240] = '\0';
	aside_seen[0] = '\0';
	send_and_delete_as(longname, 0);
	snprintf(want, sizeof(want), "%s/.sluice-delete-%d", dir, (int)getpid());
	assert_string_equal(aside_seen, want);
	assert_int_equal(entries(), 0);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	assert_non_null(mkdtemp(dir));
	snprintf(name, sizeof(name), "%s/a.ts", dir);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deletes_the_sent_file),
		cmocka_unit_test(test_keeps_a_changed_file),
		cmocka_unit_test(test_new_file_in_the_window_kept),
		cmocka_unit_test(test_no_noreplace),
		cmocka_unit_test(test_put_back_fails),
		cmocka_unit_test(test_aside_name_carries_the_name),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
