/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/verify_events.{h,c}, verify-audit's check of event-batch chains, on lines built here as
 * rx writes them (records signed with a test key): an intact chain recorded out of order passes;
 * a batch missing with no chain_break line is named at the end, at the line of the batch after
 * it, with its event seqs; in a whole log, a source beginning above batch 1 is named unless rx
 * noted that it began following the chain there; a recorded chain_break is named at its line;
 * a record signed by another key, a line that says another batch than its record, a record
 * that is not base64 and a batch recorded twice are each named. Messages are read back from
 * stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/evchain.h"
#include "common/keys.h"
#include "rx/verify_events.h"

static uint8_t pk[1][32], sk[64], pk2[32], sk2[64];
static char fp[1][17];
static const char *const files[] = {"audit.jsonl"};

static int setup(void **st)
{
	(void)st;
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(pk[0], sk);
	crypto_sign_keypair(pk2, sk2);
	keys_fingerprint(pk[0], fp[0]);
	return 0;
}

/* Records of batches 1..n of "vms", 10 events each (batch k: 10(k-1)..10k-1); batch
 * flag_batch has flags flag_bits. */
static uint8_t recs[12][EVCHAIN_MAX_LEN];
static int lens[12];
static int flag_batch;
static uint8_t flag_bits;

static void make(int n, const uint8_t *key)
{
	uint8_t prev[32] = {0};
	for (int k = 1; k <= n; k++) {
		struct evchain_rec r = {.count = 10, .stream = 5, .batch = (uint64_t)k,
					.first = 10u * (k - 1), .last = 10u * k - 1,
					.after = 10u * (k - 1),
					.flags = k == flag_batch ? flag_bits : 0};
		memcpy(r.prev, prev, 32);
		strcpy(r.source, "vms");
		lens[k] = evchain_sign(&r, key, recs[k], sizeof(recs[k]));
		assert_true(lens[k] > 0);
		evchain_hash(recs[k], (size_t)lens[k], prev);
	}
}

static json_t *line(int k, int64_t batch_said)
{
	char b64[400];
	sodium_bin2base64(b64, sizeof(b64), recs[k], (size_t)lens[k], sodium_base64_VARIANT_ORIGINAL);
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "outcome", "events", "source", "vms",
			 "batch", (json_int_t)batch_said, "event_first", (json_int_t)(10 * (k - 1)),
			 "event_last", (json_int_t)(10 * k - 1), "sender", fp[0], "record", b64);
}

/* stderr into a temp file while f runs; its text into out. */
static char errbuf[4096];
static int saved = -1;
static FILE *cap;

static void capture(void)
{
	fflush(stderr);
	cap = tmpfile();
	saved = dup(2);
	dup2(fileno(cap), 2);
}

static const char *captured(void)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	size_t n = fread(errbuf, 1, sizeof(errbuf) - 1, cap);
	errbuf[n] = '\0';
	fclose(cap);
	return errbuf;
}

/* Feed lines (batch k for each k in order, -k: the line says batch 99; 0 ends), the first
 * with reason when not NULL, in a log that is whole or not; then finish: the status. */
static int run_log(bool whole, const char *reason, const int *order, const char **msg)
{
	struct evverify *v = evverify_new(files, (const uint8_t(*)[32])pk, (const char(*)[17])fp, 1);
	assert_non_null(v);
	evverify_whole(v, whole);
	capture();
	int rc = 0;
	uint64_t n = 0;
	for (; !rc && order[n]; n++) {
		json_t *o = line(order[n] > 0 ? order[n] : -order[n], order[n] > 0 ? order[n] : 99);
		if (n == 0 && reason)
			json_object_set_new(o, "reason", json_string(reason));
		rc = evverify_line(v, 0, n + 1, o);
		json_decref(o);
	}
	if (!rc)
		rc = evverify_finish(v);
	*msg = captured();
	evverify_free(v);
	return rc;
}

static int run(const int *order, const char **msg) { return run_log(false, NULL, order, msg); }

static void test_intact_and_reordered(void **st)
{
	(void)st;
	make(6, sk);
	const char *msg;
	int order[] = {1, 2, 4, 3, 5, 6, 0};
	assert_int_equal(run(order, &msg), 0);
	assert_string_equal(msg, "");
}

static void test_missing_unrecorded(void **st)
{
	(void)st;
	make(6, sk);
	const char *msg;
	int order[] = {1, 2, 5, 6, 0}; /* 3 and 4 never recorded */
	assert_int_equal(run(order, &msg), 1);
	assert_string_equal(msg, "audit.jsonl:3: source vms: chain break: batches 3..4 missing "
				 "(events 20..39)\n");
}

static void test_whole_log_begins_at_batch_1(void **st)
{
	(void)st;
	const char *msg;
	const int all[] = {1, 2, 3, 4, 5, 6, 0}, from2[] = {2, 3, 4, 5, 6, 0},
		  from3[] = {3, 4, 5, 6, 0};
	make(6, sk);
	assert_int_equal(run_log(true, "chain followed from here", all, &msg), 0);
	assert_int_equal(run_log(true, NULL, all, &msg), 0);
	/* the first lines removed from a whole log */
	assert_int_equal(run_log(true, NULL, from3, &msg), 1);
	assert_string_equal(msg, "audit.jsonl:1: source vms: chain break: batches 1..2 missing "
				 "before batch 3, the first of the source in a log that begins at "
				 "seq 1\n");
	assert_int_equal(run_log(true, NULL, from2, &msg), 1);
	assert_string_equal(msg, "audit.jsonl:1: source vms: chain break: batch 1 missing before "
				 "batch 2, the first of the source in a log that begins at seq 1\n");
	/* rx began following the chain at batch 3, or the log is given from its middle */
	assert_int_equal(run_log(true, "chain followed from here", from3, &msg), 0);
	assert_string_equal(msg, "");
	assert_int_equal(run_log(false, NULL, from3, &msg), 0);
	/* another reason is not rx's note of where it began */
	assert_int_equal(run_log(true, "something else", from3, &msg), 1);
	/* a sender restart's batch, which rx notes instead ("sender restarted; ...") */
	flag_batch = 3;
	flag_bits = EVCHAIN_RESTART;
	make(6, sk);
	flag_batch = 0;
	assert_int_equal(run_log(true, "sender restarted; the chain goes on", from3, &msg), 0);
	assert_string_equal(msg, "");
}

static void test_recorded_break(void **st)
{
	(void)st;
	struct evverify *v = evverify_new(files, (const uint8_t(*)[32])pk, (const char(*)[17])fp, 1);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "outcome", "chain_break", "source",
			      "vms", "batch", (json_int_t)7, "event_first", (json_int_t)60,
			      "event_last", (json_int_t)69, "reason",
			      "lost: batch 7..7 never arrived (events 60..69)");
	capture();
	assert_int_equal(evverify_line(v, 0, 42, o), 1);
	assert_string_equal(captured(), "audit.jsonl:42: source vms: chain break: batch 7 missing "
					"(events 60..69)\n");
	json_decref(o);
	evverify_free(v);
}

static void test_forged_and_altered(void **st)
{
	(void)st;
	const char *msg;
	make(3, sk2); /* another key */
	int order[] = {1, 0};
	assert_int_equal(run(order, &msg), 1);
	assert_string_equal(msg, "audit.jsonl:1: source vms: the batch record's signature does not "
				 "verify with any key given with --sender\n");
	make(3, sk);
	int said[] = {1, -2, 0}; /* line 2 says batch 99 */
	assert_int_equal(run(said, &msg), 1);
	assert_string_equal(msg, "audit.jsonl:2: source vms: \"batch\" is not what the signed batch "
				 "record says\n");
	int twice[] = {1, 2, 2, 0};
	assert_int_equal(run(twice, &msg), 1);
	assert_string_equal(msg, "audit.jsonl:3: source vms: batch 2 recorded twice\n");
	/* a record of batch 2 that names another predecessor, signed: a mismatch */
	struct evchain_rec r;
	assert_int_equal(evchain_decode(recs[2], (size_t)lens[2], &r, NULL), 0);
	r.prev[0] ^= 1;
	lens[2] = evchain_sign(&r, sk, recs[2], sizeof(recs[2]));
	int order2[] = {1, 2, 0};
	assert_int_equal(run(order2, &msg), 1);
	assert_string_equal(msg, "audit.jsonl:2: source vms: chain break: batch 2 does not follow the "
				 "record of batch 1 (its prev hash differs)\n");
	/* not base64 */
	struct evverify *v = evverify_new(files, (const uint8_t(*)[32])pk, (const char(*)[17])fp, 1);
	json_t *o = line(1, 1);
	json_object_set_new(o, "record", json_string("!!"));
	capture();
	assert_int_equal(evverify_line(v, 0, 5, o), 1);
	assert_non_null(strstr(captured(), "audit.jsonl:5: source vms: the batch record is not base64"));
	json_decref(o);
	evverify_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact_and_reordered),
		cmocka_unit_test(test_missing_unrecorded),
		cmocka_unit_test(test_whole_log_begins_at_batch_1),
		cmocka_unit_test(test_recorded_break),
		cmocka_unit_test(test_forged_and_altered),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
