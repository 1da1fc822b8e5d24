/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/kept.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cursor.h"
#include "common/smallfile.h"

static const uint8_t MAGIC[8] = "SLKEEP1";
#define SUM_LEN 16
#define HEAD_LEN (8 + 8 + 8 + 8 + 4 + 4)
#define ENTRY_LEN (4 + 8 + 4 + HASH_LEN)

int kept_encode(const struct kept *k, uint8_t **out, size_t *outlen)
{
	if (k->nblocks > KEPT_BLOCKS_MAX || k->manifest_len > KEPT_MANIFEST_MAX)
		return -EINVAL;
	size_t len = HEAD_LEN + (size_t)k->nblocks * ENTRY_LEN + k->manifest_len + SUM_LEN;
	uint8_t *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	struct wcursor w;
	wcursor_init(&w, buf, len);
	wcursor_bytes(&w, MAGIC, sizeof(MAGIC));
	wcursor_u64(&w, k->session);
	wcursor_u64(&w, k->object);
	wcursor_u64(&w, k->length);
	wcursor_u32(&w, k->nblocks);
	wcursor_u32(&w, k->manifest_len);
	for (uint32_t i = 0; i < k->nblocks; i++) {
		wcursor_u32(&w, k->blk[i].block);
		wcursor_u64(&w, k->blk[i].off);
		wcursor_u32(&w, k->blk[i].len);
		wcursor_bytes(&w, k->blk[i].leaf, HASH_LEN);
	}
	if (k->manifest_len)
		wcursor_bytes(&w, k->manifest, k->manifest_len);
	crypto_generichash(buf + w.off, SUM_LEN, buf, w.off, NULL, 0);
	*out = buf;
	*outlen = len;
	return 0;
}

int kept_save(int dirfd, const char *name, const struct kept *k)
{
	uint8_t *buf;
	size_t len;
	int rc = kept_encode(k, &buf, &len);
	if (rc != 0)
		return rc;
	char file[256];
	rc = snprintf(file, sizeof(file), "%s%s", name, KEPT_SUFFIX) >= (int)sizeof(file)
			 ? -ENAMETOOLONG
			 : smallfile_writeat(dirfd, file, buf, len, 0600);
	free(buf);
	return rc;
}

int kept_decode(const uint8_t *p, size_t len, struct kept *k)
{
	memset(k, 0, sizeof(*k));
	if (len < HEAD_LEN + SUM_LEN || memcmp(p, MAGIC, sizeof(MAGIC)) != 0)
		return -EBADMSG;
	uint8_t sum[SUM_LEN];
	crypto_generichash(sum, SUM_LEN, p, len - SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, p + len - SUM_LEN, SUM_LEN) != 0)
		return -EBADMSG;
	struct cursor c;
	cursor_init(&c, p + sizeof(MAGIC), len - sizeof(MAGIC) - SUM_LEN);
	k->session = cursor_u64(&c);
	k->object = cursor_u64(&c);
	k->length = cursor_u64(&c);
	uint32_t n = cursor_u32(&c);
	uint32_t ml = cursor_u32(&c);
	if (c.err || n > KEPT_BLOCKS_MAX || ml > KEPT_MANIFEST_MAX ||
	    cursor_left(&c) != (size_t)n * ENTRY_LEN + ml)
		return -EBADMSG;
	k->blk = calloc(n ? n : 1, sizeof(*k->blk));
	k->manifest = ml ? malloc(ml) : NULL;
	if (!k->blk || (ml && !k->manifest)) {
		kept_free(k);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct kept_block *b = &k->blk[i];
		b->block = cursor_u32(&c);
		b->off = cursor_u64(&c);
		b->len = cursor_u32(&c);
		cursor_copy(&c, b->leaf, HASH_LEN);
		/* ascending, within the object, inside the length */
		if (b->block >= KEPT_BLOCKS_MAX || (i && b->block <= k->blk[i - 1].block) ||
		    b->off > k->length || b->len > k->length - b->off) {
			kept_free(k);
			return -EBADMSG;
		}
	}
	k->nblocks = n;
	if (ml)
		cursor_copy(&c, k->manifest, ml);
	k->manifest_len = ml;
	if (c.err || !cursor_done(&c)) {
		kept_free(k);
		return -EBADMSG;
	}
	return 0;
}

int kept_load(int dirfd, const char *file, struct kept *k)
{
	memset(k, 0, sizeof(*k));
	int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	struct stat st;
	size_t max = HEAD_LEN + (size_t)KEPT_BLOCKS_MAX * ENTRY_LEN + KEPT_MANIFEST_MAX + SUM_LEN;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return -EBADMSG;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len ? len : 1);
	size_t got = 0;
	while (buf && got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	int rc = !buf ? -ENOMEM : got != len ? -EIO : kept_decode(buf, len, k);
	free(buf);
	return rc;
}

void kept_free(struct kept *k)
{
	free(k->blk);
	free(k->manifest);
	k->blk = NULL;
	k->manifest = NULL;
	k->nblocks = 0;
	k->manifest_len = 0;
}
