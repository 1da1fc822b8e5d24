/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spawner: intake_proc_start binds every source's socket and forks it, before the signing
 * key is read and before any thread. It keeps the listening sockets and, on the control
 * channel, forks an intake process on CTL_SPAWN (its event channel passed to sluice-tx with
 * CTL_SPAWNED; one still running from before is killed and waited for first), kills it on
 * CTL_KILL, reports its end with CTL_EXITED, and on CTL_STOP stops it (SIGTERM, SIGKILL after
 * STOP_WAIT_MS) and ends. It runs under SANDBOX_TX_SPAWNER (common/sandbox.h), which each
 * intake process inherits and narrows with its own.
 */
#include "tx/intake_proc/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mkdirs.h"
#include "common/privdrop.h"
#include "common/sandbox.h"
#include "tx/intake/intake.h"

#define CHILD_OUT_MIN (4u << 20)

int spawner_ctl_send(struct channel *ch, uint32_t type, uint32_t a, uint32_t b, int fd)
{
	uint8_t body[8];
	channel_put32(body, a);
	channel_put32(body + 4, b);
	int rc;
	if (fd >= 0) {
		rc = channel_send_fd(ch, type, body, sizeof(body), fd);
	} else {
		const void *parts[1] = {body};
		size_t lens[1] = {sizeof(body)};
		rc = channel_queue(ch, type, parts, lens, 1);
	}
	for (int i = 0; rc == 0 && channel_pending(ch) && i < 100; i++) {
		rc = channel_flush(ch);
		if (rc == -EAGAIN) {
			struct pollfd p = {.fd = ch->fd, .events = POLLOUT};
			(void)poll(&p, 1, 10);
			rc = 0;
		}
	}
	return rc ? rc : channel_pending(ch) ? -ETIMEDOUT : 0;
}

/* The test trigger tx-intake-linger (tests/e2e/test_intake_process.sh): the first intake
 * process closes its channel, then waits 1.5 s before it exits, as one slow to exit would. */
static bool linger_first(void)
{
	static bool done;
	const char *trigger = getenv("SLUICE_TEST_TRIGGER");
	bool first = !done;
	done = true;
	return first && trigger && strcmp(trigger, "tx-intake-linger") == 0;
}

static pid_t spawn(struct intake_proc *ip)
{
	bool linger = linger_first();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_error("intake spawner: socketpair: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(ip->ctl.fd);
		if (linger) {
			close(sv[1]);
			(void)poll(NULL, 0, 1500);
			_exit(0);
		}
		child_main(ip, sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		log_error("intake spawner: fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	int rc = spawner_ctl_send(&ip->ctl, CTL_SPAWNED, (uint32_t)pid, 0, sv[0]);
	close(sv[0]);
	if (rc != 0) {
		kill(pid, SIGKILL);
		log_error("intake spawner: cannot pass the channel to sluice-tx: %s", strerror(-rc));
	}
	return pid;
}

/* The child, once it has exited: reported to sluice-tx. */
static void reap(struct intake_proc *ip, pid_t *child, bool wait_for)
{
	int st;
	if (*child <= 0 || waitpid(*child, &st, wait_for ? 0 : WNOHANG) != *child)
		return;
	(void)spawner_ctl_send(&ip->ctl, CTL_EXITED, (uint32_t)*child, (uint32_t)st, -1);
	*child = 0;
}

static void stop_child(struct intake_proc *ip, pid_t *child)
{
	if (*child <= 0)
		return;
	kill(*child, SIGTERM);
	for (int i = 0; i < STOP_WAIT_MS / 10 && *child > 0; i++) {
		(void)poll(NULL, 0, 10);
		reap(ip, child, false);
	}
	if (*child > 0) {
		log_warn("intake process %d did not stop within %d ms: killed", (int)*child, STOP_WAIT_MS);
		kill(*child, SIGKILL);
		reap(ip, child, true);
	}
}

static void spawner_main(struct intake_proc *ip, pid_t parent)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NAME, "sluice-tx-spawn");
	(void)prctl(PR_SET_DUMPABLE, 0);
	log_set_name("sluice-tx spawner");
	/* A terminal's ^C or a service manager's SIGTERM to the whole group: sluice-tx decides
	 * when intake stops (CTL_STOP), so that what it took is handed over first. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* a reload is the main process's (a SIGHUP to the group too) */
	/* Its files: reading /dev/null (what libuv opens in each intake process's new loop),
	 * nothing else; then its system-call filter. Both are inherited by each intake process,
	 * which narrows them with its own. */
	char err[256];
	int landlock = privdrop_landlock_read_file("/dev/null", err, sizeof(err));
	if (landlock < 0 || sandbox_enter_profile(SANDBOX_TX_SPAWNER, err, sizeof(err)) != 0) {
		log_error("intake spawner: %s", err);
		_exit(1);
	}
	const char *trigger = getenv("SLUICE_TEST_TRIGGER"); /* the tests' (rx/link/proc.h) */
	if (trigger && strcmp(trigger, "tx-spawner-filter") == 0) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		log_warn("test trigger tx-spawner-filter: open(/etc/passwd) %s%s (Landlock ABI %d)",
			 fd >= 0 ? "succeeded" : "failed: ", fd >= 0 ? "" : strerror(errno), landlock);
		if (fd >= 0)
			close(fd);
		log_warn("test trigger tx-spawner-filter: calling execve() under the filter");
		char *argv[] = {"/bin/true", NULL};
		execve(argv[0], argv, NULL);
		log_error("test trigger tx-spawner-filter: execve() failed (%s): not stopped", strerror(errno));
	}
	pid_t child = 0;
	for (;;) {
		struct pollfd p = {.fd = ip->ctl.fd, .events = POLLIN};
		int r = poll(&p, 1, child > 0 ? 50 : 1000);
		reap(ip, &child, false);
		if (r <= 0)
			continue;
		ssize_t got = channel_read(&ip->ctl);
		if (got == -EAGAIN)
			continue;
		if (got <= 0)
			break; /* sluice-tx is gone */
		struct channel_msg m;
		int rc;
		while ((rc = channel_next(&ip->ctl, &m)) == 1) {
			if (m.type == CTL_SPAWN) {
				/* sluice-tx asks only once it has no channel to the last one: one that
				 * has not exited yet serves nobody, and is ended first */
				if (child > 0) {
					kill(child, SIGKILL);
					reap(ip, &child, true);
				}
				if ((child = spawn(ip)) < 0)
					(void)spawner_ctl_send(&ip->ctl, CTL_EXITED, 0, 1u << 8, -1); /* none started */
			} else if (m.type == CTL_KILL && m.len == 8 && child > 0 &&
				 channel_get32(m.body) == (uint32_t)child)
				kill(child, SIGKILL);
			else if (m.type == CTL_STOP) {
				stop_child(ip, &child);
				_exit(0);
			}
		}
		if (rc < 0)
			break;
	}
	if (child > 0) {
		kill(child, SIGKILL);
		reap(ip, &child, true);
	}
	_exit(0);
}

/* As root: the intake process's account, and STATE/empty for its root. */
static int drop_setup(struct intake_proc *ip, const char *state, const char *user)
{
	char err[512];
	int rc;
	ip->drop = (struct privdrop){.keep_all_fds = true, .empty_dir = ip->empty_dir};
	if (geteuid() != 0)
		return 0;
	if ((rc = privdrop_lookup(user, &ip->drop.uid, &ip->drop.gid, err, sizeof(err))) != 0) {
		log_error("user: %s", err);
		return rc;
	}
	ip->drop.as_user = true;
	if ((rc = mkdirs(state, 0700, false)) != 0) {
		log_error("state %s: %s", state, strerror(-rc));
		return rc;
	}
	if ((rc = privdrop_empty_dir(state, ip->empty_dir, sizeof(ip->empty_dir))) != 0) {
		log_error("%s/empty: %s (the intake process's root: an empty folder, root's, not "
			  "writable by others)", state, rc == -ENOTEMPTY ? "not empty, or not safe" : strerror(-rc));
		return rc;
	}
	return 0;
}

int intake_proc_start(struct intake_proc **out, const struct config_event *sources, size_t n,
		      const char *state, const char *user)
{
	struct intake_proc *ip = calloc(1, sizeof(*ip));
	if (!ip || !(ip->fds = calloc(n ? n : 1, sizeof(int))) ||
	    !(ip->drops = calloc(n ? n : 1, sizeof(uint32_t)))) {
		if (ip)
			free(ip->fds);
		free(ip);
		return -ENOMEM;
	}
	ip->src = sources;
	ip->n = n;
	uint64_t longest = 0;
	for (size_t i = 0; i < n; i++)
		longest = sources[i].max_line > longest ? sources[i].max_line : longest;
	ip->max_body = (uint32_t)(INTAKE_EVENT_HDR + (longest < (1u << 29) ? longest : (1u << 29)));
	ip->out_max = 4 * ((size_t)ip->max_body + CHANNEL_HDR);
	if (ip->out_max < CHILD_OUT_MIN)
		ip->out_max = CHILD_OUT_MIN;
	int rc = drop_setup(ip, state, user);
	if (rc == 0)
		rc = intake_bind(sources, n, ip->fds);
	if (rc != 0) {
		free(ip->fds);
		free(ip->drops);
		free(ip);
		return rc;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rc = -errno;
		log_error("event intake: socketpair: %s", strerror(errno));
		goto unbind;
	}
	if ((rc = channel_init(&ip->ctl, sv[1], CTL_MAX_BODY, 4096)) != 0)
		goto close_sv;
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		spawner_main(ip, parent);
	}
	channel_free(&ip->ctl);
	if (pid < 0) {
		rc = -errno;
		log_error("event intake: fork: %s", strerror(errno));
		goto close_sv;
	}
	close(sv[1]);
	ip->spawner = pid;
	for (size_t i = 0; i < n; i++) { /* the spawner's now */
		close(ip->fds[i]);
		ip->fds[i] = -1;
	}
	if ((rc = channel_init(&ip->ctl, sv[0], CTL_MAX_BODY, 4096)) != 0) {
		kill(pid, SIGKILL);
		close(sv[0]);
		free(ip->fds);
		free(ip);
		return rc;
	}
	*out = ip;
	return 0;
close_sv:
	close(sv[0]);
	close(sv[1]);
unbind:
	intake_unbind(sources, n, ip->fds);
	free(ip->fds);
	free(ip->drops);
	free(ip);
	return rc;
}
