/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event batches: the payload of WIRE_KIND_EVENTS objects. Events of one source that arrive
 * together travel together, optionally zstd-compressed:
 *
 *   object  = codec (u8: 0 raw, 1 zstd) | raw length (u32) | payload
 *   raw     = version (u8, 2) | flags (u8, 0) | name length (u8) | reserved (u8, 0) |
 *             count (u32) | stream (u64) | after (u64) | source name | count x event |
 *             chain record (common/evchain.h, to the end)
 *
 * `stream` names the sequence the seqs belong to: tx draws it at random when it creates the
 * source's sequence state, so a receiver can tell "seq went back because the sender's state was
 * reset" from a replay. `after` is the seq that followed the source's previous batch: when a
 * receiver has written up to it, the seqs between it and this batch's first were dropped by the
 * sender (its queue was full) and need not be waited for.
 *   event   = seq (u64) | tx time, ns since 1970 (u64) | length (u32) | bytes
 *
 * The chain record is signed with the sender's key: its content hash is the SHA-256 of the raw
 * bytes before it, and its source, stream, after, count and first and last seq must be the
 * batch's own, so the signature covers every byte of the batch. Version 1 (no record) is
 * refused.
 * Decoding is exact: the raw length must match what zstd produced and the cursor must end at
 * the end. Decompression is capped at EVBATCH_RAW_MAX: a decompression bomb is refused.
 */
#ifndef SLUICE_EVBATCH_H
#define SLUICE_EVBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/evchain.h"

#define EVBATCH_RAW_MAX (4u << 20)
#define EVBATCH_EVENT_MAX (1u << 20)
#define EVBATCH_NAME_MAX 63

enum evbatch_codec { EVBATCH_RAW = 0, EVBATCH_ZSTD = 1 };

struct evbatch_event {
	uint64_t seq;
	uint64_t tx_time_ns;
	const uint8_t *data;
	uint32_t len;
};

/* Builder: append events, then seal into an object (compressed when it pays). */
struct evbatch_builder {
	uint8_t *raw;
	size_t len, cap;
	uint32_t count;
	uint64_t stream;
	uint64_t after;
	char source[EVBATCH_NAME_MAX + 1];
	/* evbatch_chain: the batch's place in its source's chain, and the key that signs it */
	uint64_t batch;
	uint8_t flags;
	uint8_t prev[EVCHAIN_HASH_LEN];
	const uint8_t *sign_sk;
	uint8_t record_hash[EVCHAIN_HASH_LEN]; /* set by evbatch_finish: the next batch's prev */
};

/* Bytes a batch of one source adds around its events, and each event adds. */
#define EVBATCH_OVERHEAD(name_len) (5u + 24u + (name_len) + EVCHAIN_FIXED_LEN + (name_len) + EVCHAIN_SIG_LEN)
#define EVBATCH_PER_EVENT 20u

int evbatch_begin(struct evbatch_builder *b, const char *source, uint64_t stream, uint64_t after) __attribute__((warn_unused_result));
int evbatch_add(struct evbatch_builder *b, uint64_t seq, uint64_t tx_time_ns, const void *data,
		uint32_t len) __attribute__((warn_unused_result));
size_t evbatch_raw_len(const struct evbatch_builder *b);
/* The batch's chain seq (>= 1), flags (enum evchain_flags) and previous record hash, and the
 * sender's Ed25519 secret key (kept by pointer until evbatch_finish). Needed before finish. */
void evbatch_chain(struct evbatch_builder *b, uint64_t batch, uint8_t flags,
		   const uint8_t prev[EVCHAIN_HASH_LEN], const uint8_t sign_sk[64]);
/* Sign the chain record (the batch must hold at least one event) and encode the object into
 * *out (malloc'd); level <= 0: no compression. Returns length or -errno (-EINVAL without
 * evbatch_chain or events). b->record_hash is then the hash of the record. */
long evbatch_finish(struct evbatch_builder *b, int zstd_level, uint8_t **out)
	__attribute__((warn_unused_result));
void evbatch_free(struct evbatch_builder *b);

/* Decoded batch: `raw` owns the bytes the events point into. */
struct evbatch {
	uint8_t *raw;
	char source[EVBATCH_NAME_MAX + 1];
	uint64_t stream, after;
	uint32_t count;
	struct evbatch_event *ev;
	struct evchain_rec chain;  /* decoded; the signature is NOT checked by evbatch_decode */
	const uint8_t *record;     /* the signed record's bytes, inside raw (evchain_verify) */
	size_t record_len;
};

/* 0, -EBADMSG (malformed, names the problem in *why), -E2BIG (over the cap), -ENOMEM. */
int evbatch_decode(const uint8_t *obj, size_t len, struct evbatch *out, const char **why)
	__attribute__((warn_unused_result));
void evbatch_release(struct evbatch *b);

#endif
