/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spawner: a process forked by sluice-rx before it reads its secret key, that forks the
 * link and deliver processes when the monitor asks (SP_*, rx/monitor/procmsg.h), signals them
 * when asked, and reports when they exit. What it forks therefore never held the secret: a
 * fork of the monitor would carry a copy of it in memory. It holds the link socket, the block
 * ring and the shared counters, and parses only the monitor's messages. Its Landlock ruleset
 * grants the deliver process's folders only (deliverproc_folders), so neither it nor what it
 * forks can open keys.secret, which the config keeps out of them.
 */
#ifndef SLUICE_RX_MONITOR_SPAWNER_H
#define SLUICE_RX_MONITOR_SPAWNER_H

#include <sys/types.h>

#include "common/config.h"
#include "rx/link/proc.h"

struct spawner_config {
	const struct rx_config *cfg;
	struct linkproc_config link;
};

/* Forks the spawner: its pid, with *fd the monitor's end of its channel; or -errno. */
pid_t spawner_start(const struct spawner_config *c, int *fd) __attribute__((warn_unused_result));

#endif
