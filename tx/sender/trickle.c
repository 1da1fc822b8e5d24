/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trickle: repair packets of small objects (event batches, manifests) held back and sent
 * when due, EVENT_SPREAD_NS apart, so that one burst of loss cannot take all of an object's
 * packets. A list sorted by due time, at most TRICKLE_MAX long (beyond that a packet leaves at
 * once). At stop, what is left goes until drain_until.
 */
#include "tx/sender/internal.h"

void trickle_add(struct sender *s, const uint8_t *pkt, size_t len, uint64_t due)
{
	struct trickle *t = s->ntrickle < TRICKLE_MAX ? malloc(sizeof(*t) + len) : NULL;
	if (!t) { /* send it now rather than not at all */
		struct link_pkt lp = {(uint8_t *)pkt, len};
		pace_send(s, &lp, 1);
		return;
	}
	t->due = due;
	t->len = len;
	memcpy(t->data, pkt, len);
	/* From the tail: dues grow with time, so only the later copies of recent objects are
	 * passed (at most a batch's repair count). */
	struct trickle *after = s->trickle_tail;
	while (after && after->due > due)
		after = after->prev;
	t->prev = after;
	t->next = after ? after->next : s->trickle;
	if (t->next)
		t->next->prev = t;
	else
		s->trickle_tail = t;
	if (after)
		after->next = t;
	else
		s->trickle = t;
	s->ntrickle++;
}

/* Repair packets whose time has come (all of them when `all`). */
void trickle_send(struct sender *s, bool all)
{
	uint64_t now = mono_ns();
	while (s->trickle && (all || s->trickle->due <= now)) {
		if (all && mono_ns() > s->drain_until)
			return; /* freed by sender_free; a slow link must not hold up the stop */
		struct trickle *batch[SEND_BATCH];
		struct link_pkt lp[SEND_BATCH];
		unsigned n = 0;
		while (n < s->send_batch && s->trickle && (all || s->trickle->due <= now)) {
			struct trickle *t = s->trickle;
			s->trickle = t->next;
			if (s->trickle)
				s->trickle->prev = NULL;
			else
				s->trickle_tail = NULL;
			s->ntrickle--;
			batch[n] = t;
			lp[n] = (struct link_pkt){t->data, t->len};
			n++;
		}
		pace_send(s, lp, n);
		for (unsigned i = 0; i < n; i++)
			free(batch[i]);
	}
}
