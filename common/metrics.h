/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counters and gauges, updated with relaxed atomics from any thread, served in the Prometheus
 * text format (0.0.4) at GET /metrics by a small HTTP/1.0 server on a libuv loop.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

enum metric_type { METRIC_COUNTER = 1, METRIC_GAUGE = 2 };

struct metric {
	const char *name;
	const char *help;
	enum metric_type type;
	_Atomic uint64_t value;
};

static inline void metric_add(struct metric *m, uint64_t v)
{
	atomic_fetch_add_explicit(&m->value, v, memory_order_relaxed);
}

static inline void metric_set(struct metric *m, uint64_t v)
{
	atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

static inline uint64_t metric_get(const struct metric *m)
{
	return atomic_load_explicit(&((struct metric *)m)->value, memory_order_relaxed);
}

/* Like snprintf: bytes written, or the size needed when cap is too small. */
size_t metrics_render(const struct metric *m, size_t n, char *buf, size_t cap);

struct metrics_server;
/* Serve on addr (TCP). Requests over 8 KiB or slower than 5 s are closed; at most 64 clients.
 * 0 or a negative libuv error. */
int metrics_server_start(struct metrics_server **out, uv_loop_t *loop, const struct sockaddr *addr,
			 const struct metric *m, size_t n) __attribute__((warn_unused_result));
/* The bound port (useful with port 0). */
int metrics_server_port(const struct metrics_server *s);
/* Stop listening and close clients; memory is freed by the close callbacks. */
void metrics_server_close(struct metrics_server *s);

#endif
