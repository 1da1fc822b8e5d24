/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For fuzz targets whose every input opens a session (fuzz_linkrole, fuzz_evict,
 * fuzz_senders_state) or signs manifests (fuzz_deliver): libsodium's public-key operations,
 * memoised. Each input makes a link role anew, so the same few announcements are verified and the
 * same keys derived again and again: half of the run time went to it. These definitions take the
 * place of libsodium's (the executable's symbols come first) and call the real ones through
 * dlsym(RTLD_NEXT) on a miss; the answers are pure functions of the arguments, compared whole, so
 * the code under test sees exactly what libsodium would say. The tables are large and hashed (a
 * mutated input mostly signs the announcements of the input it came from), and a signature made
 * here answers its own verification: fuzz_evict signs an announcement of its own at every ANNOUNCE
 * operation and spent half its time signing and verifying them. Include once, in the target's .c.
 */
#ifndef SLUICE_FUZZ_SODIUM_MEMO_H
#define SLUICE_FUZZ_SODIUM_MEMO_H

#include <dlfcn.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MEMO_SLOTS /* a target may define more, before the #include */
#define MEMO_SLOTS 4096 /* a power of two */
#endif
#define MEMO_MSG_MAX 512

/* Not instrumented: the memo's own branches are no coverage of the code under test. */
#define MEMO_FN static __attribute__((no_sanitize("coverage")))

MEMO_FN void *memo_real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f) {
		fprintf(stderr, "sodium_memo: %s not found\n", name);
		abort();
	}
	return f;
}

/* A slot: the arguments in, the result out. */
struct memo_slot {
	int used, rc;
	size_t inlen;
	unsigned char in[32 + 64 + MEMO_MSG_MAX];
	unsigned char out[64];
};

/* A table indexed by a hash of the arguments (FNV-1a), the newest answer in each slot; the
 * arguments are compared whole. */
struct memo {
	struct memo_slot s[MEMO_SLOTS];
};

MEMO_FN size_t memo_index(const unsigned char *in, size_t inlen)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < inlen; i++)
		h = (h ^ in[i]) * 0x100000001b3ull;
	return (size_t)(h ^ h >> 29) & (MEMO_SLOTS - 1);
}

MEMO_FN struct memo_slot *memo_find(struct memo *m, const unsigned char *in, size_t inlen)
{
	struct memo_slot *s = &m->s[memo_index(in, inlen)];
	return s->used && s->inlen == inlen && memcmp(s->in, in, inlen) == 0 ? s : NULL;
}

MEMO_FN void memo_put(struct memo *m, const unsigned char *in, size_t inlen, int rc,
		      const unsigned char *out, size_t outlen)
{
	struct memo_slot *s = &m->s[memo_index(in, inlen)];
	s->used = 1;
	s->rc = rc;
	s->inlen = inlen;
	memcpy(s->in, in, inlen);
	if (outlen)
		memcpy(s->out, out, outlen);
}

/* Two 32-byte arguments to a 32-byte result. */
MEMO_FN int memo_2x32(struct memo *m, const char *name, unsigned char *q, const unsigned char *a,
		     const unsigned char *b)
{
	static int (*real[2])(unsigned char *, const unsigned char *, const unsigned char *);
	unsigned char in[64];
	memcpy(in, a, 32);
	memcpy(in + 32, b, 32);
	struct memo_slot *s = memo_find(m, in, sizeof(in));
	if (s) {
		memcpy(q, s->out, 32);
		return s->rc;
	}
	int i = strcmp(name, "crypto_scalarmult") == 0;
	if (!real[i])
		real[i] = (int (*)(unsigned char *, const unsigned char *, const unsigned char *))memo_real(name);
	int rc = real[i](q, a, b);
	memo_put(m, in, sizeof(in), rc, q, 32);
	return rc;
}

__attribute__((no_sanitize("coverage")))
int crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p)
{
	static struct memo m;
	return memo_2x32(&m, "crypto_scalarmult", q, n, p);
}

__attribute__((no_sanitize("coverage")))
int crypto_scalarmult_curve25519(unsigned char *q, const unsigned char *n, const unsigned char *p)
{
	static struct memo m;
	return memo_2x32(&m, "crypto_scalarmult_curve25519", q, n, p);
}

__attribute__((no_sanitize("coverage")))
int crypto_sign_ed25519_pk_to_curve25519(unsigned char *curve25519_pk,
					 const unsigned char *ed25519_pk)
{
	static struct memo m;
	static int (*real)(unsigned char *, const unsigned char *);
	struct memo_slot *s = memo_find(&m, ed25519_pk, 32);
	if (s) {
		memcpy(curve25519_pk, s->out, 32);
		return s->rc;
	}
	if (!real)
		real = (int (*)(unsigned char *, const unsigned char *))memo_real(
			"crypto_sign_ed25519_pk_to_curve25519");
	int rc = real(curve25519_pk, ed25519_pk);
	memo_put(&m, ed25519_pk, 32, rc, curve25519_pk, 32);
	return rc;
}

/* Verifications: pk, signature, message -> rc. A signature made here (crypto_sign_detached
 * below, with a libsodium secret key: seed then public key) is entered as verifying under that
 * public key, which is what Ed25519 answers; an announcement a target signs is then verified
 * without the curve arithmetic. */
static struct memo memo_verify;

__attribute__((no_sanitize("coverage")))
int crypto_sign_verify_detached(const unsigned char *sig, const unsigned char *msg,
				unsigned long long mlen, const unsigned char *pk)
{
	static int (*real)(const unsigned char *, const unsigned char *, unsigned long long,
			   const unsigned char *);
	if (!real)
		real = (int (*)(const unsigned char *, const unsigned char *, unsigned long long,
				const unsigned char *))memo_real("crypto_sign_verify_detached");
	if (mlen > MEMO_MSG_MAX)
		return real(sig, msg, mlen, pk);
	unsigned char in[32 + 64 + MEMO_MSG_MAX];
	memcpy(in, pk, 32);
	memcpy(in + 32, sig, 64);
	memcpy(in + 96, msg, (size_t)mlen);
	struct memo_slot *s = memo_find(&memo_verify, in, 96 + (size_t)mlen);
	if (s)
		return s->rc;
	int rc = real(sig, msg, mlen, pk);
	memo_put(&memo_verify, in, 96 + (size_t)mlen, rc, NULL, 0);
	return rc;
}

__attribute__((no_sanitize("coverage")))
int crypto_sign_detached(unsigned char *sig, unsigned long long *siglen_p, const unsigned char *msg,
			 unsigned long long mlen, const unsigned char *sk)
{
	static struct memo m;
	static int (*real)(unsigned char *, unsigned long long *, const unsigned char *,
			   unsigned long long, const unsigned char *);
	if (!real)
		real = (int (*)(unsigned char *, unsigned long long *, const unsigned char *,
				unsigned long long, const unsigned char *))memo_real("crypto_sign_detached");
	if (mlen > MEMO_MSG_MAX)
		return real(sig, siglen_p, msg, mlen, sk);
	unsigned char in[64 + MEMO_MSG_MAX];
	memcpy(in, sk, 64);
	memcpy(in + 64, msg, (size_t)mlen);
	struct memo_slot *s = memo_find(&m, in, 64 + (size_t)mlen);
	if (s) {
		memcpy(sig, s->out, 64);
	} else {
		int rc = real(sig, NULL, msg, mlen, sk);
		if (rc != 0)
			return rc;
		memo_put(&m, in, 64 + (size_t)mlen, rc, sig, 64);
	}
	unsigned char v[32 + 64 + MEMO_MSG_MAX];
	memcpy(v, sk + 32, 32);
	memcpy(v + 32, sig, 64);
	memcpy(v + 96, msg, (size_t)mlen);
	if (!memo_find(&memo_verify, v, 96 + (size_t)mlen))
		memo_put(&memo_verify, v, 96 + (size_t)mlen, 0, NULL, 0);
	if (siglen_p)
		*siglen_p = 64;
	return 0;
}

#endif
