/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The deliver role's state machine, per (session, object):
 *
 *   (none) --BLOCK/MANIFEST/FILE_END--> pending --FILE_END + MANIFEST--> commit --> closed
 *                                          |                               |
 *                                          +--LOST / evicted / bad field---+--> closed
 *
 * A pending object holds a temp file FILES/.sluice-tmp/<session hex>-<object>, one leaf hash,
 * offset and length per block that arrived, FILE_END's length and block count, and the raw
 * manifest. Commit runs every check of rx/deliver.h, cheapest first, then renames the temp file
 * into place or removes it. Closed ids are remembered in a ring, so that the rest of a
 * rejected object's messages cannot open it again. Nothing the link role says is believed: its
 * offsets, lengths and counts only ever narrow what is accepted, never widen it.
 */
#include "common/mkdirs.h"
#include "rx/deliver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/deadline.h"
#include "common/hash.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/manifest.h"
#include "common/wire.h"
#include "fec/fec.h"
#include "rx/audit.h"
#include "rx/events.h"
#include "rx/forward.h"
#include "rx/kept.h"
#include "rx/rx_metrics.h"
#include "rx/ring.h"
#include "rx/safepath.h"
#include "rx/versions.h"

#define BUCKETS 2048                        /* pending hash table, 2 x DELIVER_PENDING_MAX */
#define CLOSED_MAX 4096                     /* ids whose outcome is decided */
#define REJECTED_MAX 1024                   /* of those, the rejected ones (see on_lost) */
#define TABLE_BYTES_MAX (256ull << 20)      /* per-block bookkeeping of all pending objects */
#define NOT_ARRIVED UINT64_MAX
#define ENTRY_BYTES (HASH_LEN + sizeof(struct blk))

struct dsession {
	uint64_t id;
	uint8_t pk[32];
	char fp[17];
};

struct blk {
	uint64_t off; /* NOT_ARRIVED, or where the block was written */
	uint32_t len;
};

struct pending {
	struct pending *older, *newer; /* age list, oldest first */
	struct pending *hnext;
	uint64_t session, object;
	int fd;                        /* temp file, -1 until the first block */
	bool tmp_exists;
	char tmpname[48];
	uint8_t *leaves;               /* HASH_LEN per block */
	struct blk *blk;
	uint32_t cap;                  /* entries allocated */
	uint32_t top;                  /* highest block index that arrived, + 1 */
	bool ended;
	uint64_t length;
	uint32_t nblocks;
	uint8_t *manifest;
	size_t manifest_len;
	struct manifest *man;          /* decoded, passed check_manifest; NULL until judged */
	bool partial;                  /* the link role held it unfinished at a clean stop */
	uint64_t partial_len;          /* and the length its data packets gave */
};

struct closed_id {
	uint64_t session, object;
};

struct deliver {
	int rootfd, tmpfd;
	uint8_t (*senders)[32];
	size_t nsenders;
	uint64_t object_limit;
	struct audit *audit;
	struct dsession sessions[DELIVER_SESSIONS_MAX];
	size_t nsessions, session_next;
	struct pending *buckets[BUCKETS];
	struct pending *oldest, *newest;
	size_t npending;
	uint64_t table_bytes;
	struct closed_id closed[CLOSED_MAX];
	size_t nclosed, closed_next;
	struct closed_id rejected[REJECTED_MAX];
	size_t nrejected, rejected_next;
	uint64_t bad_messages;
	struct versions *versions; /* what is stored under each name */
	struct events *events;
	struct ring *ring;
	uint8_t *copy; /* a BLOCK_REF's bytes, out of the ring */
	size_t copy_cap;
	struct deliver_kept *kept; /* objects resumed from a clean stop (rx/kept.h) */
	size_t nkept;
};

/* ---- sessions ---- */

static struct dsession *session_find(struct deliver *d, uint64_t id)
{
	for (size_t i = 0; i < d->nsessions; i++)
		if (d->sessions[i].id == id)
			return &d->sessions[i];
	return NULL;
}

static bool pinned(const struct deliver *d, const uint8_t pk[32])
{
	for (size_t i = 0; i < d->nsenders; i++)
		if (sodium_memcmp(d->senders[i], pk, 32) == 0)
			return true;
	return false;
}

/* ---- audit ---- */

static void audit_obj(struct deliver *d, enum audit_outcome outcome, uint64_t session,
		      uint64_t object, const struct manifest *man, const char *stored_as,
		      const char *reason, uint64_t size)
{
	const struct dsession *s = session_find(d, session);
	struct audit_record r = {
		.outcome = outcome,
		.spool = man ? man->spool : NULL,
		.path = man ? man->path : NULL,
		.stored_as = stored_as,
		.size = man ? man->size : size,
		.session = session,
		.object_id = object,
		.sender = s ? s->fp : NULL,
		.reason = reason,
		.hash = man ? man->hash : NULL,
	};
	int rc = audit_write(d->audit, &r);
	if (rc != 0)
		log_rl(LOG_ERROR, "audit log: %s", strerror(rc < 0 ? -rc : rc));
}

/* ---- pending objects ---- */

static size_t bucket_of(uint64_t session, uint64_t object)
{
	uint64_t h = (session ^ (object * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
	return (size_t)(h >> 32) % BUCKETS;
}

static struct pending *pending_find(struct deliver *d, uint64_t session, uint64_t object)
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

static bool is_closed(const struct deliver *d, uint64_t session, uint64_t object)
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

static void mark_closed(struct deliver *d, uint64_t session, uint64_t object)
{
	id_add(d->closed, CLOSED_MAX, &d->nclosed, &d->closed_next, session, object);
}

/* Unlinks from the table and the age list, removes the temp file if it is still there, frees,
 * and remembers the id as closed. */
static void pending_close(struct deliver *d, struct pending *p)
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
	mark_closed(d, p->session, p->object);
	free(p->leaves);
	free(p->blk);
	free(p->manifest);
	free(p->man);
	free(p);
}

/* Outcomes that end a pending object without a file. `reason` names the check. */
static void object_lost(struct deliver *d, struct pending *p, const char *reason)
{
	log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 " lost: %s", p->session, p->object,
	       reason);
	audit_obj(d, AUDIT_LOST, p->session, p->object, p->man, NULL, reason,
		  p->ended ? p->length : 0);
	rxm_add(RXM_LOST, 1);
	pending_close(d, p);
}

/* The name is in the audit line only: it may hold bytes that have no place on a terminal. */
static void object_rejected(struct deliver *d, struct pending *p, const struct manifest *man,
			    const char *reason)
{
	if (!man)
		man = p->man; /* a manifest that passed its own checks says what was refused */
	log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 " rejected: %s", p->session,
	       p->object, reason);
	audit_obj(d, AUDIT_REJECTED, p->session, p->object, man, NULL, reason,
		  p->ended ? p->length : 0);
	rxm_add(RXM_OBJ_REJECTED, 1);
	/* The link role may still declare the id lost (it never learns of the rejection). */
	id_add(d->rejected, REJECTED_MAX, &d->nrejected, &d->rejected_next, p->session, p->object);
	pending_close(d, p);
}

/* Rejects p for a message's field: reason from fmt; returns rc. */
static int rejectf(struct deliver *d, struct pending *p, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int rejectf(struct deliver *d, struct pending *p, int rc, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	object_rejected(d, p, NULL, why);
	return rc;
}

/* The pending object for (session, object), created if new and not closed. NULL with *rc = 0
 * for a closed id (the rest of a decided object: ignored), or *rc < 0. */
static struct pending *pending_get(struct deliver *d, uint64_t session, uint64_t object, int *rc)
{
	*rc = 0;
	struct pending *p = pending_find(d, session, object);
	if (p)
		return p;
	if (is_closed(d, session, object)) {
		log_rl(LOG_DEBUG, "session %016" PRIx64 " object %" PRIu64 ": already decided",
		       session, object);
		return NULL;
	}
	if (d->npending >= DELIVER_PENDING_MAX)
		object_lost(d, d->oldest, "evicted: too many unfinished objects in the deliver role");
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
static int pending_reserve(struct deliver *d, struct pending *p, uint32_t b)
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

/* pwrite all of len bytes at off. 0 or -errno (-EIO: nothing written). */
static int write_full(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int open_temp(struct deliver *d, struct pending *p)
{
	const int flags = O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	int fd = openat(d->tmpfd, p->tmpname, flags, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Not ours: this id's earlier temp was removed when it closed. Stale, so replace. */
		if (unlinkat(d->tmpfd, p->tmpname, 0) == 0)
			fd = openat(d->tmpfd, p->tmpname, flags, 0600);
	}
	if (fd < 0)
		return -errno;
	p->fd = fd;
	p->tmp_exists = true;
	return 0;
}

/* ---- messages ---- */

static int on_session(struct deliver *d, const struct msg *m)
{
	char fp[17];
	keys_fingerprint(m->sender_pk, fp);
	if (!pinned(d, m->sender_pk)) {
		log_rl(LOG_WARN, "session %016" PRIx64 ": sender %s is not pinned; its objects will be "
				 "rejected", m->session, fp);
		return -EPERM;
	}
	struct dsession *s = session_find(d, m->session);
	if (s && sodium_memcmp(s->pk, m->sender_pk, 32) != 0) {
		log_rl(LOG_WARN, "session %016" PRIx64 " already belongs to sender %s; not given to %s",
		       m->session, s->fp, fp);
		return -EEXIST;
	}
	if (!s) {
		s = &d->sessions[d->session_next];
		d->session_next = (d->session_next + 1) % DELIVER_SESSIONS_MAX;
		if (d->nsessions < DELIVER_SESSIONS_MAX)
			d->nsessions++;
		s->id = m->session;
		memcpy(s->pk, m->sender_pk, 32);
		memcpy(s->fp, fp, sizeof(fp));
		log_debug("session %016" PRIx64 ": sender %s", m->session, fp);
		if (m->flags & 1)
			audit_obj(d, AUDIT_SESSION, m->session, 0, NULL, NULL, "sender restarted", 0);
		if (m->flags & 2)
			audit_obj(d, AUDIT_SESSION, m->session, 0, NULL, NULL,
				  "previous session not accounted for: it did not stop cleanly, or this "
				  "receiver never heard it; files it sent may be missing (see the sender's "
				  "journal)", 0);
	}
	return 0;
}

static int on_block(struct deliver *d, const struct msg *m)
{
	int rc;
	struct pending *p = pending_get(d, m->session, m->object, &rc);
	if (!p)
		return rc;
	uint64_t limit = d->object_limit;
	uint64_t max_blocks = limit < DELIVER_BLOCKS_MAX ? (limit ? limit : 1) : DELIVER_BLOCKS_MAX;
	if (m->block >= max_blocks)
		return rejectf(d, p, -ERANGE, "block index %" PRIu32 " out of range", m->block);
	if (m->offset > limit || m->data_len > limit - m->offset)
		return rejectf(d, p, -ERANGE, "block %" PRIu32 " ends beyond limits.object", m->block);
	if (m->data_len == 0 && (m->block != 0 || m->offset != 0)) /* only an empty object's */
		return rejectf(d, p, -EINVAL, "block %" PRIu32 " is empty", m->block);
	if ((rc = pending_reserve(d, p, m->block)) != 0) {
		object_lost(d, p, rc == -E2BIG ? "too many blocks held in the deliver role"
					       : "out of memory in the deliver role");
		return rc;
	}
	if (p->blk[m->block].off != NOT_ARRIVED)
		return 0; /* a block we have: the link role repeats itself */
	if ((p->fd < 0 && (rc = open_temp(d, p)) != 0) ||
	    (rc = write_full(p->fd, m->data, m->data_len, m->offset)) != 0) {
		char why[128];
		snprintf(why, sizeof(why), "cannot write temp file: %s", strerror(-rc));
		object_lost(d, p, why);
		return 0; /* the receiver's failure, not the message's */
	}
	hash_leaf(m->block, m->data, m->data_len, p->leaves + (size_t)m->block * HASH_LEN);
	p->blk[m->block] = (struct blk){m->offset, (uint32_t)m->data_len};
	if (m->block >= p->top)
		p->top = m->block + 1;
	return 0;
}

/* The block's bytes are copied out of the shared ring first: what is hashed is what is
 * written, whatever happens to the ring afterwards. */
static int on_block_ref(struct deliver *d, const struct msg *m)
{
	const uint8_t *src = d->ring ? ring_at(d->ring, m->ring_pos, m->ring_len) : NULL;
	if (!src)
		return -EFAULT;
	if (m->ring_len > d->copy_cap) {
		uint8_t *nb = realloc(d->copy, m->ring_len);
		if (!nb) {
			ring_release(d->ring, m->ring_pos + m->ring_len);
			int rc;
			struct pending *p = pending_get(d, m->session, m->object, &rc);
			if (p)
				object_lost(d, p, "out of memory in the deliver role");
			return -ENOMEM;
		}
		d->copy = nb;
		d->copy_cap = m->ring_len;
	}
	static const uint8_t none[1];
	if (m->ring_len)
		memcpy(d->copy, src, m->ring_len);
	ring_release(d->ring, m->ring_pos + m->ring_len);
	struct msg b = *m;
	b.type = MSG_BLOCK;
	b.data = m->ring_len ? d->copy : none; /* an empty object's block */
	b.data_len = m->ring_len;
	return on_block(d, &b);
}

static void commit(struct deliver *d, struct pending *p);
static int judge_manifest(struct deliver *d, struct pending *p, bool final);

static int on_file_end(struct deliver *d, const struct msg *m)
{
	int rc;
	struct pending *p = pending_get(d, m->session, m->object, &rc);
	if (!p)
		return rc;
	if (m->length > d->object_limit)
		return rejectf(d, p, -ERANGE, "length exceeds limits.object");
	if (m->nblocks == 0 || m->nblocks > DELIVER_BLOCKS_MAX)
		return rejectf(d, p, -ERANGE, "FILE_END block count out of range");
	if (p->ended) {
		if (p->length == m->length && p->nblocks == m->nblocks)
			return 0;
		return rejectf(d, p, -EINVAL, "conflicting FILE_END messages");
	}
	p->ended = true;
	p->length = m->length;
	p->nblocks = m->nblocks;
	if (p->manifest)
		commit(d, p);
	return 0;
}

static int on_manifest(struct deliver *d, const struct msg *m)
{
	int rc;
	struct pending *p = pending_get(d, m->session, m->object, &rc);
	if (!p)
		return rc;
	if (m->data_len > MANIFEST_MAX_LEN || m->data_len == 0)
		return rejectf(d, p, -EMSGSIZE, "manifest length out of range");
	if (p->manifest) {
		if (p->manifest_len == m->data_len && memcmp(p->manifest, m->data, m->data_len) == 0)
			return 0;
		return rejectf(d, p, -EINVAL, "conflicting manifests");
	}
	p->manifest = malloc(m->data_len);
	if (!p->manifest) {
		object_lost(d, p, "out of memory in the deliver role");
		return -ENOMEM;
	}
	memcpy(p->manifest, m->data, m->data_len);
	p->manifest_len = m->data_len;
	/* Judged now, not when the content is complete: the content may never come (the link
	 * role refuses packets that claim a length over limits.object, for one). */
	if (judge_manifest(d, p, false) < 0)
		return 0;
	if (p->ended)
		commit(d, p);
	return 0;
}

static int on_lost(struct deliver *d, const struct msg *m)
{
	if (m->kind == WIRE_KIND_EVENTS)
		return 0; /* the events module keeps its own sequence accounting */
	if (m->kind != WIRE_KIND_FILE && m->kind != WIRE_KIND_MANIFEST)
		return -EINVAL;
	/* The reason is the link role's text: keep printable ASCII only. */
	char why[MSG_REASON_MAX + 16];
	size_t n = 0;
	n += (size_t)snprintf(why, sizeof(why), "%s", "link: ");
	for (size_t i = 0; i < m->data_len && n < sizeof(why) - 1; i++)
		why[n++] = (m->data[i] >= 0x20 && m->data[i] < 0x7f) ? (char)m->data[i] : '?';
	why[n] = '\0';
	/* Logged by the link role, which declared it (linkrole.c declare_lost); counted here,
	 * where it is audited, so that an object this role rejected is not counted lost too. */
	struct pending *p = pending_find(d, m->session, m->object);
	if (p) {
		/* A manifest not judged yet is judged now: a refused one makes this a rejection. */
		if (p->manifest && judge_manifest(d, p, false) < 0)
			return 0;
		audit_obj(d, AUDIT_LOST, p->session, p->object, p->man, NULL, why,
			  p->ended ? p->length : 0);
		rxm_add(RXM_LOST, 1);
		pending_close(d, p);
		return 0;
	}
	if (id_in(d->rejected, d->nrejected, m->session, m->object)) {
		log_rl(LOG_DEBUG, "session %016" PRIx64 " object %" PRIu64 ": rejected already, "
				  "not lost (%s)", m->session, m->object, why);
		return 0;
	}
	if (is_closed(d, m->session, m->object))
		return 0;
	audit_obj(d, AUDIT_LOST, m->session, m->object, NULL, NULL, why, 0);
	rxm_add(RXM_LOST, 1);
	mark_closed(d, m->session, m->object);
	return 0;
}

/* File ids of which nothing arrived, sent before this receiver heard their session or while it
 * was stopped: one audit line for the range, counted one each (the link role logged them). */
static int on_lost_range(struct deliver *d, const struct msg *m)
{
	if (m->length == 0 || m->object == 0 || wire_id_is_event(m->object) ||
	    m->length >= WIRE_EVENT_ID_BASE - m->object)
		return -EINVAL;
	char why[MSG_REASON_MAX + 16];
	size_t n = (size_t)snprintf(why, sizeof(why), "%s", "link: ");
	for (size_t i = 0; i < m->data_len && n < sizeof(why) - 1; i++)
		why[n++] = (m->data[i] >= 0x20 && m->data[i] < 0x7f) ? (char)m->data[i] : '?';
	why[n] = '\0';
	const struct dsession *s = session_find(d, m->session);
	struct audit_record r = {.outcome = AUDIT_LOST, .session = m->session, .object_id = m->object,
				 .object_last = m->object + m->length - 1, .sender = s ? s->fp : NULL,
				 .reason = why};
	int rc = audit_write(d->audit, &r);
	if (rc != 0)
		log_rl(LOG_ERROR, "audit log: %s", strerror(rc < 0 ? -rc : rc));
	rxm_add(RXM_LOST, m->length);
	return 0;
}

/* At a clean stop: an unfinished file object the link role held, and its length. */
static int on_partial(struct deliver *d, const struct msg *m)
{
	struct pending *p = pending_find(d, m->session, m->object);
	if (!p)
		return 0; /* no block of it reached this role: nothing to keep */
	if (m->length > d->object_limit || m->length == 0)
		return -ERANGE;
	p->partial = true;
	p->partial_len = m->length;
	return 0;
}

int deliver_handle(struct deliver *d, const struct msg *m)
{
	int rc;
	switch (m->type) {
	case MSG_SESSION: rc = on_session(d, m); break;
	case MSG_BLOCK: rc = on_block(d, m); break;
	case MSG_BLOCK_REF: rc = on_block_ref(d, m); break;
	case MSG_FILE_END: rc = on_file_end(d, m); break;
	case MSG_MANIFEST: rc = on_manifest(d, m); break;
	case MSG_LOST: rc = on_lost(d, m); break;
	case MSG_LOST_RANGE: rc = on_lost_range(d, m); break;
	case MSG_PARTIAL: rc = on_partial(d, m); break;
	case MSG_EVENTS:
		/* From an authenticated session; on a lane of its own, so it may overtake the
		 * SESSION message: not checked against d->sessions. */
		rc = d->events ? events_batch(d->events, m->data, m->data_len) : -ENOTSUP;
		break;
	default: rc = -EINVAL; break;
	}
	if (rc < 0) {
		d->bad_messages++;
		log_rl(LOG_DEBUG, "deliver role: message type %d refused: %s", (int)m->type,
		       strerror(-rc));
	}
	return rc;
}

/* ---- commit ---- */

static int finish_temp(int fd, uint64_t size, uint64_t mtime_ns)
{
	struct timespec ts[2] = {
		{.tv_sec = 0, .tv_nsec = UTIME_NOW},
		{.tv_sec = (time_t)(mtime_ns / 1000000000u), .tv_nsec = (long)(mtime_ns % 1000000000u)},
	};
	if (ftruncate(fd, (off_t)size) != 0 || fchmod(fd, 0644) != 0 || futimens(fd, ts) != 0 ||
	    fsync(fd) != 0)
		return -errno;
	return 0;
}

static int failf(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(char *why, size_t wl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, wl, fmt, ap);
	va_end(ap);
	return -1;
}

/* The checks the signed manifest alone decides, in order: 0, or -1 with `why` set and
 * *verified telling whether man holds what the session's sender signed. */
static int check_manifest(struct deliver *d, const struct pending *p, struct manifest *man,
			  bool *verified, char *why, size_t wl)
{
	*verified = false;
	const struct dsession *s = session_find(d, p->session);
	if (!s)
		return failf(why, wl, "unknown sender: session %016" PRIx64 " has no pinned sender",
			     p->session);
	int rc = manifest_verify(p->manifest, p->manifest_len, s->pk, man);
	if (rc == -EPERM)
		return failf(why, wl, "bad signature: the manifest does not verify with sender %s",
			     s->fp);
	if (rc != 0)
		return failf(why, wl, "malformed manifest");
	*verified = true;
	if (man->session != p->session || man->object_id != p->object)
		return failf(why, wl, "manifest is for session %016" PRIx64 " object %" PRIu64,
			     man->session, man->object_id);
	char pw[160];
	if (safepath_check(man->spool, man->path, pw, sizeof(pw)) != 0)
		return failf(why, wl, "unsafe name: %s", pw);
	if (man->size > d->object_limit)
		return failf(why, wl, "size %" PRIu64 " exceeds limits.object", man->size);
	struct fec_partition part;
	if (fec_partition_init(&part, man->size, man->symbol_size, man->block_max) != 0)
		return failf(why, wl, "bad FEC parameters in the manifest");
	return 0;
}

/* The checks of the content against a manifest that passed check_manifest; 0 or -1. */
static int check_content(const struct pending *p, const struct manifest *man,
			 struct fec_partition *part, char *why, size_t wl)
{
	if (man->size != p->length)
		return failf(why, wl, "size mismatch: manifest %" PRIu64 ", received %" PRIu64,
			     man->size, p->length);
	if (fec_partition_init(part, man->size, man->symbol_size, man->block_max) != 0)
		return failf(why, wl, "bad FEC parameters in the manifest");
	if (part->nblocks != p->nblocks)
		return failf(why, wl, "block count mismatch: manifest gives %" PRIu32
				      ", received %" PRIu32, part->nblocks, p->nblocks);
	if (p->top > part->nblocks)
		return failf(why, wl, "unexpected block %" PRIu32 " beyond the last", p->top - 1);
	for (uint32_t b = 0; b < part->nblocks; b++) {
		if (b >= p->cap || p->blk[b].off == NOT_ARRIVED)
			return failf(why, wl, "missing block %" PRIu32, b);
		if (p->blk[b].off != fec_partition_offset(part, b) ||
		    p->blk[b].len != fec_partition_len(part, b))
			return failf(why, wl, "block %" PRIu32 " has the wrong offset or length", b);
	}
	uint8_t root[HASH_LEN];
	hash_root(man->size, p->leaves, part->nblocks, root);
	if (sodium_memcmp(root, man->hash, HASH_LEN) != 0)
		return failf(why, wl, "content hash mismatch");
	return 0;
}

/* Judges p's manifest on its own, once: 0 with p->man set; 1 when it cannot be judged yet (no
 * SESSION for it so far, and not `final`); -1: p was rejected (audited with what the manifest
 * says, if it verified) or lost, and is closed. */
static int judge_manifest(struct deliver *d, struct pending *p, bool final)
{
	if (p->man)
		return 0;
	struct manifest *man = malloc(sizeof(*man));
	if (!man) {
		object_lost(d, p, "out of memory in the deliver role");
		return -1;
	}
	char why[256 + SAFEPATH_NAME_MAX];
	bool verified;
	if (check_manifest(d, p, man, &verified, why, sizeof(why)) == 0) {
		p->man = man;
		return 0;
	}
	if (!final && !session_find(d, p->session)) {
		free(man);
		return 1;
	}
	object_rejected(d, p, verified ? man : NULL, why);
	free(man);
	return -1;
}

static void commit(struct deliver *d, struct pending *p)
{
	char why[256 + SAFEPATH_NAME_MAX];
	struct fec_partition part;
	bool reject = true;
	int rc;
	if (judge_manifest(d, p, true) != 0)
		return;
	const struct manifest *man = p->man; /* freed with p */
	if (check_content(p, man, &part, why, sizeof(why)) != 0)
		goto fail;
	reject = false; /* from here on, failures are the receiver's, not the object's */
	if ((rc = finish_temp(p->fd, man->size, man->mtime_ns)) != 0) {
		snprintf(why, sizeof(why), "cannot finish temp file: %s", strerror(-rc));
		goto fail;
	}
	/* "<spool>/<dirs>" and the leaf name; the path passed safepath_check. */
	const char *slash = strrchr(man->path, '/');
	const char *leaf = slash ? slash + 1 : man->path;
	int dirs = slash ? (int)(slash - man->path) : 0;
	char dirpath[SAFEPATH_SPOOL_MAX + 1 + SAFEPATH_PATH_MAX + 1];
	snprintf(dirpath, sizeof(dirpath), "%s%s%.*s", man->spool, slash ? "/" : "", dirs, man->path);
	int dirfd;
	if ((rc = safepath_open_dir(d->rootfd, dirpath, true, &dirfd)) != 0) {
		reject = rc == -ELOOP || rc == -ENOTDIR; /* planted in FILES/: never followed */
		if (reject)
			snprintf(why, sizeof(why), "unsafe output folder: a component of '%.300s' is %s",
				 ESCAPED(dirpath), rc == -ELOOP ? "a symbolic link" : "not a folder");
		else
			snprintf(why, sizeof(why), "cannot open output folder: %s", strerror(-rc));
		goto fail;
	}
	char stored[SAFEPATH_NAME_MAX + 1], key[MANIFEST_SPOOL_MAX + 1 + MANIFEST_PATH_MAX + 1];
	snprintf(key, sizeof(key), "%s/%s", man->spool, man->path);
	enum versions_placed how;
	rc = versions_place(d->versions, key, dirfd, leaf, DELIVER_RENAME_MAX, d->tmpfd, p->tmpname,
			    &part, man->hash, stored, sizeof(stored), &how);
	if (rc == 0 && how != VERSIONS_DUPLICATE)
		p->tmp_exists = false;
	if (rc == 0 && how != VERSIONS_DUPLICATE && fsync(dirfd) != 0)
		log_rl(LOG_WARN, "fsync of %s: %s", ESCAPED(dirpath), strerror(errno));
	close(dirfd);
	if (rc != 0) {
		snprintf(why, sizeof(why), "cannot store the file: %s",
			 rc == -EEXIST ? "no free numbered name" : strerror(-rc));
		goto fail;
	}
	char stored_as[SAFEPATH_PATH_MAX + SAFEPATH_NAME_MAX + 8];
	snprintf(stored_as, sizeof(stored_as), "%.*s%s", slash ? dirs + 1 : 0, man->path, stored);
	switch (how) {
	case VERSIONS_PLACED:
		log_info("delivered %s/%s (%" PRIu64 " bytes)", man->spool, ESCAPED(man->path), man->size);
		audit_obj(d, AUDIT_DELIVERED, p->session, p->object, man, NULL, NULL, 0);
		break;
	case VERSIONS_RENAMED:
		log_info("delivered %s/%s as %s: a different file has its name", man->spool,
			 ESCAPED(man->path), ESCAPED(stored_as));
		audit_obj(d, AUDIT_RENAMED, p->session, p->object, man, stored_as,
			  "a different file already has this name", 0);
		rxm_add(RXM_RENAMED, 1);
		break;
	case VERSIONS_DUPLICATE:
		log_info("duplicate %s/%s: identical content already stored as %s", man->spool,
			 ESCAPED(man->path), ESCAPED(stored_as));
		audit_obj(d, AUDIT_DUPLICATE, p->session, p->object, man, stored_as, NULL, 0);
		rxm_add(RXM_DUPLICATES, 1);
		break;
	}
	if (how != VERSIONS_DUPLICATE) {
		rxm_add(RXM_DELIVERED, 1);
		rxm_add(RXM_BYTES_DELIVERED, man->size);
	}
	pending_close(d, p);
	return;
fail:
	if (reject)
		object_rejected(d, p, man, why);
	else
		object_lost(d, p, why);
}

/* ---- set-up, stream, tear-down ---- */

/* One kept object back as a pending one: its temp file must be there, regular, and long enough
 * for every block the record lists. 0, or -errno/-EBADMSG (nothing kept). */
static int resume_one(struct deliver *d, const struct kept *k)
{
	char name[48];
	snprintf(name, sizeof(name), "%016" PRIx64 "-%" PRIu64, k->session, k->object);
	if (k->nblocks == 0 || k->length > d->object_limit || wire_id_is_event(k->object) ||
	    pending_find(d, k->session, k->object) || d->npending >= DELIVER_PENDING_MAX)
		return -EBADMSG;
	int fd = openat(d->tmpfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return -errno;
	const struct kept_block *last = &k->blk[k->nblocks - 1];
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < last->off + last->len) {
		close(fd);
		return -EBADMSG;
	}
	int rc;
	struct pending *p = pending_get(d, k->session, k->object, &rc);
	if (!p) {
		close(fd);
		return rc ? rc : -EBADMSG;
	}
	p->fd = fd;
	p->tmp_exists = true;
	p->partial = true;
	p->partial_len = k->length;
	if ((rc = pending_reserve(d, p, last->block)) != 0)
		goto fail;
	for (uint32_t i = 0; i < k->nblocks; i++) {
		const struct kept_block *b = &k->blk[i];
		p->blk[b->block] = (struct blk){b->off, b->len};
		memcpy(p->leaves + (size_t)b->block * HASH_LEN, b->leaf, HASH_LEN);
	}
	p->top = last->block + 1;
	if (k->manifest_len) {
		if (!(p->manifest = malloc(k->manifest_len))) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(p->manifest, k->manifest, k->manifest_len);
		p->manifest_len = k->manifest_len;
	}
	struct deliver_kept *nk = realloc(d->kept, (d->nkept + 1) * sizeof(*nk));
	uint8_t *done = calloc((p->top + 7) / 8, 1);
	if (nk)
		d->kept = nk;
	if (!nk || !done) {
		free(done);
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < k->nblocks; i++)
		done[k->blk[i].block >> 3] |= (uint8_t)(1u << (k->blk[i].block & 7));
	d->kept[d->nkept++] = (struct deliver_kept){.session = k->session, .object = k->object,
						   .length = k->length, .top = p->top, .done = done};
	return 0;
fail:
	p->tmp_exists = false; /* the caller removes what is not resumed */
	pending_close(d, p);
	return rc;
}

/* The temp folder at start: objects kept by a clean stop come back (their records removed,
 * now that they are in memory); everything else is what a killed receiver left, removed. */
static int resume_tmp(struct deliver *d)
{
	int fd = openat(d->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int e = errno;
		close(fd);
		return -e;
	}
	unsigned resumed = 0, removed = 0;
	struct dirent *e;
	for (int pass = 0; pass < 2; pass++) { /* records first, then the leftovers */
		rewinddir(dir);
		while ((e = readdir(dir)) != NULL) {
			const char *n = e->d_name;
			size_t nl = strlen(n), sl = strlen(KEPT_SUFFIX);
			bool rec = nl > sl && strcmp(n + nl - sl, KEPT_SUFFIX) == 0;
			if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || (pass == 0 && !rec))
				continue;
			if (pass == 0) {
				struct kept k;
				int rc = kept_load(d->tmpfd, n, &k);
				if (rc == 0 && (rc = resume_one(d, &k)) == 0) {
					log_info("resumed session %016" PRIx64 " object %" PRIu64 ": %" PRIu32
						 " blocks kept at the last clean stop", k.session, k.object, k.nblocks);
					resumed++;
				} else {
					log_warn("%s/%s: not resumed: %s", DELIVER_TMP_DIR, ESCAPED(n),
						 rc == -EBADMSG ? "record does not decode" : strerror(-rc));
				}
				kept_free(&k);
				unlinkat(d->tmpfd, n, 0);
				continue;
			}
			uint64_t session, object;
			char tail;
			if (sscanf(n, "%16" SCNx64 "-%" SCNu64 "%c", &session, &object, &tail) == 2 &&
			    pending_find(d, session, object))
				continue;
			if (unlinkat(d->tmpfd, n, 0) == 0)
				removed++;
			else
				log_warn("cannot remove %s/%s: %s", DELIVER_TMP_DIR, ESCAPED(n), strerror(errno));
		}
	}
	closedir(dir);
	if (removed)
		log_info("removed %u unfinished temp file%s of an earlier run", removed,
			 removed == 1 ? "" : "s");
	(void)resumed;
	return 0;
}

size_t deliver_kept(const struct deliver *d, const struct deliver_kept **list)
{
	*list = d->kept;
	return d->nkept;
}

unsigned deliver_keep(struct deliver *d)
{
	unsigned n = 0;
	for (struct pending *p = d->oldest; p; p = p->newer) {
		if (!p->partial || p->ended || p->fd < 0 || !p->tmp_exists)
			continue;
		struct kept k = {.session = p->session, .object = p->object, .length = p->partial_len,
				 .manifest = p->manifest, .manifest_len = (uint32_t)p->manifest_len};
		k.blk = calloc(p->top ? p->top : 1, sizeof(*k.blk));
		if (!k.blk)
			break;
		for (uint32_t b = 0; b < p->top; b++) {
			if (p->blk[b].off == NOT_ARRIVED)
				continue;
			struct kept_block *kb = &k.blk[k.nblocks++];
			kb->block = b;
			kb->off = p->blk[b].off;
			kb->len = p->blk[b].len;
			memcpy(kb->leaf, p->leaves + (size_t)b * HASH_LEN, HASH_LEN);
		}
		int rc = k.nblocks ? (fsync(p->fd) == 0 ? 0 : -errno) : -ENODATA;
		if (rc == 0)
			rc = kept_save(d->tmpfd, p->tmpname, &k);
		if (rc == 0) {
			p->tmp_exists = false; /* stays on disk for the next start */
			log_info("kept session %016" PRIx64 " object %" PRIu64 ": %" PRIu32 " blocks, for "
				 "the same session's next copy of it", p->session, p->object, k.nblocks);
			n++;
		} else if (rc != -ENODATA) {
			log_warn("session %016" PRIx64 " object %" PRIu64 ": cannot keep its blocks: %s",
				 p->session, p->object, strerror(-rc));
		}
		free(k.blk);
	}
	return n;
}

int deliver_new(struct deliver **out, const struct deliver_config *c)
{
	int rc;
	bool handed = false;
	struct deliver *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->rootfd = d->tmpfd = -1;
	d->object_limit = c->object_limit;
	d->audit = c->audit;
	d->ring = c->ring;
	if (c->nsenders) {
		d->senders = malloc(c->nsenders * sizeof(*d->senders));
		if (!d->senders) {
			rc = -ENOMEM;
			goto free_d;
		}
		memcpy(d->senders, c->senders, c->nsenders * sizeof(*d->senders));
		d->nsenders = c->nsenders;
	}
	if ((rc = mkdirs(c->files_dir, 0755, false)) != 0)
		goto free_d;
	d->rootfd = open(c->files_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0) {
		rc = -errno;
		goto free_d;
	}
	if (mkdirat(d->rootfd, DELIVER_TMP_DIR, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		goto close_root;
	}
	d->tmpfd = openat(d->rootfd, DELIVER_TMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->tmpfd < 0) {
		rc = -errno;
		goto close_root;
	}
	if ((rc = resume_tmp(d)) != 0 || (rc = versions_new(&d->versions)) != 0)
		goto close_tmp;
	handed = true; /* events_new owns the forwarder from here, whatever it returns */
	if (c->events_dir) {
		struct events_config ec = {.dir = c->events_dir, .state = c->state, .forward = c->forward};
		if ((rc = events_new(&d->events, &ec)) != 0)
			goto free_versions;
	} else {
		forward_free(c->forward);
	}
	*out = d;
	return 0;
free_versions:
	versions_free(d->versions);
close_tmp:
	close(d->tmpfd);
close_root:
	close(d->rootfd);
free_d:
	if (!handed)
		forward_free(c->forward);
	free(d->senders);
	free(d);
	return rc;
}

/* Reads exactly len bytes: 0; -EPIPE on EOF before the first byte; -EBADMSG on EOF after it. */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got ? -EBADMSG : -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

/* One framed message from fd, handled: 0; -EPIPE at EOF between messages; else an error. */
static int read_msg(struct deliver *d, int fd, uint8_t **buf, size_t *cap)
{
	uint8_t hdr[MSG_HDR_LEN];
	int rc = read_exact(fd, hdr, sizeof(hdr));
	if (rc != 0)
		return rc;
	enum msg_type type;
	uint32_t len;
	if (msg_header_decode(hdr, &type, &len) != 0)
		return -EBADMSG;
	if (len > *cap) { /* len <= MSG_BODY_MAX: msg_header_decode checked it */
		uint8_t *nb = realloc(*buf, len);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = len;
	}
	if ((rc = read_exact(fd, *buf, len)) != 0)
		return rc == -EPIPE ? -EBADMSG : rc;
	struct msg m;
	if (msg_body_decode(type, *buf, len, &m) != 0)
		return -EBADMSG;
	(void)deliver_handle(d, &m);
	return 0;
}

int deliver_run(struct deliver *d, int fd, int evfd)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	while (fd >= 0 || evfd >= 0) {
		/* Every pass, whatever the lanes carry: event gaps, syncs and forwarding that are due
		 * (common/deadline.h; a block lane that never goes idle must not hold them up). Then
		 * wait for either lane, at most until the next of them is due. */
		uint64_t now = deadline_now(), at = DEADLINE_NEVER;
		if (d->events) {
			at = deadline_in_ms(now, events_timeout_ms(d->events));
			if (deadline_due(at, now)) {
				events_tick(d->events);
				at = deadline_in_ms(now, events_timeout_ms(d->events));
			}
		}
		struct pollfd p[2] = {{.fd = evfd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
		int n = poll(p, 2, deadline_ms(at, now));
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n <= 0)
			continue;
		/* The event lane first: one message, then look again. */
		bool ev = evfd >= 0 && p[0].revents;
		int which = ev ? evfd : fd;
		if (!ev && !(fd >= 0 && p[1].revents))
			continue;
		rc = read_msg(d, which, &buf, &cap);
		if (rc == -EPIPE) { /* EOF between messages: the link role is done with this lane */
			rc = 0;
			if (ev)
				evfd = -1;
			else
				fd = -1;
			continue;
		}
		if (rc != 0)
			break;
	}
	if (rc == -EBADMSG)
		log_error("deliver role: malformed message stream from the link role");
	free(buf);
	return rc;
}

uint64_t deliver_bad_messages(const struct deliver *d) { return d->bad_messages; }

uint64_t deliver_bytes_reread(const struct deliver *d) { return versions_bytes_read(d->versions); }

void deliver_free(struct deliver *d)
{
	if (!d)
		return;
	size_t left = 0; /* those deliver_keep kept stay on disk and are not dropped */
	for (struct pending *p = d->oldest; p; p = p->newer)
		left += p->tmp_exists || p->fd < 0;
	while (d->oldest)
		pending_close(d, d->oldest);
	if (left)
		log_info("deliver role: %zu unfinished object%s dropped at exit", left,
			 left == 1 ? "" : "s");
	events_free(d->events);
	versions_free(d->versions);
	for (size_t i = 0; i < d->nkept; i++)
		free(d->kept[i].done);
	free(d->kept);
	close(d->tmpfd);
	close(d->rootfd);
	free(d->senders);
	free(d->copy);
	free(d);
}
