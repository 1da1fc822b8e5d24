/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/sandbox.c, each case in a child process of its own (a filter cannot be removed):
 * what a running daemon does still works (files in a folder, UDP and unix sockets, a new
 * thread); a call off the list fails with EPERM, is counted and logged; a socket of another
 * family is refused, and so is executable memory (mmap or mprotect with PROT_EXEC); a new process, execve and ptrace kill the process with SIGSYS.
 * Skipped in AddressSanitizer builds, which have no filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sandbox.h"

/* Runs fn in a child that entered the sandbox; returns the child's wait status. fn returns
 * 0 on success, or the line that failed. */
static enum sandbox_profile profile = SANDBOX_DAEMON;

static int in_sandbox(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		if (sandbox_enter_profile(profile, err, sizeof(err)) != 0) {
			fprintf(stderr, "sandbox_enter: %s\n", err);
			_exit(100);
		}
		_exit(fn());
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "failed in the sandbox: %s (line %d, errno %d)\n", #cond, \
				__LINE__, errno);                                                  \
			return __LINE__ % 250 + 1;                                                 \
		}                                                                                  \
	} while (0)

static void *thread_fn(void *p) { return p; }

static int daemon_work(void)
{
	char dir[] = "/tmp/sluice-sandbox-XXXXXX";
	CHECK(mkdtemp(dir) != NULL); /* before: mkdtemp may use calls we do not list */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	int fd = openat(dfd, ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello", 5) == 5);
	CHECK(fsync(fd) == 0);
	CHECK(close(fd) == 0);
	CHECK(renameat(dfd, ".tmp", dfd, "final") == 0);
	char buf[8] = {0};
	fd = openat(dfd, "final", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	close(fd);
	CHECK(unlinkat(dfd, "final", 0) == 0);
	CHECK(mkdirat(dfd, "sub", 0755) == 0 && unlinkat(dfd, "sub", AT_REMOVEDIR) == 0);
	close(dfd);
	CHECK(rmdir(dir) == 0);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(u >= 0);
	close(u);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(write(sv[0], "x", 1) == 1 && read(sv[1], buf, 1) == 1 && buf[0] == 'x');
	pthread_t t;
	CHECK(pthread_create(&t, NULL, thread_fn, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	void *m = malloc(64 << 20); /* an mmap */
	CHECK(m != NULL);
	memset(m, 1, 64 << 20);
	free(m);
	CHECK(sandbox_refused() == 0);
	return 0;
}

static int refused_calls(void)
{
	char buf[256];
	errno = 0;
	CHECK(syscall(SYS_getcwd, buf, sizeof(buf)) == -1 && errno == EPERM);
	CHECK(sandbox_refused() == 1);
	errno = 0;
	CHECK(socket(AF_PACKET, SOCK_RAW, 0) == -1 && errno == EPERM);
	errno = 0;
	CHECK(socket(AF_NETLINK, SOCK_RAW, 0) == -1 && errno == EPERM);
	CHECK(sandbox_refused() == 3);
	/* a family Sluice uses, but a raw socket (the link's datagrams, as root): refused by the
	 * filter (counted), not only by the kernel's permission check */
	errno = 0;
	CHECK(socket(AF_INET, SOCK_RAW, IPPROTO_UDP) == -1 && errno == EPERM);
	CHECK(socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP) == -1 && errno == EPERM);
	CHECK(sandbox_refused() == 5);
	int ok = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CHECK(ok >= 0 && close(ok) == 0);
	ok = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(ok >= 0 && close(ok) == 0);
	errno = 0;
	CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
	/* no new executable memory, by mapping or by changing a mapping */
	errno = 0;
	CHECK(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED &&
	      errno == EPERM);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	errno = 0;
	CHECK(mprotect(m, 4096, PROT_READ | PROT_EXEC) == -1 && errno == EPERM);
	CHECK(mprotect(m, 4096, PROT_READ) == 0);
	CHECK(munmap(m, 4096) == 0);
	CHECK(sandbox_refused() == 7);
	return 0;
}

static int do_fork(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	return 1; /* not reached: fork kills */
}

static int do_exec(void)
{
	char *argv[] = {"true", NULL};
	execv("/bin/true", argv);
	return 1;
}

static int do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 1;
}

static int do_socketpair(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv); /* kills */
	return 1;
}

static int sv_pre[2];
/* What tx's intake process does: I/O on sockets it was given, memory, a signal to itself. */
static int intake_io(void)
{
	char buf[4];
	CHECK(send(sv_pre[0], "ab", 2, MSG_NOSIGNAL) == 2 && recv(sv_pre[1], buf, sizeof(buf), 0) == 2);
	void *m = malloc(8 << 20);
	CHECK(m != NULL);
	free(m);
	CHECK(syscall(SYS_tgkill, getpid(), gettid(), 0) == 0); /* itself: allowed */
	return 0;
}

static int do_open(void)
{
	open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	return 1;
}

static int do_kill_parent(void)
{
	kill(getppid(), 0);
	return 1;
}

static int do_socket(void)
{
	socket(AF_INET, SOCK_DGRAM, 0);
	return 1;
}

static int do_connect(void)
{
	struct sockaddr sa = {.sa_family = AF_UNIX};
	connect(sv_pre[0], &sa, sizeof(sa));
	return 1;
}

static int do_tgkill_other(void)
{
	syscall(SYS_tgkill, getppid(), getppid(), 0);
	return 1;
}

/* fn runs to its end in the sandbox and returns 0. */
static void expect_clean(int (*fn)(void))
{
	if (!sandbox_supported())
		skip();
	int st = in_sandbox(fn);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_daemon_work(void **state)
{
	(void)state;
	expect_clean(daemon_work);
}

static void test_refused(void **state)
{
	(void)state;
	expect_clean(refused_calls);
}

/* A process in a new user and network namespace: clone's flags, not unshare (a spawner may
 * make processes, never namespaces). In the child, if the call returned there: leave. */
static int do_clone_ns(void)
{
	long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD), NULL,
			   NULL, NULL, NULL);
	if (pid == 0)
		_exit(0);
	return 1;
}

static void test_deadly(void **state)
{
	(void)state;
	if (!sandbox_supported())
		skip();
	int (*fns[])(void) = {do_fork, do_exec, do_ptrace, do_clone_ns};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		int st = in_sandbox(fns[i]);
		if (!WIFSIGNALED(st))
			fail_msg("case %zu: exited %d, not killed", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

/* tx's intake process: I/O on sockets it holds works; open, a new socket, connect, a
 * socketpair, a signal to another process, fork kill it with SIGSYS. */
static void test_intake_profile(void **state)
{
	(void)state;
	if (!sandbox_supported())
		skip();
	profile = SANDBOX_PARSER;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_pre), 0);
	expect_clean(intake_io);
	int (*fns[])(void) = {do_open, do_socket, do_connect, do_socketpair, do_kill_parent, do_tgkill_other,
			      do_fork, do_exec};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		int st = in_sandbox(fns[i]);
		if (!WIFSIGNALED(st))
			fail_msg("case %zu: exited %d, not killed", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
	close(sv_pre[0]);
	close(sv_pre[1]);
	profile = SANDBOX_DAEMON;
}

/* What rx's spawner does, and what a child of it does before its own filter: a new process
 * that runs and is reaped, the calls that drop privileges (they fail here without root, with
 * EPERM from the kernel, not from the filter), a child's own filter stacked on top. */
static int spawner_work(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char err[256];
		struct rlimit r = {0, 0};
		if (setrlimit(RLIMIT_CORE, &r) != 0 || chdir("/") != 0)
			_exit(3);
		if (syscall(SYS_close_range, 100u, 200u, 0) != 0)
			_exit(4);
		(void)syscall(SYS_landlock_create_ruleset, NULL, 0, 1); /* the ABI version */
		uid_t u = geteuid();
		gid_t g = getegid();
		(void)!chroot("/");
		(void)!setgroups(0, NULL);
		(void)!setresgid(g, g, g);
		(void)!setresuid(u, u, u);
		(void)!setuid(0);
		if (sandbox_refused() != 0)
			_exit(5); /* the spawner's filter refused one of them */
		if (sandbox_enter_profile(SANDBOX_PARSER, err, sizeof(err)) != 0)
			_exit(6);
		_exit(0);
	}
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(kill(getpid(), 0) == 0);
	return 0;
}

static int do_unshare(void)
{
	unshare(CLONE_NEWUSER);
	return 1;
}

static int do_mount(void)
{
	mount("none", "/tmp", "tmpfs", 0, NULL);
	return 1;
}

/* rx's spawner: it and its children before their own filters run; exec, ptrace, a mount and
 * a namespace (unshare, or clone with a namespace flag) kill it with SIGSYS. */
static void test_spawner_profile(void **state)
{
	(void)state;
	if (!sandbox_supported())
		skip();
	profile = SANDBOX_SPAWNER;
	expect_clean(daemon_work);
	expect_clean(spawner_work);
	int (*fns[])(void) = {do_exec, do_ptrace, do_unshare, do_mount, do_clone_ns};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		int st = in_sandbox(fns[i]);
		if (!WIFSIGNALED(st))
			fail_msg("case %zu: exited %d, not killed", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
	profile = SANDBOX_DAEMON;
}

static void *thread_noop(void *p) { return p; }

static int do_unlink(void)
{
	unlink("/nonexistent-sluice-test");
	return 1;
}

static int do_thread(void)
{
	pthread_t t;
	pthread_create(&t, NULL, thread_noop, NULL); /* kills: the spawner never makes threads */
	return 1;
}

/* What tx's intake spawner does, and what an intake process does before its own filter: a
 * socketpair per child, a new process that sets up an event loop (epoll, a pipe, an eventfd,
 * signal handlers), drops privileges (EPERM from the kernel without root, not from the
 * filter), installs its own filter; I/O on sockets it was given; the child killed and reaped. */
static int tx_spawner_work(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char err[256];
		int p[2];
		struct rlimit r = {0, 0};
		if (setrlimit(RLIMIT_CORE, &r) != 0 || chdir("/") != 0)
			_exit(3);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC); /* libuv's, in a new loop */
		if (null < 0 || close(null) != 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0 || syscall(SYS_epoll_create1, O_CLOEXEC) < 0 ||
		    syscall(SYS_eventfd2, 0, O_CLOEXEC) < 0 || signal(SIGTERM, SIG_DFL) == SIG_ERR)
			_exit(4);
		(void)syscall(SYS_landlock_create_ruleset, NULL, 0, 1); /* the ABI version */
		uid_t u = geteuid();
		gid_t g = getegid();
		(void)!chroot("/");
		(void)!setgroups(0, NULL);
		(void)!setresgid(g, g, g);
		(void)!setresuid(u, u, u);
		(void)!setuid(0);
		if (sandbox_refused() != 0)
			_exit(5); /* the spawner's filter refused one of them */
		if (sandbox_enter_profile(SANDBOX_PARSER, err, sizeof(err)) != 0)
			_exit(6);
		if (write(sv[1], "ok", 2) != 2)
			_exit(7);
		(void)poll(NULL, 0, 10000); /* until killed */
		_exit(8);
	}
	char buf[4];
	CHECK(read(sv[0], buf, sizeof(buf)) == 2 && memcmp(buf, "ok", 2) == 0);
	CHECK(kill(pid, SIGKILL) == 0);
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(sandbox_refused() == 0);
	return 0;
}

/* tx's intake spawner: the above works; unlink, a new socket, connect, a signal to another
 * thread, a thread, exec, ptrace, a mount and a namespace kill it with SIGSYS (open stays:
 * its Landlock ruleset, not this filter, keeps it to /dev/null). */
static void test_tx_spawner_profile(void **state)
{
	(void)state;
	if (!sandbox_supported())
		skip();
	profile = SANDBOX_TX_SPAWNER;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_pre), 0);
	expect_clean(tx_spawner_work);
	expect_clean(intake_io);
	int (*fns[])(void) = {do_unlink, do_socket, do_connect, do_tgkill_other, do_thread, do_exec,
			      do_ptrace, do_unshare, do_mount, do_clone_ns};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		int st = in_sandbox(fns[i]);
		if (!WIFSIGNALED(st))
			fail_msg("case %zu: exited %d, not killed", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
	close(sv_pre[0]);
	close(sv_pre[1]);
	profile = SANDBOX_DAEMON;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daemon_work),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_deadly),
		cmocka_unit_test(test_intake_profile),
		cmocka_unit_test(test_spawner_profile),
		cmocka_unit_test(test_tx_spawner_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
