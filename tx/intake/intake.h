/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event intake on the sender's libuv loop: one listener per `events:` entry.
 *   udp:HOST:PORT  one event per datagram (a trailing LF or CRLF is dropped);
 *   tcp:HOST:PORT, unix:/path  streams, framed per connection by tx/framing.h, up to
 *                  INTAKE_CLIENTS_MAX clients at once per source. A client that sends no
 *                  byte for the source's idle_timeout_ms (0: none) is closed; a new client on
 *                  a full source closes the one idle longest, never itself. Either way a
 *                  frame the closed client had begun is dropped, logged and counted.
 * Each event goes to a push callback that never blocks: the event queue (tx/evqueue.h) when
 * intake runs in the sender's process (intake_start), the channel to it when intake runs in a
 * process of its own (tx/intake_proc/: the sockets are bound there by intake_bind, before it
 * forks, and taken by intake_open). A unix socket is created mode 0660 (its folder decides who
 * may reach it); a stale socket at the path is replaced, any other file there is an error.
 * intake_bind raises the soft open-file limit (towards the hard one) to INTAKE_FDS_SPARE +
 * INTAKE_CLIENTS_MAX + 1 per stream source, and warns when it cannot; a source then keeps
 * fewer clients (intake_clients_cap), so that accept never runs out of descriptors: EMFILE
 * would make libuv open a spare descriptor, which the intake process's filter forbids.
 */
#ifndef SLUICE_TX_INTAKE_INTAKE_H
#define SLUICE_TX_INTAKE_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "tx/evqueue.h"

#define INTAKE_CLIENTS_MAX 1024
#define INTAKE_FDS_SPARE 256 /* descriptors left for the rest of tx beside full stream sources */
#define INTAKE_UDP_RCVBUF (32u << 20)

struct intake;

typedef void (*intake_push_fn)(void *ctx, unsigned src, const uint8_t *data, size_t len);

/* The clients a stream source keeps at once under the current open-file limit: at most
 * INTAKE_CLIENTS_MAX; fewer when the limit (less a spare of INTAKE_FDS_SPARE, or half the
 * limit when that is smaller) has no room for them, and at least 1. */
size_t intake_clients_cap(const struct config_event *sources, size_t n);

/* Create, bind and (streams) listen on a socket per source into fds[0..n). On failure, logs
 * which source and returns -errno with nothing left open. */
int intake_bind(const struct config_event *sources, size_t n, int *fds)
	__attribute__((warn_unused_result));
/* Close fds from intake_bind (entries -1 are skipped, closed ones set to -1) and unlink the
 * unix socket paths. */
void intake_unbind(const struct config_event *sources, size_t n, int *fds);
/* Take over the sockets of intake_bind (closed by intake_close, or here on failure) and read
 * events from them on loop, each passed to push. 0 or -errno (logged). */
int intake_open(struct intake **out, uv_loop_t *loop, const struct config_event *sources, size_t n,
		const int *fds, intake_push_fn push, void *ctx) __attribute__((warn_unused_result));
/* intake_bind + intake_open with every event pushed to q (evq_push); intake_close then also
 * unlinks the unix socket paths. */
int intake_start(struct intake **out, uv_loop_t *loop, const struct config_event *sources, size_t n,
		 struct evq *q) __attribute__((warn_unused_result));
/* Instead of counting them, report each UDP source's kernel drop counter (SK_MEMINFO_DROPS:
 * datagrams dropped since its socket was made) to fn when it has moved, checked every second:
 * an intake process that restarts cannot know what the one before it counted. */
typedef void (*intake_drops_fn)(void *ctx, unsigned src, uint32_t total);
void intake_set_drops(struct intake *in, intake_drops_fn fn, void *ctx);
/* Stop (true) or resume reading every socket and client: while the consumer of push cannot
 * take more, bytes wait in the kernel (UDP datagrams beyond its buffer are dropped there and
 * counted, stream clients are held back by TCP). New clients are accepted, not read. */
void intake_pause(struct intake *in, bool pause);
/* Clients of source src (an index into sources) connected now. */
size_t intake_clients(const struct intake *in, unsigned src);
/* Close listeners and clients (their handles finish closing on the loop; the memory is freed
 * then). Partial lines of open connections are dropped and counted. */
void intake_close(struct intake *in);

#endif
