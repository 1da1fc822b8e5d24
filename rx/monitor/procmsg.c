/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/monitor/procmsg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/annauth.h"
#include "common/cursor.h"

int procmsg_resume_encode(const struct linkrole_resume *r, size_t n, uint8_t **out, size_t *len)
{
	if (n > PROCMSG_RESUME_MAX)
		n = PROCMSG_RESUME_MAX;
	size_t total = 4, fit = 0;
	for (; fit < n; fit++) {
		size_t one = 8 + 8 + 8 + 4 + ((size_t)r[fit].top + 7) / 8;
		if (r[fit].top > PROCMSG_TOP_MAX || total + one > PROCMSG_KEPT_BYTES)
			break;
		total += one;
	}
	n = fit;
	uint8_t *b = malloc(total);
	if (!b)
		return -ENOMEM;
	struct wcursor w;
	wcursor_init(&w, b, total);
	wcursor_u32(&w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		wcursor_u64(&w, r[i].session);
		wcursor_u64(&w, r[i].object);
		wcursor_u64(&w, r[i].length);
		wcursor_u32(&w, r[i].top);
		wcursor_bytes(&w, r[i].done, (r[i].top + 7) / 8);
	}
	*out = b;
	*len = total;
	return (int)n;
}

int procmsg_link_decode(const uint8_t *body, size_t len, size_t nsenders, struct procmsg_link *m)
{
	memset(m, 0, sizeof(*m));
	struct cursor c;
	cursor_init(&c, body, len);
	m->incarnation = cursor_u32(&c);
	m->rx_pk = cursor_take(&c, 32);
	if (nsenders > len / ANNAUTH_KEY_LEN)
		return -EBADMSG;
	m->mac_keys = cursor_take(&c, nsenders * ANNAUTH_KEY_LEN);
	m->state_len = cursor_u32(&c);
	m->state = (const char *)cursor_take(&c, m->state_len);
	uint32_t n = cursor_u32(&c);
	if (!m->rx_pk || !m->mac_keys || (m->state_len && !m->state) || n > PROCMSG_RESUME_MAX ||
	    c.err)
		return -EBADMSG;
	if (n && !(m->resume = calloc(n, sizeof(*m->resume))))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct linkrole_resume *r = &m->resume[i];
		r->session = cursor_u64(&c);
		r->object = cursor_u64(&c);
		r->length = cursor_u64(&c);
		r->top = cursor_u32(&c);
		if (r->top > PROCMSG_TOP_MAX || !(r->done = cursor_take(&c, (r->top + 7) / 8))) {
			procmsg_link_free(m);
			return -EBADMSG;
		}
		m->nresume++;
	}
	if (!cursor_done(&c)) {
		procmsg_link_free(m);
		return -EBADMSG;
	}
	return 0;
}

void procmsg_link_free(struct procmsg_link *m)
{
	free(m->resume);
	m->resume = NULL;
	m->nresume = 0;
}
