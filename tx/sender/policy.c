/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender thread: what goes on the link when. In order of precedence:
 *
 *   1. repair packets of small objects that are due (trickle.c), first of all: a backlog of
 *      event batches must not starve them;
 *   2. event batches that are due (tx/evqueue.h), coded and sent by this thread (small.c), ahead
 *      of file content: taken before every batch of file packets, and a batch is kept within the
 *      pacer's burst (PACER_BURST_NS), so an event waits at most one batch;
 *   3. file content, one group of `interleave` blocks at a time (groups.c): the workers prepare
 *      group g+1 while this thread paces group g, then the manifests of the files whose content
 *      ended in g (small.c; a file is done once its last manifest copy has left);
 *   4. the session announcement whenever it is due (announce.c): after every batch of file
 *      packets, after every group, and while idle.
 *
 *   group_fill(cur) -> workers_submit(cur) -> workers_wait(prev) -> group_finish(prev)
 *     -> send_group(prev) -> prev = cur
 *
 * File content, manifests, event batches and repairs share the one pacer (pace.c): file
 * content gets what events leave of the rate. Idle (nothing queued or in flight), the thread
 * sleeps on the monotonic clock until the next of 1, 2 or 4 falls due, or work comes. At stop,
 * queued event batches and repairs go for up to a second.
 */
#include "tx/sender/internal.h"

#include "common/deadline.h"
#include "common/wire.h"
#include "tx/evqueue.h"
#include "tx/workers.h"

#define MANIFEST_SEND_TRIES 3 /* a manifest copy that could not be sealed, sent again */

static bool work_waiting(struct sender *s);
static bool send_group(struct sender *s, struct group *g);
static void send_events(struct sender *s, bool all);

void *policy_main(void *p)
{
	struct sender *s = p;
	struct group *prev = NULL;
	unsigned cur = 0;
	for (int i = 0; i < 3; i++)
		announce_send(s); /* early, so a listening receiver can open the session at once */
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->stop && !prev && !work_waiting(s)) {
			/* Idle: event batches, repair packets and announcements as they fall due
			 * (common/deadline.h), else sleep until the next, or until work comes. */
			uint64_t now = deadline_now();
			uint64_t due = s->c.events ? evq_due(s->c.events) : DEADLINE_NEVER;
			if (s->trickle)
				due = deadline_min(due, s->trickle->due);
			if (deadline_due(due, now)) {
				pthread_mutex_unlock(&s->mu);
				send_events(s, false);
				pthread_mutex_lock(&s->mu);
				continue;
			}
			if (deadline_due(s->next_announce_ns, now)) {
				pthread_mutex_unlock(&s->mu);
				announce_send(s);
				pthread_mutex_lock(&s->mu);
				continue;
			}
			/* On the monotonic clock: a wall-clock step must not stretch the wait
			 * (tests/e2e/test_wallclock.sh). */
			struct timespec ts = deadline_timespec(deadline_min(due, s->next_announce_ns));
			pthread_cond_clockwait(&s->cv, &s->mu, CLOCK_MONOTONIC, &ts);
		}
		bool stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		struct group *g = &s->groups[cur];
		group_fill(s, g);
		if (g->nblocks)
			workers_submit(s->workers, g->batch, g->jobptrs, g->nblocks);
		send_events(s, false);
		if (prev) {
			workers_wait(s->workers, prev->batch);
			group_finish(s, prev);
			if (!send_group(s, prev)) {
				workers_wait(s->workers, g->batch);
				prev = NULL;
				break;
			}
		}
		if (g->nblocks || g->nending) {
			prev = g;
			cur ^= 1;
		} else {
			prev = NULL;
		}
		announce_if_due(s);
	}
	if (prev)
		workers_wait(s->workers, prev->batch);
	/* Intake is closed by now: what is queued goes before we stop, for up to a second (a stop
	 * must finish within 2 s, whatever the link rate). */
	s->drain_until = mono_ns() + ANNOUNCE_INTERVAL_NS;
	send_events(s, true);
	trickle_send(s, true);
	return NULL;
}

/* Paces the group onto the link. Returns false when stopped part-way. */
static bool send_group(struct sender *s, struct group *g)
{
	for (unsigned p = 0, n; p < g->npkts; p += n) { /* send_batch may change (a new rate) */
		n = g->npkts - p < s->send_batch ? g->npkts - p : s->send_batch;
		if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			return false;
		send_events(s, false);
		if (!pace_send(s, &g->wire[p], n))
			return false; /* stopped: its files are not done, and go at the next start */
		/* The group's content in step with its packets, for a progress bar: exact once the
		 * group has left. */
		atomic_fetch_add(&s->content_sent, g->content * (p + n) / g->npkts - g->content * p / g->npkts);
		announce_if_due(s);
	}
	/* Then the manifests of the files whose content ended in the group. Their source packets
	 * leave now, their repair packets follow spread in time (trickle.c); a file is complete
	 * once its last manifest is handed over. */
	struct tx_obj *o;
	while ((o = object_pop_front(&g->mhead, &g->mtail))) {
		int rc = group_seal_manifest(s, o);
		if (rc != 0) {
			log_rl(LOG_ERROR, "cannot sign the manifest of %s/%s: %s; the file is kept, "
					  "not recorded as sent", o->file->spool, ESCAPED(o->file->relpath),
			       strerror(-rc));
			txm_add(TXM_MANIFEST_ERRORS, 1);
			if (o->last) { /* else the next copy tries again */
				object_outstanding_del(s, o->id);
				object_file_done(s, o->file, rc);
			}
			object_free(o);
			continue;
		}
		/* Signed once, so a copy that could not be sealed is sent again as it is: the same
		 * chain seq, no hole in the spool's chain. */
		enum small_result sent = SMALL_FAILED;
		for (int tries = 0; sent == SMALL_FAILED && tries < MANIFEST_SEND_TRIES; tries++)
			sent = small_send(s, WIRE_KIND_MANIFEST, o->mem, (size_t)o->len, o->id);
		if (sent == SMALL_STOPPED) { /* not done, like the manifests after it */
			object_push_front(&g->mhead, &g->mtail, o);
			return false;
		}
		if (sent == SMALL_FAILED) {
			/* This copy did not leave whole. An earlier copy's may have, but only the last
			 * copy completes a file: then the file is sent again, not recorded as sent (its
			 * chain seq was taken: rx reports it missing, a chain break). */
			if (o->last) {
				log_rl(LOG_ERROR, "the manifest of %s/%s did not leave (%d tries); the file "
						  "will be sent again", o->file->spool, ESCAPED(o->file->relpath),
				       MANIFEST_SEND_TRIES);
				txm_add(TXM_ABORTED, 1);
				object_outstanding_del(s, o->id);
				object_file_done(s, o->file, -EAGAIN);
			} else {
				log_rl(LOG_ERROR, "a copy of the manifest of %s/%s did not leave (%d tries); "
						  "the next copy is sent", o->file->spool,
				       ESCAPED(o->file->relpath), MANIFEST_SEND_TRIES);
			}
			object_free(o);
			continue;
		}
		if (o->last) {
			object_outstanding_del(s, o->id);
			s->objects++;
			txm_add(TXM_OBJECTS, 1);
			object_file_done(s, o->file, 0);
		}
		object_free(o);
	}
	return true;
}

/* Repair packets that are due, then every event batch that is due (all queued when `all`). */
static void send_events(struct sender *s, bool all)
{
	if (!s->c.events) {
		trickle_send(s, false); /* manifests' repair packets: also without events */
		return;
	}
	for (;;) {
		trickle_send(s, false); /* a backlog of batches must not starve earlier repairs */
		uint64_t now = mono_ns();
		uint64_t due = evq_due(s->c.events);
		if (due == UINT64_MAX || (!all && due > now) || (all && now > s->drain_until))
			return; /* at stop, what is left is counted as dropped by evq_close */
		/* A link too slow to take a batch before the stop ends: left queued, for evq_close to
		 * count and log as dropped at exit (pace.c gives up such a wait at a stop). */
		if (all && pace_stalled(s))
			return;
		uint8_t *obj = NULL;
		long n = evq_take(s->c.events, now, all, &obj);
		if (n <= 0)
			return;
		enum small_result sent = small_send(s, WIRE_KIND_EVENTS, obj, (size_t)n, s->next_ev_id++);
		if (sent == SMALL_SENT) {
			txm_add(TXM_EVENT_BATCHES, 1);
		} else if (sent == SMALL_FAILED) {
			txm_add(TXM_EVENT_BATCHES_LOST, 1);
			log_rl(LOG_ERROR, "an event batch could not be sent: its events are a seq gap at "
					  "the receiver (sluice_tx_event_batches_lost_total)");
		} else {
			txm_add(TXM_EVENT_BATCHES_CUT, 1);
			log_rl(LOG_ERROR, "an event batch was cut short by the stop: its events are a "
					  "seq gap at the receiver (sluice_tx_event_batches_cut_total)");
		}
		free(obj);
	}
}

static bool work_waiting(struct sender *s)
{
	return s->norm_head || s->queue;
}
