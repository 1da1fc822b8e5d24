/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what sluice-tx takes from its intake process (tx/intake_proc/): the
 * process that parses camera-network bytes has no signing key, and sluice-tx treats every
 * byte it sends as hostile. The input is the event channel's stream as the intake process
 * would write it (common/channel.h framing: type u32, length u32, body); it is written to a
 * socketpair and read back with channel_read/channel_next, each message handed to
 * intake_proc_handle as tx/intake_proc/ does, until the channel refuses a header or a message
 * is refused (either is a compromise: the process would be killed). Three sources:
 *
 *   0 "u"  udp   max_line 64     queue 4
 *   1 "t"  tcp   max_line 1024   queue 4
 *   2 "x"  unix  max_line 8      queue 4
 *
 * Checks, per message: a refusal (-EBADMSG) comes with a reason and changes no counter and
 * queues nothing; an accepted EVENT counts one event; a COUNT adds exactly its value to one
 * of the intake's own counters; DROPS adds what moved since the source's last report. At the
 * end every queued event is taken (evq_take) and decoded (evbatch_decode): each source's
 * batches must hold exactly the last (up to queue) events accepted for it, in order, with
 * the intake time and bytes they were sent with, and consecutive seqs from one stream; the
 * events before them are counted dropped. The queue's STATE folder is made once in /dev/shm
 * (a tmpfs) when there is one; fsync is a no-op here.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/evbatch.h"
#include "common/log.h"
#include "tx/evqueue.h"
#include "tx/intake_proc/intake_proc.h"
#include "tx/tx_metrics.h"

#define NSRC 3
#define QUEUE 4
#define MAX_BODY (INTAKE_EVENT_HDR + 1024)
#define MAX_EVENTS 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t test_sign_sk[64]; /* any key: these batches are only decoded */
static char dir[] = "/dev/shm/sluice-fuzz-intake-XXXXXX";
static struct config_event src[NSRC];

int fsync(int fd)
{
	(void)fd;
	return 0;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_intake_msg: %s\n", what);
		abort();
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void) { nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/sluice-fuzz-intake-XXXXXX");
		check(mkdtemp(dir) != NULL, "mkdtemp failed");
	}
	atexit(cleanup);
	const char *names[NSRC] = {"u", "t", "x"};
	const enum config_event_kind kinds[NSRC] = {CONFIG_EVENT_UDP, CONFIG_EVENT_TCP,
						    CONFIG_EVENT_UNIX};
	const uint64_t max[NSRC] = {64, 1024, 8};
	for (int i = 0; i < NSRC; i++) {
		snprintf(src[i].name, sizeof(src[i].name), "%s", names[i]);
		src[i].kind = kinds[i];
		src[i].max_line = max[i];
		src[i].queue = QUEUE;
		src[i].compress = i == 1 ? 3 : 0;
	}
	log_set_level(LOG_ERROR);
	return 0;
}

/* An event accepted, as it was sent. */
struct sent {
	unsigned src;
	uint64_t tx_ns;
	const uint8_t *data; /* into the input copy */
	size_t len;
};

static uint64_t metric(enum tx_metric m) { return metric_get(&tx_metrics[m]); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 60000)
		return 0;
	struct evq *q;
	struct evq_config ec = {.state = dir, .sources = src, .nsources = NSRC,
				.window_ns = 1000000, .batch_bytes = 256, .sign_sk = test_sign_sk};
	check(evq_new(&q, &ec) == 0, "evq_new");
	int sp[2];
	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair");
	int big = 1 << 20;
	(void)setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	check(size == 0 || write(sp[0], data, size) == (ssize_t)size, "write");
	close(sp[0]);
	struct channel ch;
	check(channel_init(&ch, sp[1], MAX_BODY, 1 << 16) == 0, "channel_init");

	static struct sent sent[MAX_EVENTS];
	static uint8_t copies[65536];
	size_t nsent = 0, copied = 0;
	uint32_t drops[NSRC] = {0};
	uint64_t before[TXM_COUNT];
	bool stop = false;
	for (ssize_t r = 1; r > 0 && !stop;) {
		r = channel_read(&ch);
		check(r >= 0, "channel_read failed");
		struct channel_msg m;
		int rc;
		while (!stop && (rc = channel_next(&ch, &m)) == 1) {
			for (int i = 0; i < TXM_COUNT; i++)
				before[i] = metric((enum tx_metric)i);
			size_t queued = evq_queued(q);
			uint32_t drops_was[NSRC];
			memcpy(drops_was, drops, sizeof(drops));
			const char *why = NULL;
			rc = intake_proc_handle(src, NSRC, q, drops, m.type, m.body, m.len, &why);
			if (rc != 0) {
				check(rc == -EBADMSG && why && *why, "a refusal without a reason");
				check(evq_queued(q) == queued, "a refused message queued an event");
				check(memcmp(drops_was, drops, sizeof(drops)) == 0,
				      "a refused message changed a drop count");
				for (int i = 0; i < TXM_COUNT; i++)
					check(metric((enum tx_metric)i) == before[i],
					      "a refused message moved a counter");
				stop = true;
				break;
			}
			check(why == NULL, "an accepted message with a reason");
			switch (m.type) {
			case INTAKE_MSG_EVENT: {
				uint32_t s = channel_get32(m.body);
				size_t len = m.len - INTAKE_EVENT_HDR;
				check(s < NSRC && len > 0 && len <= src[s].max_line,
				      "an event accepted out of bounds");
				check(metric(TXM_EVENTS) == before[TXM_EVENTS] + 1,
				      "an event accepted but not counted");
				check(nsent < MAX_EVENTS && copied + len <= sizeof(copies), "too many events");
				memcpy(copies + copied, m.body + INTAKE_EVENT_HDR, len);
				sent[nsent++] = (struct sent){s, channel_get64(m.body + 4), copies + copied, len};
				copied += len;
				break;
			}
			case INTAKE_MSG_COUNT: {
				check(m.len == 12, "a counter message of another length accepted");
				uint32_t k = channel_get32(m.body);
				uint64_t v = channel_get64(m.body + 4);
				check(k == TXM_EVENTS_REJECTED || k == TXM_EVENT_CLIENTS_IDLE ||
				      k == TXM_EVENT_CLIENTS_EVICTED || k == TXM_EVENTS_PARTIAL ||
				      k == TXM_EVENTS_DROPPED, "a counter not intake's moved");
				for (int i = 0; i < TXM_COUNT; i++)
					check(metric((enum tx_metric)i) == before[i] + (i == (int)k ? v : 0),
					      "a counter message moved other counters, or by another amount");
				break;
			}
			case INTAKE_MSG_DROPS: {
				uint32_t s = channel_get32(m.body), d = channel_get32(m.body + 4);
				check(m.len == 8 && s < NSRC && src[s].kind == CONFIG_EVENT_UDP,
				      "a drop count accepted of a stream source");
				check(drops[s] == d, "the drop total not remembered");
				check(metric(TXM_EVENTS_LOST_INTAKE) ==
				      before[TXM_EVENTS_LOST_INTAKE] + (uint32_t)(d - drops_was[s]),
				      "kernel drops not counted as the total moved");
				break;
			}
			default:
				check(false, "a message of unknown type accepted");
			}
		}
		if (!stop && rc < 0) {
			check(rc == -EBADMSG, "channel_next: an error other than -EBADMSG");
			stop = true;
		}
	}
	channel_free(&ch);
	close(sp[1]);

	/* Every queued event, in batches, against what was accepted. */
	size_t next[NSRC], count[NSRC] = {0};
	for (size_t i = 0; i < nsent; i++)
		count[sent[i].src]++;
	for (unsigned s = 0; s < NSRC; s++) {
		size_t skip = count[s] > QUEUE ? count[s] - QUEUE : 0;
		next[s] = 0;
		for (size_t i = 0; i < nsent && skip; i++)
			if (sent[i].src == s) {
				skip--;
				next[s] = i + 1;
			}
	}
	uint64_t last_seq[NSRC] = {0}, stream[NSRC] = {0};
	bool seen[NSRC] = {false};
	uint8_t *obj;
	long n;
	while ((n = evq_take(q, 0, 1, &obj)) > 0) {
		struct evbatch b;
		const char *why;
		check(evbatch_decode(obj, (size_t)n, &b, &why) == 0, "a batch that does not decode");
		unsigned s = 0;
		while (s < NSRC && strcmp(src[s].name, b.source) != 0)
			s++;
		check(s < NSRC, "a batch of an unknown source");
		for (uint32_t i = 0; i < b.count; i++) {
			const struct evbatch_event *e = &b.ev[i];
			while (next[s] < nsent && sent[next[s]].src != s)
				next[s]++;
			check(next[s] < nsent, "an event taken that was not accepted");
			const struct sent *x = &sent[next[s]++];
			check(e->tx_time_ns == x->tx_ns && e->len == x->len &&
			      memcmp(e->data, x->data, x->len) == 0,
			      "an event taken with other bytes or time than it was sent with");
			check(!seen[s] || (e->seq == last_seq[s] + 1 && b.stream == stream[s]),
			      "seqs of one source not consecutive in one stream");
			seen[s] = true;
			last_seq[s] = e->seq;
			stream[s] = b.stream;
		}
		evbatch_release(&b);
		free(obj);
	}
	check(n == 0, "evq_take failed");
	for (unsigned s = 0; s < NSRC; s++) {
		while (next[s] < nsent && sent[next[s]].src != s)
			next[s]++;
		check(next[s] == nsent, "an accepted event never taken");
	}
	evq_close(q);
	evq_free(q);
	return 0;
}
