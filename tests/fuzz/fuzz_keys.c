/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for common/keys.c: keys_parse_line and the key-file loaders on hostile text
 * (a key file is carried by hand across the diode; rx pins whatever tx.pub says). Input:
 *
 *   +--------+---------------------------------------------+
 *   | mode   | the file's bytes (NULs and all)             |
 *   +--------+---------------------------------------------+
 *     mode & 3: tx.key, rx.key, tx.pub, rx.pub (the loader and prefix used)
 *     mode & 4: the file is 0644 rather than 0600 (a secret file must then be refused)
 *
 * keys_parse_line runs on the text up to its first NUL. When it accepts, the line must be
 * exactly prefix + base64url (no padding) of the 32 bytes it returned, with at most one LF
 * after it: a key has one spelling. The file is written to one temp folder made once (in
 * /dev/shm, a tmpfs, when there is one), and loaded; the loader must accept exactly when the
 * file is under 255 bytes, has no NUL, is not a secret readable by others, and
 * keys_parse_line accepts it; what it returns must be the parsed key (and, for tx.key, the
 * Ed25519 pair of that seed; for rx.key, the X25519 public key of that secret). A refusal must come with a message that names the file.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/dev/shm/sluice-fuzz-keys-XXXXXX";
static char path[sizeof(dir) + 16];

static const char *const prefixes[4] = {"sluice-tx-key:", "sluice-rx-key:", "sluice-tx-pub:",
					"sluice-rx-pub:"};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_keys: %s\n", what);
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
	if (!mkdtemp(dir)) { /* no /dev/shm: the same in /tmp */
		snprintf(dir, sizeof(dir), "/tmp/sluice-fuzz-keys-XXXXXX");
		check(mkdtemp(dir) != NULL, "mkdtemp failed");
	}
	snprintf(path, sizeof(path), "%s/key", dir);
	atexit(cleanup);
	return 0;
}

/* The one spelling of key under prefix, into out (NUL-terminated). */
static void spell(const char *prefix, const uint8_t key[32], char *out, size_t cap)
{
	size_t pl = strlen(prefix);
	memcpy(out, prefix, pl);
	sodium_bin2base64(out + pl, cap - pl, key, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	unsigned kind = data[0] & 3;
	bool open_mode = data[0] & 4, secret = kind < 2;
	const char *prefix = prefixes[kind];
	const uint8_t *text = data + 1;
	size_t tlen = size - 1;

	char *line = malloc(tlen + 1);
	check(line != NULL, "malloc");
	memcpy(line, text, tlen);
	line[tlen] = '\0';
	uint8_t key[32];
	bool parsed = keys_parse_line(line, prefix, key, sizeof(key)) == 0;
	if (parsed) {
		char want[128];
		spell(prefix, key, want, sizeof(want));
		size_t wl = strlen(want), ll = strlen(line);
		check((ll == wl || (ll == wl + 1 && line[wl] == '\n')) && memcmp(line, want, wl) == 0,
		      "a key accepted under a spelling other than its own");
	}
	/* The other length keys_parse_line is asked for (none today, but the API takes any). */
	uint8_t k16[16];
	if (keys_parse_line(line, prefix, k16, sizeof(k16)) == 0)
		check(!parsed, "the same line parsed as 16 and as 32 bytes");
	free(line);

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0, "open");
	check(fchmod(fd, open_mode ? 0644 : 0600) == 0, "fchmod");
	check(tlen == 0 || write(fd, text, tlen) == (ssize_t)tlen, "write");
	close(fd);

	bool want_ok = tlen < 255 && !memchr(text, '\0', tlen) && parsed && !(secret && open_mode);
	char err[512] = "";
	uint8_t got[32];
	int rc;
	if (kind == 0) {
		struct keys_tx k;
		rc = keys_load_tx(path, &k, err, sizeof(err));
		if (rc == 0) {
			uint8_t pk[32], sk[64];
			crypto_sign_seed_keypair(pk, sk, key);
			check(memcmp(k.sign_sk, sk, 64) == 0 && memcmp(k.sign_pk, pk, 32) == 0,
			      "tx.key: a pair other than the seed's");
			memcpy(got, key, 32);
		}
	} else if (kind == 1) {
		struct keys_rx k;
		rc = keys_load_rx(path, &k, err, sizeof(err));
		if (rc == 0) {
			uint8_t pk[32];
			crypto_scalarmult_base(pk, k.dh_sk);
			check(memcmp(k.dh_pk, pk, 32) == 0, "rx.key: a public key not the secret's");
			memcpy(got, k.dh_sk, 32);
		}
	} else {
		rc = keys_load_public(kind == 2 ? KEYS_TX : KEYS_RX, path, got, err, sizeof(err));
	}
	check((rc == 0) == want_ok, want_ok ? "a good key file refused" : "a bad key file accepted");
	if (rc == 0)
		check(memcmp(got, key, 32) == 0, "the loader returned another key than the line's");
	else
		check(rc < 0 && strncmp(err, path, strlen(path)) == 0,
		      "a refusal without a message naming the file");
	return 0;
}
