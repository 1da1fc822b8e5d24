/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The events lane's files: EVENTS/<source>/<YYYY-MM-DD>.jsonl, one per UTC day of writing.
 * A last line cut short by a crash is truncated away when the file is opened; at start, the
 * seq of the last line of the newest file is where the source resumes (the file is the truth),
 * and its tx_time tells a duplicate from a seq that went back.
 */
#include "rx/events/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define TAIL_MAX (32u << 20) /* a last line longer than this is not searched for its seq */
#define RECOVER_FILES_MAX 65536 /* day files looked at for the seq (retention.days is at most 36500) */

int64_t dayfile_day_of(uint64_t ns) { return (int64_t)(ns / 1000000000ull / 86400u); }

/* Cut a last line left unfinished by a crash, so every line stays whole. */
static void repair_tail(struct source *s, int fd, const char *name)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size == 0)
		return;
	char c;
	if (pread(fd, &c, 1, st.st_size - 1) != 1 || c == '\n')
		return;
	off_t end = st.st_size;
	char buf[4096];
	while (end > 0) {
		off_t from = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		ssize_t r = pread(fd, buf, (size_t)(end - from), from);
		if (r <= 0)
			return;
		char *nl = memrchr(buf, '\n', (size_t)r);
		if (nl) {
			end = from + (nl - buf) + 1;
			break;
		}
		end = from;
	}
	if (ftruncate(fd, end) == 0)
		log_warn("events %s: %s ended in an unfinished line (a crash while writing); cut "
			 "%lld bytes", s->name, name, (long long)(st.st_size - end));
}

int dayfile_open(struct source *s, int64_t day)
{
	if (s->fd >= 0 && s->day == day)
		return 0;
	if (s->fd >= 0) {
		if (s->dirty)
			fdatasync(s->fd);
		close(s->fd);
		s->fd = -1;
		s->dirty = false;
	}
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	char name[48];
	snprintf(name, sizeof(name), "%04d-%02d-%02d.jsonl", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	/* O_RDWR: repair_tail reads the end of the file before anything is appended. */
	int fd = openat(s->dirfd, name, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
			0640);
	if (fd < 0)
		return -errno;
	repair_tail(s, fd, name);
	s->fd = fd;
	s->day = day;
	return 0;
}

int dayfile_write(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool day_file_name(const char *n)
{
	/* YYYY-MM-DD.jsonl */
	if (strlen(n) != 16 || strcmp(n + 10, ".jsonl") != 0)
		return false;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
			return false;
	return true;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" as written by encode.c, in microseconds since 1970. */
static bool parse_tx_us(const char *t, uint64_t *us)
{
	struct tm tm = {0};
	unsigned frac;
	char z;
	if (!t || strlen(t) != 27 || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6u%c", &tm.tm_year, &tm.tm_mon,
					    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac, &z) != 8 ||
	    z != 'Z')
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t secs = timegm(&tm);
	if (secs < 0)
		return false;
	*us = (uint64_t)secs * 1000000u + frac;
	return true;
}

static int last_seq_in(int dirfd, const char *name, uint64_t *seq, bool *have_tx, uint64_t *tx_us)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = -ENOENT;
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		close(fd);
		return rc;
	}
	size_t want = 65536;
	char *buf = NULL;
	for (;;) {
		size_t n = (off_t)want > st.st_size ? (size_t)st.st_size : want;
		char *nb = realloc(buf, n + 1);
		if (!nb)
			break;
		buf = nb;
		if (pread(fd, buf, n, st.st_size - (off_t)n) != (ssize_t)n)
			break;
		/* The last complete line: ends at the last LF; starts after the LF before it. */
		char *end = memrchr(buf, '\n', n);
		if (!end)
			goto more;
		char *start = end > buf ? memrchr(buf, '\n', (size_t)(end - buf)) : NULL;
		if (!start && n < (size_t)st.st_size)
			goto more;
		start = start ? start + 1 : buf;
		json_error_t err;
		json_t *j = json_loadb(start, (size_t)(end - start), JSON_ALLOW_NUL, &err); /* \u0000 */
		json_t *s = j ? json_object_get(j, "seq") : NULL;
		if (s && json_is_integer(s) && json_integer_value(s) >= 0) {
			*seq = (uint64_t)json_integer_value(s);
			*have_tx = parse_tx_us(json_string_value(json_object_get(j, "tx_time")), tx_us);
			rc = 0;
		} else {
			rc = -EBADMSG;
		}
		json_decref(j);
		break;
	more:
		if (n == (size_t)st.st_size || want >= TAIL_MAX)
			break;
		want *= 4;
	}
	free(buf);
	close(fd);
	return rc;
}

static int name_desc(const void *a, const void *b) { return strcmp(b, a); }

/* The seq to go on from: the last line of the newest day file that has a complete one (the
 * newest may have none: made, then its first write failed; or a crash cut its only line). */
void dayfile_recover(struct source *s)
{
	int fd = dup(s->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	char (*names)[32] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!day_file_name(de->d_name))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			void *nn = nc <= RECOVER_FILES_MAX ? realloc(names, nc * sizeof(*names)) : NULL;
			if (!nn)
				break; /* out of memory, or more day files than retention.days allows */
			names = nn;
			cap = nc;
		}
		snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_desc);
	for (size_t i = 0; i < n; i++) {
		uint64_t seq = 0;
		int rc = last_seq_in(s->dirfd, names[i], &seq, &s->have_last_tx, &s->last_tx_us);
		if (rc == 0) {
			s->have_next = true;
			s->next = seq + 1;
			log_info("events %s: resuming after seq %" PRIu64 " (%s)", s->name, seq, names[i]);
			break;
		}
		if (rc != -ENOENT)
			break; /* a last line that is not an event: the seq is not known */
	}
	free(names);
}
