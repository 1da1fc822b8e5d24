/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/spool.c: a sub-folder that inotify will not watch (the watch limit reached, ENOSPC) is
 * tried again each tick and counted in sluice_tx_spool_unwatched_folders; once a watch is
 * possible again its files are picked up. inotify_add_watch is interposed here: it fails with
 * ENOSPC for paths ending in "/sub" while `refuse` is set, and is the system call otherwise.
 * A folder nested deeper than a sent path may be (PATHRULE_DEPTH_MAX components) is refused
 * once, counted, and not descended into, by the daemon's spool walk and by `send`'s: both
 * used to recurse without a bound, and a spool holding 1,000 nested folders (a camera-side
 * account can make them) crashed sluice-tx at every start (stack overflow).
 * A file left under its hidden name by a sluice-tx killed while deleting it (tx/keep.c,
 * ".sluice-delete-PID-NAME") is put back under NAME by the scan and sent; one that cannot be put
 * back is left, logged and counted: the watcher used to skip it as any dot file, and a new file
 * a camera had just put under the name was never sent, with nothing to say so.
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

#include <fcntl.h>
#include <ftw.h>
#include <sys/time.h>

#include "common/log.h"
#include "common/pathrule.h"
#include "tx/oneshot.h"
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

static char ready[32][256];
static int nready;

static void on_ready(void *ctx, const struct config_spool *sp, const char *rel, const char *path,
		     const struct stat *st)
{
	(void)ctx;
	(void)sp;
	(void)path;
	(void)st;
	if (nready < 32)
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

/* A spool watch on a loop of its own, run for a while at a time. */
struct watch {
	uv_loop_t loop;
	uv_timer_t t;
	struct spool_watch *w;
};

static void watch_start(struct watch *x, const struct config_spool *sp)
{
	uv_loop_init(&x->loop);
	x->w = NULL;
	assert_int_equal(spool_watch_start(&x->w, &x->loop, sp, 1, on_ready, NULL), 0);
	uv_timer_init(&x->loop, &x->t);
}

static void watch_run(struct watch *x, uint64_t ms)
{
	uv_timer_start(&x->t, stop_cb, ms, 0);
	uv_run(&x->loop, UV_RUN_DEFAULT);
}

static void watch_close(struct watch *x)
{
	uv_close((uv_handle_t *)&x->t, NULL);
	spool_watch_close(x->w);
	uv_run(&x->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&x->loop), 0);
}

static void test_unwatched_retried(void **state)
{
	(void)state;
	char dir[] = "/tmp/sluice-spool-XXXXXX", sub[64], file[80];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(file, sizeof(file), "%s/f.ts", sub);
	struct config_spool sp = {.name = "cam", .path = dir, .after_delete = false};
	struct watch x;
	watch_start(&x, &sp);
	refuse = 1;
	assert_int_equal(mkdir(sub, 0755), 0);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
	watch_run(&x, 1500);
	assert_false(got("sub/f.ts"));
	assert_int_equal(metric_get(&tx_metrics[TXM_UNWATCHED]), 1);
	refuse = 0; /* room again: the next tick watches it and scans it */
	for (int i = 0; i < 12 && !got("sub/f.ts"); i++)
		watch_run(&x, 500);
	assert_true(got("sub/f.ts"));
	assert_int_equal(metric_get(&tx_metrics[TXM_UNWATCHED]), 0);
	watch_close(&x);
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
	struct watch x;
	int before = inotify_watches();
	watch_start(&x, &sp);
	watch_run(&x, 300);
	assert_int_equal(inotify_watches() - before, 3); /* the spool, a, a/c */
	char from[128], to[128];
	snprintf(from, sizeof(from), "%s/a", dir);
	snprintf(to, sizeof(to), "%s/a", out);
	assert_int_equal(rename(from, to), 0);
	watch_run(&x, 600);
	assert_int_equal(inotify_watches() - before, 1); /* the spool alone */
	watch_close(&x);
	snprintf(p, sizeof(p), "%s/a/c", out);
	rmdir(p);
	rmdir(to);
	rmdir(out);
	rmdir(dir);
}

/* levels nested folders "a" below dir, a file f.ts in the one at depth file_depth - 1 and
 * top.ts in dir, both an hour old (ready at once). */
static void make_deep(const char *dir, int levels, int file_depth)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	struct timespec old[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
	int f = openat(fd, "top.ts", O_WRONLY | O_CREAT, 0644);
	assert_true(f >= 0);
	assert_int_equal(write(f, "t", 1), 1);
	assert_int_equal(futimens(f, old), 0);
	close(f);
	for (int i = 1; i <= levels; i++) {
		assert_int_equal(mkdirat(fd, "a", 0755), 0);
		int next = openat(fd, "a", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
		if (i == file_depth - 1) {
			f = openat(fd, "f.ts", O_WRONLY | O_CREAT, 0644);
			assert_true(f >= 0);
			assert_int_equal(write(f, "f", 1), 1);
			assert_int_equal(futimens(f, old), 0);
			close(f);
		}
	}
	close(fd);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* "a/a/.../f.ts", depth components in all. */
static void deep_rel(char *out, size_t cap, int depth)
{
	size_t n = 0;
	for (int i = 1; i < depth; i++)
		n += (size_t)snprintf(out + n, cap - n, "a/");
	snprintf(out + n, cap - n, "f.ts");
}

static void test_deep_folder_refused(void **state)
{
	(void)state;
	char dir[] = "/tmp/sluice-spool-XXXXXX", rel[PATHRULE_DEPTH_MAX * 2 + 8];
	assert_non_null(mkdtemp(dir));
	make_deep(dir, 1000, PATHRULE_DEPTH_MAX);
	deep_rel(rel, sizeof(rel), PATHRULE_DEPTH_MAX);
	struct config_spool sp = {.name = "cam", .path = dir, .after_delete = false};
	struct watch x;
	nready = 0;
	uint64_t refused0 = metric_get(&tx_metrics[TXM_REFUSED]);
	int before = inotify_watches();
	watch_start(&x, &sp);
	watch_run(&x, 300);
	assert_true(got("top.ts"));
	assert_true(got(rel)); /* the deepest path a file may have is still sent */
	/* the spool and the folders at depth 1 to PATHRULE_DEPTH_MAX - 1; the one below refused */
	assert_int_equal(inotify_watches() - before, PATHRULE_DEPTH_MAX);
	assert_int_equal(metric_get(&tx_metrics[TXM_REFUSED]) - refused0, 1);
	watch_close(&x);

	/* send DIR: the same walk, refused by name (exit status 2, nothing sent) */
	struct oneshot_list l = {0};
	char *paths[] = {dir};
	assert_int_equal(oneshot_collect(&l, paths, 1), 2);
	assert_int_equal(l.bad, 1);
	assert_int_equal(l.n, 2); /* top.ts and the deepest allowed f.ts were found */
	oneshot_list_free(&l);
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *dir, const char *name)
{
	static char buf[64];
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_left_aside_put_back(void **state)
{
	(void)state;
	char dir[] = "/tmp/sluice-spool-XXXXXX", own[64], sub[64];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(own, sizeof(own), ".sluice-delete-%d-mine.ts", (int)getpid());
	put_file(dir, ".sluice-delete-99999999-seg1.mp4", "NEW");     /* put back, sent */
	put_file(sub, ".sluice-delete-99999999-seg2.mp4", "NEW2");    /* below the root too */
	put_file(dir, ".sluice-delete-99999999-taken.ts", "ASIDE");   /* its name is taken: left */
	put_file(dir, "taken.ts", "OTHER");
	put_file(dir, ".sluice-delete-99999998", "NONAME");           /* no name: left */
	put_file(dir, ".sluice-delete-99999997-.hidden", "HIDDEN");   /* a name never sent: left */
	put_file(dir, own, "MINE"); /* a tx killed with this PID (the same after a reboot): put back */
	put_file(dir, ".sluice-delete-x1-y.ts", "USER");              /* not one tx makes: a dot file */
	struct config_spool sp = {.name = "cam", .path = dir, .after_delete = false};
	struct watch x;
	nready = 0;
	uint64_t left0 = metric_get(&tx_metrics[TXM_LEFT_ASIDE]);
	watch_start(&x, &sp);
	for (int i = 0; i < 12 && !(got("seg1.mp4") && got("sub/seg2.mp4") && got("taken.ts") && got("mine.ts")); i++)
		watch_run(&x, 500);
	assert_true(got("seg1.mp4"));
	assert_true(got("sub/seg2.mp4"));
	assert_true(got("taken.ts"));
	assert_true(got("mine.ts"));
	for (int i = 0; i < nready; i++) /* nothing else (a name may come twice: scan and inotify) */
		assert_true(strcmp(ready[i], "seg1.mp4") == 0 || strcmp(ready[i], "sub/seg2.mp4") == 0 ||
			    strcmp(ready[i], "taken.ts") == 0 || strcmp(ready[i], "mine.ts") == 0);
	assert_string_equal(read_file(dir, "seg1.mp4"), "NEW");
	assert_string_equal(read_file(sub, "seg2.mp4"), "NEW2");
	assert_null(read_file(dir, ".sluice-delete-99999999-seg1.mp4"));
	assert_string_equal(read_file(dir, ".sluice-delete-99999999-taken.ts"), "ASIDE");
	assert_string_equal(read_file(dir, "taken.ts"), "OTHER");
	assert_string_equal(read_file(dir, ".sluice-delete-99999998"), "NONAME");
	assert_string_equal(read_file(dir, ".sluice-delete-99999997-.hidden"), "HIDDEN");
	assert_null(read_file(dir, ".hidden"));
	assert_null(read_file(dir, own));
	assert_string_equal(read_file(dir, "mine.ts"), "MINE");
	assert_string_equal(read_file(dir, ".sluice-delete-x1-y.ts"), "USER");
	assert_int_equal(metric_get(&tx_metrics[TXM_LEFT_ASIDE]) - left0, 3);
	watch_close(&x);
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwatched_retried),
		cmocka_unit_test(test_moved_out_tree_unwatched),
		cmocka_unit_test(test_deep_folder_refused),
		cmocka_unit_test(test_left_aside_put_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
