/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for rx/msg.c, the decoder of what the link role sends the deliver role: a
 * subverted link role controls every byte of it. The input is an 8-byte header and a body;
 * the header is decoded, and the body is decoded as the header's type and as every other
 * type too. Whatever decodes must re-encode to the same bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rx/msg.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_msg: %s\n", what);
		abort();
	}
}

/* Re-encode m and compare with the body it was decoded from, and with hdr if given. */
static void reencode(const struct msg *m, enum msg_type type, const uint8_t *hdr,
		     const uint8_t *body, size_t len)
{
	check(msg_encoded_len(m) == MSG_HDR_LEN + len, "msg_encoded_len differs from the body");
	uint8_t *out = malloc(MSG_HDR_LEN + len);
	check(out != NULL, "out of memory");
	int n = msg_encode(m, out, MSG_HDR_LEN + len);
	check(n == (int)(MSG_HDR_LEN + len), "a decoded message does not encode");
	enum msg_type t;
	uint32_t l;
	check(msg_header_decode(out, &t, &l) == 0, "an encoded header does not decode");
	check(t == type && l == len, "the encoded header differs");
	check(memcmp(out + MSG_HDR_LEN, body, len) == 0, "the body does not re-encode");
	if (hdr)
		check(memcmp(out, hdr, MSG_HDR_LEN) == 0, "the header does not re-encode");
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < MSG_HDR_LEN)
		return 0;
	const uint8_t *body = data + MSG_HDR_LEN;
	size_t len = size - MSG_HDR_LEN;
	enum msg_type type;
	uint32_t hlen;
	struct msg m;
	if (msg_header_decode(data, &type, &hlen) == 0) {
		check(type > MSG_INVALID && type <= MSG_TYPE_MAX && hlen <= MSG_BODY_MAX,
		      "header accepted out of range");
		/* The deliver role reads exactly hlen bytes; the input may hold fewer or more. */
		size_t blen = hlen < len ? hlen : len;
		if (msg_body_decode(type, body, blen, &m) == 0) {
			check(m.type == type, "decoded type differs");
			reencode(&m, type, blen == hlen ? data : NULL, body, blen);
		}
	}
	for (uint32_t t = 0; t <= MSG_TYPE_MAX + 1; t++) {
		int rc = msg_body_decode((enum msg_type)t, body, len, &m);
		check(rc == 0 || rc == -EBADMSG, "unexpected return value");
		if (rc == 0) {
			check(t > MSG_INVALID && t <= MSG_TYPE_MAX, "body of an unknown type accepted");
			if (m.data_len)
				check(m.data >= body && m.data + m.data_len == body + len,
				      "data does not point at the end of the body");
			reencode(&m, (enum msg_type)t, NULL, body, len);
		}
	}
	return 0;
}
