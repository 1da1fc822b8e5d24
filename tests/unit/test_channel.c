/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/channel.{h,c} over real unix stream socketpairs: messages round-trip byte for byte;
 * a sender with a tiny SO_SNDBUF on a non-blocking socket gets EAGAIN mid-message and loses
 * nothing; a reader fed one byte at a time hands out each message only when whole; the body
 * length limit holds on both sides; a truncated stream and a garbage header are reported;
 * the write buffer's bound refuses whole messages; a descriptor travels with its message;
 * a closed peer is -EPIPE, not SIGPIPE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/channel.h"

#define MAX_BODY 4096

static int sp[2];

static int setup(void **st)
{
	(void)st;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
}

static int teardown(void **st)
{
	(void)st;
	close(sp[0]);
	close(sp[1]);
	return 0;
}

static void nonblock(int fd) { assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0); }

/* Body of message i: its index and a pattern, length 1 + i * 37 % MAX_BODY (one empty). */
static size_t body_of(unsigned i, uint8_t *b)
{
	size_t len = i == 3 ? 0 : 1 + (size_t)i * 37 % (MAX_BODY - 1);
	for (size_t k = 0; k < len; k++)
		b[k] = (uint8_t)(i * 131 + k * 7);
	return len;
}

static int queue1(struct channel *ch, uint32_t type, const void *b, size_t len)
{
	const void *parts[1] = {b};
	size_t lens[1] = {len};
	return channel_queue(ch, type, parts, lens, 1);
}

/* Reads every complete message available on rx into the check: message i has type 100 + i. */
static void expect_messages(struct channel *rx, unsigned *next)
{
	struct channel_msg m;
	uint8_t want[MAX_BODY];
	int rc;
	while ((rc = channel_next(rx, &m)) == 1) {
		size_t len = body_of(*next, want);
		assert_int_equal(m.type, 100 + *next);
		assert_int_equal(m.len, len);
		assert_memory_equal(m.body, want, len);
		(*next)++;
	}
	assert_int_equal(rc, 0);
}

static void test_roundtrip_parts(void **st)
{
	(void)st;
	struct channel tx, rx;
	assert_int_equal(channel_init(&tx, sp[0], MAX_BODY, 1 << 16), 0);
	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	const void *parts[3] = {"ab", "", "cde"};
	size_t lens[3] = {2, 0, 3};
	assert_int_equal(channel_queue(&tx, 7, parts, lens, 3), 0);
	assert_int_equal(channel_pending(&tx), CHANNEL_HDR + 5);
	assert_int_equal(channel_flush(&tx), 0);
	assert_int_equal(channel_pending(&tx), 0);
	/* the wire bytes: type and length little-endian, then the body */
	uint8_t raw[13];
	assert_int_equal(recv(sp[1], raw, sizeof(raw), MSG_PEEK), 13);
	const uint8_t want[13] = {7, 0, 0, 0, 5, 0, 0, 0, 'a', 'b', 'c', 'd', 'e'};
	assert_memory_equal(raw, want, 13);
	assert_int_equal(channel_read(&rx), 13);
	struct channel_msg m;
	assert_int_equal(channel_next(&rx, &m), 1);
	assert_int_equal(m.type, 7);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.body, "abcde", 5);
	assert_int_equal(channel_next(&rx, &m), 0);
	assert_int_equal(channel_truncated(&rx), 0);
	channel_free(&tx);
	channel_free(&rx);
}

/* A 1-byte-ish send buffer: flush stops mid-message with EAGAIN; everything still arrives. */
static void test_partial_writes(void **st)
{
	(void)st;
	int small = 1; /* the kernel rounds it up to its minimum (a few KiB) */
	assert_int_equal(setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	nonblock(sp[0]);
	nonblock(sp[1]);
	struct channel tx, rx;
	const unsigned n = 300;
	assert_int_equal(channel_init(&tx, sp[0], MAX_BODY, (size_t)n * (MAX_BODY + CHANNEL_HDR)), 0);
	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	uint8_t b[MAX_BODY];
	size_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = body_of(i, b);
		assert_int_equal(queue1(&tx, 100 + i, b, len), 0);
		total += CHANNEL_HDR + len;
	}
	assert_int_equal(channel_pending(&tx), total);
	unsigned next = 0, eagain = 0, mid = 0;
	for (int round = 0; round < 100000 && next < n; round++) {
		int rc = channel_flush(&tx);
		if (rc == -EAGAIN) {
			eagain++;
			/* stopped inside a message: what is left is not a whole number of them */
			size_t left = channel_pending(&tx), acc = 0;
			for (unsigned i = n; i-- > 0 && acc < left;)
				acc += CHANNEL_HDR + body_of(i, b);
			if (acc != left)
				mid++;
		} else {
			assert_int_equal(rc, 0);
		}
		ssize_t r = channel_read(&rx);
		assert_true(r > 0 || r == -EAGAIN);
		expect_messages(&rx, &next);
	}
	assert_int_equal(next, n);
	assert_int_equal(channel_pending(&tx), 0);
	assert_true(eagain > 0);
	assert_true(mid > 0);
	channel_free(&tx);
	channel_free(&rx);
}

/* The reader gets the stream one byte at a time: each message appears only when whole. */
static void test_split_reads(void **st)
{
	(void)st;
	struct channel tx, rx;
	const unsigned n = 12;
	assert_int_equal(channel_init(&tx, sp[0], MAX_BODY, 1 << 20), 0);
	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	uint8_t b[MAX_BODY];
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(queue1(&tx, 100 + i, b, body_of(i, b)), 0);
	/* take the encoded stream out of the sender's buffer and feed it byte by byte */
	size_t len = channel_pending(&tx);
	uint8_t *wire = malloc(len);
	assert_non_null(wire);
	memcpy(wire, tx.out + tx.out_off, len);
	unsigned next = 0;
	size_t ends = 0, k = 0;
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(write(sp[0], wire + i, 1), 1);
		assert_int_equal(channel_read(&rx), 1);
		unsigned before = next;
		expect_messages(&rx, &next);
		/* the byte that completes message k is the last one of it */
		if (k < n && i + 1 == ends + CHANNEL_HDR + body_of(k, b)) {
			assert_int_equal(next, before + 1);
			ends = i + 1;
			k++;
		} else {
			assert_int_equal(next, before);
		}
	}
	assert_int_equal(next, n);
	free(wire);
	channel_free(&tx);
	channel_free(&rx);
}

static void test_max_length(void **st)
{
	(void)st;
	struct channel tx, rx;
	assert_int_equal(channel_init(&tx, sp[0], MAX_BODY, 4 * (MAX_BODY + CHANNEL_HDR)), 0);
	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	uint8_t *b = calloc(1, MAX_BODY + 1);
	assert_non_null(b);
	assert_int_equal(queue1(&tx, 1, b, MAX_BODY + 1), -EMSGSIZE);
	assert_int_equal(channel_pending(&tx), 0);
	memset(b, 0x5a, MAX_BODY);
	assert_int_equal(queue1(&tx, 1, b, MAX_BODY), 0);
	assert_int_equal(channel_flush(&tx), 0);
	struct channel_msg m;
	for (int i = 0; i < 100 && channel_next(&rx, &m) == 0; i++)
		assert_true(channel_read(&rx) > 0);
	assert_int_equal(m.len, MAX_BODY);
	assert_memory_equal(m.body, b, MAX_BODY);
	/* a peer that declares one byte more is refused, and the channel stays refused */
	uint8_t hdr[CHANNEL_HDR];
	channel_put32(hdr, 1);
	channel_put32(hdr + 4, MAX_BODY + 1);
	assert_int_equal(write(sp[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(write(sp[0], b, 16), 16);
	assert_int_equal(channel_read(&rx), CHANNEL_HDR + 16);
	assert_int_equal(channel_next(&rx, &m), -EBADMSG);
	assert_int_equal(channel_next(&rx, &m), -EBADMSG);
	free(b);
	channel_free(&tx);
	channel_free(&rx);
}

/* The write buffer's bound refuses whole messages: what was queued stays intact. */
static void test_out_bound(void **st)
{
	(void)st;
	struct channel tx, rx;
	assert_int_equal(channel_init(&tx, sp[0], 100, 3 * (100 + CHANNEL_HDR)), 0);
	assert_int_equal(channel_init(&rx, sp[1], 100, 1 << 16), 0);
	uint8_t b[100];
	memset(b, 1, sizeof(b));
	for (int i = 0; i < 3; i++)
		assert_int_equal(queue1(&tx, 9, b, 100), 0);
	assert_int_equal(queue1(&tx, 9, b, 1), -ENOBUFS);
	assert_int_equal(channel_pending(&tx), 3 * 108);
	assert_int_equal(channel_flush(&tx), 0);
	assert_int_equal(queue1(&tx, 9, b, 1), 0);
	channel_free(&tx);
	channel_free(&rx);
}

static void test_truncated_stream(void **st)
{
	(void)st;
	struct channel rx;
	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	uint8_t raw[CHANNEL_HDR + 10];
	channel_put32(raw, 5);
	channel_put32(raw + 4, 20); /* 20 bytes promised, 10 sent */
	memset(raw + CHANNEL_HDR, 'x', 10);
	assert_int_equal(write(sp[0], raw, sizeof(raw)), (ssize_t)sizeof(raw));
	close(sp[0]);
	sp[0] = -1;
	assert_int_equal(channel_read(&rx), (ssize_t)sizeof(raw));
	struct channel_msg m;
	assert_int_equal(channel_next(&rx, &m), 0);
	assert_int_equal(channel_read(&rx), 0);
	assert_int_equal(channel_next(&rx, &m), 0);
	assert_int_equal(channel_truncated(&rx), sizeof(raw));
	channel_free(&rx);
}

/* Bytes that are not a channel stream: a length far over the maximum. The type is the
 * caller's to judge: a well-formed header of an unknown type is handed out as it is. */
static void test_garbage_header(void **st)
{
	(void)st;
	struct channel rx;
	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	const char junk[] = "GET /metrics HTTP/1.1\r\n\r\n";
	assert_int_equal(write(sp[0], junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	assert_true(channel_read(&rx) > 0);
	struct channel_msg m;
	assert_int_equal(channel_next(&rx, &m), -EBADMSG);
	channel_free(&rx);

	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	uint8_t hdr[CHANNEL_HDR + 2] = {0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 'o', 'k'};
	assert_int_equal(write(sp[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_true(channel_read(&rx) > 0);
	assert_int_equal(channel_next(&rx, &m), 1);
	assert_int_equal(m.type, 0xffffffffu);
	assert_int_equal(m.len, 2);
	channel_free(&rx);
}

static void test_fd_passing(void **st)
{
	(void)st;
	struct channel tx, rx;
	assert_int_equal(channel_init(&tx, sp[0], MAX_BODY, 1 << 16), 0);
	assert_int_equal(channel_init(&rx, sp[1], MAX_BODY, 1 << 16), 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(queue1(&tx, 1, "x", 1), 0);
	assert_int_equal(channel_send_fd(&tx, 2, "fd", 2, p[0]), -EBUSY);
	assert_int_equal(channel_flush(&tx), 0);
	assert_int_equal(channel_send_fd(&tx, 2, "fd", 2, p[0]), 0);
	close(p[0]);
	struct channel_msg m;
	assert_true(channel_read(&rx) > 0);
	assert_int_equal(channel_next(&rx, &m), 1);
	assert_int_equal(m.type, 1);
	for (int i = 0; i < 100 && channel_next(&rx, &m) == 0; i++)
		assert_true(channel_read(&rx) > 0);
	assert_int_equal(m.type, 2);
	assert_memory_equal(m.body, "fd", 2);
	int got = channel_take_fd(&rx);
	assert_true(got >= 0);
	assert_int_equal(channel_take_fd(&rx), -1);
	assert_int_equal(write(p[1], "hello", 5), 5);
	char buf[8];
	assert_int_equal(read(got, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	close(got);
	close(p[1]);
	channel_free(&tx);
	channel_free(&rx);
}

static void test_peer_gone(void **st)
{
	(void)st;
	struct channel tx;
	assert_int_equal(channel_init(&tx, sp[0], MAX_BODY, 1 << 16), 0);
	close(sp[1]);
	sp[1] = -1;
	assert_int_equal(queue1(&tx, 1, "x", 1), 0);
	assert_int_equal(channel_flush(&tx), -EPIPE); /* a SIGPIPE would have ended the test */
	channel_free(&tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_passing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_gone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
