/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/evseq.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/mkdirs.h"
#include "common/smallfile.h"

static int evseq_reserve(struct evseq *s);

static int store(struct evseq *s, uint64_t next, bool clean)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "sluice-evseq 1 stream=%016" PRIx64 " next=%" PRIu64 " %s\n",
			 s->stream, next, clean ? "clean" : "reserved");
	return smallfile_write(s->path, buf, (size_t)n, 0600);
}

int evseq_open(struct evseq *s, const char *state_dir, const char *name)
{
	memset(s, 0, sizeof(*s));
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s/events", state_dir) >= (int)sizeof(dir) ||
	    snprintf(s->path, sizeof(s->path), "%s/%s", dir, name) >= (int)sizeof(s->path))
		return -ENAMETOOLONG;
	int rc = mkdirs(dir, 0700, false);
	if (rc != 0) {
		log_error("%s: %s", dir, strerror(-rc));
		return rc;
	}
	char buf[256];
	long n = smallfile_read(s->path, buf, sizeof(buf));
	if (n == -ENOENT) {
		randombytes_buf(&s->stream, sizeof(s->stream));
		return evseq_reserve(s);
	}
	if (n < 0) {
		log_error("%s: %s", s->path, strerror((int)-n));
		return (int)n;
	}
	char st[16];
	int used = 0;
	if (sscanf(buf, "sluice-evseq 1 stream=%16" SCNx64 " next=%" SCNu64 " %15s\n%n", &s->stream,
		   &s->next, st, &used) != 3 || (size_t)used != (size_t)n ||
	    (strcmp(st, "clean") != 0 && strcmp(st, "reserved") != 0)) {
		log_error("%s: not an event sequence file; fix or remove it (removing it restarts "
			  "the source's seq under a new stream)", s->path);
		return -EINVAL;
	}
	s->unclean = strcmp(st, "reserved") == 0;
	if (s->unclean)
		log_warn("event source %s: the last run stopped without saving its sequence; seq "
			 "resumes at %" PRIu64 " and the receiver will report the skipped range as a gap",
			 name, s->next);
	s->reserved = s->next;
	return evseq_reserve(s);
}

/* Reserve the next EVSEQ_RESERVE seqs (done at open, so the first event does not wait for
 * a file write, and whenever a reservation is used up). */
static int evseq_reserve(struct evseq *s)
{
	int rc = store(s, s->next + EVSEQ_RESERVE, false);
	if (rc != 0) {
		log_rlk(LOG_ERROR, s->path, "%s: %s", s->path, strerror(-rc));
		return rc;
	}
	s->reserved = s->next + EVSEQ_RESERVE;
	return 0;
}

int evseq_next(struct evseq *s, uint64_t *seq)
{
	if (s->next >= s->reserved) {
		int rc = evseq_reserve(s);
		if (rc != 0)
			return rc;
	}
	*seq = s->next++;
	return 0;
}

int evseq_close(struct evseq *s) { return store(s, s->next, true); }
