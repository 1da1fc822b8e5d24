/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which object ids of a session are resolved: every id below a base, and a window of
 * RESOLVED_WINDOW bits above it; one window for files, one for event batches.
 */
#include "rx/link/internal.h"

bool idwin_has(const struct idwin *w, uint64_t id)
{
	if (id < w->base)
		return true;
	if (id - w->base >= RESOLVED_WINDOW)
		return false;
	uint32_t i = (uint32_t)(id % RESOLVED_WINDOW);
	return w->bits[i >> 3] & (1u << (i & 7));
}

/* Bit j of the result: id from + j resolved. from >= base and from + 64 <= base +
 * RESOLVED_WINDOW, so all 64 ids are in the window: eight bytes of the ring (nine when from is
 * not on a byte), instead of 64 lookups. */
uint64_t idwin_word(const struct idwin *w, uint64_t from)
{
	uint32_t p = (uint32_t)(from % RESOLVED_WINDOW), byte = p >> 3, sh = p & 7;
	uint64_t v = 0;
	for (uint32_t k = 0; k < 8; k++)
		v |= (uint64_t)w->bits[(byte + k) % (RESOLVED_WINDOW / 8)] << (8 * k);
	if (sh) {
		v >>= sh;
		v |= (uint64_t)w->bits[(byte + 8) % (RESOLVED_WINDOW / 8)] << (64 - sh);
	}
	return v;
}

/* Every id below base resolved, none above. */
void idwin_reset(struct idwin *w, uint64_t base)
{
	memset(w->bits, 0, RESOLVED_WINDOW / 8);
	w->base = base;
}

/* Moves the base over resolved ids, clearing their bits for reuse. */
static void idwin_advance(struct idwin *w)
{
	for (;;) {
		uint32_t j = (uint32_t)(w->base % RESOLVED_WINDOW);
		if (!(w->bits[j >> 3] & (1u << (j & 7))))
			break;
		w->bits[j >> 3] &= (uint8_t)~(1u << (j & 7));
		w->base++;
	}
}

/* Starts over at base with the ids base + b resolved for each bit b of above[b / 64] (n words,
 * n * 64 <= RESOLVED_WINDOW): what idwin_set of each would give, the zero words skipped. */
void idwin_load(struct idwin *w, uint64_t base, const uint64_t *above, size_t n)
{
	idwin_reset(w, base);
	for (size_t i = 0; i < n; i++)
		for (uint64_t v = above[i]; v; v &= v - 1)
			idwin_set(w, base + i * 64 + (uint64_t)__builtin_ctzll(v));
}

void idwin_set(struct idwin *w, uint64_t id)
{
	if (id < w->base)
		return;
	if (id - w->base >= 2 * (uint64_t)RESOLVED_WINDOW) /* far ahead: start over below it */
		idwin_reset(w, id - RESOLVED_WINDOW + 1);
	while (id - w->base >= RESOLVED_WINDOW) {
		/* Ahead: slide the window, forgetting the oldest unresolved ids. */
		uint32_t i = (uint32_t)(w->base % RESOLVED_WINDOW);
		w->bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
		w->base++;
	}
	uint32_t i = (uint32_t)(id % RESOLVED_WINDOW);
	w->bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	idwin_advance(w);
}

/* Ids first .. end - 1 resolved. */
void idwin_set_range(struct idwin *w, uint64_t first, uint64_t end)
{
	if (first > w->base || end <= w->base) {
		for (uint64_t id = first; id < end; id++)
			idwin_set(w, id);
		return;
	}
	if (end - w->base >= RESOLVED_WINDOW) {
		idwin_reset(w, end); /* nothing above end can have been set: it was out of the window */
	} else {
		while (w->base < end) {
			uint32_t i = (uint32_t)(w->base % RESOLVED_WINDOW);
			w->bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
			w->base++;
		}
	}
	idwin_advance(w);
}

static struct idwin *idwin_of(struct rsession *s, uint64_t id)
{
	return wire_id_is_event(id) ? &s->events : &s->files;
}

bool id_resolved(struct rsession *s, uint64_t id) { return idwin_has(idwin_of(s, id), id); }
void id_set_resolved(struct rsession *s, uint64_t id) { idwin_set(idwin_of(s, id), id); }
