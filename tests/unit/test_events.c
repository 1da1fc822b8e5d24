/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/events.{h,c} over real files in a mkdtemp folder (DIR = <tmp>/events, STATE = <tmp>/state).
 * Batches are built with common/evbatch.h the way tx builds them and fed to events_batch();
 * the .jsonl files are read back and every line is checked: exact text around rx_time (source,
 * seq, tx_time, event), rx_time's format and range, no raw byte below 0x20, and a jansson parse
 * (duplicate keys refused). Covered: in-order delivery, a batch held until the one before it
 * arrives, each gap given up EVENTS_REORDER_NS after it was first missed (on a fake monotonic
 * clock the tests move) or at once when the sender says it dropped those seqs, duplicates, a stream reset, resuming from the file after
 * events_free/events_new (also when the last line's event holds \u0000), a crash-cut last
 * line (short, longer than one 4 KiB read, alone in its file), refused source names (nothing
 * made outside DIR), a new stream's start (its first batch overtaken by its second, the wait
 * for batches before it, late ones counted lost, seq 2^64-1 alone), a seq that goes back with a
 * newer tx_time (seq_back, also after a restart), sources that cannot be set up (a file in the
 * way of the folder, more than EVENTS_SOURCES_MAX), the folder removed by retention or by hand,
 * a failed write and out of memory part-way through a line (counted once, nothing left of it),
 * and events_encode by
 * table and by seeded random input against a reference (the Unicode table of well-formed UTF-8
 * byte sequences). The rx counters are process-global: each check compares differences.
 * SLUICE_TEST_SEED=N repeats a random run; SLUICE_TEST_KEEP=1 keeps the folders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/evbatch.h"
#include "common/log.h"
#include "common/evchain.h"
#include "rx/audit.h"
#include "rx/events/events.h"
#include "rx/retention.h"
#include "rx/rx_metrics.h"
#include "tests/unit/seeded.h"
#include "tests/unit/ref_utf8.h"

/* tx_time of seq s: TX0 + s us + 7 ns, so the line shows ".%06u" of s (the ns cut off). */
#define TX0 1700000000000000000ull /* 2023-11-14T22:13:20Z */
#define TX_OF(seq) (TX0 + (seq) * 1000u + 7u)

/* \u0000 is valid JSON (RFC 8259) and lines carry it for NUL bytes; jansson takes it only with
 * JSON_ALLOW_NUL. */
#define JFLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

#define MS 1000000ull /* ns */

static char top[64], dir[96], stdir[96];
static struct events *ev;
static time_t t_start;

/* The module's monotonic clock: moved only by the tests, so gap timers are exact. */
static uint64_t fake_mono;
static uint64_t fake_clock(void) { return fake_mono; }

/* The sender's key, pinned; other_sk signs what must be refused. The audit log the lane writes. */
static uint8_t tx_pk[32], tx_sk[64], other_pk[32], other_sk[64];
static char audit_path[128];
/* The sender's chain per (source, stream): the next batch seq and the last record's hash. */
static struct tx_chain {
	char src[64];
	uint64_t stream, batch;
	uint8_t prev[32];
} chains[EVENTS_SOURCES_MAX + 16];

static struct audit *aud;
/* Added to every tx_time sent: a sender whose seqs went back, at a later time. */
static uint64_t tx_shift;

static void open_events(bool with_state)
{
	struct events_config c = {.dir = dir, .state = with_state ? stdir : NULL, .forward = NULL,
				  .mono = fake_clock, .audit = aud,
				  .senders = (const uint8_t(*)[32])tx_pk, .nsenders = 1};
	assert_int_equal(events_new(&ev, &c), 0);
	assert_non_null(ev);
}

static void close_events(void)
{
	events_free(ev);
	ev = NULL;
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/sluice-test-events-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(dir, sizeof(dir), "%s/events", top);
	snprintf(stdir, sizeof(stdir), "%s/state", top);
	t_start = time(NULL);
	fake_mono = 1000 * 1000 * MS;
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(tx_pk, tx_sk);
	crypto_sign_keypair(other_pk, other_sk);
	snprintf(audit_path, sizeof(audit_path), "%s/audit.jsonl", top);
	if (audit_open(&aud, audit_path) != 0)
		return -1;
	memset(chains, 0, sizeof(chains));
	tx_shift = 0;
	open_events(true);
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	close_events();
	audit_close(aud);
	aud = NULL;
	if (getenv("SLUICE_TEST_KEEP")) {
		printf("kept %s\n", top);
		return 0;
	}
	return nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- counters ---- */

struct counts {
	uint64_t delivered, lost, dup;
};

static struct counts counts_now(void)
{
	return (struct counts){metric_get(&rx_metrics[RXM_EVENTS_DELIVERED]),
			       metric_get(&rx_metrics[RXM_EVENTS_LOST]),
			       metric_get(&rx_metrics[RXM_EVENTS_DUPLICATE])};
}

static void assert_counts(const struct counts *before, uint64_t delivered, uint64_t lost, uint64_t dup)
{
	struct counts now = counts_now();
	assert_int_equal(now.delivered - before->delivered, delivered);
	assert_int_equal(now.lost - before->lost, lost);
	assert_int_equal(now.dup - before->dup, dup);
}

/* ---- batches ---- */


static struct tx_chain *chain_of(const char *src, uint64_t stream)
{
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		struct tx_chain *c = &chains[i];
		if (c->batch && strcmp(c->src, src) == 0) {
			if (c->stream != stream) { /* a new stream: its chain begins at 1 */
				c->stream = stream;
				c->batch = 1;
				memset(c->prev, 0, 32);
			}
			return c;
		}
		if (!c->batch) {
			snprintf(c->src, sizeof(c->src), "%s", src);
			c->stream = stream;
			c->batch = 1;
			return c;
		}
	}
	fail();
	return NULL;
}

static const uint8_t *sign_key = NULL; /* NULL: tx_sk */
static bool skip_batch;                /* built and chained, never handed to the lane: lost */

static int send_batch(const char *src, uint64_t stream, uint64_t after, const uint64_t *seqs, size_t n,
		      const char *const *data /* NULL: {"n":SEQ} */, const size_t *lens)
{
	struct evbatch_builder b;
	assert_int_equal(evbatch_begin(&b, src, stream, after), 0);
	for (size_t i = 0; i < n; i++) {
		char def[32];
		const char *d = def;
		size_t len;
		if (data) {
			d = data[i];
			len = lens ? lens[i] : strlen(d);
		} else {
			len = (size_t)snprintf(def, sizeof(def), "{\"n\":%" PRIu64 "}", seqs[i]);
		}
		assert_int_equal(evbatch_add(&b, seqs[i], TX_OF(seqs[i]) + tx_shift, d, (uint32_t)len), 0);
	}
	uint8_t *obj = NULL;
	struct tx_chain *c = chain_of(src, stream);
	evbatch_chain(&b, c->batch, 0, c->prev, sign_key ? sign_key : tx_sk);
	long len = evbatch_finish(&b, (int)(n % 2), &obj); /* odd counts through zstd */
	assert_true(len > 0);
	c->batch++;
	memcpy(c->prev, b.record_hash, 32);
	evbatch_free(&b);
	int rc = skip_batch ? 0 : events_batch(ev, 0x5e55, obj, (size_t)len);
	free(obj);
	return rc;
}

/* Seqs first..last as one batch, each {"n":SEQ}. */
static void send_range(const char *src, uint64_t stream, uint64_t after, uint64_t first, uint64_t last)
{
	uint64_t seqs[64];
	assert_true(last >= first && last - first < 64);
	for (uint64_t s = first; s <= last; s++)
		seqs[s - first] = s;
	assert_int_equal(send_batch(src, stream, after, seqs, (size_t)(last - first + 1), NULL, NULL), 0);
}

/* A new stream's events wait for its start (EVENTS_REORDER_NS) unless a batch has after 0: let
 * that time pass. */
static void settle(void)
{
	fake_mono += EVENTS_REORDER_NS;
	events_tick(ev);
}

/* The first batch of a stream that does not start at seq 0, and its start window passed. */
static void send_first(const char *src, uint64_t stream, uint64_t after, uint64_t first, uint64_t last)
{
	send_range(src, stream, after, first, last);
	settle();
}

/* ---- reading lines back ---- */

struct line {
	char *text;
	uint64_t seq;
	json_t *j;
};

struct lines {
	struct line l[256];
	size_t n;
};

static void lines_free(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->l[i].text);
		json_decref(ls->l[i].j);
	}
	ls->n = 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static bool digits_at(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ", within the test's run time. */
static void check_rx_time(const char *p)
{
	assert_true(digits_at(p, 4) && p[4] == '-' && digits_at(p + 5, 2) && p[7] == '-' &&
		    digits_at(p + 8, 2) && p[10] == 'T' && digits_at(p + 11, 2) && p[13] == ':' &&
		    digits_at(p + 14, 2) && p[16] == ':' && digits_at(p + 17, 2) && p[19] == '.' &&
		    digits_at(p + 20, 6) && p[26] == 'Z');
	struct tm tm = {0};
	char buf[20];
	memcpy(buf, p, 19);
	buf[19] = '\0';
	assert_non_null(strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm));
	time_t t = timegm(&tm);
	assert_true(t >= t_start - 1 && t <= time(NULL) + 1);
}

/*
 * Every line of every DIR/src/YYYY-MM-DD.jsonl (in name order): ends with LF, has no raw byte < 0x20,
 * parses (duplicate keys refused) to exactly {source, seq, tx_time, rx_time, event}, and reads
 *   {"source":"SRC","seq":N,"tx_time":"2023-11-14T22:13:20.NNNNNNZ","rx_time":"...","event":
 * byte for byte, with rx_time well-formed.
 */
static void read_lines(const char *src, struct lines *ls)
{
	ls->n = 0;
	char sd[160];
	snprintf(sd, sizeof(sd), "%s/%s", dir, src);
	DIR *d = opendir(sd);
	if (!d)
		return;
	char *names[16];
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		size_t l = strlen(de->d_name);
		assert_true(l == 16 && strcmp(de->d_name + 10, ".jsonl") == 0); /* YYYY-MM-DD.jsonl only */
		assert_true(nn < 16);
		names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(names[0]), name_cmp);
	for (size_t k = 0; k < nn; k++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", sd, names[k]);
		free(names[k]);
		size_t len;
		char *p = slurp(path, &len);
		if (len && p[len - 1] != '\n') {
			print_error("%s does not end with LF\n", path);
			fail();
		}
		for (char *s = p; s < p + len;) {
			char *nl = memchr(s, '\n', (size_t)(p + len - s));
			size_t n = (size_t)(nl - s);
			for (size_t i = 0; i < n; i++)
				if ((uint8_t)s[i] < 0x20) {
					print_error("%s: raw byte 0x%02x in a line\n", path, (uint8_t)s[i]);
					fail();
				}
			json_error_t err;
			json_t *j = json_loadb(s, n, JFLAGS, &err);
			if (!j || !json_is_object(j)) {
				print_error("%s: line does not parse: %s: %.*s\n", path, err.text,
					    n > 300 ? 300 : (int)n, s);
				fail();
			}
			assert_int_equal(json_object_size(j), 5);
			json_t *sq = json_object_get(j, "seq");
			assert_true(json_is_integer(sq) && json_integer_value(sq) >= 0);
			assert_non_null(json_object_get(j, "event"));
			uint64_t seq = (uint64_t)json_integer_value(sq);
			char head[160];
			int hn = snprintf(head, sizeof(head),
					  "{\"source\":\"%s\",\"seq\":%" PRIu64
					  ",\"tx_time\":\"2023-11-14T22:13:20.%06" PRIu64
					  "Z\",\"rx_time\":\"",
					  src, seq, seq % 1000000u);
			if (n < (size_t)hn + 27 + 11 || memcmp(s, head, (size_t)hn) != 0 ||
			    memcmp(s + hn + 27, "\",\"event\":", 10) != 0 || s[n - 1] != '}') {
				print_error("%s: line not as expected: %.*s\n", path,
					    n > 300 ? 300 : (int)n, s);
				fail();
			}
			check_rx_time(s + hn);
			assert_true(ls->n < sizeof(ls->l) / sizeof(ls->l[0]));
			struct line *l = &ls->l[ls->n++];
			l->text = strndup(s, n);
			l->seq = seq;
			l->j = j;
			s = nl + 1;
		}
		free(p);
	}
}

/* The event's JSON text as written: after "event": up to the closing brace. */
static const char *event_text(const struct line *l, size_t *len)
{
	const char *p = strstr(l->text, "\",\"event\":") + 10;
	*len = strlen(p) - 1;
	return p;
}

/* DIR/src holds exactly the seqs given, in that order, each with the event {"n":SEQ}. */
static void expect_seqs(const char *src, const uint64_t *want, size_t n)
{
	struct lines ls;
	read_lines(src, &ls);
	if (ls.n != n) {
		print_error("%s: %zu lines, want %zu\n", src, ls.n, n);
		fail();
	}
	for (size_t i = 0; i < n; i++) {
		if (ls.l[i].seq != want[i]) {
			print_error("%s: line %zu has seq %" PRIu64 ", want %" PRIu64 "\n", src, i,
				    ls.l[i].seq, want[i]);
			fail();
		}
		char evt[40];
		int m = snprintf(evt, sizeof(evt), "{\"n\":%" PRIu64 "}", want[i]);
		size_t el;
		const char *et = event_text(&ls.l[i], &el);
		assert_int_equal(el, (size_t)m);
		assert_memory_equal(et, evt, (size_t)m);
	}
	lines_free(&ls);
}

#define EXPECT(src, ...)                                                                           \
	do {                                                                                       \
		const uint64_t want_[] = {__VA_ARGS__};                                            \
		expect_seqs(src, want_, sizeof(want_) / sizeof(want_[0]));                         \
	} while (0)

/* ---- delivery and order ---- */

static void test_in_order(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("vms", 1, 1, 1, 3);
	send_range("vms", 1, 4, 4, 5);
	send_first("other", 2, 10, 10, 10);
	EXPECT("vms", 1, 2, 3, 4, 5);
	EXPECT("other", 10);
	assert_counts(&c0, 6, 0, 0);

	/* The exact text of one line, rx_time aside. */
	struct lines ls;
	read_lines("other", &ls);
	assert_int_equal(ls.n, 1);
	const char *want_head = "{\"source\":\"other\",\"seq\":10,"
				"\"tx_time\":\"2023-11-14T22:13:20.000010Z\",\"rx_time\":\"";
	assert_memory_equal(ls.l[0].text, want_head, strlen(want_head));
	assert_string_equal(ls.l[0].text + strlen(want_head) + 27, "\",\"event\":{\"n\":10}}");
	assert_string_equal(json_string_value(json_object_get(ls.l[0].j, "source")), "other");
	lines_free(&ls);

	/* Nothing held: no gap timer (a sync may still be due, within a second). */
	int ms = events_timeout_ms(ev);
	assert_true(ms >= -1 && ms <= 1000);
}

static void test_reorder_held(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 2);
	send_range("s", 1, 5, 5, 6); /* early: 3..4 are still on their way */
	EXPECT("s", 1, 2);
	send_range("s", 1, 7, 7, 7);
	EXPECT("s", 1, 2);
	int ms = events_timeout_ms(ev);
	assert_true(ms >= 0 && ms <= (int)(EVENTS_REORDER_NS / 1000000u));
	send_range("s", 1, 3, 3, 4);
	EXPECT("s", 1, 2, 3, 4, 5, 6, 7);
	assert_counts(&c0, 7, 0, 0);
	/* Events held in reverse order within one batch come out in order too. */
	uint64_t rev[] = {11, 10, 9};
	assert_int_equal(send_batch("s", 1, 9, rev, 3, NULL, NULL), 0);
	EXPECT("s", 1, 2, 3, 4, 5, 6, 7);
	send_range("s", 1, 8, 8, 8);
	EXPECT("s", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
	assert_counts(&c0, 11, 0, 0);
}

static void test_gap_timeout(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 2);
	const uint64_t t0 = fake_mono, wait = EVENTS_REORDER_NS;
	send_range("s", 1, 5, 5, 6);  /* 3..4 missing from t0 */
	fake_mono = t0 + 500 * MS;
	send_range("s", 1, 9, 9, 9);  /* 7..8 missing from t0 + 0.5 s */
	fake_mono = t0 + wait - 1;
	assert_int_equal(events_timeout_ms(ev), 1);
	events_tick(ev);              /* too early: nothing given up */
	EXPECT("s", 1, 2);
	assert_counts(&c0, 2, 0, 0);
	fake_mono = t0 + wait;
	assert_int_equal(events_timeout_ms(ev), 0);
	events_tick(ev);              /* the first gap is given up; the second has 0.5 s left */
	EXPECT("s", 1, 2, 5, 6);
	assert_counts(&c0, 4, 2, 0);
	assert_int_equal(events_timeout_ms(ev), 500);
	send_range("s", 1, 3, 3, 4);  /* too late: duplicates, not written */
	EXPECT("s", 1, 2, 5, 6);
	assert_counts(&c0, 4, 2, 2);
	fake_mono = t0 + 500 * MS + wait - 1;
	events_tick(ev);
	EXPECT("s", 1, 2, 5, 6);
	send_range("s", 1, 7, 7, 8);  /* in time for the second gap */
	EXPECT("s", 1, 2, 5, 6, 7, 8, 9);
	assert_counts(&c0, 7, 2, 2);
}

/* Five gaps opened 0.1 s apart: each is given up EVENTS_REORDER_NS after it was first missed,
 * not one per second after the one before it. */
static void test_gaps_each_own_timer(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 1);
	const uint64_t t0 = fake_mono, wait = EVENTS_REORDER_NS;
	for (uint64_t k = 0; k < 5; k++) { /* seq 2 + 2k missing from t0 + k * 0.1 s */
		fake_mono = t0 + k * 100 * MS;
		send_range("s", 1, 3 + 2 * k, 3 + 2 * k, 3 + 2 * k);
	}
	const uint64_t all[] = {1, 3, 5, 7, 9, 11};
	for (uint64_t k = 0; k < 5; k++) {
		fake_mono = t0 + k * 100 * MS + wait - 1;
		assert_int_equal(events_timeout_ms(ev), 1);
		events_tick(ev);
		expect_seqs("s", all, 1 + k);
		assert_counts(&c0, 1 + k, k, 0);
		fake_mono++;
		assert_int_equal(events_timeout_ms(ev), 0);
		events_tick(ev);
		expect_seqs("s", all, 2 + k);
		assert_counts(&c0, 2 + k, k + 1, 0);
	}
	/* All written 1.4 s after the first gap opened; nothing left to wait for. */
	assert_int_equal(fake_mono, t0 + 400 * MS + wait);
	int ms = events_timeout_ms(ev);
	assert_true(ms == -1 || ms > 100); /* a sync at most, no gap timer */
}

/* A seq is missed from the moment any higher seq arrives: gaps below an early event that is
 * filled in later keep the time they were first missed. */
static void test_gap_missed_since_first_higher(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 1);
	const uint64_t t0 = fake_mono, wait = EVENTS_REORDER_NS;
	send_range("s", 1, 9, 9, 9);   /* 2..8 missing from t0 */
	fake_mono = t0 + 600 * MS;
	send_range("s", 1, 5, 5, 5);   /* 2..4 and 6..8 were missing since t0 */
	fake_mono = t0 + 900 * MS;
	send_range("s", 1, 12, 12, 12); /* 10..11 missing from t0 + 0.9 s */
	fake_mono = t0 + wait;
	events_tick(ev);
	EXPECT("s", 1, 5, 9);
	assert_counts(&c0, 3, 6, 0);
	assert_int_equal(events_timeout_ms(ev), 900);
	fake_mono = t0 + 900 * MS + wait;
	events_tick(ev);
	EXPECT("s", 1, 5, 9, 12);
	assert_counts(&c0, 4, 8, 0);
}

static void test_sender_dropped(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 2);
	send_range("s", 1, 3, 6, 7); /* "after 3": the sender dropped 3..5, nothing to wait for */
	EXPECT("s", 1, 2, 6, 7);
	assert_counts(&c0, 4, 3, 0);
	assert_int_equal(events_timeout_ms(ev) <= 1000, 1);
}

/* The first batch of a source says where the sender's previous batch ended: what the
 * sender dropped before it is counted, not silently skipped. */
static void test_first_batch_after_drops(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_range("f", 1, 0, 7, 9); /* seqs 0..6 were dropped by the sender */
	EXPECT("f", 7, 8, 9);
	assert_counts(&c0, 3, 7, 0);
}

static void test_duplicates(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 3);
	send_range("s", 1, 2, 2, 3);   /* both written already */
	EXPECT("s", 1, 2, 3);
	assert_counts(&c0, 3, 0, 2);
	send_range("s", 1, 3, 3, 4);   /* one old, one new */
	EXPECT("s", 1, 2, 3, 4);
	assert_counts(&c0, 4, 0, 3);
	send_range("s", 1, 7, 7, 7);   /* held */
	send_range("s", 1, 7, 7, 7);   /* and again: a duplicate of a held one */
	uint64_t twice[] = {8, 8};     /* twice in one batch */
	assert_int_equal(send_batch("s", 1, 8, twice, 2, NULL, NULL), 0);
	assert_counts(&c0, 4, 0, 5);
	send_range("s", 1, 5, 5, 6);
	EXPECT("s", 1, 2, 3, 4, 5, 6, 7, 8);
	assert_counts(&c0, 8, 0, 5);
	uint64_t again[] = {9, 9};     /* in order, twice */
	assert_int_equal(send_batch("s", 1, 9, again, 2, NULL, NULL), 0);
	EXPECT("s", 1, 2, 3, 4, 5, 6, 7, 8, 9);
	assert_counts(&c0, 9, 0, 6);
}

static void test_stream_reset(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 5);
	send_first("s", 2, 1, 1, 2); /* the sender's state was reset: seq starts again */
	EXPECT("s", 1, 2, 3, 4, 5, 1, 2);
	assert_counts(&c0, 7, 0, 0);
	send_range("s", 2, 2, 2, 2); /* within the new stream, a duplicate */
	assert_counts(&c0, 7, 0, 1);

	char p[200], buf[64] = "";
	snprintf(p, sizeof(p), "%s/events/s", stdir);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "stream=0000000000000002\n");

	/* What the old stream held is written (its gap counted) before the new stream's first. */
	send_first("t", 1, 1, 1, 2);
	send_range("t", 1, 5, 5, 5);
	send_first("t", 3, 1, 1, 1);
	EXPECT("t", 1, 2, 5, 1);
	assert_counts(&c0, 11, 2, 1);
}

static void test_resume(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 7, 1, 1, 3);
	close_events();
	open_events(true);
	send_range("s", 7, 2, 2, 3); /* already in the file */
	EXPECT("s", 1, 2, 3);
	assert_counts(&c0, 3, 0, 2);
	send_range("s", 7, 4, 4, 4);
	send_range("s", 7, 6, 6, 6); /* 5 missing: held */
	EXPECT("s", 1, 2, 3, 4);
	close_events();              /* gives the gap up and writes 6 */
	EXPECT("s", 1, 2, 3, 4, 6);
	assert_counts(&c0, 5, 1, 2);
	open_events(true);
	send_range("s", 7, 6, 6, 6);
	assert_counts(&c0, 5, 1, 3);
	send_first("s", 8, 1, 1, 1); /* a new stream after a restart: seq starts again */
	EXPECT("s", 1, 2, 3, 4, 6, 1);
	assert_counts(&c0, 6, 1, 3);
}

static size_t entries(const char *p)
{
	DIR *d = opendir(p);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* The last line's event holds \u0000 (valid JSON): the seq must still be recovered from it. */
static void test_resume_after_nul(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	uint64_t seqs[] = {1, 2};
	const char *data[] = {"{\"n\":1}", "a\0b"};
	const size_t lens[] = {7, 3};
	assert_int_equal(send_batch("s", 7, 1, seqs, 2, data, lens), 0);
	settle();
	close_events();
	open_events(true);
	send_range("s", 7, 2, 2, 3); /* 2 is in the file already */
	struct lines ls;
	read_lines("s", &ls);
	assert_int_equal(ls.n, 3);
	assert_int_equal(ls.l[0].seq, 1);
	assert_int_equal(ls.l[1].seq, 2);
	assert_int_equal(ls.l[2].seq, 3);
	size_t el;
	const char *et = event_text(&ls.l[1], &el);
	assert_int_equal(el, 10);
	assert_memory_equal(et, "\"a\\u0000b\"", 10);
	lines_free(&ls);
	assert_counts(&c0, 3, 0, 1);
}

static void test_resume_without_state(void **state)
{
	(void)state;
	close_events();
	open_events(false);
	struct counts c0 = counts_now();
	send_first("s", 7, 1, 1, 3);
	close_events();
	open_events(false);
	/* No stream ids kept: the first stream seen is adopted, the seq from the file holds. */
	send_range("s", 9, 3, 3, 4);
	EXPECT("s", 1, 2, 3, 4);
	assert_counts(&c0, 4, 0, 1);
	char p[200];
	snprintf(p, sizeof(p), "%s/events", stdir);
	assert_int_equal(entries(p), 0); /* no stream id saved */
}

static void today_file(const char *src, char *p, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(p, n, "%s/%s/%04d-%02d-%02d.jsonl", dir, src, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void append(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* The newest day file holds no complete line (created, then its first write failed on a full
 * disk; or retention left only older days): the seq is taken from the newest file that has
 * one, so events sent while rx was down are still counted lost. */
static void test_resume_older_file(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 7, 1, 1, 3);
	close_events();
	char today[256], old[256];
	today_file("s", today, sizeof(today));
	snprintf(old, sizeof(old), "%s/s/2020-01-01.jsonl", dir);
	assert_int_equal(rename(today, old), 0);
	append(today, "", 0); /* empty */
	open_events(true);
	send_first("s", 7, 5, 5, 6); /* 4 was sent while rx was down */
	EXPECT("s", 1, 2, 3, 5, 6);
	assert_counts(&c0, 5, 1, 0);
}

/* Events whose write failed (the file system full: here RLIMIT_FSIZE) are counted lost once:
 * the seq given up through is kept in STATE/events/<source> (next=), so after a restart the
 * next batch does not count them again as a gap. */
static void test_failed_write_counted_once(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 7, 1, 1, 3);
	char today[256];
	today_file("s", today, sizeof(today));
	struct stat st;
	assert_int_equal(stat(today, &st), 0);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	send_first("s", 7, 4, 4, 6); /* cannot be written: lost */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_counts(&c0, 3, 3, 0);
	close_events();
	open_events(true);
	send_first("s", 7, 7, 7, 8);
	EXPECT("s", 1, 2, 3, 7, 8);
	assert_counts(&c0, 5, 3, 0);
}

static void test_unfinished_line(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_first("s", 1, 1, 1, 2);
	close_events();
	char path[256];
	today_file("s", path, sizeof(path));
	/* A crash in the middle of writing seq 3 (its seq would not count: the line is cut). */
	const char *cut = "{\"source\":\"s\",\"seq\":99,\"tx_time\":\"2023-11-14T22:13";
	append(path, cut, strlen(cut));
	open_events(true);
	send_range("s", 1, 3, 3, 3);
	EXPECT("s", 1, 2, 3);
	assert_counts(&c0, 3, 0, 0);
}

static void test_unfinished_long_line(void **state)
{
	(void)state;
	send_first("s", 1, 1, 1, 1);
	close_events();
	char path[256];
	today_file("s", path, sizeof(path));
	char *junk = malloc(10000);
	assert_non_null(junk);
	memset(junk, 'x', 10000); /* longer than one 4 KiB read back from the end */
	append(path, junk, 10000);
	free(junk);
	open_events(true);
	send_range("s", 1, 2, 2, 2);
	EXPECT("s", 1, 2);
}

static void test_only_unfinished_line(void **state)
{
	(void)state;
	/* A file with nothing but a cut line: emptied, and the first seq seen starts it. */
	char sd[160], path[256];
	snprintf(sd, sizeof(sd), "%s/s", dir);
	assert_int_equal(mkdir(sd, 0750), 0);
	today_file("s", path, sizeof(path));
	append(path, "{\"source\":\"s\",\"se", 17);
	send_first("s", 1, 5, 5, 6);
	EXPECT("s", 5, 6);
}

/* ---- source names ---- */

static void test_bad_sources(void **state)
{
	(void)state;
	static const char *const bad[] = {".", "..", "A", "a/b", "Vms", "a b", "a\"b", "a\\b", "/x", "\x01"};
	struct counts c0 = counts_now();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t seq = 1;
		if (send_batch(bad[i], 1, 1, &seq, 1, NULL, NULL) == 0) {
			print_error("source name '%s' accepted\n", bad[i]);
			fail();
		}
	}
	assert_counts(&c0, 0, sizeof(bad) / sizeof(bad[0]), 0); /* refused: each event lost */
	assert_int_equal(entries(dir), 0);
	assert_int_equal(entries(top), 3); /* events, state, audit.jsonl: nothing beside them */
	char p[200];
	snprintf(p, sizeof(p), "%s/events", stdir);
	assert_int_equal(entries(p), 0);
	/* And a name that is fine, at the longest (63). */
	char longest[EVBATCH_NAME_MAX + 1];
	memset(longest, 'z', EVBATCH_NAME_MAX);
	longest[EVBATCH_NAME_MAX] = '\0';
	send_first(longest, 1, 1, 1, 1);
	EXPECT(longest, 1);
	send_first("a.b-c_9", 1, 1, 1, 1);
	EXPECT("a.b-c_9", 1);
}

/* ---- events_encode ---- */


/* Reference mapping: bytes outside well-formed UTF-8 become U+0080..U+00FF. */
static uint8_t *ref_map(const uint8_t *p, size_t n, size_t *out_len)
{
	uint8_t *o = malloc(2 * n + 1);
	assert_non_null(o);
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t l = ref_utf8(p + i, n - i);
		if (l) {
			memcpy(o + k, p + i, l);
			k += l;
			i += l;
		} else {
			o[k++] = (uint8_t)(0xc0 | (p[i] >> 6));
			o[k++] = (uint8_t)(0x80 | (p[i] & 0x3f));
			i++;
		}
	}
	*out_len = k;
	return o;
}

/*
 * What every output must be: NUL-terminated at *len, no raw byte < 0x20, one JSON value that
 * jansson parses (duplicates refused, \u0000 allowed); an object equal to the input's parse,
 * or a string whose bytes are the reference mapping of the input.
 */
static void check_encoding(const uint8_t *in, size_t n, const char *out, size_t len)
{
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)out[i] < 0x20) {
			print_error("raw byte 0x%02x at %zu in the encoding\n", (uint8_t)out[i], i);
			fail();
		}
	json_error_t err;
	json_t *j = json_loadb(out, len, JFLAGS | JSON_DECODE_ANY, &err);
	if (!j) {
		print_error("encoding does not parse: %s: %s\n", err.text, out);
		fail();
	}
	/* Strict: an object to jansson, and no raw NUL (jansson skips one after a number). */
	json_t *ij = json_loadb((const char *)in, n, JFLAGS, &err);
	bool strict = ij && json_is_object(ij) && !memchr(in, 0, n);
	if (json_is_object(j)) {
		assert_true(strict);
		assert_true(json_equal(j, ij));
	} else {
		assert_true(json_is_string(j));
		assert_false(strict); /* a strict object is never carried as a string */
		size_t rl;
		uint8_t *r = ref_map(in, n, &rl);
		assert_int_equal(json_string_length(j), rl);
		assert_memory_equal(json_string_value(j), r, rl);
		free(r);
	}
	json_decref(ij);
	json_decref(j);
}

struct enc_case {
	const char *in;
	size_t inlen;
	const char *out;
	size_t outlen;
};

#define ENC(i, o) {i, sizeof(i) - 1, o, sizeof(o) - 1}

static const struct enc_case enc_cases[] = {
	/* Strict objects: whitespace outside strings goes, everything else stays as written. */
	ENC("{ \"a\" : 1.10 , \"b\" : [ 1 , 2 ] , \"c\" : \"x  y\" }",
	    "{\"a\":1.10,\"b\":[1,2],\"c\":\"x  y\"}"),
	ENC("\r\n\t {\"a\":\"q\\\"  \\\\\", \"b\" :\t{ } }\n", "{\"a\":\"q\\\"  \\\\\",\"b\":{}}"),
	ENC("{\"a\":-0,\"b\":1E+2,\"c\":[true, false, null],\"d\":1e-400}",
	    "{\"a\":-0,\"b\":1E+2,\"c\":[true,false,null],\"d\":1e-400}"),
	ENC("{\"n\":-9223372036854775808,\"m\":9223372036854775807}",
	    "{\"n\":-9223372036854775808,\"m\":9223372036854775807}"),
	ENC("{\"a\":\"\\u0000\",\"b\":\"\\/\\u00e9 caf\xc3\xa9\"}",
	    "{\"a\":\"\\u0000\",\"b\":\"\\/\\u00e9 caf\xc3\xa9\"}"),
	ENC("{}", "{}"),
	/* Not strict JSON objects: carried as strings of their bytes. */
	/* Too big for jansson's integers: not strict to it, so a string. */
	ENC("{\"n\":123456789012345678901}", "\"{\\\"n\\\":123456789012345678901}\""),
	ENC("{\"n\":9223372036854775808}", "\"{\\\"n\\\":9223372036854775808}\""),
	ENC("{\"a\":1e400}", "\"{\\\"a\\\":1e400}\""),
	ENC("{\"a\":1,\"a\":2}", "\"{\\\"a\\\":1,\\\"a\\\":2}\""),
	ENC("{\"a\":NaN}", "\"{\\\"a\\\":NaN}\""),
	ENC("{'a':1}", "\"{'a':1}\""),
	ENC("{\"a\":\"x\ty\"}", "\"{\\\"a\\\":\\\"x\\ty\\\"}\""), /* a raw TAB inside a string */
	ENC("{\"a\":\"\\ud800\"}", "\"{\\\"a\\\":\\\"\\\\ud800\\\"}\""),
	ENC("{\"a\":1,}", "\"{\\\"a\\\":1,}\""),
	ENC("{\"a\":1} x", "\"{\\\"a\\\":1} x\""),
	ENC("{\"k\":\"v\"}\0", "\"{\\\"k\\\":\\\"v\\\"}\\u0000\""),
	ENC("{\"a\":\"\xff\"}", "\"{\\\"a\\\":\\\"\xc3\xbf\\\"}\""),
	ENC("\xef\xbb\xbf{}", "\"\xef\xbb\xbf{}\""),
	ENC("[1,2]", "\"[1,2]\""),
	ENC("\"s\"", "\"\\\"s\\\"\""),
	ENC("", "\"\""),
	ENC("plain text", "\"plain text\""),
	/* Bytes: invalid UTF-8 maps to U+00XX (written as UTF-8), control characters escaped. */
	ENC("a\xff" "b", "\"a\xc3\xbf" "b\""),
	ENC("a\0b", "\"a\\u0000b\""),
	ENC("\xc0\x80", "\"\xc3\x80\xc2\x80\""),                 /* overlong NUL */
	ENC("\xed\xa0\x80", "\"\xc3\xad\xc2\xa0\xc2\x80\""),     /* a surrogate */
	ENC("\xf4\x90\x80\x80", "\"\xc3\xb4\xc2\x90\xc2\x80\xc2\x80\""), /* past U+10FFFF */
	ENC("\xe2\x82", "\"\xc3\xa2\xc2\x82\""),                 /* cut short */
	ENC("caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""),
	ENC("line1\nline2\r\n", "\"line1\\nline2\\r\\n\""),
	ENC("\x01\x1f\x7f\\/", "\"\\u0001\\u001F\x7f\\\\/\""), /* jansson: upper-case hex */
};

/* ---- the chain of batches (rx/events/chain.c) ---- */

/* The audit lines of `outcome`, parsed, in order; how many. */
static size_t audit_lines(const char *outcome, json_t **out, size_t max)
{
	FILE *f = fopen(audit_path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0, n = 0;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		assert_non_null(j);
		if (strcmp(json_string_value(json_object_get(j, "outcome")), outcome) == 0 && n < max)
			out[n++] = j;
		else
			json_decref(j);
	}
	free(line);
	fclose(f);
	return n;
}

static uint64_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	assert_true(json_is_integer(v));
	return (uint64_t)json_integer_value(v);
}

static void free_lines(json_t **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(l[i]);
}

static void test_chain_bad_signature(void **state)
{
	(void)state;
	struct counts before = counts_now();
	uint64_t rej = metric_get(&rx_metrics[RXM_EVENT_BATCHES_REJECTED]);
	uint64_t seqs[] = {0, 1};
	sign_key = other_sk;
	assert_int_equal(send_batch("s", 1, 0, seqs, 2, NULL, NULL), -EPERM);
	assert_int_equal(entries(dir), 0); /* not even the source's folder */
	sign_key = NULL;
	assert_counts(&before, 0, 0, 0);
	assert_int_equal(metric_get(&rx_metrics[RXM_EVENT_BATCHES_REJECTED]) - rej, 1);
	json_t *l[4];
	assert_int_equal(audit_lines("rejected", l, 4), 1);
	assert_string_equal(json_string_value(json_object_get(l[0], "source")), "s");
	assert_string_equal(json_string_value(json_object_get(l[0], "reason")),
			    "bad signature: event batch 1 (events 0..1, unverified) is not signed by "
			    "a pinned sender key");
	free_lines(l, 1);
	assert_int_equal(audit_lines("events", l, 4), 0);
	/* The sender's next batch is taken: the lost seqs are a gap like any other */
	send_range("s", 1, 2, 2, 3);
	assert_int_equal(audit_lines("events", l, 4), 1);
	free_lines(l, 1);
}

static void test_chain_gap_and_restart(void **state)
{
	(void)state;
	uint64_t breaks = metric_get(&rx_metrics[RXM_EVENT_CHAIN_BREAKS]);
	send_range("s", 1, 0, 0, 9);
	send_range("s", 1, 10, 10, 19);
	skip_batch = true;
	send_range("s", 1, 20, 20, 29); /* batch 3: lost on the link */
	skip_batch = false;
	send_range("s", 1, 30, 30, 39);
	json_t *l[8];
	assert_int_equal(audit_lines("chain_break", l, 8), 0);
	size_t n = audit_lines("events", l, 8);
	assert_int_equal(n, 3);
	uint64_t want[][3] = {{1, 0, 9}, {2, 10, 19}, {4, 30, 39}};
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(json_string_value(json_object_get(l[i], "source")), "s");
		assert_int_equal(jint(l[i], "batch"), want[i][0]);
		assert_int_equal(jint(l[i], "event_first"), want[i][1]);
		assert_int_equal(jint(l[i], "event_last"), want[i][2]);
		assert_null(json_object_get(l[i], "object"));
		/* the record, as signed by the sender */
		const char *b64 = json_string_value(json_object_get(l[i], "record"));
		uint8_t rec[EVCHAIN_MAX_LEN];
		size_t rl = 0;
		assert_int_equal(sodium_base642bin(rec, sizeof(rec), b64, strlen(b64), NULL, &rl, NULL,
						   sodium_base64_VARIANT_ORIGINAL), 0);
		assert_int_equal(evchain_verify(rec, rl, tx_pk), 0);
		struct evchain_rec r;
		assert_int_equal(evchain_decode(rec, rl, &r, NULL), 0);
		assert_int_equal(r.batch, want[i][0]);
	}
	free_lines(l, n);
	/* batch 3 given up with the events' gap */
	fake_mono += EVENTS_REORDER_NS;
	events_tick(ev);
	assert_int_equal(audit_lines("chain_break", l, 8), 1);
	assert_int_equal(jint(l[0], "batch"), 3);
	assert_null(json_object_get(l[0], "batch_last"));
	assert_int_equal(jint(l[0], "event_first"), 20);
	assert_int_equal(jint(l[0], "event_last"), 29);
	assert_string_equal(json_string_value(json_object_get(l[0], "source")), "s");
	assert_string_equal(json_string_value(json_object_get(l[0], "reason")),
			    "lost: batch 3..3 never arrived (events 20..29)");
	free_lines(l, 1);
	assert_int_equal(metric_get(&rx_metrics[RXM_EVENT_CHAIN_BREAKS]) - breaks, 1);
	/* A receiver restart: the chain goes on from STATE/evchain, no break */
	close_events();
	open_events(true);
	send_range("s", 1, 40, 40, 49);
	assert_int_equal(audit_lines("chain_break", l, 8), 1);
	free_lines(l, 1);
	assert_int_equal(audit_lines("events", l, 8), 4);
	assert_int_equal(jint(l[3], "batch"), 5);
	free_lines(l, 4);
	/* A batch whose prev is not batch 5's record: a mismatch, named */
	chains[0].prev[0] ^= 1;
	send_range("s", 1, 50, 50, 59);
	assert_int_equal(audit_lines("chain_break", l, 8), 2);
	assert_int_equal(jint(l[1], "batch"), 6);
	assert_non_null(strstr(json_string_value(json_object_get(l[1], "reason")), "mismatch"));
	free_lines(l, 2);
	assert_int_equal(metric_get(&rx_metrics[RXM_EVENT_CHAIN_BREAKS]) - breaks, 2);
}

/* STATE/evchain/<source> is one fixed-width record rewritten in place (a kill between two
 * writes cannot leave an old tail), and a state file that does not parse is not a silent new
 * chain: a chain_break line "state_unreadable" naming the file, counted. */
static void test_chain_state_unreadable(void **state)
{
	(void)state;
	uint64_t breaks = metric_get(&rx_metrics[RXM_EVENT_CHAIN_BREAKS]);
	char path[160];
	snprintf(path, sizeof(path), "%s/evchain/s", stdir);
	send_range("s", 1, 0, 0, 9);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	off_t width = st.st_size;
	assert_true(width >= 200); /* above the longest line */
	for (uint64_t b = 2; b <= 12; b++) /* next= grows a digit: still the same width */
		send_range("s", 1, b * 10 - 10, b * 10 - 10, b * 10 - 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, width);
	json_t *l[8];
	assert_int_equal(audit_lines("chain_break", l, 8), 0);
	close_events();
	/* a new short record over an old longer one, without the truncation: a torn file */
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	fputs("tail of an older record\n", f);
	fclose(f);
	open_events(true);
	send_range("s", 1, 120, 120, 129);
	assert_int_equal(audit_lines("chain_break", l, 8), 1);
	const char *why = json_string_value(json_object_get(l[0], "reason"));
	assert_non_null(why);
	if (strncmp(why, "state_unreadable: STATE/evchain/s does not parse", 48) != 0)
		fail_msg("reason: %s", why);
	assert_string_equal(json_string_value(json_object_get(l[0], "source")), "s");
	free_lines(l, 1);
	assert_int_equal(metric_get(&rx_metrics[RXM_EVENT_CHAIN_BREAKS]) - breaks, 1);
	/* rewritten whole: the chain goes on from it after the next restart, no break */
	close_events();
	open_events(true);
	send_range("s", 1, 130, 130, 139);
	assert_int_equal(audit_lines("chain_break", l, 8), 1);
	free_lines(l, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, width);
}

static void test_encode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
		const struct enc_case *c = &enc_cases[i];
		size_t len = 0;
		char *out = events_encode((const uint8_t *)c->in, c->inlen, &len);
		assert_non_null(out);
		if (len != c->outlen || memcmp(out, c->out, len) != 0) {
			print_error("case %zu: got %s\n          want %s\n", i, out, c->out);
			fail();
		}
		check_encoding((const uint8_t *)c->in, c->inlen, out, len);
		free(out);
	}

	/* Nesting past jansson's depth limit is not a strict object to it: a string. */
	size_t depth = 3000, n = depth * 6 + 1 + depth;
	char *deep = malloc(n);
	assert_non_null(deep);
	for (size_t i = 0; i < depth; i++)
		memcpy(deep + i * 6, "{\"a\":", 5), deep[i * 6 + 5] = ' ';
	deep[depth * 6] = '1';
	memset(deep + depth * 6 + 1, '}', depth);
	size_t len;
	char *out = events_encode((const uint8_t *)deep, n, &len);
	assert_non_null(out);
	assert_int_equal(out[0], '"');
	check_encoding((const uint8_t *)deep, n, out, len);
	free(out);
	/* ... and within it, an object, minified. */
	depth = 1000, n = depth * 6 + 1 + depth;
	for (size_t i = 0; i < depth; i++)
		memcpy(deep + i * 6, "{\"a\":", 5), deep[i * 6 + 5] = ' ';
	deep[depth * 6] = '1';
	memset(deep + depth * 6 + 1, '}', depth);
	out = events_encode((const uint8_t *)deep, n, &len);
	assert_non_null(out);
	assert_int_equal(len, n - depth);
	check_encoding((const uint8_t *)deep, n, out, len);
	free(out);
	free(deep);
}

/*
 * jansson 2.14 skips one raw NUL right after a number or true/false/null (the byte it puts back
 * reads as the end of its look-ahead buffer), so it takes these for strict objects. They are
 * not JSON: each must be carried as a string, and no line may hold the raw NUL.
 */
static void test_encode_nul_after_number(void **state)
{
	(void)state;
	static const struct enc_case c[] = {
		ENC("{\"a\":[1\0,2]}", "\"{\\\"a\\\":[1\\u0000,2]}\""),
		ENC("{\"a\":true\0}", "\"{\\\"a\\\":true\\u0000}\""),
		ENC("{\"a\":-1.5e3\0 }", "\"{\\\"a\\\":-1.5e3\\u0000 }\""),
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t len = 0;
		char *out = events_encode((const uint8_t *)c[i].in, c[i].inlen, &len);
		assert_non_null(out);
		if (len != c[i].outlen || memcmp(out, c[i].out, len) != 0) {
			print_error("case %zu: got %zu bytes (strlen %zu): %s\n          want %s\n", i, len,
				    strlen(out), out, c[i].out);
			free(out);
			fail();
		}
		free(out);
	}
	uint64_t seq = 1;
	const char *data[] = {c[0].in};
	const size_t lens[] = {c[0].inlen};
	assert_int_equal(send_batch("nul", 1, 1, &seq, 1, data, lens), 0);
	settle();
	struct lines ls;
	read_lines("nul", &ls); /* no raw byte < 0x20 in any line */
	assert_int_equal(ls.n, 1);
	lines_free(&ls);
}

/* JSON-ish soup: mostly tokens, some raw bytes, so both outcomes come up. */
static size_t soup(uint8_t *p, size_t cap)
{
	static const char *const tok[] = {
		"{", "}", "[", "]", "\"", ":", ",", " ", "\t", "\n", "\r", "\"k\"", "\"a b\"", "1", "-0",
		"1.10", "1e5", "123456789012345678901", "true", "null", "\\", "\\u0000",
		"\\ud83d\\ude00", "\\n", "\xc3\xa9", "\xff", "\x00", "\x1f", "NaN", "'"};
	size_t n = 0;
	if (rnd() % 2)
		p[n++] = '{';
	size_t want = rnd() % (cap / 2);
	while (n < want) {
		if (rnd() % 8 == 0) {
			p[n++] = (uint8_t)rnd();
			continue;
		}
		size_t t = (size_t)(rnd() % (sizeof(tok) / sizeof(tok[0])));
		size_t l = tok[t][0] ? strlen(tok[t]) : 1; /* "\x00" is one NUL byte */
		if (n + l > cap)
			break;
		memcpy(p + n, tok[t], l);
		n += l;
	}
	return n;
}

static void test_encode_random(void **state)
{
	(void)state;
	seed_init("test_events");
	uint8_t buf[512];
	char obj[512];
	unsigned objects = 0;
	for (int round = 0; round < 20000; round++) {
		size_t n;
		if (round % 4 == 3) {
			/* A well-formed object with random keys and string values. */
			size_t k = 0;
			k += (size_t)snprintf(obj + k, sizeof(obj) - k, " { ");
			for (int f = 0, nf = (int)(rnd() % 5); f < nf; f++)
				k += (size_t)snprintf(obj + k, sizeof(obj) - k,
						      "%s\"k%d\" :\t\"v %u\\n\" ,[1, 2.50]", f ? " , " : "",
						      f, (unsigned)rnd());
			k += (size_t)snprintf(obj + k, sizeof(obj) - k, " }");
			/* ",[1, 2.50]" after each value makes it invalid unless we drop it: do half. */
			if (rnd() % 2) {
				char *q;
				while ((q = strstr(obj, ",[1, 2.50]")))
					memmove(q, q + 10, strlen(q + 10) + 1);
				k = strlen(obj);
			}
			memcpy(buf, obj, k);
			n = k;
		} else if (round % 4 == 2) {
			n = (size_t)(rnd() % 64);
			rnd_bytes(buf, n);
		} else {
			n = soup(buf, sizeof(buf));
		}
		size_t len;
		char *out = events_encode(buf, n, &len);
		if (out && out[0] == '{')
			objects++;
		check_encoding(buf, n, out, len);
		free(out);
	}
	assert_true(objects > 1000);
}

/* The events of a batch as written in lines: the encodings, inside a whole line. */
static void test_encode_in_lines(void **state)
{
	(void)state;
	const size_t n = sizeof(enc_cases) / sizeof(enc_cases[0]);
	const char *data[64];
	size_t lens[64];
	uint64_t seqs[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		data[i] = enc_cases[i].in;
		lens[i] = enc_cases[i].inlen;
		seqs[i] = i + 1;
	}
	assert_int_equal(send_batch("enc", 1, 1, seqs, n, data, lens), 0);
	settle();
	struct lines ls;
	read_lines("enc", &ls);
	assert_int_equal(ls.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ls.l[i].seq, i + 1);
		size_t el;
		const char *et = event_text(&ls.l[i], &el);
		assert_int_equal(el, enc_cases[i].outlen);
		assert_memory_equal(et, enc_cases[i].out, el);
	}
	lines_free(&ls);
}

/* ---- what is counted when a line is not written ---- */

/* encode.c's allocator for the output buffer (rx/events/internal.h): failed on demand here. */
extern void *(*encode_out_realloc)(void *, size_t);
static bool fail_out_realloc;
static void *out_realloc(void *p, size_t n) { return fail_out_realloc ? NULL : realloc(p, n); }

/* A line that cannot be written is lost, never delivered as well. */
static void test_write_fails_counted_once(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	char sd[160], path[256];
	snprintf(sd, sizeof(sd), "%s/w", dir);
	assert_int_equal(mkdir(sd, 0750), 0);
	today_file("w", path, sizeof(path));
	assert_int_equal(mkdir(path, 0750), 0); /* today's file cannot be opened for writing */
	send_range("w", 1, 0, 0, 2);
	assert_counts(&c0, 0, 3, 0);
	assert_int_equal(rmdir(path), 0);
	send_range("w", 1, 3, 3, 4);
	EXPECT("w", 3, 4);
	assert_counts(&c0, 2, 3, 0);
}

/* Out of memory part-way through a line: nothing of it stays to spoil the next line. */
static void test_encode_oom_mid_line(void **state)
{
	(void)state;
	encode_out_realloc = out_realloc;
	struct counts c0 = counts_now();
	send_range("m", 1, 0, 0, 0); /* the output buffer now holds 4 KiB */
	static char big[5000];
	memset(big, 'x', sizeof(big));
	uint64_t seq = 1;
	const char *data[] = {big};
	const size_t lens[] = {sizeof(big)};
	fail_out_realloc = true; /* the line's head fits, its event does not */
	assert_int_equal(send_batch("m", 1, 1, &seq, 1, data, lens), 0);
	fail_out_realloc = false;
	send_range("m", 1, 2, 2, 2);
	encode_out_realloc = realloc;
	EXPECT("m", 0, 2);
	assert_counts(&c0, 2, 1, 0);
}

/* ---- the source's folder removed under it ---- */

/* Retention on output.events a day later: the day file goes, the source's folder stays, and
 * the next event is written to a new file (not to the removed one still open). */
static void test_retention_then_write(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_range("q", 1, 0, 0, 0);
	EXPECT("q", 0);
	assert_int_equal(retention_sweep(dir, 1, (uint64_t)time(NULL) + 2 * 86400u), 1);
	char sd[160];
	snprintf(sd, sizeof(sd), "%s/q", dir);
	assert_int_equal(entries(sd), 0);
	send_range("q", 1, 1, 1, 1);
	EXPECT("q", 1);
	assert_counts(&c0, 2, 0, 0);
}

/* An operator removed the folder by hand: made again on the next batch. */
static void test_folder_removed_by_hand(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_range("q", 1, 0, 0, 0);
	char sd[160];
	snprintf(sd, sizeof(sd), "%s/q", dir);
	assert_int_equal(nftw(sd, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	send_range("q", 1, 1, 1, 2);
	EXPECT("q", 1, 2);
	assert_counts(&c0, 3, 0, 0);
}

/* ---- a source that cannot be set up ---- */

/* Its folder cannot be made (a file is in the way): its events are lost and counted, and its
 * seq still moves on, so that the next batch is not held back nor its loss counted twice. */
static void test_source_folder_fails(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	char sd[160];
	snprintf(sd, sizeof(sd), "%s/x", dir);
	append(sd, "", 0); /* a regular file where the folder should be */
	send_range("x", 1, 0, 0, 4);
	assert_counts(&c0, 0, 5, 0);
	assert_int_equal(unlink(sd), 0);
	send_range("x", 1, 5, 5, 9);
	EXPECT("x", 5, 6, 7, 8, 9);
	assert_counts(&c0, 5, 5, 0);
}

/* Beyond EVENTS_SOURCES_MAX sources: the batch is refused and its events counted lost. */
static void test_too_many_sources(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	char name[16];
	for (unsigned i = 0; i < EVENTS_SOURCES_MAX; i++) {
		snprintf(name, sizeof(name), "s%u", i);
		send_range(name, 1, 0, 0, 0);
	}
	assert_counts(&c0, EVENTS_SOURCES_MAX, 0, 0);
	uint64_t seqs[] = {0, 1, 2};
	assert_int_not_equal(send_batch("one-too-many", 1, 0, seqs, 3, NULL, NULL), 0);
	assert_counts(&c0, EVENTS_SOURCES_MAX, 3, 0);
	send_range("s7", 1, 1, 1, 1); /* the others go on */
	EXPECT("s7", 0, 1);
}

/* ---- a new stream's start ---- */

/* A new stream's second batch arrives before its first (which waited for FEC repair): the
 * first is not taken for duplicates; both are written in order. */
static void test_new_stream_out_of_order(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	send_range("n", 1, 10, 10, 19);
	send_range("n", 1, 0, 0, 9);
	EXPECT("n", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
	assert_counts(&c0, 20, 0, 0);
}

/* A batch that does not start the stream (after > 0) waits EVENTS_REORDER_NS for the batches
 * before it; then the stream starts at it, and an earlier batch that comes later still is
 * counted lost (it was never written nor counted), not duplicate. */
static void test_new_stream_start_window(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	const uint64_t t0 = fake_mono, wait = EVENTS_REORDER_NS;
	send_range("p", 1, 10, 10, 14);
	fake_mono = t0 + 300 * MS;
	send_range("p", 1, 5, 7, 9); /* the sender dropped 5..6 */
	fake_mono = t0 + wait - 1;
	assert_int_equal(events_timeout_ms(ev), 1);
	events_tick(ev);
	assert_counts(&c0, 0, 0, 0);
	fake_mono = t0 + wait;
	assert_int_equal(events_timeout_ms(ev), 0);
	events_tick(ev);
	EXPECT("p", 7, 8, 9, 10, 11, 12, 13, 14);
	assert_counts(&c0, 8, 2, 0);
	send_range("p", 1, 0, 0, 4); /* too late */
	assert_counts(&c0, 8, 7, 0);
	send_range("p", 1, 15, 15, 15);
	EXPECT("p", 7, 8, 9, 10, 11, 12, 13, 14, 15);
	assert_counts(&c0, 9, 7, 0);
}

/* A new stream whose first batch holds only seq 2^64-1 (refused: next would wrap): it does
 * not start the stream, nor make a gap of 2^64 seqs. */
static void test_new_stream_seq_max(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	uint64_t max = UINT64_MAX;
	assert_int_equal(send_batch("u", 1, 5, &max, 1, NULL, NULL), 0);
	settle();
	assert_counts(&c0, 0, 0, 0);
	send_first("u", 1, 5, 5, 5);
	EXPECT("u", 5);
	assert_counts(&c0, 1, 0, 0);
}

/* ---- a seq that goes back within the same stream ---- */

static uint64_t seq_back_now(void) { return metric_get(&rx_metrics[RXM_EVENTS_SEQ_BACK]); }

/* The sender's state restored from an old copy: seqs already written come again, in the same
 * stream, with newer tx_times. They are new events that cannot be written in seq order: lost,
 * and counted apart from duplicates (which carry the tx_time written). Also after a restart,
 * from the tx_time of the file's last line. */
static void test_seq_back(void **state)
{
	(void)state;
	struct counts c0 = counts_now();
	uint64_t b0 = seq_back_now();
	send_range("b", 1, 0, 0, 5);
	tx_shift = 3600000000000ull; /* an hour later */
	send_range("b", 1, 2, 2, 3);
	assert_counts(&c0, 6, 2, 0);
	assert_int_equal(seq_back_now() - b0, 2);
	tx_shift = 0;
	send_range("b", 1, 4, 4, 5); /* plain duplicates */
	assert_counts(&c0, 6, 2, 2);
	assert_int_equal(seq_back_now() - b0, 2);
	close_events();
	open_events(true);
	send_range("b", 1, 5, 5, 5); /* a duplicate of the file's last line */
	assert_counts(&c0, 6, 2, 3);
	tx_shift = 1000; /* a microsecond after seq 5's (the file keeps microseconds) */
	send_range("b", 1, 5, 5, 5);
	assert_counts(&c0, 6, 3, 3);
	assert_int_equal(seq_back_now() - b0, 3);
	tx_shift = 0;
	EXPECT("b", 0, 1, 2, 3, 4, 5);
}

int main(void)
{
	log_set_level(LOG_ERROR); /* the warnings about gaps and resets are expected here */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorder_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gaps_each_own_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_missed_since_first_higher, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_batch_after_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_after_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_without_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_older_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_counted_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unfinished_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unfinished_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_unfinished_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_bad_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_gap_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_state_unreadable, setup, teardown),
		cmocka_unit_test(test_encode_table),
		cmocka_unit_test(test_encode_random),
		cmocka_unit_test_setup_teardown(test_encode_nul_after_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_in_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_fails_counted_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_oom_mid_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_then_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_removed_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_folder_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_stream_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_stream_start_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_stream_seq_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
