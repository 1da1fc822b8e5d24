/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* Seeded randomness for unit tests: the seed is printed, and SLUICE_TEST_SEED repeats a run. */
#ifndef SLUICE_TEST_SEEDED_H
#define SLUICE_TEST_SEEDED_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state;

__attribute__((unused)) static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

__attribute__((unused)) static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

__attribute__((unused)) static void seed_init(const char *test)
{
	const char *e = getenv("SLUICE_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("%s: seed %" PRIu64 " (SLUICE_TEST_SEED=%" PRIu64 " repeats this run)\n", test, seed, seed);
	rng_state = seed;
}

#endif
