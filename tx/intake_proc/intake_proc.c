/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx's intake in processes of its own (tx/intake_proc/intake_proc.h), sluice-tx's side on its
 * loop: the spawner's control channel watched; the current intake process's event channel
 * read and each message checked (messages.c), one that fails taken as a compromise and the
 * process killed; when it ends, a new one asked for after a back-off (BACKOFF_MIN_MS doubling,
 * back to the minimum after one that lived LIVED_OK_MS); and stop, which queues what the
 * intake process had taken: every whole message in its channel, read until the socket is
 * empty (at most DRAIN_READS_MAX reads) even when it has not ended by the deadline.
 */
#include "tx/intake_proc/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_SHIFT_MAX 6
#define LIVED_OK_MS 10000
#define READS_PER_WAKE 64
#define DRAIN_READS_MAX 1024 /* reads of at least 64 KiB: more than the process and socket hold */

/* One intake process as sluice-tx sees it. */
struct evpoll {
	uv_poll_t poll;
	struct intake_proc *ip;
	struct channel ch;
	pid_t pid;
	uint64_t started_ms;
	uint64_t events;   /* event messages read from its channel */
};

static void maybe_free(struct intake_proc *ip)
{
	if (!ip->stopping || ip->handles)
		return;
	channel_free(&ip->ctl);
	close(ip->ctl.fd);
	free(ip->fds);
	free(ip->drops);
	free(ip);
}

static void handle_closed(uv_handle_t *h)
{
	struct intake_proc *ip = h->data;
	ip->handles--;
	maybe_free(ip);
}

static void ev_closed(uv_handle_t *h)
{
	struct evpoll *e = (struct evpoll *)h;
	struct intake_proc *ip = e->ip;
	channel_free(&e->ch);
	close(e->ch.fd);
	free(e);
	ip->handles--;
	maybe_free(ip);
}

static void request_spawn(struct intake_proc *ip)
{
	if (ip->stopping || ip->spawner_gone || ip->ev)
		return;
	int rc = spawner_ctl_send(&ip->ctl, CTL_SPAWN, 0, 0, -1);
	if (rc != 0)
		log_error("event intake: cannot ask the spawner for an intake process: %s", strerror(-rc));
}

static void on_backoff(uv_timer_t *t) { request_spawn(t->data); }

/* The intake process has ended (or is being killed): what it wrote has been read. */
static void ev_end(struct evpoll *e, const char *why)
{
	struct intake_proc *ip = e->ip;
	size_t partial = channel_truncated(&e->ch);
	if (partial && !e->ch.dead) {
		txm_add(TXM_EVENTS_PARTIAL, 1);
		log_rl(LOG_WARN, "intake process %d: a message it was writing is lost (%zu bytes of it arrived)",
			 (int)e->pid, partial);
	}
	ip->ev = NULL;
	uv_poll_stop(&e->poll);
	uv_close((uv_handle_t *)&e->poll, ev_closed);
	if (ip->stopping)
		return;
	uint64_t lived = uv_now(ip->loop) - e->started_ms;
	if (lived >= LIVED_OK_MS)
		ip->fails = 0;
	uint64_t delay = (uint64_t)BACKOFF_MIN_MS << (ip->fails < BACKOFF_SHIFT_MAX ? ip->fails : BACKOFF_SHIFT_MAX);
	ip->fails++;
	txm_add(TXM_INTAKE_RESTARTS, 1);
	log_error("intake process %d %s after %llu ms; starting another in %llu ms", (int)e->pid, why,
		  (unsigned long long)lived, (unsigned long long)delay);
	uv_timer_start(&ip->backoff, on_backoff, delay, 0);
}

/* Reads and queues what the intake process wrote, at most `reads` reads: 1 when the last read
 * got bytes (more may be there), 0 when the socket is empty (-EAGAIN), -1 once it has ended. */
static int ev_pump(struct evpoll *e, int reads)
{
	struct intake_proc *ip = e->ip;
	for (int i = 0; i < reads; i++) {
		ssize_t r = channel_read(&e->ch);
		struct channel_msg m;
		int rc;
		const char *why = NULL;
		while ((rc = channel_next(&e->ch, &m)) == 1) {
			if (intake_proc_handle(ip->src, ip->n, ip->q, ip->drops, m.type, m.body, m.len, &why) != 0)
				break;
			e->events += m.type == INTAKE_MSG_EVENT;
		}
		if (rc < 0 || why) {
			why = why ? why : "a header with a length over the maximum";
			log_rl(LOG_ERROR, "intake process %d sent %s: taken as compromised, killing it", (int)e->pid, why);
			(void)spawner_ctl_send(&ip->ctl, CTL_KILL, (uint32_t)e->pid, 0, -1);
			e->ch.dead = true;
			ev_end(e, "was killed for a malformed message");
			return -1;
		}
		if (r == -EAGAIN)
			return 0;
		if (r <= 0) {
			ev_end(e, r == 0 ? "has exited" : "broke its channel");
			return -1;
		}
	}
	return 1;
}

static void on_ev(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	(void)ev_pump((struct evpoll *)p, READS_PER_WAKE);
}

static void got_spawned(struct intake_proc *ip, pid_t pid, int fd)
{
	struct evpoll *e = calloc(1, sizeof(*e));
	int fl = fcntl(fd, F_GETFL);
	if (!e || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    channel_init(&e->ch, fd, ip->max_body, CTL_MAX_BODY + CHANNEL_HDR + ip->max_body) != 0 ||
	    uv_poll_init(ip->loop, &e->poll, fd) != 0) {
		log_error("event intake: cannot take the channel of intake process %d", (int)pid);
		if (e)
			channel_free(&e->ch);
		free(e);
		close(fd);
		(void)spawner_ctl_send(&ip->ctl, CTL_KILL, (uint32_t)pid, 0, -1);
		uv_timer_start(&ip->backoff, on_backoff, 1000, 0);
		return;
	}
	e->ip = ip;
	e->pid = pid;
	e->started_ms = uv_now(ip->loop);
	ip->handles++;
	ip->ev = e;
	uv_poll_start(&e->poll, UV_READABLE | UV_DISCONNECT, on_ev);
}

/* How the spawner ended, when it has (its channel closes as it exits: waited for up to
 * 200 ms), for the log: "" while it still runs (it misbehaved). */
static void spawner_end(struct intake_proc *ip, char *how, size_t len)
{
	int st;
	*how = 0;
	for (int i = 0; i < 20; i++) {
		if (waitpid(ip->spawner, &st, WNOHANG) == ip->spawner) {
			if (WIFSIGNALED(st))
				snprintf(how, len, "was killed by signal %d (%s)", WTERMSIG(st),
					 strsignal(WTERMSIG(st)));
			else
				snprintf(how, len, "exited with status %d", WEXITSTATUS(st));
			return;
		}
		(void)poll(NULL, 0, 10);
	}
}

static void ctl_gone(struct intake_proc *ip)
{
	ip->spawner_gone = true;
	uv_poll_stop(&ip->ctl_poll);
	if (ip->stopping)
		return;
	char how[80];
	spawner_end(ip, how, sizeof(how));
	log_error("event intake: the spawner (%d) %s: no intake process will be started again",
		  (int)ip->spawner, *how ? how : "is gone or misbehaved");
}

static void on_ctl(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	struct intake_proc *ip = p->data;
	ssize_t r = channel_read(&ip->ctl);
	if (r == -EAGAIN)
		return;
	struct channel_msg m;
	int rc;
	while ((rc = channel_next(&ip->ctl, &m)) == 1) {
		if (m.len != 8) {
			rc = -EBADMSG;
			break;
		}
		uint32_t a = channel_get32(m.body), b = channel_get32(m.body + 4);
		if (m.type == CTL_SPAWNED) {
			int fd = channel_take_fd(&ip->ctl);
			if (fd < 0) {
				rc = -EBADMSG;
				break;
			}
			got_spawned(ip, (pid_t)a, fd);
		} else if (m.type == CTL_EXITED) {
			int st = (int)b;
			if (a == 0 && !ip->ev && !uv_is_active((uv_handle_t *)&ip->backoff)) {
				/* none is running and none will be: the spawner could not start one */
				txm_add(TXM_INTAKE_RESTARTS, 1);
				uv_timer_start(&ip->backoff, on_backoff, (uint64_t)BACKOFF_MIN_MS << BACKOFF_SHIFT_MAX, 0);
			}
			if (a == 0)
				log_error("event intake: the spawner could not start an intake process; "
					  "trying again in %d ms", BACKOFF_MIN_MS << BACKOFF_SHIFT_MAX);
			else if (WIFSIGNALED(st))
				log_warn("intake process %u was killed by signal %d (%s)", a, WTERMSIG(st),
					 strsignal(WTERMSIG(st)));
			else
				log_warn("intake process %u exited with status %d", a, WEXITSTATUS(st));
		} else {
			rc = -EBADMSG;
			break;
		}
	}
	if (rc < 0 || r <= 0)
		ctl_gone(ip);
}

int intake_proc_run(struct intake_proc *ip, uv_loop_t *loop, struct evq *q)
{
	ip->loop = loop;
	ip->q = q;
	int fl = fcntl(ip->ctl.fd, F_GETFL);
	if (fl < 0 || fcntl(ip->ctl.fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    uv_poll_init(loop, &ip->ctl_poll, ip->ctl.fd) != 0 || uv_timer_init(loop, &ip->backoff) != 0) {
		log_error("event intake: cannot watch the spawner");
		return -EIO;
	}
	ip->running = true;
	ip->handles = 2;
	ip->ctl_poll.data = ip->backoff.data = ip;
	uv_poll_start(&ip->ctl_poll, UV_READABLE | UV_DISCONNECT, on_ctl);
	request_spawn(ip);
	return 0;
}

void intake_proc_stop(struct intake_proc *ip)
{
	if (!ip)
		return;
	ip->stopping = true;
	/* The intake process hands over what it took and ends; then the spawner ends. */
	(void)spawner_ctl_send(&ip->ctl, CTL_STOP, 0, 0, -1);
	uint64_t deadline = mono_ns() + (uint64_t)STOP_WAIT_MS * 1000000u;
	while (ip->ev) {
		uint64_t now = mono_ns();
		if (now >= deadline) {
			/* What it wrote is in the socket: every whole message is queued. What it
			 * still holds unwritten cannot be seen from here, so it cannot be counted. */
			struct evpoll *e = ip->ev;
			uint64_t had = e->events;
			int r = 1;
			for (int i = 0; r == 1 && i < DRAIN_READS_MAX; i++)
				r = ev_pump(e, 1);
			log_warn("intake process %d: not ended within %d ms of stopping: %llu more events read "
				 "from its channel and queued%s; events it had taken and not yet written to its "
				 "channel are lost, and sluice-tx cannot count them", (int)e->pid, STOP_WAIT_MS,
				 (unsigned long long)(e->events - had),
				 r == 1 ? " (it was still writing: the rest is lost too, uncounted)" : "");
			if (r >= 0)
				ev_end(e, "did not stop");
			break;
		}
		struct pollfd p = {.fd = ip->ev->ch.fd, .events = POLLIN};
		(void)poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
		(void)ev_pump(ip->ev, 1);
	}
	for (size_t i = 0; i < ip->n; i++)
		if (ip->src[i].kind == CONFIG_EVENT_UNIX)
			unlink(ip->src[i].unix_path);
	if (!ip->running) {
		maybe_free(ip);
		return;
	}
	uv_timer_stop(&ip->backoff);
	uv_poll_stop(&ip->ctl_poll);
	uv_close((uv_handle_t *)&ip->ctl_poll, handle_closed);
	uv_close((uv_handle_t *)&ip->backoff, handle_closed);
}
