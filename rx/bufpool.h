/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recycled block buffers for the link role. Every block of a file needs (K + M) * T bytes for
 * a few milliseconds; given back to malloc, that memory returns to the kernel and comes back
 * as fresh pages, each first touch a page fault and a page of zeroing (under a hypervisor that
 * takes free pages back, a host fault too). The pool keeps given-back buffers, up to a byte
 * bound, and hands them out again for requests of about the same size.
 */
#ifndef SLUICE_RX_BUFPOOL_H
#define SLUICE_RX_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

struct bufpool;

/* A pool that keeps at most max_bytes of idle buffers. NULL when out of memory. */
struct bufpool *bufpool_new(size_t max_bytes);
/* A buffer of at least size bytes (64-byte aligned), recycled or new; NULL when out of memory. */
uint8_t *bufpool_get(struct bufpool *p, size_t size);
/* Gives buf (from bufpool_get, or NULL) back; it is kept or freed. */
void bufpool_put(struct bufpool *p, uint8_t *buf);
/* Bytes held idle now. */
size_t bufpool_idle(const struct bufpool *p);
void bufpool_free(struct bufpool *p);

#endif
