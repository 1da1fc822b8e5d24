/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/log.{h,c}: log.format json gives one JSON object per line (time, level, process, msg)
 * that jansson parses, whatever bytes the message holds; a rate-limited line carries the count
 * of lines suppressed before it; a keyed limiter keeps one key's flood from hiding another's
 * line, with a bounded number of keys per call site; with JOURNAL_STREAM naming stderr, lines carry an
 * sd-daemon priority prefix and no timestamp; a level set in one process after
 * log_share_level reaches a process forked before the change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static int cap_fd = -1, saved_fd = -1;
static char cap_path[64];

/* stderr goes to a fresh file until captured() */
static void capture(void)
{
	strcpy(cap_path, "/tmp/sluice-test-log-XXXXXX");
	cap_fd = mkstemp(cap_path);
	assert_true(cap_fd >= 0);
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	assert_true(saved_fd >= 0);
	assert_int_equal(dup2(cap_fd, STDERR_FILENO), STDERR_FILENO);
}

/* What was written since capture(), NUL-terminated (free it). */
static char *captured(void)
{
	fflush(stderr);
	assert_int_equal(dup2(saved_fd, STDERR_FILENO), STDERR_FILENO);
	close(saved_fd);
	static char buf[65536];
	ssize_t n = pread(cap_fd, buf, sizeof(buf) - 1, 0);
	close(cap_fd);
	unlink(cap_path);
	assert_true(n >= 0);
	buf[n] = '\0';
	return strdup(buf);
}

static int reset(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_TEXT);
	log_set_level(LOG_INFO);
	log_set_name("sluice-test");
	unsetenv("JOURNAL_STREAM");
	log_detect_journal();
	return 0;
}

/* Parses one line (no newline inside) as a JSON object with exactly the four keys, and checks
 * level and process; returns msg (owned by *o). */
static const char *parse_line(const char *line, size_t len, const char *level, json_t **o)
{
	json_error_t e;
	*o = json_loadb(line, len, 0, &e);
	if (!*o)
		fail_msg("not JSON (%s): %.*s", e.text, (int)len, line);
	assert_true(json_is_object(*o));
	assert_int_equal(json_object_size(*o), 4);
	const char *t = json_string_value(json_object_get(*o, "time"));
	assert_non_null(t);
	/* 2026-01-02T03:04:05.678Z */
	assert_int_equal(strlen(t), 24);
	assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
	assert_string_equal(json_string_value(json_object_get(*o, "level")), level);
	assert_string_equal(json_string_value(json_object_get(*o, "process")), "sluice-rx deliver");
	const char *msg = json_string_value(json_object_get(*o, "msg"));
	assert_non_null(msg);
	return msg;
}

static void test_json_lines(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	log_set_name("sluice-rx deliver");
	capture();
	log_info("delivered %s (%d bytes)", "cam/a.ts", 17);
	log_debug("not at info");
	log_error("cannot write: %s", "No space left on device");
	char *out = captured();
	char *nl = strchr(out, '\n');
	assert_non_null(nl);
	json_t *o;
	assert_string_equal(parse_line(out, (size_t)(nl - out), "info", &o), "delivered cam/a.ts (17 bytes)");
	json_decref(o);
	char *second = nl + 1, *nl2 = strchr(second, '\n');
	assert_non_null(nl2);
	assert_string_equal(parse_line(second, (size_t)(nl2 - second), "error", &o),
			    "cannot write: No space left on device");
	json_decref(o);
	assert_string_equal(nl2 + 1, ""); /* two lines, the debug one left out */
	free(out);
}

/* Quotes, backslashes, line ends, control bytes, DEL, bytes that are not UTF-8: still one line
 * of valid JSON, which decodes to the message (a bad byte as U+FFFD). */
static void test_json_hostile(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	log_set_name("sluice-rx deliver");
	capture();
	log_warn("q\"b\\s/n\nr\rt\t\x01\x1f\x7f caf\xc3\xa9 bad\xff\xc0\xaf end");
	char *out = captured();
	size_t len = strlen(out);
	assert_true(len > 0 && out[len - 1] == '\n');
	assert_ptr_equal(strchr(out, '\n'), out + len - 1);
	for (size_t i = 0; i + 1 < len; i++) /* printable ASCII: nothing hides in a terminal */
		assert_true((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] < 0x7f);
	json_t *o;
	const char *msg = parse_line(out, len - 1, "warn", &o);
	assert_string_equal(msg, "q\"b\\s/n\nr\rt\t\x01\x1f\x7f caf\xc3\xa9 bad\xef\xbf\xbd\xef\xbf\xbd"
				 "\xef\xbf\xbd end");
	json_decref(o);
	free(out);
}

static void repeat_error(int i) { log_rl(LOG_ERROR, "socket error %d", i); }

/* The count of suppressed lines ends the next line let through, in JSON too. */
static void test_json_ratelimit(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	log_set_name("sluice-rx deliver");
	capture();
	uint64_t s = mono_ns() / 1000000000ull;
	while (mono_ns() / 1000000000ull == s) /* at the start of a second: three calls in it */
		;
	for (int i = 0; i < 3; i++)
		repeat_error(i);
	struct timespec ts = {1, 100000000};
	nanosleep(&ts, NULL);
	repeat_error(3);
	char *out = captured();
	const char *want[] = {"socket error 0", "socket error 3 (2 similar lines suppressed)"};
	char *p = out;
	for (size_t i = 0; i < 2; i++) {
		char *nl = strchr(p, '\n');
		assert_non_null(nl);
		json_t *o;
		assert_string_equal(parse_line(p, (size_t)(nl - p), "error", &o), want[i]);
		json_decref(o);
		p = nl + 1;
	}
	assert_string_equal(p, "");
	free(out);
}

static void keyed(const char *key, int i) { log_rlk(LOG_WARN, key, "%s %d", key, i); }

/* The lines of out without their "time name level: " prefix, joined by '|'. */
static void messages(const char *out, char *buf, size_t cap)
{
	size_t o = 0;
	for (const char *p = out; *p;) {
		const char *nl = strchr(p, '\n'), *m = strstr(p, "warn: ");
		assert_non_null(nl);
		assert_true(m && m < nl);
		m += 6;
		o += (size_t)snprintf(buf + o, cap - o, "%s%.*s", o ? "|" : "", (int)(nl - m), m);
		assert_true(o < cap);
		p = nl + 1;
	}
}

/* One key's flood does not hide another key's line from the same call site; each key has its
 * own count. Past LOG_RL_KEYS keys, the rest share one limiter: still bounded. */
static void test_keyed(void **state)
{
	(void)state;
	log_set_name("sluice-tx");
	capture();
	uint64_t s = mono_ns() / 1000000000ull;
	while (mono_ns() / 1000000000ull == s)
		;
	for (int i = 0; i < 50; i++)
		keyed("a", i);
	keyed("b", 0);
	keyed("b", 1);
	char many[LOG_RL_KEYS * 2][8];
	for (int i = 0; i < LOG_RL_KEYS * 2; i++) {
		snprintf(many[i], sizeof(many[i]), "k%d", i);
		keyed(many[i], i);
	}
	struct timespec ts = {1, 100000000};
	nanosleep(&ts, NULL);
	keyed("a", 50);
	keyed("b", 2);
	char *out = captured();
	char got[4096], want[4096];
	messages(out, got, sizeof(got));
	/* a, b and LOG_RL_KEYS - 2 of the k keys have a limiter each; the others share the last. */
	size_t o = (size_t)snprintf(want, sizeof(want), "a 0|b 0");
	for (int i = 0; i < LOG_RL_KEYS - 2; i++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, "|k%d %d", i, i);
	snprintf(want + o, sizeof(want) - o,
		 "|a 50 (49 similar lines suppressed)|b 2 (1 similar lines suppressed)");
	assert_string_equal(got, want);
	free(out);
}

/* JOURNAL_STREAM naming stderr: "<N>" as sd-daemon(3) has it, and no timestamp (the journal
 * has its own); naming another file: plain lines. */
static void test_journal(void **state)
{
	(void)state;
	capture();
	struct stat st;
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	char js[64];
	snprintf(js, sizeof(js), "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	assert_false(log_detect_journal());
	snprintf(js, sizeof(js), "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	assert_true(log_detect_journal());
	log_set_name("sluice-rx");
	log_error("link down");
	log_warn("w");
	log_info("listening");
	log_debug("d");
	log_set_level(LOG_DEBUG);
	log_debug("d");
	log_set_format(LOG_FORMAT_JSON);
	log_info("j");
	char *out = captured();
	unsetenv("JOURNAL_STREAM");
	assert_false(log_detect_journal());
	const char *text = "<3>sluice-rx error: link down\n"
			   "<4>sluice-rx warn: w\n"
			   "<6>sluice-rx info: listening\n"
			   "<7>sluice-rx debug: d\n";
	assert_memory_equal(out, text, strlen(text));
	/* JSON keeps its time field (a shipper's schema does not change), after the prefix */
	char *j = out + strlen(text);
	assert_memory_equal(j, "<6>{", 4);
	json_t *o = json_loads(j + 3, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "j");
	assert_string_equal(json_string_value(json_object_get(o, "process")), "sluice-rx");
	json_decref(o);
	free(out);
}

/* A level set in one process reaches a process forked earlier, as the monitor's SIGHUP
 * reaches the link and deliver processes. */
static void test_shared_level(void **state)
{
	(void)state;
	assert_int_equal(log_share_level(), 0);
	log_set_level(LOG_INFO);
	int go[2], done[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	capture();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;
		log_debug("child before");
		if (write(done[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		log_debug("child after");
		_exit(log_get_level() == LOG_DEBUG ? 0 : 1);
	}
	char c;
	assert_int_equal(read(done[0], &c, 1), 1);
	log_set_level(LOG_DEBUG);
	assert_int_equal(write(go[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	char *out = captured();
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_null(strstr(out, "child before"));
	assert_non_null(strstr(out, "sluice-test debug: child after\n"));
	free(out);
	close(go[0]), close(go[1]), close(done[0]), close(done[1]);
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_json_lines, reset),
		cmocka_unit_test_setup(test_json_hostile, reset),
		cmocka_unit_test_setup(test_json_ratelimit, reset),
		cmocka_unit_test_setup(test_keyed, reset),
		cmocka_unit_test_setup(test_journal, reset),
		cmocka_unit_test_setup(test_shared_level, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
