/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The online check of each spool's chain of custody (common/chain.h): every manifest whose
 * signature verifies takes its place in the chain of (its sender's key, its spool), also when
 * its file is then refused or lost. A break
 * (missing seqs, a previous hash that does not match, a seq seen with other bytes, a seq
 * replayed, the chain begun anew) is audited as a "chain_break" line and counted. Manifests
 * arrive out of order (the FEC repair of one may finish after the next has come whole), so a
 * gap is a break only once it has stayed open DELIVER_CHAIN_HOLD_NS (chain_tick), or rx stops
 * (chain_flush); a manifest that fills a gap says "chain":"late" in its own line, one that
 * leaves a gap "chain":"gap". verify-audit, which sees the whole log, is the authority.
 * The heads and open gaps are kept in STATE/chains: a stream's line is appended (one write, not
 * synced) before the audit line of its manifest is written, and when a gap is given as a
 * break, so that after a crash of this process the state on disk is never older than the audit
 * log (the files delivered meanwhile are closed in STATE/decided: their manifests never come
 * back to fill a gap). A gap loaded is held again from the start before it is given; one given
 * before is not given again, and a manifest filling either is late. The last line of a stream
 * counts; the file is written whole at start, at a clean stop and every CHAINS_COMPACT bytes.
 */
#include "rx/deliver/internal.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "common/deadline.h"
#include "common/keys.h"
#include "common/smallfile.h"

#define CHAINS_FILE "chains"
#define CHAINS_MAX (4u << 20)
#define SAVE_EVERY_NS 1000000000ull /* a whole write retried after a failed append */
#define CHAINS_COMPACT (1u << 20)

static void audit_break(struct deliver *d, const uint8_t pk[32], const char *spool,
			enum chain_verdict v, uint64_t first, uint64_t last, uint64_t session,
			uint64_t object)
{
	char fp[17];
	keys_fingerprint(pk, fp);
	const char *why = chain_verdict_name(v);
	log_rl(LOG_WARN, "spool %s: chain break (%s): seq %" PRIu64 "..%" PRIu64 ", object %016" PRIx64
			 "/%" PRIu64, spool, why, first, last, session, object);
	struct audit_record r = {.outcome = AUDIT_CHAIN_BREAK, .spool = spool, .session = session,
				 .object_id = object, .sender = fp, .reason = why,
				 .chain_seq = first, .chain_last = last};
	int rc = audit_write(d->audit, &r);
	if (rc != 0)
		log_rl(LOG_ERROR, "audit log: %s", strerror(rc < 0 ? -rc : rc));
	rxm_add(RXM_CHAIN_BREAKS, 1);
}

/* One line, one write: a killed process leaves it whole or not at all. */
static void append_head(struct deliver *d, const struct chain_stream *st)
{
	if (d->statefd < 0 || !st->started)
		return;
	char line[CHAIN_LINE_MAX];
	int n = chain_stream_format(st, line, sizeof(line));
	ssize_t w = d->chainsfd < 0 || n < 0 ? -1 : write(d->chainsfd, line, (size_t)n);
	if (w == n) {
		d->chains_appended += (uint64_t)n;
		return;
	}
	if (w >= 0)
		errno = EIO;
	log_rl(LOG_ERROR, "cannot append to STATE/%s: %s; written whole within a second", CHAINS_FILE,
	       d->chainsfd < 0 ? "not open" : strerror(errno));
	d->chains_dirty = true;
}

/* Gaps open since `before` or earlier become breaks. */
static void report_due(struct deliver *d, uint64_t before)
{
	for (size_t i = 0; i < d->chains.n; i++) {
		struct chain_stream *st = d->chains.v[i];
		struct chain_gap g;
		bool given = false;
		while (chain_stream_due(st, before, &g)) {
			audit_break(d, st->key, st->name, CHAIN_GAP, g.first, g.last, g.last_session,
				    g.last_object);
			given = true;
		}
		if (given)
			append_head(d, st); /* given: not again after a crash */
	}
}

void chain_note_manifest(struct deliver *d, struct pending *p)
{
	const struct manifest *m = p->man;
	const struct dsession *s = table_session(d, p->session);
	if (!s)
		return;
	struct chain_stream *st = chain_set_get(&d->chains, s->pk, m->spool);
	if (!st) { /* its object is audited: delivered, or rejected for that name */
		log_rl(LOG_ERROR, "spool %s: chain not followed: not a spool name a chain takes, or "
				  "out of memory", ESCAPED(m->spool));
		return;
	}
	struct chain_link l = {.seq = m->chain_seq, .session = m->session, .object = m->object_id,
			       .prev_session = m->prev_session, .prev_object = m->prev_object};
	memcpy(l.prev_hash, m->prev_hash, HASH_LEN);
	manifest_chain_hash(p->manifest, p->manifest_len, l.hash);
	uint64_t first, last, now = deadline_now();
	enum chain_verdict v = chain_stream_add(st, &l, now, &first, &last);
	append_head(d, st); /* before any audit line that depends on it */
	if (v == CHAIN_REPLAYED && p->resumed)
		v = CHAIN_REPEAT; /* its place was taken before the stop (the ring starts empty) */
	switch (v) {
	case CHAIN_NEXT:
	case CHAIN_REPEAT:
	case CHAIN_INVALID:
		break;
	case CHAIN_FIRST:
	case CHAIN_LATE:
		p->chain_note = chain_verdict_name(v);
		break;
	case CHAIN_GAP: /* a break only if it stays open (chain_tick) */
		p->chain_note = "gap";
		break;
	case CHAIN_MISMATCH:
		/* the record it names at seq - 1 */
		audit_break(d, s->pk, m->spool, v, first, last, m->prev_session, m->prev_object);
		p->chain_note = chain_verdict_name(v);
		break;
	default:
		audit_break(d, s->pk, m->spool, v, first, last, m->session, m->object_id);
		p->chain_note = chain_verdict_name(v);
		break;
	}
	report_due(d, now > DELIVER_CHAIN_HOLD_NS ? now - DELIVER_CHAIN_HOLD_NS : 0);
	if (d->chains_appended >= CHAINS_COMPACT)
		chain_save(d, true);
}

uint64_t chain_next_due(const struct deliver *d)
{
	uint64_t at = DEADLINE_NEVER;
	for (size_t i = 0; i < d->chains.n; i++) {
		uint64_t s = chain_stream_next_due(d->chains.v[i]);
		if (s != UINT64_MAX)
			at = deadline_min(at, s + DELIVER_CHAIN_HOLD_NS);
	}
	if (d->statefd >= 0 && d->chains_dirty) /* a failed append: whole within a second */
		at = deadline_min(at, d->chains_saved_ns + SAVE_EVERY_NS);
	return at;
}

void chain_tick(struct deliver *d, uint64_t now)
{
	report_due(d, now > DELIVER_CHAIN_HOLD_NS ? now - DELIVER_CHAIN_HOLD_NS : 0);
	chain_save(d, false);
}

void chain_flush(struct deliver *d)
{
	report_due(d, UINT64_MAX);
	chain_save(d, true);
	if (d->chainsfd >= 0)
		close(d->chainsfd);
	d->chainsfd = -1;
}

/* Line by line, the last of a stream counting: a damaged line (a power cut may leave one) is
 * skipped, named; a torn last line (no newline) is dropped. */
static void load_lines(struct deliver *d, char *buf, size_t n)
{
	unsigned lineno = 0, bad = 0;
	for (size_t at = 0; at < n;) {
		char *nl = memchr(buf + at, '\n', n - at);
		lineno++;
		if (!nl) {
			log_warn("STATE/%s:%u: a torn last line, dropped", CHAINS_FILE, lineno);
			break;
		}
		size_t len = (size_t)(nl - (buf + at)) + 1;
		int rc = chain_set_load(&d->chains, buf + at, len, deadline_now());
		if (rc == -EBADMSG) {
			log_error("STATE/%s:%u: not a chain head, skipped (its spool's chain may show a "
				  "break)", CHAINS_FILE, lineno);
			bad++;
		} else if (rc != 0) {
			log_error("STATE/%s: %s; spool chains start anew (their next manifests show as "
				  "first)", CHAINS_FILE, strerror(-rc));
			chain_set_free(&d->chains);
			return;
		}
		at += len;
	}
	if (bad)
		log_error("STATE/%s: %u damaged line(s) skipped", CHAINS_FILE, bad);
}

void chain_load(struct deliver *d)
{
	if (d->statefd < 0)
		return;
	int fd = openat(d->statefd, CHAINS_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		log_error("STATE/%s: %s; spool chains start anew", CHAINS_FILE, strerror(errno));
	if (fd >= 0) {
		char *buf = malloc(CHAINS_MAX);
		ssize_t n = buf ? read(fd, buf, CHAINS_MAX) : -1;
		close(fd);
		if (n < 0 || n == CHAINS_MAX)
			log_error("STATE/%s: %s; spool chains start anew (their next manifests show as "
				  "first)", CHAINS_FILE, n < 0 ? "cannot read it" : "too large");
		else
			load_lines(d, buf, (size_t)n);
		free(buf);
	}
	chain_save(d, true); /* whole, and opened to append */
}

/* Writes the heads whole, then opens the file again to append (`now`: whatever the clock). */
void chain_save(struct deliver *d, bool now)
{
	if (d->statefd < 0)
		return;
	uint64_t t = deadline_now();
	if (!now && (!d->chains_dirty || t - d->chains_saved_ns < SAVE_EVERY_NS))
		return;
	d->chains_saved_ns = t;
	char *text = NULL;
	size_t len = 0;
	int rc = chain_set_save(&d->chains, &text, &len);
	if (rc == 0)
		rc = smallfile_writeat(d->statefd, CHAINS_FILE, text, len, 0600);
	free(text);
	if (d->chainsfd >= 0)
		close(d->chainsfd);
	d->chainsfd = -1;
	if (rc == 0 && (d->chainsfd = openat(d->statefd, CHAINS_FILE, O_WRONLY | O_APPEND |
					    O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = -errno;
	if (rc != 0) {
		log_rl(LOG_ERROR, "cannot save STATE/%s: %s", CHAINS_FILE, strerror(-rc));
		d->chains_dirty = true;
		return;
	}
	d->chains_dirty = false;
	d->chains_appended = 0;
}
