/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deliver process: the deliver role (rx/deliver/deliver.h) in a process of its own, forked
 * by the spawner (no secret key), with the output folders, the state folder and the audit log,
 * and no link socket. It takes the two lanes of each link process from the monitor (DV_LINK,
 * DV_LINKEV, rx/monitor/procmsg.h), reads them to their end, and reports a malformed message
 * as a compromise of the link process (DV_BADLINK). Confinement: Landlock grants file access
 * beneath output.files, output.events and state only (the audit log is opened before), no new
 * privileges, and SANDBOX_DAEMON (no new process, no program to run).
 */
#ifndef SLUICE_RX_DELIVER_PROC_H
#define SLUICE_RX_DELIVER_PROC_H

#include "common/config.h"

struct ring;

__attribute__((noreturn)) void deliverproc_main(const struct rx_config *cfg,
						const uint8_t (*senders)[32], struct ring *ring,
						int ctl, int link_fd);

#endif
