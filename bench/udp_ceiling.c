/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The socket ceiling: raw UDP over loopback, sender and receiver threads, 1 s each run.
 * Variants: sendmmsg/recvmmsg of single datagrams, and UDP GSO + GRO (64 KiB super-datagrams).
 * Reports bytes received per second of datagram payload.
 * Usage: udp_ceiling [payload bytes, default 1472]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

static size_t payload = 1472;
static volatile bool done;
static uint64_t received;
static int rfd;
static bool gro;

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *rx_main(void *p)
{
	enum { N = 32 };
	static uint8_t bufs[N][65536];
	struct mmsghdr m[N];
	struct iovec iov[N];
	struct timeval tv = {0, 100000};
	setsockopt(rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!done) {
		for (int i = 0; i < N; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(rfd, m, N, MSG_WAITFORONE, NULL);
		for (int i = 0; i < n; i++)
			__atomic_fetch_add(&received, m[i].msg_len, __ATOMIC_RELAXED);
	}
	return p;
}

static double run(bool gso)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	rfd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 64 << 20, one = 1;
	setsockopt(rfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	gro = gso && setsockopt(rfd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	bind(rfd, (struct sockaddr *)&a, sizeof(a));
	getsockname(rfd, (struct sockaddr *)&a, &al);
	int sfd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(sfd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	connect(sfd, (struct sockaddr *)&a, sizeof(a));
	int seg = (int)payload;
	if (gso && setsockopt(sfd, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)) != 0) {
		close(rfd);
		close(sfd);
		return -1;
	}
	done = false;
	received = 0;
	pthread_t t;
	pthread_create(&t, NULL, rx_main, NULL);
	enum { B = 32 };
	size_t per = gso ? (65000 / payload) * payload : payload;
	static uint8_t data[65536];
	struct mmsghdr m[B];
	struct iovec iov[B];
	for (int i = 0; i < B; i++) {
		iov[i].iov_base = data;
		iov[i].iov_len = per;
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	uint64_t t0 = mono();
	while (mono() - t0 < 1000000000ull)
		sendmmsg(sfd, m, B, 0);
	uint64_t t1 = mono();
	usleep(100000);
	done = true;
	pthread_join(t, NULL);
	close(rfd);
	close(sfd);
	return (double)received * 8 / ((double)(t1 - t0) / 1e9) / 1e9;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		payload = (size_t)atoi(argv[1]);
	printf("udp loopback sendmmsg, %zu B datagrams:        %6.2f Gbit/s\n", payload, run(false));
	double g = run(true);
	if (g < 0)
		printf("udp loopback GSO/GRO: not supported here\n");
	else
		printf("udp loopback GSO+GRO, %zu B segments:          %6.2f Gbit/s\n", payload, g);
	return 0;
}
