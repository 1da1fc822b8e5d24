/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* `sluice-rx verify-audit --files DIR`: the file of a delivered line is re-hashed under DIR
 * (never following a symbolic link, never leaving DIR) and compared with its content hash. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/hash.h"
#include "common/wire.h"
#include "fec/fec.h"
#include "rx/verify_audit_internal.h"

/* A name from the log under DIR: no absolute path, no "..", no empty component. */
static bool safe_rel(const char *s)
{
	if (!*s || *s == '/')
		return false;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* Tree hash (common/hash.h) of path over the layout; 0, -ENOENT, -ESTALE (size differs), -errno. */
/* Opens rel (spool/path) under dir following no symbolic link at any depth and never leaving
 * dir (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, Linux 5.6): a link planted in DIR must
 * not get a file outside it re-hashed and reported unchanged. A link is -ESTALE (changed). */
static int open_beneath(const char *dir, const char *rel)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	long fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	int err = errno;
	close(dfd);
	if (fd < 0)
		return err == ELOOP || err == EXDEV ? -ESTALE : -err;
	return (int)fd;
}

static int rehash(const char *dir, const char *rel, uint64_t size, uint32_t t, uint32_t k,
		  uint8_t root[HASH_LEN])
{
	struct fec_partition part;
	if (fec_partition_init(&part, size, t, k) != 0)
		return -EINVAL;
	int fd = open_beneath(dir, rel);
	if (fd < 0)
		return fd;
	struct stat st;
	int rc = -ESTALE;
	uint8_t *leaves = NULL, *buf = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		goto out;
	size_t maxlen = (size_t)part.k_large * part.symbol_size;
	leaves = malloc((size_t)part.nblocks * HASH_LEN + 1);
	buf = malloc(maxlen ? maxlen : 1);
	rc = -ENOMEM;
	if (!leaves || !buf)
		goto out;
	for (uint32_t b = 0; b < part.nblocks; b++) {
		uint32_t len = fec_partition_len(&part, b);
		uint64_t off = fec_partition_offset(&part, b);
		for (uint32_t got = 0; got < len;) {
			ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				rc = r < 0 ? -errno : -ESTALE;
				goto out;
			}
			got += (uint32_t)r;
		}
		hash_leaf(b, buf, len, leaves + (size_t)b * HASH_LEN);
	}
	hash_root(size, leaves, part.nblocks, root);
	rc = 0;
out:
	free(leaves);
	free(buf);
	close(fd);
	return rc;
}

/* --files: the file of line `o` (its stored_as, or path) is there and hashes to its
 * content_hash; `what` names it. */
void verify_check_file(struct walk *w, const char *loc, json_t *o, const char *what)
{
	const char *spool = json_string_value(json_object_get(o, "spool"));
	const char *name = json_string_value(json_object_get(o, "stored_as"));
	if (!name)
		name = json_string_value(json_object_get(o, "path"));
	json_t *sz = json_object_get(o, "size"), *t = json_object_get(o, "symbol_size"),
	       *k = json_object_get(o, "block_max");
	uint8_t want[HASH_LEN], got[HASH_LEN];
	if (!spool || !name || !json_is_integer(sz) || !get_hex32(o, "content_hash", want)) {
		fprintf(stderr, "%s: a delivered line without spool, path, size or content_hash\n", loc);
		w->file_problems++;
		return;
	}
	if (!safe_rel(spool) || strchr(spool, '/') || !safe_rel(name)) {
		fprintf(stderr, "%s: unsafe name %s/%s: not looked up\n", loc, ESCAPED(spool),
			ESCAPED(name));
		w->file_problems++;
		return;
	}
	if (json_is_integer(t) && json_is_integer(k) &&
	    (json_integer_value(t) < WIRE_SYMBOL_MIN || json_integer_value(t) > UINT16_MAX ||
	     json_integer_value(k) < 1 || json_integer_value(k) > 254)) {
		/* what no announcement carries (wire.c): a block would be up to 2^64 bytes */
		fprintf(stderr, "%s: %s/%s: not re-hashed: symbol_size %" JSON_INTEGER_FORMAT " or block_max %"
				JSON_INTEGER_FORMAT " out of range (the line was altered)\n", loc, ESCAPED(spool),
			ESCAPED(name), json_integer_value(t), json_integer_value(k));
		w->file_problems++;
		return;
	}
	if (!json_is_integer(t) || !json_is_integer(k)) {
		fprintf(stderr, "%s: %s/%s: not re-hashed: the line has no symbol_size and block_max "
				"(written before they were recorded)\n", loc, ESCAPED(spool), ESCAPED(name));
		w->unchecked++;
		return;
	}
	size_t plen = strlen(spool) + strlen(name) + 2;
	char *path = malloc(plen);
	if (!path) {
		fprintf(stderr, "%s: out of memory\n", loc);
		w->file_problems++;
		return;
	}
	snprintf(path, plen, "%s/%s", spool, name);
	int rc = rehash(w->files_dir, path, (uint64_t)json_integer_value(sz), (uint32_t)json_integer_value(t),
			(uint32_t)json_integer_value(k), got);
	if (rc == -ENOENT) {
		fprintf(stderr, "%s: %s %s/%s is missing\n", loc, what, ESCAPED(spool), ESCAPED(name));
	} else if (rc == -ESTALE || (rc == 0 && sodium_memcmp(got, want, HASH_LEN) != 0)) {
		fprintf(stderr, "%s: %s %s/%s has changed since delivery (%s)\n", loc, what,
			ESCAPED(spool), ESCAPED(name),
			rc == -ESTALE ? "not a regular file of the audited size" : "content hash differs");
	} else if (rc != 0) {
		fprintf(stderr, "%s: %s %s/%s: %s\n", loc, what, ESCAPED(spool), ESCAPED(name),
			strerror(-rc));
	} else {
		w->rehashed++;
	}
	if (rc != 0 || sodium_memcmp(got, want, HASH_LEN) != 0)
		w->file_problems++;
	free(path);
}
