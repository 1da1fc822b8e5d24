/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The link role: its state machine, and its set-up, loop and tear-down. The parts live beside
 * this file: data.c (the data path), sessions.c (announcements), objects.c (reassembly),
 * idwin.c (resolved ids), pending.c (datagrams waiting for an announcement), out.c (messages to
 * the deliver role), state.c (STATE/senders), timers.c; internal.h is what they share.
 *
 * Sessions: a session opens on a valid announcement (pinned sender key, our receiver key, its
 * MAC under the key only that sender and this receiver can compute, then its signature, and a
 * counter not older than the newest seen for that sender) and is kept while its announcements
 * arrive. The MAC comes first, so forged announcements never use up the signature checks. A
 * newer session from the same sender means the sender restarted: the old one is retired, finishes what is in flight for RETIRE_GRACE_NS, then its partial
 * objects are declared lost.
 *
 * Objects: (session, id, kind) -> partial object; blocks hold (K + M) symbol slots until K
 * symbols are in, then are decoded and emitted. An object id is *resolved* once delivered
 * (file content and manifest) or declared lost; packets for resolved ids are dropped before
 * any cryptography. An id is declared lost when the sender's announcements have said for
 * LOST_GRACE_NS that it has left completely (done object id) and it is still incomplete or was
 * never seen, or when limits.memory evicts it. File ids below the done id of the announcement
 * that opens a session, which this receiver never got, are declared lost at once, as one range
 * (sent before it heard the session, or while it was stopped). Event batches have ids of their
 * own (WIRE_EVENT_ID_BASE up), never counted as lost objects: their loss shows as a seq gap;
 * a partial batch is dropped once idle for LOST_GRACE_NS.
 *
 * Per datagram, cheapest checks first: header shape, session, replay window, parameters,
 * resolved id, completed block, then AEAD, then FEC.
 */
#include "rx/link/internal.h"

void reject_packet(enum rx_metric why)
{
	rxm_add(RXM_REJECTED, 1);
	rxm_add(why, 1);
}

void linkrole_packet(struct linkrole *l, uint8_t *pkt, size_t len, uint64_t now)
{
	uint64_t session;
	rxm_add(RXM_PACKETS, 1);
	int t = wire_peek(pkt, len, &session);
	if (t == WIRE_TYPE_DATA)
		data_packet(l, pkt, len, now);
	else if (t == WIRE_TYPE_ANNOUNCE)
		announce_packet(l, pkt, len, now);
	else
		reject_packet(RXM_REJ_MALFORMED);
	if (t == WIRE_EVERSION && len > 2) /* Sluice's magic, another version: say so plainly */
		log_rl(LOG_WARN, "a datagram of wire version %u: this receiver speaks version %d; the "
				 "sender runs a Sluice release of another wire format (README, Upgrading)",
		       (unsigned)pkt[2], WIRE_VERSION_2);
}

int linkrole_new(struct linkrole **out, const struct linkrole_config *c)
{
	struct linkrole *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->c = *c;
	l->nsessions = c->nsenders * SESSIONS_PER_SENDER;
	l->sessions = calloc(l->nsessions ? l->nsessions : 1, sizeof(*l->sessions));
	l->snd = calloc(c->nsenders ? c->nsenders : 1, sizeof(*l->snd));
	l->codec = fec_codec_new();
	/* Idle buffers kept for reuse: outside limits.memory, so a small share of it. */
	l->pool = bufpool_new(c->memory_limit / 8 < POOL_BYTES ? c->memory_limit / 8 : POOL_BYTES);
	l->scratch = malloc(65536);
	if (!l->sessions || !l->snd || !l->codec || !l->pool || !l->scratch) {
		linkrole_free(l);
		return -ENOMEM;
	}
	if (c->out_fd >= 0)
		fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
	if (c->ev_fd >= 0)
		fcntl(c->ev_fd, F_SETFL, fcntl(c->ev_fd, F_GETFL) | O_NONBLOCK);
	if (c->keys)
		memcpy(l->rx_pk, c->keys->dh_pk, 32);
	else if (c->rx_pk)
		memcpy(l->rx_pk, c->rx_pk, 32);
	for (size_t i = 0; i < c->nsenders; i++) {
		if (!c->keys && c->mac_keys) {
			memcpy(l->snd[i].mac_key, c->mac_keys + i * ANNAUTH_KEY_LEN, ANNAUTH_KEY_LEN);
		} else if (c->keys && annauth_key_rx(l->snd[i].mac_key, c->keys->dh_sk,
						     c->keys->dh_pk, c->senders[i]) != 0) {
			log_error("pinned sender key %zu has no X25519 form: cannot check its announcements", i);
			linkrole_free(l);
			return -EINVAL;
		}
	}
	l->gone = calloc(l->nsessions ? l->nsessions : 1, sizeof(*l->gone));
	if (!l->gone) {
		linkrole_free(l);
		return -ENOMEM;
	}
	state_load(l);
	session_gone_settle(l);
	if (c->nresume) {
		l->resume = calloc(c->nresume, sizeof(*l->resume));
		if (!l->resume) {
			linkrole_free(l);
			return -ENOMEM;
		}
		for (size_t i = 0; i < c->nresume; i++) {
			size_t nb = (c->resume[i].top + 7) / 8;
			uint8_t *done = malloc(nb ? nb : 1);
			if (!done) {
				linkrole_free(l);
				return -ENOMEM;
			}
			memcpy(done, c->resume[i].done, nb);
			l->resume[l->nresume] = c->resume[i];
			l->resume[l->nresume++].done = done;
		}
		for (size_t i = 0; i < l->nresume;) { /* of a session no pinned sender had: never back */
			bool known = false;
			for (size_t j = 0; j < c->nsenders; j++)
				known |= l->resume[i].session == l->snd[j].session;
			if (known) {
				i++;
				continue;
			}
			struct msg m = {.type = MSG_LOST, .session = l->resume[i].session,
					.object = l->resume[i].object, .kind = WIRE_KIND_FILE};
			static const char why[] = "kept at a clean stop, but its session is not current";
			m.data = (const uint8_t *)why;
			m.data_len = sizeof(why) - 1;
			out_emit(l, &m);
			session_resume_drop(l, i);
		}
	}
	*out = l;
	return 0;
}

void linkrole_stop(struct linkrole *l) { __atomic_store_n(&l->stop, 1, __ATOMIC_RELAXED); }

/* Bytes queued for the deliver role beyond which the link role stops reading the link (plus
 * what the datagrams already read complete: one batch, and those of a session that opens). */
static uint64_t queue_max(const struct linkrole *l)
{
	return l->c.memory_limit / 4 < QUEUE_BYTES ? l->c.memory_limit / 4 : QUEUE_BYTES;
}

/* The queue for the deliver role is over its cap and will not drain now: the link role stops
 * reading the socket until it has room, rather than let the queue grow (nothing it hands over
 * is in limits.memory). The kernel drops what the socket cannot hold meanwhile, counted by the
 * tick (check_socket_drops); the objects that cannot complete are then said lost as usual. */
static int run_behind(struct linkrole *l, uint64_t now)
{
	if (!l->behind_ns) {
		l->behind_ns = now;
		log_rl(LOG_WARN, "the deliver role is behind (%" PRIu64 " bytes queued for it): not "
				 "reading the link until it catches up; datagrams the socket cannot hold "
				 "meanwhile are dropped and counted", l->qbytes);
	}
	struct pollfd p[2] = {{.fd = l->q[0].head ? l->c.out_fd : -1, .events = POLLOUT},
			      {.fd = l->q[1].head ? l->c.ev_fd : -1, .events = POLLOUT}};
	poll(p, 2, deadline_ms(l->last_tick + TICK_NS, now));
	now = deadline_now();
	if (deadline_due(l->last_tick + TICK_NS, now))
		linkrole_tick(l, now); /* the timers keep running */
	linkrole_flush(l);
	if (l->peer_gone) {
		log_error("the deliver role's channel is closed: stopping");
		return -EPIPE;
	}
	return 0;
}

int linkrole_run_once(struct linkrole *l)
{
	struct link_pkt pkts[LINK_RX_BATCH];
	uint64_t now = deadline_now();
	if (l->qbytes > queue_max(l) && !linkrole_flush(l) && l->qbytes > queue_max(l))
		return run_behind(l, now);
	if (l->behind_ns) {
		log_info("the deliver role caught up after %.1f s: reading the link again",
			 (double)(now - l->behind_ns) / 1e9);
		l->behind_ns = 0;
	}
	/* The tick runs on every pass once due (common/deadline.h), however many datagrams
	 * come; a receive waits no longer than until it is due. */
	int wait = l->q[0].head || l->q[1].head ? 1 : deadline_ms(l->last_tick + TICK_NS, now);
	int n = link_recv(l->c.link, pkts, LINK_RX_BATCH, wait);
	if (n < 0) {
		log_error("link receive: %s", strerror(-n));
		return n;
	}
	now = deadline_now();
	for (int i = 0; i < n; i++)
		linkrole_packet(l, pkts[i].data, pkts[i].len, now);
	if (deadline_due(l->last_tick + TICK_NS, now))
		linkrole_tick(l, now);
	linkrole_flush(l);
	if (l->peer_gone) {
		log_error("the deliver role's channel is closed: stopping");
		return -EPIPE;
	}
	return 0;
}

int linkrole_run(struct linkrole *l)
{
	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		int rc = linkrole_run_once(l);
		if (rc < 0)
			return rc;
	}
	if (l->c.state_msg)
		state_save(l); /* how far the current sessions got, for the deliver role to write */
	/* Unfinished file objects of current sessions, so the deliver role can keep their blocks. */
	for (struct robj *o = l->oldest; o; o = o->newer) {
		if (o->kind != WIRE_KIND_FILE || o->blocks_done == o->part.nblocks || o->s->retired)
			continue;
		struct msg m = {.type = MSG_PARTIAL, .session = o->s->id, .object = o->id,
				.length = o->len};
		out_emit(l, &m);
	}
	/* Hand over what is queued, within reason, so complete objects are not lost (the tick
	 * hook still runs: the monitor tells a stop in progress from a hung process by it). */
	for (int i = 0; i < 50 && !linkrole_flush(l); i++) {
		if (l->c.tick)
			l->c.tick(l->c.tick_ctx);
		struct pollfd p[2] = {{.fd = l->q[0].head ? l->c.out_fd : -1, .events = POLLOUT},
				      {.fd = l->q[1].head ? l->c.ev_fd : -1, .events = POLLOUT}};
		poll(p, 2, 20);
	}
	return 0;
}

void linkrole_free(struct linkrole *l)
{
	if (!l)
		return;
	if (l->snd && l->sessions && !l->c.state_msg)
		state_save(l); /* remember how far the current sessions got */
	while (l->oldest)
		obj_free(l, l->oldest);
	while (l->nresume)
		session_resume_drop(l, 0);
	free(l->resume);
	free(l->gone);
	for (size_t i = 0; l->sessions && i < l->nsessions; i++) {
		if (l->sessions[i].used) {
			aead_free(l->sessions[i].aead);
			free(l->sessions[i].files.bits);
			free(l->sessions[i].events.bits);
		}
	}
	for (int i = 0; i < 2; i++) {
		while (l->q[i].head) {
			struct outmsg *o = l->q[i].head;
			l->q[i].head = o->next;
			outmsg_free(l, o);
		}
	}
	while (l->phead) {
		struct pending *p = l->phead;
		l->phead = p->next;
		free(p);
	}
	free(l->sessions);
	if (l->snd)
		sodium_memzero(l->snd, l->c.nsenders * sizeof(*l->snd));
	free(l->snd);
	fec_codec_free(l->codec);
	bufpool_free(l->pool);
	free(l->scratch);
	free(l);
}

uint64_t linkrole_queued(const struct linkrole *l) { return l->qbytes; }
