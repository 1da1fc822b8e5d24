/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the event-batch decoder (zstd capped at EVBATCH_RAW_MAX: bombs refused) and
 * its chain record (common/evchain.h; the signature is checked, and fails, with a key of the
 * harness). Whatever decodes must re-encode, raw and signed with that key, to a batch that
 * decodes to the same events and chain fields, and whose record verifies. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/evbatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[64];
	if (!pk[31] && !pk[0]) {
		uint8_t seed[32] = {7};
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(pk, sk, seed);
	}
	struct evbatch b;
	const char *why = NULL;
	if (evbatch_decode(data, size, &b, &why) != 0)
		return 0;
	if (b.count == 0 || b.record < b.raw)
		abort();
	(void)evchain_verify(b.record, b.record_len, pk); /* a record from the input: any answer */
	struct evbatch_builder w;
	if (evbatch_begin(&w, b.source, b.stream, b.after) == 0) {
		for (uint32_t i = 0; i < b.count; i++)
			if (evbatch_add(&w, b.ev[i].seq, b.ev[i].tx_time_ns, b.ev[i].data, b.ev[i].len) != 0)
				abort();
		uint8_t *obj = NULL;
		evbatch_chain(&w, b.chain.batch, b.chain.flags, b.chain.prev, sk);
		long n = evbatch_finish(&w, 0, &obj);
		struct evbatch again;
		if (n < 0 || evbatch_decode(obj, (size_t)n, &again, &why) != 0 || again.count != b.count ||
		    again.stream != b.stream || again.after != b.after ||
		    again.chain.batch != b.chain.batch || again.chain.flags != b.chain.flags ||
		    again.chain.first != b.chain.first || again.chain.last != b.chain.last ||
		    memcmp(again.chain.prev, b.chain.prev, 32) != 0 ||
		    evchain_verify(again.record, again.record_len, pk) != 0)
			abort();
		for (uint32_t i = 0; i < b.count; i++)
			if (again.ev[i].seq != b.ev[i].seq || again.ev[i].len != b.ev[i].len ||
			    memcmp(again.ev[i].data, b.ev[i].data, b.ev[i].len) != 0)
				abort();
		evbatch_release(&again);
		free(obj);
		evbatch_free(&w);
	}
	evbatch_release(&b);
	return 0;
}
