/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor: sluice-rx's first process. It sets everything up (folders, the link socket,
 * the block ring, the shared counters), forks the spawner (rx/monitor/spawner.h) before it
 * reads the secret key, then holds the key (rx/monitor/keyholder.h) and supervises:
 *
 *   - the deliver process starts first and names the objects kept at the last clean stop;
 *     then the link process starts, with its lanes to the deliver process;
 *   - a child that dies is started again after a back-off (100 ms, doubling up to 5 s, back
 *     to 100 ms once it has run 30 s), logged and counted; a malformed message on any channel
 *     is a compromise of its sender, which is killed and started again;
 *   - a link process that has not said it runs (KH_ALIVE) for LINK_STALL_NS is stopped or hung:
 *     killed, and so started again;
 *   - on SIGTERM or SIGINT the link process stops first (it names its unfinished objects and
 *     hands over what it holds), then the deliver process (which keeps those), then the
 *     spawner; a child that has not stopped after STOP_KILL_MS is killed.
 * It also serves the metrics and runs the retention sweeps. Its filter is SANDBOX_DAEMON.
 */
#ifndef SLUICE_RX_MONITOR_MONITOR_H
#define SLUICE_RX_MONITOR_MONITOR_H

#include <stdint.h>

#include "common/config.h"

/* cfg and the pinned sender keys loaded; the secret is read here, after the spawner is forked.
 * The process's exit code. */
int monitor_run(const char *cfg_path, struct rx_config *cfg, const uint8_t (*senders)[32]);

#endif
