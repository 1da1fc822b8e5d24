/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of tx's intake in processes of its own (the files of tx/intake_proc/; the
 * processes and their channels are drawn in intake_proc.h) and what they share: the control
 * channel's messages, the state of a struct intake_proc, and the functions one part calls in
 * another. Not for use outside tx/intake_proc/.
 *
 *   intake_proc.c  sluice-tx's side, on its loop: the spawner's messages, the current intake
 *                  process's event channel read, a new process after a back-off, stop
 *   messages.c     what the intake process may send, as sluice-tx checks it
 *   child.c        the intake process: intake (tx/intake/) on the listening sockets, its
 *                  events and counters to sluice-tx, in its sandbox
 *   spawner.c      the sockets bound and the spawner forked; the spawner forks each intake
 *                  process, kills it and reports its end
 */
#ifndef SLUICE_TX_INTAKE_PROC_INTERNAL_H
#define SLUICE_TX_INTAKE_PROC_INTERNAL_H

#include "tx/intake_proc/intake_proc.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "common/channel.h"
#include "common/privdrop.h"
#include "tx/tx_metrics.h"

enum ctl_msg {
	CTL_INVALID = 0,
	CTL_SPAWN,   /* sluice-tx → spawner: start an intake process */
	CTL_KILL,    /* sluice-tx → spawner: u32 pid, kill it now */
	CTL_STOP,    /* sluice-tx → spawner: stop the intake process (SIGTERM), then end */
	CTL_SPAWNED, /* spawner → sluice-tx: u32 pid, with the event channel's descriptor */
	CTL_EXITED,  /* spawner → sluice-tx: u32 pid, u32 wait status */
};

#define CTL_MAX_BODY 64
#define STOP_WAIT_MS 1500

/* The counters the intake process keeps and forwards (tx/intake/'s; UDP kernel drops go as
 * INTAKE_MSG_DROPS): child.c sends them, messages.c takes no other. */
static const enum tx_metric child_metrics[] = {
	TXM_EVENTS_REJECTED, TXM_EVENT_CLIENTS_IDLE,
	TXM_EVENT_CLIENTS_EVICTED, TXM_EVENTS_PARTIAL, TXM_EVENTS_DROPPED,
};
#define NCHILD_METRICS (sizeof(child_metrics) / sizeof(child_metrics[0]))

struct intake_proc {
	const struct config_event *src;
	size_t n;
	int *fds;            /* listening sockets: the spawner's; closed in sluice-tx after fork */
	uint32_t *drops;     /* per source: its kernel drop counter as last reported */
	uint32_t max_body;   /* event channel */
	size_t out_max;
	pid_t spawner;
	struct privdrop drop;  /* what each intake process drops (child.c); as root, into: */
	char empty_dir[4096];  /* STATE/empty */
	struct channel ctl;
	/* sluice-tx side, on the loop */
	uv_loop_t *loop;
	struct evq *q;
	uv_poll_t ctl_poll;
	uv_timer_t backoff;
	bool running, stopping, spawner_gone;
	unsigned handles;    /* open handles; ip is freed when the last has closed */
	struct evpoll *ev;   /* the current intake process's channel, or NULL */
	unsigned fails;      /* restarts in a row without one that lived LIVED_OK_MS */
};

/* child.c: the intake process, from its fork on; never returns */
void child_main(struct intake_proc *ip, int fd);

/* spawner.c: one message on the control channel (a, b; fd passed along when >= 0), written
 * out waiting at most about a second: 0 or -errno */
int spawner_ctl_send(struct channel *ch, uint32_t type, uint32_t a, uint32_t b, int fd);

#endif
