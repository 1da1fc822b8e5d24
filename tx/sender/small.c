/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small objects (an event batch, a manifest), coded and sealed on the sender thread itself,
 * not by the workers: an event batch must not wait behind a group of file content.
 */
#include "tx/sender/internal.h"

#include <inttypes.h>

#include "common/wire.h"

static const char *kind_name(uint8_t kind)
{
	return kind == WIRE_KIND_MANIFEST ? "a manifest" : "an event batch";
}

/* A small object (an event batch, a manifest), coded and sealed on this thread. Its source
 * packets and its first repair packet leave at once; the other repair packets follow
 * EVENT_SPREAD_NS apart. An object that fits
 * one symbol uses a symbol fitted to its length (at least WIRE_SYMBOL_MIN, a multiple of 16),
 * so its copies cost little. Packet numbers are taken as the packets are sealed. A block with
 * a packet the AEAD could not seal is not sent at all (its numbers stay unused), nor are the
 * blocks after it. */
enum small_result small_send(struct sender *s, uint8_t kind, const uint8_t *obj, size_t len,
			     uint64_t id)
{
	size_t T = s->c.symbol_size;
	if (len <= T) {
		T = (len + 15) & ~(size_t)15;
		if (T < WIRE_SYMBOL_MIN)
			T = WIRE_SYMBOL_MIN;
	}
	size_t plen = WIRE_DATA_OVERHEAD + T;
	struct fec_partition part;
	if (fec_partition_init(&part, len, (uint32_t)T, s->c.block_max) != 0) {
		log_rl(LOG_ERROR, "cannot code %s of %zu bytes", kind_name(kind), len);
		return SMALL_FAILED;
	}
	struct scratch *sc = &s->scratch[s->c.workers];
	uint64_t now = mono_ns();
	for (uint32_t b = 0; b < part.nblocks; b++) {
		uint32_t k = fec_partition_k(&part, b);
		uint32_t blen = fec_partition_len(&part, b);
		uint32_t m = object_repair_count(s, kind, k);
		uint8_t *src[FEC_MAX_SYMBOLS], *rep[FEC_MAX_SYMBOLS];
		memcpy(s->evsrc, obj + fec_partition_offset(&part, b), blen);
		memset(s->evsrc + blen, 0, (size_t)k * T - blen);
		for (uint32_t i = 0; i < k; i++)
			src[i] = s->evsrc + i * T;
		for (uint32_t i = 0; i < m; i++)
			rep[i] = sc->repair + i * T;
		if (m && fec_encode(sc->codec, k, m, T, src, rep) != 0)
			m = 0;
		struct wire_data_hdr h = {.session = s->session, .object_id = id, .object_len = len,
					  .block = b, .symbol_size = (uint16_t)T, .k = (uint8_t)k,
					  .m = (uint8_t)m, .kind = kind};
		for (uint32_t i = 0; i < k + m; i++) {
			uint8_t *pkt = s->evpkts + (size_t)i * s->pkt_len;
			h.pn = s->next_pn++;
			h.esi = (uint8_t)i;
			wire_data_hdr_encode(pkt, &h);
			if (aead_seal(sc->aead, h.pn, pkt, WIRE_DATA_HDR_LEN, i < k ? src[i] : rep[i - k], T,
				      pkt + WIRE_DATA_HDR_LEN, pkt + WIRE_DATA_HDR_LEN + T) != 0) {
				memset(s->evpkts, 0, (size_t)(k + m) * s->pkt_len); /* none leaves */
				txm_add(TXM_SEAL_ERRORS, 1);
				log_rl(LOG_ERROR, "a packet of %s (object %" PRIu64 ") could not be sealed "
						  "(AEAD failure, sluice_tx_seal_errors_total)", kind_name(kind), id);
				return SMALL_FAILED;
			}
			s->evwire[i].data = pkt;
			s->evwire[i].len = plen;
		}
		/* The source packets and the first repair packet now (one lost packet costs no
		 * wait), the other repair packets spread out. */
		uint32_t first = k + (m ? 1 : 0);
		if (!pace_send(s, s->evwire, first))
			return SMALL_STOPPED;
		for (uint32_t i = 1; i < m; i++)
			trickle_add(s, s->evwire[k + i].data, plen, now + i * EVENT_SPREAD_NS);
	}
	return SMALL_SENT;
}
