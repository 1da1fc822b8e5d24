/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: record what crosses a link, and play it back later (replay attacks), optionally
 * altered (one flipped byte per datagram past the 12-byte prefix).
 *
 *   sluice-capture --listen 127.0.0.1:7001 --to 127.0.0.1:7000 --out FILE [--duration-s N]
 *       forward every datagram and append it to FILE as (u32 LE length, bytes)
 *   sluice-capture --replay FILE --to 127.0.0.1:7000 [--alter] [--pps N] [--skip N]
 *       send every recorded datagram again (--alter: flip one byte in each; --skip: leave out
 *       the first N, as a receiver that started late would)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

static int udp(const struct config_addr *bind_to)
{
	int fd = socket(bind_to ? bind_to->ss.ss_family : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int big = 16 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (bind_to && bind(fd, (const struct sockaddr *)&bind_to->ss, bind_to->len) != 0) {
		perror("bind");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option o[] = {{"listen", 1, 0, 'l'}, {"to", 1, 0, 't'}, {"out", 1, 0, 'o'},
					  {"replay", 1, 0, 'r'}, {"alter", 0, 0, 'a'}, {"pps", 1, 0, 'p'},
					  {"duration-s", 1, 0, 'd'}, {"skip", 1, 0, 's'}, {0, 0, 0, 0}};
	const char *listen = NULL, *to = NULL, *out = NULL, *in = NULL;
	int alter = 0, c;
	long pps = 20000, duration = 0, skip = 0;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 't': to = optarg; break;
		case 'o': out = optarg; break;
		case 'r': in = optarg; break;
		case 'a': alter = 1; break;
		case 'p': pps = atol(optarg); break;
		case 'd': duration = atol(optarg); break;
		case 's': skip = atol(optarg); break;
		default: return 2;
		}
	}
	struct config_addr dst, src;
	if (!to || config_parse_addr(to, &dst) != 0 || (!in && (!listen || !out || config_parse_addr(listen, &src) != 0))) {
		fprintf(stderr, "usage: see the comment at the top of tests/tools/sluice-capture.c\n");
		return 2;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	static unsigned char buf[65536];
	if (in) {
		FILE *f = fopen(in, "rb");
		if (!f) {
			perror(in);
			return 1;
		}
		int fd = udp(NULL);
		unsigned long n = 0;
		unsigned char lb[4];
		srand(7);
		while (!stop && fread(lb, 1, 4, f) == 4) {
			size_t len = (size_t)lb[0] | (size_t)lb[1] << 8 | (size_t)lb[2] << 16 | (size_t)lb[3] << 24;
			if (len > sizeof(buf) || fread(buf, 1, len, f) != len)
				break;
			if (skip > 0) {
				skip--;
				continue;
			}
			if (alter && len > 12)
				buf[12 + (size_t)rand() % (len - 12)] ^= (unsigned char)(1 + rand() % 255);
			sendto(fd, buf, len, 0, (const struct sockaddr *)&dst.ss, dst.len);
			n++;
			if (pps > 0 && n % 100 == 0) {
				struct timespec ts = {0, (long)(100 * 1000000000L / pps)};
				nanosleep(&ts, NULL);
			}
		}
		fclose(f);
		fprintf(stderr, "replayed %lu datagrams%s\n", n, alter ? " (altered)" : "");
		return 0;
	}
	FILE *f = fopen(out, "wb");
	if (!f) {
		perror(out);
		return 1;
	}
	int lfd = udp(&src), ofd = udp(NULL);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long n = 0;
	while (!stop && (!duration || (clock_gettime(CLOCK_MONOTONIC, &t), t.tv_sec - t0.tv_sec < duration))) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t len = recv(lfd, buf, sizeof(buf), 0);
		if (len < 0)
			continue;
		sendto(ofd, buf, (size_t)len, 0, (const struct sockaddr *)&dst.ss, dst.len);
		unsigned char lb[4] = {(unsigned char)len, (unsigned char)(len >> 8), (unsigned char)(len >> 16), 0};
		fwrite(lb, 1, 4, f);
		fwrite(buf, 1, (size_t)len, f);
		n++;
	}
	fclose(f);
	fprintf(stderr, "recorded %lu datagrams\n", n);
	return 0;
}
