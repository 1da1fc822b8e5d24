/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool watching (inotify through a libuv poll handle). A file is *ready* once complete: moved
 * into the spool (IN_MOVED_TO) or closed after writing (IN_CLOSE_WRITE). Files found by a
 * scan (at start, in a new sub-folder, after an inotify queue overflow) are ready at once when
 * they have been quiet for SPOOL_QUIET_MS, else when they close or fall quiet. Names starting
 * with '.' or ending in ".tmp", ".part" or "~" are ignored; symlinks are never followed.
 * A spool folder that vanishes is logged once and looked for every 500 ms; the one found in
 * its place is watched and scanned (logged). A sub-folder inotify refuses to watch (the watch
 * limit) is logged, counted in sluice_tx_spool_unwatched_folders and tried again every tick.
 */
#ifndef SLUICE_TX_SPOOL_H
#define SLUICE_TX_SPOOL_H

#include <stdbool.h>
#include <sys/stat.h>
#include <uv.h>

#include "common/config.h"

#define SPOOL_QUIET_MS 2000

struct spool_watch;

/* relpath is relative to the spool; path can be opened. */
typedef void (*spool_ready_fn)(void *ctx, const struct config_spool *sp, const char *relpath,
			       const char *path, const struct stat *st);

/* *out is set before the first scan calls fn, so that fn may call spool_watch_recheck. */
int spool_watch_start(struct spool_watch **out, uv_loop_t *loop, const struct config_spool *spools,
		      size_t n, spool_ready_fn fn, void *ctx) __attribute__((warn_unused_result));
/* Look at a file again later (it changed while being sent): ready once quiet or closed. */
void spool_watch_recheck(struct spool_watch *w, const struct config_spool *sp, const char *relpath);
void spool_watch_close(struct spool_watch *w);
/* The pick-up rule on one name (no '/'): false for hidden, .tmp, .part and ~ names. */
bool spool_name_wanted(const char *name);

#endif
