/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event queue between intake (libuv thread) and the sender thread.
 *
 * Intake pushes one event at a time: it gets its source's next seq (tx/evseq.h) and the
 * intake time at once. Each source queues at most `queue` events and EVQ_BYTES_MAX bytes;
 * beyond that the oldest queued events are dropped and counted, so intake never waits on the
 * link and the loss shows on the receiver as a seq gap.
 *
 * The sender takes batches: the events of one source that are due, because the oldest has
 * waited `window` or because they fill `batch_bytes`, encoded as one event-batch object
 * (common/evbatch.h), zstd-compressed at the source's level when that is smaller.
 */
#ifndef SLUICE_TX_EVQUEUE_H
#define SLUICE_TX_EVQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define EVQ_BYTES_MAX (64u << 20) /* per source */

struct evq;

struct evq_config {
	const char *state;                   /* STATE: sequence files under STATE/events */
	const struct config_event *sources;  /* names, queue bounds, compression levels */
	size_t nsources;
	uint64_t window_ns;                  /* batching window, e.g. 1 ms */
	size_t batch_bytes;                  /* a batch closes at this many raw bytes */
	const uint8_t *sign_sk;              /* Ed25519 secret key that signs each batch's chain
						record (common/evchain.h); kept by pointer */
	void (*wake)(void *ctx);             /* called (any thread) when a source gets its first
						queued event or a full batch */
	void *wake_ctx;
};

int evq_new(struct evq **out, const struct evq_config *c) __attribute__((warn_unused_result));
/* Set the wake callback (before intake starts). */
void evq_set_wake(struct evq *q, void (*wake)(void *ctx), void *ctx);
/* Queue one event of source `src` (index into sources). 0, or -errno when its seq cannot be
 * persisted (the event is refused, logged and counted as rejected). Thread-safe. */
int evq_push(struct evq *q, unsigned src, const void *data, size_t len);
/* evq_push with the intake time given (CLOCK_REALTIME ns): events read by the intake process
 * (tx/intake_proc/intake_proc.h) carry the time it read them. */
int evq_push_at(struct evq *q, unsigned src, uint64_t tx_ns, const void *data, size_t len);
/* Monotonic time (mono_ns) at which the next batch is due: 0 when one is due now, UINT64_MAX
 * when nothing is queued. */
uint64_t evq_due(struct evq *q);
/* Encode one due batch into *obj (malloc'd), signed and chained to its source's previous
 * batch: its length, 0 when none is due (all queued events, due or not, when `all`), or
 * -errno. One thread at a time (the sender's): batches of a source are chained in the order
 * they are taken. */
long evq_take(struct evq *q, uint64_t now_mono, int all, uint8_t **obj)
	__attribute__((warn_unused_result));
/* Events queued now (all sources). */
size_t evq_queued(struct evq *q);
/* Persist every source's exact next seq (clean stop). Events still queued are counted as
 * dropped. */
void evq_close(struct evq *q);
void evq_free(struct evq *q);

#endif
