/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/chain.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/seqtext.h"

static const char *const verdict_name[] = {
	[CHAIN_INVALID] = "invalid", [CHAIN_FIRST] = "first",       [CHAIN_NEXT] = "next",
	[CHAIN_REPEAT] = "repeat",   [CHAIN_LATE] = "late",         [CHAIN_GAP] = "missing",
	[CHAIN_MISMATCH] = "mismatch", [CHAIN_FORK] = "fork",       [CHAIN_REPLAYED] = "replayed",
	[CHAIN_RESET] = "reset",
};

const char *chain_verdict_name(enum chain_verdict v)
{
	return (unsigned)v <= CHAIN_RESET ? verdict_name[v] : "invalid";
}

static const uint8_t *ring_find(const struct chain_stream *st, uint64_t seq)
{
	unsigned i = (unsigned)(seq % CHAIN_RING);
	return st->ring[i].seq == seq ? st->ring[i].hash : NULL;
}

/* A slot holding a newer seq is kept: the ring remembers the highest seqs. */
static void ring_put(struct chain_stream *st, const struct chain_link *l)
{
	unsigned i = (unsigned)(l->seq % CHAIN_RING);
	if (st->ring[i].seq > l->seq)
		return;
	st->ring[i].seq = l->seq;
	memcpy(st->ring[i].hash, l->hash, HASH_LEN);
}

/* For room, the oldest gap is forgotten (a late record of it then shows as replayed); one not
 * given yet goes to the overflow slot, given by the next chain_stream_due whatever its age. */
static void gap_add(struct chain_stream *st, const struct chain_gap *g)
{
	if (st->ngaps == CHAIN_GAPS) {
		if (!st->gaps[0].reported && !st->has_overflow) {
			st->overflow = st->gaps[0];
			st->has_overflow = true;
		}
		memmove(&st->gaps[0], &st->gaps[1], (CHAIN_GAPS - 1) * sizeof(st->gaps[0]));
		st->ngaps--;
	}
	st->gaps[st->ngaps++] = *g;
}

/* Takes l's seq out of the gap that holds it: true if one did. The part below it is now named
 * by l. */
static bool gap_take(struct chain_stream *st, const struct chain_link *l)
{
	uint64_t seq = l->seq;
	for (unsigned i = 0; i < st->ngaps; i++) {
		struct chain_gap *g = &st->gaps[i];
		if (seq < g->first || seq > g->last)
			continue;
		if (g->first == g->last) {
			memmove(g, g + 1, (st->ngaps - i - 1) * sizeof(*g));
			st->ngaps--;
		} else if (seq == g->first) {
			g->first++;
		} else {
			struct chain_gap upper = *g;
			g->last = seq - 1;
			g->last_session = l->prev_session;
			g->last_object = l->prev_object;
			if (seq < upper.last) {
				upper.first = seq + 1;
				gap_add(st, &upper);
			}
		}
		return true;
	}
	return false;
}

bool chain_stream_due(struct chain_stream *st, uint64_t before, struct chain_gap *out)
{
	if (st->has_overflow) {
		st->has_overflow = false;
		*out = st->overflow;
		out->reported = true;
		return true;
	}
	for (unsigned i = 0; i < st->ngaps; i++) {
		struct chain_gap *g = &st->gaps[i];
		if (!g->reported && g->since <= before) {
			g->reported = true;
			*out = *g;
			return true;
		}
	}
	return false;
}

uint64_t chain_stream_next_due(const struct chain_stream *st)
{
	uint64_t at = st->has_overflow ? 0 : UINT64_MAX;
	for (unsigned i = 0; i < st->ngaps; i++)
		if (!st->gaps[i].reported && st->gaps[i].since < at)
			at = st->gaps[i].since;
	return at;
}

/* A chain begun anew: gaps of the old one not given yet stay, due at once. */
static void restart(struct chain_stream *st, const struct chain_link *l)
{
	memset(st->ring, 0, sizeof(st->ring));
	unsigned kept = 0;
	for (unsigned i = 0; i < st->ngaps; i++) {
		if (!st->gaps[i].reported) {
			st->gaps[kept] = st->gaps[i];
			st->gaps[kept++].since = 0;
		}
	}
	st->ngaps = kept;
	st->started = true;
	st->head = *l;
	st->start_seq = l->seq;
	memcpy(st->start_prev, l->prev_hash, HASH_LEN);
	ring_put(st, l);
}

enum chain_verdict chain_stream_add(struct chain_stream *st, const struct chain_link *l,
				    uint64_t now, uint64_t *first, uint64_t *last)
{
	*first = *last = l->seq;
	if (l->seq == 0)
		return CHAIN_INVALID;
	if (!st->started) {
		restart(st, l);
		return CHAIN_FIRST;
	}
	uint64_t top = st->head.seq;
	if (l->seq == top + 1) {
		bool linked = sodium_memcmp(l->prev_hash, st->head.hash, HASH_LEN) == 0;
		st->head = *l;
		ring_put(st, l);
		*first = *last = l->seq - 1;
		return linked ? CHAIN_NEXT : CHAIN_MISMATCH;
	}
	if (l->seq > top + 1) {
		*first = top + 1;
		*last = l->seq - 1;
		struct chain_gap g = {.first = top + 1, .last = l->seq - 1,
				      .last_session = l->prev_session, .last_object = l->prev_object,
				      .since = now};
		gap_add(st, &g);
		st->head = *l;
		ring_put(st, l);
		return CHAIN_GAP;
	}
	const uint8_t *seen = ring_find(st, l->seq);
	if (seen && sodium_memcmp(seen, l->hash, HASH_LEN) == 0)
		return CHAIN_REPEAT;
	if (!seen && st->start_seq > 1 && l->seq == st->start_seq - 1 &&
	    sodium_memcmp(l->hash, st->start_prev, HASH_LEN) == 0) {
		/* the very record the start names as its predecessor: late, the chain reaches down */
		st->start_seq = l->seq;
		memcpy(st->start_prev, l->prev_hash, HASH_LEN);
		ring_put(st, l);
		return CHAIN_LATE;
	}
	if (l->seq == 1) {
		restart(st, l);
		return CHAIN_RESET;
	}
	if (seen)
		return CHAIN_FORK;
	if (!gap_take(st, l))
		return CHAIN_REPLAYED;
	ring_put(st, l);
	const uint8_t *before = ring_find(st, l->seq - 1);
	if (before && sodium_memcmp(before, l->prev_hash, HASH_LEN) != 0) {
		*first = *last = l->seq - 1;
		return CHAIN_MISMATCH;
	}
	return CHAIN_LATE;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= CHAIN_NAME_MAX && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

struct chain_stream *chain_set_get(struct chain_set *s, const uint8_t key[32], const char *name)
{
	if (!name_ok(name))
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i]->key, key, 32) == 0 && strcmp(s->v[i]->name, name) == 0)
			return s->v[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct chain_stream **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	struct chain_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	memcpy(st->key, key, 32);
	snprintf(st->name, sizeof(st->name), "%s", name);
	s->v[s->n++] = st;
	return st;
}

int chain_stream_format(const struct chain_stream *st, char *buf, size_t cap)
{
	char key[65], hash[65];
	sodium_bin2hex(key, sizeof(key), st->key, 32);
	sodium_bin2hex(hash, sizeof(hash), st->head.hash, HASH_LEN);
	int n = snprintf(buf, cap, "chain %s %s %" PRIu64 " %016" PRIx64 " %" PRIu64 " %s", key,
			 st->name, st->head.seq, st->head.session, st->head.object, hash);
	for (unsigned i = 0; i < st->ngaps && n >= 0 && (size_t)n < cap; i++) {
		const struct chain_gap *g = &st->gaps[i];
		n += snprintf(buf + n, cap - (size_t)n, " gap %" PRIu64 " %" PRIu64 " %016" PRIx64 " %" PRIu64 " %d",
			      g->first, g->last, g->last_session, g->last_object, g->reported ? 1 : 0);
	}
	if (n >= 0 && (size_t)n + 1 < cap) {
		buf[n++] = '\n';
		buf[n] = '\0';
		return n;
	}
	return -ENOSPC;
}

int chain_set_save(const struct chain_set *s, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	char line[CHAIN_LINE_MAX];
	for (size_t i = 0; i < s->n; i++) {
		const struct chain_stream *st = s->v[i];
		int n = st->started ? chain_stream_format(st, line, sizeof(line)) : 0;
		if (n > 0)
			fwrite(line, 1, (size_t)n, f);
	}
	int rc = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0 && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

static bool hex32(const char *h, uint8_t out[32])
{
	size_t got = 0;
	return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64 &&
	       sodium_hex2bin(out, 32, h, 64, NULL, &got, NULL) == 0 && got == 32;
}

/* The gaps after a head: " gap FIRST LAST SESSION OBJECT R" each, FIRST <= LAST below the
 * head's seq, R 0 or 1. false: not that. */
static bool load_gaps(struct chain_stream *st, const char *p, uint64_t now)
{
	st->ngaps = 0;
	st->has_overflow = false;
	while (*p) {
		char first[SEQTEXT_LEN], last[SEQTEXT_LEN], obj[SEQTEXT_LEN], r[2];
		struct chain_gap g = {.since = now};
		int end = 0;
		if (st->ngaps == CHAIN_GAPS ||
		    sscanf(p, " gap " SEQTEXT_SCAN " " SEQTEXT_SCAN " %" SCNx64 " " SEQTEXT_SCAN " %1[01]%n",
			   first, last, &g.last_session, obj, r, &end) != 5 || end == 0 ||
		    (p[end] != '\0' && p[end] != ' ') || !seqtext_parse(first, &g.first) ||
		    !seqtext_parse(last, &g.last) || !seqtext_parse(obj, &g.last_object) ||
		    g.first == 0 || g.first > g.last || g.last >= st->head.seq)
			return false;
		g.reported = r[0] == '1';
		st->gaps[st->ngaps++] = g;
		p += end;
	}
	return true;
}

int chain_set_load(struct chain_set *s, const char *text, size_t len, uint64_t now)
{
	if (memchr(text, '\0', len))
		return -EBADMSG; /* would end the text early: the lines after it silently dropped */
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	int rc = 0;
	char *save = NULL;
	unsigned lineno = 0;
	for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[80], name[80], hash[80], seq[SEQTEXT_LEN], obj[SEQTEXT_LEN];
		struct chain_link l = {0};
		uint8_t k[32];
		int end = 0;
		lineno++;
		if (sscanf(line, "chain %79s %79s " SEQTEXT_SCAN " %" SCNx64 " " SEQTEXT_SCAN " %79s%n",
			   key, name, seq, &l.session, obj, hash, &end) != 6 ||
		    (line[end] != '\0' && line[end] != ' ') ||
		    !seqtext_parse(seq, &l.seq) || !seqtext_parse(obj, &l.object) || l.seq == 0 ||
		    !hex32(key, k) || !hex32(hash, l.hash) || !name_ok(name)) {
			log_warn("chain state line %u: not \"chain KEY SPOOL SEQ SESSION OBJECT HASH\" "
				 "with SEQ and OBJECT numbers from 1 to 2^63", lineno);
			rc = -EBADMSG;
			break;
		}
		struct chain_stream *st = chain_set_get(s, k, name);
		if (!st) {
			rc = -ENOMEM;
			break;
		}
		struct chain_stream was = *st;
		st->ngaps = 0; /* the last line of a stream counts, gaps and all */
		st->has_overflow = false;
		restart(st, &l);
		if (!load_gaps(st, line + end, now)) {
			*st = was;
			log_warn("chain state line %u: its gaps are not \" gap FIRST LAST SESSION OBJECT "
				 "R\" (at most %d, below the head's seq)", lineno, CHAIN_GAPS);
			rc = -EBADMSG;
		}
	}
	free(copy);
	return rc;
}

void chain_set_free(struct chain_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- offline ---- */

struct sorted {
	struct chain_entry c;
	size_t i; /* index in the log order */
};

static int by_hash(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;
	if (x->c.stream != y->c.stream)
		return x->c.stream < y->c.stream ? -1 : 1;
	return memcmp(x->c.l.hash, y->c.l.hash, HASH_LEN);
}

static int by_seq(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;
	if (x->c.stream != y->c.stream)
		return x->c.stream < y->c.stream ? -1 : 1;
	if (x->c.l.seq != y->c.l.seq)
		return x->c.l.seq < y->c.l.seq ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The index in the by-seq copy of the first entry not less than (stream, seq). */
static size_t lower(const struct sorted *s, size_t n, uint32_t stream, uint64_t seq)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s[mid].c.stream < stream || (s[mid].c.stream == stream && s[mid].c.l.seq < seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The entry of `stream` with the highest seq below `seq` in the by-seq copy, or NULL. */
static const struct sorted *below(const struct sorted *s, size_t n, uint32_t stream, uint64_t seq)
{
	size_t lo = lower(s, n, stream, seq);
	return lo > 0 && s[lo - 1].c.stream == stream ? &s[lo - 1] : NULL;
}

/* The record of l's stream at l->seq - 1 that l names by hash, or NULL. */
static const struct sorted *pred_of(const struct sorted *h, size_t n, uint32_t stream,
				    const struct chain_link *l)
{
	struct sorted key = {.c = {.stream = stream}};
	memcpy(key.c.l.hash, l->prev_hash, HASH_LEN);
	const struct sorted *p = bsearch(&key, h, n, sizeof(*h), by_hash);
	return p && p->c.l.seq == l->seq - 1 ? p : NULL;
}

struct found {
	long at;
	enum chain_verdict v;
	uint64_t first, last;
};

static void found_at(struct found *f, size_t i, enum chain_verdict v, uint64_t first, uint64_t last)
{
	if (f->at >= 0 && (size_t)f->at <= i)
		return;
	*f = (struct found){.at = (long)i, .v = v, .first = first, .last = last};
}

long chain_check(const struct chain_entry *e, size_t n, enum chain_verdict *v, uint64_t *first,
		 uint64_t *last)
{
	if (n == 0)
		return -1;
	uint32_t ns = 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].stream >= ns)
			ns = e[i].stream + 1;
	struct sorted *h = malloc(n * sizeof(*h)), *q = malloc(n * sizeof(*q));
	uint64_t *start = calloc(ns, sizeof(*start));
	size_t *one = malloc(ns * sizeof(*one)); /* the first record at seq 1, in log order */
	if (!h || !q || !start || !one) {
		free(h);
		free(q);
		free(start);
		free(one);
		return -ENOMEM;
	}
	/* Where each stream's log begins: its lowest seq before its first record at seq 1. */
	for (uint32_t s = 0; s < ns; s++)
		one[s] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		uint32_t s = e[i].stream;
		if (e[i].l.seq == 1) {
			if (one[s] == SIZE_MAX)
				one[s] = i;
		} else if (one[s] == SIZE_MAX && (!start[s] || e[i].l.seq < start[s])) {
			start[s] = e[i].l.seq;
		}
		h[i] = q[i] = (struct sorted){.c = e[i], .i = i};
	}
	qsort(h, n, sizeof(*h), by_hash);
	qsort(q, n, sizeof(*q), by_seq);
	struct found f = {.at = -1};
	/* Two records at one place: other bytes at the same seq are a fork (at seq 1, the sender
	 * began anew: a reset), named at the later one. */
	for (size_t j = 1, lead = 0; j < n; j++) {
		if (q[j].c.stream != q[lead].c.stream || q[j].c.l.seq != q[lead].c.l.seq) {
			lead = j;
			continue;
		}
		if (memcmp(q[j].c.l.hash, q[lead].c.l.hash, HASH_LEN) != 0)
			found_at(&f, q[j].i, q[j].c.l.seq == 1 ? CHAIN_RESET : CHAIN_FORK, q[j].c.l.seq,
				 q[j].c.l.seq);
	}
	/* A seq 1 after higher seqs is the sender beginning anew, unless those name it below
	 * them (it was only audited late). */
	for (uint32_t s = 0; s < ns; s++) {
		if (one[s] == SIZE_MAX || start[s] <= 1)
			continue;
		const struct sorted *cur = &q[lower(q, n, s, start[s])]; /* the first there */
		for (size_t steps = 0; cur && cur->c.l.seq > 1 && steps < n; steps++)
			cur = pred_of(h, n, s, &cur->c.l);
		if (!cur || cur->c.l.seq != 1)
			found_at(&f, one[s], CHAIN_RESET, 1, 1);
	}
	/* Each record above where its stream begins names the record below it. */
	for (size_t i = 0; i < n && (f.at < 0 || i < (size_t)f.at); i++) {
		const struct chain_link *l = &e[i].l;
		if (l->seq <= 1 || (l->seq == start[e[i].stream] && e[i].may_begin))
			continue;
		if (pred_of(h, n, e[i].stream, l))
			continue;
		const struct sorted *b = below(q, n, e[i].stream, l->seq);
		if (!b)
			found_at(&f, i, CHAIN_GAP, 1, l->seq - 1);
		else if (b->c.l.seq == l->seq - 1)
			found_at(&f, i, CHAIN_MISMATCH, l->seq - 1, l->seq - 1);
		else
			found_at(&f, i, CHAIN_GAP, b->c.l.seq + 1, l->seq - 1);
	}
	if (f.at >= 0) {
		*v = f.v;
		*first = f.first;
		*last = f.last;
	}
	free(h);
	free(q);
	free(start);
	free(one);
	return f.at;
}
