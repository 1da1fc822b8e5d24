/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/monitor/spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/sandbox.h"
#include "hw/link.h"
#include "rx/deliver/proc.h"
#include "rx/monitor/procmsg.h"

struct spawner {
	const struct spawner_config *c;
	struct channel ch;
	pid_t pid[2]; /* ROLE_LINK, ROLE_DELIVER */
	int fds[3];
	unsigned nfds;
	unsigned started[2]; /* processes of each role forked so far */
};

static void report(struct spawner *s, uint32_t type, uint32_t role, pid_t pid, uint32_t status)
{
	uint8_t b[12];
	channel_put32(b, role);
	channel_put32(b + 4, (uint32_t)pid);
	channel_put32(b + 8, status);
	const void *parts[] = {b};
	size_t len = type == SP_EXITED ? 12 : 8;
	if (channel_queue(&s->ch, type, parts, &len, 1) != 0 || channel_flush(&s->ch) != 0)
		log_error("spawner: cannot report to the monitor");
}

static void drop_fds(struct spawner *s)
{
	for (unsigned i = 0; i < s->nfds; i++)
		close(s->fds[i]);
	s->nfds = 0;
}

static void spawn(struct spawner *s, uint32_t role, const uint8_t *body, size_t len)
{
	/* link: its two lanes and the key holder's channel; deliver: its channel, and the audit
	 * log when there is one (no ruleset here names its folder) */
	unsigned need = role == ROLE_LINK ? 3 : s->c->cfg->audit_path ? 2 : 1;
	if (s->nfds != need || s->pid[role] > 0) {
		log_error("spawner: a start without its descriptors, or of a process that runs");
		drop_fds(s);
		report(s, SP_EXITED, role, 0, 1u << 8);
		return;
	}
	s->started[role]++;
	pid_t pid = fork();
	if (pid == 0) {
		close(s->ch.fd);
		if (s->started[role] > 1) /* the tests' triggers act in the first of each only */
			unsetenv("SLUICE_TEST_TRIGGER");
		if (role == ROLE_LINK)
			linkproc_main(&s->c->link, body, len, s->fds[0], s->fds[1], s->fds[2]);
		deliverproc_main(s->c->cfg, s->c->link.senders, s->c->link.ring, s->fds[0],
				 need == 2 ? s->fds[1] : -1, link_fd(s->c->link.link));
	}
	drop_fds(s);
	if (pid < 0) {
		log_error("spawner: fork: %s", strerror(errno));
		report(s, SP_EXITED, role, 0, 1u << 8);
		return;
	}
	s->pid[role] = pid;
	report(s, SP_SPAWNED, role, pid, 0);
}

static void reap(struct spawner *s)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (uint32_t role = 0; role < 2; role++) {
			if (s->pid[role] == pid) {
				s->pid[role] = 0;
				report(s, SP_EXITED, role, pid, (uint32_t)st);
			}
		}
	}
}

/* 1 to go on, 0 to exit. */
static int handle(struct spawner *s, const struct channel_msg *m)
{
	switch (m->type) {
	case SP_FD: {
		int fd = channel_take_fd(&s->ch);
		if (m->len != 0 || fd < 0 || s->nfds == 3) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		s->fds[s->nfds++] = fd;
		return 1;
	}
	case SP_LINK: spawn(s, ROLE_LINK, m->body, m->len); return 1;
	case SP_DELIVER: spawn(s, ROLE_DELIVER, m->body, m->len); return 1;
	case SP_SIGNAL: {
		if (m->len != 8)
			return 0;
		uint32_t role = channel_get32(m->body), sig = channel_get32(m->body + 4);
		if (role < 2 && s->pid[role] > 0 && (sig == SIGTERM || sig == SIGKILL))
			kill(s->pid[role], (int)sig);
		return 1;
	}
	default: return 0; /* SP_STOP, or what the monitor never sends */
	}
}

static void spawner_main(struct spawner *s, pid_t parent)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NAME, "sluice-rx-spawn");
	(void)prctl(PR_SET_DUMPABLE, 0);
	log_set_name("sluice-rx spawner");
	signal(SIGINT, SIG_IGN); /* the monitor decides (SP_STOP) */
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* a reload is the main process's (a SIGHUP to the group too) */
	/* Its files: the deliver process's folders and nothing else. Landlock stacks, so each
	 * child is held to this ruleset and its own: the deliver process's names the same
	 * folders, the link process's none. keys.secret is kept out of them (config). */
	/* jansson seeds its hash tables from /dev/urandom at the first JSON object (the deliver
	 * process's audit lines): seeded here, since the ruleset grants no /dev/urandom, and
	 * inherited by every child (otherwise jansson falls back to the time and pid). */
	json_object_seed(0);
	char err[256];
	const char *folders[DELIVERPROC_FOLDERS];
	int landlock = privdrop_landlock_paths(folders, deliverproc_folders(s->c->cfg, folders), err,
					       sizeof(err));
	if (landlock < 0 || sandbox_enter_profile(SANDBOX_SPAWNER, err, sizeof(err)) != 0) {
		log_error("spawner: %s", err);
		_exit(1);
	}
	if (landlock > 0)
		log_info("Landlock ABI %d, files beneath output.files, output.events and "
			 "state only", landlock);
	else
		log_info("no Landlock in this kernel: its file access is not narrowed");
	if (strcmp(test_trigger(), "spawner-filter") == 0) {
		log_warn("test trigger spawner-filter: calling execve() under the filter");
		char *argv[] = {"/bin/true", NULL};
		execve(argv[0], argv, NULL);
		log_error("test trigger spawner-filter: execve() failed (%s): not stopped", strerror(errno));
	}
	if (strcmp(test_trigger(), "spawner-read-key") == 0 && s->c->cfg->secret_path) {
		int fd = open(s->c->cfg->secret_path, O_RDONLY | O_CLOEXEC);
		log_warn("test trigger spawner-read-key: spawner opening %s: %s", s->c->cfg->secret_path,
			 fd >= 0 ? "opened" : strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	for (;;) {
		struct pollfd p = {.fd = s->ch.fd, .events = POLLIN};
		int r = poll(&p, 1, s->pid[0] > 0 || s->pid[1] > 0 ? 20 : 500);
		reap(s);
		if (r <= 0)
			continue;
		ssize_t got = channel_read(&s->ch);
		if (got == -EAGAIN || got == -EINTR)
			continue;
		if (got <= 0)
			break;
		struct channel_msg m;
		int rc;
		while ((rc = channel_next(&s->ch, &m)) == 1)
			if (!handle(s, &m))
				goto out;
		if (rc < 0)
			break;
	}
out:
	for (int role = 0; role < 2; role++)
		if (s->pid[role] > 0)
			kill(s->pid[role], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	_exit(0);
}

pid_t spawner_start(const struct spawner_config *c, int *fd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		close(sv[0]);
		static struct spawner s;
		s.c = c;
		if (channel_init(&s.ch, sv[1], PROCMSG_BODY_MAX, PROCMSG_BODY_MAX + CHANNEL_HDR) != 0)
			_exit(1);
		spawner_main(&s, parent);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}
