/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partial objects and their blocks: the table, memory accounting, eviction under
 * limits.memory, completing a block (to the deliver role), and declaring ids lost.
 */
#include "rx/link/internal.h"

static size_t bucket(const struct rsession *s, uint64_t id, uint8_t kind)
{
	uint64_t h = (id * 0x9e3779b97f4a7c15ull) ^ ((uintptr_t)s >> 4) ^ kind;
	return (size_t)(h ^ (h >> 29)) & (OBJ_BUCKETS - 1);
}

struct robj *obj_find(struct linkrole *l, struct rsession *s, uint64_t id, uint8_t kind)
{
	for (struct robj *o = l->buckets[bucket(s, id, kind)]; o; o = o->hnext)
		if (o->s == s && o->id == id && o->kind == kind)
			return o;
	return NULL;
}

void obj_account(struct linkrole *l, int64_t delta)
{
	l->mem_used = (uint64_t)((int64_t)l->mem_used + delta);
	metric_set(&rx_metrics[RXM_MEMORY], l->mem_used);
}

static void obj_block_free(struct linkrole *l, struct robj *o, uint32_t b)
{
	struct rblock *bl = o->active[b];
	if (!bl)
		return;
	size_t sz = sizeof(*bl) + (size_t)(bl->k + bl->m) * o->part.symbol_size;
	bufpool_put(l->pool, bl->buf);
	free(bl);
	o->active[b] = NULL;
	o->bytes -= sz;
	obj_account(l, -(int64_t)sz);
}

void obj_free(struct linkrole *l, struct robj *o)
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
			obj_block_free(l, o, b);
	obj_account(l, -(int64_t)o->bytes);
	free(o->active);
	free(o->done_bits);
	free(o->mem);
	free(o);
	l->nobjs--;
}

/* Declares an object id lost: frees what is held, tells the deliver role. */
void obj_declare_lost(struct linkrole *l, struct rsession *s, uint64_t id, uint8_t kind,
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
	if (id_resolved(s, id) && !held)
		return;
	id_set_resolved(s, id);
	struct msg m = {.type = MSG_LOST, .session = s->id, .object = id, .kind = kinds[0]};
	m.data = (const uint8_t *)reason;
	m.data_len = strlen(reason) > MSG_REASON_MAX ? MSG_REASON_MAX : strlen(reason);
	out_emit(l, &m); /* the deliver role audits and counts it, unless it rejected the object */
	if (ev) { /* a seq gap for the events module, never a lost object */
		log_rl(LOG_INFO, "session %016" PRIx64 " event batch %" PRIu64 " dropped: %s", s->id,
		       id - WIRE_EVENT_ID_BASE, reason);
		return;
	}
	log_rlk(LOG_WARN, reason, "session %016" PRIx64 " object %" PRIu64 " lost: %s", s->id, id, reason);
}

/* File ids first .. end - 1 that never arrived, skipping those already resolved: each run of
 * them is one message to the deliver role (one audit line; it counts each id), one log line. */
void obj_declare_lost_range(struct linkrole *l, struct rsession *s, uint64_t first, uint64_t end,
			       const char *reason)
{
	while (first < end) {
		while (first < end && id_resolved(s, first))
			first++;
		uint64_t last = first;
		while (last < end && !id_resolved(s, last) && !obj_find(l, s, last, WIRE_KIND_FILE) &&
		       !obj_find(l, s, last, WIRE_KIND_MANIFEST))
			last++;
		if (last == first) {
			first++; /* partial: the timers decide about it */
			continue;
		}
		struct msg m = {.type = MSG_LOST_RANGE, .session = s->id, .object = first,
				.length = last - first, .data = (const uint8_t *)reason};
		m.data_len = strlen(reason) > MSG_REASON_MAX ? MSG_REASON_MAX : strlen(reason);
		out_emit(l, &m);
		idwin_set_range(&s->files, first, last);
		log_rlk(LOG_WARN, reason, "session %016" PRIx64 " objects %" PRIu64 "-%" PRIu64 " (%" PRIu64
			 ") lost: %s", s->id, first, last - 1, last - first, reason);
		first = last;
	}
}

void obj_evict_oldest(struct linkrole *l, const struct robj *keep)
{
	struct robj *o = l->oldest;
	while (o && keep && o->s == keep->s && o->id == keep->id)
		o = o->newer; /* never the object being filled, nor its file's other half */
	if (!o)
		return;
	rxm_add(RXM_EVICTED, 1);
	obj_declare_lost(l, o->s, o->id, o->kind, "evicted: limits.memory reached");
}

struct robj *obj_new(struct linkrole *l, struct rsession *s, const struct wire_data_hdr *h,
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
	obj_account(l, (int64_t)o->bytes);
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
	id_set_resolved(s, id);
}

void obj_block_complete(struct linkrole *l, struct robj *o, uint32_t b, struct rblock *bl)
{
	uint32_t T = o->part.symbol_size;
	uint32_t len = fec_partition_len(&o->part, b);
	uint64_t off = fec_partition_offset(&o->part, b);
	uint64_t pos;
	if (o->kind == WIRE_KIND_FILE && l->c.ring && l->c.out_fd >= 0 &&
	    ring_put(l->c.ring, bl->buf, len, &pos) == 0) {
		struct msg m = {.type = MSG_BLOCK_REF, .session = o->s->id, .object = o->id,
				.block = b, .offset = off, .ring_pos = pos, .ring_len = len};
		out_emit(l, &m);
	} else if (o->kind == WIRE_KIND_FILE) { /* no ring, or no room in it: inline */
		struct msg m = {.type = MSG_BLOCK, .session = o->s->id, .object = o->id, .block = b,
				.offset = off, .data = bl->buf, .data_len = len};
		out_emit_buf(l, &m, bl->buf, (size_t)(bl->k + bl->m) * T); /* the buffer goes along */
		bl->buf = NULL;
	} else {
		memcpy(o->mem + off, bl->buf, len);
	}
	obj_block_free(l, o, b);
	o->done_bits[b >> 3] |= (uint8_t)(1u << (b & 7));
	o->blocks_done++;
	if (o->blocks_done < o->part.nblocks)
		return;
	struct rsession *s = o->s;
	uint64_t id = o->id;
	log_debug("session %016" PRIx64 " object %" PRIu64 ": all %" PRIu32 " blocks of its %s",
		  s->id, id, o->part.nblocks, o->kind == WIRE_KIND_FILE ? "content" :
		  o->kind == WIRE_KIND_MANIFEST ? "manifest" : "events");
	if (o->kind == WIRE_KIND_FILE) {
		struct msg m = {.type = MSG_FILE_END, .session = s->id, .object = id, .length = o->len,
				.nblocks = o->part.nblocks};
		out_emit(l, &m);
		maybe_resolve_file(l, s, id);
	} else if (o->kind == WIRE_KIND_MANIFEST) {
		struct msg m = {.type = MSG_MANIFEST, .session = s->id, .object = id, .data = o->mem,
				.data_len = o->len};
		out_emit(l, &m);
		maybe_resolve_file(l, s, id);
	} else {
		struct msg m = {.type = MSG_EVENTS, .session = s->id, .object = id, .data = o->mem,
				.data_len = o->len};
		out_emit(l, &m);
		obj_free(l, o);
		id_set_resolved(s, id);
	}
}
