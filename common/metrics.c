/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text rendering and the /metrics endpoint.
 *
 * A client's life on the loop:
 *
 *   accept ── read until the blank line ending the headers (or 8 KiB: 431)
 *          ── parse the request line, answer (200, 400, 404, 405 or 431)
 *          ── write, then shutdown(SHUT_WR) so the client sees EOF after the body
 *          ── keep reading and discard until the client closes
 *   a 5 s timer started at accept closes the connection at any point.
 *
 * Reading on after the answer matters: closing a socket with unread bytes in its receive
 * buffer sends an RST, which can destroy a response the client has not read yet.
 *
 * Each client owns two handles (TCP and timer) and is freed when the second close callback has
 * run; the server is freed when its listener and every client are closed.
 */
#include "common/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define CLIENTS_MAX 64
#define TIMEOUT_MS 5000
#define BACKLOG 128

/* ---- rendering ---- */

struct out {
	char *buf;
	size_t cap;
	size_t off;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->off < o->cap) {
		size_t room = o->cap - o->off;
		memcpy(o->buf + o->off, s, n < room ? n : room);
	}
	o->off += n;
}

static void put_str(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* HELP text escapes backslash and line feed (exposition format 0.0.4). */
static void put_help(struct out *o, const char *s)
{
	for (;;) {
		size_t n = strcspn(s, "\\\n");
		put(o, s, n);
		if (s[n] == '\0')
			return;
		put_str(o, s[n] == '\\' ? "\\\\" : "\\n");
		s += n + 1;
	}
}

static const char *type_name(enum metric_type t)
{
	switch (t) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGE:
		return "gauge";
	}
	return "untyped";
}

/* HELP and TYPE of the family m starts. */
static void put_family(struct out *o, const struct metric *m)
{
	if (m->help) {
		put_str(o, "# HELP ");
		put_str(o, m->name);
		put_str(o, " ");
		put_help(o, m->help);
		put_str(o, "\n");
	}
	put_str(o, "# TYPE ");
	put_str(o, m->name);
	put_str(o, " ");
	put_str(o, type_name(m->type));
	put_str(o, "\n");
}

/* Millionths as a decimal: "-1.5", "0.000007", "3"; exact for every int64_t. */
static int format_micro(char *num, size_t cap, int64_t v)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t frac = mag % 1000000;
	if (frac == 0)
		return snprintf(num, cap, "%s%" PRIu64, v < 0 ? "-" : "", mag / 1000000);
	int len = snprintf(num, cap, "%s%" PRIu64 ".%06" PRIu64, v < 0 ? "-" : "", mag / 1000000, frac);
	while (len > 0 && num[len - 1] == '0')
		num[--len] = '\0';
	return len;
}

size_t metrics_render(const struct metric *m, size_t n, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap, .off = 0};
	for (size_t i = 0; i < n; i++) {
		char num[32];
		int len = m[i].micro ? format_micro(num, sizeof(num), metric_get_micro(&m[i]))
				     : snprintf(num, sizeof(num), "%" PRIu64, metric_get(&m[i]));
		if (i == 0 || strcmp(m[i - 1].name, m[i].name) != 0)
			put_family(&o, &m[i]);
		put_str(&o, m[i].name);
		if (m[i].labels) {
			put_str(&o, "{");
			put_str(&o, m[i].labels);
			put_str(&o, "}");
		}
		put_str(&o, " ");
		put(&o, num, (size_t)len);
		put_str(&o, "\n");
	}
	if (cap > 0)
		buf[o.off < cap ? o.off : cap - 1] = '\0';
	return o.off;
}

/* ---- server ---- */

struct client;

struct metrics_server {
	uv_tcp_t listener;
	uv_loop_t *loop;
	const struct metric *m;
	size_t n;
	struct client *list;
	unsigned clients;   /* accepted and not yet freed */
	bool listener_open; /* until its close callback has run */
	bool closing;
};

struct client {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	uv_shutdown_t sd;
	struct metrics_server *s;
	struct client *next;
	int open_handles;
	bool responded;
	size_t len;
	char *body;        /* owned, or NULL when the body is a constant */
	char head[256];
	char req[METRICS_REQ_MAX]; /* the request; after the answer, a sink for what follows */
};

static void maybe_free_server(struct metrics_server *s)
{
	if (s->closing && !s->listener_open && s->clients == 0)
		free(s);
}

static void on_client_handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	if (--c->open_handles > 0)
		return;
	struct metrics_server *s = c->s;
	for (struct client **pp = &s->list; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->clients--;
	free(c->body);
	free(c);
	maybe_free_server(s);
}

static void client_close(struct client *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, on_client_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, on_client_handle_closed);
}

static void on_timeout(uv_timer_t *t) { client_close(t->data); }

static void on_written(uv_write_t *w, int status)
{
	if (status < 0)
		client_close(w->data);
}

static void on_shutdown(uv_shutdown_t *sd, int status)
{
	if (status < 0)
		client_close(sd->data);
}

/* Sends status line, headers and body, then half-closes. body is c->body or a constant. */
static void respond(struct client *c, const char *status, const char *extra, const char *body,
		    size_t blen)
{
	c->responded = true;
	int h = snprintf(c->head, sizeof(c->head),
			 "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, blen, extra);
	if (h < 0 || (size_t)h >= sizeof(c->head)) {
		client_close(c);
		return;
	}
	uv_buf_t bufs[2] = {uv_buf_init(c->head, (unsigned)h), uv_buf_init((char *)body, (unsigned)blen)};
	c->wr.data = c;
	c->sd.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, bufs, blen ? 2 : 1, on_written) != 0 ||
	    uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
		client_close(c);
}

#define RESPOND_CONST(c, status, extra, text) respond(c, status, extra, text, sizeof(text) - 1)

/* The metrics text in a buffer of its own. Values move between the sizing pass and the
 * rendering pass, so render until the text fits. */
static char *render_body(const struct metrics_server *s, size_t *len)
{
	size_t cap = metrics_render(s->m, s->n, NULL, 0) + 64;
	for (;;) {
		char *buf = malloc(cap);
		if (!buf)
			return NULL;
		size_t need = metrics_render(s->m, s->n, buf, cap);
		if (need < cap) {
			*len = need;
			return buf;
		}
		free(buf);
		cap = need + 64;
	}
}

/* Offset just past the blank line that ends the headers, or 0 if it has not arrived yet.
 * Bare LF line ends are accepted as well as CRLF. */
static size_t headers_end(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		size_t j = i + 1;
		if (j < len && p[j] == '\r')
			j++;
		if (j < len && p[j] == '\n')
			return j + 1;
	}
	return 0;
}

static bool is_token_char(char ch)
{
	return ch > ' ' && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/* request-line = method SP request-target SP HTTP-version; anything else is a 400. */
int metrics_request_status(const char *req, size_t len)
{
	if (headers_end(req, len) == 0)
		return len >= METRICS_REQ_MAX ? 431 : 0;
	const char *line = req;
	size_t llen = (size_t)((const char *)memchr(line, '\n', len) - line);
	if (llen > 0 && line[llen - 1] == '\r')
		llen--;
	const char *sp1 = memchr(line, ' ', llen);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', llen - (size_t)(sp1 + 1 - line)) : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1)
		return 400;
	size_t mlen = (size_t)(sp1 - line), tlen = (size_t)(sp2 - sp1 - 1);
	const char *target = sp1 + 1, *version = sp2 + 1;
	size_t vlen = llen - (size_t)(version - line);
	bool ok = vlen == 8 && memcmp(version, "HTTP/1.", 7) == 0 && version[7] >= '0' &&
		  version[7] <= '9';
	for (size_t i = 0; ok && i < mlen; i++)
		ok = is_token_char(line[i]);
	for (size_t i = 0; ok && i < tlen; i++)
		ok = target[i] > ' ' && target[i] < 0x7f;
	if (!ok)
		return 400;
	if (mlen != 3 || memcmp(line, "GET", 3) != 0)
		return 405;
	bool metrics = (tlen == 8 && memcmp(target, "/metrics", 8) == 0) ||
		       (tlen > 8 && memcmp(target, "/metrics?", 9) == 0);
	return metrics ? 200 : 404;
}

static void answer(struct client *c, int status)
{
	switch (status) {
	case 200: {
		size_t blen;
		c->body = render_body(c->s, &blen);
		if (!c->body) {
			RESPOND_CONST(c, "503 Service Unavailable", "", "out of memory\n");
			return;
		}
		respond(c, "200 OK", "", c->body, blen);
		return;
	}
	case 404: RESPOND_CONST(c, "404 Not Found", "", "not found\n"); return;
	case 405:
		RESPOND_CONST(c, "405 Method Not Allowed", "Allow: GET\r\n", "method not allowed\n");
		return;
	case 431:
		RESPOND_CONST(c, "431 Request Header Fields Too Large", "", "request too large\n");
		return;
	default: RESPOND_CONST(c, "400 Bad Request", "", "bad request\n"); return;
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;
	if (c->responded)
		*buf = uv_buf_init(c->req, METRICS_REQ_MAX);
	else
		*buf = uv_buf_init(c->req + c->len, (unsigned)(METRICS_REQ_MAX - c->len));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = st->data;
	if (nread < 0) {
		client_close(c); /* EOF, error, or the client is gone */
		return;
	}
	if (nread == 0 || c->responded)
		return;
	c->len += (size_t)nread;
	int status = metrics_request_status(c->req, c->len);
	if (status != 0)
		answer(c, status);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct metrics_server *s = l->data;
	if (status < 0) {
		log_rl(LOG_WARN, "metrics: accept: %s", uv_strerror(status));
		return;
	}
	/* Without memory the pending connection stays queued and libuv stops accepting until a
	 * later uv_accept; nothing better is possible here. */
	struct client *c = calloc(1, sizeof(*c));
	if (!c) {
		log_rl(LOG_ERROR, "metrics: out of memory");
		return;
	}
	c->s = s;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	c->next = s->list;
	s->list = c;
	s->clients++;
	/* Over the limit: accepted only to be closed, so the queue keeps moving. */
	if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0 || s->clients > CLIENTS_MAX) {
		client_close(c);
		return;
	}
	if (uv_timer_start(&c->timer, on_timeout, TIMEOUT_MS, 0) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
		client_close(c);
}

static void on_listener_closed(uv_handle_t *h)
{
	struct metrics_server *s = h->data;
	s->listener_open = false;
	maybe_free_server(s);
}

int metrics_server_start(struct metrics_server **out, uv_loop_t *loop, const struct sockaddr *addr,
			 const struct metric *m, size_t n)
{
	struct metrics_server *s = calloc(1, sizeof(*s));
	if (!s)
		return UV_ENOMEM;
	s->loop = loop;
	s->m = m;
	s->n = n;
	int rc = uv_tcp_init(loop, &s->listener);
	if (rc != 0) {
		free(s);
		return rc;
	}
	s->listener.data = s;
	s->listener_open = true;
	rc = uv_tcp_bind(&s->listener, addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, BACKLOG, on_connection);
	if (rc != 0) {
		metrics_server_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int metrics_server_port(const struct metrics_server *s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return rc;
	if (ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
	return UV_EAFNOSUPPORT;
}

void metrics_server_close(struct metrics_server *s)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	for (struct client *c = s->list; c; c = c->next)
		client_close(c);
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}
