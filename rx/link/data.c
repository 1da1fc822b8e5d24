/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data path: one DATA datagram, cheapest checks first (shape, session, replay window and
 * packet-number bound, parameters, resolved id, completed block), then AEAD, then FEC.
 */
#include "rx/link/internal.h"

/* A packet number no more than an epoch (2^22) beyond both the highest accepted and the
 * packets the session's newest signed announcement says were sent. Checked before any
 * cryptography: a packet of a new epoch makes aead_open derive its keys (HKDF) before the tag
 * is checked, so without it anyone who reads a session id off the wire could make this
 * receiver derive keys for every packet it sends.
 * A genuine packet does not reach the bound: tx numbers packets ahead of sending by at most
 * its two groups in flight and its held-back repair packets (about 200,000; tx/sender), and
 * announcements come every second. Only after an outage in which neither packets nor
 * announcements arrived for 2^22 packets (about a minute at 800 Mbit/s with 1500-byte
 * packets) are the packets that come before the next announcement refused. */
bool pn_plausible(const struct rsession *s, uint64_t pn)
{
	uint64_t seen = s->replay.top > s->ann.packets ? s->replay.top : s->ann.packets;
	return pn <= seen || pn - seen <= (1ull << SESSION_EPOCH_SHIFT);
}

static uint64_t data_kind_limit(const struct linkrole *l, uint8_t kind)
{
	switch (kind) {
	case WIRE_KIND_FILE: return l->c.object_limit;
	case WIRE_KIND_MANIFEST: return MANIFEST_MAX_LEN;
	default: return EVENTS_MAX_LEN;
	}
}

void data_packet(struct linkrole *l, uint8_t *pkt, size_t len, uint64_t now)
{
	struct wire_data_hdr h;
	if (wire_data_decode(pkt, len, &h) != 0) {
		reject_packet(RXM_REJ_MALFORMED);
		return;
	}
	struct rsession *s = session_find(l, h.session);
	if (!s) {
		pending_add(l, h.session, pkt, len, now);
		return;
	}
	if (!replay_check(&s->replay, h.pn)) {
		reject_packet(RXM_REJ_REPLAY);
		return;
	}
	if (!pn_plausible(s, h.pn)) {
		/* beyond the window the receiver accepts: counted with the replays */
		reject_packet(RXM_REJ_REPLAY);
		log_rl(LOG_WARN, "session %016" PRIx64 ": packet number %" PRIu64 " more than 2^22 "
				 "beyond those sent (%" PRIu64 " announced, %" PRIu64 " received): "
				 "refused unopened", s->id, h.pn, s->ann.packets, s->replay.top);
		return;
	}
	/* Arrived, for the loss ratio (health.c): redundant packets too, they are not lost; taken
	 * back below for those refused as malformed or forged. */
	s->pkts_in++;
	struct fec_partition part;
	/* File content uses the session's symbol size; manifests and event batches may use a
	 * smaller one, fitted to their length, so their many repair copies stay small. */
	bool t_ok = h.symbol_size == s->ann.symbol_size ||
		    (h.kind != WIRE_KIND_FILE && h.symbol_size < s->ann.symbol_size);
	if (h.kind == WIRE_KIND_FILE && h.object_len > l->c.object_limit) {
		/* Refused unopened; its manifest still comes through, and the deliver role audits
		 * the file rejected with its name (over limits.object). */
		reject_packet(RXM_REJ_OVER_LIMIT);
		log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 ": %" PRIu64 " bytes, over "
				 "limits.object (%" PRIu64 "): its packets are refused", s->id, h.object_id,
		       h.object_len, l->c.object_limit);
		return;
	}
	if (!t_ok || h.object_len > data_kind_limit(l, h.kind) ||
	    fec_partition_init(&part, h.object_len, h.symbol_size, s->ann.block_max) != 0 ||
	    h.block >= part.nblocks || h.k != fec_partition_k(&part, h.block)) {
		s->pkts_in--;
		reject_packet(RXM_REJ_MALFORMED);
		return;
	}
	if (id_resolved(s, h.object_id)) {
		rxm_add(RXM_DUP_PACKETS, 1);
		return;
	}
	struct robj *o = obj_find(l, s, h.object_id, h.kind);
	struct rblock *bl = NULL;
	if (o && (o->len != h.object_len || h.block >= o->part.nblocks ||
		  o->part.symbol_size != h.symbol_size)) {
		/* The header contradicts what this object already is: forged or broken. The block
		 * index was checked against the length the packet claims, not this object's. */
		s->pkts_in--;
		reject_packet(RXM_REJ_MALFORMED);
		return;
	}
	if (o) {
		if (o->done_bits[h.block >> 3] & (1u << (h.block & 7))) {
			rxm_add(RXM_DUP_PACKETS, 1);
			return;
		}
		bl = o->active[h.block];
		if (bl && (bl->m != h.m || bl->k != h.k)) {
			s->pkts_in--;
			reject_packet(RXM_REJ_MALFORMED);
			return;
		}
		if (bl && bl->present[h.esi]) {
			rxm_add(RXM_DUP_PACKETS, 1);
			return;
		}
	}
	uint32_t T = h.symbol_size;
	uint8_t *dst = bl ? bl->buf + (size_t)h.esi * T : l->scratch;
	if (aead_open(s->aead, h.pn, pkt, WIRE_DATA_HDR_LEN, pkt + WIRE_DATA_HDR_LEN, T,
		      pkt + WIRE_DATA_HDR_LEN + T, dst) != 0) {
		s->pkts_in--;
		reject_packet(RXM_REJ_AUTH);
		log_rl(LOG_WARN, "session %016" PRIx64 ": packet failed authentication", s->id);
		return;
	}
	replay_update(&s->replay, h.pn);
	if (!o) {
		if (l->nobjs >= 65536)
			obj_evict_oldest(l, NULL);
		o = obj_new(l, s, &h, &part);
		if (!o) {
			log_rl(LOG_ERROR, "out of memory for object %" PRIu64, h.object_id);
			return;
		}
	}
	o->last_ns = now;
	if (!bl) {
		size_t sz = sizeof(*bl) + (size_t)(h.k + h.m) * T;
		while (l->mem_used + sz > l->c.memory_limit) {
			size_t before = l->nobjs;
			obj_evict_oldest(l, o);
			if (l->nobjs == before)
				break; /* nothing else to evict: this block alone may exceed */
		}
		bl = calloc(1, sizeof(*bl));
		if (bl)
			bl->buf = bufpool_get(l->pool, (size_t)(h.k + h.m) * T);
		if (!bl || !bl->buf) {
			free(bl);
			log_rl(LOG_ERROR, "out of memory for a block");
			return;
		}
		bl->k = h.k;
		bl->m = h.m;
		o->active[h.block] = bl;
		o->bytes += sz;
		obj_account(l, (int64_t)sz);
		memcpy(bl->buf + (size_t)h.esi * T, l->scratch, T);
	}
	bl->present[h.esi] = true;
	bl->have++;
	if (bl->have < bl->k)
		return;
	/* K symbols in: rebuild the missing source symbols, if any. */
	unsigned missing = 0;
	uint8_t *sym[FEC_MAX_SYMBOLS];
	for (unsigned i = 0; i < (unsigned)(bl->k + bl->m); i++) {
		sym[i] = bl->buf + (size_t)i * T;
		if (i < bl->k && !bl->present[i])
			missing++;
	}
	if (missing) {
		int rc = fec_decode(l->codec, bl->k, bl->m, T, sym, bl->present);
		if (rc != 0) {
			log_rl(LOG_ERROR, "FEC decode failed: %s", strerror(-rc));
			obj_declare_lost(l, s, o->id, o->kind, "FEC decode failed");
			return;
		}
		rxm_add(RXM_FEC_RECOVERED, missing);
	}
	obj_block_complete(l, o, h.block, bl);
}
