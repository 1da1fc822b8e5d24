/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: a forger who knows both public keys (they are not secret) but no secret key.
 * Sends announcements naming the pinned sender and the receiver, with a huge session counter
 * and random session id, ephemeral key, signature and MAC, at a steady rate:
 *
 *   sluice-forge --sender tx.pub --receiver rx.pub --to 127.0.0.1:7000 [--pps 10000]
 *                [--duration-s 10] [--counter N]
 *
 * Prints how many it sent. Every wait is bounded by --duration-s.
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

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct option o[] = {{"sender", 1, 0, 's'}, {"receiver", 1, 0, 'r'},
					  {"to", 1, 0, 't'}, {"pps", 1, 0, 'p'},
					  {"duration-s", 1, 0, 'd'}, {"counter", 1, 0, 'c'}, {0, 0, 0, 0}};
	const char *spub = NULL, *rpub = NULL, *to = NULL;
	long pps = 10000;
	double duration = 10;
	unsigned long long counter = 1ull << 60;
	int c;
	while ((c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 's': spub = optarg; break;
		case 'r': rpub = optarg; break;
		case 't': to = optarg; break;
		case 'p': pps = atol(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'c': counter = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	struct config_addr dst;
	uint8_t tx_pk[32], rx_pk[32];
	char err[256];
	if (!spub || !rpub || !to || pps <= 0 || duration <= 0 || config_parse_addr(to, &dst) != 0) {
		fprintf(stderr, "usage: sluice-forge --sender tx.pub --receiver rx.pub --to HOST:PORT "
				"[--pps N] [--duration-s S] [--counter N]\n");
		return 2;
	}
	if (sodium_init() < 0 || keys_load_public(KEYS_TX, spub, tx_pk, err, sizeof(err)) != 0 ||
	    keys_load_public(KEYS_RX, rpub, rx_pk, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice-forge: %s\n", err);
		return 2;
	}
	int fd = socket(dst.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	uint64_t start = mono_ns(), end = start + (uint64_t)(duration * 1e9), sent = 0;
	uint64_t gap = 1000000000ull / (uint64_t)pps;
	while (mono_ns() < end) {
		struct wire_announce a = {0};
		randombytes_buf(&a.session, sizeof(a.session));
		memcpy(a.sender_pk, tx_pk, 32);
		memcpy(a.receiver_pk, rx_pk, 32);
		randombytes_buf(a.ephemeral_pk, 32);
		a.counter = counter + sent;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		a.time_ns = a.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		a.next_object_id = a.done_object_id = 1000000;
		a.symbol_size = 1408;
		a.mtu = 1500;
		a.overhead_pct = 25;
		a.block_max = 128;
		a.interleave = 16;
		a.repeat = 1;
		a.aead = WIRE_AEAD_AES256GCM;
		uint8_t pkt[WIRE_ANNOUNCE_LEN];
		wire_announce_encode(pkt, &a);
		/* Signature and whatever follows it: random, as a forger without a key must. */
		randombytes_buf(pkt + WIRE_ANNOUNCE_SIGNED_LEN, WIRE_ANNOUNCE_LEN - WIRE_ANNOUNCE_SIGNED_LEN);
		if (sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)&dst.ss, dst.len) == (ssize_t)sizeof(pkt))
			sent++;
		uint64_t due = start + sent * gap;
		uint64_t now = mono_ns();
		if (due > now) {
			struct timespec d = {(time_t)((due - now) / 1000000000ull), (long)((due - now) % 1000000000ull)};
			nanosleep(&d, NULL);
		}
	}
	double secs = (double)(mono_ns() - start) / 1e9;
	printf("sluice-forge: sent %llu forged announcements in %.1f s (%.0f/s)\n",
	       (unsigned long long)sent, secs, (double)sent / secs);
	close(fd);
	return 0;
}
