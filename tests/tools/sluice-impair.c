/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: a userspace UDP proxy that impairs the link (the kernel here has no netem).
 *   sluice-impair --listen 127.0.0.1:7001 --to 127.0.0.1:7000 --spec "drop=0.05,seed=7"
 *                 [--duration-s N] [--stats FILE]
 * Every datagram received on --listen goes through hw/impair.c and on to --to. On SIGINT,
 * SIGTERM or after --duration-s, held datagrams are flushed and the counters are written as
 * one JSON line to --stats (or stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "hw/impair.h"
#include "hw/link.h"

#define OUT_MAX 256

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

struct outq {
	struct link *to;
	uint8_t buf[OUT_MAX][65536];
	struct link_pkt pkts[OUT_MAX];
	unsigned n;
};

static void flush(struct outq *q)
{
	if (q->n)
		link_send(q->to, q->pkts, q->n);
	q->n = 0;
}

static void emit(void *ctx, const uint8_t *p, size_t len)
{
	struct outq *q = ctx;
	if (q->n == OUT_MAX)
		flush(q);
	memcpy(q->buf[q->n], p, len);
	q->pkts[q->n].data = q->buf[q->n];
	q->pkts[q->n].len = len;
	q->n++;
}

int main(int argc, char **argv)
{
	static const struct option o[] = {{"listen", 1, 0, 'l'}, {"to", 1, 0, 't'}, {"spec", 1, 0, 's'},
					  {"duration-s", 1, 0, 'd'}, {"stats", 1, 0, 'o'}, {0, 0, 0, 0}};
	const char *listen = NULL, *to = NULL, *spec = "", *stats = NULL;
	long duration = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 't': to = optarg; break;
		case 's': spec = optarg; break;
		case 'd': duration = atol(optarg); break;
		case 'o': stats = optarg; break;
		default: return 2;
		}
	}
	struct config_addr la, ta;
	struct impair_config ic;
	if (!listen || !to || config_parse_addr(listen, &la) || config_parse_addr(to, &ta)) {
		fprintf(stderr, "usage: sluice-impair --listen ADDR --to ADDR [--spec SPEC] [--duration-s N] [--stats FILE]\n");
		return 2;
	}
	if (impair_config_parse(spec, &ic) != 0) {
		fprintf(stderr, "sluice-impair: bad --spec '%s'\n", spec);
		return 2;
	}
	struct link *in, *outl;
	if (link_udp_rx_open(&in, (struct sockaddr *)&la.ss, la.len) != 0 ||
	    link_udp_tx_open(&outl, (struct sockaddr *)&ta.ss, ta.len) != 0) {
		fprintf(stderr, "sluice-impair: cannot open sockets\n");
		return 1;
	}
	struct impair *im = impair_new(&ic);
	struct outq *q = calloc(1, sizeof(*q));
	if (!im || !q)
		return 1;
	q->to = outl;
	fprintf(stderr, "sluice-impair: %s -> %s, spec '%s', seed %llu\n", listen, to, spec,
		(unsigned long long)ic.seed);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	uint64_t end = duration ? mono_ns() + (uint64_t)duration * 1000000000ull : 0;
	struct link_pkt pk[LINK_RX_BATCH];
	while (!stop && (!end || mono_ns() < end)) {
		int n = link_recv(in, pk, LINK_RX_BATCH, 100);
		for (int i = 0; i < n; i++)
			impair_process(im, pk[i].data, pk[i].len, emit, q);
		flush(q);
	}
	impair_flush(im, emit, q);
	flush(q);
	struct impair_stats s;
	impair_stats(im, &s);
	FILE *f = stats ? fopen(stats, "w") : stderr;
	if (f) {
		fprintf(f, "{\"in\":%llu,\"out\":%llu,\"dropped\":%llu,\"reordered\":%llu,\"duplicated\":%llu,"
			   "\"corrupted\":%llu,\"replayed\":%llu,\"injected\":%llu,\"seed\":%llu}\n",
			(unsigned long long)s.in, (unsigned long long)s.out, (unsigned long long)s.dropped,
			(unsigned long long)s.reordered, (unsigned long long)s.duplicated,
			(unsigned long long)s.corrupted, (unsigned long long)s.replayed,
			(unsigned long long)s.injected, (unsigned long long)ic.seed);
		if (f != stderr)
			fclose(f);
	}
	impair_free(im);
	free(q);
	link_close(in);
	link_close(outl);
	return 0;
}
