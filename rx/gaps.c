/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice-rx -c FILE gaps [--since TIME]`: the gap report (common/gapreport.h) from the audit
 * log, for an operator to carry to the sender. A one-shot command run as the operator; it
 * reads log.audit and nothing else, and needs no running receiver.
 *
 * Two passes over the log: the first keeps each `lost` line (audit time at or after --since)
 * as an entry; the second finds the ids of those entries that have a delivered, duplicate,
 * renamed or rejected line anyway (the receiver may declare lost an id it delivered in the
 * seconds before a crash; a rejected file would be rejected again), and the entries are
 * written without them. Memory is bounded by the lost lines, not by the log.
 */
#include "rx/gaps.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/gapreport.h"
#include "common/log.h"
#include "common/utf8.h"

#define LINE_MAX_BYTES (1u << 20)

struct gaps {
	const char *audit;
	struct gapreport_entry *v;
	size_t n, cap;
	size_t *order; /* indices of v by (session, first) */
	struct done {
		uint64_t session, object;
	} *done; /* ids of entries that were resolved after all */
	size_t ndone, donecap;
	unsigned damaged;
};

static bool hex16(const char *s)
{
	if (!s || strlen(s) != 16)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* At most max bytes of s, cut at a UTF-8 character boundary. */
static char *dup_cut(const char *s, size_t max)
{
	size_t n = strlen(s), at = 0;
	while (at < n) {
		size_t l = utf8_seq((const uint8_t *)s + at, n - at);
		if (!l || at + l > max)
			break;
		at += l;
	}
	return strndup(s, at);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The session and object ids of an audit line; false when it has none. */
static bool ids_of(json_t *o, uint64_t *session, uint64_t *first, uint64_t *last)
{
	const char *s = str(o, "session");
	json_t *ob = json_object_get(o, "object"), *ol = json_object_get(o, "object_last");
	if (!hex16(s) || !json_is_integer(ob) || json_integer_value(ob) < 1)
		return false;
	*session = strtoull(s, NULL, 16);
	*first = *last = (uint64_t)json_integer_value(ob);
	if (ol) {
		if (!json_is_integer(ol) || (uint64_t)json_integer_value(ol) < *first)
			return false;
		*last = (uint64_t)json_integer_value(ol);
	}
	return true;
}

static int add_lost(struct gaps *g, json_t *o, uint64_t t, uint64_t session, uint64_t first,
		    uint64_t last)
{
	if (g->n == GAPREPORT_ENTRIES_MAX) {
		fprintf(stderr, "sluice-rx: gaps: %s: more than %d lost lines; narrow the report with "
				"--since\n", g->audit, GAPREPORT_ENTRIES_MAX);
		return -E2BIG;
	}
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct gapreport_entry *v = realloc(g->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->v = v;
		g->cap = cap;
	}
	struct gapreport_entry *e = &g->v[g->n];
	memset(e, 0, sizeof(*e));
	e->session = session;
	e->first = first;
	e->last = last;
	e->time_ns = t;
	/* Only what the sender's parser accepts: a field it would refuse is left out. */
	const char *s = str(o, "spool"), *p = str(o, "path"), *r = str(o, "reason"), *snd = str(o, "sender");
	if (s && config_name_valid(s))
		snprintf(e->spool, sizeof(e->spool), "%s", s);
	if (hex16(snd))
		memcpy(e->sender, snd, 17);
	if ((p && strlen(p) <= GAPREPORT_PATH_MAX && !(e->path = strdup(p))) ||
	    (r && !(e->reason = dup_cut(r, GAPREPORT_REASON_MAX)))) {
		free(e->path);
		return -ENOMEM;
	}
	g->n++;
	return 0;
}

static int by_session(const void *a, const void *b, void *ctx)
{
	const struct gapreport_entry *v = ctx, *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int by_id(const void *a, const void *b)
{
	const struct done *x = a, *y = b;
	if (x->session != y->session)
		return x->session < y->session ? -1 : 1;
	return x->object < y->object ? -1 : x->object > y->object;
}

/* Whether (session, object) lies in a lost entry. */
static bool in_lost(const struct gaps *g, uint64_t session, uint64_t object)
{
	size_t lo = 0, hi = g->n;
	while (lo < hi) { /* the first of that session */
		size_t mid = (lo + hi) / 2;
		if (g->v[g->order[mid]].session < session)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < g->n; i++) {
		const struct gapreport_entry *e = &g->v[g->order[i]];
		if (e->session != session || e->first > object)
			break;
		if (object <= e->last)
			return true;
	}
	return false;
}

static int add_done(struct gaps *g, uint64_t session, uint64_t object)
{
	if (!in_lost(g, session, object))
		return 0;
	if (g->ndone == g->donecap) {
		size_t cap = g->donecap ? 2 * g->donecap : 64;
		struct done *v = realloc(g->done, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->done = v;
		g->donecap = cap;
	}
	g->done[g->ndone++] = (struct done){session, object};
	return 0;
}

/* One pass over the log: lost lines (pass 1) or resolved ids (pass 2). */
static int pass(struct gaps *g, FILE *f, int which, uint64_t since_ns)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int rc = 0;
	rewind(f);
	while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
		lineno++;
		json_t *o = NULL;
		const char *out = NULL, *ts = NULL;
		uint64_t t = 0, session, first, last;
		if ((size_t)len <= LINE_MAX_BYTES)
			o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
		if (o)
			out = str(o, "outcome"), ts = str(o, "time");
		if (!out || !ts || gapreport_time_parse(ts, &t) != 0) {
			if (which == 1) { /* a torn line after a crash, or not an audit log */
				fprintf(stderr, "sluice-rx: gaps: %s:%u: not an audit line, skipped\n",
					g->audit, lineno);
				g->damaged++;
			}
			json_decref(o);
			continue;
		}
		bool has_ids = ids_of(o, &session, &first, &last);
		if (which == 1 && strcmp(out, "lost") == 0) {
			if (!has_ids) {
				fprintf(stderr, "sluice-rx: gaps: %s:%u: a lost line without session and "
						"object ids, skipped\n", g->audit, lineno);
				g->damaged++;
			} else if (t >= since_ns) {
				rc = add_lost(g, o, t, session, first, last);
			}
		} else if (which == 2 && has_ids && first == last &&
			   (strcmp(out, "delivered") == 0 || strcmp(out, "duplicate") == 0 ||
			    strcmp(out, "renamed") == 0 || strcmp(out, "rejected") == 0)) {
			rc = add_done(g, session, first);
		}
		json_decref(o);
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	free(line);
	return rc;
}

/* The entry's ids without those resolved, as one or more report entries. */
static int emit(const struct gaps *g, const struct gapreport_entry *e, json_t *lost)
{
	uint64_t from = e->first;
	for (;;) {
		/* the first resolved id of this session at or after `from` */
		struct done key = {e->session, from};
		size_t lo = 0, hi = g->ndone;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (by_id(&g->done[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		uint64_t to = e->last;
		bool cut = lo < g->ndone && g->done[lo].session == e->session && g->done[lo].object <= e->last;
		if (cut)
			to = g->done[lo].object - 1;
		if (to >= from) {
			char when[GAPREPORT_TIME_MAX], sess[17];
			gapreport_time_format(e->time_ns, when);
			snprintf(sess, sizeof(sess), "%016llx", (unsigned long long)e->session);
			json_t *o = json_object();
			if (!o || json_object_set_new(o, "time", json_string(when)) ||
			    (e->spool[0] && json_object_set_new(o, "spool", json_string(e->spool))) ||
			    (e->path && json_object_set_new(o, "path", json_string(e->path))) ||
			    json_object_set_new(o, "session", json_string(sess)) ||
			    json_object_set_new(o, "object", json_integer((json_int_t)from)) ||
			    json_object_set_new(o, "object_last", json_integer((json_int_t)to)) ||
			    (e->sender[0] && json_object_set_new(o, "sender", json_string(e->sender))) ||
			    (e->reason && json_object_set_new(o, "reason", json_string(e->reason))) ||
			    json_array_append_new(lost, o))
				return -ENOMEM;
		}
		if (!cut)
			return 0;
		from = g->done[lo].object + 1;
		if (from > e->last)
			return 0;
	}
}

static int since_parse(const char *s, uint64_t *ns)
{
	uint64_t ms;
	if (gapreport_time_parse(s, ns) == 0)
		return 0;
	if (config_parse_duration(s, &ms) != 0)
		return -EINVAL;
	uint64_t now = now_ns();
	*ns = ms * 1000000u < now ? now - ms * 1000000u : 0;
	return 0;
}

int gaps_main(const char *cfg_path, int argc, char **argv)
{
	static const struct option opts[] = {{"since", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
	const char *since = NULL;
	uint64_t since_ns = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c != 's') {
			fprintf(stderr, "usage: sluice-rx -c FILE gaps [--since TIME]\n");
			return 2;
		}
		since = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "sluice-rx: gaps: unexpected argument '%s'\n", ESCAPED(argv[optind]));
		return 2;
	}
	if (since && since_parse(since, &since_ns) != 0) {
		fprintf(stderr, "sluice-rx: gaps: --since '%s': neither an RFC 3339 time "
				"(2026-11-22T10:00:00Z) nor a duration (90m, 24h, 7d)\n", ESCAPED(since));
		return 2;
	}
	static struct rx_config cfg;
	if (config_rx_load(cfg_path, &cfg, stderr) != 0)
		return 2;
	struct gaps g = {.audit = cfg.audit_path};
	int code = 1, rc = 0;
	json_t *doc = NULL, *lost = NULL;
	if (!g.audit) {
		fprintf(stderr, "%s: log.audit is not set: there is no audit log to report from\n", cfg_path);
		code = 2;
		goto out;
	}
	FILE *f = fopen(g.audit, "re");
	if (!f && errno != ENOENT) {
		fprintf(stderr, "sluice-rx: gaps: %s: %s\n", g.audit, strerror(errno));
		goto out;
	}
	if (!f)
		fprintf(stderr, "sluice-rx: gaps: %s: no audit log yet: nothing lost\n", g.audit);
	if (f && (rc = pass(&g, f, 1, since_ns)) == 0 && g.n) {
		g.order = malloc(g.n * sizeof(*g.order));
		if (!g.order)
			rc = -ENOMEM;
		for (size_t i = 0; rc == 0 && i < g.n; i++)
			g.order[i] = i;
		if (rc == 0)
			qsort_r(g.order, g.n, sizeof(*g.order), by_session, g.v);
		if (rc == 0 && (rc = pass(&g, f, 2, 0)) == 0 && g.ndone)
			qsort(g.done, g.ndone, sizeof(*g.done), by_id);
	}
	if (f)
		fclose(f);
	if (rc != 0) {
		if (rc != -E2BIG)
			fprintf(stderr, "sluice-rx: gaps: %s: %s\n", g.audit, strerror(-rc));
		goto out;
	}
	char when[GAPREPORT_TIME_MAX];
	gapreport_time_format(now_ns(), when);
	doc = json_object();
	lost = json_array();
	if (!doc || !lost || json_object_set_new(doc, "format", json_string(GAPREPORT_FORMAT)) ||
	    json_object_set_new(doc, "version", json_integer(GAPREPORT_VERSION)) ||
	    json_object_set_new(doc, "created", json_string(when)))
		goto nomem;
	if (since) {
		gapreport_time_format(since_ns, when);
		if (json_object_set_new(doc, "since", json_string(when)))
			goto nomem;
	}
	for (size_t i = 0; i < g.n; i++)
		if (emit(&g, &g.v[i], lost) != 0)
			goto nomem;
	uint64_t ids = 0;
	for (size_t i = 0; i < json_array_size(lost); i++) {
		json_t *e = json_array_get(lost, i);
		ids += (uint64_t)(json_integer_value(json_object_get(e, "object_last")) -
				  json_integer_value(json_object_get(e, "object")) + 1);
	}
	size_t nentries = json_array_size(lost);
	json_object_set_new(doc, "lost", lost);
	lost = NULL;
	/* What `sluice-tx resend` reads (common/gapreport.h); emit may split an entry around ids
	 * delivered after all, and a long path or reason makes an entry kilobytes long. */
	size_t bytes = json_dumpb(doc, NULL, 0, JSON_INDENT(2) | JSON_ENSURE_ASCII) + 1;
	if (nentries > GAPREPORT_ENTRIES_MAX || bytes > GAPREPORT_BYTES_MAX) {
		fprintf(stderr, "sluice-rx: gaps: the report would be %zu bytes in %zu entries, over the "
				"%u bytes and %d entries `sluice-tx resend` reads; nothing written: narrow "
				"it with --since\n", bytes, nentries, GAPREPORT_BYTES_MAX, GAPREPORT_ENTRIES_MAX);
		goto out;
	}
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0 || fputc('\n', stdout) == EOF ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "sluice-rx: gaps: writing the report: %s\n", strerror(errno));
		goto out;
	}
	fprintf(stderr, "sluice-rx: gaps: %llu lost file objects in %zu entries%s\n",
		(unsigned long long)ids, nentries, g.damaged ? " (damaged audit lines skipped, named above)" : "");
	code = 0;
	goto out;
nomem:
	fprintf(stderr, "sluice-rx: gaps: out of memory\n");
out:
	json_decref(lost);
	json_decref(doc);
	for (size_t i = 0; i < g.n; i++) {
		free(g.v[i].path);
		free(g.v[i].reason);
	}
	free(g.v);
	free(g.order);
	free(g.done);
	config_rx_free(&cfg);
	return code;
}
