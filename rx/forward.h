/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forwarding event lines to a local consumer (a SIEM or VMS): output.forward, an extension.
 *   tcp:HOST:PORT, unix:/path  the same JSON lines as the files, over one stream connection;
 *   udp:HOST:PORT              one datagram per line (with its LF); a line too long for one
 *                              datagram (EMSGSIZE) is dropped and counted, the rest go on.
 * Never blocks the receive path: sockets are non-blocking, lines wait in a buffer of
 * FORWARD_BUF_MAX bytes; when it is full (consumer slow or away), new lines are dropped and
 * counted (sluice_rx_events_forward_dropped_total) — the files keep everything. A connection
 * that fails or closes is retried with back-off from 100 ms to 10 s. Lines are forwarded whole:
 * after a reconnect the stream starts at a line boundary (a line the failure cut is dropped and
 * counted; one not yet begun is sent).
 */
#ifndef SLUICE_RX_FORWARD_H
#define SLUICE_RX_FORWARD_H

#include <stddef.h>

#include "common/config.h"

#define FORWARD_BUF_MAX (16u << 20)

struct forward;

/* NULL with kind INVALID (no forwarding). Connecting happens later, never here. */
int forward_new(struct forward **out, enum config_event_kind kind, const struct config_addr *addr,
		const char *path) __attribute__((warn_unused_result));
/* Queue whole lines (each ending in LF) and try to send. */
void forward_lines(struct forward *f, const char *p, size_t len);
/* Milliseconds until forward_tick has work (a retry, or data waiting); -1 for none. */
int forward_timeout_ms(const struct forward *f);
void forward_tick(struct forward *f);
void forward_free(struct forward *f);

#endif
