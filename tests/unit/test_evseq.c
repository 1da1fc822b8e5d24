/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/evseq.{h,c}: the chain of batches kept with a source's seq state. A clean stop and start
 * continue the chain (same next batch and prev, flagged EVCHAIN_RESTART once); a crash (the file
 * left "reserved") resumes past the batch reservation with prev zeros, flagged EVCHAIN_RESET; a
 * version-1 file (before chains) begins the chain at batch 1 unflagged; the file text is exact.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/evchain.h"
#include "tx/evseq.h"

static char top[64], path[128];

static int setup(void **st)
{
	(void)st;
	snprintf(top, sizeof(top), "/tmp/sluice-test-evseq-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(path, sizeof(path), "%s/events/vms", top);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	unlink(path);
	char d[96];
	snprintf(d, sizeof(d), "%s/events", top);
	rmdir(d);
	return rmdir(top);
}

static void send_batches(struct evseq *s, int n, uint8_t tag)
{
	for (int i = 0; i < n; i++) {
		uint64_t batch, seq;
		uint8_t flags, prev[32], h[32];
		assert_int_equal(evseq_next(s, &seq), 0);
		assert_int_equal(evseq_batch_peek(s, &batch, &flags, prev), 0);
		memset(h, tag + i, sizeof(h));
		evseq_batch_sent(s, h);
	}
}

static void test_clean_restart(void **st)
{
	(void)st;
	struct evseq s;
	uint64_t batch;
	uint8_t flags, prev[32], zero[32] = {0}, want[32];
	assert_int_equal(evseq_open(&s, top, "vms"), 0);
	assert_int_equal(evseq_batch_peek(&s, &batch, &flags, prev), 0);
	assert_int_equal(batch, 1);
	assert_int_equal(flags, 0);
	assert_memory_equal(prev, zero, 32);
	send_batches(&s, 3, 0x40);
	assert_int_equal(evseq_close(&s), 0);
	char buf[256];
	FILE *f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	char expect[256];
	snprintf(expect, sizeof(expect), "sluice-evseq 2 stream=%016llx next=3 batch=4 prev=%s clean\n",
		 (unsigned long long)s.stream,
		 "4242424242424242424242424242424242424242424242424242424242424242");
	assert_string_equal(buf, expect);
	uint64_t stream = s.stream;
	assert_int_equal(evseq_open(&s, top, "vms"), 0);
	assert_int_equal(s.stream, stream);
	assert_int_equal(evseq_batch_peek(&s, &batch, &flags, prev), 0);
	assert_int_equal(batch, 4);
	assert_int_equal(flags, EVCHAIN_RESTART);
	memset(want, 0x42, 32);
	assert_memory_equal(prev, want, 32);
	send_batches(&s, 1, 0x50);
	assert_int_equal(evseq_batch_peek(&s, &batch, &flags, prev), 0);
	assert_int_equal(batch, 5);
	assert_int_equal(flags, 0); /* once */
	assert_int_equal(evseq_close(&s), 0);
}

static void test_crash(void **st)
{
	(void)st;
	struct evseq s;
	uint64_t batch;
	uint8_t flags, prev[32], zero[32] = {0};
	assert_int_equal(evseq_open(&s, top, "vms"), 0);
	send_batches(&s, 3, 0x40);
	/* no evseq_close: the file still says "reserved" */
	assert_int_equal(evseq_open(&s, top, "vms"), 0);
	assert_true(s.unclean);
	assert_int_equal(evseq_batch_peek(&s, &batch, &flags, prev), 0);
	assert_true(batch > 3); /* never a batch seq used before the crash */
	assert_int_equal(flags, EVCHAIN_RESET);
	assert_memory_equal(prev, zero, 32);
	assert_int_equal(evseq_close(&s), 0);
}

static void test_v1_file(void **st)
{
	(void)st;
	char d[96];
	snprintf(d, sizeof(d), "%s/events", top);
	assert_int_equal(mkdir(d, 0700), 0);
	FILE *f = fopen(path, "w");
	fputs("sluice-evseq 1 stream=00000000000000ab next=77 clean\n", f);
	fclose(f);
	struct evseq s;
	uint64_t batch;
	uint8_t flags, prev[32];
	assert_int_equal(evseq_open(&s, top, "vms"), 0);
	assert_int_equal(s.stream, 0xab);
	assert_int_equal(s.next, 77);
	assert_int_equal(evseq_batch_peek(&s, &batch, &flags, prev), 0);
	assert_int_equal(batch, 1);
	assert_int_equal(flags, 0);
	assert_int_equal(evseq_close(&s), 0);
	/* a v2 line with a bad prev is refused, not reset */
	f = fopen(path, "w");
	fputs("sluice-evseq 2 stream=00000000000000ab next=77 batch=3 prev=xyz clean\n", f);
	fclose(f);
	assert_int_not_equal(evseq_open(&s, top, "vms"), 0);
	/* a signed or too large seq or batch is refused, not wrapped */
	static const char *bad[] = {
		"sluice-evseq 1 stream=00000000000000ab next=-1 clean\n",
		"sluice-evseq 1 stream=00000000000000ab next=+7 clean\n",
		"sluice-evseq 2 stream=00000000000000ab next=-1 batch=3 prev="
		"0000000000000000000000000000000000000000000000000000000000000000 clean\n",
		"sluice-evseq 2 stream=00000000000000ab next=7 batch=-1 prev="
		"0000000000000000000000000000000000000000000000000000000000000000 clean\n",
		"sluice-evseq 2 stream=00000000000000ab next=9223372036854775809 batch=3 prev="
		"0000000000000000000000000000000000000000000000000000000000000000 clean\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		assert_int_not_equal(evseq_open(&s, top, "vms"), 0);
	}
}

/* A seq or batch too close to 2^64 to reserve EVSEQ_RESERVE more is refused, the file kept: it
 * would wrap to 0 and hand out seqs again under the same stream. */
static void test_counts_at_the_end(void **st)
{
	(void)st;
	char d[96];
	snprintf(d, sizeof(d), "%s/events", top);
	assert_int_equal(mkdir(d, 0700), 0);
	static const char *const lines[] = {
		"sluice-evseq 2 stream=00000000000000ab next=18446744073709551615 batch=3 prev="
		"0000000000000000000000000000000000000000000000000000000000000000 clean\n",
		"sluice-evseq 2 stream=00000000000000ab next=77 batch=18446744073709551000 prev="
		"0000000000000000000000000000000000000000000000000000000000000000 clean\n",
		"sluice-evseq 1 stream=00000000000000ab next=18446744073708503041 clean\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		FILE *f = fopen(path, "w");
		fputs(lines[i], f);
		fclose(f);
		struct evseq s;
		assert_int_equal(evseq_open(&s, top, "vms"), -EINVAL);
		char buf[256] = "";
		f = fopen(path, "r");
		assert_non_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		assert_string_equal(buf, lines[i]);
	}
	/* at the limit of what a state file may hold (2^63, common/seqtext.h): the reservation
	 * still fits */
	FILE *f = fopen(path, "w");
	fputs("sluice-evseq 1 stream=00000000000000ab next=9223372036854775808 clean\n", f);
	fclose(f);
	struct evseq s;
	assert_int_equal(evseq_open(&s, top, "vms"), 0);
	assert_true(s.reserved > s.next);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_at_the_end, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
