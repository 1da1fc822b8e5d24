/* SPDX-License-Identifier: Apache-2.0 */
#include "common/metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define REQ_MAX 8192
#define CLIENTS_MAX 64
#define TIMEOUT_MS 5000

struct metrics_server {
	uv_tcp_t listener;
	uv_loop_t *loop;
	const struct metric *m;
	size_t n;
	unsigned clients;
	bool closing;
	struct client *list;
};

struct client {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct metrics_server *s;
	struct client *next;
	char req[REQ_MAX];
	size_t len;
	int handles; /* open handles: free when 0 */
	bool responded;
	uv_write_t wr;
	char *resp;
};

size_t metrics_render(const struct metric *m, size_t n, char *buf, size_t cap)
{
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(off < cap ? buf + off : NULL, off < cap ? cap - off : 0,
				 "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", m[i].name, m[i].help,
				 m[i].name, m[i].type == METRIC_GAUGE ? "gauge" : "counter", m[i].name,
				 metric_get(&m[i]));
		if (w < 0)
			return off;
		off += (size_t)w;
	}
	return off;
}

static void client_free(uv_handle_t *h)
{
	struct client *c = h->data;
	if (--c->handles)
		return;
	struct metrics_server *s = c->s;
	for (struct client **pp = &s->list; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->clients--;
	free(c->resp);
	free(c);
	if (s->closing && s->clients == 0 && s->listener.data == NULL)
		free(s);
}

static void client_close(struct client *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, client_free);
	if (!uv_is_closing((uv_handle_t *)&c->timer))
		uv_close((uv_handle_t *)&c->timer, client_free);
}

static void on_written(uv_write_t *w, int status)
{
	client_close(w->data);
}

static void respond(struct client *c, const char *status, const char *body, size_t blen)
{
	c->responded = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	size_t cap = blen + 256;
	c->resp = malloc(cap);
	if (!c->resp) {
		client_close(c);
		return;
	}
	int h = snprintf(c->resp, cap,
			 "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, blen);
	memcpy(c->resp + h, body, blen);
	uv_buf_t b = uv_buf_init(c->resp, (unsigned)((size_t)h + blen));
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
		client_close(c);
}

static void handle(struct client *c)
{
	char *eol = memchr(c->req, '\n', c->len);
	if (!eol)
		return; /* wait for the request line */
	bool get = c->len >= 4 && memcmp(c->req, "GET ", 4) == 0;
	if (!get) {
		respond(c, "405 Method Not Allowed", "method not allowed\n", 19);
		return;
	}
	/* Only the request line matters; headers are not needed. */
	const char *path = c->req + 4;
	size_t plen = strcspn(path, " \r\n");
	bool ok = (plen == 8 && memcmp(path, "/metrics", 8) == 0) ||
		  (plen > 8 && memcmp(path, "/metrics?", 9) == 0);
	if (!ok) {
		respond(c, "404 Not Found", "not found\n", 10);
		return;
	}
	struct metrics_server *s = c->s;
	size_t need = metrics_render(s->m, s->n, NULL, 0) + 1;
	char *body = malloc(need);
	if (!body) {
		client_close(c);
		return;
	}
	size_t blen = metrics_render(s->m, s->n, body, need);
	respond(c, "200 OK", body, blen);
	free(body);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *c = h->data;
	buf->base = c->req + c->len;
	buf->len = REQ_MAX - c->len;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = st->data;
	if (nread < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)nread;
	if (!c->responded)
		handle(c);
	if (!c->responded && c->len >= REQ_MAX)
		respond(c, "431 Request Header Fields Too Large", "request too large\n", 18);
}

static void on_timeout(uv_timer_t *t) { client_close(t->data); }

static void on_connection(uv_stream_t *l, int status)
{
	struct metrics_server *s = l->data;
	if (status < 0)
		return;
	struct client *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->s = s;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = s->list;
	s->list = c;
	s->clients++;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0 || s->clients > CLIENTS_MAX) {
		client_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
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
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	int rc = uv_tcp_bind(&s->listener, addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 16, on_connection);
	if (rc != 0) {
		s->closing = true;
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
	if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void listener_closed(uv_handle_t *h)
{
	struct metrics_server *s = h->data;
	s->listener.data = NULL;
	if (s->clients == 0)
		free(s);
}

void metrics_server_close(struct metrics_server *s)
{
	if (!s)
		return;
	s->closing = true;
	for (struct client *c = s->list; c; c = c->next)
		client_close(c);
	uv_close((uv_handle_t *)&s->listener, listener_closed);
}
