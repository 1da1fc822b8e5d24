/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender's journal under `state:`. Two files:
 *   STATE/session   the session counter, one decimal line, incremented (and fsynced) at every
 *                   start and never below the clock in microseconds; announcements carry it so the receiver can refuse replays of
 *                   sessions older than the newest it has seen. Then "session <id hex>" once
 *                   the session is drawn, and "end <id hex> <done id>" when it stops cleanly:
 *                   the next session announces both, so a receiver that was stopped meanwhile
 *                   knows which files of the previous session it missed (done id 0: it did
 *                   not stop cleanly, and how far it got is not known).
 *   STATE/journal   one line per file sent completely (all repeats):
 *                   "sent <xxh3 of spool, path, size, mtime as 16 hex> <size> <mtime_ns>
 *                    at=<wall-clock time sent, ns since 1970> ino=<inode>
 *                    sess=<session id, 16 hex> obj=<file object id> <spool>/<path>"
 *                   appended and fdatasynced before `after: delete` removes the file, so a
 *                   restart neither loses a file nor sends again what had fully left. The
 *                   send time is wall-clock because it must mean the same after a restart:
 *                   `keep_for` (tx/keep.h) counts from it. Lines written before at= and ino=
 *                   existed still load, with both unknown (0); lines without sess= and obj= (older versions)
 *                   load with both 0, and a receiver's gap report cannot name them. The same
 *                   file sent again appends a new line; the newest counts, and compaction
 *                   keeps only it. (An older sluice-tx reads a line with sess= as a path it
 *                   does not know, and compaction drops it unless the file is still there.)
 * Entries whose file is gone from its spool are dropped by journal_compact(), at start and
 * whenever the file has doubled (and grown past JOURNAL_COMPACT_MIN) since.
 */
#ifndef SLUICE_TX_JOURNAL_H
#define SLUICE_TX_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

struct journal;

/* The session before this start, from STATE/session: its id (0 if none) and, if it stopped
 * cleanly, the done id it ended with (else 0). */
struct journal_prev {
	uint64_t session;
	uint64_t done_id;
};
int journal_open(struct journal **out, const char *state_dir, uint64_t *session_counter,
		 struct journal_prev *prev) __attribute__((warn_unused_result));
/* Records this start's session id, then (at a clean stop) where it ended. 0 or -errno. */
int journal_session_start(struct journal *j, uint64_t session) __attribute__((warn_unused_result));
int journal_session_end(struct journal *j, uint64_t session, uint64_t done_id)
	__attribute__((warn_unused_result));
uint64_t journal_key(const char *spool, const char *relpath, uint64_t size, uint64_t mtime_ns);
/* What the journal knows of a sent file; 0 = not recorded (lines of older versions). */
struct journal_sent {
	uint64_t sent_ns; /* wall clock */
	uint64_t ino;
	uint64_t session; /* the sender session it was sent in, and its file object id */
	uint64_t object;
};
/* true if sent already; marks the entry as still present (kept by compaction) */
bool journal_contains(struct journal *j, uint64_t key);
/* journal_contains() that also says when it was sent and the file's inode then (out may be
 * NULL). */
bool journal_lookup(struct journal *j, uint64_t key, struct journal_sent *out);
int journal_record(struct journal *j, uint64_t key, const char *spool, const char *relpath,
		   uint64_t size, uint64_t mtime_ns, const struct journal_sent *sent)
	__attribute__((warn_unused_result));
/* Rewrite the journal keeping the entries for which still_there(ctx, spool, relpath, size,
 * mtime_ns) says the file is still in its spool (a file sent and deleted since is dropped:
 * it cannot be sent again). Run at start, and while running whenever journal_wants_compact
 * says the file has grown past min_bytes and past its size at the last compaction: the
 * journal, on disk and in memory, stays in proportion to the files in the spools. */
#define JOURNAL_COMPACT_MIN (16u << 20)
bool journal_wants_compact(const struct journal *j, uint64_t min_bytes);
typedef bool (*journal_keep_fn)(void *ctx, const char *spool, const char *relpath, uint64_t size,
				uint64_t mtime_ns);
int journal_compact(struct journal *j, journal_keep_fn still_there, void *ctx);
void journal_close(struct journal *j);

/* One line of STATE/journal as journal_each() reads it. */
struct journal_line {
	uint64_t key, size, mtime_ns;
	struct journal_sent sent;
	const char *spool, *relpath; /* valid during the call */
};
typedef void (*journal_each_fn)(void *ctx, const struct journal_line *l);
/* Reads STATE/journal without opening the journal (no session is drawn, nothing written), for
 * `resend` while the daemon runs: fn for each well-formed line, in file order (damaged lines,
 * such as a torn last one, are skipped). 0 (also when there is no journal yet) or -errno. */
int journal_each(const char *state_dir, journal_each_fn fn, void *ctx)
	__attribute__((warn_unused_result));

#endif
