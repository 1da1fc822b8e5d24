/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deliver process: the deliver role (rx/deliver/deliver.h) in a process of its own, forked
 * by the spawner (no secret key), with the output folders, the state folder and the audit log,
 * and no link socket. It takes the two lanes of each link process from the monitor (DV_LINK,
 * DV_LINKEV, rx/monitor/procmsg.h), reads them to their end, and reports a malformed message
 * as a compromise of the link process (DV_BADLINK). Confinement: Landlock grants file access
 * beneath output.files, output.events and state only (the audit log comes as a descriptor), no
 * new privileges, and SANDBOX_DAEMON (no new process, no program to run).
 */
#ifndef SLUICE_RX_DELIVER_PROC_H
#define SLUICE_RX_DELIVER_PROC_H

#include "common/config.h"

struct ring;

/* The folders the deliver process's Landlock ruleset grants (output.files, output.events,
 * state): out gets them, the count is returned. The spawner grants the same ones to itself,
 * since its ruleset stacks on each child's (rx/monitor/spawner.c). */
#define DELIVERPROC_FOLDERS 3
size_t deliverproc_folders(const struct rx_config *cfg, const char *out[DELIVERPROC_FOLDERS]);

/* ctl: the monitor's channel; audit_fd: log.audit opened by the monitor (audit_open_fd), or
 * -1 without one; link_fd: the link socket, closed at once. */
__attribute__((noreturn)) void deliverproc_main(const struct rx_config *cfg,
						const uint8_t (*senders)[32], struct ring *ring,
						int ctl, int audit_fd, int link_fd);

#endif
