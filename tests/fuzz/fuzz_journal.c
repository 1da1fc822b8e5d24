/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the sender's journal (tx/journal.c): the input is STATE/journal as
 * journal_open finds it after a crash, a disk error or a hand edit (lines of the current
 * format with at= and ino=, of the older one without, torn and damaged ones).
 *
 * Each input is written as `journal` into one temp folder made once (`session` removed
 * first), opened (which must succeed: a damaged line is skipped, never fatal), probed with the
 * key of each of its lines (every other one looked up), given a new record, compacted (keeping
 * the entries whose spool/path a callback accepts, as tx keeps those still in their spool: the
 * new record always; the callback checks what the parser hands it), closed and opened again.
 * Then every entry looked up before that is still there has the same send time and inode, the
 * new record is there, and every line the compaction wrote loads. Leaks show (LeakSanitizer). fsync and fdatasync
 * are no-ops here, so a run costs no disk flush.
 */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tx/journal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64]; /* on /dev/shm (a tmpfs) when there is one: no disk under the saves */
static char jpath[sizeof(dir) + 16], spath[sizeof(dir) + 16];

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

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_journal: %s\n", what);
		abort();
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void) { nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/dev/shm/sluice-fuzz-journal-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/sluice-fuzz-journal-XXXXXX");
		check(mkdtemp(dir) != NULL, "mkdtemp failed");
	}
	snprintf(jpath, sizeof(jpath), "%s/journal", dir);
	snprintf(spath, sizeof(spath), "%s/session", dir);
	atexit(cleanup);
	log_set_level(LOG_ERROR); /* damaged lines are warned about, as they should be */
	return 0;
}

static bool keep_some(void *ctx, const char *spool, const char *rel, uint64_t size, uint64_t mtime)
{
	(void)ctx;
	size_t sl = strlen(spool);
	check(sl < 64, "spool name handed to the callback longer than a spool name can be");
	check(strchr(spool, '/') == NULL, "spool name handed to the callback holds a '/'");
	check(strchr(rel, '\n') == NULL, "path handed to the callback holds a newline");
	if (strcmp(spool, "cam") == 0 && strcmp(rel, "new/file.bin") == 0 && mtime == 12345)
		return true;
	return ((size ^ mtime ^ sl) & 1) == 0;
}

/* The key of each line that starts like a journal line ("sent HEX"), at most max of them. The
 * whole line is scanned: the loader's "sent %x" takes any run of white space before the key
 * (a 64-byte copy here cut "sent" + 51 vertical tabs + " 343abcdef" to key 343abcd). */
static size_t line_keys(const char *text, size_t len, uint64_t *keys, size_t max)
{
	size_t n = 0;
	static char line[(1 << 16) + 1];
	for (size_t i = 0; i < len && n < max;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - i < sizeof(line) - 1 ? end - i : sizeof(line) - 1;
		memcpy(line, text + i, l);
		line[l] = '\0';
		if (sscanf(line, "sent %" SCNx64, &keys[n]) == 1)
			n++;
		i = end + 1;
	}
	return n;
}

static struct journal *open_journal(void)
{
	struct journal *j = NULL;
	uint64_t counter = 0;
	unlink(spath);
	struct journal_prev prev;
	check(journal_open(&j, dir, &counter, &prev) == 0 && j, "journal_open failed");
	check(counter > 0, "no session counter");
	return j;
}

#define PROBES 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = open(jpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0 && write(fd, data, size) == (ssize_t)size && close(fd) == 0,
	      "cannot write the journal");
	static uint64_t keys[PROBES];
	static struct journal_sent sent[PROBES];
	static bool found[PROBES];
	size_t nkeys = line_keys((const char *)data, size, keys, PROBES);

	struct journal *j = open_journal();
	for (size_t i = 0; i < nkeys; i += 2) {
		sent[i] = (struct journal_sent){.sent_ns = UINT64_MAX, .ino = UINT64_MAX};
		found[i] = journal_lookup(j, keys[i], &sent[i]);
		check(!found[i] || journal_contains(j, keys[i]), "lookup and contains disagree");
	}
	uint64_t k = journal_key("cam", "new/file.bin", size, 12345);
	struct journal_sent js = {.sent_ns = 1795000000000000000ull + size, .ino = 77};
	check(journal_record(j, k, "cam", "new/file.bin", size, 12345, &js) == 0, "journal_record failed");
	check(journal_compact(j, keep_some, NULL) == 0, "journal_compact failed");
	journal_close(j);

	/* What the compaction wrote: every line loads. */
	static char text[1 << 16];
	fd = open(jpath, O_RDONLY | O_CLOEXEC);
	check(fd >= 0, "no journal after compaction");
	ssize_t tlen = read(fd, text, sizeof(text));
	close(fd);
	check(tlen > 0, "compacted journal empty or unreadable");
	static uint64_t written[PROBES];
	size_t nwritten = line_keys(text, (size_t)tlen < sizeof(text) ? (size_t)tlen : 0, written, PROBES);

	j = open_journal();
	struct journal_sent got;
	for (size_t i = 0; i < nkeys; i += 2) {
		if (!found[i] || keys[i] == k)
			continue;
		if (journal_lookup(j, keys[i], &got))
			check(got.sent_ns == sent[i].sent_ns && got.ino == sent[i].ino,
			      "send time or inode changed through compaction");
	}
	check(journal_lookup(j, k, &got) && got.sent_ns == js.sent_ns && got.ino == js.ino,
	      "the new record did not survive compaction");
	for (size_t i = 0; i < nwritten; i++)
		check(journal_contains(j, written[i]), "a line the compaction wrote does not load");
	journal_close(j);
	return 0;
}
