/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The events lane's sources: up to EVENTS_SOURCES_MAX, each a folder EVENTS/<source> made on
 * its first batch (and again when it was removed under it), resumed from its newest day file,
 * and its sender's stream id kept in STATE/events/<source>.
 */
#include "rx/events/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/seqtext.h"
#include "common/smallfile.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static bool source_name_ok(const char *n)
{
	return config_name_valid(n) && strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

static void stream_path(const struct events *e, const struct source *s, char *p, size_t n)
{
	snprintf(p, n, "%s/%s", e->state_dir, s->name);
}

static void load_stream(struct events *e, struct source *s)
{
	if (!e->state_dir)
		return;
	char p[PATH_MAX], buf[64];
	stream_path(e, s, p, sizeof(p));
	if (smallfile_read(p, buf, sizeof(buf)) > 0 && sscanf(buf, "stream=%16" SCNx64, &s->stream) == 1)
		s->have_stream = true;
	/* next=: the seq written or given up through (a failed write), at a stop or that write:
	 * the files may end lower (lines that could not be written, or were deleted since). */
	const char *nx = s->have_stream ? strstr(buf, "\nnext=") : NULL;
	char digits[SEQTEXT_LEN];
	uint64_t next;
	if (nx && sscanf(nx + 6, SEQTEXT_SCAN, digits) == 1 && seqtext_parse(digits, &next) &&
	    (!s->have_next || next > s->next)) {
		s->have_next = true;
		s->next = next;
	}
}

void sources_save_stream(struct events *e, struct source *s)
{
	if (!e->state_dir)
		return;
	char p[PATH_MAX], buf[64];
	stream_path(e, s, p, sizeof(p));
	int n = s->have_next ? snprintf(buf, sizeof(buf), "stream=%016" PRIx64 "\nnext=%" PRIu64 "\n", s->stream, s->next)
			     : snprintf(buf, sizeof(buf), "stream=%016" PRIx64 "\n", s->stream);
	int rc = smallfile_write(p, buf, (size_t)n, 0600);
	if (rc != 0)
		log_rlk(LOG_WARN, s->name, "events %s: cannot save the stream id in %s: %s", s->name, p, strerror(-rc));
}

static int open_dir(struct events *e, const char *name)
{
	if (mkdirat(e->rootfd, name, 0750) != 0 && errno != EEXIST) {
		int rc = -errno;
		log_rl(LOG_ERROR, "events: cannot create folder %s: %s", name, strerror(errno));
		return rc;
	}
	int dfd = openat(e->rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		int rc = -errno;
		log_rl(LOG_ERROR, "events: cannot open folder %s: %s", name, strerror(errno));
		return rc;
	}
	return dfd;
}

static bool removed(int fd)
{
	struct stat st;
	return fstat(fd, &st) != 0 || st.st_nlink == 0;
}

int sources_dir(struct events *e, struct source *s)
{
	if (s->fd >= 0 && removed(s->fd)) { /* today's file, removed by hand: a new one */
		close(s->fd);
		s->fd = -1;
		s->day = -1;
		s->dirty = false;
	}
	if (s->dirfd >= 0 && !removed(s->dirfd))
		return 0;
	if (s->dirfd >= 0) {
		log_warn("events %s: its folder was removed (by hand?): made again", s->name);
		close(s->dirfd);
		s->dirfd = -1;
	}
	int dfd = open_dir(e, s->name);
	if (dfd < 0)
		return dfd;
	s->dirfd = dfd;
	return 0;
}

struct source *sources_get(struct events *e, const char *name, const char **why)
{
	for (size_t i = 0; i < e->nsrc; i++)
		if (strcmp(e->src[i]->name, name) == 0)
			return e->src[i];
	if (!source_name_ok(name)) {
		*why = "not a usable name";
		return NULL;
	}
	if (e->nsrc == EVENTS_SOURCES_MAX) {
		*why = "more than " STR(EVENTS_SOURCES_MAX) " sources";
		return NULL;
	}
	struct source *s = calloc(1, sizeof(*s));
	if (!s) {
		*why = "out of memory";
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->fd = -1;
	s->day = -1;
	/* A folder that cannot be made yet does not refuse the source: its seqs are followed, the
	 * lines that cannot be written are counted lost, and the folder is tried again each time. */
	s->dirfd = open_dir(e, name);
	if (s->dirfd >= 0)
		dayfile_recover(s);
	load_stream(e, s);
	e->src[e->nsrc++] = s;
	return s;
}
