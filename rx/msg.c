/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/msg.h"

#include <errno.h>
#include <string.h>

#include "common/cursor.h"

static size_t fixed_len(enum msg_type t)
{
	switch (t) {
	case MSG_SESSION: return 8 + 8 + 8 + 32 + 4;
	case MSG_BLOCK: return 8 + 8 + 4 + 8;
	case MSG_FILE_END: return 8 + 8 + 8 + 4;
	case MSG_MANIFEST: return 8 + 8;
	case MSG_LOST: return 8 + 8 + 1;
	case MSG_EVENTS: return 8 + 8;
	case MSG_BLOCK_REF: return 8 + 8 + 4 + 8 + 8 + 4;
	case MSG_LOST_RANGE: return 8 + 8 + 8;
	case MSG_PARTIAL: return 8 + 8 + 8;
	case MSG_STATE: return 8 + 8;
	default: return 0;
	}
}

static bool has_data(enum msg_type t)
{
	return t == MSG_BLOCK || t == MSG_MANIFEST || t == MSG_LOST || t == MSG_EVENTS ||
	       t == MSG_LOST_RANGE || t == MSG_STATE;
}

size_t msg_encoded_len(const struct msg *m)
{
	return MSG_HDR_LEN + fixed_len(m->type) + (has_data(m->type) ? m->data_len : 0);
}

/* Everything but the data bytes, which end every body that has them. */
int msg_encode_head(const struct msg *m, uint8_t *out, size_t cap)
{
	if (m->type == MSG_INVALID || m->type > MSG_TYPE_MAX)
		return -EINVAL;
	size_t body = fixed_len(m->type) + (has_data(m->type) ? m->data_len : 0);
	if (body > MSG_BODY_MAX ||
	    ((m->type == MSG_LOST || m->type == MSG_LOST_RANGE) && m->data_len > MSG_REASON_MAX))
		return -EINVAL;
	struct wcursor w;
	wcursor_init(&w, out, cap);
	wcursor_u32(&w, (uint32_t)m->type);
	wcursor_u32(&w, (uint32_t)body);
	wcursor_u64(&w, m->session);
	if (m->type != MSG_SESSION)
		wcursor_u64(&w, m->object);
	switch (m->type) {
	case MSG_SESSION:
		wcursor_u64(&w, m->counter);
		wcursor_u64(&w, m->start_ns);
		wcursor_bytes(&w, m->sender_pk, 32);
		wcursor_u32(&w, m->flags);
		break;
	case MSG_BLOCK:
		wcursor_u32(&w, m->block);
		wcursor_u64(&w, m->offset);
		break;
	case MSG_BLOCK_REF:
		wcursor_u32(&w, m->block);
		wcursor_u64(&w, m->offset);
		wcursor_u64(&w, m->ring_pos);
		wcursor_u32(&w, m->ring_len);
		break;
	case MSG_FILE_END:
		wcursor_u64(&w, m->length);
		wcursor_u32(&w, m->nblocks);
		break;
	case MSG_LOST:
		wcursor_u8(&w, m->kind);
		break;
	case MSG_LOST_RANGE:
	case MSG_PARTIAL:
		wcursor_u64(&w, m->length);
		break;
	default:
		break;
	}
	if (w.err)
		return -ENOSPC;
	return (int)w.off;
}

int msg_encode(const struct msg *m, uint8_t *out, size_t cap)
{
	int n = msg_encode_head(m, out, cap);
	if (n < 0 || !has_data(m->type))
		return n;
	if (m->data_len > cap - (size_t)n)
		return -ENOSPC;
	if (m->data_len)
		memcpy(out + n, m->data, m->data_len);
	return n + (int)m->data_len;
}

int msg_header_decode(const uint8_t hdr[MSG_HDR_LEN], enum msg_type *type, uint32_t *len)
{
	struct cursor c;
	cursor_init(&c, hdr, MSG_HDR_LEN);
	uint32_t t = cursor_u32(&c);
	uint32_t l = cursor_u32(&c);
	if (t == MSG_INVALID || t > MSG_TYPE_MAX || l > MSG_BODY_MAX || l < fixed_len(t))
		return -EBADMSG;
	*type = (enum msg_type)t;
	*len = l;
	return 0;
}

int msg_body_decode(enum msg_type type, const uint8_t *body, size_t len, struct msg *m)
{
	memset(m, 0, sizeof(*m));
	if (type == MSG_INVALID || type > MSG_TYPE_MAX || len < fixed_len(type) || len > MSG_BODY_MAX)
		return -EBADMSG;
	struct cursor c;
	cursor_init(&c, body, len);
	m->type = type;
	m->session = cursor_u64(&c);
	if (type != MSG_SESSION)
		m->object = cursor_u64(&c);
	switch (type) {
	case MSG_SESSION:
		m->counter = cursor_u64(&c);
		m->start_ns = cursor_u64(&c);
		cursor_copy(&c, m->sender_pk, 32);
		m->flags = cursor_u32(&c);
		break;
	case MSG_BLOCK:
		m->block = cursor_u32(&c);
		m->offset = cursor_u64(&c);
		break;
	case MSG_BLOCK_REF:
		m->block = cursor_u32(&c);
		m->offset = cursor_u64(&c);
		m->ring_pos = cursor_u64(&c);
		m->ring_len = cursor_u32(&c);
		break;
	case MSG_FILE_END:
		m->length = cursor_u64(&c);
		m->nblocks = cursor_u32(&c);
		break;
	case MSG_LOST:
		m->kind = cursor_u8(&c);
		break;
	case MSG_LOST_RANGE:
	case MSG_PARTIAL:
		m->length = cursor_u64(&c);
		break;
	default:
		break;
	}
	if (has_data(type)) {
		m->data_len = cursor_left(&c);
		m->data = cursor_take(&c, m->data_len);
		if ((type == MSG_LOST || type == MSG_LOST_RANGE) && m->data_len > MSG_REASON_MAX)
			return -EBADMSG;
	}
	if (!cursor_done(&c))
		return -EBADMSG;
	return 0;
}
