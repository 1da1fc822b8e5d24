/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The messages from the link role (rx/msg.h), one handler each: SESSION (a pinned sender's
 * session), BLOCK and BLOCK_REF (a block's bytes into the temp file, hashed), FILE_END and
 * MANIFEST (either may complete an object: then commit.c decides it), LOST and LOST_RANGE (the
 * link role gave ids up), PARTIAL (what a clean stop may keep) and EVENTS (to rx/events/events.h).
 * Every field is checked against this role's own limits before it is used.
 */
#include "rx/deliver/internal.h"

#include <fcntl.h>
#include <sodium.h>

#include "common/keys.h"
#include "common/smallfile.h"
#include "common/wire.h"
#include "rx/events/events.h"
#include "rx/ring.h"

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

static bool pinned(const struct deliver *d, const uint8_t pk[32])
{
	for (size_t i = 0; i < d->nsenders; i++)
		if (sodium_memcmp(d->senders[i], pk, 32) == 0)
			return true;
	return false;
}

static int on_session(struct deliver *d, const struct msg *m)
{
	char fp[17];
	keys_fingerprint(m->sender_pk, fp);
	if (!pinned(d, m->sender_pk)) {
		log_rl(LOG_WARN, "session %016" PRIx64 ": sender %s is not pinned; its objects will be "
				 "rejected", m->session, fp);
		return -EPERM;
	}
	struct dsession *s = table_session(d, m->session);
	if (m->flags & 4) {
		/* Counted by the link role (sluice_rx_rejected_replay_total). Not added to the
		 * table: a recording of an old session must not push a live one out of it. */
		char why[200];
		snprintf(why, sizeof(why), "announcement_refused_replay: sender %s: its counter %" PRIu64
			 " is below the newest of that key (a one-shot send beside the running "
			 "sender, or a recording played again); its data is dropped", fp, m->counter);
		outcome_audit(d, AUDIT_SESSION, m->session, 0, NULL, NULL, why, 0);
		return 0;
	}
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
		committing_named(d, m->session);
		if (m->flags & 1)
			outcome_audit(d, AUDIT_SESSION, m->session, 0, NULL, NULL, "sender restarted", 0);
		if (m->flags & 2)
			outcome_audit(d, AUDIT_SESSION, m->session, 0, NULL, NULL,
				      "previous session not accounted for: it did not stop cleanly, or this "
				      "receiver never heard it; files it sent may be missing (see the sender's "
				      "journal)", 0);
	}
	return 0;
}

static int on_block(struct deliver *d, const struct msg *m)
{
	int rc;
	struct pending *p = table_get(d, m->session, m->object, &rc);
	if (!p)
		return rc;
	uint64_t limit = d->object_limit;
	uint64_t max_blocks = limit < DELIVER_BLOCKS_MAX ? (limit ? limit : 1) : DELIVER_BLOCKS_MAX;
	if (m->block >= max_blocks)
		return outcome_rejectf(d, p, -ERANGE, "block index %" PRIu32 " out of range", m->block);
	if (m->offset > limit || m->data_len > limit - m->offset)
		return outcome_rejectf(d, p, -ERANGE, "block %" PRIu32 " ends beyond limits.object", m->block);
	if (m->data_len == 0 && (m->block != 0 || m->offset != 0)) /* only an empty object's */
		return outcome_rejectf(d, p, -EINVAL, "block %" PRIu32 " is empty", m->block);
	if (p->full_rc)
		return 0; /* no temp file any more: waiting for the manifest to say what is lost */
	if ((rc = table_reserve(d, p, m->block)) != 0) {
		outcome_lost(d, p, rc == -E2BIG ? "too many blocks held in the deliver role"
			     : "out of memory in the deliver role");
		return rc;
	}
	if (p->blk[m->block].off != NOT_ARRIVED)
		return 0; /* a block we have: the link role repeats itself */
	if ((p->fd < 0 && (rc = open_temp(d, p)) != 0) ||
	    (rc = write_full(p->fd, m->data, m->data_len, m->offset)) != 0) {
		if (outcome_is_disk_full(rc)) {
			outcome_disk_full(d, p, "writing the temp file", rc);
			if (p->man)
				outcome_lost(d, p, NULL);
			return 0;
		}
		char why[128];
		snprintf(why, sizeof(why), "cannot write temp file: %s", strerror(-rc));
		outcome_lost(d, p, why);
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
			struct pending *p = table_get(d, m->session, m->object, &rc);
			if (p)
				outcome_lost(d, p, "out of memory in the deliver role");
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

static int on_file_end(struct deliver *d, const struct msg *m)
{
	int rc;
	struct pending *p = table_get(d, m->session, m->object, &rc);
	if (!p)
		return rc;
	if (m->length > d->object_limit)
		return outcome_rejectf(d, p, -ERANGE, "length exceeds limits.object");
	if (m->nblocks == 0 || m->nblocks > DELIVER_BLOCKS_MAX)
		return outcome_rejectf(d, p, -ERANGE, "FILE_END block count out of range");
	if (p->ended) {
		if (p->length == m->length && p->nblocks == m->nblocks)
			return 0;
		return outcome_rejectf(d, p, -EINVAL, "conflicting FILE_END messages");
	}
	p->ended = true;
	p->length = m->length;
	p->nblocks = m->nblocks;
	log_debug("session %016" PRIx64 " object %" PRIu64 ": content complete, %" PRIu64 " bytes in "
		  "%" PRIu32 " blocks%s", m->session, m->object, m->length, m->nblocks,
		  p->manifest ? "" : ", its manifest not yet here");
	if (p->manifest)
		commit_object(d, p);
	return 0;
}

static int on_manifest(struct deliver *d, const struct msg *m)
{
	int rc;
	struct pending *p = table_get(d, m->session, m->object, &rc);
	if (!p)
		return rc;
	if (m->data_len > MANIFEST_MAX_LEN || m->data_len == 0)
		return outcome_rejectf(d, p, -EMSGSIZE, "manifest length out of range");
	if (p->manifest) {
		if (p->manifest_len == m->data_len && memcmp(p->manifest, m->data, m->data_len) == 0)
			return 0;
		return outcome_rejectf(d, p, -EINVAL, "conflicting manifests");
	}
	p->manifest = malloc(m->data_len);
	if (!p->manifest) {
		outcome_lost(d, p, "out of memory in the deliver role");
		return -ENOMEM;
	}
	memcpy(p->manifest, m->data, m->data_len);
	p->manifest_len = m->data_len;
	/* Judged now, not when the content is complete: the content may never come (the link
	 * role refuses packets that claim a length over limits.object, for one). */
	int judged = commit_judge_manifest(d, p, false);
	if (judged < 0)
		return 0;
	if (judged == 0 && p->full_rc) {
		outcome_lost(d, p, NULL); /* now the audit line can name the file */
		return 0;
	}
	if (p->ended)
		commit_object(d, p);
	return 0;
}

static int on_lost(struct deliver *d, const struct msg *m)
{
	if (m->kind != WIRE_KIND_FILE && m->kind != WIRE_KIND_MANIFEST && m->kind != WIRE_KIND_EVENTS)
		return -EINVAL;
	/* The reason is the link role's text: keep printable ASCII only. */
	char why[MSG_REASON_MAX + 16];
	size_t n = 0;
	n += (size_t)snprintf(why, sizeof(why), "%s", "link: ");
	for (size_t i = 0; i < m->data_len && n < sizeof(why) - 1; i++)
		why[n++] = (m->data[i] >= 0x20 && m->data[i] < 0x7f) ? (char)m->data[i] : '?';
	why[n] = '\0';
	if (m->kind == WIRE_KIND_EVENTS) {
		/* Its source and seqs are not known (it never decoded): the events module counts
		 * its events as a seq gap once a later batch of the source shows one. The batch is
		 * counted here, so that a loss no later batch shows (the last batch before a quiet
		 * spell, or the first of a new stream when a later one arrived first) is not
		 * silent. */
		rxm_add(RXM_EVENT_BATCHES_LOST, 1);
		log_rl(LOG_WARN, "session %016" PRIx64 " event batch %" PRIu64 " lost (%s): its "
		       "events are counted lost when a later batch of its source shows the gap",
		       m->session, m->object & ~WIRE_EVENT_ID_BASE, why);
		return 0;
	}
	/* Logged by the link role, which declared it (rx/link/objects.c obj_declare_lost); counted
	 * here, where it is audited, so that an object this role rejected is not counted lost too. */
	struct pending *p = table_find(d, m->session, m->object);
	if (p) {
		/* A manifest not judged yet is judged now: a refused one makes this a rejection. */
		if (p->manifest && commit_judge_manifest(d, p, false) < 0)
			return 0;
		if (p->full_rc) { /* what ended it first: the full filesystem */
			outcome_lost(d, p, NULL);
			return 0;
		}
		if (p->man)
			outcome_audit_signed(d, AUDIT_LOST, p, p->man, NULL, why);
		else
			outcome_audit(d, AUDIT_LOST, p->session, p->object, NULL, NULL, why,
				      p->ended ? p->length : 0);
		rxm_add(RXM_LOST, 1);
		table_close(d, p);
		return 0;
	}
	if (table_was_rejected(d, m->session, m->object)) {
		log_rl(LOG_DEBUG, "session %016" PRIx64 " object %" PRIu64 ": rejected already, "
				  "not lost (%s)", m->session, m->object, why);
		return 0;
	}
	if (table_is_closed(d, m->session, m->object))
		return 0;
	outcome_audit(d, AUDIT_LOST, m->session, m->object, NULL, NULL, why, 0);
	rxm_add(RXM_LOST, 1);
	table_mark_closed(d, m->session, m->object);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Ids first..last lost: one audit line, counted one each. */
static void lost_run(struct deliver *d, uint64_t session, uint64_t first, uint64_t last,
		     const char *why)
{
	const struct dsession *s = table_session(d, session);
	struct audit_record r = {.outcome = AUDIT_LOST, .session = session, .object_id = first,
				 .object_last = last, .sender = s ? s->fp : NULL, .reason = why};
	/* A line that cannot be written now waits, or is dropped: audit.c logs and counts it. */
	int rc = audit_write(d->audit, &r);
	if (rc == -EINVAL)
		log_rl(LOG_ERROR, "audit log: an outcome outside the enum: not written");
	rxm_add(RXM_LOST, last - first + 1);
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
	/* Ids in the range this role has decided already (delivered before a restart, as
	 * STATE/decided says) are not lost; ids it holds, and ids a deliver process that died
	 * held, get a line each. */
	uint64_t first = m->object, last = m->object + m->length - 1;
	uint64_t *skip = malloc((CLOSED_MAX + ORPHANS_MAX + DELIVER_PENDING_MAX) * sizeof(*skip));
	size_t nskip = 0;
	if (!skip) { /* without the split: the range as the link role gave it */
		lost_run(d, m->session, first, last, why);
		return 0;
	}
	for (size_t i = 0; i < d->nclosed; i++)
		if (d->closed[i].session == m->session && d->closed[i].object >= first &&
		    d->closed[i].object <= last)
			skip[nskip++] = d->closed[i].object;
	for (size_t i = 0; i < d->norphans; i++)
		if (d->orphans[i].session == m->session && d->orphans[i].object >= first &&
		    d->orphans[i].object <= last)
			skip[nskip++] = d->orphans[i].object;
	/* Ids this role holds unfinished (blocks from a link process that died since, or kept
	 * objects the start message had no room for): lost on a line of their own, and closed,
	 * so that their temp files go and nothing reports them again. */
	for (struct pending *p = d->oldest; p && nskip < CLOSED_MAX + ORPHANS_MAX + DELIVER_PENDING_MAX;
	     p = p->newer)
		if (p->session == m->session && p->object >= first && p->object <= last)
			skip[nskip++] = p->object;
	qsort(skip, nskip, sizeof(*skip), cmp_u64);
	uint64_t at = first;
	for (size_t i = 0; i < nskip; i++) {
		uint64_t x = skip[i];
		if (x < at)
			continue; /* closed and an orphan both, or twice closed */
		if (x > at)
			lost_run(d, m->session, at, x - 1, why);
		struct pending *p = table_find(d, m->session, x);
		if (p) {
			outcome_lost(d, p, why); /* held here, or an orphan the link role gave up */
		} else if (!table_is_closed(d, m->session, x)) {
			outcome_audit(d, AUDIT_LOST, m->session, x, NULL, NULL, why, 0);
			rxm_add(RXM_LOST, 1);
			table_mark_closed(d, m->session, x);
		}
		at = x + 1;
	}
	if (at <= last)
		lost_run(d, m->session, at, last, why);
	free(skip);
	return 0;
}

/* At a clean stop: an unfinished file object the link role held, and its length. */
static int on_partial(struct deliver *d, const struct msg *m)
{
	struct pending *p = table_find(d, m->session, m->object);
	if (!p)
		return 0; /* no block of it reached this role: nothing to keep */
	if (m->length > d->object_limit || m->length == 0)
		return -ERANGE;
	p->partial = true;
	p->partial_len = m->length;
	return 0;
}

/* STATE/senders as the link process would have saved it: it has no files. The text is only
 * ever read back by a link process, which parses it as untrusted (rx/link/state.c). */
static int on_state(struct deliver *d, const struct msg *m)
{
	if (d->statefd < 0)
		return 0;
	int rc = smallfile_writeat(d->statefd, "senders", m->data, m->data_len, 0600);
	if (rc != 0)
		log_rl(LOG_ERROR, "cannot save STATE/senders: %s", strerror(-rc));
	else
		decided_trim(d);
	return 0; /* a failure here is the receiver's, logged: not the message's */
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
	case MSG_STATE: rc = on_state(d, m); break;
	case MSG_EVENTS:
		/* From an authenticated session; on a lane of its own, so it may overtake the
		 * SESSION message: not checked against d->sessions. */
		rc = d->events ? events_batch(d->events, m->session, m->data, m->data_len) : -ENOTSUP;
		break;
	default: rc = -EINVAL; break;
	}
	if (rc < 0) {
		d->bad_messages++;
		/* A refused event batch is the events lane's to count (a loss, not a protocol
		 * breach); the receiver's own shortage (ENOMEM) is not the link process's fault. */
		if (m->type != MSG_EVENTS && rc != -ENOMEM) {
			rxm_add(RXM_LINK_REFUSED, 1);
			log_rl(LOG_WARN, "deliver role: a message from the link process refused (type %d): %s",
			       (int)m->type, strerror(-rc));
		}
	}
	return rc;
}
