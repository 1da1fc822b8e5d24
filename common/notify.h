/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service manager's side of a daemon's life (systemd's sd_notify protocol, libsystemd):
 * READY=1 once it serves, WATCHDOG=1 from its main loop every half WatchdogSec while the loop
 * turns, STOPPING=1 when a stop begins. Without $NOTIFY_SOCKET (not under systemd, or a
 * one-shot command) every call does nothing.
 *
 * Call notify_ready after the sandbox is on: sd_notify makes a unix datagram socket per
 * message, which the daemon's filter allows (common/sandbox.c).
 */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct notify {
	uv_timer_t watchdog;
	uint64_t interval_ms; /* 0: no watchdog asked for */
	bool started, closed;
};

/* READY=1, and the watchdog timer on LOOP when $WATCHDOG_USEC asks for one (its handle stays
 * open until notify_stopping). The status line tells what runs. */
void notify_ready(struct notify *n, uv_loop_t *loop, const char *status);

/* STOPPING=1 and the watchdog timer closed; again does nothing. Safe before notify_ready. */
void notify_stopping(struct notify *n);

#endif
