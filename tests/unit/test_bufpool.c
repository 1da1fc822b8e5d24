/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/bufpool.c: a given-back buffer comes back for a request of about its size (not for one
 * much smaller or any larger), aligned and writable over its whole request; idle bytes stay
 * within the bound, the excess is freed; NULL is a no-op. Run under ASan, a buffer freed while
 * still pooled, or pooled twice, fails the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rx/bufpool.h"

static void test_reuse(void **state)
{
	struct bufpool *p = bufpool_new(1 << 20);
	assert_non_null(p);
	uint8_t *a = bufpool_get(p, 1000);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % 64, 0);
	memset(a, 0xab, 1000);
	bufpool_put(p, a);
	assert_int_equal(bufpool_idle(p), 1024); /* rounded up to the alignment */
	assert_ptr_equal(bufpool_get(p, 1000), a); /* same size: reused */
	assert_int_equal(bufpool_idle(p), 0);
	bufpool_put(p, a);
	assert_ptr_equal(bufpool_get(p, 700), a); /* 1024 for 700: within half again */
	bufpool_put(p, a);
	uint8_t *b = bufpool_get(p, 600); /* 1024 for 600 wastes too much: a new one */
	assert_ptr_not_equal(b, a);
	uint8_t *c = bufpool_get(p, 2000); /* larger than anything idle: new */
	assert_ptr_not_equal(c, a);
	memset(c, 1, 2000);
	assert_int_equal(bufpool_idle(p), 1024);
	bufpool_put(p, b);
	bufpool_put(p, c);
	bufpool_put(p, NULL);
	assert_int_equal(bufpool_idle(p), 1024 + 640 + 2048);
	bufpool_free(p);
}

static void test_bound(void **state)
{
	struct bufpool *p = bufpool_new(3 * 4096);
	uint8_t *b[5];
	for (int i = 0; i < 5; i++) {
		b[i] = bufpool_get(p, 4096);
		assert_non_null(b[i]);
		memset(b[i], i, 4096);
	}
	for (int i = 0; i < 5; i++)
		bufpool_put(p, b[i]);
	assert_int_equal(bufpool_idle(p), 3 * 4096); /* two were freed, not kept */
	for (int i = 0; i < 3; i++) {
		b[i] = bufpool_get(p, 4096);
		assert_non_null(b[i]);
	}
	assert_int_equal(bufpool_idle(p), 0);
	for (int i = 0; i < 3; i++)
		bufpool_put(p, b[i]);
	bufpool_free(p); /* frees what it holds: LeakSanitizer sees no leak */
	bufpool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
