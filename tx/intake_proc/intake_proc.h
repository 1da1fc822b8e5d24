/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx's event intake in processes of its own, so that a parser bug reachable from the camera
 * network does not reach the Ed25519 signing key:
 *
 *   sluice-tx  (signing key, state, event queue, link, metrics)
 *     |  control channel: SPAWN, KILL pid, STOP  /  SPAWNED pid + descriptor, EXITED pid status
 *     +-- spawner  (forked before the key is read and before any thread; keeps the listening
 *         |         sockets; not dumpable; no filter of its own: each intake process it forks
 *         |         opens /dev/null in libuv's uv_listen before installing its own)
 *         +-- intake  (forked by the spawner for each SPAWN; tx/intake/ and tx/framing.c on
 *                      the listening sockets; common/privdrop.h: when root, chroot into
 *                      STATE/empty and the `user:` account; Landlock with no file access;
 *                      filter SANDBOX_PARSER, not dumpable, no new privileges)
 *               event channel to sluice-tx: EVENT (source, tx_time, bytes), COUNT (metric, n)
 *
 * Channels are common/channel.h. sluice-tx checks every message of the intake process: an
 * unknown type, a wrong length, a source index out of range, an event over its source's
 * max_line or empty, a metric that is not intake's, is taken as a compromise of that process:
 * logged, the process killed, and a new one started. When the intake process ends for any
 * reason, every whole message it had written is still read and queued; sluice-tx logs it,
 * counts it (sluice_tx_intake_restarts_total) and asks for a new one after a back-off (100 ms,
 * doubling to 6.4 s, back to 100 ms after one that lived 10 s). The listening sockets stay
 * open in the spawner meanwhile: UDP datagrams and stream connections wait in the kernel.
 * While sluice-tx does not read the event channel (its 4 MiB write buffer half full) the
 * intake process stops reading its sockets (intake_pause) instead of dropping events.
 */
#ifndef SLUICE_TX_INTAKE_PROC_INTAKE_PROC_H
#define SLUICE_TX_INTAKE_PROC_INTAKE_PROC_H

#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "common/config.h"
#include "tx/evqueue.h"

enum intake_msg {
	INTAKE_MSG_INVALID = 0,
	INTAKE_MSG_EVENT,   /* u32 source index, u64 tx_time (ns since the epoch), the event */
	INTAKE_MSG_COUNT,   /* u32 enum tx_metric, u64 increment */
	INTAKE_MSG_DROPS,   /* u32 source index (UDP), u32 its socket's kernel drop counter */
};
#define INTAKE_EVENT_HDR 12

struct intake_proc;

/* When root: look user up (it must exist and not be root) and make STATE/empty (state made
 * if missing), the intake process's account and root. Then bind every source's socket and
 * fork the spawner. Call before the signing key is loaded and before any thread exists. 0 or
 * -errno (logged). */
int intake_proc_start(struct intake_proc **out, const struct config_event *sources, size_t n,
		      const char *state, const char *user) __attribute__((warn_unused_result));
/* Start the first intake process; its events go to q. 0 or -errno (logged). */
int intake_proc_run(struct intake_proc *ip, uv_loop_t *loop, struct evq *q)
	__attribute__((warn_unused_result));
/* Stop the intake process (it drops unfinished frames, counted) and queue every event it had
 * written to its channel, waiting at most 1.5 s for it to end; one that has not by then is left
 * once its channel is read empty (what it still holds unwritten is lost: logged, not counted);
 * the spawner ends; unix socket paths are unlinked. Frees ip once its handles have closed on
 * the loop (at once when intake_proc_run was never called). */
void intake_proc_stop(struct intake_proc *ip);
/* Checks one message of the intake process and acts on it (evq_push_at, txm_add; drops[src]:
 * the kernel drop counter of each source last reported): 0, or
 * -EBADMSG with why set (a compromise of the intake process). For tests and fuzzing. */
int intake_proc_handle(const struct config_event *sources, size_t n, struct evq *q,
		       uint32_t *drops, uint32_t type, const uint8_t *body, size_t len, const char **why)
	__attribute__((warn_unused_result));

#endif
