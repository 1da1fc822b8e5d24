/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: a userspace UDP proxy that impairs the link (the kernel here has no netem).
 *   sluice-impair --listen 127.0.0.1:7001 --to 127.0.0.1:7000 --spec "drop=0.05,seed=7"
 *                 [--duration-s N] [--stats FILE]
 *
 *   sender --> [listen: link_udp rx, GRO] --> hw/impair.c --> [link_udp tx, GSO] --> to
 *
 * Every datagram received on --listen goes through the impairment engine and on to --to, a
 * batch of up to LINK_RX_BATCH per wake-up (recvmmsg in, sendmmsg out), which keeps up with
 * several hundred thousand datagrams a second on one core. On SIGINT, SIGTERM or after
 * --duration-s, held datagrams are flushed and the counters are written as one JSON line to
 * --stats (through a temporary file and rename, so a reader never sees half a line) or to
 * stderr. The seed is printed at start; the same seed and input give the same output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "hw/impair.h"
#include "hw/link.h"
#include "hw/sockdrops.h"

#define OUT_MAX 256
#define SLOT 65536
#define WAKE_MS 100

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

struct outq {
	struct link *to;
	uint8_t *buf; /* OUT_MAX slots of SLOT bytes */
	struct link_pkt pkts[OUT_MAX];
	unsigned n;
	uint64_t send_errors;
};

static void flush(struct outq *q)
{
	if (q->n) {
		int rc = link_send(q->to, q->pkts, q->n);
		if (rc < 0) {
			q->send_errors++;
			log_rl(LOG_WARN, "send to the far side failed: %s", strerror(-rc));
		}
	}
	q->n = 0;
}

static void emit(void *ctx, const uint8_t *p, size_t len)
{
	struct outq *q = ctx;
	if (q->n == OUT_MAX)
		flush(q);
	uint8_t *d = q->buf + (size_t)q->n * SLOT;
	memcpy(d, p, len);
	q->pkts[q->n].data = d;
	q->pkts[q->n].len = len;
	q->n++;
}

static int write_stats(const char *path, const struct impair_stats *s, uint64_t seed,
		       uint64_t recv_errors, uint64_t send_errors, uint64_t kernel_dropped)
{
	char tmp[4096];
	FILE *f = stderr;
	if (path) {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
			return -ENAMETOOLONG;
		f = fopen(tmp, "w");
		if (!f)
			return -errno;
	}
	fprintf(f,
		"{\"in\":%" PRIu64 ",\"out\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"burst_dropped\":%" PRIu64
		",\"reordered\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"corrupted\":%" PRIu64
		",\"replayed\":%" PRIu64 ",\"injected\":%" PRIu64 ",\"recv_errors\":%" PRIu64
		",\"send_errors\":%" PRIu64 ",\"kernel_dropped\":%" PRIu64 ",\"seed\":%" PRIu64 "}\n",
		s->in, s->out, s->dropped, s->burst_dropped, s->reordered, s->duplicated, s->corrupted,
		s->replayed, s->injected, recv_errors, send_errors, kernel_dropped, seed);
	if (!path)
		return 0;
	int rc = 0;
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		rc = -errno;
		unlink(tmp);
	}
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: sluice-impair --listen ADDR:PORT --to ADDR:PORT [--spec SPEC] "
			"[--duration-s N] [--stats FILE]\n"
			"  SPEC: drop=P,burst=LOSS:LEN,reorder=P,dup=P,corrupt=P,replay=P,inject=P,seed=N\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},  {"to", required_argument, NULL, 't'},
		{"spec", required_argument, NULL, 's'},    {"duration-s", required_argument, NULL, 'd'},
		{"stats", required_argument, NULL, 'o'},   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *listen_at = NULL, *to = NULL, *spec = "", *stats = NULL;
	long duration_s = 0;
	char *end;
	int c;
	log_set_name("impair");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_at = optarg; break;
		case 't': to = optarg; break;
		case 's': spec = optarg; break;
		case 'o': stats = optarg; break;
		case 'd':
			errno = 0;
			duration_s = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || duration_s < 0) {
				fprintf(stderr, "sluice-impair: bad --duration-s '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	struct config_addr la, ta;
	struct impair_config ic;
	if (!listen_at || !to || optind != argc) {
		usage();
		return 2;
	}
	if (config_parse_addr(listen_at, &la) != 0 || config_parse_addr(to, &ta) != 0) {
		fprintf(stderr, "sluice-impair: bad address (want 1.2.3.4:7000 or [::1]:7000)\n");
		return 2;
	}
	if (impair_config_parse(spec, &ic) != 0) {
		fprintf(stderr, "sluice-impair: bad --spec '%s'\n", spec);
		usage();
		return 2;
	}

	int status = 1, rc;
	struct link *in = NULL, *outl = NULL;
	struct impair *im = NULL;
	struct outq q = {0};
	rc = link_udp_rx_open(&in, (const struct sockaddr *)&la.ss, la.len);
	if (rc != 0) {
		fprintf(stderr, "sluice-impair: cannot listen on %s: %s\n", listen_at, strerror(-rc));
		goto out;
	}
	rc = link_udp_tx_open(&outl, (const struct sockaddr *)&ta.ss, ta.len);
	if (rc != 0) {
		fprintf(stderr, "sluice-impair: cannot send to %s: %s\n", to, strerror(-rc));
		goto out;
	}
	im = impair_new(&ic);
	q.buf = malloc((size_t)OUT_MAX * SLOT);
	if (!im || !q.buf) {
		fprintf(stderr, "sluice-impair: out of memory\n");
		goto out;
	}
	q.to = outl;

	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "sluice-impair: %s -> %s, spec '%s', seed %" PRIu64 "\n", listen_at, to, spec,
		ic.seed);

	uint64_t end_ns = duration_s ? mono_ns() + (uint64_t)duration_s * 1000000000ull : 0;
	uint64_t recv_errors = 0;
	struct link_pkt pk[LINK_RX_BATCH];
	while (!stop) {
		int wait_ms = WAKE_MS;
		if (end_ns) {
			uint64_t now = mono_ns();
			if (now >= end_ns)
				break;
			if (end_ns - now < (uint64_t)wait_ms * 1000000u)
				wait_ms = (int)((end_ns - now) / 1000000u) + 1;
		}
		int n = link_recv(in, pk, LINK_RX_BATCH, wait_ms);
		if (n < 0) {
			recv_errors++;
			log_rl(LOG_WARN, "receive failed: %s", strerror(-n));
			nanosleep(&(struct timespec){0, 10000000}, NULL); /* never spin on an error */
			continue;
		}
		for (int i = 0; i < n; i++)
			impair_process(im, pk[i].data, pk[i].len, emit, &q);
		flush(&q);
	}
	impair_flush(im, emit, &q);
	flush(&q);

	struct impair_stats s;
	impair_stats(im, &s);
	/* Datagrams the kernel dropped before this proxy read them (its socket buffer was full):
	 * loss beyond the spec, which a test must be able to tell apart from the spec's own. */
	uint32_t kdrops = 0;
	if (sock_drops(link_fd(in), &kdrops) != 0)
		kdrops = 0;
	rc = write_stats(stats, &s, ic.seed, recv_errors, q.send_errors, kdrops);
	if (rc != 0) {
		fprintf(stderr, "sluice-impair: cannot write %s: %s\n", stats, strerror(-rc));
		goto out;
	}
	status = 0;
out:
	impair_free(im);
	free(q.buf);
	link_close(in);
	link_close(outl);
	return status;
}
