/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/evqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/evbatch.h"
#include "common/log.h"
#include "tx/evseq.h"
#include "tx/tx_metrics.h"

struct qev {
	struct qev *next;
	uint64_t seq, tx_ns, mono;
	uint32_t len;
	uint8_t data[];
};

struct qsrc {
	const struct config_event *cfg;
	struct evseq seq;
	struct qev *head, *tail;
	size_t count, bytes;
	uint64_t dropped;
	uint64_t sent_next; /* the seq after the last one taken into a batch */
};

struct evq {
	struct evq_config c;
	pthread_mutex_t mu;
	struct qsrc *src;
	size_t queued;     /* all sources */
	unsigned next_src; /* round robin among due sources */
};

int evq_new(struct evq **out, const struct evq_config *c)
{
	struct evq *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->c = *c;
	pthread_mutex_init(&q->mu, NULL);
	q->src = calloc(c->nsources ? c->nsources : 1, sizeof(*q->src));
	if (!q->src) {
		evq_free(q);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nsources; i++) {
		q->src[i].cfg = &c->sources[i];
		int rc = evseq_open(&q->src[i].seq, c->state, c->sources[i].name);
		if (rc != 0) {
			evq_free(q);
			return rc;
		}
		/* After a clean stop the last batch sent ended here; after a crash, "after" points
		 * below the jump and the receiver waits out the gap as a loss. */
		q->src[i].sent_next = q->src[i].seq.unclean ? 0 : q->src[i].seq.next;
	}
	*out = q;
	return 0;
}

void evq_set_wake(struct evq *q, void (*wake)(void *ctx), void *ctx)
{
	q->c.wake = wake;
	q->c.wake_ctx = ctx;
}

static void drop_oldest(struct qsrc *s)
{
	struct qev *e = s->head;
	s->head = e->next;
	if (!s->head)
		s->tail = NULL;
	s->count--;
	s->bytes -= e->len;
	free(e);
	s->dropped++;
	txm_add(TXM_EVENTS_DROPPED, 1);
	log_rlk(LOG_WARN, s->cfg->name, "event source %s: queue full (%u events): dropping the oldest (%llu so far)",
	       s->cfg->name, s->cfg->queue, (unsigned long long)s->dropped);
}

int evq_push(struct evq *q, unsigned src, const void *data, size_t len)
{
	return evq_push_at(q, src, now_ns(), data, len);
}

int evq_push_at(struct evq *q, unsigned src, uint64_t tx_ns, const void *data, size_t len)
{
	struct qsrc *s = &q->src[src];
	struct qev *e = malloc(sizeof(*e) + len);
	if (!e) {
		txm_add(TXM_EVENTS_REJECTED, 1);
		log_rlk(LOG_ERROR, s->cfg->name, "event source %s: out of memory, event refused", s->cfg->name);
		return -ENOMEM;
	}
	e->next = NULL;
	e->len = (uint32_t)len;
	memcpy(e->data, data, len);
	e->tx_ns = tx_ns;
	e->mono = mono_ns();
	pthread_mutex_lock(&q->mu);
	int rc = evseq_next(&s->seq, &e->seq);
	if (rc != 0) {
		pthread_mutex_unlock(&q->mu);
		free(e);
		txm_add(TXM_EVENTS_REJECTED, 1);
		log_rlk(LOG_ERROR, s->cfg->name, "event source %s: cannot save its sequence in %s (%s): event refused",
		       s->cfg->name, s->seq.path, strerror(-rc));
		return rc;
	}
	while (s->head && (s->count >= s->cfg->queue || s->bytes + len > EVQ_BYTES_MAX)) {
		drop_oldest(s);
		q->queued--;
	}
	bool first = !s->head;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->count++;
	s->bytes += len;
	q->queued++;
	size_t raw = s->bytes + s->count * EVBATCH_PER_EVENT;
	bool full = raw >= q->c.batch_bytes && raw - len - EVBATCH_PER_EVENT < q->c.batch_bytes;
	pthread_mutex_unlock(&q->mu);
	txm_add(TXM_EVENTS, 1);
	if ((first || full) && q->c.wake)
		q->c.wake(q->c.wake_ctx);
	return 0;
}

static uint64_t src_due(const struct evq *q, const struct qsrc *s)
{
	if (!s->head)
		return UINT64_MAX;
	if (s->bytes + s->count * EVBATCH_PER_EVENT >= q->c.batch_bytes)
		return 0;
	return s->head->mono + q->c.window_ns;
}

uint64_t evq_due(struct evq *q)
{
	if (!__atomic_load_n(&q->queued, __ATOMIC_RELAXED))
		return UINT64_MAX;
	uint64_t due = UINT64_MAX;
	pthread_mutex_lock(&q->mu);
	for (size_t i = 0; i < q->c.nsources; i++) {
		uint64_t d = src_due(q, &q->src[i]);
		if (d < due)
			due = d;
	}
	pthread_mutex_unlock(&q->mu);
	return due;
}

long evq_take(struct evq *q, uint64_t now_mono, int all, uint8_t **obj)
{
	struct qev *list = NULL;
	struct qsrc *s = NULL;
	uint64_t after = 0, batch = 0;
	uint8_t flags = 0, prev[32];
	int brc = 0;
	pthread_mutex_lock(&q->mu);
	for (size_t k = 0; k < q->c.nsources && !s; k++) {
		size_t i = (q->next_src + k) % q->c.nsources;
		struct qsrc *c = &q->src[i];
		if (c->head && (all || src_due(q, c) <= now_mono)) {
			s = c;
			q->next_src = (unsigned)((i + 1) % q->c.nsources);
		}
	}
	if (s) {
		/* Whole events up to batch_bytes raw, at least one. */
		size_t raw = EVBATCH_OVERHEAD(strlen(s->cfg->name));
		struct qev **pp = &list, *e;
		while ((e = s->head)) {
			size_t add = EVBATCH_PER_EVENT + e->len;
			if (list && raw + add > q->c.batch_bytes)
				break;
			raw += add;
			s->head = e->next;
			s->count--;
			s->bytes -= e->len;
			q->queued--;
			e->next = NULL;
			*pp = e;
			pp = &e->next;
		}
		if (!s->head)
			s->tail = NULL;
		after = s->sent_next;
		for (e = list; e; e = e->next)
			s->sent_next = e->seq + 1;
		brc = evseq_batch_peek(&s->seq, &batch, &flags, prev);
	}
	pthread_mutex_unlock(&q->mu);
	if (!s)
		return 0;
	struct evbatch_builder b;
	long n = brc ? brc : evbatch_begin(&b, s->cfg->name, s->seq.stream, after);
	for (struct qev *e = list; e && n == 0; e = e->next)
		n = evbatch_add(&b, e->seq, e->tx_ns, e->data, e->len);
	if (n == 0) {
		evbatch_chain(&b, batch, flags, prev, q->c.sign_sk);
		n = evbatch_finish(&b, s->cfg->compress, obj);
		if (n > 0) {
			pthread_mutex_lock(&q->mu);
			evseq_batch_sent(&s->seq, b.record_hash);
			pthread_mutex_unlock(&q->mu);
		}
	}
	if (!brc)
		evbatch_free(&b);
	uint64_t lost = 0;
	while (list) {
		struct qev *e = list;
		list = e->next;
		free(e);
		lost++;
	}
	if (n < 0) {
		/* For lack of memory, or of a saved batch reservation: the events are gone, their
		 * seqs show as a gap; the chain is not advanced, so it shows no break. */
		txm_add(TXM_EVENTS_DROPPED, lost);
		log_rlk(LOG_ERROR, s->cfg->name, "event source %s: cannot encode a batch (%s): %llu events dropped",
		       s->cfg->name, strerror((int)-n), (unsigned long long)lost);
	}
	return n;
}

size_t evq_queued(struct evq *q) { return __atomic_load_n(&q->queued, __ATOMIC_RELAXED); }

void evq_close(struct evq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	for (size_t i = 0; i < q->c.nsources; i++) {
		struct qsrc *s = &q->src[i];
		if (s->count) {
			log_warn("event source %s: %zu queued events dropped at exit", s->cfg->name, s->count);
			txm_add(TXM_EVENTS_DROPPED, s->count);
		}
		while (s->head) {
			struct qev *e = s->head;
			s->head = e->next;
			free(e);
		}
		s->tail = NULL;
		s->count = s->bytes = 0;
		int rc = evseq_close(&s->seq);
		if (rc != 0)
			log_error("event source %s: cannot save its sequence in %s: %s", s->cfg->name,
				  s->seq.path, strerror(-rc));
	}
	q->queued = 0;
	pthread_mutex_unlock(&q->mu);
}

void evq_free(struct evq *q)
{
	if (!q)
		return;
	for (size_t i = 0; q->src && i < q->c.nsources; i++) {
		while (q->src[i].head) {
			struct qev *e = q->src[i].head;
			q->src[i].head = e->next;
			free(e);
		}
	}
	free(q->src);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
