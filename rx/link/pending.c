/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Datagrams of a session not yet announced, kept briefly (bounded in bytes and age) and run
 * through the normal path once a signed announcement opens the session.
 */
#include "rx/link/internal.h"

void pending_drop_head(struct linkrole *l)
{
	struct pending *p = l->phead;
	l->phead = p->next;
	if (!l->phead)
		l->ptail = NULL;
	l->pbytes -= p->len;
	free(p);
	reject_packet(RXM_REJ_SESSION); /* never claimed by an announced session */
}

void pending_add(struct linkrole *l, uint64_t session, const uint8_t *pkt, size_t len, uint64_t now)
{
	/* A quarter of limits.memory, 256 MiB at most: about a second at 2 Gbit/s by default. */
	uint64_t cap = l->c.memory_limit / 4 < (256u << 20) ? l->c.memory_limit / 4 : (256u << 20);
	while (l->phead && (l->pbytes + len > cap || now - l->phead->t > PENDING_NS))
		pending_drop_head(l);
	struct pending *p = malloc(sizeof(*p) + len);
	if (!p) {
		reject_packet(RXM_REJ_SESSION);
		return;
	}
	p->next = NULL;
	p->session = session;
	p->t = now;
	p->len = len;
	memcpy(p->data, pkt, len);
	if (l->ptail)
		l->ptail->next = p;
	else
		l->phead = p;
	l->ptail = p;
	l->pbytes += len;
}

/* The lowest object id among the waiting datagrams of a session just opened that
 * authenticate (so a forged header cannot make the receiver report old objects as lost).
 * Those with a packet number out of bound are not opened (data.c); s->ann must be the
 * announcement that opened the session. */
uint64_t pending_floor(struct linkrole *l, struct rsession *s, uint64_t base)
{
	for (struct pending *p = l->phead; p; p = p->next) {
		struct wire_data_hdr h;
		if (p->session != s->id || wire_data_decode(p->data, p->len, &h) != 0 || h.object_id >= base ||
		    h.object_id == 0 || !pn_plausible(s, h.pn))
			continue;
		if (aead_open(s->aead, h.pn, p->data, WIRE_DATA_HDR_LEN, p->data + WIRE_DATA_HDR_LEN,
			      h.symbol_size, p->data + WIRE_DATA_HDR_LEN + h.symbol_size, l->scratch) == 0)
			base = h.object_id;
	}
	return base;
}

/* A session just opened: run its waiting datagrams through the normal path, in order. */
void pending_claim(struct linkrole *l, uint64_t session, uint64_t now)
{
	struct pending **pp = &l->phead, *last = NULL;
	while (*pp) {
		struct pending *p = *pp;
		if (p->session != session) {
			last = p;
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		l->pbytes -= p->len;
		data_packet(l, p->data, p->len, now);
		free(p);
	}
	l->ptail = last;
	if (!l->phead)
		l->ptail = NULL;
}
