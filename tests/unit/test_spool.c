/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/spool.c: a sub-folder that inotify will not watch (the watch limit reached, ENOSPC) is
 * tried again each tick and counted in sluice_tx_spool_unwatched_folders; once a watch is
 * possible again its files are picked up. inotify_add_watch is interposed here: it fails with
 * ENOSPC for paths ending in "/sub" while `refuse` is set, and is the system call otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "tx/spool.h"
#include "tx/tx_metrics.h"

static int refuse;

int inotify_add_watch(int fd, const char *path, uint32_t mask);

int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	size_t n = strlen(path);
	if (refuse && n >= 4 && strcmp(path + n - 4, "/sub") == 0) {
		errno = ENOSPC;
		return -1;
	}
	return (int)syscall(SYS_inotify_add_watch, fd, path, mask);
}

static char ready[8][256];
static int nready;

static void on_ready(void *ctx, const struct config_spool *sp, const char *rel, const char *path,
		     const struct stat *st)
{
	(void)ctx;
	(void)sp;
	(void)path;
	(void)st;
	if (nready < 8)
		snprintf(ready[nready++], sizeof(ready[0]), "%s", rel);
}

static bool got(const char *rel)
{
	for (int i = 0; i < nready; i++)
		if (strcmp(ready[i], rel) == 0)
			return true;
	return false;
}

static void stop_cb(uv_timer_t *t) { uv_stop(t->loop); }

static void test_unwatched_retried(void **state)
{
	(void)state;
	char dir[] = "/tmp/sluice-spool-XXXXXX", sub[64], file[80];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(file, sizeof(file), "%s/f.ts", sub);
	struct config_spool sp = {.name = "cam", .path = dir, .after_delete = false};
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct spool_watch *w = NULL;
	assert_int_equal(spool_watch_start(&w, &loop, &sp, 1, on_ready, NULL), 0);
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	refuse = 1;
	assert_int_equal(mkdir(sub, 0755), 0);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
	uv_timer_start(&t, stop_cb, 1500, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_false(got("sub/f.ts"));
	assert_int_equal(metric_get(&tx_metrics[TXM_UNWATCHED]), 1);
	refuse = 0; /* room again: the next tick watches it and scans it */
	for (int i = 0; i < 12 && !got("sub/f.ts"); i++) {
		uv_timer_start(&t, stop_cb, 500, 0);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	assert_true(got("sub/f.ts"));
	assert_int_equal(metric_get(&tx_metrics[TXM_UNWATCHED]), 0);
	uv_close((uv_handle_t *)&t, NULL);
	spool_watch_close(w);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

/* The watches of this process's inotify descriptors, from /proc/self/fdinfo. */
static int inotify_watches(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		char link[300], target[64], info[300], line[512];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		ssize_t l = readlink(link, target, sizeof(target) - 1);
		if (l <= 0)
			continue;
		target[l] = '\0';
		if (strcmp(target, "anon_inode:inotify") != 0)
			continue;
		snprintf(info, sizeof(info), "/proc/self/fdinfo/%s", de->d_name);
		FILE *f = fopen(info, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			n += strncmp(line, "inotify wd:", 11) == 0;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* A sub-folder moved out of the spool takes the folders below it along: their watches go too
 * (they get no event of their own). */
static void test_moved_out_tree_unwatched(void **state)
{
	(void)state;
	char dir[] = "/tmp/sluice-spool-XXXXXX", out[] = "/tmp/sluice-out-XXXXXX", p[128];
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(out));
	snprintf(p, sizeof(p), "%s/a", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/c", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	struct config_spool sp = {.name = "cam", .path = dir, .after_delete = false};
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct spool_watch *w = NULL;
	int before = inotify_watches();
	assert_int_equal(spool_watch_start(&w, &loop, &sp, 1, on_ready, NULL), 0);
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, stop_cb, 300, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(inotify_watches() - before, 3); /* the spool, a, a/c */
	char from[128], to[128];
	snprintf(from, sizeof(from), "%s/a", dir);
	snprintf(to, sizeof(to), "%s/a", out);
	assert_int_equal(rename(from, to), 0);
	uv_timer_start(&t, stop_cb, 600, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(inotify_watches() - before, 1); /* the spool alone */
	uv_close((uv_handle_t *)&t, NULL);
	spool_watch_close(w);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	snprintf(p, sizeof(p), "%s/a/c", out);
	rmdir(p);
	rmdir(to);
	rmdir(out);
	rmdir(dir);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwatched_retried),
		cmocka_unit_test(test_moved_out_tree_unwatched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
