/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The link role's timers: socket drops, ids the sender finished long ago, retired sessions,
 * link health (health.c), saving STATE/senders.
 */
#include "rx/link/internal.h"

/* The sender's done id as announced at least LOST_GRACE_NS ago. */
static uint64_t settled_done_id(const struct rsession *s, uint64_t now)
{
	uint64_t d = 0;
	for (unsigned i = 0; i < s->nhist; i++)
		if (s->hist[i].t + LOST_GRACE_NS <= now)
			d = s->hist[i].done_id;
	return d;
}

/* Datagrams the kernel dropped because we did not read fast enough: FEC hides a few, so say
 * it plainly before objects start to go missing. */
static void check_socket_drops(struct linkrole *l)
{
	uint32_t d;
	if (!l->c.link || sock_drops(link_fd(l->c.link), &d) != 0)
		return;
	uint32_t n = d - l->sock_drops;
	if (l->sock_drops_known && n) {
		rxm_add(RXM_SOCKET_DROPPED, n);
		log_rl(LOG_WARN, "link: the kernel dropped %" PRIu32 " datagrams: the receive socket "
				 "was full (link.rate above what this receiver keeps up with, or it was "
				 "starved of CPU)", n);
	}
	l->sock_drops = d;
	l->sock_drops_known = true;
}

void linkrole_tick(struct linkrole *l, uint64_t now)
{
	check_socket_drops(l);
	while (l->phead && now - l->phead->t > PENDING_NS)
		pending_drop_head(l);
	for (size_t i = 0; i < l->nsessions; i++) {
		struct rsession *s = &l->sessions[i];
		if (!s->used)
			continue;
		if (s->retired && now - s->retired_ns > RETIRE_GRACE_NS) {
			session_close(l, s);
			continue;
		}
		uint64_t done = settled_done_id(s, now);
		/* Files never seen at all although the sender finished them long enough ago. */
		if (s->files.base < done)
			obj_declare_lost_range(l, s, s->files.base, done, "no packet of it arrived");
	}
	/* Partial objects the sender finished long ago, idle for the grace period. */
	for (struct robj *o = l->oldest, *n; o; o = n) {
		n = o->newer;
		struct rsession *s = o->s;
		bool gone = wire_id_is_event(o->id) || o->id < settled_done_id(s, now);
		if (gone && now - o->last_ns > LOST_GRACE_NS) {
			char why[96];
			snprintf(why, sizeof(why), "incomplete: %u of %u blocks", o->blocks_done,
				 o->part.nblocks);
			obj_declare_lost(l, s, o->id, o->kind == WIRE_KIND_EVENTS ? WIRE_KIND_EVENTS : WIRE_KIND_FILE,
				     why);
			n = l->oldest; /* restart: several objects may have gone */
		}
	}
	bool up = health_tick(l, now);
	if (up && now - l->last_save >= SAVE_NS) {
		state_save(l);
		l->last_save = now;
	}
	l->last_tick = now;
	if (l->c.tick)
		l->c.tick(l->c.tick_ctx);
}
