/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signed manifest of a file object, sent as its own small object (kind MANIFEST, same
 * object id) after the file's content. The receiver's deliver role verifies the signature with
 * the pinned sender key and the content hash itself before anything gets a final name.
 * Version 2 (the only one accepted) adds the file's place in its spool's chain of custody
 * (common/chain.h), under the signature:
 *
 *    0 version (u8, 2)   1 flags (u8, 0)   2 symbol size T (u16)   4 block max K (u8)
 *    5 spool length (u8)   6 path length (u16)
 *    8 session (u64)  16 object id (u64)  24 size (u64)  32 mtime, ns since 1970 (u64)
 *   40 content hash (32, common/hash.h)
 *   72 chain seq (u64): 1 for the first manifest the spool had on this sender, +1 per file
 *      object of the spool after it, never reused
 *   80 previous session (u64)  88 previous object id (u64): the manifest at chain seq - 1
 *   96 previous hash (32): SHA-256 of that manifest's complete signed bytes
 *      (chain seq 1: previous session, object id and hash all zero)
 *  128 spool name, then relative path (UTF-8, '/'-separated), then 64-byte Ed25519 signature
 *      over everything before it.
 *
 * All integers little-endian. Every copy of one object (fec.repeat) carries the same bytes.
 */
#ifndef SLUICE_MANIFEST_H
#define SLUICE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "common/pathrule.h"

/* The names' limits are those both sides apply (common/pathrule.h). */
#define MANIFEST_SPOOL_MAX PATHRULE_SPOOL_MAX
#define MANIFEST_PATH_MAX PATHRULE_PATH_MAX
#define MANIFEST_VERSION 2
#define MANIFEST_FIXED_LEN 128
#define MANIFEST_MAX_LEN (MANIFEST_FIXED_LEN + MANIFEST_SPOOL_MAX + MANIFEST_PATH_MAX + 64)

struct manifest {
	uint16_t symbol_size;
	uint8_t block_max;
	uint64_t session;
	uint64_t object_id;
	uint64_t size;
	uint64_t mtime_ns;
	uint8_t hash[HASH_LEN];
	char spool[MANIFEST_SPOOL_MAX + 1];
	char path[MANIFEST_PATH_MAX + 1];
	uint64_t chain_seq;            /* >= 1 */
	uint64_t prev_session, prev_object;
	uint8_t prev_hash[HASH_LEN];   /* chain seq 1: all three zero */
};

/* Encode and sign; returns the length written (<= MANIFEST_MAX_LEN) or -EINVAL (also for a
 * chain seq of 0, or of 1 with a previous manifest named). */
int manifest_sign(const struct manifest *m, const uint8_t sign_sk[64], uint8_t *out, size_t cap)
	__attribute__((warn_unused_result));
/* Decode exactly len bytes and verify the signature with pk. 0, or -EBADMSG (malformed),
 * -EPERM (bad signature), -EPROTONOSUPPORT (a version other than 2, such as an older sender's
 * version 1). Strings come out NUL-terminated and free of NUL bytes. */
int manifest_verify(const uint8_t *p, size_t len, const uint8_t pk[32], struct manifest *m)
	__attribute__((warn_unused_result));

/* SHA-256 of a manifest's complete signed bytes: what the next manifest of the spool names as
 * its previous hash. */
void manifest_chain_hash(const uint8_t *p, size_t len, uint8_t out[HASH_LEN]);

#endif
