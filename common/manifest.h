/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signed manifest of a file object, sent as its own small object (kind MANIFEST, same
 * object id) after the file's content. The receiver's deliver role verifies the signature with
 * the pinned sender key and the content hash itself before anything gets a final name.
 *
 *   0 version (u8, 1)   1 flags (u8, 0)   2 symbol size T (u16)   4 block max K (u8)
 *   5 spool length (u8)   6 path length (u16)
 *   8 session (u64)  16 object id (u64)  24 size (u64)  32 mtime, ns since 1970 (u64)
 *  40 content hash (32, common/hash.h)
 *  72 spool name, then relative path (UTF-8, '/'-separated), then 64-byte Ed25519 signature
 *     over everything before it.
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
#define MANIFEST_FIXED_LEN 72
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
};

/* Encode and sign; returns the length written (<= MANIFEST_MAX_LEN) or -EINVAL. */
int manifest_sign(const struct manifest *m, const uint8_t sign_sk[64], uint8_t *out, size_t cap)
	__attribute__((warn_unused_result));
/* Decode exactly len bytes and verify the signature with pk. 0, or -EBADMSG (malformed),
 * -EPERM (bad signature). Strings come out NUL-terminated and free of NUL bytes. */
int manifest_verify(const uint8_t *p, size_t len, const uint8_t pk[32], struct manifest *m)
	__attribute__((warn_unused_result));

#endif
