/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event intake on the sender's libuv loop: one listener per `events:` entry.
 *   udp:HOST:PORT  one event per datagram (a trailing LF or CRLF is dropped);
 *   tcp:HOST:PORT, unix:/path  streams, framed per connection by tx/framing.h, up to
 *                  INTAKE_CLIENTS_MAX clients at once per source. A client that sends no
 *                  byte for the source's idle_timeout_ms (0: none) is closed; a new client on
 *                  a full source closes the one idle longest, never itself. Either way a
 *                  frame the closed client had begun is dropped, logged and counted.
 * Each event goes to the event queue (tx/evqueue.h), which never blocks. A unix socket is
 * created mode 0660 (its folder decides who may reach it); a stale socket at the path is
 * replaced, any other file there is an error. intake_start raises the soft open-file limit
 * (towards the hard one) to INTAKE_FDS_SPARE + INTAKE_CLIENTS_MAX + 1 per stream source, and
 * warns when it cannot.
 */
#ifndef SLUICE_TX_INTAKE_H
#define SLUICE_TX_INTAKE_H

#include <stddef.h>
#include <uv.h>

#include "common/config.h"
#include "tx/evqueue.h"

#define INTAKE_CLIENTS_MAX 1024
#define INTAKE_FDS_SPARE 256 /* descriptors left for the rest of tx beside full stream sources */
#define INTAKE_UDP_RCVBUF (32u << 20)

struct intake;

/* Bind and listen on every source; on failure, logs which and returns -errno (nothing left
 * open). */
int intake_start(struct intake **out, uv_loop_t *loop, const struct config_event *sources, size_t n,
		 struct evq *q) __attribute__((warn_unused_result));
/* Clients of source src (an index into sources) connected now. */
size_t intake_clients(const struct intake *in, unsigned src);
/* Close listeners and clients (their handles finish closing on the loop; the memory is freed
 * then). Partial lines of open connections are dropped and counted. */
void intake_close(struct intake *in);

#endif
