/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A file object kept across a clean stop of the receiver: its temp file FILES/.sluice-tmp/NAME
 * stays, and NAME.keep beside it says what the temp file holds, so that after a restart the
 * same sender session's next copy of the object (fec.repeat) only has to bring the blocks that
 * are missing. The record (all integers little-endian):
 *
 *   "SLKEEP1\0" | session u64 | object u64 | length u64 | nblocks u32 | manifest length u32 |
 *   nblocks x (block u32 | offset u64 | length u32 | leaf hash 32) | manifest bytes |
 *   BLAKE2b-128 of everything before it
 *
 * The receiver wrote it, but it is read as if anyone could have: every field is checked and a
 * record that does not decode exactly is refused, its temp file removed.
 */
#ifndef SLUICE_RX_KEPT_H
#define SLUICE_RX_KEPT_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "common/manifest.h"

#define KEPT_SUFFIX ".keep"
#define KEPT_BLOCKS_MAX (1u << 24)
/* The longest signed manifest there is: a file with the longest spool name and path keeps too. */
#define KEPT_MANIFEST_MAX MANIFEST_MAX_LEN

struct kept_block {
	uint32_t block;
	uint64_t off;
	uint32_t len;
	uint8_t leaf[HASH_LEN];
};

struct kept {
	uint64_t session, object;
	uint64_t length;           /* the object's length, from its data packets */
	uint32_t nblocks;          /* entries in blk, ascending block numbers */
	struct kept_block *blk;
	uint8_t *manifest;         /* raw, NULL when none had arrived */
	uint32_t manifest_len;
};

/* The record of k in a buffer of its own (free it): 0 with *out and *len, or -EINVAL (too many
 * blocks, too long a manifest) / -ENOMEM. */
int kept_encode(const struct kept *k, uint8_t **out, size_t *len) __attribute__((warn_unused_result));
/* Writes dirfd/NAME.keep with smallfile_writeat (mode 0600). 0 or -errno. */
int kept_save(int dirfd, const char *name, const struct kept *k) __attribute__((warn_unused_result));
/* Decodes a record of len bytes; k's arrays are allocated (kept_free). 0 or -EBADMSG/-ENOMEM. */
int kept_decode(const uint8_t *p, size_t len, struct kept *k) __attribute__((warn_unused_result));
/* Reads and decodes dirfd/FILE. 0 or -errno / -EBADMSG. */
int kept_load(int dirfd, const char *file, struct kept *k) __attribute__((warn_unused_result));
void kept_free(struct kept *k);

#endif
