/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hw/link_udp.c over loopback: 10,000 datagrams of seeded mixed sizes (GSO runs longer than
 * 64 segments, runs whose last datagram is shorter, runs of 30,000-byte segments that hit the
 * byte cap, singles from 0 to 65,507 bytes) arrive complete, in order and intact while the
 * receiver asks for a random 1..64 at a time; a GSO run reaches a plain GRO socket as one
 * coalesced datagram (the sender really uses GSO), and link_recv cuts such datagrams back,
 * keeping what does not fit for the next call; a closed port (ICMP errors) does not fail the
 * sender; timeouts; IPv6; link_payload_max. SLUICE_TEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "hw/link.h"
#include "hw/sockdrops.h"
#include "seeded.h"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define TOTAL 10000
#define MAX_DGRAM 65507
#define BATCH_BYTES (1u << 20) /* per link_send, well inside any receive buffer */
#define STALL_MS 2000          /* a receive this long without progress fails the test */

struct pair {
	struct link *rx, *tx;
	struct sockaddr_storage at;
	socklen_t at_len;
};

static void open_pair(struct pair *p, int family)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	assert_int_equal(link_udp_rx_open(&p->rx, (struct sockaddr *)&ss, len), 0);
	p->at_len = sizeof(p->at);
	assert_int_equal(getsockname(link_fd(p->rx), (struct sockaddr *)&p->at, &p->at_len), 0);
	assert_int_equal(link_udp_tx_open(&p->tx, (struct sockaddr *)&p->at, p->at_len), 0);
}

static void close_pair(struct pair *p)
{
	link_close(p->tx);
	link_close(p->rx);
}

/* Datagram i's bytes: its index, then a stream that depends on it. */
static void fill(uint8_t *d, size_t len, uint32_t i)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);
	for (size_t k = 0; k < len; k++) {
		if (k < 4) {
			d[k] = (uint8_t)(i >> (8 * k));
			continue;
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[k] = (uint8_t)x;
	}
}

/* Seeded lengths: runs for GSO and singles for everything else. */
static size_t plan(size_t *lens, size_t total)
{
	size_t n = 0, gso_runs = 0;
	while (n < total) {
		unsigned kind = (unsigned)(rnd() % 8);
		if (kind < 4) { /* a run, sometimes longer than 64, the last sometimes shorter */
			size_t seg = kind == 0 ? 1472 : 1 + rnd() % 9000;
			size_t cnt = 2 + rnd() % 150;
			for (size_t k = 0; k < cnt && n < total; k++)
				lens[n++] = seg;
			if (rnd() % 2 && n < total)
				lens[n++] = 1 + rnd() % seg;
			gso_runs++;
		} else if (kind == 4) { /* large segments: the 65,507-byte cap ends each message */
			size_t seg = 20000 + rnd() % 12000;
			for (size_t k = 0; k < 5 && n < total; k++)
				lens[n++] = seg;
		} else if (kind == 5) {
			lens[n++] = rnd() % 4 == 0 ? 0 : rnd() % 4 == 0 ? MAX_DGRAM : rnd() % 65508;
		} else {
			lens[n++] = 1 + rnd() % 1472;
		}
	}
	return gso_runs;
}

/* Receives into the expectation until got reaches want; fails after STALL_MS without any. */
static void drain(struct pair *p, const size_t *lens, size_t *got, size_t want, uint8_t *scratch)
{
	struct link_pkt pk[LINK_RX_BATCH];
	while (*got < want) {
		unsigned max = 1 + (unsigned)(rnd() % LINK_RX_BATCH);
		int n = link_recv(p->rx, pk, max, STALL_MS);
		assert_true(n >= 0);
		if (n == 0)
			fail_msg("stalled: %zu of %zu datagrams received", *got, want);
		assert_true((unsigned)n <= max);
		for (int i = 0; i < n; i++) {
			assert_true(*got < want);
			size_t idx = *got;
			if (pk[i].len != lens[idx])
				fail_msg("datagram %zu: %zu bytes, want %zu", idx, pk[i].len, lens[idx]);
			fill(scratch, lens[idx], (uint32_t)idx);
			if (memcmp(pk[i].data, scratch, lens[idx]) != 0)
				fail_msg("datagram %zu: contents differ", idx);
			(*got)++;
		}
	}
}

static void test_roundtrip_mixed(void **state)
{
	struct pair p;
	open_pair(&p, AF_INET);
	size_t *lens = calloc(TOTAL, sizeof(*lens));
	struct link_pkt *pkts = calloc(TOTAL, sizeof(*pkts));
	uint8_t *scratch = malloc(MAX_DGRAM);
	assert_non_null(lens);
	assert_non_null(pkts);
	assert_non_null(scratch);
	size_t runs = plan(lens, TOTAL);
	for (size_t i = 0; i < TOTAL; i++) {
		pkts[i].data = malloc(lens[i] ? lens[i] : 1);
		assert_non_null(pkts[i].data);
		pkts[i].len = lens[i];
		fill(pkts[i].data, lens[i], (uint32_t)i);
	}
	size_t sent = 0, got = 0, calls = 0;
	while (sent < TOTAL) {
		/* A random cut, so runs also straddle calls; at most BATCH_BYTES (or one datagram). */
		size_t n = 1 + rnd() % 300, bytes = 0, k = 0;
		while (k < n && sent + k < TOTAL && (k == 0 || bytes + lens[sent + k] <= BATCH_BYTES))
			bytes += lens[sent + k++];
		int rc = link_send(p.tx, pkts + sent, (unsigned)k);
		assert_int_equal(rc, (int)k);
		sent += k;
		calls++;
		drain(&p, lens, &got, sent, scratch);
	}
	assert_int_equal(got, TOTAL);
	/* Nothing more: no duplicates, no leftovers. */
	struct link_pkt pk[LINK_RX_BATCH];
	assert_int_equal(link_recv(p.rx, pk, LINK_RX_BATCH, 50), 0);
	printf("test_link_udp: %d datagrams in %zu sends, %zu GSO runs planned\n", TOTAL, calls, runs);
	for (size_t i = 0; i < TOTAL; i++)
		free(pkts[i].data);
	free(pkts);
	free(lens);
	free(scratch);
	close_pair(&p);
}

/* A plain socket with UDP_GRO sees one run of link_send as one datagram: GSO was used. */
static void test_gso_reaches_gro_socket(void **state)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int one = 1;
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) != 0) {
		close(fd);
		printf("test_link_udp: no UDP_GRO on this kernel (%s); skipped\n", strerror(errno));
		skip();
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	struct link *tx;
	assert_int_equal(link_udp_tx_open(&tx, (struct sockaddr *)&a, alen), 0);

	enum { SEG = 1000, N = 10, LAST = 123 };
	static uint8_t data[N][SEG];
	struct link_pkt pk[N];
	for (unsigned i = 0; i < N; i++) {
		fill(data[i], SEG, i);
		pk[i].data = data[i];
		pk[i].len = i == N - 1 ? LAST : SEG;
	}
	assert_int_equal(link_send(tx, pk, N), N);

	static uint8_t buf[65536];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			   .msg_controllen = sizeof(cm.b)};
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, STALL_MS), 1);
	ssize_t r = recvmsg(fd, &h, 0);
	int seg = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO)
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
	printf("test_link_udp: a run of %d arrived as %zd bytes, GRO segment %d\n", N, r, seg);
	assert_int_equal(r, (N - 1) * SEG + LAST);
	assert_int_equal(seg, SEG);
	for (unsigned i = 0; i < N; i++)
		assert_memory_equal(buf + (size_t)i * SEG, data[i], pk[i].len);
	link_close(tx);
	close(fd);
}

/* Coalesced datagrams cut back in slices, a few per call: nothing lost or reordered. */
static void test_gro_split_leftovers(void **state)
{
	struct pair p;
	open_pair(&p, AF_INET);
	enum { RUNS = 3, PER = 64, SEG = 500, TAIL = 77, N = RUNS * (PER + 1) };
	static uint8_t data[N][SEG];
	struct link_pkt pk[N];
	for (unsigned i = 0; i < N; i++) {
		pk[i].len = i % (PER + 1) == PER ? TAIL : SEG;
		fill(data[i], pk[i].len, i);
		pk[i].data = data[i];
	}
	assert_int_equal(link_send(p.tx, pk, N), N);
	struct link_pkt got[LINK_RX_BATCH];
	unsigned seen = 0, calls = 0;
	while (seen < N) {
		int n = link_recv(p.rx, got, 7, STALL_MS);
		assert_true(n > 0 && n <= 7);
		calls++;
		for (int i = 0; i < n; i++, seen++) {
			assert_int_equal(got[i].len, pk[seen].len);
			assert_memory_equal(got[i].data, data[seen], pk[seen].len);
		}
	}
	assert_int_equal(seen, N);
	assert_true(calls >= N / 7);
	assert_int_equal(link_recv(p.rx, got, LINK_RX_BATCH, 0), 0);
	/* max above LINK_RX_BATCH is capped. */
	assert_int_equal(link_send(p.tx, pk, PER), PER);
	int n = link_recv(p.rx, got, 1000, STALL_MS);
	assert_true(n > 0 && n <= LINK_RX_BATCH);
	close_pair(&p);
}

/* Nothing listens: loopback answers with ICMP port unreachable, which must not fail sends. */
static void test_closed_port(void **state)
{
	struct pair p;
	open_pair(&p, AF_INET);
	link_close(p.rx); /* the port is now closed */
	uint8_t d[100] = {1};
	struct link_pkt pk[4] = {{d, 100}, {d, 100}, {d, 100}, {d, 50}};
	for (int i = 0; i < 20; i++) {
		assert_int_equal(link_send(p.tx, pk, 4), 4);
		assert_int_equal(link_send(p.tx, pk, 1), 1);
		usleep(2000);
	}
	link_close(p.tx);
}

static void test_timeout_and_empty(void **state)
{
	struct pair p;
	open_pair(&p, AF_INET);
	struct link_pkt pk[LINK_RX_BATCH];
	uint64_t t0 = mono_ns();
	assert_int_equal(link_recv(p.rx, pk, LINK_RX_BATCH, 50), 0);
	assert_true(mono_ns() - t0 >= 40000000ull); /* lower bound only: the machine is shared */
	assert_int_equal(link_recv(p.rx, pk, LINK_RX_BATCH, 0), 0);
	assert_int_equal(link_recv(p.rx, pk, 0, 0), 0);
	assert_int_equal(link_send(p.tx, pk, 0), 0);
	close_pair(&p);
}

static void test_ipv6(void **state)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		printf("test_link_udp: no IPv6 loopback here; skipped\n");
		skip();
	}
	struct pair p;
	open_pair(&p, AF_INET6);
	static uint8_t d[20][1400];
	struct link_pkt pk[20];
	for (unsigned i = 0; i < 20; i++) {
		fill(d[i], 1400, i);
		pk[i].data = d[i];
		pk[i].len = i == 19 ? 9 : 1400;
	}
	assert_int_equal(link_send(p.tx, pk, 20), 20);
	struct link_pkt got[LINK_RX_BATCH];
	unsigned seen = 0;
	while (seen < 20) {
		int n = link_recv(p.rx, got, LINK_RX_BATCH, STALL_MS);
		assert_true(n > 0);
		for (int i = 0; i < n; i++, seen++) {
			assert_int_equal(got[i].len, pk[seen].len);
			assert_memory_equal(got[i].data, d[seen], pk[seen].len);
		}
	}
	close_pair(&p);
}

static void test_bad_family(void **state)
{
	struct sockaddr sa = {.sa_family = AF_UNIX};
	struct link *l = NULL;
	assert_int_equal(link_udp_tx_open(&l, &sa, sizeof(sa)), -EAFNOSUPPORT);
	assert_int_equal(link_udp_rx_open(&l, &sa, sizeof(sa)), -EAFNOSUPPORT);
	assert_null(l);
	link_close(NULL);
}

/* sock_drops counts exactly what a full receive buffer turned away: sent - read. */
static void test_socket_drops(void **state)
{
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(rx >= 0 && tx >= 0);
	int small = 4096;
	assert_int_equal(setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&a, &al), 0);
	uint32_t before = 1;
	assert_int_equal(sock_drops(rx, &before), 0);
	assert_int_equal(before, 0);
	static uint8_t buf[1000];
	const int sent = 200;
	for (int i = 0; i < sent; i++)
		assert_int_equal(sendto(tx, buf, sizeof(buf), 0, (struct sockaddr *)&a, sizeof(a)),
				 (ssize_t)sizeof(buf));
	int got = 0;
	while (recv(rx, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf))
		got++;
	uint32_t drops = 0;
	assert_int_equal(sock_drops(rx, &drops), 0);
	assert_true(got > 0 && got < sent);
	assert_int_equal(drops, (uint32_t)(sent - got));
	close(rx);
	close(tx);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(sock_drops(fds[0], &drops), -ENOTSOCK);
	close(fds[0]);
	close(fds[1]);
}

static void test_payload_max(void **state)
{
	assert_int_equal(link_payload_max(1500, AF_INET), 1472);
	assert_int_equal(link_payload_max(1500, AF_INET6), 1452);
	assert_int_equal(link_payload_max(9000, AF_INET), 8972);
	assert_int_equal(link_payload_max(9000, AF_INET6), 8952);
	assert_int_equal(link_payload_max(576, AF_INET), 548);
	assert_int_equal(link_payload_max(1280, AF_INET6), 1232);
	assert_int_equal(link_payload_max(29, AF_INET), 1);
	assert_int_equal(link_payload_max(28, AF_INET), 0);
	assert_int_equal(link_payload_max(48, AF_INET6), 0);
	assert_int_equal(link_payload_max(0, AF_INET), 0);
	/* Loopback's 65536: no UDP datagram is larger than 65,507 (IPv4) / 65,527 (IPv6). */
	assert_int_equal(link_payload_max(65536, AF_INET), 65507);
	assert_int_equal(link_payload_max(65536, AF_INET6), 65488);
	assert_int_equal(link_payload_max(70000, AF_INET6), 65527);
}

int main(void)
{
	seed_init("test_link_udp");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_mixed),
		cmocka_unit_test(test_gso_reaches_gro_socket),
		cmocka_unit_test(test_gro_split_leftovers),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_timeout_and_empty),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_payload_max),
		cmocka_unit_test(test_socket_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
