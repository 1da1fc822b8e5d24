/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the chain of custody of event batches (common/evchain.h) costs per batch, one core: tx
 * building a batch of N events of 100 bytes with and without its signed chain record (SHA-256
 * of the batch, one Ed25519 signature), and rx decoding it and verifying the record.
 * CPU time of this thread. Prints one line per N.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/evbatch.h"

#define ROUNDS 5000

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: the machine may be shared */
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int build(unsigned n, unsigned r, const uint8_t *sk, uint8_t prev[32], uint8_t **o, long *len)
{
	static const char ev[100] = {'x'};
	struct evbatch_builder b;
	if (evbatch_begin(&b, "vms", 1, 0) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (evbatch_add(&b, (uint64_t)r * n + i, 0, ev, sizeof(ev)) != 0)
			return -1;
	if (sk) {
		evbatch_chain(&b, r + 1u, 0, prev, sk);
		*len = evbatch_finish(&b, 0, o);
		memcpy(prev, b.record_hash, 32);
	} else { /* the unsigned batch as it was: the raw bytes copied out */
		*o = malloc(b.len);
		if (*o)
			memcpy(*o, b.raw, b.len);
		*len = *o ? (long)b.len : -1;
	}
	evbatch_free(&b);
	return *len > 0 ? 0 : -1;
}

int main(void)
{
	uint8_t pk[32], sk[64], prev[32] = {0};
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	static const unsigned counts[] = {1, 20, 100};
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned n = counts[c];
		uint8_t *o = NULL;
		long len = 0;
		double t0 = now_s();
		for (unsigned r = 0; r < ROUNDS; r++) {
			if (build(n, r, sk, prev, &o, &len) != 0)
				return 1;
			free(o);
		}
		double signed_us = (now_s() - t0) / ROUNDS * 1e6;
		t0 = now_s();
		for (unsigned r = 0; r < ROUNDS; r++) {
			if (build(n, r, NULL, prev, &o, &len) != 0)
				return 1;
			free(o);
		}
		double plain_us = (now_s() - t0) / ROUNDS * 1e6;
		if (build(n, 0, sk, prev, &o, &len) != 0)
			return 1;
		t0 = now_s();
		for (unsigned r = 0; r < ROUNDS; r++) {
			struct evbatch d;
			const char *why = NULL;
			if (evbatch_decode(o, (size_t)len, &d, &why) != 0 ||
			    evchain_verify(d.record, d.record_len, pk) != 0)
				return 1;
			evbatch_release(&d);
		}
		double verify_us = (now_s() - t0) / ROUNDS * 1e6;
		free(o);
		printf("%3u events x 100 B: tx build + sign %.1f us/batch (unsigned %.1f us); rx decode + "
		       "verify %.1f us/batch\n", n, signed_us, plain_us, verify_us);
	}
	return 0;
}
