/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The online check of each spool's chain of custody (common/chain.h): every manifest that
 * passed its checks takes its place in the chain of (its sender's key, its spool). A break
 * (missing seqs, a previous hash that does not match, a seq seen with other bytes, a seq
 * replayed, the chain begun anew) is audited at once as a "chain_break" line and counted; a
 * manifest that fills a gap left earlier says "chain":"late" in its own line. Manifests may
 * arrive out of order (FEC repair of one may finish after the next), so a gap can be filled
 * a moment after it was audited: verify-audit, which sees the whole log, is the authority.
 * The heads are kept in STATE/chains, saved at most once a second and at a clean stop.
 */
#include "rx/deliver/internal.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "common/smallfile.h"

#define CHAINS_FILE "chains"
#define CHAINS_MAX (4u << 20)
#define SAVE_EVERY_NS 1000000000ull

static void audit_break(struct deliver *d, const struct dsession *s, const struct manifest *m,
			enum chain_verdict v, uint64_t first, uint64_t last)
{
	/* The record the break is about, as the arriving manifest names it. */
	uint64_t session = m->session, object = m->object_id;
	if (v == CHAIN_GAP || v == CHAIN_MISMATCH) {
		session = m->prev_session;
		object = m->prev_object;
	}
	const char *why = chain_verdict_name(v);
	log_rl(LOG_WARN, "spool %s: chain break (%s): seq %" PRIu64 "..%" PRIu64 ", object %016" PRIx64
			 "/%" PRIu64 "; named by seq %" PRIu64 " (object %016" PRIx64 "/%" PRIu64 ")",
	       m->spool, why, first, last, session, object, m->chain_seq, m->session, m->object_id);
	struct audit_record r = {.outcome = AUDIT_CHAIN_BREAK, .spool = m->spool, .session = session,
				 .object_id = object, .sender = s->fp, .reason = why,
				 .chain_seq = first, .chain_last = last};
	int rc = audit_write(d->audit, &r);
	if (rc != 0)
		log_rl(LOG_ERROR, "audit log: %s", strerror(rc < 0 ? -rc : rc));
	rxm_add(RXM_CHAIN_BREAKS, 1);
}

void chain_note_manifest(struct deliver *d, struct pending *p)
{
	const struct manifest *m = p->man;
	const struct dsession *s = table_session(d, p->session);
	if (!s)
		return;
	struct chain_stream *st = chain_set_get(&d->chains, s->pk, m->spool);
	if (!st) {
		log_rl(LOG_ERROR, "spool %s: chain not followed: out of memory", m->spool);
		return;
	}
	struct chain_link l = {.seq = m->chain_seq, .session = m->session, .object = m->object_id,
			       .prev_session = m->prev_session, .prev_object = m->prev_object};
	memcpy(l.prev_hash, m->prev_hash, HASH_LEN);
	manifest_chain_hash(p->manifest, p->manifest_len, l.hash);
	uint64_t first, last;
	enum chain_verdict v = chain_stream_add(st, &l, &first, &last);
	switch (v) {
	case CHAIN_NEXT:
	case CHAIN_REPEAT:
	case CHAIN_INVALID:
		break;
	case CHAIN_FIRST:
	case CHAIN_LATE:
		p->chain_note = chain_verdict_name(v);
		break;
	default:
		audit_break(d, s, m, v, first, last);
		p->chain_note = chain_verdict_name(v);
		break;
	}
	d->chains_dirty = true;
	chain_save(d, false);
}

void chain_load(struct deliver *d)
{
	if (d->statefd < 0)
		return;
	int fd = openat(d->statefd, CHAINS_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_error("STATE/%s: %s; spool chains start anew", CHAINS_FILE, strerror(errno));
		return;
	}
	char *buf = malloc(CHAINS_MAX);
	ssize_t n = buf ? read(fd, buf, CHAINS_MAX) : -1;
	close(fd);
	int rc = n < 0 ? -EIO : n == CHAINS_MAX ? -EFBIG : chain_set_load(&d->chains, buf, (size_t)n);
	if (rc != 0) {
		chain_set_free(&d->chains);
		log_error("STATE/%s: %s; spool chains start anew (their next manifests show as "
			  "first)", CHAINS_FILE, rc == -EBADMSG ? "malformed" : strerror(-rc));
	}
	free(buf);
}

void chain_save(struct deliver *d, bool now)
{
	if (d->statefd < 0 || !d->chains_dirty)
		return;
	uint64_t t = mono_ns();
	if (!now && t - d->chains_saved_ns < SAVE_EVERY_NS)
		return;
	char *text = NULL;
	size_t len = 0;
	int rc = chain_set_save(&d->chains, &text, &len);
	if (rc == 0)
		rc = smallfile_writeat(d->statefd, CHAINS_FILE, text, len, 0600);
	free(text);
	if (rc != 0) {
		log_rl(LOG_ERROR, "cannot save STATE/%s: %s", CHAINS_FILE, strerror(-rc));
		return;
	}
	d->chains_dirty = false;
	d->chains_saved_ns = t;
}
