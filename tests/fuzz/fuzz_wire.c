/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for common/wire.c, the only code that turns link bytes into structs.
 * Every decoder runs on every input; whatever decodes must re-encode to the very bytes it came
 * from (a decoder that ignores a byte, or an encoder that disagrees with it, aborts), and a
 * decoder must agree with wire_peek on the type.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_wire: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t session = 0;
	int type = wire_peek(data, size, &session);
	check(type == WIRE_TYPE_ANNOUNCE || type == WIRE_TYPE_DATA ||
		      (type < 0 && type >= WIRE_EFIELD), "wire_peek: unexpected return value");

	struct wire_data_hdr h;
	int rc = wire_data_decode(data, size, &h);
	check(rc <= 0 && rc >= WIRE_EFIELD, "wire_data_decode: unexpected return value");
	if (rc == 0) {
		check(type == WIRE_TYPE_DATA, "DATA decoded but wire_peek disagrees");
		check(h.session == session, "DATA session differs from wire_peek's");
		check(size == (size_t)WIRE_DATA_OVERHEAD + h.symbol_size, "DATA length is not 64 + T");
		check(h.k >= 1 && (unsigned)h.k + h.m <= 255 && h.esi < (unsigned)h.k + h.m &&
			      h.symbol_size >= WIRE_SYMBOL_MIN && h.kind >= 1 && h.kind <= WIRE_KIND_MAX,
		      "DATA accepted with a field out of range");
		uint8_t out[WIRE_DATA_HDR_LEN];
		wire_data_hdr_encode(out, &h);
		check(memcmp(out, data, WIRE_DATA_HDR_LEN) == 0, "DATA header does not re-encode");
	}

	struct wire_announce a;
	rc = wire_announce_decode(data, size, &a);
	check(rc <= 0 && rc >= WIRE_EFIELD, "wire_announce_decode: unexpected return value");
	if (rc == 0) {
		check(type == WIRE_TYPE_ANNOUNCE, "ANNOUNCE decoded but wire_peek disagrees");
		check(a.session == session, "ANNOUNCE session differs from wire_peek's");
		check(size == WIRE_ANNOUNCE_LEN, "ANNOUNCE length is not WIRE_ANNOUNCE_LEN");
		check(a.done_object_id <= a.next_object_id && a.block_max >= 1 && a.block_max <= 254,
		      "ANNOUNCE accepted with a field out of range");
		uint8_t out[WIRE_ANNOUNCE_LEN];
		wire_announce_encode(out, &a);
		check(memcmp(out, data, WIRE_ANNOUNCE_LEN) == 0, "ANNOUNCE does not re-encode");
	}
	(void)wire_strerror(rc);
	return 0;
}
