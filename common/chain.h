/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chains of custody. Each signed record of a stream (a manifest of a spool, common/manifest.h)
 * names its place: a chain seq (1, 2, 3, ... per stream, never reused) and the previous record's
 * (session, object) and SHA-256 of its complete signed bytes. A stream is one (sender key,
 * name). Two ways to follow a chain:
 *
 *  - online (chain_stream_add), as records arrive, possibly out of order: the head is the
 *    highest seq seen; a seq beyond head + 1 leaves a gap, remembered so that a record arriving
 *    late to fill it is told apart from a replay; recent records are remembered by seq
 *    (CHAIN_RING) so that a repeat of the same bytes is told apart from a fork. A gap is a
 *    break only once it has stayed open for a while (chain_stream_due): records that merely
 *    arrive out of order fill it first.
 *  - offline (chain_check), over every record of a log at once: the chain is a set of
 *    positions, so arrival order does not matter: each record above 1 (and above where the
 *    caller says the log may begin the stream) needs a record at seq - 1 whose hash is its
 *    previous hash; one seq held by two different records is a fork, a second chain from
 *    seq 1 a reset.
 */
#ifndef SLUICE_CHAIN_H
#define SLUICE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

#define CHAIN_RING 128      /* recent records remembered per stream, by seq */
#define CHAIN_GAPS 32       /* open gaps remembered per stream; beyond, the oldest is forgotten */
#define CHAIN_NAME_MAX 63

/* One record's place, as its signed bytes state it. */
struct chain_link {
	uint64_t seq;                  /* >= 1 */
	uint64_t session, object;      /* this record's */
	uint8_t hash[HASH_LEN];        /* SHA-256 of this record's signed bytes */
	uint64_t prev_session, prev_object;
	uint8_t prev_hash[HASH_LEN];   /* seq 1: zeros */
};

enum chain_verdict {
	CHAIN_INVALID = 0,
	CHAIN_FIRST,    /* the first record seen of the stream: it starts there */
	CHAIN_NEXT,     /* head + 1, naming the head: in order */
	CHAIN_REPEAT,   /* the same bytes as a record already seen (fec.repeat) */
	CHAIN_LATE,     /* fills a gap left earlier (arrived out of order, or late) */
	CHAIN_GAP,      /* beyond head + 1: seqs *first..*last are missing (break "missing") */
	CHAIN_MISMATCH, /* its previous hash is not the hash of the record held at seq - 1 (break) */
	CHAIN_FORK,     /* a seq already seen, with other bytes (break) */
	CHAIN_REPLAYED, /* at or below the head, neither seen nor missing (break) */
	CHAIN_RESET,    /* seq 1 again, other bytes: the sender began the chain anew (break) */
};

/* "first", "next", "repeat", "late", "missing", "mismatch", "fork", "replayed", "reset". */
const char *chain_verdict_name(enum chain_verdict v);
static inline bool chain_verdict_is_break(enum chain_verdict v) { return v >= CHAIN_GAP; }

struct chain_stream {
	uint8_t key[32];
	char name[CHAIN_NAME_MAX + 1];
	bool started;
	struct chain_link head;        /* the highest seq seen */
	/* The lowest seq of the chain as begun here (CHAIN_FIRST, CHAIN_RESET) and the hash it names
	 * as its predecessor: that record, arriving afterwards (its file completed later), is late,
	 * not a reset or a replay. 0: not known (heads loaded from a saved state). */
	uint64_t start_seq;
	uint8_t start_prev[HASH_LEN];
	struct {
		uint64_t seq;          /* 0: empty */
		uint8_t hash[HASH_LEN];
	} ring[CHAIN_RING];
	struct chain_gap {
		uint64_t first, last;
		uint64_t last_session, last_object; /* the record at `last`, as its successor names it */
		uint64_t since;                     /* when it opened (the caller's clock) */
		bool reported;                      /* chain_stream_due gave it */
	} gaps[CHAIN_GAPS];
	unsigned ngaps;
	struct chain_gap overflow;  /* pushed out of a full table before it was given: given next */
	bool has_overflow;
};

/* Judges l against the stream and moves the stream on; now is the caller's clock, for the
 * gap l may open. For CHAIN_GAP, *first..*last are the seqs missing so far (a break only if
 * chain_stream_due later says so); for the other breaks both are l->seq (CHAIN_MISMATCH:
 * l->seq - 1, the record that does not match). */
enum chain_verdict chain_stream_add(struct chain_stream *st, const struct chain_link *l,
				    uint64_t now, uint64_t *first, uint64_t *last);
/* A gap open since `before` or earlier (all gaps: UINT64_MAX) that no record filled and that
 * was not given yet: *g is a copy, and the gap counts as given. false when there is none. */
bool chain_stream_due(struct chain_stream *st, uint64_t before, struct chain_gap *g);
/* The earliest `since` of a gap not given yet, or UINT64_MAX. */
uint64_t chain_stream_next_due(const struct chain_stream *st);

/* The streams of a receiver, found by (key, name). */
struct chain_set {
	struct chain_stream **v;
	size_t n, cap;
};
/* The stream, created (not started) if new; NULL: out of memory, or a name that is empty,
 * too long, or not [a-z0-9._-]. */
struct chain_stream *chain_set_get(struct chain_set *s, const uint8_t key[32], const char *name);
/*
 * A started stream's head and open gaps as one line:
 *   "chain <key, 64 hex> <name> <seq> <session, 16 hex> <object> <hash, 64 hex>"
 *   then per open gap " gap <first> <last> <last's session, 16 hex> <last's object> <0|1>"
 *   (1: given by chain_stream_due already), and "\n".
 * The ring is not kept: after a restart a repeat of a record below the head shows as replayed
 * (the link role drops packets of objects already decided, so few reach here). A gap pushed
 * out of a full table and not given yet is not kept either. Returns the length, or -ENOSPC.
 */
#define CHAIN_LINE_MAX (320 + CHAIN_GAPS * 80)
int chain_stream_format(const struct chain_stream *st, char *buf, size_t cap);
/* Every started stream's line. *text is malloc'ed. 0 or -ENOMEM. */
int chain_set_save(const struct chain_set *s, char **text, size_t *len);
/* Loads lines written by chain_stream_format (the last line of a stream replacing what it
 * held), gaps open since `now` (the caller's clock): one still open a hold after the load is
 * given as a break. 0, or -EBADMSG naming nothing (the caller says which file) for a line that
 * is not one or a NUL byte anywhere; -ENOMEM. */
int chain_set_load(struct chain_set *s, const char *text, size_t len, uint64_t now);
void chain_set_free(struct chain_set *s);

/* Offline: every record of a log, in log order, each with its stream's number. */
struct chain_entry {
	uint32_t stream;
	uint64_t line;
	struct chain_link l;
	bool may_begin; /* the caller's word that the stream's record may be the first of the log
			   (the log given does not begin at its first line, or rx said "first") */
};
/* Sorts nothing in e (works on copies). Finds the first entry, in log order, that breaks its
 * stream's chain: returns its index and sets *v, or returns -1 when every chain is whole;
 * -ENOMEM. The breaks: CHAIN_GAP (seqs *first..*last are missing below it, *last being the one
 * it names; *first is 1 when nothing lies below), CHAIN_MISMATCH (a record at seq - 1 is there,
 * but not the one it names), CHAIN_FORK (other bytes at a seq already held, named at the later
 * one), CHAIN_RESET (seq 1 with other bytes than the seq 1 held, or after higher seqs that do
 * not lead down to it: the sender began anew). Only seq 1, and a stream's lowest seq before its
 * first seq 1 when that entry has may_begin, need no predecessor. */
long chain_check(const struct chain_entry *e, size_t n, enum chain_verdict *v, uint64_t *first,
		 uint64_t *last);

#endif
