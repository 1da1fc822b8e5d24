/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A message channel between two of Sluice's processes over a unix stream socket, in the
 * manner of OpenBSD's imsg. Every message is a header and a body, little-endian:
 *
 *    0                   1                   2                   3
 *   +-------+-------+-------+-------+-------+-------+-------+-------+------------------+
 *   |         type (u32)            |      body length (u32)        |  body ...        |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+------------------+
 *
 * Sending: channel_queue appends whole messages to a write buffer of at most out_max bytes
 * (a message that does not fit is refused whole: -ENOBUFS, nothing queued); channel_flush
 * writes what it can and keeps the rest, so a non-blocking socket that takes part of a
 * message (or nothing: EAGAIN) loses nothing. channel_send_fd sends one message with a
 * descriptor attached (SCM_RIGHTS) and needs an empty write buffer.
 *
 * Receiving: channel_read takes what the socket has into a buffer that holds one largest
 * message; channel_next hands out complete messages, each exactly its declared length. A
 * header declaring a body over max_body is -EBADMSG and the channel is dead from then on:
 * the caller treats it (as it treats a type it does not know) as a compromise of the peer.
 * Descriptors that arrive are queued (at most CHANNEL_FDS_MAX) for channel_take_fd; more is
 * -EBADMSG too. Bytes left at end of stream that do not make a whole message are reported by
 * channel_truncated.
 */
#ifndef SLUICE_CHANNEL_H
#define SLUICE_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHANNEL_HDR 8
#define CHANNEL_FDS_MAX 4

struct channel {
	int fd;
	uint32_t max_body;
	bool dead; /* a malformed header was read: nothing more is handed out */
	uint8_t *out;
	size_t out_off, out_len, out_max; /* unsent bytes are out[out_off, out_len) */
	uint8_t *in;
	size_t in_off, in_len, in_cap;    /* unread bytes are in[in_off, in_len) */
	int fds[CHANNEL_FDS_MAX];
	unsigned nfds;
};

struct channel_msg {
	uint32_t type;
	uint32_t len;
	const uint8_t *body; /* valid until the next channel_read */
};

/* fd: a connected unix stream socket (blocking or not), still owned by the caller. max_body:
 * the largest body either side may send; out_max: the write buffer's bound in bytes (at least
 * one largest message). 0 or -ENOMEM/-EINVAL. */
int channel_init(struct channel *ch, int fd, uint32_t max_body, size_t out_max)
	__attribute__((warn_unused_result));
/* Frees the buffers and closes queued descriptors; the socket stays open. */
void channel_free(struct channel *ch);

/* Append one message whose body is the concatenation of the n parts. 0, -EMSGSIZE (body over
 * max_body) or -ENOBUFS (the write buffer would exceed out_max); on error nothing is queued. */
int channel_queue(struct channel *ch, uint32_t type, const void *const *parts,
		  const size_t *lens, unsigned n) __attribute__((warn_unused_result));
/* Write buffered bytes: 0 when none remain, -EAGAIN when some do (wait for POLLOUT), or
 * -errno (-EPIPE: the peer is gone). Never raises SIGPIPE. */
int channel_flush(struct channel *ch) __attribute__((warn_unused_result));
/* Bytes queued and not yet written. */
size_t channel_pending(const struct channel *ch);
/* Send one message with descriptor fd attached; the write buffer must be empty (-EBUSY).
 * What the socket does not take at once is buffered as by channel_queue. 0, -EAGAIN (nothing
 * sent), or -errno. */
int channel_send_fd(struct channel *ch, uint32_t type, const void *body, size_t len, int fd)
	__attribute__((warn_unused_result));

/* Read what the socket has: bytes read (> 0), 0 at end of stream, -EAGAIN, -EBADMSG (too
 * many descriptors, or truncated ancillary data), or -errno. */
ssize_t channel_read(struct channel *ch) __attribute__((warn_unused_result));
/* The next complete message: 1 (*m filled), 0 when none is complete yet, -EBADMSG when the
 * next header declares a body over max_body. */
int channel_next(struct channel *ch, struct channel_msg *m) __attribute__((warn_unused_result));
/* The oldest descriptor received and not yet taken (the caller owns it), or -1. */
int channel_take_fd(struct channel *ch);
/* Bytes read that do not (yet) make a whole message: at end of stream, a truncated one. */
size_t channel_truncated(const struct channel *ch);

/* Little-endian helpers for bodies. */
static inline void channel_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static inline void channel_put64(uint8_t *p, uint64_t v)
{
	channel_put32(p, (uint32_t)v);
	channel_put32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t channel_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t channel_get64(const uint8_t *p)
{
	return (uint64_t)channel_get32(p) | (uint64_t)channel_get32(p + 4) << 32;
}

#endif
