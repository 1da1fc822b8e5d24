/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sent spool files waiting for `after: delete` (spools[].keep_for, so that a resend can still
 * find them). A file is deleted keep_for after it was sent, and only if it is still the file
 * that was sent (size, mtime and inode); one that changed is left alone, the watcher sends it
 * again as new. Deletions are counted (sluice_tx_files_deleted_total) and logged at debug.
 *
 * Time: the send time comes from the journal, in wall-clock time, because it must mean the same
 * after a restart. It is turned into a monotonic deadline once, when the file is added, so a
 * clock step while tx runs neither deletes early nor holds files forever; across a restart the
 * wall clock is all there is, and the time left is clamped to [0, keep_for] (a clock set back
 * keeps a file at most keep_for more).
 */
#ifndef SLUICE_TX_KEEP_H
#define SLUICE_TX_KEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define KEEP_TICK_MS 1000 /* how often due files are deleted */

struct keep;

/* The file as it was sent; ino 0 = unknown (not compared). */
struct keep_file {
	uint64_t key; /* the journal's key: a file waiting already is not added twice */
	const char *spool, *relpath, *path;
	uint64_t size, mtime_ns, ino;
	uint64_t sent_ns;     /* wall clock */
	uint64_t keep_for_ms; /* 0: deleted at once */
};

int keep_start(struct keep **out, uv_loop_t *loop) __attribute__((warn_unused_result));
/* Deletes the file now if its time is up, else remembers it (strings are copied). */
void keep_add(struct keep *k, const struct keep_file *f);
/* Files still waiting are forgotten (the journal has them: the next start finds them). */
void keep_close(struct keep *k);

/* A file being deleted is first moved aside in its folder to KEEP_ASIDE_PREFIX "PID-NAME" (PID
 * the deleting process's, in decimal; NAME the file's own name), or to KEEP_ASIDE_PREFIX "PID"
 * when that would be longer than NAME_MAX, and is gone from there when keep_add returns. true if
 * name has one of these forms: then *orig points to NAME in name (NULL for the short form). */
#define KEEP_ASIDE_PREFIX ".sluice-delete-"
bool keep_aside_parse(const char *name, const char **orig);

#endif
