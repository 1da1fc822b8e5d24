/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for rx/events/. The first byte picks the mode.
 *
 * Even: the rest goes to events_encode(). The output must be NUL-terminated at *len, hold no
 * raw byte < 0x20, be one minified RFC 8259 value by a strict grammar written here, and parse
 * with jansson too (JSON_DECODE_ANY, duplicate keys refused, \u0000 allowed). An object must equal the input parsed as an object, and be no
 * longer than the input (it is the input minified). A string must decode to exactly the
 * reference mapping of the input: each well-formed UTF-8 sequence (Unicode Table 3-7, written
 * here independently of rx/events/encode.c) as it is, each other byte b as U+00bb; so the decoded
 * length is between n and 2n, and the mapping is checked byte for byte rather than inverted
 * (inverting is ambiguous: input "\xc3\xbf" and input "\xff" both decode to U+00FF).
 *
 * Odd: the rest is a sequence of event batches, each signed with the harness's pinned key and
 * chained per source and stream as tx does (common/evchain.h), fed to events_batch() on a temp folder
 * made once (DIR and STATE under /dev/shm/sluice-fuzz-events-XXXXXX, a tmpfs, or /tmp when there
 * is none; fsync and fdatasync are no-ops here, as in fuzz_deliver):
 *
 *   batch = ctl (u8) | after (u8) | count (u8) | [name] | count x event
 *   event = seq delta (i8) | len (u8) | len bytes          (the input's end cuts short)
 *
 *   ctl bits 0-2: source: 0-4 fixed names; 5-7 a name of 1-8 bytes taken from the input
 *                 ([name] = length - 1 (u8) | bytes), which may be unusable: then
 *                 events_batch must refuse it;
 *       bits 3-4: stream id 1-4;  bit 5: zstd;  bit 6: events_tick after;
 *       bit 7:    restart first (events_free, events_new on the same folders), in the
 *                 first RESTARTS_MAX batches of an input that have it; later ones do not.
 *
 * Seqs follow a cursor per source so batches mostly move forward, with gaps, duplicates and
 * early arrivals; "after" is the first seq or up to 3 before it (seqs the sender dropped).
 * After every batch the lines added to the files are checked: whole lines, no raw byte
 * < 0x20, valid JSON with the right source, a tx_time that carries the seq and the source's
 * epoch (how many times its stream id changed), and per source non-decreasing epochs and,
 * within one, strictly increasing seqs (no seq is ever written twice, also across restarts;
 * no line of an old stream after one of a newer stream; a new stream's lines may wait for
 * its start, so the step back can come any number of batches after the change).
 * (A file is read only when stat says it grew. libsodium's signing and verification are
 * memoised, tests/fuzz/sodium_memo.h: a batch record signed here is verified by events_batch
 * without the curve arithmetic, and records signed again are looked up.)
 * Every 1000 inputs of this mode (and at exit) the folders are emptied and events made anew,
 * so nothing grows without bound; state carries over between inputs otherwise, so a failure
 * may need the inputs before it: SLUICE_FUZZ_EVENTS_FRESH=1 starts every input on empty
 * folders (the way to replay a crash file alone, and to minimise it).
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/evbatch.h"
#include "common/log.h"
#include "rx/events/events.h"
#define MEMO_SLOTS 65536 /* measured faster than 4,096: 714 -> 909 exec/s */
#include "tests/fuzz/sodium_memo.h"
#include "tests/unit/ref_utf8.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JFLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)
#define RECYCLE_RUNS 1000
#define RESTARTS_MAX 8 /* an input's first; later restart bits do nothing */
#define SOURCES_MAX 64 /* tracked for checking; more valid names in one cycle are not checked */

int fsync(int fd)
{
	(void)fd;
	return 0;
}

int fdatasync(int fd)
{
	(void)fd;
	return 0;
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_events: %s\n", what);
		abort();
	}
}

/* ---- mode 1: events_encode against a reference ---- */


/*
 * RFC 8259, strictly and independently of jansson (which has quirks of its own): the whole of
 * p[0..n) is one value. With `minified`, no whitespace outside strings either. Escapes are
 * checked by the grammar only (a lone \ud800 is grammatical).
 */
struct jtext {
	const uint8_t *p;
	size_t n, i;
	bool minified;
	int depth;
};

static bool j_value(struct jtext *t);

static bool j_ws(struct jtext *t)
{
	size_t from = t->i;
	while (t->i < t->n && (t->p[t->i] == ' ' || t->p[t->i] == '\t' || t->p[t->i] == '\n' ||
			       t->p[t->i] == '\r'))
		t->i++;
	return !t->minified || t->i == from;
}

static bool j_eat(struct jtext *t, uint8_t c)
{
	if (t->i < t->n && t->p[t->i] == c) {
		t->i++;
		return true;
	}
	return false;
}

static bool j_digits(struct jtext *t)
{
	size_t from = t->i;
	while (t->i < t->n && t->p[t->i] >= '0' && t->p[t->i] <= '9')
		t->i++;
	return t->i > from;
}

static bool j_number(struct jtext *t)
{
	j_eat(t, '-');
	if (!j_eat(t, '0') && !(t->i < t->n && t->p[t->i] >= '1' && t->p[t->i] <= '9' && j_digits(t)))
		return false;
	if (j_eat(t, '.') && !j_digits(t))
		return false;
	if (j_eat(t, 'e') || j_eat(t, 'E')) {
		if (!j_eat(t, '+'))
			j_eat(t, '-');
		if (!j_digits(t))
			return false;
	}
	return true;
}

static bool j_string(struct jtext *t)
{
	if (!j_eat(t, '"'))
		return false;
	while (t->i < t->n) {
		uint8_t c = t->p[t->i];
		if (c == '"') {
			t->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++t->i >= t->n)
				return false;
			c = t->p[t->i++];
			if (c == 'u') {
				for (int k = 0; k < 4; k++, t->i++)
					if (t->i >= t->n || !strchr("0123456789abcdefABCDEF", t->p[t->i]) ||
					    !t->p[t->i])
						return false;
			} else if (!c || !strchr("\"\\/bfnrt", c)) {
				return false;
			}
			continue;
		}
		size_t l = ref_utf8(t->p + t->i, t->n - t->i);
		if (!l)
			return false;
		t->i += l;
	}
	return false;
}

static bool j_members(struct jtext *t, uint8_t close, bool keys)
{
	if (++t->depth > 10000 || !j_ws(t))
		return false;
	if (j_eat(t, close)) {
		t->depth--;
		return true;
	}
	for (;;) {
		if (keys && !(j_string(t) && j_ws(t) && j_eat(t, ':')))
			return false;
		if (!j_value(t))
			return false;
		if (j_eat(t, close)) {
			t->depth--;
			return true;
		}
		if (!j_eat(t, ','))
			return false;
		if (!j_ws(t))
			return false;
	}
}

static bool j_value(struct jtext *t)
{
	if (!j_ws(t) || t->i >= t->n)
		return false;
	bool ok;
	switch (t->p[t->i]) {
	case '{':
		t->i++;
		ok = j_members(t, '}', true);
		break;
	case '[':
		t->i++;
		ok = j_members(t, ']', false);
		break;
	case '"':
		ok = j_string(t);
		break;
	case 't':
		ok = t->n - t->i >= 4 && memcmp(t->p + t->i, "true", 4) == 0 && (t->i += 4);
		break;
	case 'f':
		ok = t->n - t->i >= 5 && memcmp(t->p + t->i, "false", 5) == 0 && (t->i += 5);
		break;
	case 'n':
		ok = t->n - t->i >= 4 && memcmp(t->p + t->i, "null", 4) == 0 && (t->i += 4);
		break;
	default:
		ok = j_number(t);
	}
	return ok && j_ws(t);
}

static bool strict_json(const char *p, size_t n, bool minified)
{
	struct jtext t = {(const uint8_t *)p, n, 0, minified, 0};
	return j_value(&t) && t.i == n;
}

static void check_encode(const uint8_t *in, size_t n)
{
	size_t len = 0;
	char *out = events_encode(in, n, &len);
	check(out != NULL, "events_encode returned NULL");
	check(strlen(out) == len, "the length is not the string's");
	for (size_t i = 0; i < len; i++)
		check((uint8_t)out[i] >= 0x20, "a raw control byte in the output");
	check(strict_json(out, len, true), "the output is not minified RFC 8259 JSON");
	json_error_t err;
	json_t *j = json_loadb(out, len, JFLAGS | JSON_DECODE_ANY, &err);
	check(j != NULL, "the output is not JSON to jansson");
	/* A strict object: to jansson (valid UTF-8, no duplicate keys, numbers that fit) and to
	 * the grammar (jansson skips a raw NUL after a number or literal). */
	json_t *ij = json_loadb((const char *)in, n, JFLAGS, &err);
	bool strict = ij && json_is_object(ij) && strict_json((const char *)in, n, false);
	if (json_is_object(j)) {
		check(strict, "an object out of something that is not a strict one");
		check(json_equal(j, ij), "the object changed");
		check(len <= n, "the object grew");
	} else {
		check(json_is_string(j), "neither an object nor a string");
		check(!strict, "a strict object carried as a string");
		const uint8_t *s = (const uint8_t *)json_string_value(j);
		size_t sl = json_string_length(j), k = 0;
		check(sl >= n && sl <= 2 * n, "the string's length is out of [n, 2n]");
		for (size_t i = 0; i < n;) {
			size_t l = ref_utf8(in + i, n - i);
			if (l) {
				check(k + l <= sl && memcmp(s + k, in + i, l) == 0, "valid UTF-8 not kept");
				k += l;
				i += l;
			} else {
				check(k + 2 <= sl && s[k] == (0xc0 | (in[i] >> 6)) &&
					      s[k + 1] == (0x80 | (in[i] & 0x3f)),
				      "a byte outside UTF-8 not mapped to U+00XX");
				k += 2;
				i++;
			}
		}
		check(k == sl, "the string holds more than the input");
	}
	json_decref(ij);
	json_decref(j);
	free(out);
}

/* ---- mode 2: events_batch on a temp folder ---- */

static const char *const fixed[5] = {"vms", "a", "b.c", "x-y_z", "0"};

struct tracked {
	char name[EVBATCH_NAME_MAX + 1];
	char file[32];        /* the day file being checked */
	off_t done;           /* bytes of it checked */
	bool have_seq;
	uint64_t last_seq;    /* the last seq written */
	uint64_t batch;       /* the chain (common/evchain.h) as a sender keeps it: next batch */
	uint8_t prev[32];     /* and the last record's hash */
	uint64_t last_epoch;  /* the epoch of the last line written */
	uint64_t epoch;       /* how many times the stream id changed (in every tx_time sent) */
	bool have_stream;
	uint64_t stream;      /* the last one sent */
	uint64_t cursor;      /* the next seq to send, roughly */
};

static char top[64], dir[96], stdir[96];
static struct events *ev;
static struct tracked src[SOURCES_MAX];
static size_t nsrc;
static unsigned runs, since_recycle, restarts;
static bool fresh_each;

/* The sender's key, pinned: every batch is signed with it (a seed of the harness's own). */
static uint8_t tx_pk[32], tx_sk[64];

static void events_open(void)
{
	if (!tx_pk[0] && !tx_pk[31]) {
		uint8_t seed[32] = {0x5e};
		check(sodium_init() >= 0, "sodium_init");
		crypto_sign_seed_keypair(tx_pk, tx_sk, seed);
	}
	struct events_config c = {.dir = dir, .state = stdir, .forward = NULL,
				  .senders = (const uint8_t(*)[32])tx_pk, .nsenders = 1};
	check(events_new(&ev, &c) == 0, "events_new");
}

/* Source names as README.md says of spool names: 1 to 63 of a-z 0-9 . _ -, not starting with
 * '.' (hidden names are refused). */
static bool name_ok(const char *n)
{
	size_t l = strlen(n);
	if (l == 0 || l > 63 || n[0] == '.')
		return false;
	for (size_t i = 0; i < l; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '.' ||
		      n[i] == '_' || n[i] == '-'))
			return false;
	return true;
}

static struct tracked *track(const char *name)
{
	for (size_t i = 0; i < nsrc; i++)
		if (strcmp(src[i].name, name) == 0)
			return &src[i];
	if (nsrc == SOURCES_MAX)
		return NULL;
	struct tracked *t = &src[nsrc++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->cursor = 1;
	return t;
}

static void line_fail(const struct tracked *t, const char *why, const char *s, size_t n)
{
	fprintf(stderr,
		"fuzz_events: source %s: %s (last seq %llu%s, epoch %llu); %u inputs since the "
		"folders were made (SLUICE_FUZZ_EVENTS_FRESH=1 starts each input on empty folders)\n"
		"line: %.*s\n",
		t->name, why, (unsigned long long)t->last_seq, t->have_seq ? "" : " (none)",
		(unsigned long long)t->last_epoch,
		since_recycle, n > 400 ? 400 : (int)n, s);
	abort();
}

/* The tx_time of seq in epoch k is TX_BASE + k * EPOCH_NS + seq ns; the line keeps
 * microseconds. The epoch of a line's tx_time, if the rest of it is its seq. */
#define TX_BASE 1700000000000000000ull
#define EPOCH_NS 1000000000000ull
static bool tx_epoch(const char *t, uint64_t seq, uint64_t *epoch)
{
	struct tm tm = {0};
	unsigned us;
	if (!t || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	uint64_t ns = (uint64_t)timegm(&tm) * 1000000000ull + us * 1000ull;
	if (ns < TX_BASE)
		return false;
	*epoch = (ns - TX_BASE) / EPOCH_NS;
	return (ns - TX_BASE) % EPOCH_NS == seq / 1000u * 1000u;
}

/* Check one line; s[0..n) without its LF. */
static void check_line(struct tracked *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20)
			line_fail(t, "a raw control byte in a line", s, n);
	json_error_t err;
	json_t *j = json_loadb(s, n, JFLAGS, &err);
	if (!j || !json_is_object(j) || json_object_size(j) != 5)
		line_fail(t, "a line is not the expected object", s, n);
	json_t *so = json_object_get(j, "source"), *sq = json_object_get(j, "seq");
	if (!json_is_string(so) || strcmp(json_string_value(so), t->name) != 0 || !json_is_integer(sq) ||
	    !json_object_get(j, "event") || !json_is_string(json_object_get(j, "tx_time")) ||
	    !json_is_string(json_object_get(j, "rx_time")))
		line_fail(t, "a line without its source, seq, times or event", s, n);
	uint64_t seq = (uint64_t)json_integer_value(sq), epoch;
	if (!tx_epoch(json_string_value(json_object_get(j, "tx_time")), seq, &epoch))
		line_fail(t, "a line whose tx_time is not its event's", s, n);
	if (t->have_seq && (epoch < t->last_epoch || (epoch == t->last_epoch && seq <= t->last_seq)))
		line_fail(t, "a seq written again or out of order", s, n);
	t->have_seq = true;
	t->last_seq = seq;
	t->last_epoch = epoch;
	json_decref(j);
}

/* The lines added to DIR/<t>/<name> since the last check. */
static void check_file(struct tracked *t, const char *name)
{
	if (strcmp(name, t->file) != 0) {
		snprintf(t->file, sizeof(t->file), "%s", name);
		t->done = 0;
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, t->name, name);
	struct stat st;
	/* Every tracked source after every batch: one stat when nothing was added, as mostly. */
	if (stat(path, &st) != 0 || st.st_size == t->done)
		return;
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	check(fstat(fileno(f), &st) == 0 && st.st_size >= t->done, "a day file shrank");
	size_t n = (size_t)(st.st_size - t->done);
	if (n) {
		char *p = malloc(n);
		check(p != NULL, "out of memory");
		check(fseeko(f, t->done, SEEK_SET) == 0 && fread(p, 1, n, f) == n,
		      "a day file cannot be read");
		check(p[n - 1] == '\n', "a day file ends inside a line");
		for (char *s = p; s < p + n;) {
			char *nl = memchr(s, '\n', (size_t)(p + n - s));
			check_line(t, s, (size_t)(nl - s));
			s = nl + 1;
		}
		free(p);
		t->done = st.st_size;
	}
	fclose(f);
}

/* Lines go to the file of the UTC day they are written: check the one before too, at a change. */
static void check_all(void)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char today[32];
	snprintf(today, sizeof(today), "%04d-%02d-%02d.jsonl", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	for (size_t i = 0; i < nsrc; i++) {
		if (src[i].file[0] && strcmp(src[i].file, today) != 0)
			check_file(&src[i], src[i].file);
		check_file(&src[i], today);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* Write what is held, check it, and start again on empty folders. */
static void recycle(bool again)
{
	events_free(ev);
	ev = NULL;
	check_all();
	/* Nothing was made beside DIR and STATE, whatever the source names were. */
	DIR *d = opendir(top);
	check(d != NULL, "the temp folder is gone");
	struct dirent *de;
	while ((de = readdir(d)))
		check(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		      strcmp(de->d_name, "events") == 0 || strcmp(de->d_name, "state") == 0,
		      "something was made beside DIR and STATE");
	closedir(d);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	nftw(stdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	nsrc = 0;
	since_recycle = 0;
	if (again)
		events_open();
	else
		rmdir(top);
}

static void at_exit(void)
{
	if (ev)
		recycle(false);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERROR);
	fresh_each = getenv("SLUICE_FUZZ_EVENTS_FRESH") != NULL;
	if (!fresh_each) {
		/* State carries over between inputs, so a run that makes a source allocates more than
		 * it frees, and libFuzzer then reran it for a whole-heap leak check: 60% of the time
		 * went to LeakSanitizer's scans. -detect_leaks=0 (before the command line's flags,
		 * which win) stops the per-input check; LeakSanitizer still checks at exit, after
		 * events_free. SLUICE_FUZZ_EVENTS_FRESH=1 keeps it, every input being whole there. */
		static char flag[] = "-detect_leaks=0";
		static char *args[256];
		if (*argc >= 1 && *argc < 255) {
			args[0] = (*argv)[0];
			args[1] = flag;
			for (int i = 1; i < *argc; i++)
				args[i + 1] = (*argv)[i];
			args[*argc + 1] = NULL;
			*argc += 1;
			*argv = args;
		}
	}
	snprintf(top, sizeof(top), "/dev/shm/sluice-fuzz-events-XXXXXX");
	if (!mkdtemp(top)) {
		snprintf(top, sizeof(top), "/tmp/sluice-fuzz-events-XXXXXX");
		check(mkdtemp(top) != NULL, "mkdtemp");
	}
	snprintf(dir, sizeof(dir), "%s/events", top);
	snprintf(stdir, sizeof(stdir), "%s/state", top);
	events_open();
	atexit(at_exit);
	return 0;
}

/* One batch record from p[0..n); returns the bytes it took. */
static size_t batch(const uint8_t *p, size_t n)
{
	const uint8_t *p0 = p;
	if (n < 3)
		return n;
	uint8_t ctl = p[0], after_b = p[1], count_b = p[2];
	p += 3;
	n -= 3;
	char name[EVBATCH_NAME_MAX + 1];
	unsigned which = ctl & 7;
	if (which < 5) {
		snprintf(name, sizeof(name), "%s", fixed[which]);
	} else {
		size_t l = n ? 1 + p[0] % 8 : 0;
		if (n)
			p++, n--;
		if (l > n)
			l = n;
		memcpy(name, p, l);
		name[l] = '\0';
		p += l;
		n -= l;
		if (l == 0 || strlen(name) != l)
			return (size_t)(p - p0); /* evbatch_begin needs a C string of 1..63 */
	}
	if ((ctl & 0x80) && restarts++ < RESTARTS_MAX) {
		events_free(ev);
		events_open();
	}
	bool ok = name_ok(name);
	struct tracked *t = ok ? track(name) : NULL;
	uint64_t stream = 1 + ((ctl >> 3) & 3), cursor = t ? t->cursor : 1;
	uint64_t epoch = t ? t->epoch + (t->have_stream && t->stream != stream) : 0;
	struct evbatch_builder b;
	check(evbatch_begin(&b, name, stream, 0) == 0, "evbatch_begin");
	uint64_t first = 0;
	uint32_t count = 0;
	while (count < count_b && n >= 2) {
		int8_t delta = (int8_t)p[0];
		size_t len = p[1];
		p += 2;
		n -= 2;
		if (len > n)
			len = n;
		uint64_t seq = delta < 0 && (uint64_t)-delta > cursor ? 0 : cursor + (uint64_t)(int64_t)delta;
		check(evbatch_add(&b, seq, TX_BASE + epoch * EPOCH_NS + seq, p, (uint32_t)len) == 0,
		      "evbatch_add");
		if (!count++)
			first = seq;
		if (seq >= cursor)
			cursor = seq + 1;
		p += len;
		n -= len;
	}
	/* after (written by evbatch_finish): where the previous batch ended, as tx says it when
	 * nothing was dropped, or a little before. */
	b.after = first > after_b % 4 ? first - after_b % 4 : 0;
	if (count == 0) { /* a batch holds at least one event: nothing to send */
		evbatch_free(&b);
		return (size_t)(p - p0);
	}
	/* Chained as tx chains: per source and stream, from batch 1 */
	static const uint8_t zero[32];
	if (t && (!t->batch || (t->have_stream && t->stream != stream))) {
		t->batch = 1;
		memset(t->prev, 0, 32);
	}
	evbatch_chain(&b, t ? t->batch : 1, 0, t ? t->prev : zero, tx_sk);
	uint8_t *obj = NULL;
	long len = evbatch_finish(&b, ctl & 0x20 ? 1 : 0, &obj);
	if (t && len > 0) {
		t->batch++;
		memcpy(t->prev, b.record_hash, 32);
	}
	evbatch_free(&b);
	check(len > 0, "evbatch_finish");
	int rc = events_batch(ev, 1, obj, (size_t)len);
	free(obj);
	if (!ok) {
		check(rc != 0, "an unusable source name accepted");
		return (size_t)(p - p0);
	}
	check(rc == 0, "a well-formed batch refused");
	if (t) {
		t->epoch = epoch;
		t->have_stream = true;
		t->stream = stream;
		t->cursor = cursor;
	}
	if (ctl & 0x40)
		events_tick(ev);
	check(events_timeout_ms(ev) >= -1, "events_timeout_ms below -1");
	check_all();
	return (size_t)(p - p0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		check_encode(data + 1, size - 1);
		return 0;
	}
	if (fresh_each || ++runs % RECYCLE_RUNS == 0)
		recycle(true);
	since_recycle++;
	restarts = 0;
	for (size_t off = 1; off < size;)
		off += batch(data + off, size - off);
	return 0;
}
