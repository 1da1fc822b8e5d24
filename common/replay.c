/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/replay.h"

#include <string.h>

void replay_init(struct replay *r) { memset(r, 0, sizeof(*r)); }

void replay_init_floor(struct replay *r, uint64_t floor)
{
	replay_init(r);
	if (!floor)
		return;
	memset(r->bits, 0xff, sizeof(r->bits));
	/* the word holding floor: the numbers from floor up are not seen */
	r->bits[(floor >> 6) & (REPLAY_WORDS - 1)] = (floor & 63) ? (1ull << (floor & 63)) - 1 : 0;
	r->top = floor;
}

bool replay_check(const struct replay *r, uint64_t pn)
{
	if (pn == UINT64_MAX)
		return false;
	if (pn >= r->top)
		return true;
	if (r->top - pn > REPLAY_WINDOW)
		return false;
	uint64_t word = (pn >> 6) & (REPLAY_WORDS - 1);
	return !(r->bits[word] & (1ull << (pn & 63)));
}

bool replay_update(struct replay *r, uint64_t pn)
{
	if (!replay_check(r, pn))
		return false;
	if (pn >= r->top) {
		/* Clear the words the window slides over. */
		uint64_t cur = r->top ? (r->top - 1) >> 6 : 0;
		uint64_t next = pn >> 6;
		uint64_t diff = next - cur;
		if (r->top == 0)
			diff = REPLAY_WORDS;
		if (diff > REPLAY_WORDS)
			diff = REPLAY_WORDS;
		for (uint64_t i = 1; i <= diff; i++)
			r->bits[(cur + i) & (REPLAY_WORDS - 1)] = 0;
		if (r->top == 0)
			r->bits[next & (REPLAY_WORDS - 1)] = 0;
		r->top = pn + 1;
	}
	r->bits[(pn >> 6) & (REPLAY_WORDS - 1)] |= 1ull << (pn & 63);
	return true;
}
