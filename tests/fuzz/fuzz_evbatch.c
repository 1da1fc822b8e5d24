/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the event-batch decoder (zstd capped at EVBATCH_RAW_MAX: bombs refused).
 * Whatever decodes must re-encode, raw, to a batch that decodes to the same events. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/evbatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbatch b;
	const char *why = NULL;
	if (evbatch_decode(data, size, &b, &why) != 0)
		return 0;
	struct evbatch_builder w;
	if (evbatch_begin(&w, b.source, b.stream, b.after) == 0) {
		for (uint32_t i = 0; i < b.count; i++)
			if (evbatch_add(&w, b.ev[i].seq, b.ev[i].tx_time_ns, b.ev[i].data, b.ev[i].len) != 0)
				abort();
		uint8_t *obj = NULL;
		long n = evbatch_finish(&w, 0, &obj);
		struct evbatch again;
		if (n < 0 || evbatch_decode(obj, (size_t)n, &again, &why) != 0 || again.count != b.count ||
		    again.stream != b.stream || again.after != b.after)
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
