/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fixed pool of worker threads running jobs given in batches. The submitter waits for a batch
 * with workers_wait(); jobs of one batch run in any order, on any worker.
 */
#ifndef SLUICE_TX_WORKERS_H
#define SLUICE_TX_WORKERS_H

#include <stddef.h>

struct workers;
struct workers_batch;

/* fn(job, worker_index, ctx) runs each job; worker_index < n lets jobs use per-worker scratch. */
typedef void (*workers_fn)(void *job, unsigned worker, void *ctx);

int workers_new(struct workers **out, unsigned n, workers_fn fn, void *ctx)
	__attribute__((warn_unused_result));
/* Queue njobs jobs (pointers stay owned by the caller until the batch is done). */
void workers_submit(struct workers *w, struct workers_batch *b, void **jobs, size_t njobs);
void workers_wait(struct workers *w, struct workers_batch *b);
struct workers_batch *workers_batch_new(void);
void workers_batch_free(struct workers_batch *b);
void workers_free(struct workers *w);

#endif
