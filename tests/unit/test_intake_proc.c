/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The check of what the intake process sends (intake_proc_handle, tx/intake_proc/): events go
 * to the event queue with the intake time they carry; counters and kernel drop counts are
 * added; every malformed message (unknown type, short or long body, a source out of range,
 * an event empty or over max_line, a counter that is not intake's, a drop count of a stream
 * source) is refused with a reason and changes nothing.
 *
 * And stop (intake_proc_stop) with an intake process that does not end: the test plays the
 * spawner (the control channel's other end) and the intake process (the event channel's), which
 * has written N events to its channel and ignores the stop. poll is interposed: with `stall`
 * set, the first wait for the event channel sleeps past STOP_WAIT_MS, as on a loaded machine
 * where sluice-tx does not get to read before its deadline. Every whole event in the socket
 * must still be queued (they used to be discarded when more than one read's worth was there,
 * with no seq and no count), and the message cut short counted as partial.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/config.h"
#include "common/log.h"
#include "tx/evqueue.h"
#include "tx/intake_proc/intake_proc.h"
#include "tx/intake_proc/internal.h"
#include "tx/tx_metrics.h"

static const uint8_t test_sign_sk[64]; /* any key: these batches are only decoded */
static char top[64];
static struct config_event src[2];
static struct evq *q;
static uint32_t drops[2];
static unsigned queue_len = 100;
static bool stall;

int poll(struct pollfd *fds, nfds_t nfds, int timeout);

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	static int (*real)(struct pollfd *, nfds_t, int);
	if (!real)
		real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	if (stall && nfds == 1 && fds[0].events == POLLIN) {
		stall = false;
		struct timespec ts = {.tv_sec = (STOP_WAIT_MS + 100) / 1000,
				      .tv_nsec = (STOP_WAIT_MS + 100) % 1000 * 1000000L};
		while (nanosleep(&ts, &ts) != 0)
			;
	}
	return real(fds, nfds, timeout);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static int setup(void **st)
{
	(void)st;
	snprintf(top, sizeof(top), "/tmp/sluice-iproc-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	memset(src, 0, sizeof(src));
	snprintf(src[0].name, sizeof(src[0].name), "u");
	src[0].kind = CONFIG_EVENT_UDP;
	snprintf(src[1].name, sizeof(src[1].name), "t");
	src[1].kind = CONFIG_EVENT_TCP;
	for (int i = 0; i < 2; i++) {
		src[i].max_line = 16;
		src[i].queue = queue_len;
	}
	memset(drops, 0, sizeof(drops));
	struct evq_config ec = {.state = top, .sources = src, .nsources = 2, .window_ns = 1000000,
				.batch_bytes = 1 << 20, .sign_sk = test_sign_sk};
	return evq_new(&q, &ec);
}

static int setup_big(void **st)
{
	queue_len = 10000;
	int rc = setup(st);
	queue_len = 100;
	return rc;
}

static int teardown(void **st)
{
	(void)st;
	evq_close(q);
	evq_free(q);
	return nftw(top, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static int event(uint32_t s, const char *text, size_t len, const char **why)
{
	uint8_t b[64];
	channel_put32(b, s);
	channel_put64(b + 4, 1234567890123456789ull);
	memcpy(b + INTAKE_EVENT_HDR, text, len);
	return intake_proc_handle(src, 2, q, drops, INTAKE_MSG_EVENT, b, INTAKE_EVENT_HDR + len, why);
}

static void test_good(void **st)
{
	(void)st;
	const char *why = NULL;
	assert_int_equal(event(1, "hello", 5, &why), 0);
	assert_int_equal(event(0, "0123456789abcdef", 16, &why), 0); /* exactly max_line */
	assert_int_equal(evq_queued(q), 2);
	uint8_t b[12];
	uint64_t rej = atomic_load(&tx_metrics[TXM_EVENTS_REJECTED].value);
	channel_put32(b, TXM_EVENTS_REJECTED);
	channel_put64(b + 4, 3);
	assert_int_equal(intake_proc_handle(src, 2, q, drops, INTAKE_MSG_COUNT, b, 12, &why), 0);
	assert_int_equal(atomic_load(&tx_metrics[TXM_EVENTS_REJECTED].value), rej + 3);
	/* drop counts are totals: only what moved since the last report is added */
	uint64_t kd = atomic_load(&tx_metrics[TXM_EVENTS_LOST_INTAKE].value);
	channel_put32(b, 0);
	channel_put32(b + 4, 5);
	assert_int_equal(intake_proc_handle(src, 2, q, drops, INTAKE_MSG_DROPS, b, 8, &why), 0);
	channel_put32(b + 4, 7);
	assert_int_equal(intake_proc_handle(src, 2, q, drops, INTAKE_MSG_DROPS, b, 8, &why), 0);
	assert_int_equal(atomic_load(&tx_metrics[TXM_EVENTS_LOST_INTAKE].value), kd + 7);
	assert_null(why);
}

static void test_malformed(void **st)
{
	(void)st;
	const char *why;
	uint8_t b[64] = {0};
	uint64_t before[TXM_COUNT];
	for (int m = 0; m < TXM_COUNT; m++)
		before[m] = atomic_load(&tx_metrics[m].value);
	struct {
		int kind; /* 0: event(src, len); 1: raw type/len */
		uint32_t a, len;
		const char *why;
	} cases[] = {
		{0, 2, 3, "an event of a source that does not exist"},
		{0, 0xffffffffu, 3, "an event of a source that does not exist"},
		{0, 0, 17, "an event longer than its source's max_line"},
		{0, 0, 0, "an event message without an event"},
		{1, INTAKE_MSG_EVENT, 4, "an event message without an event"},
		{1, INTAKE_MSG_COUNT, 11, "a counter message of the wrong length"},
		{1, INTAKE_MSG_DROPS, 9, "a drop count of the wrong length or not of a UDP source"},
		{1, 0, 0, "a message of unknown type"},
		{1, 99, 8, "a message of unknown type"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		int rc = cases[i].kind == 0
			 ? event(cases[i].a, "0123456789abcdefXYZ", cases[i].len, &why)
			 : intake_proc_handle(src, 2, q, drops, cases[i].a, b, cases[i].len, &why);
		assert_int_equal(rc, -EBADMSG);
		assert_string_equal(why, cases[i].why);
	}
	/* a counter that is not intake's: the sender's own must not be touched from there */
	channel_put32(b, TXM_PACKETS);
	channel_put64(b + 4, 1);
	assert_int_equal(intake_proc_handle(src, 2, q, drops, INTAKE_MSG_COUNT, b, 12, &why), -EBADMSG);
	assert_string_equal(why, "a counter that is not intake's");
	channel_put32(b, TXM_COUNT);
	assert_int_equal(intake_proc_handle(src, 2, q, drops, INTAKE_MSG_COUNT, b, 12, &why), -EBADMSG);
	/* a drop count of the TCP source */
	channel_put32(b, 1);
	channel_put32(b + 4, 1);
	assert_int_equal(intake_proc_handle(src, 2, q, drops, INTAKE_MSG_DROPS, b, 8, &why), -EBADMSG);
	assert_int_equal(evq_queued(q), 0);
	for (int m = 0; m < TXM_COUNT; m++)
		assert_int_equal(atomic_load(&tx_metrics[m].value), before[m]);
}

/* The stop of an intake process that wrote N events (more than one read of the channel takes)
 * and half of one more, and then ignores the stop. */
static void test_stop_stalled(void **st)
{
	(void)st;
	enum { N = 2500, LEN = 16 };
	int ctl[2], ev[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ev), 0);
	struct intake_proc *ip = calloc(1, sizeof(*ip));
	assert_non_null(ip);
	ip->src = src;
	ip->n = 2;
	ip->fds = calloc(2, sizeof(int));
	ip->drops = calloc(2, sizeof(uint32_t));
	assert_true(ip->fds && ip->drops);
	ip->max_body = INTAKE_EVENT_HDR + LEN;
	ip->spawner = 1;
	assert_int_equal(channel_init(&ip->ctl, ctl[0], CTL_MAX_BODY, 4096), 0);
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(intake_proc_run(ip, &loop, q), 0);
	/* the spawner's part: the intake process's channel handed over */
	struct channel sp;
	assert_int_equal(channel_init(&sp, ctl[1], CTL_MAX_BODY, 4096), 0);
	assert_int_equal(spawner_ctl_send(&sp, CTL_SPAWNED, 4242, 0, ev[0]), 0);
	close(ev[0]);
	for (int i = 0; i < 1000 && !ip->ev; i++) {
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	assert_non_null(ip->ev);
	/* the intake process's part: N events, then half of one */
	size_t msg = CHANNEL_HDR + INTAKE_EVENT_HDR + LEN, total = N * msg + CHANNEL_HDR + 4;
	uint8_t *buf = calloc(1, total), *p = buf;
	assert_non_null(buf);
	assert_true(N * msg > 65536); /* more than one read (common/channel.c: IN_MIN) */
	for (int i = 0; i < N; i++, p += msg) {
		channel_put32(p, INTAKE_MSG_EVENT);
		channel_put32(p + 4, INTAKE_EVENT_HDR + LEN);
		channel_put32(p + 8, 0);
		channel_put64(p + 12, 1234567890123456789ull);
		char text[LEN + 1];
		snprintf(text, sizeof(text), "event %10d", i);
		memcpy(p + CHANNEL_HDR + INTAKE_EVENT_HDR, text, LEN);
	}
	channel_put32(p, INTAKE_MSG_EVENT);
	channel_put32(p + 4, INTAKE_EVENT_HDR + LEN);
	assert_int_equal(fcntl(ev[1], F_SETFL, O_NONBLOCK), 0);
	int sndbuf = 4 * (int)total; /* room for all of it, whatever net.core.wmem_default is */
	assert_int_equal(setsockopt(ev[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	for (size_t off = 0; off < total;) {
		ssize_t w = write(ev[1], buf + off, total - off);
		assert_true(w > 0);
		off += (size_t)w;
	}
	free(buf);
	uint64_t partial = atomic_load(&tx_metrics[TXM_EVENTS_PARTIAL].value);
	size_t queued = evq_queued(q);
	stall = true;
	intake_proc_stop(ip); /* frees ip once the loop has closed its handles */
	assert_false(stall);
	assert_int_equal(evq_queued(q), queued + N);
	assert_int_equal(atomic_load(&tx_metrics[TXM_EVENTS_PARTIAL].value), partial + 1);
	/* the spawner was told to stop */
	bool stopped = false;
	struct channel_msg m;
	assert_int_equal(fcntl(ctl[1], F_SETFL, O_NONBLOCK), 0);
	while (!stopped && channel_read(&sp) > 0)
		while (channel_next(&sp, &m) == 1)
			stopped = stopped || m.type == CTL_STOP;
	assert_true(stopped);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	channel_free(&sp);
	close(ctl[1]);
	close(ev[1]);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_stalled, setup_big, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
