/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/verify_events.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/evchain.h"

#define TAG(file, line) (((uint64_t)(file) << 40) | (line))

struct chain_entry {
	char source[EVCHAIN_NAME_MAX + 1];
	struct evchain c;
};

struct evverify {
	const char *const *files;
	const uint8_t (*pks)[32];
	const char (*fps)[17];
	size_t nkeys;
	struct chain_entry **chains;
	size_t nchains;
	uint64_t batches;
	bool broke; /* a break was named: report no more */
	bool whole; /* the log begins at audit seq 1: each source's first batch is seen */
	const char *source; /* of the break being reported */
};

struct evverify *evverify_new(const char *const *files, const uint8_t (*pks)[32],
			      const char (*fps)[17], size_t nkeys)
{
	struct evverify *v = calloc(1, sizeof(*v));
	if (v) {
		v->files = files;
		v->pks = pks;
		v->fps = fps;
		v->nkeys = nkeys;
	}
	return v;
}

static void loc(const struct evverify *v, uint64_t tag, char *out, size_t n)
{
	snprintf(out, n, "%s:%" PRIu64, v->files[tag >> 40], tag & ((UINT64_C(1) << 40) - 1));
}

static int say(const struct evverify *v, uint64_t tag, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int say(const struct evverify *v, uint64_t tag, const char *source, const char *fmt, ...)
{
	char where[4096];
	loc(v, tag, where, sizeof(where));
	fprintf(stderr, "%s: source %s: ", where, ESCAPED(source));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void missing(const struct evverify *v, const struct evchain_break *b, const char *source)
{
	char ev[64] = "";
	if (b->have_events)
		snprintf(ev, sizeof(ev), " (events %" PRIu64 "..%" PRIu64 ")", b->event_first,
			 b->event_last);
	if (b->batch_last > b->batch)
		say(v, b->tag, source, "chain break: batches %" PRIu64 "..%" PRIu64 " missing%s",
		    b->batch, b->batch_last, ev);
	else
		say(v, b->tag, source, "chain break: batch %" PRIu64 " missing%s", b->batch, ev);
}

static void on_break(void *arg, const struct evchain_break *b)
{
	struct evverify *v = arg;
	if (v->broke)
		return;
	v->broke = true;
	switch (b->kind) {
	case EVCHAIN_MISSING: missing(v, b, v->source); break;
	case EVCHAIN_MISMATCH:
		say(v, b->tag, v->source, "chain break: batch %" PRIu64 " does not follow the record "
		    "of batch %" PRIu64 " (its prev hash differs)", b->batch, b->batch - 1);
		break;
	case EVCHAIN_FORK:
		say(v, b->tag, v->source, "chain break: batch %" PRIu64 " recorded twice with "
		    "different signed records", b->batch);
		break;
	case EVCHAIN_REBASE:
		say(v, b->tag, v->source, "chain break: the chain begins again at batch %" PRIu64
		    " (new stream, another sender, or the sender lost its chain state)", b->batch);
		break;
	}
}

static struct evchain *chain_of(struct evverify *v, const char *source)
{
	for (size_t i = 0; i < v->nchains; i++)
		if (strcmp(v->chains[i]->source, source) == 0)
			return &v->chains[i]->c;
	struct chain_entry **n = realloc(v->chains, (v->nchains + 1) * sizeof(*n));
	if (!n)
		return NULL;
	v->chains = n;
	struct chain_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->source, sizeof(e->source), "%s", source);
	v->chains[v->nchains++] = e;
	return &e->c;
}

static bool get_u64(json_t *o, const char *k, uint64_t *out)
{
	json_t *j = json_object_get(o, k);
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return false;
	*out = (uint64_t)json_integer_value(j);
	return true;
}

/* A chain_break line the receiver wrote. */
static int recorded_break(struct evverify *v, uint64_t tag, json_t *o, const char *source)
{
	uint64_t batch = 0, last = 0, ef = 0, el = 0;
	const char *reason = json_string_value(json_object_get(o, "reason"));
	get_u64(o, "batch", &batch);
	if (!get_u64(o, "batch_last", &last))
		last = batch;
	if (reason && strncmp(reason, "lost:", 5) == 0 && batch) {
		struct evchain_break b = {.kind = EVCHAIN_MISSING, .batch = batch, .batch_last = last,
					  .tag = tag};
		b.have_events = get_u64(o, "event_first", &ef) && get_u64(o, "event_last", &el);
		b.event_first = ef;
		b.event_last = el;
		missing(v, &b, source);
		return 1;
	}
	return say(v, tag, source, "chain break: %s", reason ? ESCAPED(reason) : "(no reason)");
}

int evverify_line(struct evverify *v, size_t file, uint64_t line, json_t *o)
{
	const char *outcome = json_string_value(json_object_get(o, "outcome"));
	const char *source = json_string_value(json_object_get(o, "source"));
	uint64_t tag = TAG(file, line);
	if (!outcome || !source)
		return 0;
	if (strcmp(outcome, "chain_break") == 0)
		return recorded_break(v, tag, o, source);
	if (strcmp(outcome, "events") != 0)
		return 0;
	const char *b64 = json_string_value(json_object_get(o, "record"));
	uint8_t raw[EVCHAIN_MAX_LEN];
	size_t len = 0;
	struct evchain_rec r;
	const char *why = NULL;
	if (!b64)
		return say(v, tag, source, "no signed batch record in the line: its signature cannot "
			   "be checked");
	if (sodium_base642bin(raw, sizeof(raw), b64, strlen(b64), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    evchain_decode(raw, len, &r, &why) != 0)
		return say(v, tag, source, "the batch record is not base64 of a chain record (%s)",
			   why ? why : "not base64");
	const char *sender = json_string_value(json_object_get(o, "sender"));
	size_t k = 0;
	if (v->nkeys) {
		while (k < v->nkeys && evchain_verify(raw, len, v->pks[k]) != 0)
			k++;
		if (k == v->nkeys)
			return say(v, tag, source, "the batch record's signature does not verify with "
				   "any key given with --sender");
		if (!sender || strcmp(sender, v->fps[k]) != 0)
			return say(v, tag, source, "the batch record is signed by %s, the line names "
				   "sender %s", v->fps[k], sender ? ESCAPED(sender) : "none");
	}
	uint64_t batch, ef, el;
	const char *name = NULL;
	if (strcmp(r.source, source) != 0)
		name = "source";
	else if (!get_u64(o, "batch", &batch) || batch != r.batch)
		name = "batch";
	else if (!get_u64(o, "event_first", &ef) || ef != r.first)
		name = "event_first";
	else if (!get_u64(o, "event_last", &el) || el != r.last)
		name = "event_last";
	if (name)
		return say(v, tag, source, "\"%s\" is not what the signed batch record says", name);
	struct evchain *c = chain_of(v, source);
	if (!c)
		return say(v, tag, source, "out of memory");
	/* rx notes where it began following a source ("chain followed from here"), or, when that
	 * batch is a sender restart's, says that instead: only there may a whole log's source
	 * begin above batch 1. */
	const char *reason = json_string_value(json_object_get(o, "reason"));
	if (v->whole && !c->have && r.batch > 1 && !(r.flags & EVCHAIN_RESTART) &&
	    !(reason && strcmp(reason, "chain followed from here") == 0)) {
		if (r.batch > 2)
			return say(v, tag, source, "chain break: batches 1..%" PRIu64 " missing before "
				   "batch %" PRIu64 ", the first of the source in a log that begins "
				   "at seq 1", r.batch - 1, r.batch);
		return say(v, tag, source, "chain break: batch 1 missing before batch 2, the first "
			   "of the source in a log that begins at seq 1");
	}
	uint8_t h[EVCHAIN_HASH_LEN];
	evchain_hash(raw, len, h);
	v->source = source;
	enum evchain_verdict verdict = evchain_track(c, &r, h, sender ? sender : "-", 0, tag,
						     on_break, v);
	if (v->broke)
		return 1;
	if (verdict == EVCHAIN_DUP)
		return say(v, tag, source, "batch %" PRIu64 " recorded twice", r.batch);
	v->batches++;
	return 0;
}

int evverify_finish(struct evverify *v)
{
	/* The first of the holes by line: each chain's lowest hole, then the lowest tag. */
	struct evchain_break first = {0};
	const char *src = NULL;
	for (size_t i = 0; i < v->nchains; i++) {
		struct evchain *c = &v->chains[i]->c;
		if (!c->nahead)
			continue;
		struct evchain_break b = {.kind = EVCHAIN_MISSING, .batch = c->next,
					  .batch_last = c->ahead[0].batch - 1, .tag = c->ahead[0].tag};
		if (c->last_known && c->ahead[0].after > c->last_event + 1) {
			b.have_events = true;
			b.event_first = c->last_event + 1;
			b.event_last = c->ahead[0].after - 1;
		}
		if (!src || b.tag < first.tag) {
			first = b;
			src = v->chains[i]->source;
		}
	}
	if (!src)
		return 0;
	missing(v, &first, src);
	return 1;
}

void evverify_whole(struct evverify *v, bool whole) { v->whole = whole; }

uint64_t evverify_batches(const struct evverify *v) { return v->batches; }

void evverify_free(struct evverify *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nchains; i++)
		free(v->chains[i]);
	free(v->chains);
	free(v);
}
