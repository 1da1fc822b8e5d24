/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file ids outstanding (tx/sender/objects.c) and the done id announced from them: every id
 * below it is complete, so it must never pass a file still being sent, also when recording an
 * id fails for want of memory. realloc is wrapped (-Wl,--wrap): with `fail_realloc` set, the next call
 * fails. It used to pass such a file as soon as the ids recorded before it completed: rx then
 * declared the file lost while it was still being sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tx/sender/internal.h"

static int fail_realloc, realloc_failed;

/* Linked with -Wl,--wrap=realloc (Makefile): the code's calls come here, and __real_realloc
 * is libc's, or the sanitizer's in that build. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_realloc(void *p, size_t n)
{
	if (fail_realloc) {
		fail_realloc = 0;
		realloc_failed++;
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

/* Starts the next file, as object_next_file does: its id is next_id, which moves on. */
static uint64_t start(struct sender *s)
{
	uint64_t id = s->next_id++;
	object_outstanding_add(s, id);
	return id;
}

/* Fills the array up to its capacity with files started, then starts `nfail` more whose ids
 * cannot be recorded; returns the first of those. */
static uint64_t fill_then_fail(struct sender *s, unsigned nfail, uint64_t *first_recorded)
{
	*first_recorded = s->next_id;
	while (s->noutstanding < s->outstanding_cap || !s->outstanding_cap)
		start(s);
	uint64_t failed = s->next_id;
	for (unsigned i = 0; i < nfail; i++) {
		int before = realloc_failed;
		fail_realloc = 1;
		start(s);
		assert_int_equal(realloc_failed, before + 1);
	}
	return failed;
}

static void test_one_failed(void **st)
{
	(void)st;
	struct sender s = {.next_id = 1};
	uint64_t first, failed = fill_then_fail(&s, 1, &first);
	assert_int_equal(s.noutstanding, s.outstanding_cap);
	/* the files recorded before it complete: the done id stops at the one not recorded */
	for (uint64_t id = first; id < failed; id++) {
		object_outstanding_del(&s, id);
		assert_true(object_done_id(&s) <= failed);
	}
	assert_int_equal(object_done_id(&s), failed);
	/* a later file is recorded (room now) and completes: still not past it */
	uint64_t later = start(&s);
	assert_true(object_done_id(&s) <= failed);
	object_outstanding_del(&s, later);
	assert_int_equal(object_done_id(&s), failed);
	/* one started after it is still out when it completes: the done id moves to that one */
	uint64_t out = start(&s);
	object_outstanding_del(&s, failed);
	assert_int_equal(object_done_id(&s), out);
	object_outstanding_del(&s, out);
	assert_int_equal(object_done_id(&s), s.next_id);
	free(s.outstanding);
}

static void test_several_failed(void **st)
{
	(void)st;
	struct sender s = {.next_id = 100};
	uint64_t first, failed = fill_then_fail(&s, 3, &first);
	for (uint64_t id = first; id < failed; id++)
		object_outstanding_del(&s, id);
	assert_int_equal(s.noutstanding, 0);
	assert_true(object_done_id(&s) <= failed);
	/* they complete out of order: never past one still out, lagging is allowed */
	object_outstanding_del(&s, failed + 1);
	assert_true(object_done_id(&s) <= failed);
	object_outstanding_del(&s, failed);
	assert_true(object_done_id(&s) <= failed + 2);
	object_outstanding_del(&s, failed + 2);
	assert_int_equal(object_done_id(&s), s.next_id);
	/* and the next failure is caught again */
	uint64_t a = start(&s);
	failed = fill_then_fail(&s, 1, &first);
	for (uint64_t id = a; id < failed; id++)
		object_outstanding_del(&s, id);
	assert_int_equal(object_done_id(&s), failed);
	object_outstanding_del(&s, failed);
	assert_int_equal(object_done_id(&s), s.next_id);
	free(s.outstanding);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_failed),
		cmocka_unit_test(test_several_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
