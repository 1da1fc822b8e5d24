/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the deliver role has stored under each output name: "leaf", "leaf.1.ext", ...
 * "leaf.<DELIVER_RENAME_MAX>.ext" in one folder. A new object's content is compared with the
 * stored versions by its size and tree hash (common/hash.h, over the manifest's FEC partition),
 * kept in memory, so placing a new version reads back no stored file: a name rewritten N times
 * costs what N names cost, not N^2/2 file reads.
 *
 * A name is learned by one pass of fstatat over leaf, leaf.1.ext, ... up to the first free
 * one (after a receiver restart, or once the name was forgotten); a stored version is read and
 * hashed at most once, and only when a new object of its size arrives. A stored file the index
 * says is identical is read again before the object is called a duplicate (it may have been
 * removed or changed since), so "identical content is not written twice" never loses content.
 * A version removed behind the index's back leaves its number taken until the numbers run out;
 * then every remembered version is looked at again and the free numbers are reused.
 *
 * Bounded: VERSIONS_NAMES_MAX names and VERSIONS_TOTAL_MAX versions in all; the name used
 * least recently is forgotten first.
 *
 * Not thread-safe: the deliver role's one thread runs it.
 */
#ifndef SLUICE_VERSIONS_H
#define SLUICE_VERSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "fec/fec.h"

#define VERSIONS_NAMES_MAX 1024
#define VERSIONS_TOTAL_MAX 65536 /* about 64 bytes each */

struct versions;

enum versions_placed {
	VERSIONS_PLACED = 1,  /* under leaf itself */
	VERSIONS_RENAMED,     /* beside different content, as leaf.N.ext */
	VERSIONS_DUPLICATE,   /* identical content already stored: nothing written */
};

/* 0 or -ENOMEM. */
int versions_new(struct versions **out) __attribute__((warn_unused_result));

/* NULL is fine. */
void versions_free(struct versions *v);

/*
 * Gives the finished temp file tmpdirfd/tmpname its name in dirfd: leaf if
 * free, else the lowest free "leaf.N.ext" (N <= max_n), unless a stored version has the same
 * content (size part->length, tree hash `hash` over `part`): then nothing is renamed. The
 * rename never replaces a name and never follows a symbolic link. `key` names dirfd/leaf for
 * the index (e.g. "<spool>/<path>"); the same key must always mean the same folder and leaf.
 * On success *how says which, and `stored` (cap bytes) holds the leaf name used or matched.
 * 0, -ENAMETOOLONG (a numbered name would exceed NAME_MAX or cap), -EEXIST (no free number),
 * or -errno of the rename.
 */
int versions_place(struct versions *v, const char *key, int dirfd, const char *leaf,
		   unsigned max_n, int tmpdirfd, const char *tmpname,
		   const struct fec_partition *part, const uint8_t hash[HASH_LEN], char *stored,
		   size_t cap, enum versions_placed *how) __attribute__((warn_unused_result));

/* Bytes of stored files read back to hash them since versions_new(). */
uint64_t versions_bytes_read(const struct versions *v);

#endif
