/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: send deterministic events (tests/tools/evtext.h) to an intake of sluice-tx.
 *
 *   sluice-evsend [--count N] [--first I] [--rate R] [--mode mixed|json|text|badutf8|text-msg]
 *                 [--clients C] [--split] [--octet] [--overlong EVERY --max-line L] [--seed S]
 *                 udp:HOST:PORT | tcp:HOST:PORT | unix:/path | -
 *
 * UDP: one event per datagram. Streams: one line per event (or RFC 6587 octet counting with
 * --octet); event i goes on connection i % C, all connections written from one thread with
 * non-blocking sockets so the intake sees them interleaved; --split writes random chunks of
 * 1..300 bytes, so lines are cut anywhere. --overlong sends, after every EVERY-th event, a
 * junk line of L + 1 bytes that the intake must refuse. "-" writes lines to stdout (for
 * `logger`). --rate paces in bursts every millisecond.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/tools/evtext.h"

#define CLIENTS_MAX 64

struct conn {
	int fd;
	char *buf; /* bytes waiting to be written */
	size_t len, off, cap;
};

static uint64_t rng;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void add(struct conn *c, const char *p, size_t n)
{
	if (c->len + n > c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 65536;
		while (nc < c->len + n)
			nc *= 2;
		c->buf = realloc(c->buf, nc);
		if (!c->buf)
			exit(1);
		c->cap = nc;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void frame(struct conn *c, const char *p, size_t n, int octet)
{
	if (octet) {
		char h[24];
		int hl = snprintf(h, sizeof(h), "%zu ", n);
		add(c, h, (size_t)hl);
		add(c, p, n);
	} else {
		add(c, p, n);
		add(c, "\n", 1);
	}
}

/* Write what is waiting on the connections; block (poll) only when `all`. */
static void pump(struct conn *cs, int nc, int split, int all)
{
	for (;;) {
		int waiting = 0;
		for (int i = 0; i < nc; i++) {
			struct conn *c = &cs[i];
			while (c->off < c->len) {
				size_t n = c->len - c->off;
				if (split && n > 1)
					n = 1 + rnd(n < 300 ? (unsigned)n : 300);
				ssize_t w = write(c->fd, c->buf + c->off, n);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0 && errno == EAGAIN)
					break;
				if (w < 0) {
					perror("evsend: write");
					exit(1);
				}
				c->off += (size_t)w;
				if (split)
					break; /* next connection: interleave */
			}
			if (c->off == c->len)
				c->off = c->len = 0;
			else
				waiting = 1;
		}
		if (!waiting || !all)
			return;
		struct pollfd p[CLIENTS_MAX];
		for (int i = 0; i < nc; i++)
			p[i] = (struct pollfd){.fd = cs[i].len ? cs[i].fd : -1, .events = POLLOUT};
		poll(p, (nfds_t)nc, 100);
	}
}

static int connect_to(const char *target)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int type = strncmp(target, "udp:", 4) == 0 ? SOCK_DGRAM : SOCK_STREAM;
	if (strncmp(target, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		memset(un, 0, sizeof(*un));
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", target + 5);
		len = sizeof(*un);
	} else {
		struct config_addr a;
		if (config_parse_addr(target + 4, &a) != 0) {
			fprintf(stderr, "evsend: bad target %s\n", target);
			exit(2);
		}
		ss = a.ss;
		len = a.len;
	}
	for (int tries = 0; tries < 50; tries++) {
		int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0) {
			if (type == SOCK_DGRAM) {
				int big = 4 << 20;
				setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
			}
			return fd;
		}
		if (fd >= 0)
			close(fd);
		usleep(100000);
	}
	fprintf(stderr, "evsend: cannot connect to %s: %s\n", target, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option o[] = {{"count", 1, 0, 'n'}, {"first", 1, 0, 'f'}, {"rate", 1, 0, 'r'},
					  {"mode", 1, 0, 'm'},  {"clients", 1, 0, 'c'}, {"split", 0, 0, 's'},
					  {"octet", 0, 0, 'o'}, {"overlong", 1, 0, 'O'}, {"max-line", 1, 0, 'L'},
					  {"seed", 1, 0, 'S'},  {0, 0, 0, 0}};
	unsigned long long count = 1000, first = 0, overlong = 0, maxline = 65536;
	double rate = 0;
	int mode = EV_MIXED, clients = 1, split = 0, octet = 0, c;
	rng = 1;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'f': first = strtoull(optarg, NULL, 10); break;
		case 'r': rate = atof(optarg); break;
		case 'm': mode = evmode_parse(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 's': split = 1; break;
		case 'o': octet = 1; break;
		case 'O': overlong = strtoull(optarg, NULL, 10); break;
		case 'L': maxline = strtoull(optarg, NULL, 10); break;
		case 'S': rng = strtoull(optarg, NULL, 10) | 1; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || mode < 0 || clients < 1 || clients > CLIENTS_MAX) {
		fprintf(stderr, "usage: sluice-evsend [options] udp:H:P|tcp:H:P|unix:/path|-\n");
		return 2;
	}
	const char *target = argv[optind];
	int udp = strncmp(target, "udp:", 4) == 0, out = strcmp(target, "-") == 0;
	if (udp || out)
		clients = 1;
	struct conn cs[CLIENTS_MAX] = {0};
	for (int i = 0; i < clients; i++) {
		cs[i].fd = out ? STDOUT_FILENO : connect_to(target);
		if (!udp && !out)
			fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
	}
	char *ev = malloc(EVTEXT_MAX), *junk = malloc(maxline + 2);
	memset(junk, 'X', maxline + 1);
	double t0 = mono();
	unsigned long long junk_sent = 0;
	for (unsigned long long k = 0; k < count; k++) {
		unsigned long long i = first + k;
		if (rate > 0 && k % (unsigned long long)(rate / 1000 > 1 ? rate / 1000 : 1) == 0) {
			double due = t0 + (double)k / rate, now = mono();
			if (due > now) {
				pump(cs, clients, split, 0);
				usleep((useconds_t)((due - now) * 1e6));
			}
		}
		size_t n = evtext(ev, i, mode);
		struct conn *cn = &cs[i % (unsigned)clients];
		if (udp) {
			if (send(cn->fd, ev, n, 0) < 0 && errno != ECONNREFUSED)
				perror("evsend: send");
			if (overlong && (k + 1) % overlong == 0) {
				send(cn->fd, junk, maxline + 1, 0);
				junk_sent++;
			}
			continue;
		}
		frame(cn, ev, n, octet);
		if (overlong && (k + 1) % overlong == 0) {
			frame(cn, junk, maxline + 1, octet);
			junk_sent++;
		}
		if (cn->len > (1u << 20) || out)
			pump(cs, clients, split, 1);
		else
			pump(cs, clients, split, 0);
	}
	pump(cs, clients, split, 1);
	for (int i = 0; i < clients; i++) {
		if (!out)
			close(cs[i].fd);
		free(cs[i].buf);
	}
	fprintf(stderr, "evsend: sent %llu events (+%llu overlong) to %s in %.2f s\n", count, junk_sent,
		target, mono() - t0);
	free(ev);
	free(junk);
	return 0;
}
