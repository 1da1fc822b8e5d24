/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/intake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "hw/sockdrops.h"
#include "tx/framing.h"
#include "tx/tx_metrics.h"

#define READ_BUF (64u << 10)

struct client;

struct isrc {
	struct intake *in;
	unsigned idx;
	const struct config_event *cfg;
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_udp_t udp;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} l;
	bool open;
	uint32_t kernel_drops; /* UDP: SK_MEMINFO_DROPS last seen */
	struct client *head, *tail; /* streams: clients by last activity, head idle longest */
	size_t nclients;
	uint64_t next_client;
};

struct client {
	struct client *prev, *next; /* in src's list, by last activity */
	struct isrc *src;
	uint64_t no;
	uint64_t active_ms; /* uv_now when it connected or last sent bytes */
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} c;
	struct framer fr;
};

struct intake {
	uv_loop_t *loop;
	intake_push_fn push;
	void *push_ctx;
	bool owns_paths; /* intake_start: unix socket paths are unlinked at close */
	intake_drops_fn drops_fn; /* UDP kernel drops go there instead of the counter */
	void *drops_ctx;
	bool paused;
	struct isrc *src;
	size_t n;
	uv_timer_t drops;    /* UDP: datagrams the kernel dropped before intake read them */
	bool drops_on;
	uv_timer_t idle;     /* streams: closes clients silent for their source's idle_timeout */
	bool idle_on;
	size_t open_handles; /* freed when the last one has closed */
	bool closing;
	uint8_t buf[READ_BUF];
};

static void maybe_free(struct intake *in)
{
	if (in->closing && in->open_handles == 0) {
		free(in->src);
		free(in);
	}
}

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct intake *in = c->src->in;
	framer_free(&c->fr);
	free(c);
	in->open_handles--;
	maybe_free(in);
}

static void push(struct isrc *s, const uint8_t *p, size_t len)
{
	s->in->push(s->in->push_ctx, s->idx, p, len);
}

static void reject(struct isrc *s, uint64_t client, const char *why, size_t len)
{
	txm_add(TXM_EVENTS_REJECTED, 1);
	if (client)
		log_rl(LOG_WARN, "event source %s, client %llu: %s (%zu bytes, max_line %llu): refused, "
		       "connection kept", s->cfg->name, (unsigned long long)client, why, len,
		       (unsigned long long)s->cfg->max_line);
	else
		log_rl(LOG_WARN, "event source %s: %s (%zu bytes, max_line %llu): refused", s->cfg->name, why,
		       len, (unsigned long long)s->cfg->max_line);
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)hint;
	struct isrc *s = h->data;
	b->base = (char *)s->in->buf;
	b->len = READ_BUF;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
		     unsigned flags)
{
	struct isrc *s = h->data;
	if (n < 0) {
		log_rl(LOG_WARN, "event source %s: receive error: %s", s->cfg->name, uv_strerror((int)n));
		return;
	}
	if (n == 0 || !from)
		return;
	size_t len = (size_t)n;
	const uint8_t *p = (const uint8_t *)b->base;
	if (!(flags & UV_UDP_PARTIAL) && len && p[len - 1] == '\n') {
		len--;
		if (len && p[len - 1] == '\r')
			len--;
	}
	if ((flags & UV_UDP_PARTIAL) || len > s->cfg->max_line) {
		reject(s, 0, "datagram longer than max_line", (size_t)n);
		return;
	}
	if (len)
		push(s, p, len);
}

/* Datagrams dropped by the kernel (socket buffer full) never reach intake and get no seq:
 * the receiver cannot see them, so they are logged and counted here. */
static void check_drops(uv_timer_t *t)
{
	struct intake *in = t->data;
	for (size_t i = 0; i < in->n; i++) {
		struct isrc *s = &in->src[i];
		uv_os_fd_t fd;
		uint32_t d;
		if (s->cfg->kind != CONFIG_EVENT_UDP || !s->open || uv_fileno(&s->l.h, &fd) != 0 ||
		    sock_drops(fd, &d) != 0)
			continue;
		uint32_t n = d - s->kernel_drops;
		if (n && in->drops_fn) {
			in->drops_fn(in->drops_ctx, s->idx, d);
		} else if (n) {
			txm_add(TXM_EVENTS_LOST_INTAKE, n);
			log_rl(LOG_WARN, "event source %s: the kernel dropped %u datagrams before intake "
			       "read them (socket buffer full)", s->cfg->name, n);
		}
		s->kernel_drops = d;
	}
}

/* ---- streams ---- */

static void on_event(void *ctx, const uint8_t *p, size_t len)
{
	struct client *c = ctx;
	push(c->src, p, len);
}

static void on_reject(void *ctx, const char *why, size_t len)
{
	struct client *c = ctx;
	reject(c->src, c->no, why, len);
}

/* ---- clients, kept per source in order of last activity ---- */

static void client_unlink(struct client *c)
{
	struct isrc *s = c->src;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	c->prev = c->next = NULL;
}

static void client_append(struct client *c)
{
	struct isrc *s = c->src;
	c->active_ms = uv_now(s->in->loop);
	c->prev = s->tail;
	c->next = NULL;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
}

static void client_close(struct client *c)
{
	if (uv_is_closing(&c->c.h))
		return;
	client_unlink(c);
	c->src->nclients--;
	uv_close(&c->c.h, client_closed);
}

/* Closed by intake, not by the peer: a frame it had begun cannot be finished, so it is
 * dropped, logged and counted (an EOF instead passes a last line on, see framer_finish).
 * Without one, the closing is logged only when `say`. */
static void client_drop(struct client *c, const char *why, bool say)
{
	size_t bytes;
	uint64_t idle_ms = uv_now(c->src->in->loop) - c->active_ms;
	if (framer_pending(&c->fr, &bytes)) {
		txm_add(TXM_EVENTS_PARTIAL, 1);
		log_rl(LOG_WARN, "event source %s, client %llu: closed (%s, silent for %llu ms) with an "
		       "unfinished event of %zu bytes: dropped", c->src->cfg->name,
		       (unsigned long long)c->no, why, (unsigned long long)idle_ms, bytes);
	} else if (say) {
		log_rl(LOG_WARN, "event source %s, client %llu: closed (%s, silent for %llu ms)",
		       c->src->cfg->name, (unsigned long long)c->no, why, (unsigned long long)idle_ms);
	}
	client_close(c);
}

static void idle_check(uv_timer_t *t);

/* One timer for every stream source: due when the client idle longest of any source is. */
static void idle_arm(struct intake *in)
{
	if (!in->idle_on)
		return;
	uint64_t now = uv_now(in->loop), due = UINT64_MAX;
	for (size_t i = 0; i < in->n; i++) {
		struct isrc *s = &in->src[i];
		if (s->head && s->cfg->idle_timeout_ms && s->head->active_ms + s->cfg->idle_timeout_ms < due)
			due = s->head->active_ms + s->cfg->idle_timeout_ms;
	}
	if (due == UINT64_MAX)
		uv_timer_stop(&in->idle);
	else
		uv_timer_start(&in->idle, idle_check, due > now ? due - now : 0, 0);
}

static void idle_check(uv_timer_t *t)
{
	struct intake *in = t->data;
	uint64_t now = uv_now(in->loop);
	for (size_t i = 0; i < in->n; i++) {
		struct isrc *s = &in->src[i];
		uint64_t limit = s->cfg->idle_timeout_ms;
		while (limit && s->head && s->head->active_ms + limit <= now) {
			txm_add(TXM_EVENT_CLIENTS_IDLE, 1);
			client_drop(s->head, "idle_timeout", true);
		}
	}
	idle_arm(in);
}

static void stream_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)hint;
	struct client *c = h->data;
	b->base = (char *)c->src->in->buf;
	b->len = READ_BUF;
}

static void stream_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct client *c = st->data;
	if (n > 0) {
		client_unlink(c);
		client_append(c); /* now the most recently active */
		if (framer_feed(&c->fr, (const uint8_t *)b->base, (size_t)n) != 0) {
			txm_add(TXM_EVENTS_REJECTED, 1);
			log_rl(LOG_WARN, "event source %s, client %llu: bad octet-counted frame (RFC 6587); "
			       "closing the connection", c->src->cfg->name, (unsigned long long)c->no);
			client_close(c);
		}
		return;
	}
	if (n == 0)
		return;
	if (n != UV_EOF)
		log_rl(LOG_WARN, "event source %s, client %llu: %s", c->src->cfg->name,
		       (unsigned long long)c->no, uv_strerror((int)n));
	framer_finish(&c->fr);
	client_close(c);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct isrc *s = l->data;
	struct intake *in = s->in;
	if (status < 0) {
		log_rl(LOG_WARN, "event source %s: accept: %s", s->cfg->name, uv_strerror(status));
		return;
	}
	struct client *c = calloc(1, sizeof(*c));
	if (!c || framer_init(&c->fr, s->cfg->max_line, on_event, on_reject, c) != 0) {
		free(c);
		log_rl(LOG_ERROR, "event source %s: out of memory for a client", s->cfg->name);
		return; /* the connection stays in the backlog until memory frees up */
	}
	c->src = s;
	c->no = ++s->next_client;
	int rc = s->cfg->kind == CONFIG_EVENT_TCP ? uv_tcp_init(in->loop, &c->c.tcp)
						   : uv_pipe_init(in->loop, &c->c.pipe, 0);
	if (rc != 0) {
		framer_free(&c->fr);
		free(c);
		return;
	}
	c->c.h.data = c;
	in->open_handles++;
	if (s->nclients == INTAKE_CLIENTS_MAX) {
		/* Never the new one: idle connections must not lock real sources out. */
		txm_add(TXM_EVENT_CLIENTS_EVICTED, 1);
		client_drop(s->head, "source full: the client idle longest makes room for a new one",
			    true);
	}
	client_append(c);
	s->nclients++;
	if (uv_accept(l, &c->c.s) != 0) {
		client_close(c);
		return;
	}
	idle_arm(in);
	if (s->cfg->kind == CONFIG_EVENT_TCP)
		uv_tcp_nodelay(&c->c.tcp, 1);
	rc = in->paused ? 0 : uv_read_start(&c->c.s, stream_alloc, stream_read);
	if (rc != 0)
		client_close(c);
}

/* ---- listeners ---- */

static void timer_closed(uv_handle_t *h)
{
	struct intake *in = h->data;
	in->open_handles--;
	maybe_free(in);
}

static void listener_closed(uv_handle_t *h)
{
	struct isrc *s = h->data;
	struct intake *in = s->in;
	in->open_handles--;
	maybe_free(in);
}

static int unix_prepare(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (unlink(path) != 0)
			return -errno;
	}
	return 0;
}

/* A bound (and, for streams, listening) socket for one source: 0 with *out, or -errno. */
static int bind_one(const struct config_event *e, int *out)
{
	int type = e->kind == CONFIG_EVENT_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int family = e->kind == CONFIG_EVENT_UNIX ? AF_UNIX : e->addr.ss.ss_family;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const struct sockaddr *sa = (const struct sockaddr *)&e->addr.ss;
	socklen_t salen = e->addr.len;
	int rc = 0, one = 1;
	if (e->kind == CONFIG_EVENT_UNIX) {
		if (strlen(e->unix_path) >= sizeof(sun.sun_path))
			return -ENAMETOOLONG;
		if ((rc = unix_prepare(e->unix_path)) != 0)
			return rc;
		memcpy(sun.sun_path, e->unix_path, strlen(e->unix_path) + 1);
		sa = (const struct sockaddr *)&sun;
		salen = sizeof(sun);
	}
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (e->kind == CONFIG_EVENT_TCP)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (e->kind == CONFIG_EVENT_UDP) {
		int sz = INTAKE_UDP_RCVBUF;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (bind(fd, sa, salen) != 0 ||
	    (e->kind == CONFIG_EVENT_UNIX && chmod(e->unix_path, 0660) != 0) ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0))
		rc = -errno;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/* Below this many descriptors accept fails (EMFILE) before a source is full, and a new client
 * is refused however idle the others are: the soft limit is raised towards the hard one. */
static void fd_limit(const struct config_event *sources, size_t n)
{
	rlim_t need = INTAKE_FDS_SPARE;
	for (size_t i = 0; i < n; i++)
		if (sources[i].kind == CONFIG_EVENT_TCP || sources[i].kind == CONFIG_EVENT_UNIX)
			need += INTAKE_CLIENTS_MAX + 1;
	struct rlimit rl;
	if (need == INTAKE_FDS_SPARE || getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	struct rlimit want = {rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need,
			      rl.rlim_max};
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		rl = want;
	if (rl.rlim_cur < need)
		log_warn("event sources: the open-file limit is %llu (hard %llu), below the %llu their "
			 "clients need: beyond it new clients are refused until idle ones time out; raise "
			 "it (ulimit -n, systemd LimitNOFILE=)", (unsigned long long)rl.rlim_cur,
			 (unsigned long long)rl.rlim_max, (unsigned long long)need);
}

static const char *kind_name(const struct config_event *e)
{
	return e->kind == CONFIG_EVENT_UDP ? "udp:" : e->kind == CONFIG_EVENT_TCP ? "tcp:" : "unix:";
}

static const char *where(const struct config_event *e)
{
	return e->kind == CONFIG_EVENT_UNIX ? e->unix_path : e->addr.text;
}

int intake_bind(const struct config_event *sources, size_t n, int *fds)
{
	fd_limit(sources, n);
	for (size_t i = 0; i < n; i++) {
		int rc = bind_one(&sources[i], &fds[i]);
		if (rc != 0) {
			log_error("event source %s: cannot listen on %s: %s", sources[i].name, where(&sources[i]),
				  rc == -EEXIST ? "a file that is not a socket is in the way" : strerror(-rc));
			intake_unbind(sources, i, fds);
			return rc;
		}
		log_info("event source %s listening on %s%s", sources[i].name, kind_name(&sources[i]),
			 where(&sources[i]));
	}
	return 0;
}

void intake_unbind(const struct config_event *sources, size_t n, int *fds)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		close(fds[i]);
		fds[i] = -1;
		if (sources[i].kind == CONFIG_EVENT_UNIX)
			unlink(sources[i].unix_path);
	}
}

static int open_one(struct intake *in, struct isrc *s, int fd)
{
	const struct config_event *e = s->cfg;
	int rc;
	switch (e->kind) {
	case CONFIG_EVENT_UDP:
		rc = uv_udp_init(in->loop, &s->l.udp);
		if (rc)
			return rc;
		s->l.h.data = s;
		s->open = true;
		in->open_handles++;
		if ((rc = uv_udp_open(&s->l.udp, fd)) != 0) {
			close(fd); /* not the handle's */
			return rc;
		}
		return uv_udp_recv_start(&s->l.udp, udp_alloc, udp_recv);
	case CONFIG_EVENT_TCP:
		rc = uv_tcp_init(in->loop, &s->l.tcp);
		if (rc)
			return rc;
		s->l.h.data = s;
		s->open = true;
		in->open_handles++;
		rc = uv_tcp_open(&s->l.tcp, fd);
		break;
	case CONFIG_EVENT_UNIX:
		rc = uv_pipe_init(in->loop, &s->l.pipe, 0);
		if (rc)
			return rc;
		s->l.h.data = s;
		s->open = true;
		in->open_handles++;
		rc = uv_pipe_open(&s->l.pipe, fd);
		break;
	default:
		return -EINVAL;
	}
	if (rc != 0) {
		close(fd); /* not the handle's */
		return rc;
	}
	return uv_listen(&s->l.s, 128, on_connection);
}

int intake_open(struct intake **out, uv_loop_t *loop, const struct config_event *sources, size_t n,
		const int *fds, intake_push_fn fn, void *ctx)
{
	struct intake *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->loop = loop;
	in->push = fn;
	in->push_ctx = ctx;
	in->n = n;
	in->src = calloc(n ? n : 1, sizeof(*in->src));
	if (!in->src) {
		free(in);
		return -ENOMEM;
	}
	if (uv_timer_init(loop, &in->drops) == 0) {
		in->drops.data = in;
		in->drops_on = true;
		in->open_handles++;
		uv_timer_start(&in->drops, check_drops, 1000, 1000);
	}
	if (uv_timer_init(loop, &in->idle) == 0) {
		in->idle.data = in;
		in->idle_on = true;
		in->open_handles++;
	}
	for (size_t i = 0; i < n; i++) {
		struct isrc *s = &in->src[i];
		s->in = in;
		s->idx = (unsigned)i;
		s->cfg = &sources[i];
		int rc = open_one(in, s, fds[i]);
		if (rc != 0) {
			log_error("event source %s: cannot take its socket (%s%s): %s", s->cfg->name,
				  kind_name(s->cfg), where(s->cfg), uv_strerror(rc));
			if (!s->open)
				close(fds[i]);
			for (size_t k = i + 1; k < n; k++)
				close(fds[k]);
			intake_close(in);
			return rc;
		}
	}
	*out = in;
	return 0;
}

static void evq_pusher(void *ctx, unsigned src, const uint8_t *p, size_t len)
{
	(void)evq_push(ctx, src, p, len);
}

int intake_start(struct intake **out, uv_loop_t *loop, const struct config_event *sources, size_t n,
		 struct evq *q)
{
	int *fds = calloc(n ? n : 1, sizeof(int));
	if (!fds)
		return -ENOMEM;
	int rc = intake_bind(sources, n, fds);
	if (rc == 0 && (rc = intake_open(out, loop, sources, n, fds, evq_pusher, q)) == 0)
		(*out)->owns_paths = true;
	free(fds);
	return rc;
}

void intake_set_drops(struct intake *in, intake_drops_fn fn, void *ctx)
{
	in->drops_fn = fn;
	in->drops_ctx = ctx;
}

void intake_pause(struct intake *in, bool pause)
{
	if (in->paused == pause || in->closing)
		return;
	in->paused = pause;
	for (size_t i = 0; i < in->n; i++) {
		struct isrc *s = &in->src[i];
		if (!s->open || uv_is_closing(&s->l.h))
			continue;
		if (s->cfg->kind == CONFIG_EVENT_UDP) {
			if (pause)
				uv_udp_recv_stop(&s->l.udp);
			else
				(void)uv_udp_recv_start(&s->l.udp, udp_alloc, udp_recv);
			continue;
		}
		for (struct client *c = s->head; c; c = c->next) {
			if (pause)
				uv_read_stop(&c->c.s);
			else if (uv_read_start(&c->c.s, stream_alloc, stream_read) != 0)
				log_rl(LOG_WARN, "event source %s, client %llu: cannot resume reading",
				       s->cfg->name, (unsigned long long)c->no);
		}
	}
}

size_t intake_clients(const struct intake *in, unsigned src)
{
	return src < in->n ? in->src[src].nclients : 0;
}

void intake_close(struct intake *in)
{
	if (!in)
		return;
	in->closing = true;
	if (in->drops_on) {
		check_drops(&in->drops);
		uv_close((uv_handle_t *)&in->drops, timer_closed);
		in->drops_on = false;
	}
	if (in->idle_on) {
		uv_close((uv_handle_t *)&in->idle, timer_closed);
		in->idle_on = false;
	}
	for (size_t i = 0; i < in->n; i++) {
		struct isrc *s = &in->src[i];
		while (s->head)
			client_drop(s->head, "sluice-tx is stopping", false);
		if (s->open && !uv_is_closing(&s->l.h)) {
			if (s->cfg->kind == CONFIG_EVENT_UNIX && in->owns_paths)
				unlink(s->cfg->unix_path);
			uv_close(&s->l.h, listener_closed);
		}
	}
	maybe_free(in);
}
