/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The messages between sluice-rx's processes (each over its own channel, common/channel.h):
 *
 *   monitor <-> spawner   SP_*: start the link or the deliver process, signal it, and hear
 *                         when one exits. The spawner is forked before the receiver's secret
 *                         key is read, so what it forks never held it.
 *   monitor <-> deliver   DV_*: the channels of each new link process; the file objects kept
 *                         at the last clean stop; a malformed message from the link process;
 *                         the audit log reopened (SIGHUP, logrotate); the deliver process's
 *                         heartbeat.
 *   link    <-> monitor   KH_* (rx/monitor/keyholder.h): session keys from announcements.
 *   link     -> deliver   rx/msg.h, and the block ring (rx/ring.h).
 *
 * A message a process does not expect, or with a body of the wrong shape, is a compromise of
 * its sender: the monitor kills that process (and restarts it); a child that gets one from the
 * monitor stops.
 *
 * The link process's start (SP_LINK body, little-endian):
 *   incarnation u32, receiver public key [32], a MAC key [32] per pinned sender (in the
 *   configuration's order), STATE/senders's text (u32 length, bytes), then the kept objects as
 *   DV_KEPT carries them: count u32, each session u64, object u64, length u64, top u32 and
 *   ceil(top / 8) bytes of a bit per block done.
 */
#ifndef SLUICE_RX_MONITOR_PROCMSG_H
#define SLUICE_RX_MONITOR_PROCMSG_H

#include <stddef.h>
#include <stdint.h>

#include "rx/link/linkrole.h"

enum {
	SP_FD = 1,       /* monitor -> spawner: one descriptor for the next start */
	SP_LINK = 2,     /* monitor -> spawner: start the link process (3 descriptors: the block
			    lane, the event lane, the key holder's channel) */
	SP_DELIVER = 3,  /* monitor -> spawner: start the deliver process (1: its channel) */
	SP_SIGNAL = 4,   /* monitor -> spawner: role u32, signal u32 */
	SP_STOP = 5,     /* monitor -> spawner: exit */
	SP_SPAWNED = 6,  /* spawner -> monitor: role u32, pid u32 */
	SP_EXITED = 7,   /* spawner -> monitor: role u32, pid u32, wait status u32 */
};
enum { ROLE_LINK = 0, ROLE_DELIVER = 1 };

enum {
	DV_LINK = 1,    /* monitor -> deliver: the block lane of a new link process (descriptor) */
	DV_LINKEV = 2,  /* monitor -> deliver: and its event lane (descriptor) */
	DV_STOP = 3,    /* monitor -> deliver: finish and exit */
	DV_KEPT = 4,    /* deliver -> monitor: the kept objects (format above) */
	DV_BADLINK = 5, /* deliver -> monitor: the link process sent a malformed message (text) */
	DV_AUDIT = 6,   /* monitor -> deliver: the audit log opened anew, on SIGHUP (descriptor) */
	DV_ALIVE = 7,   /* deliver -> monitor: empty, about once a second while its loop runs */
};
#define DV_ALIVE_MS 1000

#define PROCMSG_BODY_MAX (16u << 20)
#define PROCMSG_RESUME_MAX 4096 /* kept objects at most */
#define PROCMSG_TOP_MAX (1u << 24)

/* The kept objects in DV_KEPT's form, in a buffer of their own (free it): the first of them
 * that fit PROCMSG_RESUME_MAX objects and PROCMSG_KEPT_BYTES. How many, or -ENOMEM. */
#define PROCMSG_KEPT_BYTES (8u << 20)
int procmsg_resume_encode(const struct linkrole_resume *r, size_t n, uint8_t **out, size_t *len)
	__attribute__((warn_unused_result));

/* SP_LINK's body, decoded: pointers into body. */
struct procmsg_link {
	uint32_t incarnation;
	const uint8_t *rx_pk;
	const uint8_t *mac_keys;
	const char *state;
	size_t state_len;
	struct linkrole_resume *resume; /* allocated (procmsg_link_free) */
	size_t nresume;
};
/* 0, or -EBADMSG (any length or count that does not add up) / -ENOMEM. */
int procmsg_link_decode(const uint8_t *body, size_t len, size_t nsenders, struct procmsg_link *out)
	__attribute__((warn_unused_result));
void procmsg_link_free(struct procmsg_link *m);

#endif
