/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* common/deadline.{h,c}: poll timeouts never wake early, NEVER means no timeout, periodic
 * deadlines re-arm from the time they ran. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/deadline.h"
#include "common/log.h"

static void test_ms(void **state)
{
	const uint64_t now = 5000000000ull;
	assert_int_equal(deadline_ms(DEADLINE_NEVER, now), -1);
	assert_int_equal(deadline_ms(now, now), 0);
	assert_int_equal(deadline_ms(now - 1, now), 0);
	assert_int_equal(deadline_ms(now + 1, now), 1); /* rounded up: never early */
	assert_int_equal(deadline_ms(now + 1000000, now), 1);
	assert_int_equal(deadline_ms(now + 1000001, now), 2);
	assert_int_equal(deadline_ms(now + (1ull << 62), now), INT32_MAX);
	assert_int_equal(deadline_ms_max(DEADLINE_NEVER, now, 100), 100);
	assert_int_equal(deadline_ms_max(now + 5000000, now, 100), 5);
	assert_int_equal(deadline_ms_max(now + 500000000, now, 100), 100);
	assert_true(deadline_in_ms(now, -1) == DEADLINE_NEVER);
	assert_true(deadline_in_ms(now, 0) == now);
	assert_true(deadline_in_ms(now, 7) == now + 7000000);
	assert_true(deadline_due(now, now) && !deadline_due(now + 1, now));
	assert_true(deadline_min(3, DEADLINE_NEVER) == 3);
	struct timespec ts = deadline_timespec(now + 123);
	assert_int_equal(ts.tv_sec, 5);
	assert_int_equal(ts.tv_nsec, 123);
}

static void test_every(void **state)
{
	struct deadline_every t;
	deadline_every_init(&t, 1000, 100);
	assert_false(deadline_every_take(&t, 1099));
	assert_true(deadline_every_take(&t, 1100));
	assert_false(deadline_every_take(&t, 1100));
	assert_true(deadline_every_take(&t, 1550)); /* late: the next is a period after this run */
	assert_false(deadline_every_take(&t, 1649));
	assert_true(deadline_every_take(&t, 1650));
}

static void test_clock(void **state)
{
	uint64_t a = deadline_now(), b = mono_ns(), c = deadline_now();
	assert_true(a <= b && b <= c); /* the same clock as mono_ns */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ms),
		cmocka_unit_test(test_every),
		cmocka_unit_test(test_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
