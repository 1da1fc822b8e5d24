/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UDP event sources: one event per datagram, a trailing LF or CRLF dropped, one longer than
 * max_line refused; and the datagrams the kernel dropped before intake read them, checked
 * every second.
 */
#include "tx/intake/internal.h"

#include "common/log.h"
#include "hw/sockdrops.h"
#include "tx/tx_metrics.h"

void dgram_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)hint;
	struct isrc *s = h->data;
	b->base = (char *)s->in->buf;
	b->len = READ_BUF;
}

void dgram_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
		unsigned flags)
{
	struct isrc *s = h->data;
	if (n < 0) {
		log_rlk(LOG_WARN, s->cfg->name, "event source %s: receive error: %s", s->cfg->name, uv_strerror((int)n));
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
		intake_reject(s, 0, "datagram longer than max_line", (size_t)n);
		return;
	}
	if (len)
		intake_emit(s, p, len);
}

/* Datagrams dropped by the kernel (socket buffer full) never reach intake and get no seq:
 * the receiver cannot see them, so they are logged and counted here. */
void dgram_check_drops(uv_timer_t *t)
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
			log_rlk(LOG_WARN, s->cfg->name, "event source %s: the kernel dropped %u datagrams before intake "
			       "read them (socket buffer full)", s->cfg->name, n);
		}
		s->kernel_drops = d;
	}
}
