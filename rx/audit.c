/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/mkdirs.h"
#include "rx/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/utf8.h"
#include "rx/rx_metrics.h"

struct audit {
	int fd; /* -1: no-op */
	pthread_mutex_t lock; /* a line's seq and prev, its write and the head move together */
	uint64_t seq;                  /* of the last line written */
	uint8_t prev[AUDIT_HASH_LEN];  /* its hash */
	char *head_path;               /* for messages */
	int head_fd;                   /* -1: the chain is kept in memory only */
	/* Lines already chained (seq and prev given, the head moved on) that no write took yet,
	 * oldest first: each is written before any newer line, so the file's order is the
	 * chain's. At most backlog_max bytes; a line beyond it is dropped and counted, and the
	 * next line chained says how many (dropped_pending). */
	struct bline *first, **last;
	size_t backlog_lines, backlog_bytes, backlog_max;
	uint64_t dropped_pending;
	bool failing; /* the last write failed: the next success is logged */
};

struct bline {
	struct bline *next;
	size_t len; /* with its newline */
	char text[];
};

static const char *const outcome_name[] = {
	[AUDIT_DELIVERED] = "delivered", [AUDIT_DUPLICATE] = "duplicate",
	[AUDIT_RENAMED] = "renamed",     [AUDIT_LOST] = "lost",
	[AUDIT_REJECTED] = "rejected",   [AUDIT_SESSION] = "session",
	[AUDIT_START] = "start",         [AUDIT_EVENTS] = "events",
	[AUDIT_CHAIN_BREAK] = "chain_break",
};

static int add_b64(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(cap);
	if (!b64)
		return -ENOMEM;
	sodium_bin2base64(b64, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	int rc = json_object_set_new(o, k, json_string(b64)) == 0 ? 0 : -ENOMEM;
	free(b64);
	return rc;
}

void audit_line_hash(const char *line, size_t len, uint8_t out[AUDIT_HASH_LEN])
{
	crypto_hash_sha256(out, (const unsigned char *)line, len);
}
int audit_open_fd(const char *path)
{
	int rc = mkdirs(path, 0750, true);
	if (rc != 0)
		return rc;
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	return fd >= 0 ? fd : -errno;
}

int audit_open_on(struct audit **out, int fd)
{
	struct audit *a = calloc(1, sizeof(*a));
	if (!a) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	a->fd = fd;
	a->head_fd = -1;
	a->last = &a->first;
	a->backlog_max = AUDIT_BACKLOG_MAX;
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return 0;
}

int audit_open(struct audit **out, const char *path)
{
	int fd = path ? audit_open_fd(path) : -1;
	return fd < 0 && path ? fd : audit_open_on(out, fd);
}

/* The head in the daemon's log (journald, syslog): a copy the audit log's writer cannot take
 * back, for verify-audit --head. Called with a->lock held, or before threads. */
static void log_head(const struct audit *a, const char *when)
{
	char hex[2 * AUDIT_HASH_LEN + 1];
	sodium_bin2hex(hex, sizeof(hex), a->prev, AUDIT_HASH_LEN);
	log_info("audit log %s: chain head %" PRIu64 " %s", when, a->seq, hex);
}

int audit_reopen(struct audit *a, int fd)
{
	if (a->fd < 0) {
		a->fd = fd;
		return 0;
	}
	/* One step: a write in another thread lands in the old file or the new, never in a
	 * descriptor closed and reused for something else. */
	int rc = dup3(fd, a->fd, O_CLOEXEC) < 0 ? -errno : 0;
	close(fd);
	pthread_mutex_lock(&a->lock);
	log_head(a, "reopened");
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Strings from the link may hold invalid UTF-8: each such byte becomes U+FFFD, so every line
 * is valid UTF-8 for any JSON reader, and the damage is visible rather than guessed at. */
static int add_str(json_t *o, const char *k, const char *v)
{
	if (!v)
		return 0;
	size_t n = strlen(v);
	char *copy = malloc(3 * n + 1);
	if (!copy)
		return -ENOMEM;
	size_t out = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq((const uint8_t *)v + i, n - i);
		if (l == 0) {
			memcpy(copy + out, "\xef\xbf\xbd", 3);
			out += 3;
			i++;
			continue;
		}
		memcpy(copy + out, v + i, l);
		out += l;
		i += l;
	}
	json_t *s = json_stringn_nocheck(copy, out);
	free(copy);
	return json_object_set_new(o, k, s) == 0 ? 0 : -ENOMEM; /* it frees s on failure */
}

static int add(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v) == 0 ? 0 : -ENOMEM;
}

/* jansson integers are signed 64-bit: sizes and ids above 2^63 are written as strings. */
static json_t *u64(uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	char b[24];
	snprintf(b, sizeof(b), "%" PRIu64, v);
	return json_string(b);
}

static int build(json_t *o, const struct audit_record *r, uint64_t seq, const uint8_t *prev)
{
	uint64_t ns = now_ns();
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	char when[64], session[17];
	gmtime_r(&sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns % 1000000000u / 1000u));
	snprintf(session, sizeof(session), "%016" PRIx64, r->session);
	bool object = r->outcome != AUDIT_SESSION && r->outcome != AUDIT_START && !r->source &&
		      r->outcome != AUDIT_CHAIN_BREAK;
	int rc = add(o, "time", json_string(when));
	rc = rc ? rc : add(o, "outcome", json_string(outcome_name[r->outcome]));
	rc = rc ? rc : add_str(o, "spool", r->spool);
	rc = rc ? rc : add_str(o, "source", r->source);
	rc = rc ? rc : add_str(o, "path", r->path);
	rc = rc ? rc : add_str(o, "stored_as", r->stored_as);
	if (object)
		rc = rc ? rc : add(o, "size", u64(r->size));
	if (r->outcome != AUDIT_START)
		rc = rc ? rc : add(o, "session", json_string(session));
	if (object || (r->outcome == AUDIT_CHAIN_BREAK && !r->source))
		rc = rc ? rc : add(o, "object", u64(r->object_id));
	if (object && r->object_last > r->object_id)
		rc = rc ? rc : add(o, "object_last", u64(r->object_last));
	if (r->source && r->batch) {
		rc = rc ? rc : add(o, "batch", u64(r->batch));
		if (r->batch_last > r->batch)
			rc = rc ? rc : add(o, "batch_last", u64(r->batch_last));
	}
	if (r->source && r->have_events) {
		rc = rc ? rc : add(o, "event_first", u64(r->event_first));
		rc = rc ? rc : add(o, "event_last", u64(r->event_last));
	}
	rc = rc ? rc : add_str(o, "sender", r->sender);
	rc = rc ? rc : add_str(o, "reason", r->reason);
	if (r->hash) {
		char hex[2 * HASH_LEN + 1];
		hash_hex(r->hash, hex);
		rc = rc ? rc : add(o, "content_hash", json_string(hex));
		if (r->symbol_size) {
			rc = rc ? rc : add(o, "symbol_size", json_integer(r->symbol_size));
			rc = rc ? rc : add(o, "block_max", json_integer(r->block_max));
		}
	}
	if (r->manifest && r->manifest_len) {
		size_t cap = sodium_base64_ENCODED_LEN(r->manifest_len, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = malloc(cap);
		if (!b64)
			return -ENOMEM;
		sodium_bin2base64(b64, cap, r->manifest, r->manifest_len,
				  sodium_base64_VARIANT_ORIGINAL);
		rc = rc ? rc : add(o, "manifest", json_string(b64));
		free(b64);
	}
	if (r->chain_seq)
		rc = rc ? rc : add(o, "chain_seq", u64(r->chain_seq));
	if (r->chain_seq && r->chain_last > r->chain_seq)
		rc = rc ? rc : add(o, "chain_last", u64(r->chain_last));
	rc = rc ? rc : add_str(o, "chain", r->chain);
	if (r->record && r->record_len)
		rc = rc ? rc : add_b64(o, "record", r->record, r->record_len);
	char prev_hex[2 * AUDIT_HASH_LEN + 1];
	sodium_bin2hex(prev_hex, sizeof(prev_hex), prev, AUDIT_HASH_LEN);
	rc = rc ? rc : add(o, "seq", u64(seq));
	rc = rc ? rc : add(o, "prev", json_string(prev_hex));
	return rc;
}

/* jansson leaves DEL (0x7f) raw even with JSON_ENSURE_ASCII; inside a JSON string, the only
 * place it can be, "\u007f" is the same character. Returns s, or a new string (s freed), or
 * NULL (s freed). */
static char *escape_del(char *s)
{
	size_t n = strlen(s), dels = 0;
	for (size_t i = 0; i < n; i++)
		dels += s[i] == 0x7f;
	if (!dels)
		return s;
	char *t = malloc(n + 5 * dels + 1);
	if (t) {
		size_t o = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] == 0x7f) {
				memcpy(t + o, "\\u007f", 6);
				o += 6;
			} else {
				t[o++] = s[i];
			}
		}
		t[o] = '\0';
	}
	free(s);
	return t;
}

/* The head record: "SEQ HEX\n", SEQ zero-padded to 20 digits so that every record has the same
 * length and one pwrite at offset 0 replaces the last. */
#define HEAD_LEN (20 + 1 + 2 * AUDIT_HASH_LEN + 1)

/* When a line joins the chain (queued: written at once unless lines wait in the backlog): the
 * head file says where the chain is, for the next start. Not synced (a flush per line would
 * cost the disk a few ms each): a head a crash leaves behind its log is caught up from the log
 * at the next start (catch_up); one ahead of it (lines that waited in memory when the process
 * died) shows as a break at the next start line. */
static void save_head(struct audit *a)
{
	if (a->head_fd < 0)
		return;
	char buf[HEAD_LEN + 1];
	snprintf(buf, sizeof(buf), "%020" PRIu64 " ", a->seq);
	sodium_bin2hex(buf + 21, sizeof(buf) - 21, a->prev, AUDIT_HASH_LEN);
	buf[HEAD_LEN - 1] = '\n';
	ssize_t w = pwrite(a->head_fd, buf, HEAD_LEN, 0);
	if (w != HEAD_LEN)
		log_rl(LOG_ERROR, "audit log: cannot save the chain head %s: %s; the next start "
				  "may show as a break", a->head_path,
		       w < 0 ? strerror(errno) : "short write");
}

static void backlog_gauge(const struct audit *a)
{
	metric_set(&rx_metrics[RXM_AUDIT_BACKLOG], a->backlog_lines);
}

/* Writes the first waiting line: 0, or -errno (the line kept). A write cut short (a full disk
 * takes what fits) is cut back to where it began, so the file keeps whole lines only and the
 * line, already chained, is written whole by a later try. Called with a->lock held. */
static int write_first(struct audit *a)
{
	struct bline *b = a->first;
	ssize_t w;
	/* One write: O_APPEND makes it land whole, after every earlier line. */
	do
		w = write(a->fd, b->text, b->len);
	while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w == b->len) {
		a->first = b->next;
		if (!a->first)
			a->last = &a->first;
		a->backlog_lines--;
		a->backlog_bytes -= b->len;
		free(b);
		return 0;
	}
	int rc = w < 0 ? -errno : -EIO;
	if (w > 0) {
		struct stat st;
		if (fstat(a->fd, &st) != 0 || st.st_size < w || ftruncate(a->fd, st.st_size - w) != 0) {
			/* Cannot cut it back: end it, so that the next line parses; verify-audit will
			 * name this torn line. */
			log_rl(LOG_ERROR, "audit log: cannot cut back a torn line (%s)", strerror(errno));
			if (write(a->fd, "\n", 1) != 1)
				log_rl(LOG_ERROR, "audit log: cannot end a torn line");
		}
	}
	return rc;
}

/* Writes the waiting lines in order until one fails. Called with a->lock held. */
static int flush_locked(struct audit *a)
{
	size_t had = a->backlog_lines;
	int rc = 0;
	while (a->first && (rc = write_first(a)) == 0)
		;
	if (rc != 0) {
		metric_add(&rx_metrics[RXM_AUDIT_WRITE_ERRORS], 1);
		log_rl(LOG_ERROR, "audit log: cannot write (%s): %zu line(s), %zu bytes, wait in "
				  "memory and are written as soon as a write succeeds",
		       rc == -EIO ? "a short write, cut back, or EIO" : strerror(-rc),
		       a->backlog_lines, a->backlog_bytes);
		a->failing = true;
	} else if (a->failing) {
		log_info("audit log: writes succeed again; %zu waiting line(s) written", had);
		a->failing = false;
	}
	backlog_gauge(a);
	return rc;
}

/* r's line is not kept (the backlog is full, or no memory): dropped, logged and counted; the
 * next line chained says how many (note_drops). -ENOBUFS. */
static int drop(struct audit *a, const struct audit_record *r)
{
	a->dropped_pending++;
	metric_add(&rx_metrics[RXM_AUDIT_DROPPED], 1);
	log_rl(LOG_ERROR, "audit log: %zu bytes wait to be written, the bound: a %s line (%s%s%s) "
			  "dropped; %" PRIu64 " dropped since the last line chained", a->backlog_bytes,
	       r ? outcome_name[r->outcome] : "start", r && r->spool ? r->spool : "",
	       r && r->spool ? "/" : "", r && r->path ? ESCAPED(r->path) : "-", a->dropped_pending);
	return -ENOBUFS;
}

/* Builds r's line, chains it (seq, prev, the head file) and puts it last in the backlog:
 * 0, -ENOMEM, or -ENOBUFS when it does not fit in the backlog. Nothing is chained on failure,
 * so the chain has no hole; the caller counts the drop. Called with a->lock held. */
static int enqueue(struct audit *a, const struct audit_record *r)
{
	json_t *o = json_object();
	if (!o)
		return -ENOMEM;
	int rc = build(o, r, a->seq + 1, a->prev);
	/* All ASCII: a name cannot reorder or hide text where an operator reads the file. */
	char *s = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (rc != 0)
		return rc;
	if (s)
		s = escape_del(s);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	if (a->backlog_bytes + n + 1 > a->backlog_max) {
		free(s);
		return -ENOBUFS;
	}
	struct bline *b = malloc(sizeof(*b) + n + 1);
	if (!b) {
		free(s);
		return -ENOMEM;
	}
	memcpy(b->text, s, n);
	b->text[n] = '\n';
	b->len = n + 1;
	b->next = NULL;
	/* The line is part of the chain from here: the next line's prev names it. */
	a->seq++;
	audit_line_hash(s, n, a->prev);
	free(s);
	*a->last = b;
	a->last = &b->next;
	a->backlog_lines++;
	a->backlog_bytes += b->len;
	save_head(a);
	return 0;
}

#define DROP_LINE_MAX 256 /* a start line saying how many were dropped is shorter */

/* Lines were dropped since the last one chained: a start line says how many, chained before
 * the next, so that verify-audit's walk shows the hole. 0, or -ENOBUFS when even that line
 * does not fit (the next line is dropped too, and counted). Called with a->lock held. */
static int note_drops(struct audit *a, const struct audit_record *r)
{
	if (!a->dropped_pending)
		return 0;
	char why[64];
	snprintf(why, sizeof(why), "audit_lines_dropped %" PRIu64, a->dropped_pending);
	struct audit_record m = {.outcome = AUDIT_START, .reason = why};
	if (a->backlog_bytes + DROP_LINE_MAX > a->backlog_max || enqueue(a, &m) != 0)
		return r ? drop(a, r) : -ENOBUFS; /* r goes too: the hole must come first */
	a->dropped_pending = 0;
	return 0;
}

/* Chains r (after a line saying how many were dropped, if any were) and writes every waiting
 * line: 0 when r's line is written, -ENOBUFS when it was dropped, else -errno of the write that
 * failed (r's line waits). Called with a->lock held. */
static int write_line(struct audit *a, const struct audit_record *r)
{
	/* Older lines first; when they cannot be written, neither can this one. */
	int wrc = a->first ? flush_locked(a) : 0;
	int rc = note_drops(a, r);
	if (rc != 0)
		return rc;
	if (enqueue(a, r) != 0)
		return drop(a, r);
	rc = wrc == 0 ? flush_locked(a) : wrc;
	backlog_gauge(a);
	return rc;
}

int audit_write(struct audit *a, const struct audit_record *r)
{
	if (r->outcome <= AUDIT_INVALID || r->outcome > AUDIT_CHAIN_BREAK)
		return -EINVAL;
	if (!a || a->fd < 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	int rc = write_line(a, r);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

size_t audit_backlog(struct audit *a)
{
	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	size_t n = a->backlog_lines + (a->dropped_pending ? 1 : 0);
	pthread_mutex_unlock(&a->lock);
	return n;
}

int audit_flush(struct audit *a)
{
	if (!a || a->fd < 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	int rc = a->first ? flush_locked(a) : 0;
	if (rc == 0 && a->dropped_pending && (rc = note_drops(a, NULL)) == 0)
		rc = flush_locked(a); /* the hole is said now, not at the next object */
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void audit_set_backlog_max(struct audit *a, size_t bytes)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->backlog_max = bytes;
	pthread_mutex_unlock(&a->lock);
}

int audit_head_parse(const char *buf, uint64_t *seq, uint8_t prev[AUDIT_HASH_LEN])
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf || buf[0] < '0' || buf[0] > '9' || *end != ' ')
		return -EBADMSG;
	const char *hex = end + 1;
	size_t got = 0;
	const char *hend;
	size_t hl = strlen(hex);
	bool nl = hl > 2 * AUDIT_HASH_LEN && hex[2 * AUDIT_HASH_LEN] == '\n';
	if (hl != 2 * AUDIT_HASH_LEN + (nl ? 1u : 0u) ||
	    strspn(hex, "0123456789abcdef") != 2 * AUDIT_HASH_LEN ||
	    sodium_hex2bin(prev, AUDIT_HASH_LEN, hex, 2 * AUDIT_HASH_LEN, NULL, &got, &hend) != 0 ||
	    got != AUDIT_HASH_LEN)
		return -EBADMSG;
	*seq = v;
	return 0;
}

/* Lines written after the head was last saved (a crash before the head reached the disk): the
 * lines in the log's last MiB that chain on from the head are taken up, so the start line
 * chains to the log's true last line rather than showing a break. */
static void catch_up(struct audit *a)
{
	int fd = a->fd; /* opened for reading too (audit_open_fd) */
	size_t cap = 1u << 20;
	char *tail = malloc(cap + 1);
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)cap ? end - (off_t)cap : 0;
	ssize_t n = tail && end > 0 ? pread(fd, tail, (size_t)(end - from), from) : -1;
	uint64_t taken = 0;
	/* The first line of the tail may be cut (unless the tail is the whole file): skipped. */
	char *line = n > 0 ? tail : NULL;
	if (line && from > 0) {
		char *nl = memchr(tail, '\n', (size_t)n);
		line = nl ? nl + 1 : NULL;
	}
	while (line && line < tail + n) {
		char *nl = memchr(line, '\n', (size_t)(tail + n - line));
		if (!nl)
			break; /* a line without its end: torn, not part of the chain */
		size_t len = (size_t)(nl - line);
		json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
		json_t *seq = json_object_get(o, "seq");
		const char *prev = json_string_value(json_object_get(o, "prev"));
		char want[2 * AUDIT_HASH_LEN + 1];
		sodium_bin2hex(want, sizeof(want), a->prev, AUDIT_HASH_LEN);
		if (json_is_integer(seq) && (uint64_t)json_integer_value(seq) == a->seq + 1 && prev &&
		    strcmp(prev, want) == 0) {
			a->seq++;
			audit_line_hash(line, len, a->prev);
			taken++;
		}
		json_decref(o);
		line = nl + 1;
	}
	free(tail);
	if (taken)
		log_info("audit log: %" PRIu64 " line(s) up to seq %" PRIu64 " were written after the "
			 "chain head was last saved; the chain goes on from them", taken, a->seq);
}

int audit_chain_start(struct audit *a, const char *head_path, const char *reason)
{
	if (!a || a->fd < 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	free(a->head_path);
	a->head_path = NULL;
	if (a->head_fd >= 0)
		close(a->head_fd);
	a->head_fd = -1;
	char buf[HEAD_LEN + 2], why[256];
	snprintf(why, sizeof(why), "%s", reason);
	int rc = 0; /* 0: the head read, or none yet (a new or empty file, or no head_path) */
	a->seq = 0;
	memset(a->prev, 0, sizeof(a->prev));
	if (head_path) {
		a->head_path = strdup(head_path);
		a->head_fd = open(head_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (a->head_fd < 0) {
			rc = -errno;
		} else {
			ssize_t n = pread(a->head_fd, buf, sizeof(buf) - 1, 0);
			if (n < 0)
				rc = -errno;
			else if (n > 0)
				buf[n] = '\0', rc = audit_head_parse(buf, &a->seq, a->prev);
		}
	}
	if (rc == 0) {
		catch_up(a);
	} else {
		a->seq = 0;
		memset(a->prev, 0, sizeof(a->prev));
		log_error("audit log: the chain head %s: %s; starting a new chain (a break)", head_path,
			  rc == -EBADMSG ? "malformed" : strerror(-rc));
		snprintf(why, sizeof(why), "%s; chain head %s, new chain", reason,
			 rc == -EBADMSG ? "malformed" : strerror(-rc));
	}
	if (a->head_fd >= 0 && ftruncate(a->head_fd, HEAD_LEN) != 0)
		log_error("audit log: the chain head %s: %s", head_path, strerror(errno));
	struct audit_record r = {.outcome = AUDIT_START, .reason = why};
	rc = write_line(a, &r);
	log_head(a, "started");
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0 && (a->first || a->dropped_pending) && audit_flush(a) != 0) {
		/* Chained, never written: the head names them, so the next start line shows the
		 * hole. What they say goes to the log, one line each, not lost with them. */
		log_error("audit log: %zu line(s) could not be written and are lost (%" PRIu64
			  " dropped before them); the next start line shows the break; their text follows",
			  a->backlog_lines, a->dropped_pending);
		for (struct bline *b = a->first; b; b = b->next)
			log_error("audit line not written: %.*s", (int)(b->len - 1), b->text);
		metric_add(&rx_metrics[RXM_AUDIT_DROPPED], a->backlog_lines);
	}
	for (struct bline *b = a->first, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	a->backlog_lines = 0;
	backlog_gauge(a);
	if (a->fd >= 0)
		close(a->fd);
	if (a->head_fd >= 0)
		close(a->head_fd);
	pthread_mutex_destroy(&a->lock);
	free(a->head_path);
	free(a);
}
