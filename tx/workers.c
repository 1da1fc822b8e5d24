/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

#define WORKER_NICE 10 /* added to the nice value the workers start with */

struct workers_batch {
	size_t pending;
};

struct item {
	void *job;
	struct workers_batch *batch;
};

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t work;  /* jobs queued or stopping */
	pthread_cond_t done;  /* a batch finished */
	struct item *q;
	size_t head, tail, cap; /* ring */
	bool stop;
	unsigned n;
	pthread_t *threads;
	workers_fn fn;
	void *ctx;
};

struct thread_arg {
	struct workers *w;
	unsigned index;
};

static void *worker_main(void *p)
{
	struct thread_arg *a = p;
	struct workers *w = a->w;
	unsigned index = a->index;
	free(a);
	/* Workers yield to the sender thread: it sleeps between paced bursts and must wake on
	 * time, or the pacer's credit (capped at its burst) runs to waste while a worker holds
	 * the core. On a host with a core per thread this changes nothing. */
	id_t tid = (id_t)syscall(SYS_gettid);
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, tid); /* inherited from the sender's thread */
	if (errno == 0) {
		nice = nice + WORKER_NICE > 19 ? 19 : nice + WORKER_NICE;
		if (setpriority(PRIO_PROCESS, tid, nice) != 0)
			log_debug("workers: cannot lower their priority: %s", strerror(errno));
	}
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == w->tail && !w->stop)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->head == w->tail && w->stop)
			break;
		struct item it = w->q[w->head % w->cap];
		w->head++;
		pthread_mutex_unlock(&w->mu);
		w->fn(it.job, index, w->ctx);
		pthread_mutex_lock(&w->mu);
		if (--it.batch->pending == 0)
			pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int workers_new(struct workers **out, unsigned n, workers_fn fn, void *ctx)
{
	struct workers *w = calloc(1, sizeof(*w));
	if (!w || n == 0)
		goto fail_alloc;
	w->n = n;
	w->fn = fn;
	w->ctx = ctx;
	w->cap = 1024;
	w->q = calloc(w->cap, sizeof(*w->q));
	w->threads = calloc(n, sizeof(*w->threads));
	if (!w->q || !w->threads)
		goto fail_alloc;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct thread_arg *a = malloc(sizeof(*a));
		if (!a)
			goto fail_threads;
		a->w = w;
		a->index = i;
		if (pthread_create(&w->threads[i], NULL, worker_main, a) != 0) {
			free(a);
			w->n = i;
			goto fail_threads;
		}
	}
	*out = w;
	return 0;
fail_threads:
	workers_free(w);
	return -EAGAIN;
fail_alloc:
	if (w) {
		free(w->q);
		free(w->threads);
		free(w);
	}
	return -ENOMEM;
}

void workers_submit(struct workers *w, struct workers_batch *b, void **jobs, size_t njobs)
{
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < njobs; i++) {
		if (w->tail - w->head == w->cap) {
			/* Grow the ring, keeping order. */
			size_t ncap = w->cap * 2;
			struct item *nq = malloc(ncap * sizeof(*nq));
			if (!nq) {
				/* Out of memory: run the job here rather than lose it. */
				pthread_mutex_unlock(&w->mu);
				w->fn(jobs[i], 0, w->ctx);
				pthread_mutex_lock(&w->mu);
				continue;
			}
			for (size_t k = 0; k < w->cap; k++)
				nq[k] = w->q[(w->head + k) % w->cap];
			free(w->q);
			w->q = nq;
			w->tail = w->cap;
			w->head = 0;
			w->cap = ncap;
		}
		w->q[w->tail % w->cap] = (struct item){jobs[i], b};
		w->tail++;
		b->pending++;
	}
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
}

void workers_wait(struct workers *w, struct workers_batch *b)
{
	pthread_mutex_lock(&w->mu);
	while (b->pending)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

struct workers_batch *workers_batch_new(void) { return calloc(1, sizeof(struct workers_batch)); }
void workers_batch_free(struct workers_batch *b) { free(b); }

void workers_free(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	free(w->q);
	free(w->threads);
	free(w);
}
