/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An object's audit line, and the two outcomes that end a pending object without a file: lost
 * (the receiver could not finish it) and rejected (the object broke a rule). Each is logged,
 * audited and counted here; a delivered file's outcome is commit.c's.
 */
#include "rx/deliver/internal.h"

#include <stdarg.h>

void outcome_audit(struct deliver *d, enum audit_outcome outcome, uint64_t session,
		   uint64_t object, const struct manifest *man, const char *stored_as,
		   const char *reason, uint64_t size)
{
	const struct dsession *s = table_session(d, session);
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

/* `reason` names the check. */
void outcome_lost(struct deliver *d, struct pending *p, const char *reason)
{
	log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 " lost: %s", p->session, p->object,
	       reason);
	outcome_audit(d, AUDIT_LOST, p->session, p->object, p->man, NULL, reason,
		      p->ended ? p->length : 0);
	rxm_add(RXM_LOST, 1);
	table_close(d, p);
}

/* The name is in the audit line only: it may hold bytes that have no place on a terminal. */
void outcome_rejected(struct deliver *d, struct pending *p, const struct manifest *man,
		      const char *reason)
{
	if (!man)
		man = p->man; /* a manifest that passed its own checks says what was refused */
	log_rl(LOG_WARN, "session %016" PRIx64 " object %" PRIu64 " rejected: %s", p->session,
	       p->object, reason);
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
