/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The link role's parts (the files of rx/link/) and what they share: the state of a struct linkrole,
 * and the functions one part calls in another. Not for use outside rx/link/.
 */
#ifndef SLUICE_RX_LINK_INTERNAL_H
#define SLUICE_RX_LINK_INTERNAL_H

#include "rx/link/linkrole.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "common/annauth.h"
#include "common/deadline.h"
#include "common/log.h"
#include "common/manifest.h"
#include "common/replay.h"
#include "common/session.h"
#include "common/wire.h"
#include "fec/fec.h"
#include "hw/link.h"
#include "hw/sockdrops.h"
#include "rx/bufpool.h"
#include "rx/msg.h"
#include "rx/ring.h"
#include "rx/rx_metrics.h"

#define SESSIONS_PER_SENDER 2
#define RESOLVED_WINDOW 65536u /* ids tracked above the resolved base */
#define LOST_GRACE_NS 2000000000ull
#define RETIRE_GRACE_NS 10000000000ull
#define LINK_UP_NS 3000000000ull
#define TICK_NS 100000000ull
#define VERIFY_PER_SEC 50
#define OBJ_BUCKETS 4096
#define EVENTS_MAX_LEN (4u << 20)
#define HIST 16
#define SAVED_ABOVE RESOLVED_WINDOW /* resolved file ids above the base kept in STATE/senders:
				     all the window holds, so a rejoin never calls a delivered id lost */
#define SAVE_NS 5000000000ull
#define LOSS_HIST 11 /* packet counts kept per session, about a second apart: the loss window */
#define POOL_BYTES (64u << 20)  /* idle block buffers kept for reuse */
#define REFUSED_MAX 16 /* sessions whose refused announcements were said (audited) */
#define QUEUE_BYTES (64u << 20) /* queued for the deliver role before the link role stops reading */

struct rblock {
	uint8_t k, m;
	uint16_t have;
	bool present[FEC_MAX_SYMBOLS];
	uint8_t *buf; /* (k + m) * T; source symbol i at i * T */
};

struct rsession;

struct robj {
	struct robj *hnext;
	struct robj *older, *newer; /* by creation, for eviction */
	struct rsession *s;
	uint64_t id;
	uint8_t kind;
	uint64_t len;
	struct fec_partition part;
	uint32_t blocks_done;
	uint8_t *done_bits;
	struct rblock **active;
	uint8_t *mem; /* MANIFEST / EVENTS: the whole object */
	uint64_t last_ns;
	size_t bytes; /* accounted */
};

/* Which ids are resolved: every id below base, and those set in the window above it. */
struct idwin {
	uint64_t base;
	uint8_t *bits; /* RESOLVED_WINDOW bits, a ring indexed by id */
};

struct rsession {
	bool used;
	uint64_t id;
	int sender;
	uint64_t counter;
	struct wire_announce ann;
	struct aead *aead;
	struct replay replay;
	uint64_t last_ann_ns;
	bool retired;
	uint64_t retired_ns;
	struct idwin files, events; /* the two id spaces (common/wire.h) */
	struct {
		uint64_t t, done_id;
	} hist[HIST];
	unsigned nhist;
	uint64_t pkts_in; /* DATA datagrams of this session past the replay window, not refused */
	struct {
		uint64_t t, sent, got; /* announced packets sent, pkts_in then */
	} lossh[LOSS_HIST];
	unsigned nloss;
	uint64_t loss_micro; /* over lossh: lost / sent, in millionths */
};

/* Datagrams of a session not yet announced, kept briefly: a receiver that (re)starts while the
 * sender is busy would otherwise drop up to a second of data waiting for the next
 * announcement. Nothing here is trusted: once a signed announcement opens the session, the
 * datagrams go through the normal path, AEAD included. Bounded in bytes and age. */
#define PENDING_NS 3000000000ull /* announcements come every second */

struct pending {
	struct pending *next;
	uint64_t session;
	uint64_t t;
	size_t len;
	uint8_t data[];
};

/* A message on its way to the deliver role: data[0, len) is the whole message, or only its
 * head when ext holds the data bytes (a block buffer, given back to the pool once written). */
struct outmsg {
	struct outmsg *next;
	size_t len, off;
	uint8_t *ext;
	size_t ext_len;
	size_t held; /* bytes this message keeps: len, and ext's unused tail */
	uint8_t data[];
};

struct outq {
	struct outmsg *head, *tail;
};

struct sender_state {
	uint64_t counter;      /* newest session counter seen */
	uint64_t session;      /* and its session id: an rx restart may rejoin it */
	uint64_t pn_floor;     /* packets of that session below this were seen before */
	uint64_t verify_sec;   /* rate limit of signature checks (MAC-valid ones only) */
	uint64_t mac_counter, mac_time; /* newest MAC-valid announcement: (counter, tx time) */
	unsigned verify_count;
	bool skew_high;        /* its clock skew was last said to be over SKEW_WARN_NS */
	uint64_t base;         /* file ids of `session` below this were resolved, as saved */
	uint64_t above[SAVED_ABOVE / 64]; /* and those of the SAVED_ABOVE ids from base */
	uint8_t mac_key[ANNAUTH_KEY_LEN];
	struct rsession *current;
};

/* A retired session as STATE/senders saved it: its file ids base .. end - 1 not set in above
 * had not arrived, and never will (the session ended); said lost at the next start. */
struct gone_session {
	int sender;
	uint64_t session, base, end;
	uint64_t above[SAVED_ABOVE / 64];
};

struct linkrole {
	struct linkrole_config c;
	uint8_t rx_pk[32];
	struct sender_state *snd;
	struct rsession *sessions; /* nsenders * SESSIONS_PER_SENDER */
	size_t nsessions;
	struct robj *buckets[OBJ_BUCKETS];
	struct robj *oldest, *newest;
	size_t nobjs;
	uint64_t mem_used;
	struct fec_codec *codec;
	struct bufpool *pool; /* block buffers */
	uint8_t *scratch; /* one symbol */
	struct outq q[2];  /* [0] to out_fd; [1] EVENTS to ev_fd, flushed first */
	uint64_t qbytes;
	struct pending *phead, *ptail;
	size_t pbytes;
	uint64_t last_tick;
	uint64_t last_save; /* STATE/senders, so a restart knows which file ids it had */
	struct linkrole_resume *resume; /* not yet claimed by a rejoining session; done copied */
	size_t nresume;
	struct gone_session *gone; /* loaded from STATE/senders: nsenders * SESSIONS_PER_SENDER */
	size_t ngone;
	uint32_t sock_drops; /* the socket's drop counter, last read */
	bool sock_drops_known;
	bool peer_gone; /* a lane to the deliver role broke (EPIPE) */
	bool link_up;   /* as last logged (health.c) */
	uint64_t refused[REFUSED_MAX]; /* announce_refused: said already */
	unsigned refused_next;
	uint64_t refused_sec; /* the second (+ 1) of the last one said */
	uint64_t behind_ns; /* since when the link is not read: the deliver role is behind; 0 */
	uint64_t started_ns; /* the first tick: heartbeat age before any announcement */
	volatile int stop;
};

/* linkrole.c */
void reject_packet(enum rx_metric why);

/* data.c */
void data_packet(struct linkrole *l, uint8_t *pkt, size_t len, uint64_t now);
bool pn_plausible(const struct rsession *s, uint64_t pn);

/* sessions.c */
struct rsession *session_find(struct linkrole *l, uint64_t id);
void session_close(struct linkrole *l, struct rsession *s);
uint64_t session_end_id(const struct rsession *s);
void session_gone_settle(struct linkrole *l);
void session_resume_drop(struct linkrole *l, size_t i);
void announce_packet(struct linkrole *l, const uint8_t *pkt, size_t len, uint64_t now);

/* health.c */
void health_announce(struct linkrole *l, struct rsession *s, const struct wire_announce *a, uint64_t now);
bool health_tick(struct linkrole *l, uint64_t now);

/* objects.c */
struct robj *obj_find(struct linkrole *l, struct rsession *s, uint64_t id, uint8_t kind);
void obj_account(struct linkrole *l, int64_t delta);
void obj_free(struct linkrole *l, struct robj *o);
void obj_declare_lost(struct linkrole *l, struct rsession *s, uint64_t id, uint8_t kind,
			 const char *reason);
void obj_declare_lost_range(struct linkrole *l, struct rsession *s, uint64_t first, uint64_t end,
			       const char *reason);
void obj_evict_oldest(struct linkrole *l, const struct robj *keep);
struct robj *obj_new(struct linkrole *l, struct rsession *s, const struct wire_data_hdr *h,
			    const struct fec_partition *part);
void obj_block_complete(struct linkrole *l, struct robj *o, uint32_t b, struct rblock *bl);

/* idwin.c */
bool idwin_has(const struct idwin *w, uint64_t id);
void idwin_reset(struct idwin *w, uint64_t base);
void idwin_set(struct idwin *w, uint64_t id);
void idwin_set_range(struct idwin *w, uint64_t first, uint64_t end);
uint64_t idwin_word(const struct idwin *w, uint64_t from);
void idwin_load(struct idwin *w, uint64_t base, const uint64_t *above, size_t n);
bool id_resolved(struct rsession *s, uint64_t id);
void id_set_resolved(struct rsession *s, uint64_t id);

/* pending.c */
void pending_drop_head(struct linkrole *l);
void pending_add(struct linkrole *l, uint64_t session, const uint8_t *pkt, size_t len, uint64_t now);
uint64_t pending_floor(struct linkrole *l, struct rsession *s, uint64_t base);
void pending_claim(struct linkrole *l, uint64_t session, uint64_t now);

/* out.c */
void outmsg_free(struct linkrole *l, struct outmsg *o);
void out_emit_buf(struct linkrole *l, const struct msg *m, uint8_t *ext, size_t ext_cap);
void out_emit(struct linkrole *l, const struct msg *m);

/* state.c */
void state_save(struct linkrole *l);
void state_load(struct linkrole *l);

#endif
