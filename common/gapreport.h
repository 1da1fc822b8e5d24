/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gap report: what `sluice-rx gaps` writes (rx/gaps.c) and `sluice-tx resend` reads
 * (tx/resend.c). An operator carries it across the diode by hand, so tx takes it as untrusted
 * input: strict JSON (jansson, duplicate keys refused, nothing after the document), bounded in
 * size, every key known, every value checked; the first problem is named ("lost[3].session:
 * ...") and nothing is done. resend uses only the session and object ids to look files up in
 * its own journal: spool, path, reason and time are shown to the operator, never opened.
 *
 *   {
 *     "format": "sluice-gap-report",        required, exactly this
 *     "version": 1,                         required, exactly this
 *     "created": "2026-11-22T10:00:00Z",    optional, RFC 3339 (UTC when written by rx)
 *     "since": "2026-11-21T10:00:00Z",      optional, RFC 3339: the --since the report used
 *     "lost": [                             required, at most GAPREPORT_ENTRIES_MAX entries
 *       {"time": "2026-11-22T09:59:58.123456Z",   optional, RFC 3339: the audit line's time
 *        "spool": "cam", "path": "a/b.ts",        optional: when the receiver knew them
 *        "session": "0123456789abcdef",           required, 16 lowercase hex digits
 *        "object": 5, "object_last": 7,           required, 1 <= object <= object_last < 2^63
 *        "sender": "829ac7d7131f28e5",            optional, the sender key's fingerprint
 *        "reason": "link: no packet of it arrived"}  optional
 *     ]
 *   }
 */
#ifndef SLUICE_COMMON_GAPREPORT_H
#define SLUICE_COMMON_GAPREPORT_H

#include <stddef.h>
#include <stdint.h>

#define GAPREPORT_FORMAT "sluice-gap-report"
#define GAPREPORT_VERSION 1
#define GAPREPORT_BYTES_MAX (16u << 20) /* the whole document */
#define GAPREPORT_ENTRIES_MAX 100000
#define GAPREPORT_PATH_MAX 4096   /* bytes of "path" */
#define GAPREPORT_REASON_MAX 1024 /* bytes of "reason" */
#define GAPREPORT_TIME_MAX 64     /* bytes of a time string */

struct gapreport_entry {
	uint64_t session, first, last;
	char spool[64];  /* "" when not given */
	char sender[17]; /* "" when not given */
	char *path;      /* NULL when not given */
	char *reason;    /* NULL when not given */
	uint64_t time_ns; /* 0 when not given */
};

struct gapreport {
	struct gapreport_entry *v;
	size_t n;
};

/* Parses and checks a report. 0, or -EINVAL with err naming the first problem (-ENOMEM when
 * memory runs out); out is empty on failure. */
int gapreport_parse(const char *buf, size_t len, struct gapreport *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
void gapreport_free(struct gapreport *r);

/* RFC 3339 date-time ("2026-11-22T10:00:00Z", fractions and +hh:mm offsets allowed; 'T' and 'Z'
 * in either case), to ns since 1970. 0 or -EINVAL. */
int gapreport_time_parse(const char *s, uint64_t *ns) __attribute__((warn_unused_result));
/* ns since 1970 as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (the audit log's form). */
void gapreport_time_format(uint64_t ns, char out[GAPREPORT_TIME_MAX]);

#endif
