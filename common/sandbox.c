/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_OFF 1
#endif
#endif

static atomic_ulong refused;

unsigned long sandbox_refused(void) { return atomic_load(&refused); }

#ifdef SANDBOX_OFF
bool sandbox_supported(void) { return false; }

int sandbox_enter(char *err, size_t errlen) { return sandbox_enter_profile(SANDBOX_DAEMON, err, errlen); }

int sandbox_enter_profile(enum sandbox_profile p, char *err, size_t errlen)
{
	(void)p;
	(void)err;
	(void)errlen;
	return 0;
}
#else
bool sandbox_supported(void) { return true; }

/* What a running daemon does. */
static const char *const allowed[] = {
	/* files, relative to open folders */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
	"pwritev2", "close", "openat", "open", "newfstatat", "fstat", "stat", "lstat", "statx",
	"lseek", "fsync", "fdatasync", "ftruncate", "fallocate", "renameat", "renameat2", "rename",
	"unlinkat", "unlink", "mkdirat", "mkdir", "fchmod", "fchmodat", "utimensat", "getdents64",
	"fcntl", "ioctl", "dup", "dup3", "readlinkat", "readlink", "faccessat", "faccessat2", "access",
	"fstatfs", "statfs", "fadvise64", "flock", "linkat", "umask", "rmdir",
	/* sockets (created with a family checked below) */
	"recvmmsg", "recvmsg", "recvfrom", "sendmsg", "sendmmsg", "sendto", "connect", "accept",
	"accept4", "bind", "listen", "getsockopt", "setsockopt", "shutdown", "getsockname",
	"getpeername", "socketpair",
	/* event loop */
	"poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"epoll_ctl", "epoll_create1", "eventfd2", "pipe2", "timerfd_create", "timerfd_settime",
	"inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	/* time */
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	/* memory */
	"munmap", "madvise", "brk", "mremap", /* mmap, mprotect: below, never executable */
	/* signals, threads, process */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "rt_sigtimedwait",
	"futex", "set_robust_list", "get_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "tgkill", "kill",
	"exit", "exit_group", "restart_syscall", "getrandom", "setpriority", "getpriority",
	"getrusage", "prlimit64", "uname", "sysinfo", "prctl", "membarrier", "wait4",
};

/* What would let an attacker out: the process dies at once. */
static const char *const deadly[] = {
	"execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "fork", "vfork",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "bpf",
	"mount", "umount2", "pivot_root", "chroot", "setns", "unshare", "keyctl", "add_key",
	"request_key", "userfaultfd", "perf_event_open", "personality", "swapon", "swapoff",
	"reboot", "open_by_handle_at", "name_to_handle_at", "mount_setattr", "fsopen", "fsmount",
	"move_mount", "open_tree", "pidfd_getfd",
};

/* Taken from the daemon's list for the process that parses camera bytes: files, new sockets
 * and their addresses, signals to other processes. Any of them kills the process. */
static const char *const not_for_intake[] = {
	"open", "openat", "creat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir",
	"mkdirat", "rmdir", "linkat", "link", "symlink", "symlinkat", "fchmod", "fchmodat", "chmod",
	"ftruncate", "truncate", "fallocate", "utimensat", "inotify_init1", "inotify_add_watch",
	"connect", "bind", "socket", "socketpair", "readlinkat", "faccessat", "faccessat2", "access",
	"stat", "lstat", "statx", "statfs", "mknod", "mknodat", "kill", "tgkill", "tkill",
};

/* Added to the daemon's list for rx's spawner: what its children call before their own filter
 * (privdrop_apply, privdrop_landlock_paths, sandbox_enter_profile). */
static const char *const for_spawner[] = {
	"chroot", "chdir", "setgroups", "setresuid", "setresgid", "setuid", "setrlimit",
	"close_range", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
	"seccomp",
};

/* Given back to tx's intake spawner from not_for_intake: a channel per intake process, the
 * signals that stop it, and open (libuv opens /dev/null in each intake process's new loop,
 * before that process's own filter; the spawner's Landlock ruleset lets it read that file and
 * no other: tx/intake_proc/spawner.c). */
static const char *const for_tx_spawner[] = {"socketpair", "kill", "open", "openat"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool listed(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static bool parser_like(enum sandbox_profile p) { return p == SANDBOX_PARSER || p == SANDBOX_TX_SPAWNER; }

static bool spawner_like(enum sandbox_profile p) { return p == SANDBOX_SPAWNER || p == SANDBOX_TX_SPAWNER; }

/* A call of the daemon's list that kills under profile p. */
static bool denied(enum sandbox_profile p, const char *name)
{
	if (!parser_like(p) || !listed(not_for_intake, COUNT(not_for_intake), name))
		return false;
	return p != SANDBOX_TX_SPAWNER || !listed(for_tx_spawner, COUNT(for_tx_spawner), name);
}

/* A privilege-dropping call a spawner's child makes before its own filter (tx's intake
 * process keeps its descriptors: no close_range). */
static bool spawner_allows(enum sandbox_profile p, const char *name)
{
	return spawner_like(p) && listed(for_spawner, COUNT(for_spawner), name) &&
	       (p != SANDBOX_TX_SPAWNER || strcmp(name, "close_range") != 0);
}

/* Refused call: EPERM to the caller, a line on stderr (the first 16 only). */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	ucontext_t *uc = ctx;
	unsigned long n = atomic_fetch_add(&refused, 1);
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#else
	(void)uc;
#endif
	if (n >= 16)
		return;
	char msg[96] = "sandbox: refused system call ";
	size_t len = strlen(msg);
	char digits[12];
	int nd = 0;
	unsigned v = (unsigned)si->si_syscall;
	do {
		digits[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && nd < (int)sizeof(digits));
	while (nd)
		msg[len++] = digits[--nd];
	static const char tail[] = " (EPERM)\n";
	memcpy(msg + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	ssize_t w = write(STDERR_FILENO, msg, len);
	(void)w;
}

static int add_named(scmp_filter_ctx f, uint32_t action, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	return seccomp_rule_add(f, action, nr, 0);
}

int sandbox_enter(char *err, size_t errlen) { return sandbox_enter_profile(SANDBOX_DAEMON, err, errlen); }

int sandbox_enter_profile(enum sandbox_profile p, char *err, size_t errlen)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0) {
		snprintf(err, errlen, "sandbox: sigaction(SIGSYS): %s", strerror(errno));
		return -errno;
	}
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	if (!f) {
		snprintf(err, errlen, "sandbox: seccomp_init failed");
		return -ENOMEM;
	}
	int rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; rc == 0 && i < COUNT(allowed); i++)
		if (!denied(p, allowed[i]))
			rc = add_named(f, SCMP_ACT_ALLOW, allowed[i]);
	for (size_t i = 0; rc == 0 && i < COUNT(for_spawner); i++)
		if (spawner_allows(p, for_spawner[i]))
			rc = add_named(f, SCMP_ACT_ALLOW, for_spawner[i]);
	for (size_t i = 0; rc == 0 && i < COUNT(deadly); i++)
		if (!spawner_allows(p, deadly[i]))
			rc = add_named(f, SCMP_ACT_KILL_PROCESS, deadly[i]);
	/* A signal to itself (abort) stays possible; to any other process it kills this one. */
	if (rc == 0 && parser_like(p))
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	if (rc == 0 && parser_like(p))
		rc = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, SCMP_SYS(tgkill), 1,
				      SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)getpid()));
	for (size_t i = 0; rc == 0 && parser_like(p) && i < COUNT(not_for_intake); i++)
		if (strcmp(not_for_intake[i], "tgkill") != 0 && denied(p, not_for_intake[i]))
			rc = add_named(f, SCMP_ACT_KILL_PROCESS, not_for_intake[i]);
	if (rc == 0 && p == SANDBOX_PARSER)
		rc = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 0);
	/* clone: never into a new namespace (unshare and setns are deadly already). Threads only
	 * for the daemon: clone without CLONE_THREAD would be a new process. clone3 passes its
	 * flags in memory a filter cannot read: ENOSYS makes the C library fall back to clone.
	 * The rules below do not overlap: each flag word matches one action. */
	const unsigned long ns_flags[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
					  CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP};
	unsigned long ns = 0;
	for (size_t i = 0; i < COUNT(ns_flags); i++)
		ns |= ns_flags[i];
	for (size_t i = 0; rc == 0 && p != SANDBOX_PARSER && i < COUNT(ns_flags); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	if (rc == 0 && p == SANDBOX_SPAWNER) /* it forks the link and deliver processes */
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, ns, 0));
	/* The daemon makes threads and no process; tx's spawner processes and no thread. */
	bool forks = p == SANDBOX_TX_SPAWNER;
	uint32_t thread_act = forks ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ALLOW;
	uint32_t process_act = forks ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_PROCESS;
	if (rc == 0 && (p == SANDBOX_DAEMON || forks))
		rc = seccomp_rule_add(f, thread_act, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | ns, CLONE_THREAD));
	if (rc == 0 && (p == SANDBOX_DAEMON || forks))
		rc = seccomp_rule_add(f, process_act, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | ns, 0));
	if (rc == 0)
		rc = add_named(f, SCMP_ACT_ERRNO(ENOSYS), "clone3");
	/* Memory, but no new executable code: all code was mapped at start (no dlopen later),
	 * so a mapping with PROT_EXEC now would be an exploit staging its payload. */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Sockets of the families and types Sluice uses: UDP and TCP over IPv4 and IPv6, unix
	 * stream and datagram; not a raw socket (as root, one would see the link's datagrams).
	 * The type's low bits are the type, the others SOCK_CLOEXEC and SOCK_NONBLOCK. */
	const int families[] = {AF_UNIX, AF_INET, AF_INET6}, types[] = {SOCK_STREAM, SOCK_DGRAM};
	for (size_t i = 0; rc == 0 && !parser_like(p) && i < COUNT(families); i++)
		for (size_t t = 0; rc == 0 && t < COUNT(types); t++)
			rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]),
					      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)types[t]));
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	if (rc != 0) {
		snprintf(err, errlen, "sandbox: seccomp filter: %s", strerror(-rc));
		return rc;
	}
	return 0;
}
#endif
