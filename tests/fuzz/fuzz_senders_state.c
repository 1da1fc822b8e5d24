/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the receiver's state file STATE/senders (rx/linkrole.c: load_counters
 * reads it in linkrole_new, save_counters writes it): a corrupted or hostile file must not
 * crash rx, neither when it is read nor when a genuine sender's announcement then rejoins (or
 * refuses) a session from what it says.
 *
 * Input: the file's text, up to the first NUL; after the NUL, optionally, datagrams in
 * fuzz_linkrole's format (u16 little-endian length, bytes) fed to the link role, with the
 * keys of fuzz_linkrole (receiver 'R' x 32; pinned senders 'T' x 32, whose signed
 * announcements the seeds hold, and 'U' x 32). The file is written to one temp folder, made
 * once, as `senders`; the link role is made with it as state_dir, fed, and freed (which saves
 * the file). Then the saved file must be a fixed point: loaded and saved again, unchanged.
 * fsync is a no-op here, so the saves cost no disk flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/log.h"
#include "rx/link/linkrole.h"
#include "tests/fuzz/sodium_memo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keys_rx rx_keys;
static uint8_t senders[2][32];
static char dir[64]; /* on /dev/shm (a tmpfs) when there is one: no disk under the saves */
static char path[sizeof(dir) + 16];

/* The saves of save_counters need no durability here. */
int fsync(int fd)
{
	(void)fd;
	return 0;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_senders_state: %s\n", what);
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
	uint8_t seed[32], sk[64];
	(void)argc;
	(void)argv;
	check(sodium_init() >= 0, "sodium_init failed");
	memset(seed, 'R', sizeof(seed));
	crypto_box_seed_keypair(rx_keys.dh_pk, rx_keys.dh_sk, seed);
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(senders[0], sk, seed);
	memset(seed, 'U', sizeof(seed));
	crypto_sign_seed_keypair(senders[1], sk, seed);
	snprintf(dir, sizeof(dir), "/dev/shm/sluice-fuzz-senders-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/sluice-fuzz-senders-XXXXXX");
		check(mkdtemp(dir) != NULL, "mkdtemp failed");
	}
	snprintf(path, sizeof(path), "%s/senders", dir);
	atexit(cleanup);
	log_set_level(LOG_ERROR);
	return 0;
}

static struct linkrole *open_role(void)
{
	struct linkrole_config c = {
		.keys = &rx_keys,
		.senders = (const uint8_t (*)[32])senders,
		.nsenders = 2,
		.memory_limit = 64ull << 20,
		.object_limit = 1ull << 30,
		.out_fd = -1,
		.ev_fd = -1,
		.state_dir = dir,
	};
	struct linkrole *l = NULL;
	check(linkrole_new(&l, &c) == 0, "linkrole_new failed");
	return l;
}

/* The file's bytes: one line per pinned sender, each the key, four numbers and up to
 * SAVED_ABOVE / 64 = 1024 words of 17 characters (rx/link/state.c), so up to ~17.5 KB a line. */
static size_t read_state(char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	check(fd >= 0, "the link role saved no senders file");
	ssize_t n = read(fd, buf, cap);
	close(fd);
	check(n >= 0 && (size_t)n < cap, "senders file unreadable or too long");
	return (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t flen = strnlen((const char *)data, size);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0 && write(fd, data, flen) == (ssize_t)flen && close(fd) == 0,
	      "cannot write the senders file");

	struct linkrole *l = open_role();
	uint64_t now = 1000000000000ull;
	size_t off = flen < size ? flen + 1 : size;
	unsigned n = 0;
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off)
			len = size - off;
		uint8_t *pkt = malloc(len ? len : 1);
		check(pkt != NULL, "out of memory");
		memcpy(pkt, data + off, len);
		off += len;
		linkrole_packet(l, pkt, len, now);
		free(pkt);
		now += 1000000;
		if (++n % 100 == 0)
			linkrole_tick(l, now);
	}
	linkrole_tick(l, now + 30000000000ull);
	linkrole_free(l);

	static char a[64 << 10], b[64 << 10];
	size_t alen = read_state(a, sizeof(a));
	/* One line per pinned sender, whatever the file held. */
	size_t lines = 0;
	for (size_t i = 0; i < alen; i++)
		lines += a[i] == '\n';
	check(lines == 2 && a[alen - 1] == '\n', "saved file is not one line per pinned sender");
	linkrole_free(open_role());
	size_t blen = read_state(b, sizeof(b));
	check(alen == blen && memcmp(a, b, alen) == 0, "saved file changes when loaded and saved again");
	return 0;
}
