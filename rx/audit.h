/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's audit log (log.audit): one JSON line per object outcome, appended with one
 * write(2) per line so concurrent writers never interleave, strings escaped by json-c.
 */
#ifndef SLUICE_RX_AUDIT_H
#define SLUICE_RX_AUDIT_H

#include <stdint.h>

enum audit_outcome {
	AUDIT_INVALID = 0,
	AUDIT_DELIVERED,
	AUDIT_DUPLICATE,
	AUDIT_RENAMED,
	AUDIT_LOST,
	AUDIT_REJECTED,
	AUDIT_SESSION,
};

struct audit_record {
	enum audit_outcome outcome;
	const char *spool;     /* may be NULL */
	const char *path;      /* relative path as sent; may be NULL */
	const char *stored_as; /* final relative path when renamed; may be NULL */
	uint64_t size;
	uint64_t session;
	uint64_t object_id;
	const char *sender;    /* sender key fingerprint; may be NULL */
	const char *reason;    /* may be NULL */
	const uint8_t *hash;   /* 32-byte content hash or NULL */
};

struct audit;
/* path NULL: a no-op audit that writes nothing. 0 or -errno. */
int audit_open(struct audit **out, const char *path) __attribute__((warn_unused_result));
int audit_write(struct audit *a, const struct audit_record *r);
void audit_close(struct audit *a);

#endif
