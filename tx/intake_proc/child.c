/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The intake process, forked by the spawner: intake (tx/intake/) on the listening sockets,
 * each event and each moved counter written to sluice-tx on the event channel; the sources
 * paused while that channel's buffer is over half full; on SIGTERM what was taken is handed
 * over, then it ends. Once its sockets are set up: privdrop_apply (as root, chroot into
 * STATE/empty and the `user:` account; Landlock with no file access; not dumpable, no new
 * privileges), then the system-call filter SANDBOX_PARSER.
 */
#include "tx/intake_proc/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/privdrop.h"
#include "common/sandbox.h"
#include "tx/intake/intake.h"

struct child {
	struct intake_proc *ip;
	uv_loop_t loop;
	struct channel ch;
	uv_poll_t poll;
	bool polling;
	struct intake *in;
	uv_signal_t term;
	uv_check_t check;
	uint64_t sent[NCHILD_METRICS];
};

static void child_writable(uv_poll_t *p, int status, int events);

static void child_flush(struct child *c)
{
	int rc = channel_flush(&c->ch);
	if (rc == 0) {
		if (c->polling)
			uv_poll_stop(&c->poll);
		c->polling = false;
		intake_pause(c->in, false);
		return;
	}
	if (rc != -EAGAIN) {
		log_error("intake process: the channel to sluice-tx failed (%s): exiting", strerror(-rc));
		_exit(1);
	}
	if (!c->polling && uv_poll_start(&c->poll, UV_WRITABLE, child_writable) == 0)
		c->polling = true;
	if (channel_pending(&c->ch) > c->ip->out_max / 2)
		intake_pause(c->in, true);
}

static void child_writable(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	child_flush(p->data);
}

static void child_push(void *ctx, unsigned src, const uint8_t *p, size_t len)
{
	struct child *c = ctx;
	uint8_t hdr[INTAKE_EVENT_HDR];
	channel_put32(hdr, src);
	channel_put64(hdr + 4, now_ns());
	const void *parts[2] = {hdr, p};
	size_t lens[2] = {sizeof(hdr), len};
	int rc = channel_queue(&c->ch, INTAKE_MSG_EVENT, parts, lens, 2);
	if (rc != 0) {
		txm_add(TXM_EVENTS_DROPPED, 1);
		log_rlk(LOG_WARN, c->ip->src[src].name, "event source %s: the channel to sluice-tx is full (%s): event of %zu "
		       "bytes dropped", c->ip->src[src].name, strerror(-rc), len);
		return;
	}
	child_flush(c);
}

/* Counters that moved since the last pass go to sluice-tx. */
static void child_counters(struct child *c)
{
	for (size_t i = 0; i < NCHILD_METRICS; i++) {
		uint64_t v = atomic_load(&tx_metrics[child_metrics[i]].value);
		if (v == c->sent[i])
			continue;
		uint8_t b[12];
		channel_put32(b, (uint32_t)child_metrics[i]);
		channel_put64(b + 4, v - c->sent[i]);
		const void *parts[1] = {b};
		size_t lens[1] = {sizeof(b)};
		if (channel_queue(&c->ch, INTAKE_MSG_COUNT, parts, lens, 1) == 0)
			c->sent[i] = v;
	}
}

static void child_drops(void *ctx, unsigned src, uint32_t total)
{
	struct child *c = ctx;
	uint8_t b[8];
	channel_put32(b, src);
	channel_put32(b + 4, total);
	const void *parts[1] = {b};
	size_t lens[1] = {sizeof(b)};
	if (channel_queue(&c->ch, INTAKE_MSG_DROPS, parts, lens, 1) == 0)
		child_flush(c);
}

static void child_check(uv_check_t *h)
{
	struct child *c = h->data;
	child_counters(c);
	if (channel_pending(&c->ch) && !c->polling)
		child_flush(c);
}

/* SIGTERM from the spawner: close the sources, hand over what was taken, end. */
static void child_term(uv_signal_t *s, int signum)
{
	(void)signum;
	struct child *c = s->data;
	intake_close(c->in);
	child_counters(c);
	int fl = fcntl(c->ch.fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(c->ch.fd, F_SETFL, fl & ~O_NONBLOCK);
	int rc = channel_flush(&c->ch);
	_exit(rc == 0 ? 0 : 1);
}

void child_main(struct intake_proc *ip, int fd)
{
	static struct child c;
	char err[256];
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)prctl(PR_SET_NAME, "sluice-intake");
	log_set_name("sluice-tx intake");
	if (prctl(PR_SET_DUMPABLE, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_error("intake process: prctl: %s", strerror(errno));
		_exit(1);
	}
	c.ip = ip;
	for (size_t i = 0; i < NCHILD_METRICS; i++)
		c.sent[i] = atomic_load(&tx_metrics[child_metrics[i]].value);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || uv_loop_init(&c.loop) != 0 ||
	    channel_init(&c.ch, fd, ip->max_body, ip->out_max) != 0 ||
	    uv_poll_init(&c.loop, &c.poll, fd) != 0 || uv_signal_init(&c.loop, &c.term) != 0 ||
	    uv_check_init(&c.loop, &c.check) != 0) {
		log_error("intake process: cannot set up");
		_exit(1);
	}
	c.poll.data = c.term.data = c.check.data = &c;
	if (intake_open(&c.in, &c.loop, ip->src, ip->n, ip->fds, child_push, &c) != 0)
		_exit(1);
	intake_set_drops(c.in, child_drops, &c);
	uv_signal_start(&c.term, child_term, SIGTERM);
	uv_check_start(&c.check, child_check);
	/* libuv's own descriptors (epoll, signal pipe) stay, and clients are still accepted:
	 * nothing is closed and the open-file limit stays (keep_all_fds). */
	int landlock;
	if (privdrop_apply(&ip->drop, &landlock, err, sizeof(err)) != 0) {
		log_error("intake process: dropping privileges: %s", err);
		_exit(1);
	}
	if (sandbox_enter_profile(SANDBOX_PARSER, err, sizeof(err)) != 0) {
		log_error("intake process: %s", err);
		_exit(1);
	}
	log_info("intake process %d: reading %zu event source%s%s%s, Landlock ABI %d", (int)getpid(),
		 ip->n, ip->n == 1 ? "" : "s", sandbox_supported() ? ", system-call filter on" : "",
		 ip->drop.as_user ? ", unprivileged user, root STATE/empty" : "", landlock);
	uv_run(&c.loop, UV_RUN_DEFAULT);
	_exit(0);
}
