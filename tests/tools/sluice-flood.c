/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: a hostile network in front of the receiver. Sends a paced mix of
 *   garbage    random bytes of random length
 *   nosession  well-formed DATA datagrams of sessions nobody announced
 *   session    well-formed DATA datagrams naming the genuine session (--session), forged;
 *              every other one numbered within its first epoch (tried, and failing
 *              authentication), the others spread over all epochs (refused by the bound on
 *              packet numbers, unopened)
 *   announce   announcements naming the pinned sender and the receiver, random signature
 *              and MAC (needs --sender and --receiver, the public key files)
 *   replay     datagrams recorded by sluice-capture (--replay FILE), played in a loop
 *
 *   sluice-flood --to 127.0.0.1:7000 --mbit 1000 --duration-s 10 --mix garbage,nosession,...
 *                [--session HEX] [--sender tx.pub --receiver rx.pub] [--replay FILE]
 *
 * The mix takes turns, one datagram of each kind in order. Datagrams go out in batches of 32
 * (sendmmsg); the rate is held per batch. Prints what it sent and at what rate.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/keys.h"
#include "common/wire.h"
#include "fec/fec.h"

enum kind { K_GARBAGE, K_NOSESSION, K_SESSION, K_ANNOUNCE, K_REPLAY, K_COUNT };
static const char *kind_name[K_COUNT] = {"garbage", "nosession", "session", "announce", "replay"};
#define BATCH 32
#define DGRAM_MAX 1472

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint8_t *replay_buf;
static size_t replay_len, replay_off;

static int load_replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	replay_buf = malloc(n > 0 ? (size_t)n : 1);
	replay_len = n > 0 && fread(replay_buf, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
	fclose(f);
	return replay_len ? 0 : -1;
}

/* The next recorded datagram (u32 LE length, bytes), from the start again at the end. */
static size_t next_replay(uint8_t *out)
{
	for (int tries = 0; tries < 2; tries++) {
		if (replay_off + 4 <= replay_len) {
			const uint8_t *p = replay_buf + replay_off;
			size_t len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
			if (len <= DGRAM_MAX && replay_off + 4 + len <= replay_len) {
				memcpy(out, p + 4, len);
				replay_off += 4 + len;
				return len;
			}
		}
		replay_off = 0;
	}
	return 0;
}

/* A DATA datagram whose every field is what a genuine one of a 1 MB file would carry (block
 * sizes as the sender cuts them), so that only its tag gives it away; near: numbered within
 * the first epoch, else anywhere below 2^56. */
static size_t make_data(uint8_t *out, uint64_t session, bool near)
{
	struct fec_partition part;
	if (fec_partition_init(&part, 1000000, 1408, 128) != 0)
		abort();
	struct wire_data_hdr h = {.session = session, .object_len = 1000000, .symbol_size = 1408,
				  .kind = WIRE_KIND_FILE};
	randombytes_buf(&h.pn, sizeof(h.pn));
	h.pn >>= 8; /* far ahead of the genuine numbers, never behind the replay window */
	if (near) /* mostly ahead of them still, within 2^22 of the highest (a test's stream) */
		h.pn = randombytes_uniform(1u << 22);
	h.object_id = 1000 + randombytes_uniform(100000);
	h.block = randombytes_uniform(part.nblocks);
	h.k = (uint8_t)fec_partition_k(&part, h.block);
	h.m = 32;
	h.esi = (uint8_t)randombytes_uniform(h.k + h.m);
	wire_data_hdr_encode(out, &h);
	randombytes_buf(out + WIRE_DATA_HDR_LEN, 1408 + WIRE_TAG_LEN);
	return WIRE_DATA_OVERHEAD + 1408;
}

static size_t make_announce(uint8_t *out, const uint8_t tx_pk[32], const uint8_t rx_pk[32], uint64_t n)
{
	struct wire_announce a = {0};
	randombytes_buf(&a.session, sizeof(a.session));
	memcpy(a.sender_pk, tx_pk, 32);
	memcpy(a.receiver_pk, rx_pk, 32);
	randombytes_buf(a.ephemeral_pk, 32);
	a.counter = (1ull << 60) + n;
	a.time_ns = a.start_ns = (uint64_t)time(NULL) * 1000000000ull;
	a.next_object_id = a.done_object_id = 1000000;
	a.symbol_size = 1408;
	a.mtu = 1500;
	a.overhead_pct = 25;
	a.block_max = 128;
	a.interleave = 16;
	a.repeat = 1;
	a.aead = WIRE_AEAD_AES256GCM;
	wire_announce_encode(out, &a);
	randombytes_buf(out + WIRE_ANNOUNCE_SIGNED_LEN, WIRE_ANNOUNCE_LEN - WIRE_ANNOUNCE_SIGNED_LEN);
	return WIRE_ANNOUNCE_LEN;
}

int main(int argc, char **argv)
{
	static const struct option o[] = {{"to", 1, 0, 't'}, {"mbit", 1, 0, 'r'}, {"duration-s", 1, 0, 'd'},
					  {"mix", 1, 0, 'm'}, {"session", 1, 0, 's'}, {"sender", 1, 0, 'S'},
					  {"receiver", 1, 0, 'R'}, {"replay", 1, 0, 'p'}, {0, 0, 0, 0}};
	const char *to = NULL, *mix = "garbage,nosession", *spub = NULL, *rpub = NULL, *rfile = NULL;
	double mbit = 1000, duration = 10;
	uint64_t session = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'r': mbit = atof(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'm': mix = optarg; break;
		case 's': session = strtoull(optarg, NULL, 16); break;
		case 'S': spub = optarg; break;
		case 'R': rpub = optarg; break;
		case 'p': rfile = optarg; break;
		default: return 2;
		}
	}
	struct config_addr dst;
	if (!to || config_parse_addr(to, &dst) != 0 || mbit <= 0 || duration <= 0 || sodium_init() < 0) {
		fprintf(stderr, "usage: see the comment at the top of tests/tools/sluice-flood.c\n");
		return 2;
	}
	enum kind order[K_COUNT];
	size_t norder = 0;
	char *m = strdup(mix);
	for (char *tok = strtok(m, ","); tok; tok = strtok(NULL, ",")) {
		size_t k = 0;
		while (k < K_COUNT && strcmp(tok, kind_name[k]) != 0)
			k++;
		if (k == K_COUNT || norder == K_COUNT) {
			fprintf(stderr, "sluice-flood: unknown or repeated kind '%s'\n", tok);
			return 2;
		}
		order[norder++] = (enum kind)k;
	}
	free(m);
	uint8_t tx_pk[32] = {0}, rx_pk[32] = {0};
	char err[256];
	for (size_t i = 0; i < norder; i++) {
		if (order[i] == K_SESSION && !session) {
			fprintf(stderr, "sluice-flood: 'session' needs --session HEX\n");
			return 2;
		}
		if (order[i] == K_ANNOUNCE && (!spub || !rpub || keys_load_public(KEYS_TX, spub, tx_pk, err, sizeof(err)) != 0 ||
					       keys_load_public(KEYS_RX, rpub, rx_pk, err, sizeof(err)) != 0)) {
			fprintf(stderr, "sluice-flood: 'announce' needs --sender and --receiver key files\n");
			return 2;
		}
		if (order[i] == K_REPLAY && (!rfile || load_replay(rfile) != 0)) {
			fprintf(stderr, "sluice-flood: 'replay' needs a capture (--replay FILE) with datagrams\n");
			return 2;
		}
	}
	int fd = socket(dst.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	static uint8_t bufs[BATCH][DGRAM_MAX];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	uint64_t sent[K_COUNT] = {0}, bytes = 0, turn = 0;
	uint64_t start = mono_ns(), end = start + (uint64_t)(duration * 1e9);
	double ns_per_byte = 8e9 / (mbit * 1e6);
	while (mono_ns() < end) {
		enum kind kinds[BATCH];
		size_t batch_bytes = 0;
		for (int i = 0; i < BATCH; i++) {
			enum kind k = order[turn++ % norder];
			size_t len = 0;
			switch (k) {
			case K_GARBAGE:
				len = 1 + randombytes_uniform(DGRAM_MAX);
				randombytes_buf(bufs[i], len);
				break;
			case K_NOSESSION: {
				uint64_t s;
				randombytes_buf(&s, sizeof(s));
				len = make_data(bufs[i], s, false);
				break;
			}
			case K_SESSION: len = make_data(bufs[i], session, ((turn / norder) & 1) != 0); break;
			case K_ANNOUNCE: len = make_announce(bufs[i], tx_pk, rx_pk, turn); break;
			case K_REPLAY: len = next_replay(bufs[i]); break;
			default: break;
			}
			kinds[i] = k;
			iov[i] = (struct iovec){bufs[i], len};
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &dst.ss;
			msgs[i].msg_hdr.msg_namelen = dst.len;
			batch_bytes += len;
		}
		int n = sendmmsg(fd, msgs, BATCH, 0);
		for (int i = 0; i < n; i++) {
			sent[kinds[i]]++;
			bytes += iov[i].iov_len;
		}
		uint64_t due = start + (uint64_t)((double)bytes * ns_per_byte), now = mono_ns();
		if (due > now + 100000) {
			struct timespec d = {(time_t)((due - now) / 1000000000ull), (long)((due - now) % 1000000000ull)};
			nanosleep(&d, NULL);
		}
		(void)batch_bytes;
	}
	double secs = (double)(mono_ns() - start) / 1e9;
	printf("sluice-flood: %.0f Mbit/s for %.1f s:", (double)bytes * 8 / secs / 1e6, secs);
	for (size_t i = 0; i < norder; i++)
		printf(" %s %llu", kind_name[order[i]], (unsigned long long)sent[order[i]]);
	printf("\n");
	close(fd);
	return 0;
}
