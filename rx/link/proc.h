/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The link process: the link role (rx/link/linkrole.h) alone in a process that cannot name a
 * file. Forked by the spawner (rx/monitor/spawner.h), which never held the receiver's secret
 * key; it keeps the link socket, its two lanes to the deliver process and its channel to the
 * key holder, and drops everything else (common/privdrop.h) before it reads a datagram: no
 * filesystem (Landlock, and a chroot into an empty folder when root), the configured `user:`
 * when root, the PARSER system-call filter (common/sandbox.h). Session keys come from the key
 * holder (rx/monitor/keyholder.h), one signed announcement at a time.
 */
#ifndef SLUICE_RX_LINK_PROC_H
#define SLUICE_RX_LINK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct link;
struct ring;

struct linkproc_config {
	struct link *link;
	struct ring *ring;
	const uint8_t (*senders)[32];
	size_t nsenders;
	uint64_t memory_limit, object_limit;
	const char *empty_dir; /* chroot here (root) */
	bool as_user;
	uid_t uid;
	gid_t gid;
};

/* The link role's derive hook: the announcement to the key holder, its answer back within
 * KEYHOLDER_WAIT_NS. Answers come in the order asked; an ask that timed out is owed one, which
 * the next ask skips, so a late answer is never taken for a later announcement's. 0, -EACCES
 * (refused), -ETIMEDOUT, -EBADMSG (not an answer), -EPIPE or another -errno. */
#define KEYHOLDER_WAIT_NS 2000000000ull
struct channel;
struct session_secret;
struct khask {
	struct channel *ch;
	unsigned owed;
};
int linkproc_ask_keys(void *ctx, const uint8_t *ann, size_t len, struct session_secret *out);

/* In the child: never returns. body: the SP_LINK message (rx/monitor/procmsg.h). */
__attribute__((noreturn)) void linkproc_main(const struct linkproc_config *c, const uint8_t *body,
					     size_t len, int chan, int evchan, int keyfd);

/* Test-only triggers (SLUICE_TEST_TRIGGER=name in the environment, first process only): the
 * named process does something its confinement must stop, so that tests can see it stopped. */
const char *test_trigger(void);

#endif
