/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stream event sources (tcp:, unix:): each client accepted, framed by tx/framing.h, kept per
 * source in order of last activity. A client silent for its source's idle_timeout_ms is
 * closed by one timer for every source; a new client on a full source closes the one idle
 * longest, never itself. A frame a client closed by intake had begun is dropped, logged and
 * counted.
 */
#include "tx/intake/internal.h"

#include <stdlib.h>

#include "common/log.h"
#include "tx/tx_metrics.h"

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct intake *in = c->src->in;
	framer_free(&c->fr);
	free(c);
	in->open_handles--;
	intake_maybe_free(in);
}

static void on_event(void *ctx, const uint8_t *p, size_t len)
{
	struct client *c = ctx;
	intake_emit(c->src, p, len);
}

static void on_reject(void *ctx, const char *why, size_t len)
{
	struct client *c = ctx;
	intake_reject(c->src, c->no, why, len);
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
void clients_drop(struct client *c, const char *why, bool say)
{
	size_t bytes;
	uint64_t idle_ms = uv_now(c->src->in->loop) - c->active_ms;
	if (framer_pending(&c->fr, &bytes)) {
		txm_add(TXM_EVENTS_PARTIAL, 1);
		log_rlk(LOG_WARN, c->src->cfg->name, "event source %s, client %llu: closed (%s, silent for %llu ms) with an "
		       "unfinished event of %zu bytes: dropped", c->src->cfg->name,
		       (unsigned long long)c->no, why, (unsigned long long)idle_ms, bytes);
	} else if (say) {
		log_rlk(LOG_WARN, c->src->cfg->name, "event source %s, client %llu: closed (%s, silent for %llu ms)",
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
			clients_drop(s->head, "idle_timeout", true);
		}
	}
	idle_arm(in);
}

void clients_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)hint;
	struct client *c = h->data;
	b->base = (char *)c->src->in->buf;
	b->len = READ_BUF;
}

void clients_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct client *c = st->data;
	if (n > 0) {
		client_unlink(c);
		client_append(c); /* now the most recently active */
		if (framer_feed(&c->fr, (const uint8_t *)b->base, (size_t)n) != 0) {
			txm_add(TXM_EVENTS_REJECTED, 1);
			log_rlk(LOG_WARN, c->src->cfg->name, "event source %s, client %llu: bad octet-counted frame (RFC 6587); "
			       "closing the connection", c->src->cfg->name, (unsigned long long)c->no);
			client_close(c);
		}
		return;
	}
	if (n == 0)
		return;
	if (n != UV_EOF)
		log_rlk(LOG_WARN, c->src->cfg->name, "event source %s, client %llu: %s", c->src->cfg->name,
		       (unsigned long long)c->no, uv_strerror((int)n));
	framer_finish(&c->fr);
	client_close(c);
}

void clients_accept(uv_stream_t *l, int status)
{
	struct isrc *s = l->data;
	struct intake *in = s->in;
	if (status < 0) {
		log_rlk(LOG_WARN, s->cfg->name, "event source %s: accept: %s", s->cfg->name, uv_strerror(status));
		return;
	}
	struct client *c = calloc(1, sizeof(*c));
	if (!c || framer_init(&c->fr, s->cfg->max_line, on_event, on_reject, c) != 0) {
		free(c);
		log_rlk(LOG_ERROR, s->cfg->name, "event source %s: out of memory for a client", s->cfg->name);
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
	if (s->nclients >= in->clients_max) {
		/* Never the new one: idle connections must not lock real sources out. */
		txm_add(TXM_EVENT_CLIENTS_EVICTED, 1);
		clients_drop(s->head, "source full: the client idle longest makes room for a new one",
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
	rc = in->paused ? 0 : uv_read_start(&c->c.s, clients_alloc, clients_read);
	if (rc != 0)
		client_close(c);
}
