/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The shared part: each index on a cache line of its own, written by one side only. */
struct ring_shared {
	uint64_t head; /* producer */
	uint8_t pad0[56];
	uint64_t tail; /* consumer */
	uint8_t pad1[56];
	uint8_t data[];
};

struct ring {
	struct ring_shared *sh;
	size_t size, maplen;
};

int ring_new(struct ring **out, size_t size)
{
	*out = NULL;
	if (size == 0 || size > RING_MAX)
		return -EINVAL;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size = (size + page - 1) / page * page;
	struct ring *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->size = size;
	r->maplen = sizeof(struct ring_shared) + size;
	void *p = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		free(r);
		return -ENOMEM;
	}
	r->sh = p;
	*out = r;
	return 0;
}

size_t ring_size(const struct ring *r) { return r->size; }

int ring_put(struct ring *r, const uint8_t *data, size_t len, uint64_t *pos)
{
	uint64_t head = r->sh->head; /* ours alone */
	uint64_t tail = __atomic_load_n(&r->sh->tail, __ATOMIC_ACQUIRE);
	if (len > r->size || tail > head)
		return -ENOSPC;
	size_t off = (size_t)(head % r->size);
	uint64_t start = off + len > r->size ? head + (r->size - off) : head;
	if (head != tail && start + len - tail > r->size) /* an empty ring takes anything */
		return -ENOSPC;
	if (len)
		memcpy(r->sh->data + start % r->size, data, len);
	__atomic_store_n(&r->sh->head, start + len, __ATOMIC_RELEASE);
	*pos = start;
	return 0;
}

const uint8_t *ring_at(const struct ring *r, uint64_t pos, size_t len)
{
	uint64_t head = __atomic_load_n(&r->sh->head, __ATOMIC_ACQUIRE);
	uint64_t tail = r->sh->tail; /* ours alone */
	if (pos < tail || pos > head || len > head - pos || (pos % r->size) + len > r->size)
		return NULL;
	return r->sh->data + pos % r->size;
}

void ring_release(struct ring *r, uint64_t end)
{
	uint64_t head = __atomic_load_n(&r->sh->head, __ATOMIC_ACQUIRE);
	if (end > r->sh->tail && end <= head)
		__atomic_store_n(&r->sh->tail, end, __ATOMIC_RELEASE);
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	munmap(r->sh, r->maplen);
	free(r);
}
