/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dropping what a process that parses untrusted bytes does not need, once its descriptors are
 * in place and before it reads a byte: in the manner of OpenBSD's privilege-separated daemons.
 *
 *   - every descriptor closed but the ones it was given (unless keep_all_fds);
 *   - rlimits: no new descriptors (unless keep_all_fds), no core dumps, no locked memory, no
 *     message queues (file size stays unlimited: stderr may be a log file);
 *   - when started as root: chroot into an empty directory, then the groups, group and user of
 *     an unprivileged account, so that even a way out of the other fences finds nothing; a
 *     parent-death signal set before is set again (the user change clears it);
 *   - no new privileges, not dumpable (no core, no ptrace by the same user);
 *   - Landlock (kernel 5.13 and later, through the raw system calls): a ruleset that handles
 *     every file access right the kernel knows and grants none, so no path can be opened,
 *     created or removed; from ABI 4 no TCP bind or connect; from ABI 6 no signal to, and no
 *     abstract unix socket of, a process outside the domain.
 * The system-call filter (common/sandbox.h) comes after, as its own step.
 */
#ifndef SLUICE_PRIVDROP_H
#define SLUICE_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	const int *keep_fds; /* stay open (0, 1, 2 always do) */
	size_t nkeep;
	bool keep_all_fds;     /* close nothing, leave RLIMIT_NOFILE: for a process whose event
				  loop keeps descriptors of its own and accepts clients (tx's
				  intake); keep_fds is then ignored */
	const char *empty_dir; /* chroot here when root (it must exist, be empty, be root's) */
	bool as_user;          /* root only: become uid/gid */
	uid_t uid;
	gid_t gid;
};

/* Makes STATE/empty (mode 0555) for a chroot, its path in out: 0, -ENOTEMPTY when it holds
 * anything, is writable by group or others, or (when root) is not root's, or -errno. */
int privdrop_empty_dir(const char *state, char *out, size_t outlen) __attribute__((warn_unused_result));
/* Looks up user's uid and gid (before a chroot hides /etc/passwd). 0, or -ENOENT with a
 * message naming the account and how to create it. */
int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Applies every step above. 0, or -errno with the step that failed in err. A kernel without
 * Landlock is not an error: *landlock tells (the ABI version, or 0). */
int privdrop_apply(const struct privdrop *p, int *landlock, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* For a process that needs some folders only (rx's deliver process, and its spawner):
 * Landlock grants every right but execute beneath each of the n paths, and nothing elsewhere;
 * no new privileges. Descriptors already open keep working. The ABI version (0: no Landlock here, nothing
 * done), or -errno with the step in err. */
int privdrop_landlock_paths(const char *const *paths, size_t n, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* For a process that reads one file at most (tx's intake spawner and, before their own
 * ruleset, its children: libuv opens /dev/null in each new event loop): Landlock grants
 * reading that file and nothing else. Return as privdrop_landlock_paths. */
int privdrop_landlock_read_file(const char *path, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* The kernel's Landlock ABI version, or 0 without Landlock. */
int privdrop_landlock_abi(void);

#endif
