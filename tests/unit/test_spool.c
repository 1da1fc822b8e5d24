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

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwatched_retried),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
