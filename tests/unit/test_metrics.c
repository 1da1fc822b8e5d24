/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/metrics.{h,c}: the exact exposition text, snprintf-like sizing and truncation, HELP
 * escaping; then a real server on 127.0.0.1 (port 0) driven by uv_run on this thread while a
 * client thread talks to it with blocking sockets: 200 with headers and body, 404, 405, 400 for
 * junk, 431 for an endless header, a request split across packets, values that grow while
 * being served, the 64-client limit and the 5 s timeout, and closing with clients connected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"

static struct metric two[] = {
	{.name = "sluice_test_packets_total", .help = "Packets seen.", .type = METRIC_COUNTER},
	{.name = "sluice_test_link_up", .help = "1 while up.", .type = METRIC_GAUGE},
};

static const char two_text[] = "# HELP sluice_test_packets_total Packets seen.\n"
			       "# TYPE sluice_test_packets_total counter\n"
			       "sluice_test_packets_total 18446744073709551615\n"
			       "# HELP sluice_test_link_up 1 while up.\n"
			       "# TYPE sluice_test_link_up gauge\n"
			       "sluice_test_link_up 1\n";

static void test_render_exact(void **state)
{
	metric_set(&two[0], 0);
	metric_add(&two[0], UINT64_MAX - 5);
	metric_add(&two[0], 5);
	metric_set(&two[1], 7);
	metric_set(&two[1], 1);
	char buf[1024];
	size_t n = metrics_render(two, 2, buf, sizeof(buf));
	assert_int_equal(n, strlen(two_text));
	assert_string_equal(buf, two_text);
	assert_int_equal(metrics_render(two, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_render_small_buffer(void **state)
{
	metric_set(&two[0], UINT64_MAX);
	metric_set(&two[1], 1);
	size_t full = strlen(two_text);
	assert_int_equal(metrics_render(two, 2, NULL, 0), full);
	char buf[1024];
	/* every cap up to and including full: the size needed, a NUL-terminated prefix, and not
	 * one byte written past cap */
	for (size_t cap = 1; cap <= full; cap++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(metrics_render(two, 2, buf, cap), full);
		assert_int_equal(buf[cap - 1], '\0');
		assert_memory_equal(buf, two_text, cap - 1);
		assert_int_equal(buf[cap], 'X');
	}
	assert_int_equal(metrics_render(two, 2, buf, full + 1), full);
	assert_string_equal(buf, two_text);
}

static void test_render_escapes_help(void **state)
{
	struct metric m[] = {
		{.name = "a_total", .help = "back\\slash\nnewline", .type = METRIC_COUNTER},
		{.name = "b", .help = NULL, .type = 0},
	};
	metric_set(&m[0], 3);
	char buf[256];
	size_t n = metrics_render(m, 2, buf, sizeof(buf));
	const char *want = "# HELP a_total back\\\\slash\\nnewline\n"
			   "# TYPE a_total counter\na_total 3\n"
			   "# TYPE b untyped\nb 0\n";
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
}

/* Labelled series of one family share one HELP and TYPE; a micro gauge holds a signed value
 * in millionths and renders as a decimal, trailing zeros dropped, INT64_MIN included. */
static void test_render_labels_and_micro(void **state)
{
	struct metric m[] = {
		{.name = "x_backlog_bytes", .help = "Bytes.", .type = METRIC_GAUGE, .labels = "spool=\"a\""},
		{.name = "x_backlog_bytes", .help = "Bytes.", .type = METRIC_GAUGE, .labels = "spool=\"b.c\""},
		{.name = "x_skew_seconds", .help = "Skew.", .type = METRIC_GAUGE, .micro = true},
		{.name = "x_skew_seconds", .type = METRIC_GAUGE, .micro = true, .labels = "k=\"2\""},
		{.name = "x_skew_seconds", .type = METRIC_GAUGE, .micro = true, .labels = "k=\"3\""},
		{.name = "x_skew_seconds", .type = METRIC_GAUGE, .micro = true, .labels = "k=\"4\""},
		{.name = "x_skew_seconds", .type = METRIC_GAUGE, .micro = true, .labels = "k=\"5\""},
		{.name = "x_skew_seconds", .type = METRIC_GAUGE, .micro = true, .labels = "k=\"6\""},
	};
	metric_set(&m[0], 5);
	metric_set(&m[1], 0);
	metric_set_micro(&m[2], -1500000);
	metric_set_micro(&m[3], 0);
	metric_set_micro(&m[4], 100000);
	metric_set_micro(&m[5], INT64_MIN);
	metric_set_micro(&m[6], INT64_MAX);
	metric_set_micro(&m[7], -7);
	assert_int_equal(metric_get_micro(&m[2]), -1500000);
	assert_int_equal(metric_get_micro(&m[5]), INT64_MIN);
	char buf[1024];
	size_t n = metrics_render(m, 8, buf, sizeof(buf));
	const char *want = "# HELP x_backlog_bytes Bytes.\n"
			   "# TYPE x_backlog_bytes gauge\n"
			   "x_backlog_bytes{spool=\"a\"} 5\n"
			   "x_backlog_bytes{spool=\"b.c\"} 0\n"
			   "# HELP x_skew_seconds Skew.\n"
			   "# TYPE x_skew_seconds gauge\n"
			   "x_skew_seconds -1.5\n"
			   "x_skew_seconds{k=\"2\"} 0\n"
			   "x_skew_seconds{k=\"3\"} 0.1\n"
			   "x_skew_seconds{k=\"4\"} -9223372036854.775808\n"
			   "x_skew_seconds{k=\"5\"} 9223372036854.775807\n"
			   "x_skew_seconds{k=\"6\"} -0.000007\n";
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(metrics_render(m, 8, NULL, 0), strlen(want));
}

/* ---- server ---- */

struct server {
	uv_loop_t loop;
	uv_async_t done_async;
	struct metrics_server *ms;
	int port;
	atomic_bool done;
};

static struct metric served[] = {
	{.name = "sluice_rx_packets_total", .help = "Datagrams received.", .type = METRIC_COUNTER},
	{.name = "sluice_rx_link_up", .help = "1 while the sender's heartbeats arrive.",
	 .type = METRIC_GAUGE},
};

static void on_done(uv_async_t *a) { (void)a; }

static int server_setup(void **state)
{
	struct server *sv = calloc(1, sizeof(*sv));
	if (!sv || uv_loop_init(&sv->loop) != 0 || uv_async_init(&sv->loop, &sv->done_async, on_done) != 0)
		return -1;
	struct sockaddr_in sin;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	metric_set(&served[0], 42);
	metric_set(&served[1], 1);
	if (metrics_server_start(&sv->ms, &sv->loop, (const struct sockaddr *)&sin, served, 2) != 0)
		return -1;
	sv->port = metrics_server_port(sv->ms);
	if (sv->port <= 0)
		return -1;
	*state = sv;
	return 0;
}

static int server_teardown(void **state)
{
	struct server *sv = *state;
	metrics_server_close(sv->ms);
	uv_close((uv_handle_t *)&sv->done_async, NULL);
	/* every handle closes and the server frees itself: the loop ends and closes cleanly */
	int rc = uv_run(&sv->loop, UV_RUN_DEFAULT);
	int rc2 = uv_loop_close(&sv->loop);
	free(sv);
	return rc == 0 && rc2 == 0 ? 0 : -1;
}

/* Runs fn(arg) on a thread while this thread drives the loop, until fn returns. */
static void with_client(struct server *sv, void *(*fn)(void *), void *arg)
{
	pthread_t th;
	atomic_store(&sv->done, false);
	assert_int_equal(pthread_create(&th, NULL, fn, arg), 0);
	while (!atomic_load(&sv->done))
		uv_run(&sv->loop, UV_RUN_ONCE);
	assert_int_equal(pthread_join(th, NULL), 0);
}

static void client_finished(struct server *sv)
{
	atomic_store(&sv->done, true);
	uv_async_send(&sv->done_async);
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads until EOF (or error, or a full buffer); returns the bytes read, -1 if nothing came. */
static ssize_t recv_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		if (n + 1 >= cap)
			break;
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n ? (ssize_t)n : -1;
}

struct exchange {
	struct server *sv;
	const char *parts[4]; /* sent one by one, 100 ms apart */
	size_t lens[4];       /* 0: strlen */
	char resp[16384];
	ssize_t resp_len;
};

static void *exchange_thread(void *arg)
{
	struct exchange *x = arg;
	x->resp_len = -1;
	int fd = connect_to(x->sv->port);
	if (fd >= 0) {
		bool ok = true;
		for (int i = 0; ok && i < 4 && x->parts[i]; i++) {
			if (i > 0)
				usleep(100 * 1000);
			size_t len = x->lens[i] ? x->lens[i] : strlen(x->parts[i]);
			ok = send_all(fd, x->parts[i], len);
		}
		x->resp_len = recv_all(fd, x->resp, sizeof(x->resp));
		close(fd);
	}
	client_finished(x->sv);
	return NULL;
}

static struct exchange *exchange(struct server *sv, const char *req)
{
	static struct exchange x;
	memset(&x, 0, sizeof(x));
	x.sv = sv;
	x.parts[0] = req;
	with_client(sv, exchange_thread, &x);
	return &x;
}

static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	assert_non_null(b);
	return b + 4;
}

static void check_headers(const char *resp, const char *status, size_t body_len)
{
	char want[128];
	snprintf(want, sizeof(want), "HTTP/1.0 %s\r\n", status);
	assert_memory_equal(resp, want, strlen(want));
	assert_non_null(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4\r\n"));
	assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
	snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", body_len);
	assert_non_null(strstr(resp, want));
}

static const char served_text[] = "# HELP sluice_rx_packets_total Datagrams received.\n"
				  "# TYPE sluice_rx_packets_total counter\n"
				  "sluice_rx_packets_total 42\n"
				  "# HELP sluice_rx_link_up 1 while the sender's heartbeats arrive.\n"
				  "# TYPE sluice_rx_link_up gauge\n"
				  "sluice_rx_link_up 1\n";

static void test_get_metrics(void **state)
{
	struct server *sv = *state;
	struct exchange *x = exchange(sv, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
					  "User-Agent: test\r\nAccept: */*\r\n\r\n");
	assert_true(x->resp_len > 0);
	check_headers(x->resp, "200 OK", strlen(served_text));
	assert_string_equal(body_of(x->resp), served_text);
	/* a query string is ignored; bare LF line ends are fine; HTTP/1.0 too */
	x = exchange(sv, "GET /metrics?name[]=x HTTP/1.0\n\n");
	check_headers(x->resp, "200 OK", strlen(served_text));
	assert_string_equal(body_of(x->resp), served_text);
	/* values are read at request time */
	metric_add(&served[0], 1000);
	x = exchange(sv, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(body_of(x->resp), "\nsluice_rx_packets_total 1042\n"));
	metric_set(&served[0], 42);
}

static void test_not_found_and_methods(void **state)
{
	struct server *sv = *state;
	struct exchange *x = exchange(sv, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
	check_headers(x->resp, "404 Not Found", strlen("not found\n"));
	assert_string_equal(body_of(x->resp), "not found\n");
	x = exchange(sv, "GET /metricsX HTTP/1.1\r\n\r\n");
	check_headers(x->resp, "404 Not Found", strlen("not found\n"));
	x = exchange(sv, "GET / HTTP/1.1\r\n\r\n");
	check_headers(x->resp, "404 Not Found", strlen("not found\n"));
	x = exchange(sv, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	check_headers(x->resp, "405 Method Not Allowed", strlen("method not allowed\n"));
	assert_non_null(strstr(x->resp, "\r\nAllow: GET\r\n"));
	x = exchange(sv, "HEAD /metrics HTTP/1.1\r\n\r\n");
	check_headers(x->resp, "405 Method Not Allowed", strlen("method not allowed\n"));
}

static void test_bogus_requests(void **state)
{
	struct server *sv = *state;
	static const char *const junk[] = {
		"\r\n\r\n",
		"GET\r\n\r\n",
		"GET /metrics\r\n\r\n",
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1 extra\r\n\r\n",
		"G(T /metrics HTTP/1.1\r\n\r\n",
		"\x16\x03\x01\x02\x01\x01\x01\xfc\x03\x03\n\n", /* TLS-ish, no NUL */
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		struct exchange *x = exchange(sv, junk[i]);
		check_headers(x->resp, "400 Bad Request", strlen("bad request\n"));
	}
	/* a NUL inside the request line */
	struct exchange x = {.sv = sv, .parts = {"GET /met\0rics HTTP/1.1\r\n\r\n"}, .lens = {26}};
	with_client(sv, exchange_thread, &x);
	check_headers(x.resp, "400 Bad Request", strlen("bad request\n"));
	/* the server still answers */
	struct exchange *y = exchange(sv, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_string_equal(body_of(y->resp), served_text);
}

static void test_split_request(void **state)
{
	struct server *sv = *state;
	struct exchange x = {.sv = sv,
			     .parts = {"GE", "T /metr", "ics HTTP/1.1\r\nHost: a\r", "\n\r\n"}};
	with_client(sv, exchange_thread, &x);
	check_headers(x.resp, "200 OK", strlen(served_text));
	assert_string_equal(body_of(x.resp), served_text);
}

static void test_too_large(void **state)
{
	struct server *sv = *state;
	/* 16 KiB of header without an end: answered at 8 KiB, the rest is drained, no RST */
	static char big[16384];
	memcpy(big, "GET /metrics HTTP/1.1\r\nX-Junk: ", 31);
	memset(big + 31, 'a', sizeof(big) - 32);
	big[sizeof(big) - 1] = '\0';
	struct exchange *x = exchange(sv, big);
	assert_true(x->resp_len > 0);
	check_headers(x->resp, "431 Request Header Fields Too Large", strlen("request too large\n"));
	/* exactly 8 KiB including the blank line is still served */
	memset(big, 0, sizeof(big));
	static const char pre[] = "GET /metrics HTTP/1.1\r\nX-Pad: ";
	memcpy(big, pre, sizeof(pre) - 1);
	memset(big + sizeof(pre) - 1, 'p', 8192 - (sizeof(pre) - 1) - 4);
	memcpy(big + 8192 - 4, "\r\n\r\n", 4);
	assert_int_equal(strlen(big), 8192);
	x = exchange(sv, big);
	check_headers(x->resp, "200 OK", strlen(served_text));
}

/* Values growing by many digits while being served: every answer stays well formed. */
static atomic_bool churn_stop;

static void *churn_thread(void *arg)
{
	uint64_t v = 1;
	while (!atomic_load(&churn_stop)) {
		metric_set(&served[0], v);
		metric_set(&served[1], v);
		v = v * 10 + 7;
		if (v > UINT64_MAX / 11)
			v = 1;
	}
	return arg;
}

static void test_values_change_while_served(void **state)
{
	struct server *sv = *state;
	pthread_t th;
	atomic_store(&churn_stop, false);
	assert_int_equal(pthread_create(&th, NULL, churn_thread, NULL), 0);
	for (int i = 0; i < 200; i++) {
		struct exchange *x = exchange(sv, "GET /metrics HTTP/1.0\r\n\r\n");
		const char *b = body_of(x->resp);
		char want[64];
		snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", strlen(b));
		assert_non_null(strstr(x->resp, want));
		assert_int_equal(b[strlen(b) - 1], '\n');
		assert_non_null(strstr(b, "\nsluice_rx_link_up "));
	}
	atomic_store(&churn_stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	metric_set(&served[0], 42);
	metric_set(&served[1], 1);
}

static double mono_s(void) { return (double)mono_ns() / 1e9; }

struct crowd {
	struct server *sv;
	int fds[64];
	bool extra_refused;
	double idle_closed_after;
	bool all_idle_closed;
	char resp[4096];
};

/* Fills all 64 slots with silent clients, checks that a 65th is closed at once, that the
 * silent ones are closed by the 5 s timeout, and that the slots are free again after. */
static void *crowd_thread(void *arg)
{
	struct crowd *cr = arg;
	double t0 = mono_s();
	for (int i = 0; i < 64; i++)
		cr->fds[i] = connect_to(cr->sv->port);
	usleep(300 * 1000); /* let the server accept all of them first */
	int extra = connect_to(cr->sv->port);
	if (extra >= 0) {
		struct timeval tv = {.tv_sec = 2};
		setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char c;
		ssize_t r = recv(extra, &c, 1, 0);
		cr->extra_refused = r == 0 || (r < 0 && errno == ECONNRESET);
		close(extra);
	}
	cr->all_idle_closed = true;
	for (int i = 0; i < 64; i++) {
		char c;
		ssize_t r = cr->fds[i] >= 0 ? recv(cr->fds[i], &c, 1, 0) : 1;
		if (!(r == 0 || (r < 0 && errno == ECONNRESET)))
			cr->all_idle_closed = false;
		if (cr->fds[i] >= 0)
			close(cr->fds[i]);
	}
	cr->idle_closed_after = mono_s() - t0;
	int fd = connect_to(cr->sv->port);
	if (fd >= 0) {
		const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
		if (send_all(fd, req, strlen(req)))
			recv_all(fd, cr->resp, sizeof(cr->resp));
		close(fd);
	}
	client_finished(cr->sv);
	return NULL;
}

static void test_client_limit_and_timeout(void **state)
{
	struct server *sv = *state;
	struct crowd cr = {.sv = sv};
	with_client(sv, crowd_thread, &cr);
	for (int i = 0; i < 64; i++)
		assert_true(cr.fds[i] >= 0);
	assert_true(cr.extra_refused);
	assert_true(cr.all_idle_closed);
	assert_true(cr.idle_closed_after > 4.5);
	assert_true(cr.idle_closed_after < 9.0);
	check_headers(cr.resp, "200 OK", strlen(served_text));
}

/* Closing with connected clients (one silent, one half-way through a request). */
static void test_close_with_clients(void **state)
{
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct sockaddr_in sin;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	struct metrics_server *ms;
	assert_int_equal(metrics_server_start(&ms, &loop, (const struct sockaddr *)&sin, served, 2), 0);
	int port = metrics_server_port(ms);
	assert_true(port > 0);
	int a = connect_to(port), b = connect_to(port);
	assert_true(a >= 0 && b >= 0);
	assert_true(send_all(b, "GET /metr", 9));
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	metrics_server_close(ms);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	char c;
	assert_true(recv(a, &c, 1, 0) <= 0);
	assert_true(recv(b, &c, 1, 0) <= 0);
	close(a);
	close(b);
	/* the port is no longer served */
	assert_true(connect_to(port) < 0);
}

/* A failed start (the port is taken) frees itself once the loop runs. */
static void test_start_fails(void **state)
{
	struct server *sv = *state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct sockaddr_in sin;
	uv_ip4_addr("127.0.0.1", sv->port, &sin);
	struct metrics_server *ms = NULL;
	int rc = metrics_server_start(&ms, &loop, (const struct sockaddr *)&sin, served, 2);
	assert_int_equal(rc, UV_EADDRINUSE);
	assert_null(ms);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* The answer to what a client has sent so far, without a socket (metrics_request_status). */
static void test_request_status(void **state)
{
	(void)state;
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"GET /metrics?a=b HTTP/1.0\n\n", 200},
		{"GET /metrics HTTP/1.1\r\nHost: x\r\n", 0},
		{"GET /metrics HTTP/1.1", 0},
		{"POST /metrics HTTP/1.1\r\n\r\n", 405},
		{"GET /metricsx HTTP/1.1\r\n\r\n", 404},
		{"GET /metrics HTTP/2.0\r\n\r\n", 400},
		{"GET  /metrics HTTP/1.1\r\n\r\n", 400},
		{"G(T /metrics HTTP/1.1\r\n\r\n", 400},
		{"GET /met\x01rics HTTP/1.1\r\n\r\n", 400},
		{"\r\n\r\n", 400},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(metrics_request_status(cases[i].req, strlen(cases[i].req)),
				 cases[i].status);
	char *big = malloc(METRICS_REQ_MAX);
	assert_non_null(big);
	memset(big, 'a', METRICS_REQ_MAX);
	assert_int_equal(metrics_request_status(big, METRICS_REQ_MAX - 1), 0);
	assert_int_equal(metrics_request_status(big, METRICS_REQ_MAX), 431);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_status),
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_render_small_buffer),
		cmocka_unit_test(test_render_escapes_help),
		cmocka_unit_test(test_render_labels_and_micro),
		cmocka_unit_test_setup_teardown(test_get_metrics, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_not_found_and_methods, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_bogus_requests, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_split_request, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_too_large, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_values_change_while_served, server_setup,
						server_teardown),
		cmocka_unit_test_setup_teardown(test_client_limit_and_timeout, server_setup,
						server_teardown),
		cmocka_unit_test(test_close_with_clients),
		cmocka_unit_test_setup_teardown(test_start_fails, server_setup, server_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
