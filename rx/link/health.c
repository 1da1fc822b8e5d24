/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link health, from the announcements (every second: they double as the heartbeat) and the
 * link role's timer:
 *
 *   link up      while an announcement came less than LINK_UP_NS (3 s: 3 missed) ago;
 *                one log line when it rises and one when it falls.
 *   loss ratio   announcements carry the packets the session has sent; between the oldest
 *                of the last LOSS_HIST counts kept (about 10 s back) and the newest
 *                announcement, (sent - arrived) / sent. The worst of the sessions heard.
 *   heartbeat    age of the newest valid announcement, set by the timer.
 *   clock skew   this receiver's wall clock minus the sender's announced time, at receipt (the
 *                transit time included); one log line
 *                when it goes over SKEW_WARN_NS and one when it is back under SKEW_OK_NS.
 *
 * What arrived counts DATA datagrams past the replay window (data.c): redundant ones too, as
 * they are not lost; those refused as malformed or forged do not count. A forger can only
 * make the ratio look better, never worse, and only with datagrams of a live session's id.
 */
#include "rx/link/internal.h"

#define SKEW_WARN_NS 2000000000ll
#define SKEW_OK_NS 1500000000ll /* below the warning: a skew near 2 s does not flap */
#define LOSS_STEP_NS 900000000ull /* counts kept about a second apart (announcements: 1 s) */

static bool session_up(const struct rsession *s, uint64_t now)
{
	return s->used && s->last_ann_ns && now - s->last_ann_ns < LINK_UP_NS;
}

/* lost / sent over the session's window, in millionths; 0 when nothing was sent. */
static uint64_t window_loss(const struct rsession *s, uint64_t sent, uint64_t got)
{
	uint64_t ds = sent - s->lossh[0].sent, dg = got - s->lossh[0].got;
	if (ds == 0 || dg >= ds)
		return 0; /* duplicates, or packets of the span before arriving late */
	return (uint64_t)((unsigned __int128)(ds - dg) * 1000000u / ds);
}

static void publish_loss(struct linkrole *l, uint64_t now)
{
	uint64_t worst = 0;
	for (size_t i = 0; i < l->nsessions; i++)
		if (session_up(&l->sessions[i], now) && l->sessions[i].loss_micro > worst)
			worst = l->sessions[i].loss_micro;
	metric_set_micro(&rx_metrics[RXM_LOSS_RATIO], (int64_t)worst);
}

static void track_loss(struct rsession *s, const struct wire_announce *a, uint64_t now)
{
	if (s->nloss && a->packets < s->lossh[s->nloss - 1].sent)
		s->nloss = 0; /* cannot happen within a session: start again rather than wrap */
	if (s->nloss)
		s->loss_micro = window_loss(s, a->packets, s->pkts_in);
	if (s->nloss && now - s->lossh[s->nloss - 1].t < LOSS_STEP_NS)
		return;
	if (s->nloss == LOSS_HIST) {
		memmove(&s->lossh[0], &s->lossh[1], sizeof(s->lossh[0]) * (LOSS_HIST - 1));
		s->nloss--;
	}
	s->lossh[s->nloss].t = now;
	s->lossh[s->nloss].sent = a->packets;
	s->lossh[s->nloss].got = s->pkts_in;
	s->nloss++;
}

static void track_skew(struct sender_state *ss, const struct wire_announce *a)
{
	int64_t skew = (int64_t)(now_ns() - a->time_ns);
	int64_t mag = skew < 0 ? -skew : skew;
	char fp[17];
	metric_set_micro(&rx_metrics[RXM_CLOCK_SKEW], skew / 1000);
	if (!ss->skew_high && mag > SKEW_WARN_NS) {
		ss->skew_high = true;
		keys_fingerprint(a->sender_pk, fp);
		log_warn("sender %s: clock skew %+.1f s (this receiver's clock minus the sender's), "
			 "over %lld s: delivered files' mtimes and events' tx_time follow the sender's clock; "
			 "check NTP on both hosts", fp, (double)skew / 1e9, SKEW_WARN_NS / 1000000000);
	} else if (ss->skew_high && mag < SKEW_OK_NS) {
		ss->skew_high = false;
		keys_fingerprint(a->sender_pk, fp);
		log_info("sender %s: clock skew back within %lld s (%+.1f s)", fp,
			 SKEW_WARN_NS / 1000000000, (double)skew / 1e9);
	}
}

void health_announce(struct linkrole *l, struct rsession *s, const struct wire_announce *a,
		     uint64_t now)
{
	track_loss(s, a, now);
	publish_loss(l, now);
	track_skew(&l->snd[s->sender], a);
	metric_set_micro(&rx_metrics[RXM_HEARTBEAT_AGE], 0);
	metric_set(&rx_metrics[RXM_LINK_UP], 1);
	if (!l->link_up) {
		char fp[17];
		keys_fingerprint(a->sender_pk, fp);
		l->link_up = true;
		log_info("link up: announcements from sender %s arrive (session %016" PRIx64 ")", fp,
			 s->id);
	}
}

bool health_tick(struct linkrole *l, uint64_t now)
{
	uint64_t newest = 0;
	bool up = false;
	if (!l->started_ns)
		l->started_ns = now;
	for (size_t i = 0; i < l->nsessions; i++) {
		const struct rsession *s = &l->sessions[i];
		if (!s->used)
			continue;
		up |= session_up(s, now);
		if (s->last_ann_ns > newest)
			newest = s->last_ann_ns;
	}
	uint64_t age = now - (newest ? newest : l->started_ns);
	metric_set_micro(&rx_metrics[RXM_HEARTBEAT_AGE], (int64_t)(age / 1000));
	metric_set(&rx_metrics[RXM_LINK_UP], up ? 1 : 0);
	publish_loss(l, now);
	if (l->link_up && !up) {
		l->link_up = false;
		log_warn("link down: no announcement from any sender for %.1f s (%llu heartbeats "
			 "missed): the sender stopped, or the link or this host's network is down",
			 (double)age / 1e9, (unsigned long long)(age / 1000000000));
	}
	return up;
}
