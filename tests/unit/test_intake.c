/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tx/intake/ on a real libuv loop over loopback TCP, events read back from the event
 * queue (tx/evqueue.h) as the sender would take them: the batch is decoded and each event's
 * bytes compared.
 * Covered: a source full of INTAKE_CLIENTS_MAX idle clients still takes a new client (the
 * client idle longest is closed for it, counted, its unfinished line dropped and counted,
 * an active client kept), and clients silent for idle_timeout are closed while a talking
 * one stays; and a soft open-file limit too low for a full source is raised. The loop is driven by bounded UV_RUN_NOWAIT rounds with 1 ms sleeps; client
 * sockets are plain non-blocking sockets in this process (about 2,100 descriptors: the soft
 * RLIMIT_NOFILE is raised, the test is skipped when the hard limit is too low).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common/config.h"
#include "common/evbatch.h"
#include "common/log.h"
#include "tx/evqueue.h"
#include "tx/intake/intake.h"
#include "tx/tx_metrics.h"

#define FDS_NEEDED (2 * (INTAKE_CLIENTS_MAX + 2) + 64)

static const uint8_t test_sign_sk[64]; /* any key: these batches are only decoded */
static char top[64];
static uv_loop_t loop;
static struct config_event src;
static struct evq *q;
static struct intake *in;
static int fds[INTAKE_CLIENTS_MAX + 8];
static size_t nfds;
static bool enough_fds;

/* Run the loop until cond holds, for at most ms rounds of about 1 ms. */
#define PUMP_UNTIL(cond, ms)                                                                       \
	do {                                                                                       \
		for (int i_ = 0; i_ < (ms) && !(cond); i_++) {                                     \
			uv_run(&loop, UV_RUN_NOWAIT);                                              \
			if (!(cond))                                                               \
				usleep(1000);                                                      \
		}                                                                                  \
	} while (0)

static uint16_t free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static int start(uint64_t idle_ms)
{
	snprintf(top, sizeof(top), "/tmp/sluice-test-intake-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	memset(&src, 0, sizeof(src));
	snprintf(src.name, sizeof(src.name), "cam");
	src.kind = CONFIG_EVENT_TCP;
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", free_port());
	if (config_parse_addr(addr, &src.addr) != 0)
		return -1;
	src.max_line = 1024;
	src.queue = 100000;
	src.compress = 0;
	src.idle_timeout_ms = idle_ms;
	struct evq_config ec = {.state = top, .sources = &src, .nsources = 1, .window_ns = 1000000,
				.batch_bytes = 1u << 20, .sign_sk = test_sign_sk};
	if (uv_loop_init(&loop) != 0 || evq_new(&q, &ec) != 0)
		return -1;
	nfds = 0;
	return intake_start(&in, &loop, &src, 1, q) == 0 ? 0 : -1;
}

static int setup_long(void **state)
{
	(void)state;
	return start(60000);
}

static int setup_short(void **state)
{
	(void)state;
	return start(300);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	intake_close(in);
	uv_run(&loop, UV_RUN_DEFAULT); /* the handles' close callbacks free intake */
	int rc = uv_loop_close(&loop);
	evq_close(q);
	evq_free(q);
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* A client socket connecting to the source (non-blocking: the connect completes on the loop). */
static int client(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	int rc = connect(s, (const struct sockaddr *)&src.addr.ss, src.addr.len);
	assert_true(rc == 0 || errno == EINPROGRESS);
	assert_true(nfds < sizeof(fds) / sizeof(fds[0]));
	fds[nfds++] = s;
	return s;
}

static void say(int s, const char *text)
{
	size_t n = strlen(text);
	bool sent = false;
	/* Before the connect completes, send fails with EAGAIN: the loop completes it. */
	PUMP_UNTIL(sent || (sent = send(s, text, n, MSG_NOSIGNAL) == (ssize_t)n), 1000);
	assert_true(sent);
}

/* 1: intake closed this client's connection; 0: still open, nothing to read. */
static int closed_by_intake(int s)
{
	char c;
	ssize_t r = recv(s, &c, 1, MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		return 1;
	assert_true(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	return 0;
}

/* The queued events as the sender takes them, compared with want[] in order. */
static void expect_events(const char *const *want, size_t n)
{
	assert_int_equal(evq_queued(q), n);
	uint8_t *obj = NULL;
	long len = evq_take(q, mono_ns() + 60000000000ull, 1, &obj);
	assert_true(len > 0);
	struct evbatch b;
	const char *why = "";
	assert_int_equal(evbatch_decode(obj, (size_t)len, &b, &why), 0);
	assert_int_equal(b.count, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(b.ev[i].len, strlen(want[i]));
		assert_memory_equal(b.ev[i].data, want[i], b.ev[i].len);
	}
	evbatch_release(&b);
	free(obj);
}

static uint64_t counter(enum tx_metric m) { return metric_get(&tx_metrics[m]); }

/* A source holding INTAKE_CLIENTS_MAX idle clients still serves a new one. */
static void test_full_source_takes_new_client(void **state)
{
	(void)state;
	if (!enough_fds)
		skip();
	uint64_t ev0 = counter(TXM_EVENT_CLIENTS_EVICTED), part0 = counter(TXM_EVENTS_PARTIAL),
		 idle0 = counter(TXM_EVENT_CLIENTS_IDLE);
	int old = client();
	PUMP_UNTIL(intake_clients(in, 0) == 1, 2000);
	say(old, "an unfinished line"); /* no LF: held for this client */
	for (int i = 0; i < 10; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	int alive = client();
	/* In rounds well within the listen backlog, so no SYN waits for a retry. */
	while (nfds < INTAKE_CLIENTS_MAX) {
		for (int k = 0; k < 64 && nfds < INTAKE_CLIENTS_MAX; k++)
			client();
		PUMP_UNTIL(intake_clients(in, 0) == nfds, 2000);
		assert_int_equal(intake_clients(in, 0), nfds);
	}
	say(alive, "alive 1\n");
	PUMP_UNTIL(evq_queued(q) == 1, 2000);
	assert_int_equal(evq_queued(q), 1);

	int fresh = client();
	say(fresh, "hello from a new client\n");
	PUMP_UNTIL(evq_queued(q) == 2, 2000);
	assert_int_equal(evq_queued(q), 2);
	assert_int_equal(intake_clients(in, 0), INTAKE_CLIENTS_MAX);
	/* The one idle longest made room: it was `old`, and its unfinished line is dropped. */
	PUMP_UNTIL(closed_by_intake(old), 2000);
	assert_int_equal(closed_by_intake(old), 1);
	assert_int_equal(counter(TXM_EVENT_CLIENTS_EVICTED) - ev0, 1);
	assert_int_equal(counter(TXM_EVENTS_PARTIAL) - part0, 1);

	/* The next new client takes the slot of the next idle one, not of the one that talked. */
	int third = fds[2];
	int fresh2 = client();
	say(fresh2, "and another\n");
	PUMP_UNTIL(evq_queued(q) == 3 && closed_by_intake(third), 2000);
	assert_int_equal(closed_by_intake(third), 1);
	assert_int_equal(closed_by_intake(alive), 0);
	assert_int_equal(closed_by_intake(fresh), 0);
	assert_int_equal(intake_clients(in, 0), INTAKE_CLIENTS_MAX);
	assert_int_equal(counter(TXM_EVENT_CLIENTS_EVICTED) - ev0, 2);
	assert_int_equal(counter(TXM_EVENTS_PARTIAL) - part0, 1);
	assert_int_equal(counter(TXM_EVENT_CLIENTS_IDLE) - idle0, 0); /* 60 s: nobody idle yet */
	const char *want[] = {"alive 1", "hello from a new client", "and another"};
	expect_events(want, 3);
}

/* idle_timeout 300 ms: silent and stalled clients are closed, a talking one stays. */
static void test_idle_clients_closed(void **state)
{
	(void)state;
	uint64_t idle0 = counter(TXM_EVENT_CLIENTS_IDLE), part0 = counter(TXM_EVENTS_PARTIAL);
	int silent = client(), talking = client(), stalled = client();
	PUMP_UNTIL(intake_clients(in, 0) == 3, 2000);
	assert_int_equal(intake_clients(in, 0), 3);
	say(stalled, "half a li");
	char line[32];
	int sent = 0;
	/* A line every 100 ms for 1 s: the others are silent for over three timeouts. */
	for (; sent < 10; sent++) {
		snprintf(line, sizeof(line), "tick %d\n", sent);
		say(talking, line);
		PUMP_UNTIL(false, 100);
	}
	PUMP_UNTIL(intake_clients(in, 0) == 1, 2000);
	assert_int_equal(intake_clients(in, 0), 1);
	PUMP_UNTIL(closed_by_intake(silent) && closed_by_intake(stalled), 2000);
	assert_int_equal(closed_by_intake(silent), 1);
	assert_int_equal(closed_by_intake(stalled), 1);
	assert_int_equal(closed_by_intake(talking), 0);
	assert_int_equal(counter(TXM_EVENT_CLIENTS_IDLE) - idle0, 2);
	assert_int_equal(counter(TXM_EVENTS_PARTIAL) - part0, 1);
	const char *want[] = {"tick 0", "tick 1", "tick 2", "tick 3", "tick 4",
			      "tick 5", "tick 6", "tick 7", "tick 8", "tick 9"};
	expect_events(want, 10);
}

/* A soft open-file limit too low for a full source is raised at start. */
static void test_fd_limit_raised(void **state)
{
	(void)state;
	struct rlimit rl, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < INTAKE_FDS_SPARE + INTAKE_CLIENTS_MAX + 1)
		skip();
	intake_close(in);
	uv_run(&loop, UV_RUN_DEFAULT);
	low = (struct rlimit){512, rl.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(intake_start(&in, &loop, &src, 1, q), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(low.rlim_cur, INTAKE_FDS_SPARE + INTAKE_CLIENTS_MAX + 1);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

int main(void)
{
	log_set_level(LOG_ERROR); /* the closing warnings are expected here */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FDS_NEEDED) {
		rl.rlim_cur = rl.rlim_max < FDS_NEEDED ? rl.rlim_max : FDS_NEEDED;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	enough_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= FDS_NEEDED;
	if (!enough_fds)
		printf("test_intake: RLIMIT_NOFILE below %d: the full-source test is skipped\n", FDS_NEEDED);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_source_takes_new_client, setup_long, teardown),
		cmocka_unit_test_setup_teardown(test_idle_clients_closed, setup_short, teardown),
		cmocka_unit_test_setup_teardown(test_fd_limit_raised, setup_long, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
