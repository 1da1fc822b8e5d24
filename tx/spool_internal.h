/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the spool watcher (tx/spool.c, tx/spool_aside.c, tx/spool_unwatched.c): the
 * watcher's state, the path helpers, and the functions one of these files calls in another.
 */
#ifndef SLUICE_TX_SPOOL_INTERNAL_H
#define SLUICE_TX_SPOOL_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <uv.h>

#include "tx/spool.h"

/* Per spool: its folder, watched or missing (then looked for at every tick). */
struct root {
	bool missing;
	int last_err; /* what the last look found; a new problem is logged once */
	dev_t dev;
	ino_t ino;
};

/* A sub-folder inotify would not watch (the watch limit, most often): until it is, the files in
 * it and below it are not seen, so it is tried again each tick and counted in a gauge. */
struct unwatched {
	struct unwatched *next;
	const struct config_spool *sp;
	char *rel;
};

struct spool_watch {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t timer;
	int ifd;
	const struct config_spool *spools;
	size_t nspools;
	struct wdir *dirs;
	size_t ndirs, cap;
	struct root *roots; /* one per spool */
	struct quiet *quiet;
	struct unwatched *unwatched; /* sub-folders whose watch failed: tried again each tick */
	size_t nunwatched;
	bool retrying;
	spool_ready_fn fn;
	void *ctx;
	int closing;
};

static inline int join(char *out, size_t cap, const char *a, const char *b)
{
	int n = (a[0] == '\0') ? snprintf(out, cap, "%s", b) : snprintf(out, cap, "%s/%s", a, b);
	return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

static inline int full_path(char *out, size_t cap, const struct config_spool *sp, const char *rel)
{
	return join(out, cap, sp->path, rel);
}

/* tx/spool.c: watches the folder rel of sp and scans it; 0 or -errno. */
int spool_add_dir(struct spool_watch *w, const struct config_spool *sp, const char *rel, bool moved_in);
/* tx/spool_aside.c */
bool spool_put_back(const struct config_spool *sp, const char *rel, const char *name, const char **back);
/* tx/spool_unwatched.c */
bool spool_unwatched_add(struct spool_watch *w, const struct config_spool *sp, const char *rel);
void spool_unwatched_retry(struct spool_watch *w);

#endif
