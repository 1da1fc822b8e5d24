/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event intake on a libuv loop (tx/intake/intake.h): the bound sockets of the sources taken
 * onto the loop (UDP in dgram.c, stream clients in clients.c), every event passed to the push
 * callback, every refusal logged and counted; reading paused and resumed; closing, after which
 * the intake is freed once its last handle has closed.
 */
#include "tx/intake/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "tx/tx_metrics.h"

void intake_maybe_free(struct intake *in)
{
	if (in->closing && in->open_handles == 0) {
		free(in->src);
		free(in);
	}
}

void intake_emit(struct isrc *s, const uint8_t *p, size_t len)
{
	s->in->push(s->in->push_ctx, s->idx, p, len);
}

void intake_reject(struct isrc *s, uint64_t client, const char *why, size_t len)
{
	txm_add(TXM_EVENTS_REJECTED, 1);
	if (client)
		log_rlk(LOG_WARN, s->cfg->name, "event source %s, client %llu: %s (%zu bytes, max_line %llu): refused, "
		       "connection kept", s->cfg->name, (unsigned long long)client, why, len,
		       (unsigned long long)s->cfg->max_line);
	else
		log_rlk(LOG_WARN, s->cfg->name, "event source %s: %s (%zu bytes, max_line %llu): refused", s->cfg->name, why,
		       len, (unsigned long long)s->cfg->max_line);
}

static void timer_closed(uv_handle_t *h)
{
	struct intake *in = h->data;
	in->open_handles--;
	intake_maybe_free(in);
}

static void listener_closed(uv_handle_t *h)
{
	struct isrc *s = h->data;
	struct intake *in = s->in;
	in->open_handles--;
	intake_maybe_free(in);
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
		return uv_udp_recv_start(&s->l.udp, dgram_alloc, dgram_recv);
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
	return uv_listen(&s->l.s, 128, clients_accept);
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
	in->clients_max = intake_clients_cap(sources, n);
	in->src = calloc(n ? n : 1, sizeof(*in->src));
	if (!in->src) {
		free(in);
		return -ENOMEM;
	}
	if (uv_timer_init(loop, &in->drops) == 0) {
		in->drops.data = in;
		in->drops_on = true;
		in->open_handles++;
		uv_timer_start(&in->drops, dgram_check_drops, 1000, 1000);
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
				  bind_kind_name(s->cfg), bind_where(s->cfg), uv_strerror(rc));
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
				(void)uv_udp_recv_start(&s->l.udp, dgram_alloc, dgram_recv);
			continue;
		}
		for (struct client *c = s->head; c; c = c->next) {
			if (pause)
				uv_read_stop(&c->c.s);
			else if (uv_read_start(&c->c.s, clients_alloc, clients_read) != 0)
				log_rlk(LOG_WARN, s->cfg->name, "event source %s, client %llu: cannot resume reading",
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
		dgram_check_drops(&in->drops);
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
			clients_drop(s->head, "sluice-tx is stopping", false);
		if (s->open && !uv_is_closing(&s->l.h)) {
			if (s->cfg->kind == CONFIG_EVENT_UNIX && in->owns_paths)
				unlink(s->cfg->unix_path);
			uv_close(&s->l.h, listener_closed);
		}
	}
	intake_maybe_free(in);
}
