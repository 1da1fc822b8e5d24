/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's audit log (log.audit): one JSON object per line per object outcome, e.g.
 *
 *   {"time":"2026-11-22T10:00:00.123456Z","outcome":"delivered","spool":"cam","path":"a/b.ts",
 *    "size":1048576,"session":"0123456789abcdef","object":17,"sender":"...","content_hash":"..."}
 *
 * Keys in that order: time (UTC, microseconds), outcome, spool, path, stored_as, size,
 * session (16 lowercase hex digits), object, object_last (only for a range of lost ids), sender,
 * reason, content_hash (64 lowercase hex digits), symbol_size and block_max (the sender's FEC
 * layout the content hash follows, with content_hash), manifest (the signed manifest as the
 * sender sent it, base64, so that its signature can be checked offline), chain_seq,
 * chain_last, chain (a manifest's place in its spool's chain, common/chain.h), seq, prev.
 * Event-batch lines ("events", and "chain_break" or "rejected" with a source) have "source" right
 * after "spool", no size or object, and batch, batch_last (when above batch), event_first,
 * event_last after "session", and "record" (the batch's signed chain record, base64,
 * common/evchain.h) after "chain".
 *
 * The lines form a hash chain: "seq" counts lines from 1 and "prev" is the SHA-256 (64 lowercase
 * hex digits) of the line before, its bytes without the newline; the first line ever has 64
 * zeros. The head (last seq and hash) is kept in a state file (audit_chain_start), so the chain
 * goes on across restarts, each recorded by a "start" line, and across a reopened file.
 * Keys whose value is NULL are left out; "session" records carry no size and no object.
 * Strings come from the link and may be anything: each byte that is not part of valid UTF-8
 * becomes U+FFFD, and everything but printable ASCII is escaped (\u202e, \u00e9, \u007f;
 * jansson's JSON_ENSURE_ASCII, DEL by hand), so every line is valid JSON in printable ASCII: a
 * name cannot hide or reorder text where an operator reads the file.
 *
 * Each line is appended with a single write(2) on an O_APPEND descriptor, so lines from
 * concurrent writers (threads or processes) never interleave. A line is chained (seq, prev,
 * the head file) when it is made; one that cannot be written (a full disk, EIO) waits in a
 * bounded in-memory backlog and is written before any newer line, so the file's order stays
 * the chain's. Lines still waiting at audit_close are lost and logged: the head file names
 * them, so the next start line shows the break to verify-audit.
 */
#ifndef SLUICE_RX_AUDIT_H
#define SLUICE_RX_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum audit_outcome {
	AUDIT_INVALID = 0,
	AUDIT_DELIVERED, /* "delivered" */
	AUDIT_DUPLICATE, /* "duplicate": identical content already there, nothing written */
	AUDIT_RENAMED,   /* "renamed": stored beside a different file, as stored_as */
	AUDIT_LOST,      /* "lost": can no longer complete */
	AUDIT_REJECTED,  /* "rejected": refused by a check, never written */
	AUDIT_SESSION,   /* "session": a sender session event (reason says which) */
	AUDIT_START,     /* "start": the writer started (reason says more); no session */
	AUDIT_EVENTS,    /* "events": an event batch verified and chained (source, batch, record) */
	AUDIT_CHAIN_BREAK, /* "chain_break": a chain does not go on (reason says how). For a spool's
			      chain of manifests (common/chain.h): reason missing, mismatch, fork,
			      replayed or reset; session and object name the record the break is
			      about; chain_seq (and chain_last) its seqs. For an event source's
			      batches (common/evchain.h): source, batch..batch_last, event seqs */
};

struct audit_record {
	enum audit_outcome outcome;
	const char *spool;     /* may be NULL */
	const char *path;      /* relative path as sent; may be NULL */
	const char *stored_as; /* final relative path when renamed; may be NULL */
	uint64_t size;
	uint64_t session;
	uint64_t object_id;
	uint64_t object_last;  /* a range of ids object_id..object_last when above object_id */
	const char *sender;    /* sender key fingerprint; may be NULL */
	const char *reason;    /* why lost or rejected; may be NULL */
	const uint8_t *hash;   /* 32-byte content hash or NULL */
	uint16_t symbol_size;  /* with hash: the FEC layout it follows; 0 leaves both out */
	uint8_t block_max;
	const uint8_t *manifest; /* the signed manifest (common/manifest.h) or NULL */
	size_t manifest_len;
	/* Event batches (source set): no size, no object; batch..batch_last and the event seqs */
	const char *source;       /* event source; NULL for none */
	uint64_t batch, batch_last; /* chain seqs of batches (common/evchain.h); 0: none */
	bool have_events;
	uint64_t event_first, event_last;
	const uint8_t *record;    /* the batch's signed chain record, or NULL */
	size_t record_len;
	uint64_t chain_seq;    /* the manifest's place in its spool's chain; 0 leaves it out */
	uint64_t chain_last;   /* chain_break: the last seq of a range, when above chain_seq */
	const char *chain;     /* how the manifest joined its chain when not in order ("first",
				  "late", or a break's reason); may be NULL */
};

#define AUDIT_HASH_LEN 32 /* SHA-256 of a line */

struct audit;
/*
 * Opens path for appending (O_APPEND | O_CLOEXEC | O_NOFOLLOW, created mode 0640 less umask),
 * creating missing parent folders (0750). A symbolic link as the last component is refused
 * (-ELOOP). path NULL gives a no-op audit that writes nothing. 0 or -errno.
 */
int audit_open(struct audit **out, const char *path) __attribute__((warn_unused_result));
/* As audit_open, on a descriptor audit_open_fd gave (taken over, closed on failure); -1 gives
 * a no-op audit. 0 or -ENOMEM. */
int audit_open_on(struct audit **out, int fd) __attribute__((warn_unused_result));
/* Opens path as audit_open does: a descriptor (O_RDWR, for the chain's catch-up at a start,
 * O_APPEND, O_CLOEXEC) or -errno. sluice-rx's monitor opens the file for each deliver process
 * it starts, and anew on SIGHUP (logrotate moved it), and hands the descriptor over: no
 * Landlock ruleset of the deliver process or the spawner names a folder of the audit log. */
int audit_open_fd(const char *path) __attribute__((warn_unused_result));
/* From now on a writes to fd, which it takes over (the old file is closed); a no-op audit
 * becomes a real one. 0 or -errno (fd closed all the same, the old file kept). */
int audit_reopen(struct audit *a, int fd);
/* Appends one line, after the lines still waiting (audit_flush). Thread-safe. 0 when written;
 * -EINVAL for an outcome outside the enum (nothing written, even on a no-op audit); -ENOMEM;
 * -ENOBUFS when the backlog is full (the line dropped, counted in
 * sluice_rx_audit_lines_dropped_total, and a "start" line with reason
 * "audit_lines_dropped N" chained before the next line kept); or -errno of the write that
 * failed (-EIO for a short write, cut back with ftruncate so no torn line is left): then the
 * line, already chained, waits in memory and is written, in order, by the next audit_write or
 * audit_flush that succeeds. a NULL or no-op: 0. */
int audit_write(struct audit *a, const struct audit_record *r);
/*
 * Chains a to the head kept in head_path (a state file, created mode 0640, rewritten in place
 * after each line and not synced) and writes a "start" line whose reason is `reason`. Lines of
 * the log's last MiB that chain on from the head (written after the head last reached the
 * disk) are taken up first. A missing or empty head file starts the chain at seq 1 and 64
 * zeros; an unreadable or malformed one too, and the start line's reason says so
 * (verify-audit then names the break there). Without this call lines are chained in memory
 * only. 0, or -errno of the start line's write.
 */
int audit_chain_start(struct audit *a, const char *head_path, const char *reason);
/* A head as the head file or the log line "chain head SEQ HEX" gives it: "SEQ HEX" and an
 * optional newline into *seq and prev. 0 or -EBADMSG. */
int audit_head_parse(const char *buf, uint64_t *seq, uint8_t prev[AUDIT_HASH_LEN]);
/* SHA-256 of one line's bytes (without its newline): the next line's "prev". */
void audit_line_hash(const char *line, size_t len, uint8_t out[AUDIT_HASH_LEN]);
/* The backlog's default bound: lines that cannot be written wait in memory up to this many bytes. */
#define AUDIT_BACKLOG_MAX (4u << 20)
/* Lines waiting in memory for a write that succeeds, a pending note of dropped lines counted
 * as one (0 for NULL or a no-op audit). */
size_t audit_backlog(struct audit *a);
/* Tries to write the waiting lines, in order: 0 when none is left, or -errno of the write
 * that failed (the rest kept). The deliver process calls it every second while lines wait. */
int audit_flush(struct audit *a);
/* The backlog's bound in bytes (AUDIT_BACKLOG_MAX until set). */
void audit_set_backlog_max(struct audit *a, size_t bytes);
/* a may be NULL. */
void audit_close(struct audit *a);

#endif
