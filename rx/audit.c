/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"

struct audit {
	int fd; /* -1: no-op */
};

static const char *const outcome_name[] = {
	[AUDIT_INVALID] = "invalid", [AUDIT_DELIVERED] = "delivered", [AUDIT_DUPLICATE] = "duplicate",
	[AUDIT_RENAMED] = "renamed", [AUDIT_LOST] = "lost",           [AUDIT_REJECTED] = "rejected",
	[AUDIT_SESSION] = "session",
};

static int mkparents(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int audit_open(struct audit **out, const char *path)
{
	struct audit *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	if (path) {
		int rc = mkparents(path);
		if (rc == 0) {
			a->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
			if (a->fd < 0)
				rc = -errno;
		}
		if (rc != 0) {
			free(a);
			return rc;
		}
	}
	*out = a;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
		return 0;
	if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

/* Strings from the link may hold invalid UTF-8: each such byte becomes '?', so every line
 * stays valid JSON. */
static void add_str(json_object *o, const char *k, const char *v)
{
	if (!v)
		return;
	size_t n = strlen(v);
	char *copy = malloc(n + 1);
	if (!copy)
		return;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len((const unsigned char *)v + i);
		if (l == 0) {
			copy[i++] = '?';
			continue;
		}
		memcpy(copy + i, v + i, l);
		i += l;
	}
	copy[n] = '\0';
	json_object_object_add(o, k, json_object_new_string(copy));
	free(copy);
}

int audit_write(struct audit *a, const struct audit_record *r)
{
	if (!a || a->fd < 0)
		return 0;
	struct timespec ts;
	struct tm tm;
	char when[96], session[17];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
	snprintf(session, sizeof(session), "%016" PRIx64, r->session);
	json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "time", json_object_new_string(when));
	unsigned oc = r->outcome <= AUDIT_SESSION ? r->outcome : AUDIT_INVALID;
	json_object_object_add(o, "outcome", json_object_new_string(outcome_name[oc]));
	add_str(o, "spool", r->spool);
	add_str(o, "path", r->path);
	add_str(o, "stored_as", r->stored_as);
	if (r->outcome != AUDIT_SESSION)
		json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
	json_object_object_add(o, "session", json_object_new_string(session));
	if (r->outcome != AUDIT_SESSION)
		json_object_object_add(o, "object", json_object_new_int64((int64_t)r->object_id));
	add_str(o, "sender", r->sender);
	add_str(o, "reason", r->reason);
	if (r->hash) {
		char hex[2 * HASH_LEN + 1];
		hash_hex(r->hash, hex);
		json_object_object_add(o, "sha256", json_object_new_string(hex));
	}
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);
	char *line = malloc(n + 1);
	int rc = 0;
	if (!line) {
		rc = -ENOMEM;
	} else {
		memcpy(line, s, n);
		line[n] = '\n';
		if (write(a->fd, line, n + 1) != (ssize_t)(n + 1))
			rc = -EIO;
		free(line);
	}
	json_object_put(o);
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
