/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/journal.{h,c}: what a send records (wall-clock time and inode, for keep_for) survives a
 * reopen and a compaction; lines of the older format (no at=, ino=) still load, with both
 * unknown; the same file recorded again keeps the newest line; a damaged line is skipped, and
 * so is a line whose key is 0 (no file has it: it marks an empty slot of the table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "tx/journal.h"

static char dir[] = "/tmp/sluice-test-journal.XXXXXX";

static void write_journal(const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/journal", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_journal(void)
{
	static char buf[4096];
	char p[256];
	snprintf(p, sizeof(p), "%s/journal", dir);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct journal_prev prev;

static bool all_there(void *ctx, const char *spool, const char *rel, uint64_t size, uint64_t mtime)
{
	return true;
}

static void test_record_reopen_compact(void **state)
{
	struct journal *j;
	uint64_t counter;
	write_journal("");
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	uint64_t k = journal_key("cam", "a/b.bin", 100, 123456789);
	struct journal_sent js = {.sent_ns = 1795000000123456789ull, .ino = 4242, .session = 0xab,
				  .object = 9}, got;
	assert_false(journal_lookup(j, k, &got));
	assert_int_equal(journal_record(j, k, "cam", "a/b.bin", 100, 123456789, &js), 0);
	/* Sent again (content changed and back): the newest time counts. */
	js.sent_ns += 5;
	js.ino = 4343;
	assert_int_equal(journal_record(j, k, "cam", "a/b.bin", 100, 123456789, &js), 0);
	journal_close(j);
	assert_non_null(strstr(read_journal(), "at=1795000000123456794 ino=4343 sess=00000000000000ab obj=9 cam/a/b.bin\n"));

	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_true(journal_lookup(j, k, &got));
	assert_int_equal(got.sent_ns, 1795000000123456794ull);
	assert_int_equal(got.ino, 4343);
	assert_int_equal(journal_compact(j, all_there, NULL), 0);
	assert_true(journal_lookup(j, k, &got));
	assert_int_equal(got.sent_ns, 1795000000123456794ull);
	assert_int_equal(got.ino, 4343);
	journal_close(j);
	char *text = read_journal();
	assert_non_null(strstr(text, "at=1795000000123456794 ino=4343 sess=00000000000000ab obj=9 cam/a/b.bin\n"));
	assert_null(strstr(text, "ino=4242")); /* one line per file after compaction */
}

static bool only_new(void *ctx, const char *spool, const char *rel, uint64_t size, uint64_t mtime)
{
	return strcmp(rel, "new file.bin") == 0 && size == 7 && mtime == 8;
}

static void test_old_format_and_damage(void **state)
{
	uint64_t kold = journal_key("cam", "old.bin", 5, 6), knew = journal_key("cam", "new file.bin", 7, 8);
	char text[512];
	snprintf(text, sizeof(text),
		 "sent %016llx 5 6 cam/old.bin\n"
		 "sent zzzz\n"
		 "sent %016llx 7 8 at=99 ino=3 cam/new file.bin\n"
		 "sent %016llx 7 8 at=9",
		 (unsigned long long)kold, (unsigned long long)knew, (unsigned long long)knew);
	write_journal(text);
	struct journal *j;
	uint64_t counter;
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	struct journal_sent got = {.sent_ns = 1, .ino = 1};
	assert_true(journal_lookup(j, kold, &got));
	assert_int_equal(got.sent_ns, 0); /* unknown: deleted at once under after: delete */
	assert_int_equal(got.ino, 0);
	assert_true(journal_contains(j, knew));
	assert_true(journal_lookup(j, knew, &got));
	assert_int_equal(got.sent_ns, 99); /* the torn last line did not replace it */
	assert_int_equal(got.ino, 3);
	journal_close(j);
	/* Compaction parses both formats: only the entry still "in its spool" stays. */
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_int_equal(journal_compact(j, only_new, NULL), 0);
	assert_false(journal_contains(j, kold));
	assert_true(journal_contains(j, knew));
	journal_close(j);
}

/* While running: the journal wants compacting once it has grown past the bound and past its
 * size at the last compaction, and compaction drops entries recorded in this run whose file
 * has gone from the spool (sent and deleted): the journal stays in proportion to the spool. */
static void test_compact_while_running(void **state)
{
	(void)state;
	struct journal *j;
	uint64_t counter;
	write_journal("");
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_int_equal(journal_compact(j, only_new, NULL), 0);
	assert_false(journal_wants_compact(j, 1000));
	char rel[32];
	for (int i = 0; i < 40; i++) {
		snprintf(rel, sizeof(rel), "gone-%02d.ts", i);
		struct journal_sent js = {.sent_ns = 1, .ino = 7, .session = 1, .object = (uint64_t)i + 1};
		assert_int_equal(journal_record(j, journal_key("cam", rel, 5, 6), "cam", rel, 5, 6, &js), 0);
	}
	struct journal_sent js = {.sent_ns = 1, .ino = 8, .session = 1, .object = 41};
	uint64_t knew = journal_key("cam", "new file.bin", 7, 8);
	assert_int_equal(journal_record(j, knew, "cam", "new file.bin", 7, 8, &js), 0);
	assert_true(journal_wants_compact(j, 1000)); /* 41 lines, over 1,000 bytes */
	assert_int_equal(journal_compact(j, only_new, NULL), 0);
	assert_false(journal_wants_compact(j, 1000));
	assert_false(journal_contains(j, journal_key("cam", "gone-00.ts", 5, 6)));
	assert_true(journal_contains(j, knew));
	journal_close(j);
	char *text = read_journal();
	assert_null(strstr(text, "gone-"));
	assert_non_null(strstr(text, "cam/new file.bin\n"));
}

/* A record whose write the disk cuts short (here RLIMIT_FSIZE: EFBIG after a part) fails, and
 * its part is cut back: the next record is a line of its own and loads after a restart. */
static void test_record_cut_short(void **state)
{
	(void)state;
	struct journal *j;
	uint64_t counter;
	write_journal("");
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	struct journal_sent js = {.sent_ns = 1, .ino = 5, .session = 1, .object = 1};
	uint64_t ka = journal_key("cam", "a.ts", 1, 2), kb = journal_key("cam", "b.ts", 1, 2),
		 kc = journal_key("cam", "c.ts", 1, 2);
	assert_int_equal(journal_record(j, ka, "cam", "a.ts", 1, 2, &js), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/journal", dir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 20;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_not_equal(journal_record(j, kb, "cam", "b.ts", 1, 2, &js), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	struct stat st2;
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size); /* the part cut back */
	assert_int_equal(journal_record(j, kc, "cam", "c.ts", 1, 2, &js), 0);
	journal_close(j);
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_true(journal_contains(j, ka));
	assert_true(journal_contains(j, kc));
	journal_close(j);
}

struct each_seen {
	unsigned n;
	char text[1024];
};

static void collect_line(void *ctx, const struct journal_line *l)
{
	struct each_seen *e = ctx;
	size_t at = strlen(e->text);
	snprintf(e->text + at, sizeof(e->text) - at, "%s|%s|%llu|%llx|%llu;", l->spool, l->relpath,
		 (unsigned long long)l->size, (unsigned long long)l->sent.session,
		 (unsigned long long)l->sent.object);
	e->n++;
}

/* journal_each reads all three line formats, the session and object id of the newest, skips
 * damage and a torn last line, and draws no session (STATE/session untouched). A recorded
 * line carries the session and object id it was sent as. */
static void test_each_and_ids(void **state)
{
	(void)state;
	uint64_t k = journal_key("cam", "x.bin", 7, 8);
	char text[512];
	snprintf(text, sizeof(text),
		 "sent %016llx 5 6 cam/old.bin\n"
		 "sent %016llx 7 8 at=99 ino=3 cam/mid file.bin\n"
		 "sent zzzz\n"
		 "sent %016llx 7 8 at=99 ino=3 sess=00000000000000ab obj=12 cam/sub/new.bin\n"
		 "sent %016llx 7 8 at=99 ino=3 sess=zz obj=12 cam/bad.bin\n"
		 "sent %016llx 7 8 at=9",
		 (unsigned long long)k, (unsigned long long)k, (unsigned long long)k,
		 (unsigned long long)k, (unsigned long long)k);
	write_journal(text);
	struct each_seen seen = {0};
	assert_int_equal(journal_each(dir, collect_line, &seen), 0);
	assert_string_equal(seen.text, "cam|old.bin|5|0|0;cam|mid file.bin|7|0|0;cam|sub/new.bin|7|ab|12;");
	char p[300];
	snprintf(p, sizeof(p), "%s/session", dir);
	unlink(p);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(journal_each(dir, collect_line, &seen), 0);
	assert_int_equal(access(p, F_OK), -1);

	struct journal *j;
	uint64_t counter;
	write_journal("");
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	struct journal_sent js = {.sent_ns = 5, .ino = 6, .session = 0xfeedull, .object = 42};
	uint64_t k2 = journal_key("cam", "y.bin", 1, 2);
	assert_int_equal(journal_record(j, k2, "cam", "y.bin", 1, 2, &js), 0);
	journal_close(j);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(journal_each(dir, collect_line, &seen), 0);
	assert_string_equal(seen.text, "cam|y.bin|1|feed|42;");
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0); /* and it loads */
	struct journal_sent got;
	assert_true(journal_lookup(j, k2, &got));
	assert_int_equal(got.session, 0xfeed);
	assert_int_equal(got.object, 42);
	journal_close(j);
}

/* Found by fuzz_journal: "sent0 1 2" loaded as key 0, the table's empty-slot mark, so the
 * entry was invisible, its line leaked at compaction and a later entry overwrote it. */
static void test_key_zero_is_damaged(void **state)
{
	uint64_t k = journal_key("cam", "a.bin", 1, 2);
	char text[512];
	snprintf(text, sizeof(text),
		 "sent0 1 2\n"
		 "sent 0000000000000000 1 2 at=3 ino=4 cam/zero.bin\n"
		 "sent %016llx 1 2 at=3 ino=4 cam/a.bin\n",
		 (unsigned long long)k);
	write_journal(text);
	char errpath[300];
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	log_set_level(LOG_WARN);
	struct journal *j;
	uint64_t counter;
	int rc = journal_open(&j, dir, &counter, &prev);
	log_set_level(LOG_ERROR);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc, 0);
	char warned[1024] = "";
	FILE *f = fopen(errpath, "r");
	assert_non_null(f);
	size_t n = fread(warned, 1, sizeof(warned) - 1, f);
	warned[n] = '\0';
	fclose(f);
	assert_non_null(strstr(warned, "journal:1: ignoring a damaged journal line"));
	assert_non_null(strstr(warned, "journal:2: ignoring a damaged journal line"));
	assert_null(strstr(warned, "journal:3:"));
	assert_false(journal_contains(j, 0));
	assert_true(journal_contains(j, k));
	assert_int_equal(journal_compact(j, all_there, NULL), 0);
	journal_close(j);
	char *after = read_journal();
	assert_null(strstr(after, "zero.bin"));
	assert_non_null(strstr(after, "cam/a.bin\n"));
}

static int setup(void **state)
{
	log_set_level(LOG_ERROR); /* the damaged lines are warned about, as expected */
	return mkdtemp(dir) ? 0 : -1;
}

/* STATE/session carries the previous session and, after a clean stop only, where it ended. */
static void test_previous_session(void **state)
{
	struct journal *j;
	uint64_t counter, c1;
	assert_int_equal(journal_open(&j, dir, &c1, &prev), 0);
	assert_int_equal(journal_session_start(j, 0x1122334455667788ull), 0);
	assert_int_equal(journal_session_end(j, 0x1122334455667788ull, 17), 0);
	journal_close(j);
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_true(counter > c1);
	assert_int_equal(prev.session, 0x1122334455667788ull);
	assert_int_equal(prev.done_id, 17);
	assert_int_equal(journal_session_start(j, 0xaabbccdd00000001ull), 0);
	journal_close(j); /* no end: as after a crash */
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_int_equal(prev.session, 0xaabbccdd00000001ull);
	assert_int_equal(prev.done_id, 0);
	journal_close(j);
	/* opened and never started a session: the one before is still the previous one */
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	journal_close(j);
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_int_equal(prev.session, 0xaabbccdd00000001ull);
	assert_int_equal(prev.done_id, 0);
	journal_close(j);
}

static char *read_state(const char *name, char *buf, size_t cap)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A compaction or a STATE/session write that fails (a file size limit here, as a full disk
 * would) leaves both files as they were and no temp name beside them; the journal goes on. */
static void test_failed_writes_keep_old(void **state)
{
	struct journal *j;
	uint64_t counter;
	write_journal("");
	assert_int_equal(journal_open(&j, dir, &counter, &prev), 0);
	assert_int_equal(journal_session_start(j, 0x1234), 0);
	struct journal_sent js = {.sent_ns = 1795000000000000000ull, .ino = 1};
	for (int i = 0; i < 3; i++) /* the same file three times: compaction has work to do */
		assert_int_equal(journal_record(j, journal_key("cam", "f.bin", 10, 20), "cam", "f.bin",
						10, 20, &js), 0);
	char jbefore[4096], sbefore[256], buf[4096];
	snprintf(jbefore, sizeof(jbefore), "%s", read_journal());
	read_state("session", sbefore, sizeof(sbefore));
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = (struct rlimit){.rlim_cur = 8, .rlim_max = old.rlim_max};
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc_compact = journal_compact(j, all_there, NULL);
	int rc_end = journal_session_end(j, 0x1234, 9);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);
	assert_int_equal(rc_compact, -EFBIG);
	assert_int_equal(rc_end, -EFBIG);
	assert_string_equal(read_journal(), jbefore);
	assert_string_equal(read_state("session", buf, sizeof(buf)), sbefore);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "journal") &&
		    strcmp(e->d_name, "session") && strcmp(e->d_name, "stderr")) /* test_key_zero_is_damaged's */
			fail_msg("left in the state folder: %s", e->d_name);
	closedir(d);
	assert_int_equal(journal_compact(j, all_there, NULL), 0);
	assert_int_equal(journal_record(j, journal_key("cam", "g.bin", 1, 2), "cam", "g.bin", 1, 2, &js), 0);
	journal_close(j);
	char *text = read_journal();
	assert_non_null(strstr(text, " cam/f.bin\n"));
	assert_null(strstr(strstr(text, " cam/f.bin\n") + 1, " cam/f.bin\n")); /* compacted */
	assert_non_null(strstr(text, " cam/g.bin\n"));
}

/* Runs journal_open with warnings going to a file; what was warned lands in warned. */
static int open_warned(struct journal **j, char *warned, size_t cap)
{
	char errpath[300];
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	log_set_level(LOG_WARN);
	uint64_t counter;
	int rc = journal_open(j, dir, &counter, &prev);
	log_set_level(LOG_ERROR);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	read_state("stderr", warned, cap);
	return rc;
}

/* A power loss during journal_record leaves a last line without its LF. The next start cuts
 * it off before appending: otherwise the next record is glued onto the fragment, and at the
 * start after that the merged line is damaged or loads as the fragment's key (the new entry
 * lost: that file is sent again, and resend calls it unknown). */
static void test_torn_tail_cut(void **state)
{
	uint64_t ka = journal_key("cam", "a.bin", 1, 2), kf = journal_key("cam", "frag.bin", 5, 7),
		 kx = journal_key("cam", "x.bin", 3, 4);
	char good[256], frag[64], text[512];
	snprintf(good, sizeof(good), "sent %016llx 1 2 at=3 ino=4 sess=00000000000000ab obj=1 cam/a.bin\n",
		 (unsigned long long)ka);
	snprintf(frag, sizeof(frag), "sent %016llx 5 7", (unsigned long long)kf); /* 25 bytes */
	snprintf(text, sizeof(text), "%s%s", good, frag);
	write_journal(text);
	struct journal *j;
	char warned[1024];
	assert_int_equal(open_warned(&j, warned, sizeof(warned)), 0);
	assert_non_null(strstr(warned, "journal: cutting off a torn last line (25 bytes, no LF)"));
	struct journal_sent js = {.sent_ns = 1795000000000000000ull, .ino = 77, .session = 0xab,
				  .object = 2}, got;
	assert_int_equal(journal_record(j, kx, "cam", "x.bin", 3, 4, &js), 0);
	journal_close(j);
	char *after = read_journal();
	assert_int_equal(strncmp(after, good, strlen(good)), 0);
	char xline[256];
	snprintf(xline, sizeof(xline), "sent %016llx 3 4 at=1795000000000000000 ino=77 "
		 "sess=00000000000000ab obj=2 cam/x.bin\n", (unsigned long long)kx);
	assert_string_equal(after + strlen(good), xline);
	assert_int_equal(open_warned(&j, warned, sizeof(warned)), 0);
	assert_string_equal(warned, ""); /* nothing damaged any more */
	assert_true(journal_lookup(j, kx, &got));
	assert_int_equal(got.ino, 77);
	assert_int_equal(got.object, 2);
	assert_true(journal_contains(j, ka));
	assert_false(journal_contains(j, kf));
	journal_close(j);
}

/* Fields are separated by exactly one space and the line ends with SPOOL/PATH: a number run
 * into the next text (a line glued onto a torn one) is damage, not a field followed by a path. */
static void test_parse_strict(void **state)
{
	uint64_t k1 = journal_key("cam", "1", 1, 1), k2 = journal_key("cam", "2", 1, 1),
		 k3 = journal_key("cam", "3", 1, 1), k4 = journal_key("cam", "4", 1, 1),
		 k5 = journal_key("cam", "5", 1, 1), k6 = journal_key("cam", "6", 1, 1),
		 k7 = journal_key("cam", "7", 1, 1), kx = journal_key("cam", "x", 1, 1),
		 ok = journal_key("cam", "ok", 1, 1);
	char text[2048];
	snprintf(text, sizeof(text),
		 "sent %016llx 5 7sent %016llx 1 1 at=1 ino=2 cam/x\n"
		 "sent %016llx 5 7 at=9 ino=3sent %016llx 1 1 at=1 ino=2 cam/x\n"
		 "sent %016llx 5 7 at=9 ino=3 sess=00000000000000ab obj=4sent %016llx 1 1 cam/x\n"
		 "sent %016llx 5 7 \n"
		 "sent %016llx 5  7 cam/5\n"
		 "sent %016llx -5 7 cam/6\n"
		 "sent %016llx 5 7 at=9 ino=3 sess=00000000000000ab obj=4 \n"
		 "sent %016llx 1 1 at=9 ino=3 sess=00000000000000ab obj=4 cam/ok\n",
		 (unsigned long long)k1, (unsigned long long)kx, (unsigned long long)k2,
		 (unsigned long long)kx, (unsigned long long)k3, (unsigned long long)kx,
		 (unsigned long long)k4, (unsigned long long)k5, (unsigned long long)k6,
		 (unsigned long long)k7, (unsigned long long)ok);
	write_journal(text);
	struct journal *j;
	char warned[2048];
	assert_int_equal(open_warned(&j, warned, sizeof(warned)), 0);
	for (int i = 1; i <= 7; i++) {
		char want[64];
		snprintf(want, sizeof(want), "journal:%d: ignoring a damaged journal line", i);
		assert_non_null(strstr(warned, want));
	}
	assert_null(strstr(warned, "journal:8:"));
	uint64_t bad[] = {k1, k2, k3, k4, k5, k6, k7, kx};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(journal_contains(j, bad[i]));
	assert_true(journal_contains(j, ok));
	journal_close(j);
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_reopen_compact),
		cmocka_unit_test(test_old_format_and_damage),
		cmocka_unit_test(test_compact_while_running),
		cmocka_unit_test(test_record_cut_short),
		cmocka_unit_test(test_previous_session),
		cmocka_unit_test(test_key_zero_is_damaged),
		cmocka_unit_test(test_each_and_ids),
		cmocka_unit_test(test_failed_writes_keep_old),
		cmocka_unit_test(test_torn_tail_cut),
		cmocka_unit_test(test_parse_strict),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
