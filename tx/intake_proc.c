/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/intake_proc.h"

#include <errno.h>
#include <fcntl.h>
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
#include "common/sandbox.h"
#include "tx/intake.h"
#include "tx/tx_metrics.h"

enum ctl_msg {
	CTL_INVALID = 0,
	CTL_SPAWN,   /* sluice-tx → spawner: start an intake process */
	CTL_KILL,    /* sluice-tx → spawner: u32 pid, kill it now */
	CTL_STOP,    /* sluice-tx → spawner: stop the intake process (SIGTERM), then end */
	CTL_SPAWNED, /* spawner → sluice-tx: u32 pid, with the event channel's descriptor */
	CTL_EXITED,  /* spawner → sluice-tx: u32 pid, u32 wait status */
};

#define CTL_MAX_BODY 64
#define CHILD_OUT_MIN (4u << 20)
#define STOP_WAIT_MS 1500
#define BACKOFF_MIN_MS 100
#define BACKOFF_SHIFT_MAX 6
#define LIVED_OK_MS 10000
#define READS_PER_WAKE 64

/* The counters the intake process keeps and forwards (tx/intake.c's; UDP kernel drops go as
 * INTAKE_MSG_DROPS). */
static const enum tx_metric child_metrics[] = {
	TXM_EVENTS_REJECTED, TXM_EVENT_CLIENTS_IDLE,
	TXM_EVENT_CLIENTS_EVICTED, TXM_EVENTS_PARTIAL, TXM_EVENTS_DROPPED,
};
#define NCHILD_METRICS (sizeof(child_metrics) / sizeof(child_metrics[0]))

struct intake_proc {
	const struct config_event *src;
	size_t n;
	int *fds;            /* listening sockets: the spawner's; closed in sluice-tx after fork */
	uint32_t *drops;     /* per source: its kernel drop counter as last reported */
	uint32_t max_body;   /* event channel */
	size_t out_max;
	pid_t spawner;
	struct channel ctl;
	/* sluice-tx side, on the loop */
	uv_loop_t *loop;
	struct evq *q;
	uv_poll_t ctl_poll;
	uv_timer_t backoff;
	bool running, stopping, spawner_gone;
	unsigned handles;    /* open handles; ip is freed when the last has closed */
	struct evpoll *ev;   /* the current intake process's channel, or NULL */
	unsigned fails;      /* restarts in a row without one that lived LIVED_OK_MS */
};

/* One intake process as sluice-tx sees it. */
struct evpoll {
	uv_poll_t poll;
	struct intake_proc *ip;
	struct channel ch;
	pid_t pid;
	uint64_t started_ms;
};

/* ---- messages from the intake process, as sluice-tx checks them ---- */

int intake_proc_handle(const struct config_event *sources, size_t n, struct evq *q,
		       uint32_t *drops, uint32_t type, const uint8_t *body, size_t len, const char **why)
{
	switch (type) {
	case INTAKE_MSG_DROPS: {
		uint32_t s = len == 8 ? channel_get32(body) : UINT32_MAX;
		if (s >= n || sources[s].kind != CONFIG_EVENT_UDP) {
			*why = "a drop count of the wrong length or not of a UDP source";
			return -EBADMSG;
		}
		uint32_t d = channel_get32(body + 4), k = d - drops[s];
		drops[s] = d;
		if (k) {
			txm_add(TXM_EVENTS_LOST_INTAKE, k);
			log_rl(LOG_WARN, "event source %s: the kernel dropped %u datagrams before intake "
			       "read them (socket buffer full)", sources[s].name, k);
		}
		return 0;
	}
	case INTAKE_MSG_EVENT: {
		if (len <= INTAKE_EVENT_HDR) {
			*why = "an event message without an event";
			return -EBADMSG;
		}
		uint32_t s = channel_get32(body);
		if (s >= n) {
			*why = "an event of a source that does not exist";
			return -EBADMSG;
		}
		if (len - INTAKE_EVENT_HDR > sources[s].max_line) {
			*why = "an event longer than its source's max_line";
			return -EBADMSG;
		}
		(void)evq_push_at(q, s, channel_get64(body + 4), body + INTAKE_EVENT_HDR,
				  len - INTAKE_EVENT_HDR);
		return 0;
	}
	case INTAKE_MSG_COUNT: {
		if (len != 12) {
			*why = "a counter message of the wrong length";
			return -EBADMSG;
		}
		uint32_t m = channel_get32(body);
		for (size_t i = 0; i < NCHILD_METRICS; i++) {
			if (m == (uint32_t)child_metrics[i]) {
				txm_add(child_metrics[i], channel_get64(body + 4));
				return 0;
			}
		}
		*why = "a counter that is not intake's";
		return -EBADMSG;
	}
	default:
		*why = "a message of unknown type";
		return -EBADMSG;
	}
}

/* ---- the intake process ---- */

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
		log_rl(LOG_WARN, "event source %s: the channel to sluice-tx is full (%s): event of %zu "
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

static void child_main(struct intake_proc *ip, int fd)
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
	if (sandbox_enter_profile(SANDBOX_INTAKE, err, sizeof(err)) != 0) {
		log_error("intake process: %s", err);
		_exit(1);
	}
	log_info("intake process %d: reading %zu event source%s%s", (int)getpid(), ip->n,
		 ip->n == 1 ? "" : "s", sandbox_supported() ? ", system-call filter on" : "");
	uv_run(&c.loop, UV_RUN_DEFAULT);
	_exit(0);
}

/* ---- the spawner ---- */

static int ctl_send(struct channel *ch, uint32_t type, uint32_t a, uint32_t b, int fd)
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

static pid_t spawn(struct intake_proc *ip)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_error("intake spawner: socketpair: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(ip->ctl.fd);
		child_main(ip, sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		log_error("intake spawner: fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	int rc = ctl_send(&ip->ctl, CTL_SPAWNED, (uint32_t)pid, 0, sv[0]);
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
	(void)ctl_send(&ip->ctl, CTL_EXITED, (uint32_t)*child, (uint32_t)st, -1);
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
			if (m.type == CTL_SPAWN && child <= 0 && (child = spawn(ip)) < 0)
				(void)ctl_send(&ip->ctl, CTL_EXITED, 0, 1u << 8, -1); /* none started */
			else if (m.type == CTL_KILL && m.len == 8 && child > 0 &&
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

int intake_proc_start(struct intake_proc **out, const struct config_event *sources, size_t n)
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
	int rc = intake_bind(sources, n, ip->fds);
	if (rc != 0) {
		free(ip->fds);
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

/* ---- sluice-tx's side, on its loop ---- */

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
	int rc = ctl_send(&ip->ctl, CTL_SPAWN, 0, 0, -1);
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
		log_warn("intake process %d: a message it was writing is lost (%zu bytes of it arrived)",
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

/* Reads and queues what the intake process wrote; false once it has ended. */
static bool ev_pump(struct evpoll *e, int reads)
{
	struct intake_proc *ip = e->ip;
	for (int i = 0; i < reads; i++) {
		ssize_t r = channel_read(&e->ch);
		struct channel_msg m;
		int rc;
		const char *why = NULL;
		while ((rc = channel_next(&e->ch, &m)) == 1)
			if (intake_proc_handle(ip->src, ip->n, ip->q, ip->drops, m.type, m.body, m.len, &why) != 0)
				break;
		if (rc < 0 || why) {
			why = why ? why : "a header with a length over the maximum";
			log_error("intake process %d sent %s: taken as compromised, killing it", (int)e->pid, why);
			(void)ctl_send(&ip->ctl, CTL_KILL, (uint32_t)e->pid, 0, -1);
			e->ch.dead = true;
			ev_end(e, "was killed for a malformed message");
			return false;
		}
		if (r == -EAGAIN)
			return true;
		if (r <= 0) {
			ev_end(e, r == 0 ? "has exited" : "broke its channel");
			return false;
		}
	}
	return true;
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
		(void)ctl_send(&ip->ctl, CTL_KILL, (uint32_t)pid, 0, -1);
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

static void ctl_gone(struct intake_proc *ip)
{
	ip->spawner_gone = true;
	uv_poll_stop(&ip->ctl_poll);
	if (!ip->stopping)
		log_error("event intake: the spawner (%d) is gone or misbehaved: no intake process will be "
		  "started again", (int)ip->spawner);
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
	(void)ctl_send(&ip->ctl, CTL_STOP, 0, 0, -1);
	uint64_t deadline = mono_ns() + (uint64_t)STOP_WAIT_MS * 1000000u;
	while (ip->ev) {
		uint64_t now = mono_ns();
		if (now >= deadline) {
			log_warn("intake process %d: not ended within %d ms of stopping; what it still "
				 "holds is lost", (int)ip->ev->pid, STOP_WAIT_MS);
			ev_end(ip->ev, "did not stop");
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
