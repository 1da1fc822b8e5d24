/* SPDX-License-Identifier: Apache-2.0 */
#include "common/mkdirs.h"
#include "rx/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/utf8.h"

struct audit {
	int fd; /* -1: no-op */
};

static const char *const outcome_name[] = {
	[AUDIT_DELIVERED] = "delivered", [AUDIT_DUPLICATE] = "duplicate",
	[AUDIT_RENAMED] = "renamed",     [AUDIT_LOST] = "lost",
	[AUDIT_REJECTED] = "rejected",   [AUDIT_SESSION] = "session",
};
int audit_open_fd(const char *path)
{
	int rc = mkdirs(path, 0750, true);
	if (rc != 0)
		return rc;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	return fd >= 0 ? fd : -errno;
}

int audit_open(struct audit **out, const char *path)
{
	struct audit *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	if (path && (a->fd = audit_open_fd(path)) < 0) {
		int rc = a->fd;
		free(a);
		return rc;
	}
	*out = a;
	return 0;
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

static int build(json_t *o, const struct audit_record *r)
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
	bool object = r->outcome != AUDIT_SESSION;
	int rc = add(o, "time", json_string(when));
	rc = rc ? rc : add(o, "outcome", json_string(outcome_name[r->outcome]));
	rc = rc ? rc : add_str(o, "spool", r->spool);
	rc = rc ? rc : add_str(o, "path", r->path);
	rc = rc ? rc : add_str(o, "stored_as", r->stored_as);
	if (object)
		rc = rc ? rc : add(o, "size", u64(r->size));
	rc = rc ? rc : add(o, "session", json_string(session));
	if (object)
		rc = rc ? rc : add(o, "object", u64(r->object_id));
	if (object && r->object_last > r->object_id)
		rc = rc ? rc : add(o, "object_last", u64(r->object_last));
	rc = rc ? rc : add_str(o, "sender", r->sender);
	rc = rc ? rc : add_str(o, "reason", r->reason);
	if (r->hash) {
		char hex[2 * HASH_LEN + 1];
		hash_hex(r->hash, hex);
		rc = rc ? rc : add(o, "content_hash", json_string(hex));
	}
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

int audit_write(struct audit *a, const struct audit_record *r)
{
	if (r->outcome <= AUDIT_INVALID || r->outcome > AUDIT_SESSION)
		return -EINVAL;
	if (!a || a->fd < 0)
		return 0;
	json_t *o = json_object();
	if (!o)
		return -ENOMEM;
	int rc = build(o, r);
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
	/* One writev: O_APPEND makes it land whole, after every earlier line. */
	struct iovec iov[2] = {{.iov_base = (void *)s, .iov_len = n}, {.iov_base = "\n", .iov_len = 1}};
	ssize_t w;
	do
		w = writev(a->fd, iov, 2);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		rc = -errno;
	} else if ((size_t)w != n + 1) {
		rc = -EIO;
		/* A torn line: end it, so that the next line parses. */
		if ((size_t)w < n && write(a->fd, "\n", 1) != 1)
			log_rl(LOG_ERROR, "audit log: cannot end a torn line");
	}
	free(s);
	return rc;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}
