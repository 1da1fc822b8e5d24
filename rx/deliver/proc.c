/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/deliver/proc.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/deadline.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/sandbox.h"
#include "common/version.h"
#include "rx/audit.h"
#include "rx/deliver/deliver.h"
#include "rx/forward.h"
#include "rx/link/proc.h"
#include "rx/monitor/procmsg.h"

#define DELIVER_NICE 5 /* the link process comes first on a shared core */

static void die(const char *what, int rc)
{
	log_error("deliver process: %s: %s", what, strerror(-rc));
	_exit(1);
}

static int send_kept(struct channel *ch, struct deliver *d)
{
	const struct deliver_kept *kept;
	size_t n = deliver_kept(d, &kept);
	struct linkrole_resume *r = calloc(n ? n : 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		r[i] = (struct linkrole_resume){kept[i].session, kept[i].object, kept[i].length,
						kept[i].top, kept[i].done};
	uint8_t *b;
	size_t len;
	int rc = procmsg_resume_encode(r, n, &b, &len);
	free(r);
	if (rc < 0)
		return rc;
	for (size_t i = (size_t)rc; i < n; i++) /* its blocks stay; the link process starts it anew */
		log_rl(LOG_WARN, "deliver process: kept session %016" PRIx64 " object %" PRIu64 " not resumed: "
			 "more kept objects than one start message holds", kept[i].session, kept[i].object);
	const void *parts[] = {b};
	rc = channel_queue(ch, DV_KEPT, parts, &len, 1);
	free(b);
	return rc ? rc : channel_flush(ch);
}

/* The monitor's channel and what it has said and this process has not acted on yet: the
 * lanes of the next link process, a stop. Read between runs (next_link) and, while a run waits,
 * when the channel is readable (on_ctl), so that a new audit descriptor is taken at once. */
struct ctl {
	struct channel ch;
	struct audit *audit;
	int fd, evfd;
	bool stop, eof;
};

/* Acts on every complete message: 0, or -EBADMSG for one this process does not expect. */
static int ctl_drain(struct ctl *c)
{
	struct channel_msg m;
	int got;
	while ((got = channel_next(&c->ch, &m)) == 1) {
		if (m.len != 0)
			return -EBADMSG;
		if (m.type == DV_STOP) {
			c->stop = true;
			continue;
		}
		if (m.type != DV_LINK && m.type != DV_LINKEV && m.type != DV_AUDIT)
			return -EBADMSG;
		int got_fd = channel_take_fd(&c->ch);
		if (got_fd < 0)
			return -EBADMSG;
		if (m.type == DV_AUDIT) {
			int rc = audit_reopen(c->audit, got_fd);
			if (rc != 0)
				log_error("deliver process: the reopened audit log: %s; writing to the old "
					  "file", strerror(-rc));
			else
				log_info("deliver process: audit log reopened");
			continue;
		}
		int *slot = m.type == DV_LINK ? &c->fd : &c->evfd;
		if (*slot >= 0) {
			close(got_fd);
			return -EBADMSG;
		}
		*slot = got_fd;
	}
	return got;
}

/* deliver_watch's callback: the channel is readable during a run. */
static int on_ctl(void *arg)
{
	struct ctl *c = arg;
	ssize_t r = channel_read(&c->ch);
	if (r == 0) {
		c->eof = true;
		return 1;
	}
	if (r < 0 && r != -EAGAIN && r != -EINTR)
		return (int)r;
	int rc = ctl_drain(c);
	return rc == -EBADMSG ? -EPROTO : rc; /* the monitor's fault, not the link process's */
}

/* The heartbeat (deliver_on_tick, and next_link's wait): DV_ALIVE about once a second, which
 * the monitor's watchdog expects (rx/monitor/internal.h, DELIVER_STALL_NS). */
static void send_alive(void *arg, uint64_t now)
{
	static uint64_t last;
	struct channel *ch = arg;
	if (last && now - last < DV_ALIVE_MS * 1000000ull)
		return;
	last = now;
	int rc = channel_queue(ch, DV_ALIVE, NULL, NULL, 0);
	if (rc == 0)
		rc = channel_flush(ch);
	if (rc != 0)
		log_rl(LOG_WARN, "deliver process: the heartbeat to the monitor: %s", strerror(-rc));
}

/* The next instruction: 1 with both lanes of a new link process, 0 to stop, or -errno. */
static int next_link(struct ctl *c, int *fd, int *evfd)
{
	for (;;) {
		send_alive(&c->ch, deadline_now());
		int rc = ctl_drain(c);
		if (rc < 0)
			return rc;
		if (c->fd >= 0 && c->evfd >= 0) {
			*fd = c->fd, *evfd = c->evfd;
			c->fd = c->evfd = -1;
			return 1;
		}
		if (c->stop || c->eof)
			return 0; /* told, or the monitor is gone: stop as if told */
		if (poll(&(struct pollfd){.fd = c->ch.fd, .events = POLLIN}, 1, DV_ALIVE_MS / 2) <= 0)
			continue;
		ssize_t r = channel_read(&c->ch);
		if (r == 0)
			c->eof = true;
		if (r < 0 && r != -EAGAIN && r != -EINTR)
			return (int)r;
	}
}

size_t deliverproc_folders(const struct rx_config *cfg, const char *out[DELIVERPROC_FOLDERS])
{
	out[0] = cfg->files_dir;
	out[1] = cfg->events_dir;
	out[2] = cfg->state;
	return DELIVERPROC_FOLDERS;
}

void deliverproc_main(const struct rx_config *cfg, const uint8_t (*senders)[32], struct ring *ring,
		      int ctl, int audit_fd, int link_fd)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)prctl(PR_SET_NAME, "sluice-rx-deliv");
	log_set_name("sluice-rx deliver");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);  /* the monitor decides when this process stops (DV_STOP) */
	signal(SIGTERM, SIG_IGN);
	close(link_fd); /* no link socket here */
	if (setpriority(PRIO_PROCESS, 0, DELIVER_NICE) != 0)
		log_debug("deliver process: cannot lower its priority: %s", strerror(errno));
	static struct ctl cs = {.fd = -1, .evfd = -1}; /* one per process */
	struct channel *ch = &cs.ch;
	int rc;
	if ((rc = channel_init(ch, ctl, PROCMSG_BODY_MAX, PROCMSG_BODY_MAX + CHANNEL_HDR)) != 0)
		die("channel", rc);
	struct audit *audit = NULL;
	if ((rc = audit_open_on(&audit, audit_fd)) != 0)
		die("audit log", rc);
	cs.audit = audit;
	char head[PATH_MAX];
	if ((size_t)snprintf(head, sizeof(head), "%s/audit-head", cfg->state) >= sizeof(head))
		die("state path", -ENAMETOOLONG);
	if ((rc = audit_chain_start(audit, head, "sluice-rx " SLUICE_VERSION " started")) != 0)
		log_error("audit log: the start line: %s", strerror(-rc));
	struct forward *fw = NULL;
	if (forward_new(&fw, cfg->forward_kind, &cfg->forward, cfg->forward_path) != 0)
		die("output.forward", -ENOMEM);
	struct deliver_config dc = {
		.files_dir = cfg->files_dir,
		.events_dir = cfg->events_dir,
		.state = cfg->state,
		.forward = fw,
		.senders = senders,
		.nsenders = cfg->nsenders,
		.object_limit = cfg->object_limit,
		.audit = audit,
		.ring = ring,
	};
	struct deliver *d;
	if ((rc = deliver_new(&d, &dc)) != 0)
		die(cfg->files_dir, rc);
	deliver_watch(d, ctl, on_ctl, &cs);
	deliver_on_tick(d, send_alive, ch);
	if ((rc = send_kept(ch, d)) != 0)
		die("kept objects to the monitor", rc);
	char err[256];
	const char *mine[DELIVERPROC_FOLDERS];
	int landlock = privdrop_landlock_paths(mine, deliverproc_folders(cfg, mine), err, sizeof(err));
	if (landlock < 0) {
		log_error("deliver process: %s", err);
		_exit(1);
	}
	if (strcmp(test_trigger(), "deliver-open") == 0) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		log_warn("test trigger deliver-open: open(/etc/passwd) %s%s (Landlock ABI %d)",
			 fd >= 0 ? "succeeded" : "failed: ", fd >= 0 ? "" : strerror(errno), landlock);
		if (fd >= 0)
			close(fd);
	}
	if (sandbox_enter(err, sizeof(err)) != 0) {
		log_error("deliver process: %s", err);
		_exit(1);
	}
	if (strcmp(test_trigger(), "deliver-filter") == 0) {
		log_warn("test trigger deliver-filter: calling execve() under the filter");
		char *argv[] = {"/bin/true", NULL};
		execve(argv[0], argv, NULL);
		log_error("test trigger deliver-filter: execve() failed (%s): not stopped", strerror(errno));
	}
	bool clean = true;
	int fd = -1, evfd = -1;
	while ((rc = next_link(&cs, &fd, &evfd)) == 1) {
		rc = deliver_run(d, fd, evfd);
		close(fd);
		close(evfd);
		clean = rc == 0;
		if (rc == -EBADMSG) {
			static const char why[] = "a message that does not decode";
			const void *parts[] = {why};
			size_t len = sizeof(why) - 1;
			if (channel_queue(ch, DV_BADLINK, parts, &len, 1) != 0 || channel_flush(ch) != 0)
				break;
		} else if (rc != 0 && rc != -ECONNRESET) {
			log_error("deliver process: the message stream broke (%s); stopping", strerror(-rc));
			break;
		}
	}
	if (rc < 0 && rc != -EBADMSG && rc != -ECONNRESET)
		log_error("deliver process: the monitor's channel: %s; stopping", strerror(-rc));
	if (rc == 0 && clean) { /* every message of the last link process handled: keep what it can */
		if (strcmp(test_trigger(), "deliver-keep-slow") == 0) { /* six slow fsyncs, beating */
			log_warn("test trigger deliver-keep-slow: 3 s before keeping, a heartbeat each 0.5 s");
			for (int i = 0; i < 6; i++) {
				(void)poll(NULL, 0, 500);
				send_alive(ch, deadline_now());
			}
		}
		deliver_keep(d);
	}
	deliver_free(d);
	audit_close(audit);
	if (cs.fd >= 0)
		close(cs.fd);
	if (cs.evfd >= 0)
		close(cs.evfd);
	channel_free(ch);
	_exit(rc == 0 ? 0 : 1);
}
