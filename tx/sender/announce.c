/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session announcement: signed with the sender's Ed25519 key and MACed for the receiver
 * (common/annauth.h), it opens the session on the receiver and says how far the sender got
 * (packets, objects, next and done file ids). Sent straight to the link, not paced: at start
 * (three), every 200 ms for the first two seconds, then every second.
 */
#include "tx/sender/internal.h"

#include <sodium.h>

#include "common/deadline.h"
#include "common/wire.h"

void announce_send(struct sender *s)
{
	struct wire_announce a = {0};
	uint8_t pkt[WIRE_ANNOUNCE_LEN];
	a.session = s->session;
	memcpy(a.sender_pk, s->c.keys->sign_pk, 32);
	memcpy(a.receiver_pk, s->c.rx_pk, 32);
	memcpy(a.ephemeral_pk, s->eph_pk, 32);
	a.counter = s->c.session_counter;
	/* The session's start plus monotonic time since: it only grows, whatever the wall clock
	 * does, and rx refuses an announcement whose time does not grow as a replay. */
	a.time_ns = s->start_ns + (mono_ns() - s->start_mono);
	a.start_ns = s->start_ns;
	a.packets = s->packets;
	a.objects = s->objects;
	a.next_object_id = s->next_id;
	a.done_object_id = object_done_id(s);
	a.symbol_size = (uint16_t)s->c.symbol_size;
	a.mtu = (uint16_t)(s->c.mtu > 65535 ? 65535 : s->c.mtu);
	a.overhead_pct = (uint16_t)s->c.overhead_pct;
	a.block_max = (uint8_t)s->c.block_max;
	a.interleave = (uint8_t)(s->c.interleave > 255 ? 255 : s->c.interleave);
	a.repeat = (uint8_t)s->c.repeat;
	a.aead = s->secret.aead;
	a.prev_session = s->c.prev_session;
	a.prev_done_id = s->c.prev_done_id;
	wire_announce_encode(pkt, &a);
	crypto_sign_detached(pkt + WIRE_ANNOUNCE_SIGNED_LEN, NULL, pkt, WIRE_ANNOUNCE_SIGNED_LEN,
			     s->c.keys->sign_sk);
	annauth_mac(pkt + WIRE_ANNOUNCE_MACED_LEN, s->ann_key, pkt, WIRE_ANNOUNCE_MACED_LEN);
	struct link_pkt lp = {pkt, sizeof(pkt)};
	if (link_send(s->c.link, &lp, 1) == 1) {
		txm_add(TXM_ANNOUNCES, 1);
		txm_add(TXM_PACKETS, 1);
		txm_add(TXM_BYTES, sizeof(pkt));
	} else {
		txm_add(TXM_SEND_ERRORS, 1);
	}
	/* Every second, but every 200 ms for the first two: a receiver that starts a moment
	 * after the sender (or loses the first ones) opens the session before much data waits. */
	uint64_t now = deadline_now();
	s->next_announce_ns = now + (now - s->start_mono < 2 * ANNOUNCE_INTERVAL_NS
					     ? ANNOUNCE_INTERVAL_NS / 5 : ANNOUNCE_INTERVAL_NS);
}

void announce_if_due(struct sender *s)
{
	if (deadline_due(s->next_announce_ns, deadline_now()))
		announce_send(s);
}
