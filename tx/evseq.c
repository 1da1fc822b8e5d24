/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/evseq.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/evchain.h"
#include "common/log.h"
#include "common/mkdirs.h"
#include "common/seqtext.h"
#include "common/smallfile.h"

static int evseq_reserve(struct evseq *s);

static int store(struct evseq *s, uint64_t next, uint64_t batch, bool clean)
{
	char buf[256], prev[65];
	sodium_bin2hex(prev, sizeof(prev), s->prev, sizeof(s->prev));
	int n = snprintf(buf, sizeof(buf), "sluice-evseq 2 stream=%016" PRIx64 " next=%" PRIu64
			 " batch=%" PRIu64 " prev=%s %s\n", s->stream, next, batch, prev,
			 clean ? "clean" : "reserved");
	return smallfile_write(s->path, buf, (size_t)n, 0600);
}

static bool parse_v2(struct evseq *s, const char *buf, long n, char st[16])
{
	char prev[65], next[SEQTEXT_LEN], batch[SEQTEXT_LEN];
	int used = 0;
	size_t got = 0;
	return sscanf(buf, "sluice-evseq 2 stream=%16" SCNx64 " next=" SEQTEXT_SCAN
		      " batch=" SEQTEXT_SCAN " prev=%64[0-9a-f] %15s\n%n", &s->stream, next, batch,
		      prev, st, &used) == 5 && (size_t)used == (size_t)n && strlen(prev) == 64 &&
	       seqtext_parse(next, &s->next) && seqtext_parse(batch, &s->batch_next) &&
	       s->batch_next >= 1 &&
	       sodium_hex2bin(s->prev, sizeof(s->prev), prev, 64, NULL, &got, NULL) == 0 &&
	       got == sizeof(s->prev);
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
	s->batch_next = 1;
	if (n == -ENOENT) {
		randombytes_buf(&s->stream, sizeof(s->stream));
		return evseq_reserve(s);
	}
	if (n < 0) {
		log_error("%s: %s", s->path, strerror((int)-n));
		return (int)n;
	}
	char st[16] = "", next[SEQTEXT_LEN];
	int used = 0;
	bool v1 = sscanf(buf, "sluice-evseq 1 stream=%16" SCNx64 " next=" SEQTEXT_SCAN " %15s\n%n",
			 &s->stream, next, st, &used) == 3 && (size_t)used == (size_t)n &&
		  seqtext_parse(next, &s->next);
	if (v1)
		s->batch_next = 1; /* no chain yet: it begins here */
	if ((!v1 && !parse_v2(s, buf, n, st)) ||
	    (strcmp(st, "clean") != 0 && strcmp(st, "reserved") != 0)) {
		log_error("%s: not an event sequence file (or its next or batch is not a number "
			  "from 0 to 2^63); fix or remove it (removing it restarts "
			  "the source's seq under a new stream)", s->path);
		return -EINVAL;
	}
	if (s->next > UINT64_MAX - EVSEQ_RESERVE || s->batch_next > UINT64_MAX - EVSEQ_RESERVE) {
		log_error("%s: next seq %" PRIu64 " or batch %" PRIu64 " leaves no room to reserve "
			  "more before 2^64 (it would wrap to 0); fix or remove it (removing it "
			  "restarts the source's seq under a new stream)", s->path, s->next,
			  s->batch_next);
		return -EINVAL;
	}
	s->unclean = strcmp(st, "reserved") == 0;
	if (s->unclean)
		log_warn("event source %s: the last run stopped without saving its sequence; seq "
			 "resumes at %" PRIu64 " and the receiver will report the skipped range as a gap",
			 name, s->next);
	if (!v1 && s->batch_next > 1)
		s->batch_flags = s->unclean ? EVCHAIN_RESET : EVCHAIN_RESTART;
	if (s->unclean)
		memset(s->prev, 0, sizeof(s->prev)); /* the last batch sent is not known */
	s->reserved = s->next;
	s->batch_reserved = s->batch_next;
	return evseq_reserve(s);
}

/* Reserve the next EVSEQ_RESERVE seqs (done at open, so the first event does not wait for
 * a file write, and whenever a reservation is used up). */
static int evseq_reserve(struct evseq *s)
{
	uint64_t batch = s->batch_reserved > s->batch_next ? s->batch_reserved : s->batch_next;
	int rc = store(s, s->next + EVSEQ_RESERVE, batch, false);
	if (rc != 0) {
		log_rlk(LOG_ERROR, s->path, "%s: %s", s->path, strerror(-rc));
		return rc;
	}
	s->reserved = s->next + EVSEQ_RESERVE;
	s->batch_reserved = batch;
	return 0;
}

int evseq_batch_peek(struct evseq *s, uint64_t *batch, uint8_t *flags, uint8_t prev[32])
{
	if (s->batch_next >= s->batch_reserved) {
		int rc = store(s, s->reserved, s->batch_next + EVSEQ_RESERVE, false);
		if (rc != 0)
			return rc;
		s->batch_reserved = s->batch_next + EVSEQ_RESERVE;
	}
	*batch = s->batch_next;
	*flags = s->batch_flags;
	memcpy(prev, s->prev, sizeof(s->prev));
	return 0;
}

void evseq_batch_sent(struct evseq *s, const uint8_t hash[32])
{
	memcpy(s->prev, hash, sizeof(s->prev));
	s->batch_next++;
	s->batch_flags = 0;
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

int evseq_close(struct evseq *s) { return store(s, s->next, s->batch_next, true); }
