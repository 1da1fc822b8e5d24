/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/forward.{h,c} against real consumers on loopback:
 *   - UDP: a line longer than a datagram can carry (EMSGSIZE) is dropped, counted, and the
 *     lines after it still go out (before, it stayed at the head of the buffer for ever);
 *   - TCP: a connection reset while the buffer's offset sits exactly on a line boundary loses
 *     no line on the reconnect (before, the next, never-sent line was thrown away uncounted).
 * The rx counters are process-global: each check compares differences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "rx/forward.h"
#include "rx/rx_metrics.h"

static uint64_t dropped(void) { return metric_get(&rx_metrics[RXM_EVENTS_FWD_DROPPED]); }

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A socket of TYPE bound to 127.0.0.1 on a free port; *addr says where. */
static int listener(int type, struct config_addr *addr)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (type == SOCK_STREAM) {
		int small = 4096; /* the consumer holds little: the sender's buffer fills */
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t l = sizeof(sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &l), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	memset(addr, 0, sizeof(*addr));
	memcpy(&addr->ss, &sin, sizeof(sin));
	addr->len = sizeof(sin);
	snprintf(addr->text, sizeof(addr->text), "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, timeout_ms) == 1;
}

static void test_udp_oversized_line(void **state)
{
	struct config_addr a;
	int u = listener(SOCK_DGRAM, &a);
	struct forward *f;
	assert_int_equal(forward_new(&f, CONFIG_EVENT_UDP, &a, NULL), 0);
	assert_non_null(f);
	/* An event near max_line (64 KiB) with its JSON envelope: more than 65,507 bytes. */
	size_t big = 70000;
	char *line = malloc(big);
	assert_non_null(line);
	memset(line, 'x', big - 1);
	line[big - 1] = '\n';
	uint64_t d0 = dropped();
	forward_lines(f, line, big);
	forward_lines(f, "small\n", 6);
	char got[128] = "";
	ssize_t r = -1;
	for (int i = 0; i < 20 && r < 0; i++) {
		forward_tick(f);
		if (readable(u, 50))
			r = recv(u, got, sizeof(got) - 1, 0);
	}
	assert_int_equal(r, 6);
	got[r] = '\0';
	assert_string_equal(got, "small\n");
	assert_int_equal(dropped() - d0, 1);
	/* Nothing more waits: the big line is gone, not retried. */
	assert_int_equal(forward_timeout_ms(f), -1);
	forward_free(f);
	free(line);
	close(u);
}

/* Lines of one byte ("\n"): wherever a partial write stops, the offset is on a boundary. The
 * consumer takes what reached it, then resets the connection; the forwarder must resend all
 * the rest on the next connection, and count nothing as dropped. */
static void test_tcp_reset_at_line_boundary(void **state)
{
	struct config_addr a;
	int ls = listener(SOCK_STREAM, &a);
	struct forward *f;
	assert_int_equal(forward_new(&f, CONFIG_EVENT_TCP, &a, NULL), 0);
	size_t n = 8u << 20; /* more than the kernel buffers hold at once */
	char *lines = malloc(n);
	assert_non_null(lines);
	memset(lines, '\n', n);
	uint64_t d0 = dropped();
	forward_lines(f, lines, n);
	for (int i = 0; i < 5; i++) { /* the connect may still be in progress */
		forward_tick(f);
		sleep_ms(5);
	}
	assert_true(readable(ls, 1000));
	int c = accept(ls, NULL, NULL);
	assert_true(c >= 0);
	static char buf[1 << 16];
	size_t got = 0;
	/* Take all that left the forwarder (it is not pumped meanwhile), until quiet. */
	while (readable(c, 100)) {
		ssize_t r = recv(c, buf, sizeof(buf), 0);
		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_true(got > 0 && got < n);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(c); /* RST */
	sleep_ms(10);
	forward_tick(f); /* fails: ECONNRESET or EPIPE; reconnects after the back-off */
	int c2 = -1;
	for (int i = 0; i < 100 && c2 < 0; i++) {
		forward_tick(f);
		if (readable(ls, 10))
			c2 = accept(ls, NULL, NULL);
	}
	assert_true(c2 >= 0);
	for (int quiet = 0; quiet < 20 && got < n;) {
		forward_tick(f);
		if (readable(c2, 10)) {
			ssize_t r = recv(c2, buf, sizeof(buf), 0);
			assert_true(r > 0);
			got += (size_t)r;
			quiet = 0;
		} else {
			quiet++;
		}
	}
	assert_int_equal(dropped() - d0, 0);
	assert_int_equal(got, n);
	forward_free(f);
	free(lines);
	close(c2);
	close(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_oversized_line),
		cmocka_unit_test(test_tcp_reset_at_line_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
