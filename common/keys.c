/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING

void keys_wipe(void *p, size_t n) { sodium_memzero(p, n); }

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc,
							const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int write_line(const char *dir, const char *name, const char *prefix, const uint8_t *key,
		      size_t keylen, mode_t mode, char *err, size_t errlen)
{
	char path[4096], line[256];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return fail(err, errlen, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	size_t pl = strlen(prefix);
	memcpy(line, prefix, pl);
	sodium_bin2base64(line + pl, sizeof(line) - pl - 1, key, keylen, B64V);
	size_t n = strlen(line);
	line[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		int e = errno;
		sodium_memzero(line, sizeof(line));
		return fail(err, errlen, -e, "%s: %s", path, strerror(e));
	}
	ssize_t w = write(fd, line, n);
	int e = errno;
	sodium_memzero(line, sizeof(line));
	if (w != (ssize_t)n || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return fail(err, errlen, -(w < 0 ? e : EIO), "%s: write failed: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int keys_generate(enum keys_role role, const char *dir, char *err, size_t errlen)
{
	if (sodium_init() < 0)
		return fail(err, errlen, -EIO, "libsodium failed to initialise");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	const char *kname = role == KEYS_TX ? "tx.key" : "rx.key";
	const char *pname = role == KEYS_TX ? "tx.pub" : "rx.pub";
	uint8_t sk[64], pk[32], seed[32];
	int rc;
	if (role == KEYS_TX) {
		randombytes_buf(seed, sizeof(seed));
		crypto_sign_seed_keypair(pk, sk, seed);
		rc = write_line(dir, kname, "sluice-tx-key:", seed, 32, 0600, err, errlen);
	} else {
		crypto_box_keypair(pk, sk);
		rc = write_line(dir, kname, "sluice-rx-key:", sk, 32, 0600, err, errlen);
	}
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0)
		return rc;
	rc = write_line(dir, pname, role == KEYS_TX ? "sluice-tx-pub:" : "sluice-rx-pub:", pk, 32,
			0644, err, errlen);
	if (rc != 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, kname);
		unlink(path);
	}
	return rc;
}

int keys_parse_line(const char *line, const char *prefix, uint8_t *out, size_t outlen)
{
	size_t pl = strlen(prefix);
	if (strncmp(line, prefix, pl) != 0)
		return -EINVAL;
	const char *b = line + pl;
	size_t bl = strcspn(b, "\r\n");
	if (b[bl] == '\r')
		return -EINVAL;
	if (b[bl] == '\n' && b[bl + 1] != '\0')
		return -EINVAL;
	/* libsodium 1.0.18 decodes bytes >= 0x80 as if valid: check the alphabet first. */
	for (size_t i = 0; i < bl; i++) {
		char c = b[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_'))
			return -EINVAL;
	}
	size_t got = 0;
	const char *end = NULL;
	if (sodium_base642bin(out, outlen, b, bl, NULL, &got, &end, B64V) != 0 || got != outlen ||
	    end != b + bl)
		return -EINVAL;
	return 0;
}

/* Reads a key file of at most 255 bytes; secret files must not be accessible to others. */
static int read_key_file(const char *path, bool secret, char *buf, size_t cap, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, -EINVAL, "%s: %s", path, "not a regular file");
	}
	if (secret && (st.st_mode & 077)) {
		close(fd);
		return fail(err, errlen, -EPERM, "%s: %s", path,
			    "secret key is accessible to group or others (chmod 600)");
	}
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return fail(err, errlen, -e, "%s: %s", path, strerror(e));
	if ((size_t)n == cap - 1)
		return fail(err, errlen, -EINVAL, "%s: %s", path, "key file too long");
	if (memchr(buf, '\0', (size_t)n))
		return fail(err, errlen, -EINVAL, "%s: %s", path, "key file contains a NUL byte");
	buf[n] = '\0';
	return 0;
}

static int load(const char *path, bool secret, const char *prefix, uint8_t *out, size_t outlen,
		char *err, size_t errlen)
{
	char buf[256];
	int rc = read_key_file(path, secret, buf, sizeof(buf), err, errlen);
	if (rc == 0 && keys_parse_line(buf, prefix, out, outlen) != 0)
		rc = fail(err, errlen, -EINVAL, "%s: not a key of this kind (expected '%s...')", path, prefix);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int keys_load_tx(const char *path, struct keys_tx *k, char *err, size_t errlen)
{
	uint8_t seed[32];
	if (sodium_init() < 0)
		return -EIO;
	int rc = load(path, true, "sluice-tx-key:", seed, 32, err, errlen);
	if (rc == 0)
		crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

int keys_load_rx(const char *path, struct keys_rx *k, char *err, size_t errlen)
{
	if (sodium_init() < 0)
		return -EIO;
	int rc = load(path, true, "sluice-rx-key:", k->dh_sk, 32, err, errlen);
	if (rc == 0)
		crypto_scalarmult_base(k->dh_pk, k->dh_sk);
	return rc;
}

int keys_load_public(enum keys_role role, const char *path, uint8_t pk[32], char *err, size_t errlen)
{
	return load(path, false, role == KEYS_TX ? "sluice-tx-pub:" : "sluice-rx-pub:", pk, 32, err,
		    errlen);
}

void keys_fingerprint(const uint8_t pk[32], char out[17])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, pk, 32);
	sodium_bin2hex(out, 17, h, 8);
}
