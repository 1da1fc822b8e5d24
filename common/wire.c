/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/wire.h"

#include "common/cursor.h"

const char *wire_strerror(int err)
{
	switch (err) {
	case WIRE_ESHORT: return "datagram too short";
	case WIRE_EMAGIC: return "bad magic";
	case WIRE_EVERSION: return "unknown version";
	case WIRE_ETYPE: return "unknown type";
	case WIRE_ELENGTH: return "length does not match header";
	case WIRE_EFIELD: return "field out of range";
	default: return "unknown error";
	}
}

static void prefix_encode(struct wcursor *w, uint8_t type, uint64_t session)
{
	wcursor_u8(w, WIRE_MAGIC0);
	wcursor_u8(w, WIRE_MAGIC1);
	wcursor_u8(w, WIRE_VERSION_2);
	wcursor_u8(w, type);
	wcursor_u64(w, session);
}

/* Reads and checks the 12-byte prefix; returns the type or a negative wire_err. */
static int prefix_decode(struct cursor *c, uint64_t *session)
{
	if (cursor_left(c) < WIRE_PREFIX_LEN)
		return WIRE_ESHORT;
	uint8_t m0 = cursor_u8(c), m1 = cursor_u8(c);
	if (m0 != WIRE_MAGIC0 || m1 != WIRE_MAGIC1)
		return WIRE_EMAGIC;
	if (cursor_u8(c) != WIRE_VERSION_2)
		return WIRE_EVERSION;
	uint8_t type = cursor_u8(c);
	*session = cursor_u64(c);
	if (type != WIRE_TYPE_ANNOUNCE && type != WIRE_TYPE_DATA)
		return WIRE_ETYPE;
	return type;
}

int wire_peek(const uint8_t *p, size_t len, uint64_t *session)
{
	struct cursor c;
	cursor_init(&c, p, len);
	return prefix_decode(&c, session);
}

void wire_data_hdr_encode(uint8_t out[WIRE_DATA_HDR_LEN], const struct wire_data_hdr *h)
{
	struct wcursor w;
	wcursor_init(&w, out, WIRE_DATA_HDR_LEN);
	prefix_encode(&w, WIRE_TYPE_DATA, h->session);
	wcursor_u64(&w, h->pn);
	wcursor_u64(&w, h->object_id);
	wcursor_u64(&w, h->object_len);
	wcursor_u32(&w, h->block);
	wcursor_u16(&w, h->symbol_size);
	wcursor_u8(&w, h->k);
	wcursor_u8(&w, h->m);
	wcursor_u8(&w, h->esi);
	wcursor_u8(&w, h->kind);
	wcursor_u16(&w, 0);
}

int wire_data_decode(const uint8_t *p, size_t len, struct wire_data_hdr *h)
{
	struct cursor c;
	cursor_init(&c, p, len);
	int t = prefix_decode(&c, &h->session);
	if (t < 0)
		return t;
	if (t != WIRE_TYPE_DATA)
		return WIRE_ETYPE;
	if (len < WIRE_DATA_OVERHEAD)
		return WIRE_ESHORT;
	h->pn = cursor_u64(&c);
	h->object_id = cursor_u64(&c);
	h->object_len = cursor_u64(&c);
	h->block = cursor_u32(&c);
	h->symbol_size = cursor_u16(&c);
	h->k = cursor_u8(&c);
	h->m = cursor_u8(&c);
	h->esi = cursor_u8(&c);
	h->kind = cursor_u8(&c);
	uint16_t flags = cursor_u16(&c);
	(void)cursor_take(&c, h->symbol_size);
	(void)cursor_take(&c, WIRE_TAG_LEN);
	if (c.err || !cursor_done(&c))
		return WIRE_ELENGTH;
	if (h->symbol_size < WIRE_SYMBOL_MIN || h->k == 0 || (unsigned)h->k + h->m > 255 ||
	    h->esi >= (unsigned)h->k + h->m || h->kind == WIRE_KIND_INVALID || h->kind > WIRE_KIND_MAX ||
	    flags != 0 || (h->kind == WIRE_KIND_EVENTS) != wire_id_is_event(h->object_id))
		return WIRE_EFIELD;
	return 0;
}

void wire_announce_encode(uint8_t out[WIRE_ANNOUNCE_LEN], const struct wire_announce *a)
{
	struct wcursor w;
	wcursor_init(&w, out, WIRE_ANNOUNCE_LEN);
	prefix_encode(&w, WIRE_TYPE_ANNOUNCE, a->session);
	wcursor_bytes(&w, a->sender_pk, WIRE_KEY_LEN);
	wcursor_bytes(&w, a->receiver_pk, WIRE_KEY_LEN);
	wcursor_bytes(&w, a->ephemeral_pk, WIRE_KEY_LEN);
	wcursor_u64(&w, a->counter);
	wcursor_u64(&w, a->time_ns);
	wcursor_u64(&w, a->start_ns);
	wcursor_u64(&w, a->packets);
	wcursor_u64(&w, a->objects);
	wcursor_u64(&w, a->next_object_id);
	wcursor_u64(&w, a->done_object_id);
	wcursor_u16(&w, a->symbol_size);
	wcursor_u16(&w, a->mtu);
	wcursor_u16(&w, a->overhead_pct);
	wcursor_u8(&w, a->block_max);
	wcursor_u8(&w, a->interleave);
	wcursor_u8(&w, a->repeat);
	wcursor_u8(&w, a->aead);
	wcursor_u16(&w, 0);
	wcursor_u64(&w, a->prev_session);
	wcursor_u64(&w, a->prev_done_id);
	wcursor_bytes(&w, a->sig, WIRE_SIG_LEN);
	wcursor_bytes(&w, a->mac, WIRE_ANNOUNCE_MAC_LEN);
}

int wire_announce_decode(const uint8_t *p, size_t len, struct wire_announce *a)
{
	struct cursor c;
	cursor_init(&c, p, len);
	int t = prefix_decode(&c, &a->session);
	if (t < 0)
		return t;
	if (t != WIRE_TYPE_ANNOUNCE)
		return WIRE_ETYPE;
	if (len < WIRE_ANNOUNCE_LEN)
		return WIRE_ESHORT;
	cursor_copy(&c, a->sender_pk, WIRE_KEY_LEN);
	cursor_copy(&c, a->receiver_pk, WIRE_KEY_LEN);
	cursor_copy(&c, a->ephemeral_pk, WIRE_KEY_LEN);
	a->counter = cursor_u64(&c);
	a->time_ns = cursor_u64(&c);
	a->start_ns = cursor_u64(&c);
	a->packets = cursor_u64(&c);
	a->objects = cursor_u64(&c);
	a->next_object_id = cursor_u64(&c);
	a->done_object_id = cursor_u64(&c);
	a->symbol_size = cursor_u16(&c);
	a->mtu = cursor_u16(&c);
	a->overhead_pct = cursor_u16(&c);
	a->block_max = cursor_u8(&c);
	a->interleave = cursor_u8(&c);
	a->repeat = cursor_u8(&c);
	a->aead = cursor_u8(&c);
	uint16_t flags = cursor_u16(&c);
	a->prev_session = cursor_u64(&c);
	a->prev_done_id = cursor_u64(&c);
	cursor_copy(&c, a->sig, WIRE_SIG_LEN);
	cursor_copy(&c, a->mac, WIRE_ANNOUNCE_MAC_LEN);
	if (!cursor_done(&c))
		return WIRE_ELENGTH;
	if (a->symbol_size < WIRE_SYMBOL_MIN || a->block_max == 0 || a->block_max > 254 ||
	    a->interleave == 0 || a->repeat == 0 ||
	    (a->aead != WIRE_AEAD_AES256GCM && a->aead != WIRE_AEAD_CHACHA20POLY1305) || flags != 0 ||
	    a->done_object_id > a->next_object_id || wire_id_is_event(a->next_object_id) ||
	    wire_id_is_event(a->prev_done_id))
		return WIRE_EFIELD;
	return 0;
}
