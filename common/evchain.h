/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chain of custody of an event source: every event batch (common/evbatch.h) ends in a
 * record signed with the sender's Ed25519 key, which names the batch's place in its source's
 * chain and the hash of the record before it:
 *
 *    0 version (u8, 1)   1 flags (u8)   2 name length (u8)   3 reserved (u8, 0)   4 count (u32)
 *    8 stream (u64)     16 batch seq (u64, from 1, +1 per batch of the source)
 *   24 first event seq (u64)   32 last event seq (u64)   40 after (u64)
 *   48 content hash (32): SHA-256 of the batch's raw bytes before this record
 *   80 prev hash (32): SHA-256 of the source's previous record, signature included; zeros for
 *      batch 1 of a stream and after EVCHAIN_RESET
 *  112 source name (1..63 bytes), then the 64-byte Ed25519 signature over everything before it
 *
 * flags: EVCHAIN_RESTART marks the first batch of a sender run that continues the chain from
 * the state of a clean stop (a restart, recorded but no break); EVCHAIN_RESET the first batch
 * after a stop that did not save the chain: prev is zeros and the batches just before it cannot
 * be accounted for (a break). Other bits are refused.
 *
 * The tracker follows one chain per source as batches arrive, in any order within
 * EVCHAIN_WINDOW batches: each link (a batch's prev against its predecessor's record hash) is
 * checked as soon as both ends are known, and a missing batch is given up (a break) when the
 * caller says its time is up (evchain_expire) or the window overflows.
 */
#ifndef SLUICE_EVCHAIN_H
#define SLUICE_EVCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVCHAIN_HASH_LEN 32
#define EVCHAIN_FIXED_LEN 112
#define EVCHAIN_SIG_LEN 64
#define EVCHAIN_NAME_MAX 63
#define EVCHAIN_MAX_LEN (EVCHAIN_FIXED_LEN + EVCHAIN_NAME_MAX + EVCHAIN_SIG_LEN)
#define EVCHAIN_WINDOW 256 /* batches held ahead of a missing one */

enum evchain_flags { EVCHAIN_RESTART = 1, EVCHAIN_RESET = 2 };

struct evchain_rec {
	uint8_t flags;
	uint32_t count;
	uint64_t stream, batch, first, last, after;
	uint8_t content[EVCHAIN_HASH_LEN];
	uint8_t prev[EVCHAIN_HASH_LEN];
	char source[EVCHAIN_NAME_MAX + 1];
};

/* Encode and sign r into out (cap >= EVCHAIN_MAX_LEN); the record's length, or -EINVAL (bad
 * name, batch 0, unknown flags). */
int evchain_sign(const struct evchain_rec *r, const uint8_t sign_sk[64], uint8_t *out, size_t cap)
	__attribute__((warn_unused_result));
/* Decode exactly len bytes, without checking the signature. 0 or -EBADMSG (*why says what). */
int evchain_decode(const uint8_t *p, size_t len, struct evchain_rec *r, const char **why)
	__attribute__((warn_unused_result));
/* The signature of a record of len bytes with pk: 0 or -EPERM (also for a length too short). */
int evchain_verify(const uint8_t *p, size_t len, const uint8_t pk[32])
	__attribute__((warn_unused_result));
/* SHA-256 of a record's bytes: the next record's prev. */
void evchain_hash(const uint8_t *p, size_t len, uint8_t out[EVCHAIN_HASH_LEN]);

/* ---- tracker ---- */

enum evchain_kind {
	EVCHAIN_MISSING = 1, /* batches batch..batch_last never arrived */
	EVCHAIN_MISMATCH,    /* batch's prev is not the hash of batch - 1: injected or reordered */
	EVCHAIN_FORK,        /* batch arrived twice with different records */
	EVCHAIN_REBASE,      /* a new stream or sender, or EVCHAIN_RESET: the chain starts again
				at batch; the batches after batch_prev (when have_prev) are unaccounted */
};

struct evchain_break {
	enum evchain_kind kind;
	uint64_t batch, batch_last;
	bool have_events;            /* the event seqs the missing batches covered */
	uint64_t event_first, event_last;
	bool have_prev;              /* REBASE: the last batch of the old chain */
	uint64_t batch_prev;
	uint64_t tag;                /* of the record that showed the break */
};

struct evchain_slot {
	uint64_t batch, first, last, after, since, tag;
	uint8_t hash[EVCHAIN_HASH_LEN], prev[EVCHAIN_HASH_LEN];
};

struct evchain {
	bool have;                   /* a chain is being followed */
	uint64_t stream;
	char sender[17];             /* key fingerprint */
	uint64_t next;               /* every batch below it arrived or was given up */
	bool last_known;             /* batch next - 1 arrived: its hash and last event seq */
	uint8_t last[EVCHAIN_HASH_LEN];
	uint64_t last_event;
	struct evchain_slot ahead[EVCHAIN_WINDOW]; /* arrived, above next, sorted by batch */
	size_t nahead;
};

enum evchain_verdict { EVCHAIN_NEW = 1, EVCHAIN_DUP = 2 };
typedef void (*evchain_break_cb)(void *ctx, const struct evchain_break *b);

/* One verified record (its hash h) of sender `sender`, arrived at `now` (any clock the caller
 * also gives evchain_expire), tag kept for breaks it reveals. Breaks go to cb before this
 * returns. EVCHAIN_NEW: a batch the chain had not seen; EVCHAIN_DUP: seen before (a FORK
 * break when its record differs). */
enum evchain_verdict evchain_track(struct evchain *c, const struct evchain_rec *r,
				   const uint8_t h[EVCHAIN_HASH_LEN], const char *sender,
				   uint64_t now, uint64_t tag, evchain_break_cb cb, void *ctx);
/* Give up each missing batch first missed before now - timeout (UINT64_MAX: all). */
void evchain_expire(struct evchain *c, uint64_t now, uint64_t timeout, evchain_break_cb cb,
		    void *ctx);
/* When evchain_expire next has work: UINT64_MAX for none. */
uint64_t evchain_due(const struct evchain *c, uint64_t timeout);

/* The tracker's resumable state as one line (a clean stop gives up what is missing first):
 *   sluice-evchain 1 sender=<16 hex> stream=<16 hex> next=<u64> event=<u64> last=<64 hex>|-
 * evchain_save returns its length (< cap) or -ENOSPC; evchain_load 0 or -EBADMSG. */
int evchain_save(const struct evchain *c, char *buf, size_t cap);
int evchain_load(struct evchain *c, const char *buf, size_t len);

#endif
