/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the UDP event intake (tx/intake/): the path a datagram from the camera
 * network takes to an event, through a real socket and the libuv loop, as the intake process
 * runs it. Three udp: sources on 127.0.0.1, bound once (intake_bind, intake_open) and kept
 * for the whole run:
 *
 *   0 "a"  max_line 16     1 "b"  max_line 1024     2 "c"  max_line 65536
 *
 * Input: datagrams, each [source u8][length u16][bytes] (the last takes what is left), at
 * most 64. Each is sent to its source's port from one socket; after every 64 KiB and at the
 * end, a marker datagram (random) goes to each source and the loop runs until all three
 * markers have come out as events, so nothing is left in flight. Every datagram must come out exactly as
 * udp: promises: one trailing LF, and a CR before it, dropped; what is left, if it is not
 * empty and at most max_line, pushed as one event of that source with exactly those bytes, in
 * the order sent; if longer, refused and counted (sluice_tx_events_rejected_total); nothing
 * else pushed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common/config.h"
#include "common/log.h"
#include "tx/intake/intake.h"
#include "tx/tx_metrics.h"

#define NSRC 3
#define DGRAMS_MAX 64
#define IN_FLIGHT_MAX (64u << 10)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config_event src[NSRC];
static struct sockaddr_in addr[NSRC];
static uv_loop_t loop;
static struct intake *intake;
static int tx_fd;

/* What came out, in order. */
static struct {
	unsigned src;
	uint8_t *data;
	size_t len;
} out[DGRAMS_MAX + NSRC];
static size_t nout;
static unsigned markers;
static uint64_t round_no;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_intake_udp: %s\n", what);
		abort();
	}
}

/* Unpredictable, so that no datagram of the input can pass for one; 10 bytes, within every
 * source's max_line. */
static void marker(char buf[32], unsigned s)
{
	snprintf(buf, 32, "\x7f%u%08x", s, (unsigned)round_no);
}

static void on_push(void *ctx, unsigned s, const uint8_t *p, size_t len)
{
	(void)ctx;
	char m[32];
	marker(m, s);
	if (s < NSRC && len == strlen(m) && memcmp(p, m, len) == 0) {
		markers++;
		return;
	}
	check(nout < DGRAMS_MAX, "more events than datagrams");
	out[nout].src = s;
	out[nout].data = malloc(len ? len : 1);
	check(out[nout].data != NULL, "malloc");
	memcpy(out[nout].data, p, len);
	out[nout].len = len;
	nout++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	const uint64_t max[NSRC] = {16, 1024, 65536};
	for (int i = 0; i < NSRC; i++) {
		snprintf(src[i].name, sizeof(src[i].name), "%c", 'a' + i);
		src[i].kind = CONFIG_EVENT_UDP;
		src[i].max_line = max[i];
		src[i].queue = 100;
		struct sockaddr_in *a = (struct sockaddr_in *)&src[i].addr.ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		src[i].addr.len = sizeof(*a);
		snprintf(src[i].addr.text, sizeof(src[i].addr.text), "127.0.0.1:0");
	}
	int fds[NSRC];
	check(intake_bind(src, NSRC, fds) == 0, "intake_bind");
	for (int i = 0; i < NSRC; i++) {
		socklen_t l = sizeof(addr[i]);
		check(getsockname(fds[i], (struct sockaddr *)&addr[i], &l) == 0, "getsockname");
	}
	check(uv_loop_init(&loop) == 0, "uv_loop_init");
	check(intake_open(&intake, &loop, src, NSRC, fds, on_push, NULL) == 0, "intake_open");
	tx_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	check(tx_fd >= 0, "socket");
	int big = 4 << 20;
	(void)setsockopt(tx_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	return 0;
}

/* Markers to every source, then the loop until all have come out. */
static void drain(void)
{
	check(getrandom(&round_no, sizeof(round_no), 0) == sizeof(round_no), "getrandom");
	markers = 0;
	for (unsigned s = 0; s < NSRC; s++) {
		char m[32];
		marker(m, s);
		check(sendto(tx_fd, m, strlen(m), 0, (struct sockaddr *)&addr[s], sizeof(addr[s])) ==
		      (ssize_t)strlen(m), "sendto of a marker");
	}
	for (int i = 0; i < 20000 && markers < NSRC; i++) /* at most about 2 s */
		if (uv_run(&loop, UV_RUN_NOWAIT) >= 0 && markers < NSRC)
			usleep(100);
	check(markers == NSRC, "a marker datagram never came out");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct {
		unsigned src;
		const uint8_t *p;
		size_t len;
	} sent[DGRAMS_MAX];
	size_t nsent = 0, off = 0, in_flight = 0;
	uint64_t rejected = metric_get(&tx_metrics[TXM_EVENTS_REJECTED]);
	nout = 0;
	while (off < size && nsent < DGRAMS_MAX) {
		unsigned s = data[off++] % NSRC;
		size_t len = 0;
		if (off < size)
			len = data[off++];
		if (off < size)
			len |= (size_t)data[off++] << 8;
		if (len > size - off)
			len = size - off;
		if (in_flight + len > IN_FLIGHT_MAX) {
			drain();
			in_flight = 0;
		}
		ssize_t w = sendto(tx_fd, data + off, len, 0, (struct sockaddr *)&addr[s], sizeof(addr[s]));
		check(w == (ssize_t)len || (w < 0 && errno == EMSGSIZE), "sendto");
		if (w >= 0) {
			sent[nsent].src = s;
			sent[nsent].p = data + off;
			sent[nsent].len = len;
			nsent++;
			in_flight += len;
		}
		off += len;
	}
	drain();

	size_t k = 0, refused = 0;
	for (size_t i = 0; i < nsent; i++) {
		size_t len = sent[i].len;
		const uint8_t *p = sent[i].p;
		if (len && p[len - 1] == '\n') {
			len--;
			if (len && p[len - 1] == '\r')
				len--;
		}
		if (len > src[sent[i].src].max_line) {
			refused++;
			continue;
		}
		if (len == 0)
			continue;
		/* events of one source keep their order; sources are read in any order */
		size_t j = 0;
		while (j < nout && (out[j].data == NULL || out[j].src != sent[i].src))
			j++;
		check(j < nout, "a datagram that should be an event is not");
		check(out[j].len == len && memcmp(out[j].data, p, len) == 0,
		      "an event whose bytes are not the datagram's");
		free(out[j].data);
		out[j].data = NULL;
		k++;
	}
	check(k == nout, "events out of no datagram");
	check(metric_get(&tx_metrics[TXM_EVENTS_REJECTED]) == rejected + refused,
	      "refused datagrams not counted as rejected, one each");
	return 0;
}
