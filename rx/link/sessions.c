/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sessions: announcements (MAC, replay, signature, counter), opening, rejoining and
 * retiring sessions, the file ids a session opens past, and objects resumed from a clean stop.
 */
#include "rx/link/internal.h"

struct rsession *session_find(struct linkrole *l, uint64_t id)
{
	for (size_t i = 0; i < l->nsessions; i++)
		if (l->sessions[i].used && l->sessions[i].id == id)
			return &l->sessions[i];
	return NULL;
}

/* The newest done id a session announced (for a retired one, the end its successor named):
 * every file id below it has left the sender. */
uint64_t session_end_id(const struct rsession *s)
{
	uint64_t end = 0;
	for (unsigned i = 0; i < s->nhist; i++)
		if (s->hist[i].done_id > end && !wire_id_is_event(s->hist[i].done_id))
			end = s->hist[i].done_id;
	return end;
}

void session_close(struct linkrole *l, struct rsession *s)
{
	/* The ids its announcements said had left, which never arrived, never will; this may come
	 * before the timers settled them (a third session took the slot early). */
	uint64_t end = session_end_id(s);
	if (s->files.bits && end > s->files.base)
		obj_declare_lost_range(l, s, s->files.base, end, "no packet of it arrived before its "
				       "sender session ended");
	/* Whatever is still partial can no longer complete. */
	for (;;) {
		struct robj *o = l->oldest;
		while (o && o->s != s)
			o = o->newer;
		if (!o)
			break;
		obj_declare_lost(l, s, o->id, o->kind, "sender session ended before it completed");
	}
	if (l->snd[s->sender].current == s)
		l->snd[s->sender].current = NULL;
	aead_free(s->aead);
	free(s->files.bits);
	free(s->events.bits);
	memset(s, 0, sizeof(*s));
}

/* A session just opened: which of its file ids are behind us. Those below the announced done
 * id left before this receiver heard the session (or, rejoining it, while this receiver was
 * stopped): those that never arrived are lost, said at once as a range, except those whose
 * authentic datagrams wait in the pending buffer, which go through the normal path. */
static void open_ids(struct linkrole *l, struct sender_state *ss, struct rsession *s,
		     const struct wire_announce *a, bool rejoin)
{
	uint64_t done = a->done_object_id ? a->done_object_id : 1;
	uint64_t from = 1;
	const char *why = ss->counter ? "sent before this receiver heard the session"
				      : "sent before this receiver first heard this sender";
	idwin_reset(&s->events, WIRE_EVENT_ID_BASE);
	idwin_reset(&s->files, 1);
	if (rejoin && ss->base) {
		from = ss->base;
		why = "sent while this receiver was stopped";
		idwin_load(&s->files, from, ss->above, SAVED_ABOVE / 64);
	}
	uint64_t to = pending_floor(l, s, done);
	if (to > s->files.base)
		obj_declare_lost_range(l, s, s->files.base, to, why);
}

/* A session the deliver role may not know yet (a fresh deliver process): named, no flags. */
static void name_session(struct linkrole *l, uint64_t id, const uint8_t sender_pk[32])
{
	struct msg m = {.type = MSG_SESSION, .session = id};
	memcpy(m.sender_pk, sender_pk, 32);
	out_emit(l, &m);
}

/* A new session of a sender that names the session it ran before, and where that one ended
 * (0: it did not stop cleanly). Returns true when the files of that session this receiver may
 * have missed cannot be known, which the caller reports. */
static bool account_prev(struct linkrole *l, struct sender_state *ss, const struct wire_announce *a,
			 uint64_t now)
{
	struct rsession *old = ss->current && ss->current->id == a->prev_session ? ss->current : NULL;
	if (!a->prev_session)
		return false;
	if (old) {
		/* Heard until now: its last seconds are what its own announcements did not cover. */
		if (a->prev_done_id && old->nhist) {
			if (old->nhist == HIST) {
				memmove(&old->hist[0], &old->hist[1], sizeof(old->hist[0]) * (HIST - 1));
				old->nhist--;
			}
			old->hist[old->nhist].t = now;
			old->hist[old->nhist].done_id = a->prev_done_id;
			old->nhist++;
		}
		return false;
	}
	if (a->prev_session != ss->session || !ss->base)
		return true; /* a session this receiver never heard (or kept no record of) */
	if (!a->prev_done_id)
		return true; /* heard, but it crashed while this receiver was stopped */
	/* Heard before this receiver stopped: what it sent after that, minus what was resolved
	 * then and the objects kept at the stop (rx/kept.h, reported on their own). */
	struct rsession gone = {.id = a->prev_session};
	gone.files.bits = calloc(RESOLVED_WINDOW / 8, 1);
	if (!gone.files.bits) {
		log_rl(LOG_ERROR, "out of memory accounting for session %016" PRIx64, a->prev_session);
		return true;
	}
	idwin_load(&gone.files, ss->base, ss->above, SAVED_ABOVE / 64);
	for (size_t i = 0; i < l->nresume; i++)
		if (l->resume[i].session == a->prev_session)
			idwin_set(&gone.files, l->resume[i].object);
	if (a->prev_done_id > gone.files.base)
		obj_declare_lost_range(l, &gone, gone.files.base, a->prev_done_id,
				   "sent while this receiver was stopped; the sender has restarted since");
	free(gone.files.bits);
	return false;
}

/* At the start: retired sessions STATE/senders saved (the receiver stopped within their grace,
 * or its link process was killed). Their ids that had not arrived are said lost now, under
 * the session's sender (a SESSION message first, so the deliver role names it); then saved
 * again without them, so that a later restart does not say them twice. */
void session_gone_settle(struct linkrole *l)
{
	if (!l->ngone)
		return;
	struct rsession tmp = {0};
	tmp.files.bits = calloc(RESOLVED_WINDOW / 8, 1);
	if (!tmp.files.bits) {
		log_error("out of memory accounting for the sessions that ended before the stop");
		return;
	}
	for (size_t i = 0; i < l->ngone; i++) {
		struct gone_session *g = &l->gone[i];
		struct msg m = {.type = MSG_SESSION, .session = g->session};
		memcpy(m.sender_pk, l->c.senders[g->sender], 32);
		out_emit(l, &m);
		tmp.id = g->session;
		idwin_reset(&tmp.files, g->base);
		for (unsigned b = 0; b < SAVED_ABOVE; b++)
			if (g->above[b / 64] & (1ull << (b % 64)))
				idwin_set(&tmp.files, g->base + b);
		obj_declare_lost_range(l, &tmp, g->base, g->end, "its sender session had ended (the "
				       "sender restarted) and this receiver stopped before they arrived");
	}
	free(tmp.files.bits);
	l->ngone = 0;
	state_save(l);
}

void session_resume_drop(struct linkrole *l, size_t i)
{
	free((void *)l->resume[i].done);
	l->resume[i] = l->resume[--l->nresume];
}

/* A session just opened. Rejoining the one that was current at the last clean stop: the file
 * objects the deliver role kept come back with their blocks done, so the sender's next copy
 * (fec.repeat) only needs to bring the rest. A new session of that sender instead: they can
 * never complete, and are declared lost. */
static void resume_objects(struct linkrole *l, struct sender_state *ss, struct rsession *s,
			   const struct wire_announce *a, bool rejoin, uint64_t now)
{
	for (size_t i = 0; i < l->nresume;) {
		const struct linkrole_resume *r = &l->resume[i];
		if (r->session != ss->session && r->session != s->id) {
			i++;
			continue;
		}
		struct fec_partition part;
		struct robj *o = NULL;
		if (rejoin && r->session == s->id &&
		    fec_partition_init(&part, r->length, a->symbol_size, a->block_max) == 0 &&
		    r->top <= part.nblocks && r->length <= l->c.object_limit &&
		    !obj_find(l, s, r->object, WIRE_KIND_FILE)) {
			struct wire_data_hdr h = {.session = s->id, .object_id = r->object,
						  .object_len = r->length, .kind = WIRE_KIND_FILE};
			o = obj_new(l, s, &h, &part);
		}
		if (o) {
			for (uint32_t b = 0; b < r->top; b++) {
				if (r->done[b >> 3] & (1u << (b & 7))) {
					o->done_bits[b >> 3] |= (uint8_t)(1u << (b & 7));
					o->blocks_done++;
				}
			}
			o->last_ns = now;
			log_info("session %016" PRIx64 " object %" PRIu64 ": resumed with %u of %u blocks",
				 s->id, r->object, o->blocks_done, o->part.nblocks);
		} else {
			/* Its session is gone: as a session that ends, it can no longer complete. */
			struct msg m = {.type = MSG_LOST, .session = r->session, .object = r->object,
					.kind = WIRE_KIND_FILE};
			static const char why[] = "kept at a clean stop, but its session did not come back";
			m.data = (const uint8_t *)why;
			m.data_len = sizeof(why) - 1;
			out_emit(l, &m);
			log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 " lost: %s", r->session,
				 r->object, why);
		}
		session_resume_drop(l, i);
	}
}

/* A MAC-valid announcement refused as a replay, of a session that is not the sender's current
 * one: a recording played again, or a second live session under the key (a one-shot `send`
 * beside the daemon), whose data is then dropped. Said once per session: a warn line and an
 * audit `session` line (the deliver role writes it). Bounded: the sessions said are kept in a
 * small table, and at most one new one a second is said (the rest wait for the next second). */
static void announce_refused(struct linkrole *l, struct sender_state *ss, const struct wire_announce *a,
			     uint64_t newest, uint64_t now)
{
	if (ss->current && ss->current->id == a->session)
		return; /* an old announcement of the current session, played again: counted only */
	for (unsigned i = 0; i < REFUSED_MAX; i++)
		if (l->refused[i] == a->session && a->session)
			return;
	uint64_t sec = now / 1000000000ull + 1;
	if (l->refused_sec == sec)
		return;
	l->refused_sec = sec;
	l->refused[l->refused_next++ % REFUSED_MAX] = a->session;
	char fp[17];
	keys_fingerprint(a->sender_pk, fp);
	log_warn("sender %s: announcement of session %016" PRIx64 " refused as a replay: its counter %"
		 PRIu64 " is below %" PRIu64 ", the newest under this key (session %016" PRIx64 "). A "
		 "recording played again, or a one-shot send beside the running sender: its data is "
		 "dropped (sluice_rx_rejected_unknown_session_total)", fp, a->session, a->counter,
		 newest, ss->current ? ss->current->id : ss->session);
	struct msg m = {.type = MSG_SESSION, .session = a->session, .counter = a->counter,
			.start_ns = a->start_ns, .flags = 4};
	memcpy(m.sender_pk, a->sender_pk, 32);
	out_emit(l, &m);
}

void announce_packet(struct linkrole *l, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct wire_announce a;
	if (wire_announce_decode(pkt, len, &a) != 0) {
		reject_packet(RXM_REJ_MALFORMED);
		return;
	}
	int si = -1;
	for (size_t i = 0; i < l->c.nsenders; i++)
		if (sodium_memcmp(a.sender_pk, l->c.senders[i], 32) == 0)
			si = (int)i;
	if (si < 0 || sodium_memcmp(a.receiver_pk, l->rx_pk, 32) != 0) {
		/* Named by fingerprint, as operators compare keys when pairing hosts. */
		char sfp[17], rfp[17], ownfp[17];
		keys_fingerprint(a.sender_pk, sfp);
		reject_packet(RXM_REJ_SENDER);
		if (si < 0) {
			log_rl(LOG_WARN, "announcement from sender key %s, which is not pinned (keys.senders)",
			       sfp);
		} else {
			keys_fingerprint(a.receiver_pk, rfp);
			keys_fingerprint(l->rx_pk, ownfp);
			log_rl(LOG_WARN, "announcement from sender %s for receiver key %s, not this receiver's "
			       "(%s): that sender's keys.receiver is another rx.pub", sfp, rfp, ownfp);
		}
		return;
	}
	struct sender_state *ss = &l->snd[si];
	/* Before anything costly: only this sender and this receiver can make the MAC. */
	if (!annauth_check(a.mac, ss->mac_key, pkt, WIRE_ANNOUNCE_MACED_LEN)) {
		reject_packet(RXM_REJ_ANN_MAC);
		log_rl(LOG_WARN, "announcement with a bad MAC: forged (made without either end's secret "
				 "key) or corrupted; refused before its signature is checked");
		return;
	}
	/* Only the sender makes valid MACs (this receiver makes none), so a MAC-valid counter and
	 * clock are the sender's: one not newer than the newest seen is a recording played
	 * again, refused before its signature, so that replays cannot use up the checks. */
	if (a.counter < ss->mac_counter || (a.counter == ss->mac_counter && a.time_ns <= ss->mac_time)) {
		reject_packet(RXM_REJ_REPLAY);
		if (a.counter < ss->mac_counter)
			announce_refused(l, ss, &a, ss->mac_counter, now);
		return;
	}
	ss->mac_counter = a.counter;
	ss->mac_time = a.time_ns;
	struct rsession *s = session_find(l, a.session);
	bool opened = false;
	if (s && (s->sender != si || a.time_ns <= s->ann.time_ns)) {
		reject_packet(RXM_REJ_REPLAY); /* an old or repeated announcement */
		return;
	}
	/* Only newer sessions, or the newest one again (this receiver restarted meanwhile). */
	bool rejoin = !s && ss->counter && a.counter == ss->counter && a.session == ss->session;
	if (!s && !rejoin && a.counter <= ss->counter && ss->counter) {
		reject_packet(RXM_REJ_REPLAY);
		log_rl(LOG_WARN, "announcement of an older session (counter %" PRIu64 " <= %" PRIu64
				 "): replay refused", a.counter, ss->counter);
		if (a.counter < ss->counter)
			announce_refused(l, ss, &a, ss->counter, now);
		return;
	}
	uint64_t sec = now / 1000000000ull;
	if (ss->verify_sec != sec) {
		ss->verify_sec = sec;
		ss->verify_count = 0;
	}
	if (++ss->verify_count > VERIFY_PER_SEC) {
		reject_packet(RXM_REJ_AUTH);
		return;
	}
	if (crypto_sign_verify_detached(pkt + WIRE_ANNOUNCE_SIGNED_LEN, pkt, WIRE_ANNOUNCE_SIGNED_LEN,
					a.sender_pk) != 0) {
		reject_packet(RXM_REJ_AUTH);
		log_rl(LOG_WARN, "announcement with a bad signature");
		return;
	}
	if (!s) {
		struct session_secret sec_keys;
		int drc = l->c.derive ? l->c.derive(l->c.derive_ctx, pkt, len, &sec_keys)
				      : !l->c.keys ? -EACCES
				      : session_rx_derive(&sec_keys, a.ephemeral_pk, l->c.keys->dh_sk,
							  l->c.keys->dh_pk, a.sender_pk, a.session, a.aead);
		if (drc != 0) {
			reject_packet(RXM_REJ_AUTH);
			return;
		}
		/* A slot: a free one of this sender's, else its retired one. */
		struct rsession *slot = NULL;
		for (size_t i = 0; i < SESSIONS_PER_SENDER; i++) {
			struct rsession *c = &l->sessions[(size_t)si * SESSIONS_PER_SENDER + i];
			if (!c->used) {
				slot = c;
				break;
			}
			if (c->retired && (!slot || c->retired_ns < slot->retired_ns))
				slot = c;
		}
		if (!slot)
			slot = &l->sessions[(size_t)si * SESSIONS_PER_SENDER];
		if (slot->used)
			session_close(l, slot);
		bool restart = ss->current != NULL;
		if (ss->current) {
			ss->current->retired = true;
			ss->current->retired_ns = now;
		}
		s = slot;
		s->used = true;
		s->id = a.session;
		s->sender = si;
		s->counter = a.counter;
		s->ann = a; /* now, not below: pending_floor bounds packet numbers by it */
		s->aead = aead_new(&sec_keys);
		s->files.bits = calloc(RESOLVED_WINDOW / 8, 1);
		s->events.bits = calloc(RESOLVED_WINDOW / 8, 1);
		session_secret_wipe(&sec_keys);
		if (!s->aead || !s->files.bits || !s->events.bits) {
			aead_free(s->aead);
			free(s->files.bits);
			free(s->events.bits);
			memset(s, 0, sizeof(*s));
			log_rl(LOG_ERROR, "out of memory opening a session");
			return;
		}
		/* refuse what this session sent before our restart */
		replay_init_floor(&s->replay, rejoin ? ss->pn_floor : 0);
		/* The deliver role hears of every session before a loss of it: its lines then name
		 * the sender, and a kept manifest can be judged. */
		if (!rejoin && a.prev_session)
			name_session(l, a.prev_session, a.sender_pk);
		if (ss->session && ss->session != a.prev_session && ss->session != a.session)
			name_session(l, ss->session, a.sender_pk);
		bool unaccounted = !rejoin && account_prev(l, ss, &a, now);
		struct msg m = {.type = MSG_SESSION, .session = a.session, .counter = a.counter,
				.start_ns = a.start_ns,
				.flags = (restart ? 1u : 0u) | (unaccounted ? 2u : 0u)};
		memcpy(m.sender_pk, a.sender_pk, 32);
		out_emit(l, &m);
		resume_objects(l, ss, s, &a, rejoin, now);
		open_ids(l, ss, s, &a, rejoin);
		ss->current = s;
		ss->counter = a.counter;
		ss->session = a.session;
		if (!rejoin)
			ss->pn_floor = 0;
		state_save(l);
		rxm_add(RXM_SESSIONS, 1);
		char fp[17];
		keys_fingerprint(a.sender_pk, fp);
		if (restart) {
			rxm_add(RXM_RESTARTS, 1);
			log_rlk(LOG_WARN, fp, "sender %s restarted: new session %016" PRIx64 " (counter %" PRIu64 ")",
				 fp, a.session, a.counter);
		} else {
			log_rlk(LOG_INFO, fp, "sender %s: session %016" PRIx64 " (counter %" PRIu64 ", %u-byte symbols)",
				 fp, a.session, a.counter, a.symbol_size);
		}
		if (unaccounted) {
			rxm_add(RXM_UNACCOUNTED, 1);
			log_rlk(LOG_WARN, fp, "sender %s: how far its previous session %016" PRIx64 " got is not known "
				 "(it did not stop cleanly, or this receiver never heard it): files it sent "
				 "that this receiver did not get are not reported; see the sender's journal",
				 fp, a.prev_session);
		}
		opened = true;
	}
	s->ann = a;
	s->last_ann_ns = now;
	if (s->nhist == HIST) {
		memmove(&s->hist[0], &s->hist[1], sizeof(s->hist[0]) * (HIST - 1));
		s->nhist--;
	}
	s->hist[s->nhist].t = now;
	s->hist[s->nhist].done_id = a.done_object_id;
	s->nhist++;
	if (opened)
		pending_claim(l, a.session, now);
	health_announce(l, s, &a, now); /* after the claim: those packets were sent before a */
}
