/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/kept.c: the record of an object kept across a clean stop. It comes back field for field;
 * a record cut short, lengthened, with any byte changed, or with blocks out of order or past
 * the object's length is refused; a saved record leaves no temp name behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/manifest.h"
#include "common/smallfile.h"
#include "rx/kept.h"

static struct kept sample(struct kept_block *blk, uint8_t *man)
{
	for (uint32_t i = 0; i < 3; i++) {
		blk[i] = (struct kept_block){.block = i * 2 + 1, .off = (uint64_t)(i * 2 + 1) * 1000,
					     .len = 1000};
		memset(blk[i].leaf, 0x40 + (int)i, HASH_LEN);
	}
	memcpy(man, "manifest bytes", 14);
	return (struct kept){.session = 0x1122334455667788ull, .object = 42, .length = 7000,
			     .nblocks = 3, .blk = blk, .manifest = man, .manifest_len = 14};
}

static uint8_t *saved(int dirfd, const struct kept *k, size_t *len)
{
	assert_int_equal(kept_save(dirfd, "obj", k), 0);
	int fd = openat(dirfd, "obj" KEPT_SUFFIX, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	assert_int_equal(faccessat(dirfd, ".obj" KEPT_SUFFIX SMALLFILE_TMP_SUFFIX, F_OK, AT_SYMLINK_NOFOLLOW), -1);
	return buf;
}

static void test_roundtrip_and_damage(void **state)
{
	char dir[] = "/tmp/sluice-kept-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct kept_block blk[3];
	memset(blk, 0, sizeof(blk));
	uint8_t man[14];
	struct kept k = sample(blk, man), got;
	size_t len;
	uint8_t *buf = saved(dirfd, &k, &len);
	assert_int_equal(kept_load(dirfd, "obj" KEPT_SUFFIX, &got), 0);
	assert_int_equal(got.session, k.session);
	assert_int_equal(got.object, 42);
	assert_int_equal(got.length, 7000);
	assert_int_equal(got.nblocks, 3);
	for (int i = 0; i < 3; i++) { /* field by field: the struct has padding */
		assert_int_equal(got.blk[i].block, blk[i].block);
		assert_int_equal(got.blk[i].off, blk[i].off);
		assert_int_equal(got.blk[i].len, blk[i].len);
		assert_memory_equal(got.blk[i].leaf, blk[i].leaf, HASH_LEN);
	}
	assert_int_equal(got.manifest_len, 14);
	assert_memory_equal(got.manifest, man, 14);
	kept_free(&got);
	/* every byte flipped, every length short, one byte more: refused */
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		assert_int_equal(kept_decode(buf, len, &got), -EBADMSG);
		buf[i] ^= 0x01;
	}
	for (size_t n = 0; n < len; n++)
		assert_int_equal(kept_decode(buf, n, &got), -EBADMSG);
	uint8_t *more = calloc(1, len + 1);
	memcpy(more, buf, len);
	assert_int_equal(kept_decode(more, len + 1, &got), -EBADMSG);
	free(more);
	free(buf);
	/* well-formed but impossible: blocks out of order, a block past the length */
	blk[1].block = 1;
	buf = saved(dirfd, &k, &len);
	assert_int_equal(kept_decode(buf, len, &got), -EBADMSG);
	free(buf);
	k = sample(blk, man);
	blk[2].len = 2001; /* 5000 + 2001 > 7000 */
	buf = saved(dirfd, &k, &len);
	assert_int_equal(kept_decode(buf, len, &got), -EBADMSG);
	free(buf);
	/* no manifest, one block: fine */
	k = sample(blk, man);
	k.manifest = NULL;
	k.manifest_len = 0;
	k.nblocks = 1;
	buf = saved(dirfd, &k, &len);
	assert_int_equal(kept_decode(buf, len, &got), 0);
	assert_null(got.manifest);
	kept_free(&got);
	free(buf);
	/* the longest manifest there is (longest spool name and path) keeps too */
	uint8_t *big = malloc(MANIFEST_MAX_LEN);
	memset(big, 0x5a, MANIFEST_MAX_LEN);
	k = sample(blk, man);
	k.manifest = big;
	k.manifest_len = MANIFEST_MAX_LEN;
	buf = saved(dirfd, &k, &len);
	assert_int_equal(kept_decode(buf, len, &got), 0);
	assert_int_equal(got.manifest_len, MANIFEST_MAX_LEN);
	assert_memory_equal(got.manifest, big, MANIFEST_MAX_LEN);
	kept_free(&got);
	free(buf);
	free(big);
	unlinkat(dirfd, "obj" KEPT_SUFFIX, 0);
	close(dirfd);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
