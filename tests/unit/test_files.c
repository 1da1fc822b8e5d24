/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender process's file table (tx/files.c) between the spool watcher (tx/spool.c) and the
 * sender: a spool file whose queueing fails for want of memory is tried again, not forgotten.
 * calloc is wrapped (-Wl,--wrap): with `fail_file` set, the next allocation of a struct tx_file fails.
 * The table entry used to stay behind with no file, so every later sighting of the name only
 * marked it "again" and it was never sent until a restart. The sender is a bare struct sender
 * whose queue is read back (sender_submit only queues).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"
#include "tx/journal.h"
#include "tx/main.h"
#include "tx/sender/internal.h"
#include "tx/spool.h"

static int fail_file, file_failed;

/* Linked with -Wl,--wrap=calloc (Makefile): the code's calls come here, and __real_calloc is
 * libc's, or the sanitizer's in that build. */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_file && n == 1 && size == sizeof(struct tx_file)) {
		fail_file = 0;
		file_failed++;
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

static char top[64], spool_dir[96], state_dir[96];
static struct config_spool sp;
static struct tx t;
static struct sender snd;
static uv_loop_t loop;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void put_file(const char *name, time_t age_s)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", spool_dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "content", 7), 7);
	assert_int_equal(close(fd), 0);
	if (age_s) {
		struct timeval tv[2];
		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= age_s;
		tv[1] = tv[0];
		assert_int_equal(utimes(p, tv), 0);
	}
}

static int entries(void)
{
	int n = 0;
	for (size_t i = 0; i < t.tabcap; i++)
		for (struct entry *e = t.tab[i]; e; e = e->next)
			n++;
	return n;
}

/* Runs the loop until the sender has a file queued, for at most twice the quiet time. */
static struct tx_file *wait_queued(void)
{
	uint64_t until = mono_ns() + 2ull * SPOOL_QUIET_MS * 1000000u;
	while (!snd.queue && mono_ns() < until)
		(void)uv_run(&loop, UV_RUN_ONCE);
	return snd.queue;
}

static int setup(void **st)
{
	(void)st;
	snprintf(top, sizeof(top), "/tmp/sluice-files-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(spool_dir, sizeof(spool_dir), "%s/spool", top);
	snprintf(state_dir, sizeof(state_dir), "%s/state", top);
	if (mkdir(spool_dir, 0755) != 0 || mkdir(state_dir, 0755) != 0)
		return -1;
	memset(&sp, 0, sizeof(sp));
	snprintf(sp.name, sizeof(sp.name), "cam");
	sp.path = spool_dir;
	memset(&t, 0, sizeof(t));
	memset(&snd, 0, sizeof(snd));
	pthread_mutex_init(&snd.mu, NULL);
	pthread_cond_init(&snd.cv, NULL);
	t.sender = &snd;
	t.tabcap = 64;
	t.tab = calloc(t.tabcap, sizeof(*t.tab));
	uint64_t counter = 0;
	struct journal_prev prev;
	if (!t.tab || journal_open(&t.journal, state_dir, &counter, &prev) != 0)
		return -1;
	return uv_loop_init(&loop);
}

static int teardown(void **st)
{
	(void)st;
	spool_watch_close(t.watch);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	(void)uv_loop_close(&loop);
	while (snd.queue) {
		struct tx_file *f = snd.queue;
		snd.queue = f->next;
		files_free(f);
	}
	for (size_t i = 0; i < t.tabcap; i++)
		while (t.tab[i])
			files_entry_remove(&t, t.tab[i]);
	free(t.tab);
	journal_close(t.journal);
	pthread_mutex_destroy(&snd.mu);
	pthread_cond_destroy(&snd.cv);
	return nftw(top, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A file found by the first scan (old enough to be ready at once). */
static void test_fail_at_start(void **st)
{
	(void)st;
	put_file("a.bin", 10);
	fail_file = 1;
	assert_int_equal(spool_watch_start(&t.watch, &loop, &sp, 1, files_ready, &t), 0);
	assert_int_equal(file_failed, 1);
	assert_int_equal(entries(), 0); /* nothing left to stand in the way of the next try */
	struct tx_file *f = wait_queued();
	assert_non_null(f);
	assert_string_equal(f->relpath, "a.bin");
	assert_null(f->next);
	assert_int_equal(entries(), 1);
}

/* A file closed after writing while the spool is watched. */
static void test_fail_when_closed(void **st)
{
	(void)st;
	assert_int_equal(spool_watch_start(&t.watch, &loop, &sp, 1, files_ready, &t), 0);
	int before = file_failed;
	fail_file = 1;
	put_file("b.bin", 0);
	uint64_t until = mono_ns() + 2000000000ull;
	while (file_failed == before && mono_ns() < until)
		(void)uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(file_failed, before + 1);
	assert_int_equal(entries(), 0);
	struct tx_file *f = wait_queued();
	assert_non_null(f);
	assert_string_equal(f->relpath, "b.bin");
	assert_int_equal(entries(), 1);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fail_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_when_closed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
