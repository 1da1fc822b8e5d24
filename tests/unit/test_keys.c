/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/keys.{h,c}: key generation in a fresh mkdtemp directory (modes, one line each, the
 * documented prefixes), loading round trips for both roles, no overwriting, secrets readable
 * by group or others refused with a hint to chmod, malformed files, and keys_parse_line by
 * table. SLUICE_TEST_SEED=N repeats a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/keys.h"

#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static char tmpdir[256];

static int group_setup(void **state)
{
	const char *e = getenv("SLUICE_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("test_keys: seed %" PRIu64 " (SLUICE_TEST_SEED=%" PRIu64 " repeats this run)\n", seed,
	       seed);
	rng_state = seed;
	if (sodium_init() < 0)
		return -1;
	umask(022); /* the modes below are what keys_generate asks for, not what umask leaves */
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/sluice-test-keys-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char sub[1024];
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static int group_teardown(void **state)
{
	rm_rf(tmpdir);
	return 0;
}

/* A fresh subdirectory of the test directory per test. */
static void subdir(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
	rm_rf(out);
	assert_int_equal(mkdir(out, 0700), 0);
}

static void path_of(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static size_t read_all(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void write_line(const char *path, const char *prefix, const uint8_t *key, size_t keylen,
		       const char *suffix, mode_t mode)
{
	char line[512];
	size_t pl = strlen(prefix);
	memcpy(line, prefix, pl);
	sodium_bin2base64(line + pl, sizeof(line) - pl, key, keylen, B64V);
	strncat(line, suffix, sizeof(line) - strlen(line) - 1);
	write_file(path, line, strlen(line), mode);
}

/* One line: the prefix, 43 characters of unpadded base64url, a newline, nothing else. */
static void check_key_file(const char *path, const char *prefix, mode_t mode, uint8_t out[32])
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s: mode %04o, want %04o", path, (unsigned)(st.st_mode & 07777), (unsigned)mode);
	char buf[512];
	size_t n = read_all(path, buf, sizeof(buf));
	size_t pl = strlen(prefix);
	assert_int_equal(n, pl + 43 + 1);
	assert_memory_equal(buf, prefix, pl);
	assert_int_equal(buf[n - 1], '\n');
	assert_null(memchr(buf, '\n', n - 1));
	for (size_t i = pl; i < n - 1; i++) {
		char c = buf[i];
		assert_true((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_');
	}
	size_t got = 0;
	assert_int_equal(sodium_base642bin(out, 32, buf + pl, 43, NULL, &got, NULL, B64V), 0);
	assert_int_equal(got, 32);
}

static void test_generate_tx(void **state)
{
	char dir[512], kp[600], pp[600], err[256] = "";
	subdir(dir, sizeof(dir), "gen-tx");
	assert_int_equal(keys_generate(KEYS_TX, dir, err, sizeof(err)), 0);
	path_of(kp, sizeof(kp), dir, "tx.key");
	path_of(pp, sizeof(pp), dir, "tx.pub");
	uint8_t seed[32], pk_file[32];
	check_key_file(kp, "sluice-tx-key:", 0600, seed);
	check_key_file(pp, "sluice-tx-pub:", 0644, pk_file);
	/* the secret is the seed of the public key */
	uint8_t pk[32], sk[64];
	crypto_sign_seed_keypair(pk, sk, seed);
	assert_memory_equal(pk, pk_file, 32);

	struct keys_tx k;
	assert_int_equal(keys_load_tx(kp, &k, err, sizeof(err)), 0);
	assert_memory_equal(k.sign_pk, pk_file, 32);
	uint8_t pub[32];
	assert_int_equal(keys_load_public(KEYS_TX, pp, pub, err, sizeof(err)), 0);
	assert_memory_equal(pub, pk_file, 32);
	/* the loaded secret signs what the public file verifies */
	uint8_t sig[64], msg[100];
	rnd_bytes(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), k.sign_sk);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), pub), 0);
	msg[0] ^= 1;
	assert_int_not_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), pub), 0);
	/* the wrong role's public loader refuses it */
	assert_int_equal(keys_load_public(KEYS_RX, pp, pub, err, sizeof(err)), -EINVAL);
	keys_wipe(&k, sizeof(k));
	const uint8_t zero[sizeof(k)] = {0};
	assert_memory_equal(&k, zero, sizeof(k));
}

static void test_generate_rx(void **state)
{
	char dir[512], kp[600], pp[600], err[256] = "";
	subdir(dir, sizeof(dir), "gen-rx");
	assert_int_equal(keys_generate(KEYS_RX, dir, err, sizeof(err)), 0);
	path_of(kp, sizeof(kp), dir, "rx.key");
	path_of(pp, sizeof(pp), dir, "rx.pub");
	uint8_t sk_file[32], pk_file[32];
	check_key_file(kp, "sluice-rx-key:", 0600, sk_file);
	check_key_file(pp, "sluice-rx-pub:", 0644, pk_file);
	uint8_t pk[32];
	assert_int_equal(crypto_scalarmult_base(pk, sk_file), 0);
	assert_memory_equal(pk, pk_file, 32);

	struct keys_rx k;
	assert_int_equal(keys_load_rx(kp, &k, err, sizeof(err)), 0);
	assert_memory_equal(k.dh_sk, sk_file, 32);
	assert_memory_equal(k.dh_pk, pk_file, 32);
	uint8_t pub[32];
	assert_int_equal(keys_load_public(KEYS_RX, pp, pub, err, sizeof(err)), 0);
	assert_memory_equal(pub, pk_file, 32);
	/* a key exchange with the loaded pair agrees with the public file */
	uint8_t epk[32], esk[32], d1[32], d2[32];
	crypto_box_keypair(epk, esk);
	assert_int_equal(crypto_scalarmult(d1, esk, pub), 0);
	assert_int_equal(crypto_scalarmult(d2, k.dh_sk, epk), 0);
	assert_memory_equal(d1, d2, 32);
	/* a secret of the other role is refused with the expected prefix in the message */
	struct keys_tx kt;
	err[0] = '\0';
	assert_int_equal(keys_load_tx(kp, &kt, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sluice-tx-key:"));

	/* both roles in one directory */
	assert_int_equal(keys_generate(KEYS_TX, dir, err, sizeof(err)), 0);
	char tk[600];
	path_of(tk, sizeof(tk), dir, "tx.key");
	assert_int_equal(keys_load_tx(tk, &kt, err, sizeof(err)), 0);
}

/* keys_generate creates a missing directory, 0700. */
static void test_generate_mkdir(void **state)
{
	char dir[512], kp[600], err[256];
	snprintf(dir, sizeof(dir), "%s/new-dir", tmpdir);
	rm_rf(dir);
	assert_int_equal(keys_generate(KEYS_RX, dir, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	path_of(kp, sizeof(kp), dir, "rx.key");
	struct keys_rx k;
	assert_int_equal(keys_load_rx(kp, &k, err, sizeof(err)), 0);
	/* a parent that does not exist: an error, not a crash */
	snprintf(dir, sizeof(dir), "%s/no/such/parent", tmpdir);
	err[0] = '\0';
	assert_true(keys_generate(KEYS_RX, dir, err, sizeof(err)) < 0);
	assert_true(strlen(err) > 0);
}

static void test_no_overwrite(void **state)
{
	for (int role = KEYS_TX; role <= KEYS_RX; role++) {
		const char *kn = role == KEYS_TX ? "tx.key" : "rx.key";
		const char *pn = role == KEYS_TX ? "tx.pub" : "rx.pub";
		char dir[512], kp[600], pp[600], err[256];
		char before_k[512], before_p[512], after[512];
		subdir(dir, sizeof(dir), role == KEYS_TX ? "over-tx" : "over-rx");
		path_of(kp, sizeof(kp), dir, kn);
		path_of(pp, sizeof(pp), dir, pn);
		assert_int_equal(keys_generate((enum keys_role)role, dir, err, sizeof(err)), 0);
		read_all(kp, before_k, sizeof(before_k));
		read_all(pp, before_p, sizeof(before_p));
		err[0] = '\0';
		assert_int_equal(keys_generate((enum keys_role)role, dir, err, sizeof(err)), -EEXIST);
		assert_non_null(strstr(err, kn));
		read_all(kp, after, sizeof(after));
		assert_string_equal(after, before_k);
		read_all(pp, after, sizeof(after));
		assert_string_equal(after, before_p);

		/* Only the public file exists: it stays, and no secret is left behind without it. */
		assert_int_equal(unlink(kp), 0);
		err[0] = '\0';
		assert_int_equal(keys_generate((enum keys_role)role, dir, err, sizeof(err)), -EEXIST);
		assert_non_null(strstr(err, pn));
		assert_int_equal(access(kp, F_OK), -1);
		read_all(pp, after, sizeof(after));
		assert_string_equal(after, before_p);

		/* A symlink where the secret would go is not followed. */
		char target[600];
		path_of(target, sizeof(target), dir, "target");
		assert_int_equal(unlink(pp), 0);
		assert_int_equal(symlink(target, kp), 0);
		assert_true(keys_generate((enum keys_role)role, dir, err, sizeof(err)) < 0);
		assert_int_equal(access(target, F_OK), -1);
		unlink(kp);
	}
}

static void test_secret_modes(void **state)
{
	static const struct {
		mode_t mode;
		int want;
	} modes[] = {
		{0600, 0}, {0400, 0}, {0700, 0}, {0640, -EPERM}, {0604, -EPERM}, {0660, -EPERM},
		{0644, -EPERM}, {0606, -EPERM}, {0610, -EPERM}, {0601, -EPERM}, {0620, -EPERM},
		{0602, -EPERM}, {0666, -EPERM},
	};
	char dir[512], kp[600], err[256];
	subdir(dir, sizeof(dir), "modes");
	uint8_t secret[32];
	rnd_bytes(secret, sizeof(secret));
	for (int role = KEYS_TX; role <= KEYS_RX; role++) {
		path_of(kp, sizeof(kp), dir, role == KEYS_TX ? "tx.key" : "rx.key");
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			write_line(kp, role == KEYS_TX ? "sluice-tx-key:" : "sluice-rx-key:", secret, 32,
				   "\n", modes[i].mode);
			err[0] = '\0';
			int rc;
			if (role == KEYS_TX) {
				struct keys_tx k;
				rc = keys_load_tx(kp, &k, err, sizeof(err));
			} else {
				struct keys_rx k;
				rc = keys_load_rx(kp, &k, err, sizeof(err));
			}
			if (rc != modes[i].want)
				fail_msg("role %d mode %04o: got %d, want %d (%s)", role,
					 (unsigned)modes[i].mode, rc, modes[i].want, err);
			if (rc != 0 && !strstr(err, "chmod"))
				fail_msg("mode %04o: message does not mention chmod: %s",
					 (unsigned)modes[i].mode, err);
		}
	}
	/* Public keys may be readable by all. */
	char pp[600];
	path_of(pp, sizeof(pp), dir, "tx.pub");
	write_line(pp, "sluice-tx-pub:", secret, 32, "\n", 0666);
	uint8_t pk[32];
	assert_int_equal(keys_load_public(KEYS_TX, pp, pk, err, sizeof(err)), 0);
	assert_memory_equal(pk, secret, 32);
}

/* Files that must not load: content, and what the secret loader must say. */
static void test_malformed_files(void **state)
{
	char dir[512], kp[600], err[256];
	subdir(dir, sizeof(dir), "malformed");
	path_of(kp, sizeof(kp), dir, "rx.key");
	uint8_t key[33];
	rnd_bytes(key, sizeof(key));
	struct keys_rx k;
	static const struct {
		const char *what, *prefix;
		size_t keylen;
		const char *suffix;
		int ok;
	} cases[] = {
		{"valid with newline", "sluice-rx-key:", 32, "\n", 1},
		{"valid without newline", "sluice-rx-key:", 32, "", 1},
		{"wrong role prefix", "sluice-tx-key:", 32, "\n", 0},
		{"public prefix", "sluice-rx-pub:", 32, "\n", 0},
		{"no prefix", "", 32, "\n", 0},
		{"prefix without colon", "sluice-rx-key", 32, "\n", 0},
		{"upper-case prefix", "SLUICE-RX-KEY:", 32, "\n", 0},
		{"short key", "sluice-rx-key:", 31, "\n", 0},
		{"long key", "sluice-rx-key:", 33, "\n", 0},
		{"empty key", "sluice-rx-key:", 0, "\n", 0},
		{"trailing garbage", "sluice-rx-key:", 32, "x\n", 0},
		{"trailing space", "sluice-rx-key:", 32, " \n", 0},
		{"second line", "sluice-rx-key:", 32, "\nsecond\n", 0},
		{"blank second line", "sluice-rx-key:", 32, "\n\n", 0},
		{"CRLF", "sluice-rx-key:", 32, "\r\n", 0},
		{"padding", "sluice-rx-key:", 32, "=\n", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_line(kp, cases[i].prefix, key, cases[i].keylen, cases[i].suffix, 0600);
		err[0] = '\0';
		int rc = keys_load_rx(kp, &k, err, sizeof(err));
		if (cases[i].ok ? rc != 0 : rc != -EINVAL)
			fail_msg("%s: got %d (%s)", cases[i].what, rc, err);
		if (rc == 0)
			assert_memory_equal(k.dh_sk, key, 32);
		else
			assert_true(strlen(err) > 0);
	}
	/* Bytes that are not base64url: a key of the right length with one character replaced. */
	static const char bad_chars[] = "+/=.!* \t\x01\x7f";
	char line[128];
	strcpy(line, "sluice-rx-key:");
	sodium_bin2base64(line + 14, sizeof(line) - 14, key, 32, B64V);
	for (size_t i = 0; i < sizeof(bad_chars) - 1; i++) {
		for (size_t pos = 14; pos < 14 + 43; pos += 14) {
			char l2[128];
			strcpy(l2, line);
			l2[pos] = bad_chars[i];
			write_file(kp, l2, strlen(l2), 0600);
			int rc = keys_load_rx(kp, &k, err, sizeof(err));
			if (rc != -EINVAL)
				fail_msg("character 0x%02x at %zu of the key: got %d",
					 (unsigned char)bad_chars[i], pos - 14, rc);
		}
	}
	/* Empty file, oversized file, a directory, a missing file, a symlink. */
	write_file(kp, "", 0, 0600);
	assert_int_equal(keys_load_rx(kp, &k, err, sizeof(err)), -EINVAL);
	char big[4096];
	memset(big, 'A', sizeof(big));
	memcpy(big, "sluice-rx-key:", 14);
	write_file(kp, big, sizeof(big), 0600);
	assert_int_equal(keys_load_rx(kp, &k, err, sizeof(err)), -EINVAL);
	unlink(kp);
	assert_int_equal(keys_load_rx(kp, &k, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, kp));
	assert_int_equal(mkdir(kp, 0700), 0);
	assert_true(keys_load_rx(kp, &k, err, sizeof(err)) < 0);
	rmdir(kp);
	char real[600];
	path_of(real, sizeof(real), dir, "real.key");
	write_line(real, "sluice-rx-key:", key, 32, "\n", 0600);
	assert_int_equal(symlink(real, kp), 0);
	assert_true(keys_load_rx(kp, &k, err, sizeof(err)) < 0);
	unlink(kp);
	/* NULL err: still an error code, no crash */
	assert_int_equal(keys_load_rx(kp, &k, NULL, 0), -ENOENT);
}

static void test_parse_line(void **state)
{
	uint8_t key[32];
	rnd_bytes(key, sizeof(key));
	char b64[64];
	sodium_bin2base64(b64, sizeof(b64), key, 32, B64V);
	assert_int_equal(strlen(b64), 43);
	char std[64]; /* the same bytes in standard base64, with padding */
	sodium_bin2base64(std, sizeof(std), key, 32, sodium_base64_VARIANT_ORIGINAL);
	const char *P = "sluice-tx-pub:";
	struct {
		const char *what;
		char line[160];
		const char *prefix;
		size_t outlen;
		int ok;
	} cases[] = {
		{"plain", "", "sluice-tx-pub:", 32, 1},
		{"newline", "", "sluice-tx-pub:", 32, 1},
		{"CR LF", "", "sluice-tx-pub:", 32, 0},
		{"CR", "", "sluice-tx-pub:", 32, 0},
		{"two newlines", "", "sluice-tx-pub:", 32, 0},
		{"newline then text", "", "sluice-tx-pub:", 32, 0},
		{"leading space", "", "sluice-tx-pub:", 32, 0},
		{"space after colon", "", "sluice-tx-pub:", 32, 0},
		{"other prefix", "", "sluice-rx-pub:", 32, 0},
		{"empty line", "", "sluice-tx-pub:", 32, 0},
		{"prefix only", "", "sluice-tx-pub:", 32, 0},
		{"prefix and newline", "", "sluice-tx-pub:", 32, 0},
		{"one character short", "", "sluice-tx-pub:", 32, 0},
		{"one character long", "", "sluice-tx-pub:", 32, 0},
		{"standard base64 with padding", "", "sluice-tx-pub:", 32, 0},
		{"wants 31 bytes", "", "sluice-tx-pub:", 31, 0},
		{"wants 33 bytes", "", "sluice-tx-pub:", 33, 0},
		{"empty prefix, bare key", "", "", 32, 1},
	};
	snprintf(cases[0].line, 160, "%s%s", P, b64);
	snprintf(cases[1].line, 160, "%s%s\n", P, b64);
	snprintf(cases[2].line, 160, "%s%s\r\n", P, b64);
	snprintf(cases[3].line, 160, "%s%s\r", P, b64);
	snprintf(cases[4].line, 160, "%s%s\n\n", P, b64);
	snprintf(cases[5].line, 160, "%s%s\nx", P, b64);
	snprintf(cases[6].line, 160, " %s%s", P, b64);
	snprintf(cases[7].line, 160, "%s %s", P, b64);
	snprintf(cases[8].line, 160, "%s%s", P, b64);
	snprintf(cases[9].line, 160, "%s", "");
	snprintf(cases[10].line, 160, "%s", P);
	snprintf(cases[11].line, 160, "%s\n", P);
	snprintf(cases[12].line, 160, "%s%.42s", P, b64);
	snprintf(cases[13].line, 160, "%s%sA", P, b64);
	snprintf(cases[14].line, 160, "%s%s", P, std);
	snprintf(cases[15].line, 160, "%s%s", P, b64);
	snprintf(cases[16].line, 160, "%s%s", P, b64);
	snprintf(cases[17].line, 160, "%s", b64);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[33];
		memset(out, 0, sizeof(out));
		int rc = keys_parse_line(cases[i].line, cases[i].prefix, out, cases[i].outlen);
		if (cases[i].ok ? rc != 0 : rc != -EINVAL)
			fail_msg("%s: \"%s\": got %d", cases[i].what, cases[i].line, rc);
		if (rc == 0)
			assert_memory_equal(out, key, 32);
	}
	/* Random keys of every role round-trip through the encoder used for the files. */
	static const char *const prefixes[] = {"sluice-tx-pub:", "sluice-tx-key:", "sluice-rx-pub:",
					       "sluice-rx-key:"};
	for (int n = 0; n < 1000; n++) {
		uint8_t k[32], out[32];
		rnd_bytes(k, 32);
		char line[128];
		const char *pre = prefixes[n % 4];
		strcpy(line, pre);
		sodium_bin2base64(line + strlen(pre), sizeof(line) - strlen(pre), k, 32, B64V);
		assert_int_equal(keys_parse_line(line, pre, out, 32), 0);
		assert_memory_equal(out, k, 32);
		assert_int_equal(keys_parse_line(line, prefixes[(n + 1) % 4], out, 32), -EINVAL);
	}
}

/*
 * Bytes outside ASCII in place of a base64url character, and bytes after a NUL. Both fail
 * today: libsodium 1.0.18's sodium_base642bin() decodes any byte >= 0x80 as if it were a
 * valid character (a UTF-8 letter pasted into a key silently yields another key), and the
 * file loader parses the file as a C string, so "key\n\0anything" loads.
 */
static void test_strict_bytes(void **state)
{
	uint8_t key[32], out[32];
	rnd_bytes(key, sizeof(key));
	char line[128];
	strcpy(line, "sluice-rx-key:");
	sodium_bin2base64(line + 14, sizeof(line) - 14, key, 32, B64V);
	static const unsigned char high[] = {0x80, 0xa9, 0xc3, 0xff};
	for (size_t i = 0; i < sizeof(high); i++) {
		char l2[128];
		strcpy(l2, line);
		l2[14 + 5] = (char)high[i];
		int rc = keys_parse_line(l2, "sluice-rx-key:", out, 32);
		if (rc != -EINVAL)
			fail_msg("byte 0x%02x inside the base64 accepted (%d)", high[i], rc);
	}
	char dir[512], kp[600], err[256];
	subdir(dir, sizeof(dir), "strict");
	path_of(kp, sizeof(kp), dir, "rx.key");
	char buf[160];
	size_t n = strlen(line);
	memcpy(buf, line, n);
	memcpy(buf + n, "\n\0garbage\n", 10);
	write_file(kp, buf, n + 10, 0600);
	struct keys_rx k;
	int rc = keys_load_rx(kp, &k, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("a key file with bytes after a NUL loads (%d)", rc);
}

static void test_fingerprint(void **state)
{
	for (int n = 0; n < 50; n++) {
		uint8_t pk[32], h[32];
		rnd_bytes(pk, 32);
		char fp[17], want[17];
		memset(fp, 'z', sizeof(fp));
		keys_fingerprint(pk, fp);
		crypto_hash_sha256(h, pk, 32);
		sodium_bin2hex(want, sizeof(want), h, 8);
		assert_string_equal(fp, want);
		assert_int_equal(strlen(fp), 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_tx),
		cmocka_unit_test(test_generate_rx),
		cmocka_unit_test(test_generate_mkdir),
		cmocka_unit_test(test_no_overwrite),
		cmocka_unit_test(test_secret_modes),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_strict_bytes),
		cmocka_unit_test(test_fingerprint),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
