/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for rx/kept.c's record of an object kept across a clean stop, and the
 * deliver role's resumption of it (rx/deliver.c resume_one), which read the record "as if
 * anyone could have" written it. Input:
 *
 *   +--------+--------------------------------------------------------------+
 *   | flags  | the record                                                    |
 *   +--------+--------------------------------------------------------------+
 *     flags & 1: the record is taken as it is; otherwise its BLAKE2b-128 sum is appended
 *                here, so that the fuzzer reaches the fields behind the checksum
 *     flags & 6: the temp file beside it: 0 as long as the last block needs, 2 one byte
 *                short, 4 missing, 6 a folder
 *
 * A record must decode only if re-encoding it (kept_encode) gives the same bytes. A record
 * that decodes (and whose last block is below 65536) is then written to FILES/.sluice-tmp as
 * a clean stop leaves it, and a deliver role started there: it resumes the object only if
 * the record's ids, length and blocks are usable and its temp file is a regular file long
 * enough, and then reports exactly the record's ids, length and blocks (deliver_kept); either
 * way no record is left behind, and once the deliver role is freed the temp folder is empty.
 * One folder, made once in /dev/shm (a tmpfs) when there is one, is reused; fsync is a no-op
 * here.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <dirent.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/wire.h"
#include "rx/deliver/deliver.h"
#include "rx/kept.h"

#define OBJECT_LIMIT (1ull << 30)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/dev/shm/sluice-fuzz-kept-XXXXXX";
static char files[sizeof(dir) + 16], tmp[sizeof(dir) + 32];

int fsync(int fd)
{
	(void)fd;
	return 0;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_kept: %s\n", what);
		abort();
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void cleanup(void) { nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	check(sodium_init() >= 0, "sodium_init failed");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/sluice-fuzz-kept-XXXXXX");
		check(mkdtemp(dir) != NULL, "mkdtemp failed");
	}
	snprintf(files, sizeof(files), "%s/files", dir);
	snprintf(tmp, sizeof(tmp), "%s/%s", files, DELIVER_TMP_DIR);
	atexit(cleanup);
	log_set_level(LOG_ERROR);
	return 0;
}

/* Entries in the temp folder, "." and ".." aside. */
static unsigned tmp_entries(void)
{
	DIR *d = opendir(tmp);
	check(d != NULL, "opendir of the temp folder");
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* What resume_one must accept (the temp file aside): deliver.c keeps a leaf hash and an
 * offset and length, 48 bytes, per block up to the last, at most 256 MiB of them. */
static bool usable(const struct kept *k)
{
	if (k->nblocks == 0)
		return false;
	uint64_t top = (uint64_t)k->blk[k->nblocks - 1].block + 1;
	return k->length <= OBJECT_LIMIT && !wire_id_is_event(k->object) &&
	       (top < 16 ? 16 : top) * 48 <= (256ull << 20);
}

static void resume(const struct kept *k, const uint8_t *rec, size_t len, unsigned how)
{
	char name[48], path[sizeof(tmp) + 64];
	snprintf(name, sizeof(name), "%016" PRIx64 "-%" PRIu64, k->session, k->object);
	check(mkdir(files, 0755) == 0 || errno == EEXIST, "mkdir files");
	check(mkdir(tmp, 0700) == 0 || errno == EEXIST, "mkdir temp folder");
	snprintf(path, sizeof(path), "%s/%s%s", tmp, name, KEPT_SUFFIX);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0 && write(fd, rec, len) == (ssize_t)len, "writing the record");
	close(fd);
	bool file_ok = false;
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	uint64_t need = k->nblocks ? k->blk[k->nblocks - 1].off + k->blk[k->nblocks - 1].len : 0;
	if (how == 0 || how == 2) {
		uint64_t want = how == 0 ? need : need ? need - 1 : 0;
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		check(fd >= 0, "creating the temp file");
		/* sparse, so a long object costs nothing; beyond what tmpfs takes, no file */
		if (want <= (1ull << 40) && ftruncate(fd, (off_t)want) == 0)
			file_ok = want >= need; /* a block may be empty: then nothing is short */
		close(fd);
	} else if (how == 6) {
		check(mkdir(path, 0700) == 0, "mkdir in place of the temp file");
	}
	struct deliver *d;
	struct deliver_config c = {.files_dir = files, .object_limit = OBJECT_LIMIT};
	int rc = deliver_new(&d, &c);
	if (how == 6 && rc == 0) {
		/* a folder is not a temp file: never resumed, and not removed by resume_tmp
		 * either (unlinkat of a folder fails); removed here */
		rmdir(path);
	}
	check(rc == 0, "deliver_new");
	const struct deliver_kept *list;
	size_t n = deliver_kept(d, &list);
	bool want = usable(k) && file_ok;
	check(n == (want ? 1 : 0), want ? "a usable record not resumed" : "an unusable record resumed");
	if (n) {
		const struct deliver_kept *r = &list[0];
		uint32_t top = k->blk[k->nblocks - 1].block + 1;
		check(r->session == k->session && r->object == k->object && r->length == k->length &&
		      r->top == top, "resumed with other ids, length or top than the record's");
		uint32_t i = 0;
		for (uint32_t b = 0; b < top; b++) {
			bool listed = i < k->nblocks && k->blk[i].block == b;
			i += listed;
			check(!!(r->done[b >> 3] & (1u << (b & 7))) == listed,
			      "a block resumed that the record does not list, or the reverse");
		}
	}
	deliver_free(d);
	check(tmp_entries() == 0, "the temp folder is not empty after deliver_free");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	bool raw = data[0] & 1;
	unsigned how = data[0] & 6;
	size_t len = size - 1 + (raw ? 0 : 16);
	uint8_t *rec = malloc(len ? len : 1);
	check(rec != NULL, "malloc");
	memcpy(rec, data + 1, size - 1);
	if (!raw)
		crypto_generichash(rec + size - 1, 16, rec, size - 1, NULL, 0);
	struct kept k;
	int rc = kept_decode(rec, len, &k);
	check(rc == 0 || rc == -EBADMSG, "kept_decode: an error other than -EBADMSG");
	if (rc == 0) {
		uint8_t *again;
		size_t alen;
		check(kept_encode(&k, &again, &alen) == 0, "a decoded record does not encode");
		check(alen == len && memcmp(again, rec, len) == 0,
		      "a record decodes, but encodes to other bytes");
		free(again);
		for (uint32_t i = 0; i < k.nblocks; i++)
			check(k.blk[i].off <= k.length && k.blk[i].len <= k.length - k.blk[i].off &&
			      (i == 0 || k.blk[i].block > k.blk[i - 1].block),
			      "a block outside the object, or out of order");
		/* Bookkeeping up to a last block in the millions is allocated and initialised
		 * whole (and refused beyond 256 MiB): slow, and the same code as a smaller one. */
		if (k.nblocks == 0 || k.blk[k.nblocks - 1].block < (1u << 16))
			resume(&k, rec, len, how);
		kept_free(&k);
	}
	free(rec);
	return 0;
}
