/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rx/versions.{h,c} in a mkdtemp folder, with at most 3 numbered names: numbers running out,
 * a number freed behind the index's back and reused, files planted where the index did not
 * look, a symbolic link under the name; and how many bytes of stored files each step reads.
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

#include "common/hash.h"
#include "fec/fec.h"
#include "rx/versions.h"

#define LEN 5000

static char top[64];
static int dirfd_, tmpfd;
static struct versions *ix;

static int setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/sluice-versions-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	char p[128];
	snprintf(p, sizeof(p), "%s/tmp", top);
	if (mkdir(p, 0700) != 0)
		return -1;
	dirfd_ = open(top, O_RDONLY | O_DIRECTORY);
	tmpfd = open(p, O_RDONLY | O_DIRECTORY);
	return dirfd_ >= 0 && tmpfd >= 0 && versions_new(&ix) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	versions_free(ix);
	close(dirfd_);
	close(tmpfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void content(uint8_t *buf, int seed)
{
	for (size_t i = 0; i < LEN; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static void write_at(int dfd, const char *name, int seed)
{
	uint8_t buf[LEN];
	content(buf, seed);
	int fd = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, LEN), LEN);
	close(fd);
}

/* A temp file with content `seed`, placed under key/leaf with at most 3 numbered names. */
static int place(const char *key, const char *leaf, int seed, char *stored,
		 enum versions_placed *how)
{
	uint8_t buf[LEN], leaves[HASH_LEN * 4], root[HASH_LEN];
	content(buf, seed);
	struct fec_partition part;
	assert_int_equal(fec_partition_init(&part, LEN, 1408, 2), 0);
	assert_true(part.nblocks <= 4);
	for (uint32_t b = 0; b < part.nblocks; b++)
		hash_leaf(b, buf + fec_partition_offset(&part, b), fec_partition_len(&part, b),
			  leaves + (size_t)b * HASH_LEN);
	hash_root(LEN, leaves, part.nblocks, root);
	unlinkat(tmpfd, "t", 0);
	write_at(tmpfd, "t", seed);
	return versions_place(ix, key, dirfd_, leaf, 3, tmpfd, "t", &part, root, stored, 256, how);
}

static bool exists(const char *name)
{
	struct stat st;
	return fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void test_numbers(void **state)
{
	char stored[256];
	enum versions_placed how;
	static const char *names[] = {"a.ts", "a.1.ts", "a.2.ts", "a.3.ts"};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(place("s/a.ts", "a.ts", i, stored, &how), 0);
		assert_string_equal(stored, names[i]);
		assert_int_equal(how, i ? VERSIONS_RENAMED : VERSIONS_PLACED);
	}
	/* numbers run out: refused, the temp file stays */
	assert_int_equal(place("s/a.ts", "a.ts", 4, stored, &how), -EEXIST);
	assert_true(exists("tmp/t"));
	assert_int_equal(versions_bytes_read(ix), 0);
	/* one removed behind the index's back: found when the numbers run out, reused */
	assert_int_equal(unlinkat(dirfd_, "a.1.ts", 0), 0);
	assert_int_equal(place("s/a.ts", "a.ts", 4, stored, &how), 0);
	assert_string_equal(stored, "a.1.ts");
	assert_int_equal(how, VERSIONS_RENAMED);
	assert_false(exists("tmp/t"));
	assert_int_equal(versions_bytes_read(ix), 0);
	/* a resend of version 2: a duplicate, confirmed by reading that file only */
	assert_int_equal(place("s/a.ts", "a.ts", 2, stored, &how), 0);
	assert_string_equal(stored, "a.2.ts");
	assert_int_equal(how, VERSIONS_DUPLICATE);
	assert_int_equal(versions_bytes_read(ix), LEN);
	/* changed behind the index's back: not a duplicate any more (and no number is free) */
	assert_int_equal(unlinkat(dirfd_, "a.2.ts", 0), 0);
	write_at(dirfd_, "a.2.ts", 99);
	assert_int_equal(place("s/a.ts", "a.ts", 2, stored, &how), -EEXIST);
	/* what is stored is what was placed */
	uint8_t want[LEN], got[LEN];
	content(want, 4);
	int fd = openat(dirfd_, "a.1.ts", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, LEN), LEN);
	close(fd);
	assert_memory_equal(got, want, LEN);
}

static void test_planted(void **state)
{
	char stored[256];
	enum versions_placed how;
	/* b.ts a symbolic link, b.1.ts a file of the same content: learned by the first pass */
	assert_int_equal(symlinkat("/etc/passwd", dirfd_, "b.ts"), 0);
	write_at(dirfd_, "b.1.ts", 7);
	assert_int_equal(place("s/b.ts", "b.ts", 7, stored, &how), 0);
	assert_int_equal(how, VERSIONS_DUPLICATE);
	assert_string_equal(stored, "b.1.ts");
	assert_int_equal(versions_bytes_read(ix), LEN);
	assert_int_equal(place("s/b.ts", "b.ts", 8, stored, &how), 0);
	assert_string_equal(stored, "b.2.ts");
	assert_int_equal(versions_bytes_read(ix), LEN);
	/* a file planted at the next number after the index looked: learned when the rename
	 * finds it, read once since it has the new object's size, then passed over */
	assert_int_equal(place("s/c.ts", "c.ts", 1, stored, &how), 0);
	write_at(dirfd_, "c.1.ts", 50);
	assert_int_equal(place("s/c.ts", "c.ts", 2, stored, &how), 0);
	assert_string_equal(stored, "c.2.ts");
	assert_int_equal(how, VERSIONS_RENAMED);
	assert_int_equal(versions_bytes_read(ix), 2 * LEN);
	assert_int_equal(place("s/c.ts", "c.ts", 3, stored, &how), 0);
	assert_string_equal(stored, "c.3.ts");
	assert_int_equal(versions_bytes_read(ix), 2 * LEN);
	/* and a resend of what was planted is a duplicate of it */
	assert_int_equal(place("s/c.ts", "c.ts", 50, stored, &how), 0);
	assert_int_equal(how, VERSIONS_DUPLICATE);
	assert_string_equal(stored, "c.1.ts");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
