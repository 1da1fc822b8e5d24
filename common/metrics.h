/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Counters and gauges, updated with relaxed atomics from any thread, served in the Prometheus
 * text exposition format (version 0.0.4) at GET /metrics by a small HTTP/1.0 server that runs
 * on the caller's libuv loop and only ever reads the values.
 */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

enum metric_type { METRIC_COUNTER = 1, METRIC_GAUGE = 2 };

/* name must match [a-zA-Z_:][a-zA-Z0-9_:]* (not checked); help is free text, '\' and newlines
 * are escaped when rendered. labels, when not NULL, is the text between the braces of the
 * sample line, already valid (`spool="cam-north"`: no escaping is done). Entries of one family
 * (same name) must be adjacent: HELP and TYPE are rendered once, from the first. A micro
 * metric holds a signed value in millionths (metric_set_micro), rendered as a decimal, so a
 * gauge can be a ratio, fractional seconds, or negative. All strings must outlive every render
 * and the server. */
struct metric {
	const char *name;
	const char *help;
	enum metric_type type;
	bool micro;
	const char *labels;
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
	/* Older clang refuses atomic loads through a pointer to const. */
	return atomic_load_explicit(&((struct metric *)m)->value, memory_order_relaxed);
}

/* A micro metric's value: v millionths, stored as its two's complement bit pattern. */
static inline void metric_set_micro(struct metric *m, int64_t v) { metric_set(m, (uint64_t)v); }

static inline int64_t metric_get_micro(const struct metric *m)
{
	uint64_t u = metric_get(m);
	return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/*
 * Renders "# HELP", "# TYPE" and the value line of each of the n metrics into buf (which may
 * be NULL when cap is 0). Like snprintf: returns the length of the full text, not counting the
 * terminating NUL; the text was complete only if that is < cap. When cap > 0 the buffer is
 * always NUL-terminated. Values are read once each, so a text is never torn within a metric.
 */
size_t metrics_render(const struct metric *m, size_t n, char *buf, size_t cap);

struct metrics_server;
/*
 * Serves GET /metrics (a query string is ignored) on addr, TCP, on loop. Other paths get 404,
 * other methods 405, malformed requests 400. A request (line and headers) larger than 8 KiB
 * gets 431; a connection open longer than 5 s is closed; at most 64 clients at once, more are
 * accepted and closed at once. Responses are HTTP/1.0, "Content-Type: text/plain;
 * version=0.0.4", "Connection: close". m[0..n) must outlive the server.
 * Returns 0, or a negative libuv error: then nothing was started, but the loop must still be
 * run once for the listener's close callback, which frees the server.
 */
int metrics_server_start(struct metrics_server **out, uv_loop_t *loop, const struct sockaddr *addr,
			 const struct metric *m, size_t n) __attribute__((warn_unused_result));
/* The status the server answers once a client has sent the len bytes at req (len <=
 * METRICS_REQ_MAX): 0 while the blank line ending the headers has not arrived and len is below
 * METRICS_REQ_MAX (read on), else 200 (GET /metrics), 400, 404, 405 or 431. Decided by the
 * request line alone; for tests and fuzzing. */
#define METRICS_REQ_MAX 8192
int metrics_request_status(const char *req, size_t len);
/* The bound TCP port (useful after binding port 0), or a negative libuv error. */
int metrics_server_port(const struct metrics_server *s);
/* Stops listening and closes every client. Memory is freed by the close callbacks, so the
 * loop must run afterwards (uv_run until it has no more handles). s may be NULL. */
void metrics_server_close(struct metrics_server *s);

#endif
