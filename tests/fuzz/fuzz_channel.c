/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for common/channel.c's receiving side: a subverted peer process controls
 * every byte of the stream. Input:
 *
 *   +--------+-------------------------------+
 *   | chunk  | the stream (at most 60,000 B) |
 *   +--------+-------------------------------+
 *     chunk: the stream is written to a socketpair in pieces of 1 + chunk bytes, and read
 *     after each piece; max_body is 1024.
 *
 * Every message handed out must lie inside the input, have len <= max_body, and re-encode
 * (channel_queue) to exactly the bytes it came from; after the last piece and end of stream,
 * the bytes handed out and channel_truncated() must add up to the input, unless the channel
 * refused a header (-EBADMSG), which must then declare a body over max_body.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/channel.h"

#define MAX_BODY 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_channel: %s\n", what);
		abort();
	}
}

/* Hands out what is complete; returns -EBADMSG once a header is refused. */
static int drain(struct channel *rx, struct channel *enc, const uint8_t *s, size_t n, size_t *used)
{
	struct channel_msg m;
	int rc;
	while ((rc = channel_next(rx, &m)) == 1) {
		check(m.len <= MAX_BODY, "a body over max_body");
		check(*used + CHANNEL_HDR + m.len <= n, "a message beyond the input");
		const void *parts[1] = {m.body};
		size_t lens[1] = {m.len};
		check(channel_queue(enc, m.type, parts, lens, 1) == 0, "re-encoding failed");
		check(memcmp(enc->out + enc->out_off, s + *used, CHANNEL_HDR + m.len) == 0,
		      "a message re-encodes to other bytes");
		enc->out_off = enc->out_len = 0;
		*used += CHANNEL_HDR + m.len;
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 60001)
		return 0;
	size_t chunk = 1 + data[0];
	const uint8_t *s = data + 1;
	size_t n = size - 1;
	int sp[2];
	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair");
	int big = 1 << 20;
	(void)setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct channel rx, enc;
	check(channel_init(&rx, sp[1], MAX_BODY, 1 << 16) == 0, "channel_init");
	check(channel_init(&enc, sp[0], MAX_BODY, 1 << 16) == 0, "channel_init");
	size_t used = 0, off = 0;
	int rc = 0;
	while (off < n && rc == 0) {
		size_t k = n - off < chunk ? n - off : chunk;
		check(write(sp[0], s + off, k) == (ssize_t)k, "write");
		off += k;
		ssize_t r = channel_read(&rx);
		check(r == (ssize_t)k, "a read returned other than what was written");
		rc = drain(&rx, &enc, s, n, &used);
	}
	close(sp[0]);
	if (rc == 0) {
		check(channel_read(&rx) == 0, "no end of stream");
		rc = drain(&rx, &enc, s, n, &used);
	}
	if (rc == 0) {
		check(used + channel_truncated(&rx) == n, "bytes lost between messages");
		check(channel_truncated(&rx) < CHANNEL_HDR ||
		      channel_get32(s + used + 4) <= MAX_BODY, "a bad header left unreported");
	} else {
		check(rc == -EBADMSG, "an error other than -EBADMSG");
		check(used + CHANNEL_HDR <= n && channel_get32(s + used + 4) > MAX_BODY,
		      "a header refused that declares a body within max_body");
		struct channel_msg m;
		check(channel_next(&rx, &m) == -EBADMSG, "a refused channel handed out more");
	}
	channel_free(&rx);
	channel_free(&enc);
	close(sp[1]);
	return 0;
}
