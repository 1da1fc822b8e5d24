/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/audit.{h,c}: every line read back and parsed by jansson (strict: UTF-8
 * validation; each field checked, including names holding quotes, backslashes, control
 * characters, a newline, bidirectional overrides and invalid UTF-8, and the file left printable
 * ASCII; keys left out for NULL; the file's mode, its
 * created parent folders, appending across opens, a refused symlink; the no-op audit; and four
 * threads writing at once leaving only whole lines, chained in the order they landed; the hash
 * chain (seq, prev) across a restart through the head file, across a reopened file, and from a
 * malformed head; lines that cannot be written (/dev/full, a short write at RLIMIT_FSIZE) kept in
 * order and written with the chain intact once writes succeed, the bound with its drops counted
 * and noted in the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/smallfile.h"
#include "rx/audit.h"
#include "rx/rx_metrics.h"

static char top[64], log_path[160];

static int dir_setup(void **state)
{
	umask(022);
	snprintf(top, sizeof(top), "/tmp/sluice-test-audit-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(log_path, sizeof(log_path), "%s/var/log/sluice/audit.jsonl", top);
	return 0;
}

static int dir_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* Every line of the file, each parsed strictly; count in *n. Fails the test on a bad line. */
static json_t **read_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t cap = 16, cnt = 0;
	json_t **v = malloc(cap * sizeof(*v));
	assert_non_null(v);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	while ((len = getline(&line, &lcap, f)) >= 0) {
		assert_true(len > 1);
		assert_int_equal(line[len - 1], '\n');
		/* exactly one line per record: no raw newline inside */
		assert_null(memchr(line, '\n', (size_t)len - 1));
		json_error_t err;
		json_t *o = json_loadb(line, (size_t)len - 1, JSON_REJECT_DUPLICATES, &err);
		if (!o)
			fail_msg("bad line (%s): %s", err.text, line);
		assert_true(json_is_object(o));
		if (cnt == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		v[cnt++] = o;
	}
	free(line);
	fclose(f);
	*n = cnt;
	return v;
}

static void free_lines(json_t **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
}

static const char *str_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!v)
		return NULL;
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static uint64_t u64_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	assert_non_null(v);
	if (json_is_string(v)) { /* above 2^63 - 1, which JSON integers in jansson cannot hold */
		char *end;
		uint64_t x = strtoull(json_string_value(v), &end, 10);
		assert_int_equal(*end, '\0');
		assert_true(x > (uint64_t)INT64_MAX);
		return x;
	}
	assert_true(json_is_integer(v));
	return (uint64_t)json_integer_value(v);
}

static bool has(json_t *o, const char *k) { return json_object_get(o, k) != NULL; }

static void check_keys(json_t *o, const char *const *keys)
{
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		(void)v;
		assert_non_null(keys[i]);
		assert_string_equal(k, keys[i]);
		i++;
	}
	assert_null(keys[i]);
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" within a minute of now */
static void check_time(json_t *o)
{
	const char *t = str_of(o, "time");
	assert_non_null(t);
	assert_int_equal(strlen(t), 27);
	struct tm tm = {0};
	const char *end = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(end);
	assert_int_equal(end[0], '.');
	for (int i = 1; i <= 6; i++)
		assert_true(end[i] >= '0' && end[i] <= '9');
	assert_string_equal(end + 7, "Z");
	time_t when = timegm(&tm), now = time(NULL);
	assert_true(when <= now && now - when < 60);
}

static const uint8_t hash[32] = {0x00, 0x01, 0x02, 0xab, 0xcd, 0xef, 0x10, 0xff, [31] = 0x7e};
static const char hash_hex_want[] =
	"000102abcdef10ff00000000000000000000000000000000000000000000007e";

static void test_records(void **state)
{
	struct audit *a;
	assert_int_equal(audit_open(&a, log_path), 0);
	struct stat st;
	assert_int_equal(stat(log_path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	char parent[160];
	snprintf(parent, sizeof(parent), "%s/var/log/sluice", top);
	assert_int_equal(stat(parent, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	struct audit_record d = {
		.outcome = AUDIT_DELIVERED,
		.spool = "cam-north",
		.path = "2026/11/22/seg 1.ts",
		.size = 1048576,
		.session = 0x0123456789abcdefull,
		.object_id = 17,
		.sender = "SLUICE-abc+/=",
		.hash = hash,
	};
	assert_int_equal(audit_write(a, &d), 0);
	/* a hostile name: quotes, backslash, newline, tab, ESC, DEL; invalid UTF-8: a stray
	 * continuation byte, 0xff, an overlong '/', a surrogate, a truncated sequence at the end;
	 * valid multi-byte characters kept as they are */
	struct audit_record r = {
		.outcome = AUDIT_REJECTED,
		.spool = "cam",
		.path = "a\"b\\c\nd\te\x1b" "f\x7fg\x80h\xffi\xc0\xafj\xed\xa0\x80k"
			"\xe2\x80\xae\xc2\x9b\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x82",
		.size = UINT64_MAX,
		.session = 1,
		.object_id = UINT64_MAX,
		.reason = "unsafe name: \"..\"",
	};
	assert_int_equal(audit_write(a, &r), 0);
	struct audit_record rn = {
		.outcome = AUDIT_RENAMED,
		.spool = "cam",
		.path = "x.ts",
		.stored_as = "x.1.ts",
		.size = 5,
		.session = 2,
		.object_id = 3,
		.hash = hash,
	};
	assert_int_equal(audit_write(a, &rn), 0);
	struct audit_record lost = {.outcome = AUDIT_LOST, .session = 2, .object_id = 4};
	assert_int_equal(audit_write(a, &lost), 0);
	struct audit_record dup = {.outcome = AUDIT_DUPLICATE, .spool = "s", .path = "p", .stored_as = "p",
				   .size = 0, .session = 2, .object_id = 5, .sender = "fp"};
	assert_int_equal(audit_write(a, &dup), 0);
	struct audit_record ses = {.outcome = AUDIT_SESSION, .session = 0xfedcba9876543210ull,
				   .object_id = 99, .size = 99, .sender = "fp", .reason = "sender restarted"};
	assert_int_equal(audit_write(a, &ses), 0);
	/* an outcome outside the enum is refused, nothing written */
	struct audit_record bad = {.outcome = AUDIT_INVALID};
	assert_int_equal(audit_write(a, &bad), -EINVAL);
	bad.outcome = (enum audit_outcome)(AUDIT_CHAIN_BREAK + 1);
	assert_int_equal(audit_write(a, &bad), -EINVAL);
	audit_close(a);

	/* The file itself is printable ASCII: a terminal or pager shows every name as it is
	 * escaped, whatever bidirectional or control characters it holds. */
	FILE *raw = fopen(log_path, "r");
	assert_non_null(raw);
	for (int ch; (ch = fgetc(raw)) != EOF;)
		if (ch != '\n' && (ch < 0x20 || ch > 0x7e))
			fail_msg("byte 0x%02x in the audit log", ch);
	fclose(raw);

	size_t n;
	json_t **v = read_lines(log_path, &n);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		check_time(v[i]);

	static const char *const dk[] = {"time", "outcome", "spool", "path", "size", "session",
					 "object", "sender", "content_hash", "seq", "prev", NULL};
	check_keys(v[0], dk);
	assert_string_equal(str_of(v[0], "outcome"), "delivered");
	assert_string_equal(str_of(v[0], "spool"), "cam-north");
	assert_string_equal(str_of(v[0], "path"), "2026/11/22/seg 1.ts");
	assert_int_equal(u64_of(v[0], "size"), 1048576);
	assert_string_equal(str_of(v[0], "session"), "0123456789abcdef");
	assert_int_equal(u64_of(v[0], "object"), 17);
	assert_string_equal(str_of(v[0], "sender"), "SLUICE-abc+/=");
	assert_string_equal(str_of(v[0], "content_hash"), hash_hex_want);

	static const char *const rk[] = {"time", "outcome", "spool", "path", "size", "session",
					 "object", "reason", "seq", "prev", NULL};
	check_keys(v[1], rk);
	assert_string_equal(str_of(v[1], "outcome"), "rejected");
	assert_string_equal(str_of(v[1], "path"),
			    "a\"b\\c\nd\te\x1b" "f\x7fg\xef\xbf\xbdh\xef\xbf\xbdi\xef\xbf\xbd\xef\xbf\xbdj"
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdk\xe2\x80\xae\xc2\x9b\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
			    "\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(u64_of(v[1], "size") == UINT64_MAX);
	assert_true(u64_of(v[1], "object") == UINT64_MAX);
	assert_string_equal(str_of(v[1], "session"), "0000000000000001");
	assert_string_equal(str_of(v[1], "reason"), "unsafe name: \"..\"");

	static const char *const nk[] = {"time", "outcome", "spool", "path", "stored_as", "size",
					 "session", "object", "content_hash", "seq", "prev",
					 NULL};
	check_keys(v[2], nk);
	assert_string_equal(str_of(v[2], "outcome"), "renamed");
	assert_string_equal(str_of(v[2], "stored_as"), "x.1.ts");

	static const char *const lk[] = {"time", "outcome", "size", "session", "object", "seq",
					 "prev", NULL};
	check_keys(v[3], lk);
	assert_string_equal(str_of(v[3], "outcome"), "lost");
	assert_int_equal(u64_of(v[3], "size"), 0);
	assert_int_equal(u64_of(v[3], "object"), 4);

	assert_string_equal(str_of(v[4], "outcome"), "duplicate");
	assert_string_equal(str_of(v[4], "stored_as"), "p");

	static const char *const sk[] = {"time", "outcome", "session", "sender", "reason", "seq",
					 "prev", NULL};
	check_keys(v[5], sk);
	assert_string_equal(str_of(v[5], "outcome"), "session");
	assert_string_equal(str_of(v[5], "session"), "fedcba9876543210");
	assert_false(has(v[5], "object"));
	free_lines(v, n);

	/* slashes are not escaped in the raw text (grep-able paths) */
	FILE *f = fopen(log_path, "r");
	char first[1024];
	assert_non_null(fgets(first, sizeof(first), f));
	fclose(f);
	assert_non_null(strstr(first, "\"path\":\"2026/11/22/seg 1.ts\""));
	assert_non_null(strstr(first, "{\"time\":\""));

	/* reopening appends */
	assert_int_equal(audit_open(&a, log_path), 0);
	assert_int_equal(audit_write(a, &d), 0);
	audit_close(a);
	v = read_lines(log_path, &n);
	assert_int_equal(n, 7);
	assert_string_equal(str_of(v[6], "outcome"), "delivered");
	free_lines(v, n);
}

static size_t dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Event-batch lines: "source" after "spool", no size or object, the batch and event seqs, the
 * signed record in base64 after where a manifest would be. */
static void test_event_records(void **state)
{
	(void)state;
	struct audit *a;
	assert_int_equal(audit_open(&a, log_path), 0);
	static const uint8_t rec[5] = {1, 2, 3, 0xfe, 0xff};
	struct audit_record ev = {.outcome = AUDIT_EVENTS, .source = "vms", .session = 7,
				  .batch = 12, .have_events = true, .event_first = 0,
				  .event_last = 31, .sender = "fp", .record = rec, .record_len = 5};
	assert_int_equal(audit_write(a, &ev), 0);
	struct audit_record br = {.outcome = AUDIT_CHAIN_BREAK, .source = "vms", .session = 7,
				  .batch = 13, .batch_last = 15, .have_events = true,
				  .event_first = 32, .event_last = 40, .sender = "fp",
				  .reason = "lost: batch 13..15 never arrived (events 32..40)"};
	assert_int_equal(audit_write(a, &br), 0);
	struct audit_record rj = {.outcome = AUDIT_REJECTED, .source = "", .session = 7,
				  .reason = "malformed event batch: x"};
	assert_int_equal(audit_write(a, &rj), 0);
	audit_close(a);
	size_t n;
	json_t **v = read_lines(log_path, &n);
	assert_int_equal(n, 3);
	static const char *const ek[] = {"time", "outcome", "source", "session", "batch",
					 "event_first", "event_last", "sender", "record", "seq",
					 "prev", NULL};
	check_keys(v[0], ek);
	assert_string_equal(str_of(v[0], "outcome"), "events");
	assert_string_equal(str_of(v[0], "record"), "AQID/v8=");
	assert_int_equal(u64_of(v[0], "batch"), 12);
	assert_int_equal(u64_of(v[0], "event_first"), 0);
	assert_int_equal(u64_of(v[0], "event_last"), 31);
	static const char *const bk[] = {"time", "outcome", "source", "session", "batch",
					 "batch_last", "event_first", "event_last", "sender",
					 "reason", "seq", "prev", NULL};
	check_keys(v[1], bk);
	assert_string_equal(str_of(v[1], "outcome"), "chain_break");
	assert_int_equal(u64_of(v[1], "batch_last"), 15);
	static const char *const jk[] = {"time", "outcome", "source", "session", "reason", "seq",
					 "prev", NULL};
	check_keys(v[2], jk);
	assert_string_equal(str_of(v[2], "source"), "");
	free_lines(v, n);
}

static void test_noop(void **state)
{
	struct audit *a = NULL;
	assert_int_equal(audit_open(&a, NULL), 0);
	assert_non_null(a);
	struct audit_record r = {.outcome = AUDIT_DELIVERED, .path = "x", .size = 1};
	assert_int_equal(audit_write(a, &r), 0);
	assert_int_equal(audit_write(NULL, &r), 0);
	audit_close(a);
	audit_close(NULL);
	assert_int_equal(dir_count(top), 0);
}

static void test_open_errors(void **state)
{
	char p[256];
	struct audit *a = NULL;
	/* a parent that is a file */
	snprintf(p, sizeof(p), "%s/file", top);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/file/audit.jsonl", top);
	assert_int_equal(audit_open(&a, p), -ENOTDIR);
	assert_null(a);
	/* a symlink as the log is refused, its target untouched */
	char target[160];
	snprintf(target, sizeof(target), "%s/target", top);
	snprintf(p, sizeof(p), "%s/link.jsonl", top);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(audit_open(&a, p), -ELOOP);
	assert_null(a);
	struct stat st;
	assert_int_equal(lstat(target, &st), -1);
	/* a relative path with no folder */
	char cwd[256];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(top), 0);
	assert_int_equal(audit_open(&a, "rel.jsonl"), 0);
	audit_close(a);
	assert_int_equal(chdir(cwd), 0);
	snprintf(p, sizeof(p), "%s/rel.jsonl", top);
	assert_int_equal(stat(p, &st), 0);
}


/* Every raw line of path (without newlines), NULL-terminated; count in *n. */
static char **raw_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t cap = 16, cnt = 0;
	char **v = malloc(cap * sizeof(*v));
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	while ((len = getline(&line, &lcap, f)) > 0) {
		assert_int_equal(line[len - 1], '\n');
		if (cnt + 1 >= cap)
			assert_non_null(v = realloc(v, (cap *= 2) * sizeof(*v)));
		v[cnt++] = strndup(line, (size_t)len - 1);
	}
	v[cnt] = NULL;
	free(line);
	fclose(f);
	*n = cnt;
	return v;
}

static void free_raw(char **v)
{
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static void hex_of(const uint8_t h[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1])
{
	for (size_t i = 0; i < AUDIT_HASH_LEN; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* path's lines carry seq first_seq, first_seq + 1, ... and each prev is the hash of the line
 * before; the first line's prev is the hash of before_line (NULL: 64 zeros). Returns the
 * number of lines. */
static size_t check_chain(const char *path, uint64_t first_seq, const char *before_line)
{
	size_t n;
	char **raw = raw_lines(path, &n);
	char want[2 * AUDIT_HASH_LEN + 1];
	if (before_line) {
		uint8_t h[AUDIT_HASH_LEN];
		audit_line_hash(before_line, strlen(before_line), h);
		hex_of(h, want);
	} else {
		memset(want, '0', 2 * AUDIT_HASH_LEN);
		want[2 * AUDIT_HASH_LEN] = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_loads(raw[i], JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(o);
		assert_int_equal(u64_of(o, "seq"), first_seq + i);
		assert_string_equal(str_of(o, "prev"), want);
		json_decref(o);
		uint8_t h[AUDIT_HASH_LEN];
		audit_line_hash(raw[i], strlen(raw[i]), h);
		hex_of(h, want);
	}
	free_raw(raw);
	return n;
}

/* The last raw line of path, to be freed. */
static char *last_line(const char *path)
{
	size_t n;
	char **raw = raw_lines(path, &n);
	assert_true(n > 0);
	char *l = strdup(raw[n - 1]);
	free_raw(raw);
	return l;
}

static void test_chain(void **state)
{
	char head[160], second[160], buf[256];
	snprintf(head, sizeof(head), "%s/audit-head", top);
	snprintf(second, sizeof(second), "%s/second.jsonl", top);
	struct audit *a;
	assert_int_equal(audit_open(&a, log_path), 0);
	assert_int_equal(audit_chain_start(a, head, "first start"), 0);
	struct audit_record d = {.outcome = AUDIT_DELIVERED, .spool = "cam", .path = "a.ts",
				 .size = 5, .hash = hash, .symbol_size = 1408, .block_max = 128};
	assert_int_equal(audit_write(a, &d), 0);
	assert_int_equal(audit_write(a, &d), 0);
	audit_close(a);
	assert_int_equal(check_chain(log_path, 1, NULL), 3);

	size_t n;
	json_t **v = read_lines(log_path, &n);
	static const char *const startk[] = {"time", "outcome", "reason", "seq", "prev", NULL};
	check_keys(v[0], startk);
	assert_string_equal(str_of(v[0], "outcome"), "start");
	assert_string_equal(str_of(v[0], "reason"), "first start");
	static const char *const dk[] = {"time", "outcome", "spool", "path", "size", "session",
					 "object", "content_hash", "symbol_size", "block_max",
					 "seq", "prev", NULL};
	check_keys(v[1], dk);
	assert_int_equal(u64_of(v[1], "symbol_size"), 1408);
	assert_int_equal(u64_of(v[1], "block_max"), 128);
	free_lines(v, n);

	/* the head file names the last line */
	char *last = last_line(log_path);
	uint8_t h[AUDIT_HASH_LEN];
	char hex[2 * AUDIT_HASH_LEN + 1], want[128];
	audit_line_hash(last, strlen(last), h);
	hex_of(h, hex);
	snprintf(want, sizeof(want), "%020d %s\n", 3, hex);
	assert_true(smallfile_read(head, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);

	/* a crash left the head two lines behind the log: the start takes up the log's lines
	 * that chain on from the head, and chains on from the last */
	size_t nraw;
	char **raw = raw_lines(log_path, &nraw);
	audit_line_hash(raw[0], strlen(raw[0]), h);
	hex_of(h, hex);
	free_raw(raw);
	snprintf(want, sizeof(want), "1 %s\n", hex);
	assert_int_equal(smallfile_write(head, want, strlen(want), 0640), 0);
	/* a restart chains on: a start line with seq 4 whose prev is the last line's hash */
	assert_int_equal(audit_open(&a, log_path), 0);
	assert_int_equal(audit_chain_start(a, head, "second start"), 0);
	assert_int_equal(audit_write(a, &d), 0);
	/* a reopened file (logrotate) goes on with the chain */
	int fd = audit_open_fd(second);
	assert_true(fd >= 0);
	assert_int_equal(audit_reopen(a, fd), 0);
	assert_int_equal(audit_write(a, &d), 0);
	audit_close(a);
	assert_int_equal(check_chain(log_path, 1, NULL), 5);
	free(last);
	last = last_line(log_path);
	assert_int_equal(check_chain(second, 6, last), 1);
	free(last);

	/* a malformed head: a new chain, said in the start line */
	assert_int_equal(smallfile_write(head, "x\n", 2, 0640), 0);
	assert_int_equal(audit_open(&a, second), 0);
	assert_int_equal(audit_chain_start(a, head, "third start"), 0);
	audit_close(a);
	last = last_line(second);
	assert_non_null(strstr(last, "\"reason\":\"third start; chain head malformed, new chain\""));
	assert_non_null(strstr(last, "\"seq\":1,\"prev\":\"0000000000000000"));
	free(last);

	/* a head that cannot be opened (its folder is missing) is no silent new chain either */
	snprintf(head, sizeof(head), "%s/gone/audit-head", top);
	assert_int_equal(audit_open(&a, second), 0);
	assert_int_equal(audit_chain_start(a, head, "fourth start"), 0);
	audit_close(a);
	last = last_line(second);
	assert_non_null(strstr(last, "\"reason\":\"fourth start; chain head No such file or directory, "
				     "new chain\""));
	free(last);
}

/* ---- concurrency ---- */

#define THREADS 4
#define PER_THREAD 3000

struct writer {
	struct audit *a;
	unsigned id;
	int failures;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	static char long_name[THREADS][6000];
	char *name = long_name[w->id];
	for (unsigned i = 0; i < PER_THREAD; i++) {
		/* lengths from a few bytes to past a page, so lines cross PIPE_BUF */
		size_t len = 1 + (i * 37u + w->id * 11u) % (sizeof(long_name[0]) - 1);
		memset(name, 'a' + (char)w->id, len);
		name[len] = '\0';
		struct audit_record r = {.outcome = AUDIT_DELIVERED, .spool = "t", .path = name,
					 .size = len, .session = w->id, .object_id = i,
					 .hash = hash};
		if (audit_write(w->a, &r) != 0)
			w->failures++;
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct audit *a;
	char p[160];
	snprintf(p, sizeof(p), "%s/concurrent.jsonl", top);
	assert_int_equal(audit_open(&a, p), 0);
	pthread_t th[THREADS];
	struct writer w[THREADS];
	for (unsigned t = 0; t < THREADS; t++) {
		w[t] = (struct writer){.a = a, .id = t};
		assert_int_equal(pthread_create(&th[t], NULL, writer_main, &w[t]), 0);
	}
	for (unsigned t = 0; t < THREADS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(w[t].failures, 0);
	}
	audit_close(a);

	size_t n;
	json_t **v = read_lines(p, &n);
	assert_int_equal(n, THREADS * PER_THREAD);
	static bool seen[THREADS][PER_THREAD];
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < n; i++) {
		uint64_t t = strtoull(str_of(v[i], "session"), NULL, 16);
		uint64_t obj = u64_of(v[i], "object");
		assert_true(t < THREADS && obj < PER_THREAD);
		assert_false(seen[t][obj]);
		seen[t][obj] = true;
		/* the path is whole and belongs to its own record */
		const char *path = str_of(v[i], "path");
		assert_int_equal(strlen(path), u64_of(v[i], "size"));
		assert_true(strspn(path, (char[]){(char)('a' + t), 0}) == strlen(path));
		assert_string_equal(str_of(v[i], "content_hash"), hash_hex_want);
	}
	free_lines(v, n);
	check_chain(p, 1, NULL);
}

/* ---- lines that cannot be written ---- */

static uint64_t rxm(enum rx_metric m) { return metric_get(&rx_metrics[m]); }

/* The "path" of each line of path, in order ("-" for a line without one, e.g. start). */
static void check_paths(const char *path, const char *const *want)
{
	size_t n;
	json_t **v = read_lines(path, &n);
	size_t i = 0;
	for (; i < n && want[i]; i++) {
		const char *p = str_of(v[i], "path");
		assert_string_equal(p ? p : "-", want[i]);
	}
	assert_int_equal(i, n);
	assert_null(want[i]);
	free_lines(v, n);
}

static void redirect(struct audit *a, const char *path)
{
	int fd = path ? audit_open_fd(path) : open("/dev/full", O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(audit_reopen(a, fd), 0);
}

static void test_backlog(void **state)
{
	char head[160], buf[256];
	snprintf(head, sizeof(head), "%s/audit-head", top);
	struct audit *a;
	assert_int_equal(audit_open(&a, log_path), 0);
	assert_int_equal(audit_chain_start(a, head, "start"), 0);
	struct audit_record d = {.outcome = AUDIT_LOST, .spool = "cam", .path = "b0",
				 .reason = "disk_full: writing: No space left on device"};
	assert_int_equal(audit_write(a, &d), 0);
	uint64_t errs = rxm(RXM_AUDIT_WRITE_ERRORS);

	/* the filesystem is full: each line is kept, in order, and counted */
	redirect(a, NULL);
	static const char *const names[] = {"b1", "b2", "b3"};
	for (size_t i = 0; i < 3; i++) {
		d.path = names[i];
		assert_int_equal(audit_write(a, &d), -ENOSPC);
		assert_int_equal(audit_backlog(a), i + 1);
		assert_int_equal(rxm(RXM_AUDIT_BACKLOG), i + 1);
	}
	assert_true(rxm(RXM_AUDIT_WRITE_ERRORS) >= errs + 3);
	/* the periodic retry fails too, and keeps them */
	assert_int_equal(audit_flush(a), -ENOSPC);
	assert_int_equal(audit_backlog(a), 3);
	static const char *const before[] = {"-", "b0", NULL};
	check_paths(log_path, before);

	/* space again: the retry writes them, in order, before anything newer */
	redirect(a, log_path);
	assert_int_equal(audit_flush(a), 0);
	assert_int_equal(audit_backlog(a), 0);
	assert_int_equal(rxm(RXM_AUDIT_BACKLOG), 0);
	d.path = "b4";
	assert_int_equal(audit_write(a, &d), 0);
	audit_close(a);
	static const char *const after[] = {"-", "b0", "b1", "b2", "b3", "b4", NULL};
	check_paths(log_path, after);
	assert_int_equal(check_chain(log_path, 1, NULL), 6);
	/* the head names the last line written, so the next start chains on */
	char *last = last_line(log_path), hex[2 * AUDIT_HASH_LEN + 1], want[128];
	uint8_t h[AUDIT_HASH_LEN];
	audit_line_hash(last, strlen(last), h);
	hex_of(h, hex);
	snprintf(want, sizeof(want), "%020d %s\n", 6, hex);
	assert_true(smallfile_read(head, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
	free(last);

	/* a line that waits is written by the next audit_write too, before that one's line */
	assert_int_equal(audit_open(&a, log_path), 0);
	assert_int_equal(audit_chain_start(a, head, "again"), 0);
	redirect(a, NULL);
	d.path = "c1";
	assert_int_equal(audit_write(a, &d), -ENOSPC);
	redirect(a, log_path);
	d.path = "c2";
	assert_int_equal(audit_write(a, &d), 0);
	audit_close(a);
	static const char *const more[] = {"-", "b0", "b1", "b2", "b3", "b4", "-", "c1", "c2", NULL};
	check_paths(log_path, more);
	assert_int_equal(check_chain(log_path, 1, NULL), 9);

	/* a line still waiting when the writer stops is lost: the head names it, so the next
	 * start line's seq shows the hole (verify-audit names it) instead of hiding it */
	assert_int_equal(audit_open(&a, log_path), 0);
	assert_int_equal(audit_chain_start(a, head, "third"), 0);
	redirect(a, NULL);
	d.path = "c3";
	assert_int_equal(audit_write(a, &d), -ENOSPC);
	uint64_t dropped = rxm(RXM_AUDIT_DROPPED);
	char errlog[160];
	snprintf(errlog, sizeof(errlog), "%s/stderr", top);
	int saved = dup(2), efd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(saved >= 0 && efd >= 0);
	assert_int_equal(dup2(efd, 2), 2);
	audit_close(a); /* seq 11 never written */
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(efd);
	assert_int_equal(rxm(RXM_AUDIT_BACKLOG), 0);
	/* counted, and what the line said is in the log */
	assert_int_equal(rxm(RXM_AUDIT_DROPPED), dropped + 1);
	size_t nerr;
	char **err = raw_lines(errlog, &nerr);
	int found = 0;
	for (size_t i = 0; i < nerr; i++)
		found += strstr(err[i], "audit line not written: {") &&
			 strstr(err[i], "\"outcome\":\"lost\"") && strstr(err[i], "\"path\":\"c3\"");
	assert_int_equal(found, 1);
	free_raw(err);
	assert_int_equal(audit_open(&a, log_path), 0);
	assert_int_equal(audit_chain_start(a, head, "fourth"), 0);
	audit_close(a);
	last = last_line(log_path);
	assert_non_null(strstr(last, "\"reason\":\"fourth\",\"seq\":12,"));
	free(last);
	size_t n;
	free_raw(raw_lines(log_path, &n));
	assert_int_equal(n, 11); /* seq 1..10, then 12 */
}

static void test_backlog_bound(void **state)
{
	struct audit *a;
	assert_int_equal(audit_open(&a, log_path), 0);
	struct audit_record d = {.outcome = AUDIT_LOST, .spool = "cam", .path = "d0",
				 .reason = "disk_full"};
	assert_int_equal(audit_write(a, &d), 0);
	struct stat st;
	assert_int_equal(stat(log_path, &st), 0);
	size_t line = (size_t)st.st_size; /* every line here is about as long */
	audit_set_backlog_max(a, 2 * line + line / 2);
	uint64_t dropped = rxm(RXM_AUDIT_DROPPED);

	redirect(a, NULL);
	static const char *const names[] = {"d1", "d2", "d3", "d4"};
	for (size_t i = 0; i < 4; i++) {
		d.path = names[i];
		assert_int_equal(audit_write(a, &d), i < 2 ? -ENOSPC : -ENOBUFS);
	}
	assert_int_equal(audit_backlog(a), 3); /* two lines and the note of the drops */
	assert_int_equal(rxm(RXM_AUDIT_BACKLOG), 2);
	assert_int_equal(rxm(RXM_AUDIT_DROPPED), dropped + 2);

	redirect(a, log_path);
	d.path = "d5";
	assert_int_equal(audit_write(a, &d), 0);
	audit_close(a);
	/* the kept lines, then a line that says two were dropped, then the new one: the chain
	 * is intact and the hole is written in it */
	static const char *const want[] = {"d0", "d1", "d2", "-", "d5", NULL};
	check_paths(log_path, want);
	assert_int_equal(check_chain(log_path, 1, NULL), 5);
	size_t n;
	json_t **v = read_lines(log_path, &n);
	assert_string_equal(str_of(v[3], "outcome"), "start");
	assert_string_equal(str_of(v[3], "reason"), "audit_lines_dropped 2");
	free_lines(v, n);
}

/* A write cut short (the file size limit here; a full disk the same): the torn part is cut
 * back, so the file holds whole lines only, and the line is written whole later. */
static void test_backlog_short_write(void **state)
{
	struct audit *a;
	assert_int_equal(audit_open(&a, log_path), 0);
	struct audit_record d = {.outcome = AUDIT_LOST, .spool = "cam", .path = "e0",
				 .reason = "disk_full"};
	assert_int_equal(audit_write(a, &d), 0);
	struct stat st;
	assert_int_equal(stat(log_path, &st), 0);
	off_t size = st.st_size;

	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 40;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	d.path = "e1";
	int rc = audit_write(a, &d);
	assert_true(rc == -EIO || rc == -EFBIG);
	assert_int_equal(audit_backlog(a), 1);
	assert_int_equal(stat(log_path, &st), 0);
	assert_int_equal(st.st_size, size); /* nothing torn left behind */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	assert_int_equal(audit_flush(a), 0);
	d.path = "e2";
	assert_int_equal(audit_write(a, &d), 0);
	audit_close(a);
	static const char *const want[] = {"e0", "e1", "e2", NULL};
	check_paths(log_path, want);
	assert_int_equal(check_chain(log_path, 1, NULL), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_event_records, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_noop, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_chain, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_backlog, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_backlog_bound, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_backlog_short_write, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
