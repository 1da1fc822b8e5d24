/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* `sluice-rx verify-audit --sender`: each verified manifest's place in its spool's chain, the
 * check that every chain is whole after the last line, and the summary per spool. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/chain.h"
#include "common/escape.h"
#include "common/hash.h"
#include "common/manifest.h"
#include "rx/verify_audit_internal.h"

static const char *const place_name[] = {
	[PLACE_DELIVERED] = "delivered", [PLACE_DUPLICATE] = "duplicate",
	[PLACE_LOST] = "lost", [PLACE_REJECTED] = "rejected",
};

#define LINE_FILE_SHIFT 44 /* chain_entry.line: file number above, line number below */

static int stream_of(struct walk *w, size_t key, const char *spool)
{
	for (size_t i = 0; i < w->nstreams; i++)
		if (w->streams[i].key == key && strcmp(w->streams[i].spool, spool) == 0)
			return (int)i;
	if (w->nstreams == w->streams_cap) {
		size_t cap = w->streams_cap ? 2 * w->streams_cap : 16;
		struct vstream *v = realloc(w->streams, cap * sizeof(*v));
		if (!v)
			return -1;
		w->streams = v;
		w->streams_cap = cap;
	}
	w->streams[w->nstreams].key = key;
	snprintf(w->streams[w->nstreams].spool, sizeof(w->streams[0].spool), "%s", spool);
	return (int)w->nstreams++;
}

/* A verified manifest's place in its chain, for chain_check at the end: its state, and
 * whether the log may begin its spool there (the files given begin after the log's first
 * line, or rx said it was the first of the spool it saw). 0 or -ENOMEM. */
int verify_chain_record(struct walk *w, uint64_t lineno, size_t key, const struct manifest *m,
			const uint8_t *raw, size_t len, enum place_state state, bool may_begin)
{
	int st = stream_of(w, key, m->spool);
	if (st < 0)
		return -ENOMEM;
	if (w->nchain == w->chain_cap) {
		size_t cap = w->chain_cap ? 2 * w->chain_cap : 1024;
		struct chain_entry *v = realloc(w->chain, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->chain = v;
		struct vplace *pl = realloc(w->places, cap * sizeof(*pl));
		if (!pl)
			return -ENOMEM;
		w->places = pl;
		w->chain_cap = cap;
	}
	char *path = NULL;
	if (state >= PLACE_LOST && !(path = strdup(m->path)))
		return -ENOMEM;
	w->places[w->nchain] = (struct vplace){.state = (uint8_t)state, .path = path};
	struct chain_entry *e = &w->chain[w->nchain++];
	*e = (struct chain_entry){.stream = (uint32_t)st,
				  .line = ((uint64_t)w->file_no << LINE_FILE_SHIFT) | lineno,
				  .l = {.seq = m->chain_seq, .session = m->session, .object = m->object_id,
					.prev_session = m->prev_session, .prev_object = m->prev_object},
				  .may_begin = may_begin};
	memcpy(e->l.prev_hash, m->prev_hash, HASH_LEN);
	manifest_chain_hash(raw, len, e->l.hash);
	return 0;
}

static int by_place(const void *a, const void *b, void *arg)
{
	const struct chain_entry *c = arg;
	const struct chain_entry *x = &c[*(const size_t *)a], *y = &c[*(const size_t *)b];
	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	if (x->l.seq != y->l.seq)
		return x->l.seq < y->l.seq ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void where(const struct walk *w, const struct chain_entry *e, const char **file,
		  uint64_t *line)
{
	*file = w->files[e->line >> LINE_FILE_SHIFT];
	*line = e->line & ((1ull << LINE_FILE_SHIFT) - 1);
}

/* Once every chain is whole: per spool, its seqs and the state of each place (the best of the
 * lines of its manifest); each lost or rejected place is named. 0 or -ENOMEM. */
static int summarize(const struct walk *w)
{
	size_t *ix = malloc((w->nchain ? w->nchain : 1) * sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < w->nchain; i++)
		ix[i] = i;
	qsort_r(ix, w->nchain, sizeof(*ix), by_place, w->chain);
	for (size_t a = 0, b; a < w->nchain; a = b) {
		const struct chain_entry *e0 = &w->chain[ix[a]];
		uint64_t count[PLACE_REJECTED + 1] = {0}, low = e0->l.seq, high = low;
		for (b = a; b < w->nchain && w->chain[ix[b]].stream == e0->stream;) {
			size_t g = b;
			uint8_t best = w->places[ix[b]].state;
			for (; b < w->nchain && w->chain[ix[b]].stream == e0->stream &&
			       w->chain[ix[b]].l.seq == w->chain[ix[g]].l.seq; b++)
				if (w->places[ix[b]].state < best)
					best = w->places[ix[b]].state;
			count[best]++;
			high = w->chain[ix[g]].l.seq;
		}
		const struct vstream *st = &w->streams[e0->stream];
		char note[128] = "";
		if (low > 1 && w->partial)
			snprintf(note, sizeof(note), " (the log given begins after its first line: seqs "
						     "below are not seen)");
		else if (low > 1)
			snprintf(note, sizeof(note), " (rx saw seq %" PRIu64 " first: the audit log "
						     "says nothing of those below)", low);
		printf("spool %s (sender %s): seqs %" PRIu64 "..%" PRIu64 " all accounted for%s: %"
		       PRIu64 " delivered%s, %" PRIu64 " duplicate of a delivered file, %" PRIu64
		       " lost, %" PRIu64 " rejected\n", st->spool, w->fps[st->key], low, high, note,
		       count[PLACE_DELIVERED], w->files_dir ? " (file re-hashed)" : "",
		       count[PLACE_DUPLICATE], count[PLACE_LOST], count[PLACE_REJECTED]);
		for (size_t j = a; j < b; j++) {
			const struct chain_entry *e = &w->chain[ix[j]];
			if (j > a && w->chain[ix[j - 1]].l.seq == e->l.seq)
				continue;
			uint8_t best = w->places[ix[j]].state;
			size_t pick = ix[j];
			for (size_t k = j + 1; k < b && w->chain[ix[k]].l.seq == e->l.seq; k++)
				if (w->places[ix[k]].state < best)
					best = w->places[pick = ix[k]].state;
			if (best < PLACE_LOST)
				continue;
			const char *file;
			uint64_t line;
			where(w, &w->chain[pick], &file, &line);
			printf("  seq %" PRIu64 " %s: %s/%s (%s:%" PRIu64 ")\n", e->l.seq, place_name[best],
			       st->spool, ESCAPED(w->places[pick].path), file, line);
		}
	}
	free(ix);
	return 0;
}

/* After every line: the first manifest, in log order, that breaks its spool's chain is named.
 * 0 or 1. */
int verify_check_chains(struct walk *w)
{
	enum chain_verdict v = CHAIN_INVALID;
	uint64_t first = 0, last = 0;
	long bad = chain_check(w->chain, w->nchain, &v, &first, &last);
	if (bad == -1) {
		printf("chains: %zu spool chain(s) of %zu manifest(s), no seq missing, every "
		       "manifest naming the one before it\n", w->nstreams, w->nchain);
		if (summarize(w) == 0)
			return 0;
	}
	if (bad < 0) {
		fprintf(stderr, "sluice-rx verify-audit: out of memory\n");
		return 1;
	}
	const struct chain_entry *e = &w->chain[bad];
	const char *file;
	uint64_t line;
	where(w, e, &file, &line);
	const char *spool = w->streams[e->stream].spool;
	if (v == CHAIN_GAP) {
		char range[48];
		if (first == last)
			snprintf(range, sizeof(range), "seq %" PRIu64 " is", first);
		else
			snprintf(range, sizeof(range), "seqs %" PRIu64 "..%" PRIu64 " are", first, last);
		fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: %s missing (seq %" PRIu64
				" was object %016" PRIx64 "/%" PRIu64 ", as seq %" PRIu64 ", object %016"
				PRIx64 "/%" PRIu64 ", names it): lost, or its line removed\n",
			file, line, spool, range, last, e->l.prev_session, e->l.prev_object, e->l.seq,
			e->l.session, e->l.object);
	} else if (v == CHAIN_FORK || v == CHAIN_RESET) {
		/* the other manifest at this seq, or the highest seq of the spool before it */
		const struct chain_entry *o = NULL;
		uint64_t top = 0;
		for (long i = 0; i < bad; i++) {
			const struct chain_entry *x = &w->chain[i];
			if (x->stream != e->stream)
				continue;
			if (x->l.seq > top)
				top = x->l.seq;
			if (!o && x->l.seq == e->l.seq &&
			    memcmp(x->l.hash, e->l.hash, HASH_LEN) != 0)
				o = x;
		}
		if (v == CHAIN_RESET)
			fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: seq 1 again (object %016"
					PRIx64 "/%" PRIu64 ") after seq %" PRIu64 ": the sender began its "
					"chain anew (its STATE/chain lost, or a one-shot send): a reset, "
					"a break online too\n",
				file, line, spool, e->l.session, e->l.object, top);
		else
			fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: seq %" PRIu64 " held by "
					"two manifests (object %016" PRIx64 "/%" PRIu64 ", and here object "
					"%016" PRIx64 "/%" PRIu64 "): a fork, the sender's STATE/chain "
					"restored or cut short\n",
				file, line, spool, e->l.seq, o ? o->l.session : 0, o ? o->l.object : 0,
				e->l.session, e->l.object);
	} else {
		fprintf(stderr, "%s:%" PRIu64 ": spool %s: chain break: seq %" PRIu64 " (object %016"
				PRIx64 "/%" PRIu64 ") names as seq %" PRIu64 " object %016" PRIx64
				"/%" PRIu64 ", whose hash is not that of the seq %" PRIu64 " in the log: "
				"injected, forked or reordered by the sender\n",
			file, line, spool, e->l.seq, e->l.session, e->l.object, first, e->l.prev_session,
			e->l.prev_object, first);
	}
	return 1;
}
