/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block ring: one region of shared memory through which the link role hands rebuilt file
 * blocks to the deliver role, instead of pushing every byte through the socketpair (a copy
 * into socket buffers, a copy out, and the kernel's buffer bookkeeping on the receiver's
 * busiest path). Single producer (link role), single consumer (deliver role), in order:
 *
 *   positions grow without bound (u64); byte p lives at data[p % size]
 *
 *         tail (deliver: released)         head (link: written)
 *           v                                v
 *   ... ----+================================+-------------------- ...
 *           | copied out or still to copy    | free: size - (head - tail)
 *
 * A block never wraps: when it does not fit before the end of the region, the producer skips
 * to the start. The link role puts a block, then sends a BLOCK_REF message (rx/msg.h) naming
 * its position and length; the deliver role checks the reference against the ring (it lies
 * between tail and head and does not wrap), copies the bytes into its own memory before
 * looking at them, and releases them. The ring is MAP_SHARED and made before the processes are
 * forked (rx/monitor/monitor.h): the link process may change the bytes under the deliver
 * process at any time, which the copy and the content hash checked on the copy take care of.
 * A new link process goes on from the shared head.
 * When the ring is full the link role sends the block inline, as before: the ring only saves
 * work, it never holds a block back.
 */
#ifndef SLUICE_RX_RING_H
#define SLUICE_RX_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring;

/* A ring of size bytes (rounded up to whole pages), its memory touched now rather than on
 * the data path. 0, -EINVAL (size 0 or above RING_MAX), or -ENOMEM. */
#define RING_MAX ((size_t)1 << 30)
int ring_new(struct ring **out, size_t size) __attribute__((warn_unused_result));
size_t ring_size(const struct ring *r);

/* Producer. Copies len bytes in: 0 and *pos, or -ENOSPC (no room now, or len > size). */
int ring_put(struct ring *r, const uint8_t *data, size_t len, uint64_t *pos)
	__attribute__((warn_unused_result));

/* Consumer. The len bytes at pos, or NULL when the reference is not one the producer made
 * and the consumer still holds: before tail, beyond head, or wrapping. */
const uint8_t *ring_at(const struct ring *r, uint64_t pos, size_t len);
/* Everything before end is copied out: the producer may reuse it. Never moves backwards. */
void ring_release(struct ring *r, uint64_t end);

void ring_free(struct ring *r);

#endif
