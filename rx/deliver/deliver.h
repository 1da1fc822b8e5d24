/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's deliver role: it owns the output folders and trusts nothing the link role
 * says. It receives decoded messages (rx/msg.h), writes each file object's blocks to a temp
 * file under FILES/.sluice-tmp while hashing them, and gives the file its final name
 * FILES/<spool>/<path> only once all of these hold:
 *
 *   - the session belongs to a pinned sender, and the manifest's Ed25519 signature verifies
 *     with that sender's key and names this session and object;
 *   - manifest size == FILE_END length <= limits.object;
 *   - the FEC partition of (size, symbol size, block max) has FILE_END's block count, every
 *     block 0..N-1 arrived at exactly its partition offset and length, and no other block did;
 *   - the tree hash over the blocks equals the manifest's hash;
 *   - safepath_check() accepts the spool and path.
 *
 * Otherwise the temp file is removed and the object audited as rejected. The checks the
 * manifest alone decides (signature, ids, names, size limit, FEC parameters) run as soon as it
 * arrives and its session is known: an object whose content never comes is still audited
 * rejected with what its manifest says, and the link role's later LOST for it adds no "lost"
 * line and no lost count (LOST is counted here, where it is audited). A committed file is
 * 0644, has the sender's mtime, is fsynced, then renamed with RENAME_NOREPLACE (never over an
 * existing name, never through a symbolic link) and its folder fsynced. Identical content
 * already under the name (or a numbered sibling) is a duplicate; different content is stored
 * beside it as "name.N.ext" (rx/versions.h: found without reading the stored versions back).
 *
 * Not thread-safe: one thread runs a struct deliver.
 */
#ifndef SLUICE_DELIVER_H
#define SLUICE_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "rx/msg.h"

struct audit;

#define DELIVER_TMP_DIR ".sluice-tmp"
#define DELIVER_PENDING_MAX 1024         /* unfinished objects; the oldest is dropped as lost */
#define DELIVER_BLOCKS_MAX (1u << 24)    /* block indices of one object are below this */
#define DELIVER_SESSIONS_MAX 256         /* sessions remembered; the oldest is forgotten */
#define DELIVER_RENAME_MAX 9999          /* "name.1.ext" .. "name.9999.ext" */

struct deliver_config {
	const char *files_dir;        /* output.files; created if missing */
	const char *events_dir;       /* output.events (rx/events/events.h); NULL: events refused */
	const char *state;            /* STATE, for the events' stream ids; may be NULL */
	struct forward *forward;      /* event lines forwarded too (rx/forward.h); may be NULL;
					 owned by the deliver role from deliver_new on */
	const uint8_t (*senders)[32]; /* pinned sender Ed25519 public keys */
	size_t nsenders;
	uint64_t object_limit;        /* limits.object */
	struct audit *audit;          /* may be a no-op audit */
	struct ring *ring;            /* the block ring BLOCK_REF points into (rx/ring.h);
					 NULL: BLOCK_REF refused */
};

struct deliver;

/* Opens files_dir (creating it if missing), creates FILES/.sluice-tmp, resumes the objects a
 * clean stop kept there (deliver_kept) and removes everything else (the leftovers of a killed
 * receiver or deliver process: each such object is audited lost, reason deliver_restart, unless
 * the link role completes it again). With state, STATE/decided keeps the file ids decided lately
 * (the newest 4,096), which a restart takes as decided. The config's arrays are copied.
 * 0 or -errno. */
int deliver_new(struct deliver **out, const struct deliver_config *c)
	__attribute__((warn_unused_result));

/* File objects brought back from the last clean stop (rx/kept.h): the link role resumes them
 * when the same sender session rejoins. done has a bit per block below top. */
struct deliver_kept {
	uint64_t session, object, length;
	uint32_t top;
	uint8_t *done;
};
size_t deliver_kept(const struct deliver *d, const struct deliver_kept **list);

/* At a clean stop, after the last message: each unfinished file object the link role said it
 * held (PARTIAL) keeps its temp file and gets a record beside it, so deliver_new can resume it.
 * Returns how many were kept; the others are dropped by deliver_free as before. */
unsigned deliver_keep(struct deliver *d);

/* Handle one decoded message. 0, or negative for a message that makes no sense (unknown
 * session, conflicting or out-of-range fields, a BLOCK_REF outside the ring: logged, counted,
 * never fatal). A BLOCK_REF's bytes are copied out of the ring and released before anything
 * looks at them. EVENTS go to rx/events/events.h. */
int deliver_handle(struct deliver *d, const struct msg *m);

/* Read framed messages from fd and evfd (the events lane, read first; -1 for none; both are
 * made non-blocking: a message the link role stops sending halfway waits in a buffer, and the
 * watched descriptor is still served) and handle them until EOF on both (0), a framing error
 * (-EBADMSG: unknown type, bad length, a body that does not decode, EOF inside a message; the
 * stream cannot be trusted further) or a read error (-errno). */
int deliver_run(struct deliver *d, int fd, int evfd);
/* While deliver_run waits for the lanes it also waits for fd (the deliver process's channel to
 * the monitor) and calls on_ready(arg) when it is readable: 0 goes on, 1 stops watching fd (end
 * of stream), negative ends the run with that code. fd -1: nothing watched (the default). */
void deliver_watch(struct deliver *d, int fd, int (*on_ready)(void *arg), void *arg);
/* deliver_run calls tick(arg, now) on every pass of its loop, and passes at least every
 * DELIVER_TICK_MS even when the lanes are quiet (the deliver process's heartbeat to the
 * monitor); a pass that takes longer (one message: a commit's fsync on slow storage) delays
 * it. deliver_keep calls it before each object it keeps. now is common/deadline.h's clock.
 * NULL: none (the default). */
#define DELIVER_TICK_MS 500
void deliver_on_tick(struct deliver *d, void (*tick)(void *arg, uint64_t now), void *arg);

/* Messages deliver_handle() refused since deliver_new(). */
uint64_t deliver_bad_messages(const struct deliver *d);

/* Bytes read back from files already stored, to compare their content with a new object's,
 * since deliver_new(). */
uint64_t deliver_bytes_reread(const struct deliver *d);

/* Closes everything and removes the temp files of unfinished objects. NULL is fine. */
void deliver_free(struct deliver *d);

#endif
