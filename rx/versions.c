/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The index of rx/versions.h: a hash table of names (keyed by the caller's "<spool>/<path>"),
 * each with its stored versions sorted by number, on a least-recently-used list. A version is
 * OTHER (not a regular file, or unreadable: never the same content), SIZED (a regular file of
 * known size, not read yet) or HASHED (its tree hash over the FEC parameters it was computed
 * with). Only a SIZED version of the new object's size is ever read, once; a HASHED one is
 * read again only to confirm a duplicate, or when the sender's FEC parameters changed.
 */
#include "rx/versions.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rename.h"
#include "rx/safepath.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define BUCKETS 1024

enum vstate { V_OTHER = 1, V_SIZED, V_HASHED };

struct version {
	uint32_t n; /* 0: the leaf itself */
	uint32_t state;
	uint32_t symbol_size; /* with size, they fix the partition `hash` is over */
	uint32_t nblocks;
	uint64_t size;
	uint8_t hash[HASH_LEN];
};

struct entry {
	struct entry *hnext, *older, *newer;
	uint64_t khash;
	char *key;
	struct version *v; /* sorted by n */
	uint32_t nv, cap;
};

struct versions {
	struct entry *buckets[BUCKETS];
	struct entry *oldest, *newest;
	size_t nnames, total;
	uint64_t bytes_read;
};

/* ---- names ---- */

static uint64_t key_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

static void lru_unlink(struct versions *ix, struct entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		ix->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		ix->newest = e->older;
	e->older = e->newer = NULL;
}

static void lru_push(struct versions *ix, struct entry *e)
{
	e->older = ix->newest;
	if (ix->newest)
		ix->newest->newer = e;
	else
		ix->oldest = e;
	ix->newest = e;
}

static struct entry *entry_find(struct versions *ix, const char *key, uint64_t h)
{
	for (struct entry *e = ix->buckets[h % BUCKETS]; e; e = e->hnext)
		if (e->khash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void entry_drop(struct versions *ix, struct entry *e)
{
	struct entry **pp = &ix->buckets[e->khash % BUCKETS];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(ix, e);
	ix->nnames--;
	ix->total -= e->nv;
	free(e->key);
	free(e->v);
	free(e);
}

/* Forgets the names used least recently, never `keep`, until within the bounds. */
static void trim(struct versions *ix, const struct entry *keep)
{
	while (ix->nnames > VERSIONS_NAMES_MAX || ix->total > VERSIONS_TOTAL_MAX) {
		struct entry *e = ix->oldest;
		if (e == keep)
			e = e->newer;
		if (!e)
			return;
		entry_drop(ix, e);
	}
}

static struct entry *entry_new(struct versions *ix, const char *key, uint64_t h)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		return NULL;
	}
	e->khash = h;
	e->hnext = ix->buckets[h % BUCKETS];
	ix->buckets[h % BUCKETS] = e;
	lru_push(ix, e);
	ix->nnames++;
	return e;
}

/* ---- versions of one name ---- */

/* Index of version n in e, or of where it would go. */
static uint32_t version_pos(const struct entry *e, uint32_t n)
{
	uint32_t lo = 0, hi = e->nv;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e->v[mid].n < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds (or replaces) version x->n. NULL on -ENOMEM: the index then just does not know it. */
static struct version *version_put(struct versions *ix, struct entry *e, const struct version *x)
{
	uint32_t i = version_pos(e, x->n);
	if (i < e->nv && e->v[i].n == x->n) {
		e->v[i] = *x;
		return &e->v[i];
	}
	if (e->nv == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 8;
		struct version *nv = realloc(e->v, cap * sizeof(*nv));
		if (!nv)
			return NULL;
		e->v = nv;
		e->cap = cap;
	}
	memmove(&e->v[i + 1], &e->v[i], (e->nv - i) * sizeof(*e->v));
	e->v[i] = *x;
	e->nv++;
	ix->total++;
	return &e->v[i];
}

static void version_remove(struct versions *ix, struct entry *e, uint32_t i)
{
	memmove(&e->v[i], &e->v[i + 1], (e->nv - i - 1) * sizeof(*e->v));
	e->nv--;
	ix->total--;
}

/* The lowest number no version holds. */
static uint32_t lowest_free(const struct entry *e)
{
	if (e->nv == 0 || e->v[e->nv - 1].n == e->nv - 1)
		return e->nv; /* dense: 0 .. nv-1 */
	uint32_t want = 0;
	for (uint32_t i = 0; i < e->nv && e->v[i].n == want; i++)
		want++;
	return want;
}

/* "seg.ts" -> "seg.<n>.ts", "README" -> "README.<n>"; n == 0: the leaf itself.
 * -ENAMETOOLONG past NAME_MAX or cap. */
static int vname(const char *leaf, uint32_t n, char *out, size_t cap)
{
	int w;
	if (n == 0) {
		w = snprintf(out, cap, "%s", leaf);
	} else {
		const char *dot = strrchr(leaf, '.');
		size_t stem = dot && dot != leaf ? (size_t)(dot - leaf) : strlen(leaf);
		w = snprintf(out, cap, "%.*s.%u%s", (int)stem, leaf, n, leaf + stem);
	}
	if (w < 0 || (size_t)w >= cap || w > SAFEPATH_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* What is stored as dirfd/name, links not followed: 0 and *x (hash not read); -ENOENT; -errno. */
static int look(int dirfd, const char *name, uint32_t n, struct version *x)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	*x = (struct version){.n = n, .state = S_ISREG(st.st_mode) ? V_SIZED : V_OTHER,
			      .size = (uint64_t)st.st_size};
	return 0;
}

/* Tree hash of dirfd/name over `part`: 0 and root; -ENOENT; -ESTALE (no longer a regular file
 * of part->length bytes); -errno. The bytes read are counted. */
static int hash_file(struct versions *ix, int dirfd, const char *name,
		     const struct fec_partition *part, uint8_t root[HASH_LEN])
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -ESTALE : -errno;
	struct stat st;
	int rc = -ESTALE;
	uint8_t *leaves = NULL, *buf = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != part->length)
		goto out;
	size_t maxlen = (size_t)part->k_large * part->symbol_size;
	leaves = malloc((size_t)part->nblocks * HASH_LEN);
	buf = malloc(maxlen ? maxlen : 1);
	rc = -ENOMEM;
	if (!leaves || !buf)
		goto out;
	for (uint32_t b = 0; b < part->nblocks; b++) {
		uint32_t len = fec_partition_len(part, b);
		uint64_t off = fec_partition_offset(part, b);
		rc = -ESTALE;
		if (len > maxlen)
			goto out;
		for (uint32_t got = 0; got < len;) {
			ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				rc = r < 0 ? -errno : -ESTALE; /* 0: it shrank */
				goto out;
			}
			got += (uint32_t)r;
			ix->bytes_read += (uint64_t)r;
		}
		hash_leaf(b, buf, len, leaves + (size_t)b * HASH_LEN);
	}
	hash_root(part->length, leaves, part->nblocks, root);
	rc = 0;
out:
	free(leaves);
	free(buf);
	close(fd);
	return rc;
}

/* Hashes version *x (dirfd/name) over part, updating it. true if it is there and hashed. */
static bool learn_hash(struct versions *ix, int dirfd, const char *name,
		       const struct fec_partition *part, struct version *x)
{
	uint8_t root[HASH_LEN];
	int rc = hash_file(ix, dirfd, name, part, root);
	if (rc != 0) {
		x->state = V_OTHER; /* changed, unreadable or gone: never taken for the same */
		return false;
	}
	memcpy(x->hash, root, HASH_LEN);
	x->state = V_HASHED;
	x->symbol_size = part->symbol_size;
	x->nblocks = part->nblocks;
	return true;
}

static bool same_params(const struct version *x, const struct fec_partition *part)
{
	return x->symbol_size == part->symbol_size && x->nblocks == part->nblocks;
}

/* One pass over leaf, leaf.1.ext, ... up to the first free name. */
static void scan(struct versions *ix, struct entry *e, int dirfd, const char *leaf,
		 unsigned max_n)
{
	char name[SAFEPATH_NAME_MAX + 1];
	for (uint32_t n = 0; n <= max_n; n++) {
		struct version x;
		if (vname(leaf, n, name, sizeof(name)) != 0 || look(dirfd, name, n, &x) != 0 ||
		    !version_put(ix, e, &x))
			return;
	}
}

/* Forgets the versions no longer there; true if any went. */
static bool refresh(struct versions *ix, struct entry *e, int dirfd, const char *leaf)
{
	char name[SAFEPATH_NAME_MAX + 1];
	bool freed = false;
	for (uint32_t i = 0; i < e->nv;) {
		struct stat st;
		if (vname(leaf, e->v[i].n, name, sizeof(name)) == 0 &&
		    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
			version_remove(ix, e, i);
			freed = true;
			continue;
		}
		i++;
	}
	return freed;
}

/* A stored version with this content, confirmed by reading it: its number, or -1. */
static int64_t find_same(struct versions *ix, struct entry *e, int dirfd, const char *leaf,
			 const struct fec_partition *part, const uint8_t hash[HASH_LEN])
{
	char name[SAFEPATH_NAME_MAX + 1];
	for (uint32_t i = 0; i < e->nv;) {
		struct version *x = &e->v[i];
		if (x->state == V_OTHER || x->size != part->length ||
		    (x->state == V_HASHED && same_params(x, part) &&
		     sodium_memcmp(x->hash, hash, HASH_LEN) != 0) ||
		    vname(leaf, x->n, name, sizeof(name)) != 0) {
			i++;
			continue;
		}
		/* Not hashed yet, hashed with other FEC parameters, or the same hash: read it. */
		if (!learn_hash(ix, dirfd, name, part, x)) {
			/* Changed, unreadable or gone: look again, so it is not read again in vain. */
			struct version now;
			int rc = look(dirfd, name, x->n, &now);
			if (rc == -ENOENT) {
				version_remove(ix, e, i);
				continue;
			}
			if (rc == 0 && now.size != part->length)
				*x = now;
			i++;
			continue;
		}
		if (sodium_memcmp(x->hash, hash, HASH_LEN) == 0)
			return x->n;
		i++;
	}
	return -1;
}

int versions_place(struct versions *ix, const char *key, int dirfd, const char *leaf,
		   unsigned max_n, int tmpdirfd, const char *tmpname,
		   const struct fec_partition *part, const uint8_t hash[HASH_LEN], char *stored,
		   size_t cap, enum versions_placed *how)
{
	if (max_n >= VERSIONS_TOTAL_MAX)
		max_n = VERSIONS_TOTAL_MAX - 1;
	uint64_t h = key_hash(key);
	struct entry *e = entry_find(ix, key, h);
	if (e) {
		lru_unlink(ix, e);
		lru_push(ix, e);
	} else if ((e = entry_new(ix, key, h)) != NULL) {
		scan(ix, e, dirfd, leaf, max_n);
	} else {
		return -ENOMEM;
	}
	int rc;
	int64_t same = find_same(ix, e, dirfd, leaf, part, hash);
	if (same >= 0) {
		if ((rc = vname(leaf, (uint32_t)same, stored, cap)) != 0)
			return rc;
		*how = VERSIONS_DUPLICATE;
		goto done;
	}
	bool refreshed = false;
	/* Each turn records one number as taken, or frees some once: bounded. */
	for (unsigned turn = 0; turn <= 2 * max_n + 2; turn++) {
		uint32_t n = lowest_free(e);
		if (n > max_n) {
			if (refreshed || !refresh(ix, e, dirfd, leaf))
				break;
			refreshed = true;
			continue;
		}
		if ((rc = vname(leaf, n, stored, cap)) != 0)
			return rc;
		rc = rename_noreplace(tmpdirfd, tmpname, dirfd, stored);
		struct version x = {.n = n, .state = V_HASHED, .symbol_size = part->symbol_size,
				    .nblocks = part->nblocks, .size = part->length};
		if (rc == 0) {
			memcpy(x.hash, hash, HASH_LEN);
			(void)version_put(ix, e, &x);
			*how = n ? VERSIONS_RENAMED : VERSIONS_PLACED;
			goto done;
		}
		if (rc != -EEXIST)
			return rc;
		/* Stored while the index did not look: learn it, and it may be the same. */
		if (look(dirfd, stored, n, &x) != 0)
			continue; /* gone again: try the number once more */
		if (x.state == V_SIZED && x.size == part->length &&
		    learn_hash(ix, dirfd, stored, part, &x) && sodium_memcmp(x.hash, hash, HASH_LEN) == 0) {
			(void)version_put(ix, e, &x);
			*how = VERSIONS_DUPLICATE;
			goto done;
		}
		if (!version_put(ix, e, &x))
			return -ENOMEM;
	}
	rc = -EEXIST;
	trim(ix, e);
	return rc;
done:
	trim(ix, e);
	return 0;
}

int versions_new(struct versions **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void versions_free(struct versions *ix)
{
	if (!ix)
		return;
	while (ix->oldest)
		entry_drop(ix, ix->oldest);
	free(ix);
}

uint64_t versions_bytes_read(const struct versions *ix) { return ix->bytes_read; }
