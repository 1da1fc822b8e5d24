/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Messages to the deliver role: queued per lane (events first), written without blocking.
 */
#include "rx/link/internal.h"

static struct outq *queue_for(struct linkrole *l, const struct msg *m)
{
	return m->type == MSG_EVENTS && l->c.ev_fd >= 0 ? &l->q[1] : &l->q[0];
}

void outmsg_free(struct linkrole *l, struct outmsg *o)
{
	bufpool_put(l->pool, o->ext);
	free(o);
}

/* Queues m for the deliver role. With ext, m->data is ext (a pool buffer of ext_cap bytes that
 * the queue now owns) and is written from there, not copied. */
void out_emit_buf(struct linkrole *l, const struct msg *m, uint8_t *ext, size_t ext_cap)
{
	if (l->c.out_fd < 0) {
		bufpool_put(l->pool, ext);
		return;
	}
	size_t len = ext ? MSG_HEAD_MAX : msg_encoded_len(m);
	struct outmsg *o = malloc(sizeof(*o) + len);
	if (!o) {
		bufpool_put(l->pool, ext);
		log_rl(LOG_ERROR, "out of memory queueing a message for the deliver role");
		return;
	}
	o->ext = ext;
	o->ext_len = ext ? m->data_len : 0;
	int n = ext ? msg_encode_head(m, o->data, len) : msg_encode(m, o->data, len);
	if (n < 0) {
		outmsg_free(l, o);
		log_rl(LOG_ERROR, "cannot encode message type %d", m->type);
		return;
	}
	o->len = (size_t)n + o->ext_len;
	o->held = o->len + (ext && ext_cap > m->data_len ? ext_cap - m->data_len : 0);
	o->off = 0;
	o->next = NULL;
	struct outq *q = queue_for(l, m);
	if (q->tail)
		q->tail->next = o;
	else
		q->head = o;
	q->tail = o;
	l->qbytes += o->held;
}

void out_emit(struct linkrole *l, const struct msg *m) { out_emit_buf(l, m, NULL, 0); }

static bool flush_one(struct linkrole *l, struct outq *q, int fd)
{
	while (q->head) {
		struct outmsg *o = q->head;
		size_t head = o->len - o->ext_len;
		struct iovec iov[2];
		int niov = 0;
		if (o->off < head)
			iov[niov++] = (struct iovec){o->data + o->off, head - o->off};
		if (o->ext_len) {
			size_t done = o->off > head ? o->off - head : 0;
			iov[niov++] = (struct iovec){o->ext + done, o->ext_len - done};
		}
		ssize_t n = writev(fd, iov, niov);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				l->peer_gone = true; /* the deliver role is gone: nothing can be handed over */
			else if (errno != EAGAIN)
				log_rl(LOG_ERROR, "deliver role channel: %s", strerror(errno));
			return false;
		}
		o->off += (size_t)n;
		if (o->off < o->len)
			return false;
		q->head = o->next;
		if (!q->head)
			q->tail = NULL;
		l->qbytes -= o->held;
		outmsg_free(l, o);
	}
	return true;
}

bool linkrole_flush(struct linkrole *l)
{
	bool ev = flush_one(l, &l->q[1], l->c.ev_fd);
	return flush_one(l, &l->q[0], l->c.out_fd) && ev;
}
