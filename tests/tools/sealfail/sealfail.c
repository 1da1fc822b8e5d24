/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test shim, LD_PRELOAD=build/libsealfail.so: makes the cipher of the process it is loaded
 * into fail when a test says so, to show what the sender does with a packet it cannot seal.
 *
 *   crypto_aead_aes256gcm_is_available (libsodium): 0, so the process picks
 *   ChaCha20-Poly1305, which Sluice seals through libgcrypt (libipsec-mb's calls cannot be
 *   interposed)
 *   gcry_cipher_gettag (libgcrypt): fails with GPG_ERR_INTERNAL, writing no tag, when the
 *   test asked for failures: the file named by $SLUICE_SEALFAIL holds "GEN COUNT [SKIP]";
 *   each time GEN changes, the next SKIP calls (default 0) succeed and the COUNT calls after
 *   them fail (from any thread)
 *
 * The file is opened once, when the shim is loaded (before any seccomp filter), and read with
 * pread(2) at each call; a read that does not parse (the test rewriting it) changes nothing.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <gcrypt.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fd = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long gen_seen;
static long to_skip, to_fail;
static gcry_error_t (*real_gettag)(gcry_cipher_hd_t, void *, size_t);

__attribute__((constructor)) static void load(void)
{
	const char *p = getenv("SLUICE_SEALFAIL");
	if (p)
		fd = open(p, O_RDONLY | O_CLOEXEC);
	real_gettag = (gcry_error_t(*)(gcry_cipher_hd_t, void *, size_t))dlsym(RTLD_NEXT, "gcry_cipher_gettag");
}

int crypto_aead_aes256gcm_is_available(void) { return 0; }

/* True when this call is to fail. */
static int failing(void)
{
	char buf[64];
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	long gen, count, skip = 0;
	int fail = 0;
	pthread_mutex_lock(&mu);
	if (n > 0) {
		buf[n] = 0;
		if (sscanf(buf, "%ld %ld %ld", &gen, &count, &skip) >= 2 && gen != gen_seen) {
			gen_seen = gen;
			to_fail = count;
			to_skip = skip;
		}
	}
	if (to_skip > 0)
		to_skip--;
	else if (to_fail > 0) {
		to_fail--;
		fail = 1;
	}
	pthread_mutex_unlock(&mu);
	return fail;
}

gcry_error_t gcry_cipher_gettag(gcry_cipher_hd_t h, void *tag, size_t len)
{
	if (failing() || !real_gettag)
		return gcry_error(GPG_ERR_INTERNAL); /* as a real failure: no tag written */
	return real_gettag(h, tag, len);
}
