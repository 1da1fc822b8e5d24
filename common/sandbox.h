/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A seccomp system-call filter for a daemon once it is set up (libseccomp).
 *
 * After sandbox_enter, every thread of the process (present and future) may make only the
 * system calls a running daemon needs: file I/O relative to open folders, sockets of the
 * internet and unix families, memory, time, futexes, threads. Anything else is refused with
 * EPERM and logged once per call site class ("sandbox refused system call N"), so a path the
 * list missed fails with an error instead of killing the daemon; what an attacker would need
 * to take over the host (execve, ptrace, a new process, mounts, namespaces, BPF, kernel
 * modules, keyrings) kills the whole process at once instead.
 *
 * Builds with AddressSanitizer skip the filter: its reports fork a symbolizer.
 */
#ifndef SLUICE_SANDBOX_H
#define SLUICE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* Installs the filter on every thread. 0, or -errno with a message in err. */
int sandbox_enter(char *err, size_t errlen) __attribute__((warn_unused_result));

/* SANDBOX_DAEMON is sandbox_enter's list. SANDBOX_PARSER (the processes that parse untrusted
 * bytes: tx's event intake, rx's link process) drops from it everything that names a file or
 * makes a socket or an address (open, stat, unlink, rename, mkdir, chmod, socket, socketpair,
 * bind, connect, inotify), every clone, and every signal to another process: each of those
 * kills the process. */
/* SANDBOX_SPAWNER (rx's spawner, rx/monitor/spawner.h) is SANDBOX_DAEMON plus what starting
 * its children takes, since a filter is inherited by every process forked after it: a new
 * process (clone without CLONE_THREAD), and what a child calls before it installs its own
 * filter on top (which then narrows it further): chroot, chdir, setgroups, setresuid,
 * setresgid, setuid, setrlimit, close_range, the three Landlock calls and seccomp. Still
 * deadly: execve, ptrace, mounts, namespaces, BPF, modules, keyrings, the rest of the list. */
/* SANDBOX_TX_SPAWNER (tx's intake spawner, tx/intake_proc/spawner.c) starts from
 * SANDBOX_PARSER (no stat, unlink, rename, mkdir, chmod, socket, bind, connect, inotify:
 * each kills it) and adds only what the spawner and an intake process before its own filter
 * call: socketpair (a channel per intake process), kill (its child), open and openat (libuv
 * opens /dev/null in a new loop: the spawner's Landlock ruleset allows reading that file
 * only), a new process (clone without CLONE_THREAD; a thread kills it), and chroot, chdir,
 * setgroups, setresuid, setresgid, setuid, setrlimit, the three Landlock calls and seccomp. */
enum sandbox_profile { SANDBOX_DAEMON = 0, SANDBOX_PARSER, SANDBOX_SPAWNER, SANDBOX_TX_SPAWNER };
int sandbox_enter_profile(enum sandbox_profile p, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Whether this build installs a filter (false under AddressSanitizer). */
bool sandbox_supported(void);
/* System calls refused so far (not counting the ones that kill). */
unsigned long sandbox_refused(void);

#endif
