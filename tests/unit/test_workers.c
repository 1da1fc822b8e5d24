/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/workers.c: every job of a batch runs once, and workers_wait returns only when all have;
 * workers run 10 nice levels below the thread that started them (capped at 19), so on a
 * shared core the sender's thread wakes on time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tx/workers.h"

#define JOBS 200

struct job {
	int runs;
	int nice;
	unsigned worker;
};

static void run(void *p, unsigned worker, void *ctx)
{
	struct job *j = p;
	(void)ctx;
	j->runs++;
	j->worker = worker;
	errno = 0;
	j->nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	assert_int_equal(errno, 0);
	usleep(100);
}

static void test_batch_and_nice(void **state)
{
	(void)state;
	errno = 0;
	int base = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	assert_int_equal(errno, 0);
	int want = base + 10 > 19 ? 19 : base + 10;
	struct workers *w = NULL;
	assert_int_equal(workers_new(&w, 3, run, NULL), 0);
	struct workers_batch *b = workers_batch_new();
	assert_non_null(b);
	static struct job jobs[JOBS];
	void *ptrs[JOBS];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < JOBS; i++)
			ptrs[i] = &jobs[i];
		workers_submit(w, b, ptrs, JOBS);
		workers_wait(w, b);
		for (int i = 0; i < JOBS; i++) {
			assert_int_equal(jobs[i].runs, round + 1);
			assert_int_equal(jobs[i].nice, want);
			assert_true(jobs[i].worker <= 3);
		}
	}
	/* the calling thread keeps its own priority */
	errno = 0;
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid)), base);
	workers_batch_free(b);
	workers_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_and_nice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
