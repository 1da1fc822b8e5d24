/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link role state machine.
 *
 * Sessions: a session opens on a valid announcement (pinned sender key, our receiver key, its
 * MAC under the key only that sender and this receiver can compute, then its signature, and a
 * counter not older than the newest seen for that sender) and is kept while its announcements
 * arrive. The MAC comes first, so forged announcements never use up the signature checks. A newer session from the same sender means the sender restarted:
 * the old one is retired, finishes what is in flight for RETIRE_GRACE_NS, then its partial
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
#include "rx/linkrole.h"

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
#define POOL_BYTES (64u << 20)  /* idle block buffers kept for reuse */
#define QUEUE_BYTES (64u << 20) /* queued for the deliver role before the link role waits */

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
	uint64_t base;         /* file ids of `session` below this were resolved, as saved */
	uint64_t above[SAVED_ABOVE / 64]; /* and those of the SAVED_ABOVE ids from base */
	uint8_t mac_key[ANNAUTH_KEY_LEN];
	struct rsession *current;
};

struct linkrole {
	struct linkrole_config c;
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
	uint32_t sock_drops; /* the socket's drop counter, last read */
	bool sock_drops_known;
	volatile int stop;
};

/* ---- messages to the deliver role ---- */

static struct outq *queue_for(struct linkrole *l, const struct msg *m)
{
	return m->type == MSG_EVENTS && l->c.ev_fd >= 0 ? &l->q[1] : &l->q[0];
}

static void outmsg_free(struct linkrole *l, struct outmsg *o)
{
	bufpool_put(l->pool, o->ext);
	free(o);
}

/* Queues m for the deliver role. With ext, m->data is ext (a pool buffer of ext_cap bytes that
 * the queue now owns) and is written from there, not copied. */
static void emit_buf(struct linkrole *l, const struct msg *m, uint8_t *ext, size_t ext_cap)
{
	if (l->c.out_fd < 0) {
		bufpool_put(l->pool, ext);
		return;
	}
	size_t len = ext ? MSG_HEAD_MAX : msg_encoded_len(m);
	struct outmsg *o = malloc(sizeof(*o) + len);
	if (!o) {
		bufpool_put(l->pool, ext);
		log_rl(LOG_ERROR, "out of memory queueing a message for the deliver role");
		return;
	}
	o->ext = ext;
	o->ext_len = ext ? m->data_len : 0;
	int n = ext ? msg_encode_head(m, o->data, len) : msg_encode(m, o->data, len);
	if (n < 0) {
		outmsg_free(l, o);
		log_rl(LOG_ERROR, "cannot encode message type %d", m->type);
		return;
	}
	o->len = (size_t)n + o->ext_len;
	o->held = o->len + (ext && ext_cap > m->data_len ? ext_cap - m->data_len : 0);
	o->off = 0;
	o->next = NULL;
	struct outq *q = queue_for(l, m);
	if (q->tail)
		q->tail->next = o;
	else
		q->head = o;
	q->tail = o;
	l->qbytes += o->held;
}

static void emit(struct linkrole *l, const struct msg *m) { emit_buf(l, m, NULL, 0); }

static bool flush_one(struct linkrole *l, struct outq *q, int fd)
{
	while (q->head) {
		struct outmsg *o = q->head;
		size_t head = o->len - o->ext_len;
		struct iovec iov[2];
		int niov = 0;
		if (o->off < head)
			iov[niov++] = (struct iovec){o->data + o->off, head - o->off};
		if (o->ext_len) {
			size_t done = o->off > head ? o->off - head : 0;
			iov[niov++] = (struct iovec){o->ext + done, o->ext_len - done};
		}
		ssize_t n = writev(fd, iov, niov);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_rl(LOG_ERROR, "deliver role channel: %s", strerror(errno));
			return false;
		}
		o->off += (size_t)n;
		if (o->off < o->len)
			return false;
		q->head = o->next;
		if (!q->head)
			q->tail = NULL;
		l->qbytes -= o->held;
		outmsg_free(l, o);
	}
	return true;
}

bool linkrole_flush(struct linkrole *l)
{
	bool ev = flush_one(l, &l->q[1], l->c.ev_fd);
	return flush_one(l, &l->q[0], l->c.out_fd) && ev;
}

/* ---- objects ---- */

static size_t bucket(const struct rsession *s, uint64_t id, uint8_t kind)
{
	uint64_t h = (id * 0x9e3779b97f4a7c15ull) ^ ((uintptr_t)s >> 4) ^ kind;
	return (size_t)(h ^ (h >> 29)) & (OBJ_BUCKETS - 1);
}

static struct robj *obj_find(struct linkrole *l, struct rsession *s, uint64_t id, uint8_t kind)
{
	for (struct robj *o = l->buckets[bucket(s, id, kind)]; o; o = o->hnext)
		if (o->s == s && o->id == id && o->kind == kind)
			return o;
	return NULL;
}

static void account(struct linkrole *l, int64_t delta)
{
	l->mem_used = (uint64_t)((int64_t)l->mem_used + delta);
	metric_set(&rx_metrics[RXM_MEMORY], l->mem_used);
}

static void block_free(struct linkrole *l, struct robj *o, uint32_t b)
{
	struct rblock *bl = o->active[b];
	if (!bl)
		return;
	size_t sz = sizeof(*bl) + (size_t)(bl->k + bl->m) * o->part.symbol_size;
	bufpool_put(l->pool, bl->buf);
	free(bl);
	o->active[b] = NULL;
	o->bytes -= sz;
	account(l, -(int64_t)sz);
}

static void obj_free(struct linkrole *l, struct robj *o)
{
	struct robj **pp = &l->buckets[bucket(o->s, o->id, o->kind)];
	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
	if (o->older)
		o->older->newer = o->newer;
	else
		l->oldest = o->newer;
	if (o->newer)
		o->newer->older = o->older;
	else
		l->newest = o->older;
	if (o->active)
		for (uint32_t b = 0; b < o->part.nblocks; b++)
			block_free(l, o, b);
	account(l, -(int64_t)o->bytes);
	free(o->active);
	free(o->done_bits);
	free(o->mem);
	free(o);
	l->nobjs--;
}

static bool idwin_has(const struct idwin *w, uint64_t id)
{
	if (id < w->base)
		return true;
	if (id - w->base >= RESOLVED_WINDOW)
		return false;
	uint32_t i = (uint32_t)(id % RESOLVED_WINDOW);
	return w->bits[i >> 3] & (1u << (i & 7));
}

/* Every id below base resolved, none above. */
static void idwin_reset(struct idwin *w, uint64_t base)
{
	memset(w->bits, 0, RESOLVED_WINDOW / 8);
	w->base = base;
}

/* Moves the base over resolved ids, clearing their bits for reuse. */
static void idwin_advance(struct idwin *w)
{
	for (;;) {
		uint32_t j = (uint32_t)(w->base % RESOLVED_WINDOW);
		if (!(w->bits[j >> 3] & (1u << (j & 7))))
			break;
		w->bits[j >> 3] &= (uint8_t)~(1u << (j & 7));
		w->base++;
	}
}

static void idwin_set(struct idwin *w, uint64_t id)
{
	if (id < w->base)
		return;
	if (id - w->base >= 2 * (uint64_t)RESOLVED_WINDOW) /* far ahead: start over below it */
		idwin_reset(w, id - RESOLVED_WINDOW + 1);
	while (id - w->base >= RESOLVED_WINDOW) {
		/* Ahead: slide the window, forgetting the oldest unresolved ids. */
		uint32_t i = (uint32_t)(w->base % RESOLVED_WINDOW);
		w->bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
		w->base++;
	}
	uint32_t i = (uint32_t)(id % RESOLVED_WINDOW);
	w->bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	idwin_advance(w);
}

/* Ids first .. end - 1 resolved. */
static void idwin_set_range(struct idwin *w, uint64_t first, uint64_t end)
{
	if (first > w->base || end <= w->base) {
		for (uint64_t id = first; id < end; id++)
			idwin_set(w, id);
		return;
	}
	if (end - w->base >= RESOLVED_WINDOW) {
		idwin_reset(w, end); /* nothing above end can have been set: it was out of the window */
	} else {
		while (w->base < end) {
			uint32_t i = (uint32_t)(w->base % RESOLVED_WINDOW);
			w->bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
			w->base++;
		}
	}
	idwin_advance(w);
}

static struct idwin *idwin_of(struct rsession *s, uint64_t id)
{
	return wire_id_is_event(id) ? &s->events : &s->files;
}

static bool is_resolved(struct rsession *s, uint64_t id) { return idwin_has(idwin_of(s, id), id); }
static void set_resolved(struct rsession *s, uint64_t id) { idwin_set(idwin_of(s, id), id); }

/* Declares an object id lost: frees what is held, tells the deliver role. */
static void declare_lost(struct linkrole *l, struct rsession *s, uint64_t id, uint8_t kind,
			 const char *reason)
{
	bool ev = kind == WIRE_KIND_EVENTS;
	uint8_t kinds[2] = {ev ? WIRE_KIND_EVENTS : WIRE_KIND_FILE, ev ? 0 : WIRE_KIND_MANIFEST};
	bool held = false;
	for (int i = 0; i < 2; i++) {
		struct robj *o = kinds[i] ? obj_find(l, s, id, kinds[i]) : NULL;
		if (o) {
			obj_free(l, o);
			held = true;
		}
	}
	/* A resolved id holds no object, unless the window slid past it (idwin_set): then it was
	 * forgotten, not reported, and is reported now. */
	if (is_resolved(s, id) && !held)
		return;
	set_resolved(s, id);
	struct msg m = {.type = MSG_LOST, .session = s->id, .object = id, .kind = kinds[0]};
	m.data = (const uint8_t *)reason;
	m.data_len = strlen(reason) > MSG_REASON_MAX ? MSG_REASON_MAX : strlen(reason);
	emit(l, &m); /* the deliver role audits and counts it, unless it rejected the object */
	if (ev) { /* a seq gap for the events module, never a lost object */
		log_rl(LOG_INFO, "session %016" PRIx64 " event batch %" PRIu64 " dropped: %s", s->id,
		       id - WIRE_EVENT_ID_BASE, reason);
		return;
	}
	log_warn("session %016" PRIx64 " object %" PRIu64 " lost: %s", s->id, id, reason);
}

/* File ids first .. end - 1 that never arrived, skipping those already resolved: each run of
 * them is one message to the deliver role (one audit line; it counts each id), one log line. */
static void declare_lost_range(struct linkrole *l, struct rsession *s, uint64_t first, uint64_t end,
			       const char *reason)
{
	while (first < end) {
		while (first < end && is_resolved(s, first))
			first++;
		uint64_t last = first;
		while (last < end && !is_resolved(s, last) && !obj_find(l, s, last, WIRE_KIND_FILE) &&
		       !obj_find(l, s, last, WIRE_KIND_MANIFEST))
			last++;
		if (last == first) {
			first++; /* partial: the timers decide about it */
			continue;
		}
		struct msg m = {.type = MSG_LOST_RANGE, .session = s->id, .object = first,
				.length = last - first, .data = (const uint8_t *)reason};
		m.data_len = strlen(reason) > MSG_REASON_MAX ? MSG_REASON_MAX : strlen(reason);
		emit(l, &m);
		idwin_set_range(&s->files, first, last);
		log_warn("session %016" PRIx64 " objects %" PRIu64 "-%" PRIu64 " (%" PRIu64
			 ") lost: %s", s->id, first, last - 1, last - first, reason);
		first = last;
	}
}

static void evict_oldest(struct linkrole *l, const struct robj *keep)
{
	struct robj *o = l->oldest;
	while (o && keep && o->s == keep->s && o->id == keep->id)
		o = o->newer; /* never the object being filled, nor its file's other half */
	if (!o)
		return;
	rxm_add(RXM_EVICTED, 1);
	declare_lost(l, o->s, o->id, o->kind, "evicted: limits.memory reached");
}

static struct robj *obj_new(struct linkrole *l, struct rsession *s, const struct wire_data_hdr *h,
			    const struct fec_partition *part)
{
	struct robj *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->s = s;
	o->id = h->object_id;
	o->kind = h->kind;
	o->len = h->object_len;
	o->part = *part;
	o->done_bits = calloc((part->nblocks + 7) / 8, 1);
	o->active = calloc(part->nblocks, sizeof(*o->active));
	if (o->kind != WIRE_KIND_FILE)
		o->mem = malloc(o->len ? o->len : 1);
	if (!o->done_bits || !o->active || (o->kind != WIRE_KIND_FILE && !o->mem)) {
		free(o->done_bits);
		free(o->active);
		free(o->mem);
		free(o);
		return NULL;
	}
	o->bytes = sizeof(*o) + (part->nblocks + 7) / 8 + part->nblocks * sizeof(*o->active) +
		   (o->kind != WIRE_KIND_FILE ? o->len : 0);
	account(l, (int64_t)o->bytes);
	size_t bi = bucket(s, o->id, o->kind);
	o->hnext = l->buckets[bi];
	l->buckets[bi] = o;
	o->older = l->newest;
	if (l->newest)
		l->newest->newer = o;
	else
		l->oldest = o;
	l->newest = o;
	l->nobjs++;
	return o;
}

/* A file id is resolved once its content and its manifest have both been handed over. */
static void maybe_resolve_file(struct linkrole *l, struct rsession *s, uint64_t id)
{
	struct robj *f = obj_find(l, s, id, WIRE_KIND_FILE);
	struct robj *m = obj_find(l, s, id, WIRE_KIND_MANIFEST);
	if (!f || !m || f->blocks_done != f->part.nblocks || m->blocks_done != m->part.nblocks)
		return;
	obj_free(l, f);
	obj_free(l, m);
	set_resolved(s, id);
}

static void block_complete(struct linkrole *l, struct robj *o, uint32_t b, struct rblock *bl)
{
	uint32_t T = o->part.symbol_size;
	uint32_t len = fec_partition_len(&o->part, b);
	uint64_t off = fec_partition_offset(&o->part, b);
	uint64_t pos;
	if (o->kind == WIRE_KIND_FILE && l->c.ring && l->c.out_fd >= 0 &&
	    ring_put(l->c.ring, bl->buf, len, &pos) == 0) {
		struct msg m = {.type = MSG_BLOCK_REF, .session = o->s->id, .object = o->id,
				.block = b, .offset = off, .ring_pos = pos, .ring_len = len};
		emit(l, &m);
	} else if (o->kind == WIRE_KIND_FILE) { /* no ring, or no room in it: inline */
		struct msg m = {.type = MSG_BLOCK, .session = o->s->id, .object = o->id, .block = b,
				.offset = off, .data = bl->buf, .data_len = len};
		emit_buf(l, &m, bl->buf, (size_t)(bl->k + bl->m) * T); /* the buffer goes along */
		bl->buf = NULL;
	} else {
		memcpy(o->mem + off, bl->buf, len);
	}
	block_free(l, o, b);
	o->done_bits[b >> 3] |= (uint8_t)(1u << (b & 7));
	o->blocks_done++;
	if (o->blocks_done < o->part.nblocks)
		return;
	struct rsession *s = o->s;
	uint64_t id = o->id;
	if (o->kind == WIRE_KIND_FILE) {
		struct msg m = {.type = MSG_FILE_END, .session = s->id, .object = id, .length = o->len,
				.nblocks = o->part.nblocks};
		emit(l, &m);
		maybe_resolve_file(l, s, id);
	} else if (o->kind == WIRE_KIND_MANIFEST) {
		struct msg m = {.type = MSG_MANIFEST, .session = s->id, .object = id, .data = o->mem,
				.data_len = o->len};
		emit(l, &m);
		maybe_resolve_file(l, s, id);
	} else {
		struct msg m = {.type = MSG_EVENTS, .session = s->id, .object = id, .data = o->mem,
				.data_len = o->len};
		emit(l, &m);
		obj_free(l, o);
		set_resolved(s, id);
	}
}

/* ---- sessions ---- */

static struct rsession *session_find(struct linkrole *l, uint64_t id)
{
	for (size_t i = 0; i < l->nsessions; i++)
		if (l->sessions[i].used && l->sessions[i].id == id)
			return &l->sessions[i];
	return NULL;
}

static void session_close(struct linkrole *l, struct rsession *s)
{
	/* Whatever is still partial can no longer complete. */
	for (;;) {
		struct robj *o = l->oldest;
		while (o && o->s != s)
			o = o->newer;
		if (!o)
			break;
		declare_lost(l, s, o->id, o->kind, "sender session ended before it completed");
	}
	if (l->snd[s->sender].current == s)
		l->snd[s->sender].current = NULL;
	aead_free(s->aead);
	free(s->files.bits);
	free(s->events.bits);
	memset(s, 0, sizeof(*s));
}

static void save_counters(struct linkrole *l)
{
	if (!l->c.state_dir)
		return;
	char path[4096], tmp[4096];
	snprintf(path, sizeof(path), "%s/senders", l->c.state_dir);
	snprintf(tmp, sizeof(tmp), "%s/senders.tmp", l->c.state_dir);
	FILE *f = fopen(tmp, "we");
	if (!f) {
		log_rl(LOG_ERROR, "cannot save %s: %s", path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < l->c.nsenders; i++) {
		char hex[65];
		sodium_bin2hex(hex, sizeof(hex), l->c.senders[i], 32);
		uint64_t top = l->snd[i].pn_floor;
		if (l->snd[i].current && l->snd[i].current->id == l->snd[i].session &&
		    l->snd[i].current->replay.top > top)
			top = l->snd[i].current->replay.top;
		struct sender_state *ss = &l->snd[i];
		if (ss->current && ss->current->id == ss->session) {
			struct rsession *s = ss->current;
			ss->base = s->files.base;
			for (unsigned b = 0; b < SAVED_ABOVE; b++) {
				uint64_t bit = 1ull << (b % 64);
				if (idwin_has(&s->files, s->files.base + b))
					ss->above[b / 64] |= bit;
				else
					ss->above[b / 64] &= ~bit;
			}
		}
		fprintf(f, "%s %" PRIu64 " %016" PRIx64 " %" PRIu64 " %" PRIu64, hex, ss->counter,
			ss->session, top, ss->base);
		unsigned nw = SAVED_ABOVE / 64;
		while (nw > 4 && !ss->above[nw - 1])
			nw--; /* trailing empty words are implied */
		for (unsigned w = 0; w < nw; w++)
			fprintf(f, " %016" PRIx64, ss->above[w]);
		fputc('\n', f);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		log_rl(LOG_ERROR, "cannot save %s: %s", path, strerror(errno));
	fclose(f);
	if (rename(tmp, path) != 0)
		log_rl(LOG_ERROR, "cannot save %s: %s", path, strerror(errno));
}

static void load_counters(struct linkrole *l)
{
	if (!l->c.state_dir)
		return;
	char path[4096], *line = NULL;
	size_t cap = 0;
	snprintf(path, sizeof(path), "%s/senders", l->c.state_dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	uint64_t above[SAVED_ABOVE / 64]; /* 8 KiB */
	while (getline(&line, &cap, f) > 0) {
		char hex[65];
		uint64_t counter, session = 0, floor = 0, base = 0;
		uint8_t pk[32];
		int used = 0;
		memset(above, 0, sizeof(above));
		if (sscanf(line, "%64s %" SCNu64 " %" SCNx64 " %" SCNu64 " %" SCNu64 "%n", hex, &counter,
			   &session, &floor, &base, &used) < 2 ||
		    sodium_hex2bin(pk, 32, hex, 64, NULL, NULL, NULL) != 0)
			continue;
		char *p = line + used, *e;
		for (unsigned w = 0; used && w < SAVED_ABOVE / 64; w++, p = e) {
			above[w] = strtoull(p, &e, 16);
			if (e == p)
				break;
		}
		if (base >= WIRE_EVENT_ID_BASE) /* not a file id: from a damaged file */
			base = 0;
		for (size_t i = 0; i < l->c.nsenders; i++) {
			if (memcmp(pk, l->c.senders[i], 32) == 0) {
				l->snd[i].counter = counter;
				l->snd[i].session = session;
				l->snd[i].pn_floor = floor;
				l->snd[i].base = base;
				memcpy(l->snd[i].above, above, sizeof(above));
			}
		}
	}
	free(line);
	fclose(f);
}

static void reject(enum rx_metric why)
{
	rxm_add(RXM_REJECTED, 1);
	rxm_add(why, 1);
}

static void pending_claim(struct linkrole *l, uint64_t session, uint64_t now);
static uint64_t pending_floor(struct linkrole *l, struct rsession *s, uint64_t base);

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
		idwin_reset(&s->files, from);
		for (unsigned b = 0; b < SAVED_ABOVE; b++)
			if (ss->above[b / 64] & (1ull << (b % 64)))
				idwin_set(&s->files, from + b);
	}
	uint64_t to = pending_floor(l, s, done);
	if (to > s->files.base)
		declare_lost_range(l, s, s->files.base, to, why);
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
		log_error("out of memory accounting for session %016" PRIx64, a->prev_session);
		return true;
	}
	idwin_reset(&gone.files, ss->base);
	for (unsigned b = 0; b < SAVED_ABOVE; b++)
		if (ss->above[b / 64] & (1ull << (b % 64)))
			idwin_set(&gone.files, ss->base + b);
	for (size_t i = 0; i < l->nresume; i++)
		if (l->resume[i].session == a->prev_session)
			idwin_set(&gone.files, l->resume[i].object);
	if (a->prev_done_id > gone.files.base)
		declare_lost_range(l, &gone, gone.files.base, a->prev_done_id,
				   "sent while this receiver was stopped; the sender has restarted since");
	free(gone.files.bits);
	return false;
}

static void resume_drop(struct linkrole *l, size_t i)
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
			emit(l, &m);
			log_warn("session %016" PRIx64 " object %" PRIu64 " lost: %s", r->session,
				 r->object, why);
		}
		resume_drop(l, i);
	}
}

static void on_announce(struct linkrole *l, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct wire_announce a;
	if (wire_announce_decode(pkt, len, &a) != 0) {
		reject(RXM_REJ_MALFORMED);
		return;
	}
	int si = -1;
	for (size_t i = 0; i < l->c.nsenders; i++)
		if (sodium_memcmp(a.sender_pk, l->c.senders[i], 32) == 0)
			si = (int)i;
	if (si < 0 || sodium_memcmp(a.receiver_pk, l->c.keys->dh_pk, 32) != 0) {
		reject(RXM_REJ_SENDER);
		log_rl(LOG_WARN, "announcement %s", si < 0 ? "from a sender key that is not pinned"
							  : "for another receiver key");
		return;
	}
	struct sender_state *ss = &l->snd[si];
	/* Before anything costly: only this sender and this receiver can make the MAC. */
	if (!annauth_check(a.mac, ss->mac_key, pkt, WIRE_ANNOUNCE_MACED_LEN)) {
		reject(RXM_REJ_ANN_MAC);
		log_rl(LOG_WARN, "announcement with a bad MAC: forged (made without either end's secret "
				 "key) or corrupted; refused before its signature is checked");
		return;
	}
	/* Only the sender makes valid MACs (this receiver makes none), so a MAC-valid counter and
	 * clock are the sender's: one not newer than the newest seen is a recording played
	 * again, refused before its signature, so that replays cannot use up the checks. */
	if (a.counter < ss->mac_counter || (a.counter == ss->mac_counter && a.time_ns <= ss->mac_time)) {
		reject(RXM_REJ_REPLAY);
		return;
	}
	ss->mac_counter = a.counter;
	ss->mac_time = a.time_ns;
	struct rsession *s = session_find(l, a.session);
	bool opened = false;
	if (s && (s->sender != si || a.time_ns <= s->ann.time_ns)) {
		reject(RXM_REJ_REPLAY); /* an old or repeated announcement */
		return;
	}
	/* Only newer sessions, or the newest one again (this receiver restarted meanwhile). */
	bool rejoin = !s && ss->counter && a.counter == ss->counter && a.session == ss->session;
	if (!s && !rejoin && a.counter <= ss->counter && ss->counter) {
		reject(RXM_REJ_REPLAY);
		log_rl(LOG_WARN, "announcement of an older session (counter %" PRIu64 " <= %" PRIu64
				 "): replay refused", a.counter, ss->counter);
		return;
	}
	uint64_t sec = now / 1000000000ull;
	if (ss->verify_sec != sec) {
		ss->verify_sec = sec;
		ss->verify_count = 0;
	}
	if (++ss->verify_count > VERIFY_PER_SEC) {
		reject(RXM_REJ_AUTH);
		return;
	}
	if (crypto_sign_verify_detached(pkt + WIRE_ANNOUNCE_SIGNED_LEN, pkt, WIRE_ANNOUNCE_SIGNED_LEN,
					a.sender_pk) != 0) {
		reject(RXM_REJ_AUTH);
		log_rl(LOG_WARN, "announcement with a bad signature");
		return;
	}
	if (!s) {
		struct session_secret sec_keys;
		if (session_rx_derive(&sec_keys, a.ephemeral_pk, l->c.keys->dh_sk, l->c.keys->dh_pk,
				      a.sender_pk, a.session, a.aead) != 0) {
			reject(RXM_REJ_AUTH);
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
		replay_init(&s->replay);
		if (rejoin && ss->pn_floor) /* refuse what this session sent before our restart */
			replay_update(&s->replay, ss->pn_floor - 1);
		bool unaccounted = !rejoin && account_prev(l, ss, &a, now);
		resume_objects(l, ss, s, &a, rejoin, now);
		open_ids(l, ss, s, &a, rejoin);
		ss->current = s;
		ss->counter = a.counter;
		ss->session = a.session;
		if (!rejoin)
			ss->pn_floor = 0;
		save_counters(l);
		rxm_add(RXM_SESSIONS, 1);
		char fp[17];
		keys_fingerprint(a.sender_pk, fp);
		if (restart) {
			rxm_add(RXM_RESTARTS, 1);
			log_warn("sender %s restarted: new session %016" PRIx64 " (counter %" PRIu64 ")",
				 fp, a.session, a.counter);
		} else {
			log_info("sender %s: session %016" PRIx64 " (counter %" PRIu64 ", %u-byte symbols)",
				 fp, a.session, a.counter, a.symbol_size);
		}
		if (unaccounted) {
			rxm_add(RXM_UNACCOUNTED, 1);
			log_warn("sender %s: how far its previous session %016" PRIx64 " got is not known "
				 "(it did not stop cleanly, or this receiver never heard it): files it sent "
				 "that this receiver did not get are not reported; see the sender's journal",
				 fp, a.prev_session);
		}
		struct msg m = {.type = MSG_SESSION, .session = a.session, .counter = a.counter,
				.start_ns = a.start_ns,
				.flags = (restart ? 1u : 0u) | (unaccounted ? 2u : 0u)};
		memcpy(m.sender_pk, a.sender_pk, 32);
		emit(l, &m);
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
	metric_set(&rx_metrics[RXM_LINK_UP], 1);
	if (opened)
		pending_claim(l, a.session, now);
}

static uint64_t kind_limit(const struct linkrole *l, uint8_t kind)
{
	switch (kind) {
	case WIRE_KIND_FILE: return l->c.object_limit;
	case WIRE_KIND_MANIFEST: return MANIFEST_MAX_LEN;
	default: return EVENTS_MAX_LEN;
	}
}

static void pending_drop_head(struct linkrole *l)
{
	struct pending *p = l->phead;
	l->phead = p->next;
	if (!l->phead)
		l->ptail = NULL;
	l->pbytes -= p->len;
	free(p);
	reject(RXM_REJ_SESSION); /* never claimed by an announced session */
}

static void pending_add(struct linkrole *l, uint64_t session, const uint8_t *pkt, size_t len, uint64_t now)
{
	/* A quarter of limits.memory, 256 MiB at most: about a second at 2 Gbit/s by default. */
	uint64_t cap = l->c.memory_limit / 4 < (256u << 20) ? l->c.memory_limit / 4 : (256u << 20);
	while (l->phead && (l->pbytes + len > cap || now - l->phead->t > PENDING_NS))
		pending_drop_head(l);
	struct pending *p = malloc(sizeof(*p) + len);
	if (!p) {
		reject(RXM_REJ_SESSION);
		return;
	}
	p->next = NULL;
	p->session = session;
	p->t = now;
	p->len = len;
	memcpy(p->data, pkt, len);
	if (l->ptail)
		l->ptail->next = p;
	else
		l->phead = p;
	l->ptail = p;
	l->pbytes += len;
}

static void on_data(struct linkrole *l, uint8_t *pkt, size_t len, uint64_t now);

/* The lowest object id among the waiting datagrams of a session just opened that
 * authenticate (so a forged header cannot make the receiver report old objects as lost). */
static uint64_t pending_floor(struct linkrole *l, struct rsession *s, uint64_t base)
{
	for (struct pending *p = l->phead; p; p = p->next) {
		struct wire_data_hdr h;
		if (p->session != s->id || wire_data_decode(p->data, p->len, &h) != 0 || h.object_id >= base ||
		    h.object_id == 0)
			continue;
		if (aead_open(s->aead, h.pn, p->data, WIRE_DATA_HDR_LEN, p->data + WIRE_DATA_HDR_LEN,
			      h.symbol_size, p->data + WIRE_DATA_HDR_LEN + h.symbol_size, l->scratch) == 0)
			base = h.object_id;
	}
	return base;
}

/* A session just opened: run its waiting datagrams through the normal path, in order. */
static void pending_claim(struct linkrole *l, uint64_t session, uint64_t now)
{
	struct pending **pp = &l->phead, *last = NULL;
	while (*pp) {
		struct pending *p = *pp;
		if (p->session != session) {
			last = p;
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		l->pbytes -= p->len;
		on_data(l, p->data, p->len, now);
		free(p);
	}
	l->ptail = last;
	if (!l->phead)
		l->ptail = NULL;
}

static void on_data(struct linkrole *l, uint8_t *pkt, size_t len, uint64_t now)
{
	struct wire_data_hdr h;
	if (wire_data_decode(pkt, len, &h) != 0) {
		reject(RXM_REJ_MALFORMED);
		return;
	}
	struct rsession *s = session_find(l, h.session);
	if (!s) {
		pending_add(l, h.session, pkt, len, now);
		return;
	}
	if (!replay_check(&s->replay, h.pn)) {
		reject(RXM_REJ_REPLAY);
		return;
	}
	struct fec_partition part;
	/* File content uses the session's symbol size; manifests and event batches may use a
	 * smaller one, fitted to their length, so their many repair copies stay small. */
	bool t_ok = h.symbol_size == s->ann.symbol_size ||
		    (h.kind != WIRE_KIND_FILE && h.symbol_size < s->ann.symbol_size);
	if (h.kind == WIRE_KIND_FILE && h.object_len > l->c.object_limit) {
		/* Refused unopened; its manifest still comes through, and the deliver role audits
		 * the file rejected with its name (over limits.object). */
		reject(RXM_REJ_OVER_LIMIT);
		log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 ": %" PRIu64 " bytes, over "
				 "limits.object (%" PRIu64 "): its packets are refused", s->id, h.object_id,
		       h.object_len, l->c.object_limit);
		return;
	}
	if (!t_ok || h.object_len > kind_limit(l, h.kind) ||
	    fec_partition_init(&part, h.object_len, h.symbol_size, s->ann.block_max) != 0 ||
	    h.block >= part.nblocks || h.k != fec_partition_k(&part, h.block)) {
		reject(RXM_REJ_MALFORMED);
		return;
	}
	if (is_resolved(s, h.object_id)) {
		rxm_add(RXM_DUP_PACKETS, 1);
		return;
	}
	struct robj *o = obj_find(l, s, h.object_id, h.kind);
	struct rblock *bl = NULL;
	if (o && (o->len != h.object_len || h.block >= o->part.nblocks ||
		  o->part.symbol_size != h.symbol_size)) {
		/* The header contradicts what this object already is: forged or broken. The block
		 * index was checked against the length the packet claims, not this object's. */
		reject(RXM_REJ_MALFORMED);
		return;
	}
	if (o) {
		if (o->done_bits[h.block >> 3] & (1u << (h.block & 7))) {
			rxm_add(RXM_DUP_PACKETS, 1);
			return;
		}
		bl = o->active[h.block];
		if (bl && (bl->m != h.m || bl->k != h.k)) {
			reject(RXM_REJ_MALFORMED);
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
		reject(RXM_REJ_AUTH);
		log_rl(LOG_WARN, "session %016" PRIx64 ": packet failed authentication", s->id);
		return;
	}
	replay_update(&s->replay, h.pn);
	if (!o) {
		if (l->nobjs >= 65536)
			evict_oldest(l, NULL);
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
			evict_oldest(l, o);
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
		account(l, (int64_t)sz);
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
			declare_lost(l, s, o->id, o->kind, "FEC decode failed");
			return;
		}
		rxm_add(RXM_FEC_RECOVERED, missing);
	}
	block_complete(l, o, h.block, bl);
}

void linkrole_packet(struct linkrole *l, uint8_t *pkt, size_t len, uint64_t now)
{
	uint64_t session;
	rxm_add(RXM_PACKETS, 1);
	int t = wire_peek(pkt, len, &session);
	if (t == WIRE_TYPE_DATA)
		on_data(l, pkt, len, now);
	else if (t == WIRE_TYPE_ANNOUNCE)
		on_announce(l, pkt, len, now);
	else
		reject(RXM_REJ_MALFORMED);
}

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
	bool up = false;
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
		if (now - s->last_ann_ns < LINK_UP_NS)
			up = true;
		uint64_t done = settled_done_id(s, now);
		/* Files never seen at all although the sender finished them long enough ago. */
		if (s->files.base < done)
			declare_lost_range(l, s, s->files.base, done, "no packet of it arrived");
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
			declare_lost(l, s, o->id, o->kind == WIRE_KIND_EVENTS ? WIRE_KIND_EVENTS : WIRE_KIND_FILE,
				     why);
			n = l->oldest; /* restart: several objects may have gone */
		}
	}
	metric_set(&rx_metrics[RXM_LINK_UP], up ? 1 : 0);
	if (up && now - l->last_save >= SAVE_NS) {
		save_counters(l);
		l->last_save = now;
	}
	l->last_tick = now;
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
	for (size_t i = 0; i < c->nsenders && c->keys; i++) {
		if (annauth_key_rx(l->snd[i].mac_key, c->keys->dh_sk, c->keys->dh_pk, c->senders[i]) != 0) {
			log_error("pinned sender key %zu has no X25519 form: cannot check its announcements", i);
			linkrole_free(l);
			return -EINVAL;
		}
	}
	load_counters(l);
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
			emit(l, &m);
			resume_drop(l, i);
		}
	}
	*out = l;
	return 0;
}

void linkrole_stop(struct linkrole *l) { __atomic_store_n(&l->stop, 1, __ATOMIC_RELAXED); }

/* Bytes queued for the deliver role beyond which the link role waits for it. */
static uint64_t queue_max(const struct linkrole *l)
{
	return l->c.memory_limit / 4 < QUEUE_BYTES ? l->c.memory_limit / 4 : QUEUE_BYTES;
}

int linkrole_run(struct linkrole *l)
{
	struct link_pkt pkts[LINK_RX_BATCH];
	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		/* The tick runs on every pass once due (common/deadline.h), however many datagrams
		 * come; a receive waits no longer than until it is due. */
		uint64_t now = deadline_now();
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
		if (!linkrole_flush(l) && l->qbytes > queue_max(l)) {
			/* The deliver role is behind: let it catch up rather than grow. A queue that
			 * grows is fresh memory, paid for in page faults; the socket's buffer (hw/
			 * link_udp.c) absorbs the pause. */
			struct pollfd p = {.fd = l->c.out_fd, .events = POLLOUT};
			poll(&p, 1, 100);
		}
	}
	/* Unfinished file objects of current sessions, so the deliver role can keep their blocks. */
	for (struct robj *o = l->oldest; o; o = o->newer) {
		if (o->kind != WIRE_KIND_FILE || o->blocks_done == o->part.nblocks || o->s->retired)
			continue;
		struct msg m = {.type = MSG_PARTIAL, .session = o->s->id, .object = o->id,
				.length = o->len};
		emit(l, &m);
	}
	/* Hand over what is queued, within reason, so complete objects are not lost. */
	for (int i = 0; i < 50 && !linkrole_flush(l); i++) {
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
	if (l->snd && l->sessions)
		save_counters(l); /* remember how far the current sessions got */
	while (l->oldest)
		obj_free(l, l->oldest);
	while (l->nresume)
		resume_drop(l, 0);
	free(l->resume);
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
