/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/link/idwin.c: idwin_word and idwin_load, the word-at-a-time forms STATE/senders is saved
 * and a rejoin loaded with, against idwin_has and idwin_set one id at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rx/link/internal.h"

/* Bases on and off a byte, at the ring's end and far along it. */
static void test_words_match_bits(void **state)
{
	(void)state;
	unsigned seed = (unsigned)time(NULL);
	printf("test_idwin seed %u\n", seed);
	srand(seed);
	static uint64_t above[RESOLVED_WINDOW / 64];
	struct idwin a = {.bits = calloc(RESOLVED_WINDOW / 8, 1)};
	struct idwin b = {.bits = calloc(RESOLVED_WINDOW / 8, 1)};
	assert_non_null(a.bits);
	assert_non_null(b.bits);
	const uint64_t bases[] = {1, 8, 13, RESOLVED_WINDOW - 3, 3 * (uint64_t)RESOLVED_WINDOW + 61,
				  (uint64_t)rand() * 7 + 1};
	for (size_t t = 0; t < sizeof(bases) / sizeof(bases[0]); t++) {
		memset(above, 0, sizeof(above));
		for (unsigned i = 0; i < 64; i++) /* the first 4096 ids: random */
			above[i] = (uint64_t)rand() << 33 ^ (uint64_t)rand() << 11 ^ (uint64_t)rand();
		above[0] |= t & 1; /* the base itself resolved in some: the base moves */
		above[400] = 0x8000000000000001ull;
		above[RESOLVED_WINDOW / 64 - 1] = UINT64_MAX; /* the window's last ids */
		idwin_reset(&a, bases[t]);
		for (unsigned i = 0; i < RESOLVED_WINDOW; i++)
			if (above[i / 64] >> (i % 64) & 1)
				idwin_set(&a, bases[t] + i);
		memset(b.bits, 0xa5, RESOLVED_WINDOW / 8); /* load must start over */
		idwin_load(&b, bases[t], above, RESOLVED_WINDOW / 64);
		assert_int_equal(a.base, b.base);
		assert_memory_equal(a.bits, b.bits, RESOLVED_WINDOW / 8);
		for (unsigned w = 0; w < RESOLVED_WINDOW / 64; w++) {
			uint64_t want = 0;
			for (unsigned j = 0; j < 64; j++)
				want |= (uint64_t)idwin_has(&a, a.base + 64 * w + j) << j;
			assert_int_equal(idwin_word(&a, a.base + 64 * w), want);
		}
	}
	free(a.bits);
	free(b.bits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_match_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
