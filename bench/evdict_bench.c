/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Does a zstd dictionary pay for event batches? Typical events (ONVIF-style JSON motion and
 * analytics events, RFC 5424 syslog lines) are batched as the sender batches them (1, 5, 20
 * and 100 events: 1 ms of traffic at 1k to 100k events/s) and encoded raw, with zstd, and with
 * zstd and a dictionary trained (ZDICT) on 10,000 other events of the same kinds. What
 * counts is the wire: a batch that fits one symbol goes out 16 times in a symbol fitted to its
 * length, a larger one as K full symbols plus K + 6 repair; the table shows bytes per batch,
 * raw and on the wire, for 1408-byte symbols.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "common/evbatch.h"
#include "common/wire.h"

#define T 1408
#define TRAIN 10000
#define DICT_CAP (16 * 1024)

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int event(char *buf, size_t cap, unsigned i)
{
	static const char *const kinds[] = {"motion", "line_crossing", "tamper", "intrusion", "face"};
	static const char *const hosts[] = {"nvr-01", "nvr-02", "cam-gate", "cam-dock-3", "vms"};
	if (i % 3 == 2)
		return snprintf(buf, cap,
				"<%u>1 2026-11-23T10:%02u:%02u.%03uZ %s sluice-vms %u - - camera %u: %s "
				"event, zone %u, confidence %u%%",
				8 + rnd(16), rnd(60), rnd(60), rnd(1000), hosts[rnd(5)], 1000 + rnd(9000),
				rnd(400), kinds[rnd(5)], rnd(8), rnd(100));
	return snprintf(buf, cap,
			"{\"time\":\"2026-11-23T10:%02u:%02u.%03uZ\",\"source\":\"cam-%03u\",\"type\":\"%s\","
			"\"state\":%s,\"zone\":%u,\"score\":%u,\"box\":[%u,%u,%u,%u],\"seq\":%u}",
			rnd(60), rnd(60), rnd(1000), rnd(400), kinds[rnd(5)], rnd(2) ? "true" : "false",
			rnd(8), rnd(100), rnd(1920), rnd(1080), rnd(400), rnd(400), i);
}

/* Bytes on the wire for a batch object of `bytes`, as tx/sender/small.c sends it: one fitted
 * symbol and 15 repair copies when it fits a symbol, else K full symbols and K + 6 repair. */
static double wire(size_t bytes)
{
	if (bytes <= T) {
		size_t t = (bytes + 15) & ~(size_t)15;
		return 16.0 * (double)(WIRE_DATA_OVERHEAD + (t < WIRE_SYMBOL_MIN ? WIRE_SYMBOL_MIN : t));
	}
	size_t k = (bytes + T - 1) / T;
	return (double)(k + k + 6) * (WIRE_DATA_OVERHEAD + T);
}

int main(void)
{
	/* Train. */
	char *samples = malloc((size_t)TRAIN * 512);
	size_t *sizes = malloc(TRAIN * sizeof(*sizes)), off = 0;
	for (unsigned i = 0; i < TRAIN; i++) {
		sizes[i] = (size_t)event(samples + off, 512, i);
		off += sizes[i];
	}
	void *dict = malloc(DICT_CAP);
	size_t dlen = ZDICT_trainFromBuffer(dict, DICT_CAP, samples, sizes, TRAIN);
	if (ZDICT_isError(dlen)) {
		fprintf(stderr, "dictionary training failed: %s\n", ZDICT_getErrorName(dlen));
		return 1;
	}
	ZSTD_CDict *cd = ZSTD_createCDict(dict, dlen, 3);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	printf("dictionary: %zu bytes trained on %u events; zstd level 3; %u-byte symbols\n", dlen, TRAIN, T);
	printf("%-8s %8s %8s %8s | on the wire B: %7s %7s %7s %9s\n", "events", "raw", "zstd", "dict",
	       "raw", "zstd", "dict", "dict gain");
	static const unsigned counts[] = {1, 5, 20, 100};
	for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned n = counts[c], rounds = 2000 / n + 20;
		double raw = 0, z = 0, zd = 0, wraw = 0, wz = 0, wzd = 0;
		for (unsigned r = 0; r < rounds; r++) {
			struct evbatch_builder b;
			if (evbatch_begin(&b, "vms", 1, 0) != 0)
				return 1;
			for (unsigned i = 0; i < n; i++) {
				char ev[512];
				int l = event(ev, sizeof(ev), 1000000 + r * n + i);
				if (evbatch_add(&b, r * n + i, 0, ev, (uint32_t)l) != 0)
					return 1;
			}
			size_t cap = ZSTD_compressBound(b.len);
			uint8_t *o = malloc(cap);
			size_t zl = ZSTD_compress(o, cap, b.raw, b.len, 3);
			size_t dl = ZSTD_compress_usingCDict(cc, o, cap, b.raw, b.len, cd);
			raw += (double)b.len, z += (double)zl, zd += (double)dl;
			wraw += wire(b.len + 5), wz += wire(zl + 5), wzd += wire(dl + 5);
			free(o);
			evbatch_free(&b);
		}
		printf("%-8u %8.0f %8.0f %8.0f | %22.0f %7.0f %7.0f %8.0f%%\n", n, raw / rounds, z / rounds,
		       zd / rounds, wraw / rounds, wz / rounds, wzd / rounds, 100.0 * (wz - wzd) / wz);
	}
	ZSTD_freeCDict(cd);
	ZSTD_freeCCtx(cc);
	free(dict);
	free(samples);
	free(sizes);
	return 0;
}
