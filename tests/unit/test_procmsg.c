/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/monitor/procmsg.c: the kept objects in DV_KEPT's form (written by the deliver process)
 * and the link process's start message (SP_LINK), which carries them. Bodies are built as
 * rx/monitor/monitor.c start_link builds them; every length or count that does not add up is
 * -EBADMSG, and a refused body leaves nothing allocated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/annauth.h"
#include "common/cursor.h"
#include "rx/monitor/procmsg.h"

/* SP_LINK's body as start_link writes it, around the kept objects' bytes. */
static uint8_t *link_body(uint32_t incarnation, const uint8_t rx_pk[32], const uint8_t *mac_keys,
			  size_t nsenders, const char *state, size_t slen, const uint8_t *kept,
			  size_t kept_len, size_t *len)
{
	*len = 4 + 32 + nsenders * ANNAUTH_KEY_LEN + 4 + slen + kept_len;
	uint8_t *b = malloc(*len);
	assert_non_null(b);
	struct wcursor w;
	wcursor_init(&w, b, *len);
	wcursor_u32(&w, incarnation);
	wcursor_bytes(&w, rx_pk, 32);
	wcursor_bytes(&w, mac_keys, nsenders * ANNAUTH_KEY_LEN);
	wcursor_u32(&w, (uint32_t)slen);
	wcursor_bytes(&w, state, slen);
	wcursor_bytes(&w, kept, kept_len);
	assert_false(w.err);
	assert_int_equal(w.off, *len);
	return b;
}

/* Refused, with nothing left allocated. */
static void expect_bad(const uint8_t *b, size_t len, size_t nsenders)
{
	struct procmsg_link m;
	assert_int_equal(procmsg_link_decode(b, len, nsenders, &m), -EBADMSG);
	assert_null(m.resume);
	assert_int_equal(m.nresume, 0);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 37);
}

/* Kept objects of assorted shapes: no block, one, a whole byte, a byte and a bit, more. */
#define NKEPT 6
static const uint32_t tops[NKEPT] = {0, 1, 8, 9, 13, 1000};
static uint8_t done_bits[NKEPT][125];

static void kept_make(struct linkrole_resume r[NKEPT])
{
	for (size_t i = 0; i < NKEPT; i++) {
		fill(done_bits[i], sizeof(done_bits[i]), (uint8_t)(0x11 * (i + 1)));
		r[i] = (struct linkrole_resume){.session = 0x1122334455667788ull + i,
						.object = 0xf00000000000000full - i,
						.length = (uint64_t)tops[i] * 4096 + i,
						.top = tops[i],
						.done = done_bits[i]};
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	struct linkrole_resume r[NKEPT];
	kept_make(r);
	uint8_t rx_pk[32], mac_keys[3 * ANNAUTH_KEY_LEN];
	fill(rx_pk, sizeof(rx_pk), 0xa0);
	fill(mac_keys, sizeof(mac_keys), 0x50);
	static const char text[] = "senders state\nwith lines\n";
	for (size_t nk = 0; nk <= NKEPT; nk++) {
		uint8_t *kept;
		size_t kept_len, want = 4;
		assert_int_equal(procmsg_resume_encode(r, nk, &kept, &kept_len), (int)nk);
		for (size_t i = 0; i < nk; i++)
			want += 8 + 8 + 8 + 4 + (tops[i] + 7) / 8;
		assert_int_equal(kept_len, want);
		struct cursor c;
		cursor_init(&c, kept, kept_len);
		assert_int_equal(cursor_u32(&c), nk);
		for (size_t ns = 0; ns <= 3; ns++) {
			for (size_t slen = 0; slen <= sizeof(text) - 1; slen += sizeof(text) - 1) {
				size_t len;
				uint32_t inc = (uint32_t)(0x80000001u + ns);
				uint8_t *b = link_body(inc, rx_pk, mac_keys, ns, text, slen, kept,
						       kept_len, &len);
				struct procmsg_link m;
				assert_int_equal(procmsg_link_decode(b, len, ns, &m), 0);
				assert_int_equal(m.incarnation, inc);
				assert_memory_equal(m.rx_pk, rx_pk, 32);
				if (ns)
					assert_memory_equal(m.mac_keys, mac_keys, ns * ANNAUTH_KEY_LEN);
				assert_int_equal(m.state_len, slen);
				if (slen)
					assert_memory_equal(m.state, text, slen);
				assert_int_equal(m.nresume, nk);
				for (size_t i = 0; i < nk; i++) {
					assert_int_equal(m.resume[i].session, r[i].session);
					assert_int_equal(m.resume[i].object, r[i].object);
					assert_int_equal(m.resume[i].length, r[i].length);
					assert_int_equal(m.resume[i].top, r[i].top);
					if (tops[i]) {
						assert_memory_equal(m.resume[i].done, done_bits[i],
								    (tops[i] + 7) / 8);
						/* a pointer into the body, as the header says */
						assert_true(m.resume[i].done > b && m.resume[i].done < b + len);
					}
				}
				procmsg_link_free(&m);
				assert_null(m.resume);
				assert_int_equal(m.nresume, 0);
				free(b);
			}
		}
		free(kept);
	}
}

/* Every prefix of a valid body is refused, and so is the body with a byte more. */
static void test_truncated_overlong(void **state)
{
	(void)state;
	struct linkrole_resume r[NKEPT];
	kept_make(r);
	uint8_t rx_pk[32] = {1}, mac_keys[2 * ANNAUTH_KEY_LEN] = {2};
	uint8_t *kept;
	size_t kept_len, len;
	assert_int_equal(procmsg_resume_encode(r, NKEPT, &kept, &kept_len), NKEPT);
	uint8_t *b = link_body(1, rx_pk, mac_keys, 2, "ab", 2, kept, kept_len, &len);
	for (size_t l = 0; l < len; l++)
		expect_bad(b, l, 2);
	uint8_t *more = malloc(len + 1);
	assert_non_null(more);
	memcpy(more, b, len);
	more[len] = 0;
	expect_bad(more, len + 1, 2);
	/* the same bytes read with another number of senders do not add up */
	expect_bad(b, len, 1);
	expect_bad(b, len, 3);
	expect_bad(b, len, SIZE_MAX / ANNAUTH_KEY_LEN + 1); /* nsenders * 32 would wrap */
	expect_bad(b, len, SIZE_MAX);
	struct procmsg_link m;
	assert_int_equal(procmsg_link_decode(b, len, 2, &m), 0);
	procmsg_link_free(&m);
	free(more);
	free(b);
	free(kept);
}

/* A state length beyond the body, and a count beyond the entries there. */
static void test_lengths_beyond(void **state)
{
	(void)state;
	uint8_t rx_pk[32] = {3};
	uint8_t kept[4] = {0};
	size_t len;
	uint8_t *b = link_body(1, rx_pk, NULL, 0, "xyz", 3, kept, sizeof(kept), &len);
	struct procmsg_link m;
	assert_int_equal(procmsg_link_decode(b, len, 0, &m), 0);
	procmsg_link_free(&m);
	/* nsenders * 32 wraps to 0: must not read as "no MAC keys" */
	expect_bad(b, len, SIZE_MAX / ANNAUTH_KEY_LEN + 1);
	b[36] = 4 + 3 + 1; /* the state's length: past the count, one byte short */
	expect_bad(b, len, 0);
	b[36] = 0xff;
	b[39] = 0xff;
	expect_bad(b, len, 0);
	b[36] = 3;
	b[39] = 0;
	b[len - 4] = 1; /* one kept object, none there */
	expect_bad(b, len, 0);
	free(b);
}

/* A body of n kept objects, each with top blocks (done bits all set). */
static uint8_t *many(uint32_t n, uint32_t top, size_t *len)
{
	size_t per = 8 + 8 + 8 + 4 + ((size_t)top + 7) / 8;
	size_t klen = 4 + (size_t)n * per;
	uint8_t *k = malloc(klen), rx_pk[32] = {4};
	assert_non_null(k);
	struct wcursor w;
	wcursor_init(&w, k, klen);
	wcursor_u32(&w, n);
	for (uint32_t i = 0; i < n; i++) {
		wcursor_u64(&w, 7);
		wcursor_u64(&w, i + 1);
		wcursor_u64(&w, (uint64_t)top * 64);
		wcursor_u32(&w, top);
		uint8_t *d = wcursor_take(&w, ((size_t)top + 7) / 8);
		if (d)
			memset(d, 0xff, ((size_t)top + 7) / 8);
	}
	assert_false(w.err);
	assert_int_equal(w.off, klen);
	uint8_t *b = link_body(9, rx_pk, NULL, 0, NULL, 0, k, klen, len);
	free(k);
	return b;
}

static void test_too_many(void **state)
{
	(void)state;
	size_t len;
	struct procmsg_link m;
	uint8_t *b = many(PROCMSG_RESUME_MAX, 0, &len);
	assert_int_equal(procmsg_link_decode(b, len, 0, &m), 0);
	assert_int_equal(m.nresume, PROCMSG_RESUME_MAX);
	assert_int_equal(m.resume[PROCMSG_RESUME_MAX - 1].object, PROCMSG_RESUME_MAX);
	procmsg_link_free(&m);
	free(b);
	b = many(PROCMSG_RESUME_MAX + 1, 0, &len);
	expect_bad(b, len, 0);
	free(b);
	/* a count far beyond, with no entries: refused before anything is allocated for it */
	b = many(0, 0, &len);
	memset(b + len - 4, 0xff, 4);
	expect_bad(b, len, 0);
	free(b);
}

static void test_top_max(void **state)
{
	(void)state;
	size_t len;
	struct procmsg_link m;
	uint8_t *b = many(1, PROCMSG_TOP_MAX, &len);
	assert_int_equal(procmsg_link_decode(b, len, 0, &m), 0);
	assert_int_equal(m.nresume, 1);
	assert_int_equal(m.resume[0].top, PROCMSG_TOP_MAX);
	assert_int_equal(m.resume[0].done[PROCMSG_TOP_MAX / 8 - 1], 0xff);
	procmsg_link_free(&m);
	free(b);
	b = many(1, PROCMSG_TOP_MAX + 1, &len);
	expect_bad(b, len, 0);
	free(b);
	/* top near 2^32, whose bit count would wrap in 32 bits */
	b = many(1, 0, &len);
	memset(b + len - 4, 0xff, 4);
	expect_bad(b, len, 0);
	free(b);
}

/* Kept objects beyond what one start message holds are left out, the first ones kept: by
 * count, by a top over PROCMSG_TOP_MAX, and by bytes. */
static void test_encode_fits(void **state)
{
	(void)state;
	static uint8_t bits[PROCMSG_TOP_MAX / 8];
	struct linkrole_resume r[3] = {{1, 1, 10, 8, bits}, {1, 2, 10, PROCMSG_TOP_MAX + 1, bits},
				       {1, 3, 10, 8, bits}};
	uint8_t *b;
	size_t len;
	assert_int_equal(procmsg_resume_encode(r, 3, &b, &len), 1);
	assert_int_equal(len, 4 + 8 + 8 + 8 + 4 + 1);
	free(b);
	struct linkrole_resume big[5];
	for (int i = 0; i < 5; i++)
		big[i] = (struct linkrole_resume){1, (uint64_t)i, 10, PROCMSG_TOP_MAX, bits};
	int n = procmsg_resume_encode(big, 5, &b, &len);
	assert_int_equal(n, (int)(PROCMSG_KEPT_BYTES / (28 + PROCMSG_TOP_MAX / 8)));
	assert_true(len <= PROCMSG_KEPT_BYTES);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_overlong),
		cmocka_unit_test(test_lengths_beyond),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_top_max),
		cmocka_unit_test(test_encode_fits),
	};
	return cmocka_run_group_tests_name("procmsg", tests, NULL, NULL);
}
