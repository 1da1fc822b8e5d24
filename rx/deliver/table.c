/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deliver role's tables: the sessions the link role told of (the newest
 * DELIVER_SESSIONS_MAX), the pending objects (a hash table and an age list, oldest first, with
 * their per-block bookkeeping under TABLE_BYTES_MAX), and the ids already decided (closed, and
 * of those the rejected ones), each a ring.
 */
#include "rx/deliver/internal.h"

#include "common/wire.h"

struct dsession *table_session(struct deliver *d, uint64_t id)
{
	for (size_t i = 0; i < d->nsessions; i++)
		if (d->sessions[i].id == id)
			return &d->sessions[i];
	return NULL;
}

static size_t bucket_of(uint64_t session, uint64_t object)
{
	uint64_t h = (session ^ (object * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
	return (size_t)(h >> 32) % BUCKETS;
}

struct pending *table_find(struct deliver *d, uint64_t session, uint64_t object)
{
	for (struct pending *p = d->buckets[bucket_of(session, object)]; p; p = p->hnext)
		if (p->session == session && p->object == object)
			return p;
	return NULL;
}

static bool id_in(const struct closed_id *ids, size_t n, uint64_t session, uint64_t object)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i].session == session && ids[i].object == object)
			return true;
	return false;
}

bool table_is_closed(const struct deliver *d, uint64_t session, uint64_t object)
{
	return id_in(d->closed, d->nclosed, session, object);
}

static void id_add(struct closed_id *ids, size_t max, size_t *n, size_t *next, uint64_t session,
		   uint64_t object)
{
	ids[*next] = (struct closed_id){session, object};
	*next = (*next + 1) % max;
	if (*n < max)
		(*n)++;
}

void idrec_encode(uint8_t rec[IDREC_LEN], uint64_t session, uint64_t object)
{
	for (int b = 0; b < 8; b++) {
		rec[b] = (uint8_t)(session >> (8 * b));
		rec[8 + b] = (uint8_t)(object >> (8 * b));
	}
}

void idrec_decode(const uint8_t rec[IDREC_LEN], uint64_t *session, uint64_t *object)
{
	uint64_t s = 0, o = 0;
	for (int b = 7; b >= 0; b--) {
		s = s << 8 | rec[b];
		o = o << 8 | rec[8 + b];
	}
	*session = s;
	*object = o;
}

void table_mark_closed(struct deliver *d, uint64_t session, uint64_t object)
{
	id_add(d->closed, CLOSED_MAX, &d->nclosed, &d->closed_next, session, object);
	if (d->decidedfd < 0 || d->exiting || wire_id_is_event(object))
		return;
	uint8_t rec[IDREC_LEN];
	idrec_encode(rec, session, object);
	if (write(d->decidedfd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
		log_rl(LOG_WARN, "STATE/%s: %s", DECIDED_FILE, strerror(errno));
}

bool table_was_rejected(const struct deliver *d, uint64_t session, uint64_t object)
{
	return id_in(d->rejected, d->nrejected, session, object);
}

void table_mark_rejected(struct deliver *d, uint64_t session, uint64_t object)
{
	id_add(d->rejected, REJECTED_MAX, &d->nrejected, &d->rejected_next, session, object);
}

/* Unlinks from the table and the age list, removes the temp file if it is still there, frees,
 * and remembers the id as closed. */
void table_close(struct deliver *d, struct pending *p)
{
	struct pending **pp = &d->buckets[bucket_of(p->session, p->object)];
	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	if (p->older)
		p->older->newer = p->newer;
	else
		d->oldest = p->newer;
	if (p->newer)
		p->newer->older = p->older;
	else
		d->newest = p->older;
	d->npending--;
	d->table_bytes -= (uint64_t)p->cap * ENTRY_BYTES;
	if (p->fd >= 0)
		close(p->fd);
	if (p->tmp_exists && unlinkat(d->tmpfd, p->tmpname, 0) != 0 && errno != ENOENT)
		log_rl(LOG_WARN, "removing temp file %s: %s", p->tmpname, strerror(errno));
	if (!d->exiting)
		(void)orphan_take(d, p->session, p->object); /* decided: audited by the caller */
	table_mark_closed(d, p->session, p->object);
	free(p->leaves);
	free(p->blk);
	free(p->manifest);
	free(p->man);
	free(p);
}

/* The pending object for (session, object), created if new and not closed. NULL with *rc = 0
 * for a closed id (the rest of a decided object: ignored), or *rc < 0. */
struct pending *table_get(struct deliver *d, uint64_t session, uint64_t object, int *rc)
{
	*rc = 0;
	struct pending *p = table_find(d, session, object);
	if (p)
		return p;
	if (table_is_closed(d, session, object)) {
		log_rl(LOG_DEBUG, "session %016" PRIx64 " object %" PRIu64 ": already decided",
		       session, object);
		return NULL;
	}
	if (d->npending >= DELIVER_PENDING_MAX)
		outcome_lost(d, d->oldest, "evicted: too many unfinished objects in the deliver role");
	p = calloc(1, sizeof(*p));
	if (!p) {
		*rc = -ENOMEM;
		return NULL;
	}
	p->session = session;
	p->object = object;
	p->fd = -1;
	snprintf(p->tmpname, sizeof(p->tmpname), "%016" PRIx64 "-%" PRIu64, session, object);
	size_t b = bucket_of(session, object);
	p->hnext = d->buckets[b];
	d->buckets[b] = p;
	p->older = d->newest;
	if (d->newest)
		d->newest->newer = p;
	else
		d->oldest = p;
	d->newest = p;
	d->npending++;
	return p;
}

/* Room for block index b. 0, or -E2BIG (bookkeeping budget) / -ENOMEM. */
int table_reserve(struct deliver *d, struct pending *p, uint32_t b)
{
	if (b < p->cap)
		return 0;
	uint64_t want = p->cap ? (uint64_t)p->cap * 2 : 16;
	if (want < (uint64_t)b + 1)
		want = (uint64_t)b + 1;
	if (want > DELIVER_BLOCKS_MAX)
		want = DELIVER_BLOCKS_MAX;
	uint64_t extra = (want - p->cap) * ENTRY_BYTES;
	if (d->table_bytes + extra > TABLE_BYTES_MAX)
		return -E2BIG;
	uint8_t *lv = realloc(p->leaves, want * HASH_LEN);
	if (lv)
		p->leaves = lv;
	struct blk *blk = realloc(p->blk, want * sizeof(*blk));
	if (blk)
		p->blk = blk;
	if (!lv || !blk)
		return -ENOMEM; /* an array that grew is kept; cap still describes both */
	for (uint64_t i = p->cap; i < want; i++)
		blk[i].off = NOT_ARRIVED;
	d->table_bytes += extra;
	p->cap = (uint32_t)want;
	return 0;
}
