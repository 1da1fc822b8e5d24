/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the receiver's link role (rx/linkrole.c): everything it does with
 * bytes from the link, from the first header check through signatures, sessions, the replay
 * window, AEAD, FEC and reassembly, with deterministic keys so that the seed corpus can hold
 * real signed announcements and sealed packets:
 *
 *   receiver X25519 key   crypto_box_seed_keypair, seed = 32 bytes of 0x52 ('R')
 *   sender Ed25519 key    crypto_sign_seed_keypair, seed = 32 bytes of 0x54 ('T')  (pinned)
 *
 * The input is a sequence of datagrams, each a 2-byte little-endian length and that many bytes
 * (the last one takes what is left if the input ends early). A fake monotonic clock advances
 * 1 ms per datagram; linkrole_tick runs every 100 datagrams, and once more 30 s after the last
 * so that the loss and retirement timers fire. Nothing is written anywhere (out_fd = -1, no
 * state directory); the link role is freed at the end, so leaks show.
 *
 * Seeds: tests/fuzz/gen_linkrole_seeds.c.
 */
#include <sodium.h>
#include <stdbool.h> /* rx/linkrole.h uses bool without including it */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "common/log.h"
#include "rx/link/linkrole.h"
#include "tests/fuzz/sodium_memo.h"

static struct keys_rx rx_keys;
static uint8_t senders[1][32];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32], tx_sk[64];
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(seed, 'R', sizeof(seed));
	crypto_box_seed_keypair(rx_keys.dh_pk, rx_keys.dh_sk, seed);
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(senders[0], tx_sk, seed);
	log_set_level(LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linkrole_config c = {
		.link = NULL,
		.keys = &rx_keys,
		.senders = (const uint8_t (*)[32])senders,
		.nsenders = 1,
		.memory_limit = 64ull << 20,
		.object_limit = 1ull << 30,
		.out_fd = -1,
		.ev_fd = -1,
		.state_dir = NULL,
	};
	struct linkrole *l = NULL;
	if (linkrole_new(&l, &c) != 0)
		abort();
	uint64_t now = 1000000000000ull; /* 1000 s of uptime */
	size_t off = 0;
	unsigned n = 0;
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off)
			len = size - off;
		/* An exact-size copy: the link role may write into it, and ASan sees overruns. */
		uint8_t *pkt = malloc(len ? len : 1);
		if (!pkt)
			abort();
		memcpy(pkt, data + off, len);
		off += len;
		linkrole_packet(l, pkt, len, now);
		free(pkt);
		now += 1000000;
		if (++n % 100 == 0)
			linkrole_tick(l, now);
	}
	linkrole_tick(l, now + 30000000000ull);
	linkrole_free(l);
	return 0;
}
