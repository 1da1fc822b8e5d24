/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/gapreport.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/escape.h"

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int gapreport_time_parse(const char *s, uint64_t *ns)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int Y, M, D, h, m, sec;
	if (strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
	    digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -EINVAL;
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (M == 2 && D == 29 && !leap)
		return -EINVAL;
	const char *p = s + 19;
	uint64_t frac = 0;
	if (*p == '.') {
		p++;
		int n = 0;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9)
				frac = frac * 10 + (uint64_t)(*p - '0');
		if (n == 0)
			return -EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		off = (oh * 60L + om) * 60L * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h,
			.tm_min = m, .tm_sec = sec > 59 ? 59 : sec};
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || (long long)t - off < 0 || (long long)t - off >= (long long)(UINT64_MAX / 1000000000u))
		return -EINVAL; /* before 1970, or past what ns in 64 bits hold (2554) */
	*ns = (uint64_t)((long long)t - off) * 1000000000u + frac;
	return 0;
}

void gapreport_time_format(uint64_t ns, char out[GAPREPORT_TIME_MAX])
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(out, GAPREPORT_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns % 1000000000u / 1000u));
}

void gapreport_free(struct gapreport *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].reason);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool hex16(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* A string value of at most max bytes, without NUL (jansson refuses \u0000 unless asked). */
static int str_of(json_t *v, size_t max, const char *what, char *err, size_t errlen, const char **out)
{
	if (!json_is_string(v))
		return bad(err, errlen, "%s: not a string", what);
	if (json_string_length(v) > max)
		return bad(err, errlen, "%s: longer than %zu bytes", what, max);
	*out = json_string_value(v);
	return 0;
}

static int id_of(json_t *v, const char *what, char *err, size_t errlen, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return bad(err, errlen, "%s: not a file object id (an integer from 1 to 2^63-1)", what);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int time_of(json_t *v, const char *what, char *err, size_t errlen, uint64_t *ns)
{
	const char *s = NULL;
	int rc = str_of(v, GAPREPORT_TIME_MAX, what, err, errlen, &s);
	if (rc == 0 && gapreport_time_parse(s, ns) != 0)
		rc = bad(err, errlen, "%s: not an RFC 3339 time (like 2026-11-22T10:00:00Z)", what);
	return rc;
}

static int entry_of(json_t *o, size_t i, struct gapreport_entry *e, char *err, size_t errlen)
{
	char what[64];
	if (!json_is_object(o))
		return bad(err, errlen, "lost[%zu]: not an object", i);
	const char *k, *s;
	json_t *v;
	bool has_session = false, has_object = false, has_last = false;
	int rc = 0;
	json_object_foreach(o, k, v) {
		snprintf(what, sizeof(what), "lost[%zu].%.20s", i, k);
		if (strcmp(k, "session") == 0) {
			rc = str_of(v, 16, what, err, errlen, &s);
			if (rc == 0 && !hex16(s))
				rc = bad(err, errlen, "%s: not 16 lowercase hex digits", what);
			if (rc == 0)
				e->session = strtoull(s, NULL, 16);
			has_session = true;
		} else if (strcmp(k, "object") == 0) {
			rc = id_of(v, what, err, errlen, &e->first);
			has_object = true;
		} else if (strcmp(k, "object_last") == 0) {
			rc = id_of(v, what, err, errlen, &e->last);
			has_last = true;
		} else if (strcmp(k, "spool") == 0) {
			rc = str_of(v, sizeof(e->spool) - 1, what, err, errlen, &s);
			if (rc == 0 && !config_name_valid(s))
				rc = bad(err, errlen, "%s: not a spool name ([a-z0-9._-], 1 to 63)", what);
			if (rc == 0)
				snprintf(e->spool, sizeof(e->spool), "%s", s);
		} else if (strcmp(k, "sender") == 0) {
			rc = str_of(v, 16, what, err, errlen, &s);
			if (rc == 0 && !hex16(s))
				rc = bad(err, errlen, "%s: not a key fingerprint (16 lowercase hex digits)", what);
			if (rc == 0)
				memcpy(e->sender, s, 17);
		} else if (strcmp(k, "path") == 0 || strcmp(k, "reason") == 0) {
			bool path = k[0] == 'p';
			rc = str_of(v, path ? GAPREPORT_PATH_MAX : GAPREPORT_REASON_MAX, what, err, errlen, &s);
			char **dst = path ? &e->path : &e->reason;
			if (rc == 0 && !*dst && !(*dst = strdup(s)))
				rc = -ENOMEM;
		} else if (strcmp(k, "time") == 0) {
			rc = time_of(v, what, err, errlen, &e->time_ns);
		} else {
			rc = bad(err, errlen, "lost[%zu]: unknown key '%s'", i, ESCAPED(k));
		}
		if (rc != 0)
			return rc;
	}
	if (!has_session || !has_object || !has_last)
		return bad(err, errlen, "lost[%zu]: missing %s", i,
			   !has_session ? "session" : !has_object ? "object" : "object_last");
	if (e->last < e->first)
		return bad(err, errlen, "lost[%zu].object_last: %llu is below object %llu", i,
			   (unsigned long long)e->last, (unsigned long long)e->first);
	return 0;
}

static int report_of(json_t *root, struct gapreport *out, char *err, size_t errlen)
{
	if (!json_is_object(root))
		return bad(err, errlen, "not a gap report: the document is not a JSON object");
	const char *k;
	json_t *v, *lost = NULL;
	bool has_format = false, has_version = false;
	uint64_t t;
	json_object_foreach(root, k, v) {
		if (strcmp(k, "format") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), GAPREPORT_FORMAT) != 0)
				return bad(err, errlen, "format: not \"" GAPREPORT_FORMAT "\": not a gap report");
			has_format = true;
		} else if (strcmp(k, "version") == 0) {
			if (!json_is_integer(v))
				return bad(err, errlen, "version: not an integer");
			if (json_integer_value(v) != GAPREPORT_VERSION)
				return bad(err, errlen, "version %lld: this sluice-tx reads version %d only",
					   (long long)json_integer_value(v), GAPREPORT_VERSION);
			has_version = true;
		} else if (strcmp(k, "created") == 0 || strcmp(k, "since") == 0) {
			int rc = time_of(v, k, err, errlen, &t);
			if (rc != 0)
				return rc;
		} else if (strcmp(k, "lost") == 0) {
			if (!json_is_array(v))
				return bad(err, errlen, "lost: not an array");
			if (json_array_size(v) > GAPREPORT_ENTRIES_MAX)
				return bad(err, errlen, "lost: %zu entries, more than %d", json_array_size(v),
					   GAPREPORT_ENTRIES_MAX);
			lost = v;
		} else {
			return bad(err, errlen, "unknown key '%s'", ESCAPED(k));
		}
	}
	if (!has_format || !has_version || !lost)
		return bad(err, errlen, "not a gap report: no %s",
			   !has_format ? "format" : !has_version ? "version" : "lost");
	size_t n = json_array_size(lost);
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int rc = entry_of(json_array_get(lost, i), i, &out->v[i], err, errlen);
		out->n = i + 1; /* what it allocated is freed with the rest */
		if (rc != 0)
			return rc;
	}
	return 0;
}

int gapreport_parse(const char *buf, size_t len, struct gapreport *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len > GAPREPORT_BYTES_MAX)
		return bad(err, errlen, "too large: %zu bytes, at most %u", len, GAPREPORT_BYTES_MAX);
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	int rc = root ? report_of(root, out, err, errlen)
		      : bad(err, errlen, "not JSON: line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
	json_decref(root);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	/* jansson quotes the offending token: it is the report's, and goes to a terminal. */
	for (char *c = err; rc != 0 && *c; c++)
		if (*c < 0x20 || *c >= 0x7f)
			*c = '?';
	if (rc != 0)
		gapreport_free(out);
	return rc;
}
