/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An object's audit line, and the two outcomes that end a pending object without a file: lost
 * (the receiver could not finish it) and rejected (the object broke a rule). Each is logged,
 * audited and counted here; a delivered file's outcome is commit.c's.
 */
#include "rx/deliver/internal.h"

#include <stdarg.h>

static void audit_line(struct deliver *d, enum audit_outcome outcome, uint64_t session,
		       uint64_t object, const struct manifest *man, const char *stored_as,
		       const char *reason, uint64_t size, const uint8_t *signed_man, size_t signed_len,
		       const char *chain)
{
	const struct dsession *s = table_session(d, session);
	char why[MSG_REASON_MAX + 256];
	if (outcome == AUDIT_LOST && orphan_take(d, session, object)) {
		snprintf(why, sizeof(why), "deliver_restart: held unfinished by a deliver process that "
			 "ended without a clean stop%s%s", reason ? "; " : "", reason ? reason : "");
		reason = why;
	}
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
		.symbol_size = man ? man->symbol_size : 0,
		.block_max = man ? man->block_max : 0,
		.manifest = signed_man,
		.manifest_len = signed_len,
		.chain_seq = signed_man && man ? man->chain_seq : 0,
		.chain = signed_man ? chain : NULL,
	};
	/* A line that cannot be written now waits, or is dropped: audit.c logs and counts it. */
	int rc = audit_write(d->audit, &r);
	if (rc == -EINVAL)
		log_rl(LOG_ERROR, "audit log: an outcome outside the enum: not written");
}

void outcome_audit(struct deliver *d, enum audit_outcome outcome, uint64_t session,
		   uint64_t object, const struct manifest *man, const char *stored_as,
		   const char *reason, uint64_t size)
{
	audit_line(d, outcome, session, object, man, stored_as, reason, size, NULL, 0, NULL);
}

void outcome_audit_signed(struct deliver *d, enum audit_outcome outcome, const struct pending *p,
			  const struct manifest *man, const char *stored_as, const char *reason)
{
	audit_line(d, outcome, p->session, p->object, man, stored_as, reason, p->ended ? p->length : 0,
		   p->manifest, p->manifest_len, p->chain_note);
}

/* `reason` names the check; for an object the full filesystem failed, the reason is that. */
void outcome_lost(struct deliver *d, struct pending *p, const char *reason)
{
	char full[160];
	if (p->full_rc) {
		snprintf(full, sizeof(full), "disk_full: %s: %s", p->full_step, strerror(-p->full_rc));
		reason = full;
		rxm_add(RXM_DISK_FULL, 1);
	}
	if (p->man)
		log_rlk(LOG_WARN, reason, "session %016" PRIx64 " object %" PRIu64 " (%s/%s) lost: %s",
		       p->session, p->object, p->man->spool, ESCAPED(p->man->path), reason);
	else
		log_rlk(LOG_WARN, reason, "session %016" PRIx64 " object %" PRIu64 " lost: %s", p->session,
		       p->object, reason);
	/* A manifest that passed its checks holds a place in its spool's chain: it goes in too. */
	if (p->man)
		outcome_audit_signed(d, AUDIT_LOST, p, p->man, NULL, reason);
	else
		outcome_audit(d, AUDIT_LOST, p->session, p->object, NULL, NULL, reason,
			      p->ended ? p->length : 0);
	rxm_add(RXM_LOST, 1);
	table_close(d, p);
}

bool outcome_is_disk_full(int rc) { return rc == -ENOSPC || rc == -EDQUOT; }

/* The filesystem is full: p's temp file goes at once (its space is another object's chance) and
 * its further blocks are ignored. The caller ends it with outcome_lost once its manifest is
 * judged, so that the audit line names the file, or when the link role gives it up. */
void outcome_disk_full(struct deliver *d, struct pending *p, const char *step, int rc)
{
	p->full_rc = rc;
	p->full_step = step;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->tmp_exists && unlinkat(d->tmpfd, p->tmpname, 0) != 0 && errno != ENOENT)
		log_rl(LOG_WARN, "removing temp file %s: %s", p->tmpname, strerror(errno));
	p->tmp_exists = false;
}

/* The name is in the audit line only: it may hold bytes that have no place on a terminal. */
void outcome_rejected(struct deliver *d, struct pending *p, const struct manifest *man,
		      const char *reason)
{
	if (!man)
		man = p->man; /* a manifest that passed its own checks says what was refused */
	log_rlk(LOG_WARN, reason, "session %016" PRIx64 " object %" PRIu64 " rejected: %s", p->session,
	       p->object, reason);
	if (man && man == p->man)
		outcome_audit_signed(d, AUDIT_REJECTED, p, man, NULL, reason);
	else
		outcome_audit(d, AUDIT_REJECTED, p->session, p->object, man, NULL, reason,
			      p->ended ? p->length : 0);
	rxm_add(RXM_OBJ_REJECTED, 1);
	/* The link role may still declare the id lost (it never learns of the rejection). */
	table_mark_rejected(d, p->session, p->object);
	table_close(d, p);
}

/* Rejects p for a message's field: reason from fmt; returns rc. */
int outcome_rejectf(struct deliver *d, struct pending *p, int rc, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	outcome_rejected(d, p, NULL, why);
	return rc;
}
