/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/ring.c: the block ring between the link and deliver roles. Bytes come back as they went
 * in, at the position put returned; a block that would wrap starts again at the beginning;
 * put refuses what does not fit until the consumer releases; the consumer refuses every
 * reference it was not given (before tail, beyond head, wrapping, released) and tail never
 * moves backwards. A seeded run of random sizes checks every byte against a model. Under
 * ASan, a copy past the end of the region fails the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rx/ring.h"
#include "tests/unit/seeded.h"

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void test_sizes(void **state)
{
	struct ring *r = (struct ring *)1;
	assert_int_equal(ring_new(&r, 0), -EINVAL);
	assert_null(r);
	assert_int_equal(ring_new(&r, RING_MAX + 1), -EINVAL);
	assert_int_equal(ring_new(&r, 1), 0);
	assert_int_equal(ring_size(r), page()); /* whole pages */
	ring_free(r);
	ring_free(NULL);
}

static void test_put_at_release(void **state)
{
	struct ring *r;
	size_t S = page();
	assert_int_equal(ring_new(&r, S), 0);
	uint8_t a[1000], b[3000], c[200];
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	fill(c, sizeof(c), 3);
	uint64_t pa, pb, pc;
	assert_int_equal(ring_put(r, a, sizeof(a), &pa), 0);
	assert_int_equal(pa, 0);
	assert_int_equal(ring_put(r, b, sizeof(b), &pb), 0);
	assert_int_equal(pb, 1000);
	/* 96 bytes left: no room for 200 until a is released */
	assert_int_equal(ring_put(r, c, sizeof(c), &pc), -ENOSPC);
	assert_memory_equal(ring_at(r, pa, sizeof(a)), a, sizeof(a));
	assert_memory_equal(ring_at(r, pb, sizeof(b)), b, sizeof(b));
	/* references the producer did not make */
	assert_null(ring_at(r, pb, sizeof(b) + 1));       /* beyond head */
	assert_null(ring_at(r, 4000, 1));                  /* beyond head */
	assert_null(ring_at(r, UINT64_MAX, 2));            /* overflow */
	assert_non_null(ring_at(r, pb + 10, 20));          /* inside what was put: bounds only */
	ring_release(r, pa + sizeof(a));
	assert_null(ring_at(r, pa, sizeof(a)));            /* released */
	/* c does not fit in the 96 bytes before the end: it starts again at offset 0 */
	assert_int_equal(ring_put(r, c, sizeof(c), &pc), 0);
	assert_int_equal(pc, S);
	assert_memory_equal(ring_at(r, pc, sizeof(c)), c, sizeof(c));
	assert_null(ring_at(r, S - 96, 296));              /* would wrap */
	/* tail never moves back, nor beyond head */
	ring_release(r, 10);
	assert_null(ring_at(r, pa, sizeof(a)));
	ring_release(r, UINT64_MAX);
	assert_memory_equal(ring_at(r, pb, sizeof(b)), b, sizeof(b));
	/* larger than the ring: never */
	uint8_t *big = calloc(1, S + 1);
	uint64_t pbig;
	ring_release(r, pc + sizeof(c));
	assert_int_equal(ring_put(r, big, S + 1, &pbig), -ENOSPC);
	assert_int_equal(ring_put(r, big, S, &pbig), 0); /* exactly the ring, once empty */
	assert_int_equal(pbig % S, 0);
	free(big);
	ring_free(r);
}

/* Random block sizes through a small ring, consumer lagging by a random amount: every byte
 * read back is the byte put, every position is as the model says. */
static void test_random(void **state)
{
	seed_init("test_ring");
	struct ring *r;
	size_t S = 4 * page();
	assert_int_equal(ring_new(&r, S), 0);
	enum { N = 20000, INFL = 64 };
	struct {
		uint64_t pos;
		size_t len;
		uint8_t seed;
	} q[INFL];
	size_t qh = 0, qt = 0; /* queue of what was put and not yet consumed */
	uint8_t *buf = malloc(S);
	uint64_t head_model = 0;
	unsigned puts = 0, refused = 0;
	for (int i = 0; i < N; i++) {
		if (qh - qt < INFL && rnd() % 3) {
			size_t len = (size_t)(rnd() % (S / 3)) + (rnd() % 8 == 0 ? 0 : 1);
			uint8_t seed = (uint8_t)rnd();
			fill(buf, len, seed);
			uint64_t pos;
			int rc = ring_put(r, buf, len, &pos);
			if (rc == 0) {
				uint64_t want = head_model % S + len > S ? head_model + (S - head_model % S)
									 : head_model;
				assert_int_equal(pos, want);
				head_model = pos + len;
				q[qh % INFL].pos = pos;
				q[qh % INFL].len = len;
				q[qh % INFL].seed = seed;
				qh++;
				puts++;
			} else {
				assert_int_equal(rc, -ENOSPC);
				assert_true(qh > qt); /* an empty ring takes anything up to its size */
				refused++;
			}
		} else if (qt < qh) {
			size_t k = qt % INFL;
			const uint8_t *p = ring_at(r, q[k].pos, q[k].len);
			assert_non_null(p);
			fill(buf, q[k].len, q[k].seed);
			assert_memory_equal(p, buf, q[k].len);
			ring_release(r, q[k].pos + q[k].len);
			qt++;
		}
	}
	print_message("%u puts, %u refused\n", puts, refused);
	assert_true(puts > N / 4 && refused > 0);
	free(buf);
	ring_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_put_at_release),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
