/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/bufpool.h"

#include <stdlib.h>

#define ALIGN 64

struct pbuf {
	struct pbuf *next;
	size_t cap;
	unsigned char pad[ALIGN - sizeof(struct pbuf *) - sizeof(size_t)];
	uint8_t data[];
};

struct bufpool {
	struct pbuf *idle;
	size_t idle_bytes, max_bytes;
};

static struct pbuf *of(uint8_t *buf) { return (struct pbuf *)(void *)(buf - offsetof(struct pbuf, data)); }

struct bufpool *bufpool_new(size_t max_bytes)
{
	struct bufpool *p = calloc(1, sizeof(*p));
	if (p)
		p->max_bytes = max_bytes;
	return p;
}

uint8_t *bufpool_get(struct bufpool *p, size_t size)
{
	/* The first idle buffer that fits without wasting more than half again its request. */
	for (struct pbuf **pp = &p->idle; *pp; pp = &(*pp)->next) {
		struct pbuf *b = *pp;
		if (b->cap >= size && b->cap - size <= size / 2) {
			*pp = b->next;
			p->idle_bytes -= b->cap;
			return b->data;
		}
	}
	if (size > SIZE_MAX - sizeof(struct pbuf) - ALIGN)
		return NULL;
	size_t cap = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct pbuf *b = aligned_alloc(ALIGN, sizeof(*b) + cap);
	if (!b)
		return NULL;
	b->cap = cap;
	return b->data;
}

void bufpool_put(struct bufpool *p, uint8_t *buf)
{
	if (!buf)
		return;
	struct pbuf *b = of(buf);
	if (p->idle_bytes + b->cap > p->max_bytes) {
		free(b);
		return;
	}
	b->next = p->idle;
	p->idle = b;
	p->idle_bytes += b->cap;
}

size_t bufpool_idle(const struct bufpool *p) { return p->idle_bytes; }

void bufpool_free(struct bufpool *p)
{
	if (!p)
		return;
	while (p->idle) {
		struct pbuf *b = p->idle;
		p->idle = b->next;
		free(b);
	}
	free(p);
}
