/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* Session key derivation and per-packet AEAD. HKDF through OpenSSL; libsodium for X25519.
 * The bulk cipher, by measurement (bench/crypto_bench prints each):
 * - AES-256-GCM through Intel's multi-buffer crypto library (libipsec-mb, x86-64 builds, a CPU
 *   with AES-NI): its VAES/AVX-512 code seals a 1408-byte packet about twice as fast as
 *   libgcrypt and 2.5 times as fast as OpenSSL 3's EVP, whose per-packet parameter lookups
 *   cost a third of its time;
 * - otherwise, and for ChaCha20-Poly1305, libgcrypt. */
#include "common/session.h"

#include <errno.h>
#include <gcrypt.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "common/wire.h"

#ifdef SLUICE_IPSEC_MB
#define NO_COMPAT_IMB_API_053 /* its old names clash with OpenSSL's SHA1() and others */
#include <intel-ipsec-mb.h>
#endif

uint8_t session_best_aead(void)
{
	if (sodium_init() >= 0 && crypto_aead_aes256gcm_is_available())
		return WIRE_AEAD_AES256GCM;
	return WIRE_AEAD_CHACHA20POLY1305;
}

static int hkdf(int mode, const uint8_t *salt, size_t saltlen, const uint8_t *key, size_t keylen,
		const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -EIO;
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return -ENOMEM;
	OSSL_PARAM params[6], *p = params;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
	if (salt)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	if (info)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
	*p = OSSL_PARAM_construct_end();
	int rc = EVP_KDF_derive(ctx, out, outlen, params) == 1 ? 0 : -EIO;
	EVP_KDF_CTX_free(ctx);
	return rc;
}

static int derive(struct session_secret *s, const uint8_t dh[32], const uint8_t eph_pk[32],
		  const uint8_t rx_pk[32], const uint8_t tx_sign_pk[32], uint64_t session, uint8_t aead)
{
	static const char salt_label[] = "sluice-v1 session", ikm_label[] = "sluice-v1 dh";
	uint8_t salt[sizeof(salt_label) - 1 + 32 + 8];
	uint8_t ikm[sizeof(ikm_label) - 1 + 96];
	memcpy(salt, salt_label, sizeof(salt_label) - 1);
	memcpy(salt + sizeof(salt_label) - 1, tx_sign_pk, 32);
	le64_write(salt + sizeof(salt_label) - 1 + 32, session);
	memcpy(ikm, ikm_label, sizeof(ikm_label) - 1);
	memcpy(ikm + sizeof(ikm_label) - 1, dh, 32);
	memcpy(ikm + sizeof(ikm_label) - 1 + 32, eph_pk, 32);
	memcpy(ikm + sizeof(ikm_label) - 1 + 64, rx_pk, 32);
	s->aead = aead;
	int rc = hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, sizeof(salt), ikm, sizeof(ikm), NULL, 0,
		      s->prk, sizeof(s->prk));
	sodium_memzero(ikm, sizeof(ikm));
	return rc;
}

int session_tx_derive(struct session_secret *s, uint8_t eph_pk[32], const uint8_t rx_pk[32],
		      const uint8_t tx_sign_pk[32], uint64_t session, uint8_t aead)
{
	uint8_t eph_sk[32], dh[32];
	if (sodium_init() < 0)
		return -EIO;
	crypto_box_keypair(eph_pk, eph_sk);
	int rc = crypto_scalarmult(dh, eph_sk, rx_pk) == 0 ? 0 : -EINVAL;
	sodium_memzero(eph_sk, sizeof(eph_sk));
	if (rc == 0)
		rc = derive(s, dh, eph_pk, rx_pk, tx_sign_pk, session, aead);
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

int session_rx_derive(struct session_secret *s, const uint8_t eph_pk[32], const uint8_t rx_sk[32],
		      const uint8_t rx_pk[32], const uint8_t tx_sign_pk[32], uint64_t session,
		      uint8_t aead)
{
	uint8_t dh[32];
	if (sodium_init() < 0)
		return -EIO;
	if (aead != WIRE_AEAD_AES256GCM && aead != WIRE_AEAD_CHACHA20POLY1305)
		return -EINVAL;
	int rc = crypto_scalarmult(dh, rx_sk, eph_pk) == 0 ? 0 : -EINVAL;
	if (rc == 0)
		rc = derive(s, dh, eph_pk, rx_pk, tx_sign_pk, session, aead);
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

void session_secret_wipe(struct session_secret *s) { sodium_memzero(s, sizeof(*s)); }

static pthread_once_t gcrypt_once = PTHREAD_ONCE_INIT;
static int gcrypt_ok;

/* libgcrypt wants its version check first and once, before any thread uses it; no secure
 * memory (it would mlock a pool; keys here live as long as a session and are wiped). */
static void gcrypt_init(void)
{
	if (!gcry_check_version(GCRYPT_VERSION))
		return;
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	gcrypt_ok = 1;
}

static int gcrypt_ready(void)
{
	pthread_once(&gcrypt_once, gcrypt_init);
	return gcrypt_ok;
}

#ifdef SLUICE_IPSEC_MB
/* Only the direct GCM functions are used: the manager is a table of function pointers chosen
 * for the CPU, read-only once set, so every thread shares it. */
static IMB_MGR *imb;
static pthread_once_t imb_once = PTHREAD_ONCE_INIT;

static void imb_init(void)
{
	IMB_MGR *m = alloc_mb_mgr(0);
	if (!m)
		return;
	IMB_ARCH arch = IMB_ARCH_NONE;
	init_mb_mgr_auto(m, &arch);
	if (arch < IMB_ARCH_SSE) { /* no AES-NI: libgcrypt instead */
		free_mb_mgr(m);
		return;
	}
	imb = m;
}
#endif

static int portable_only;
void aead_portable_only(int on) { portable_only = on; }

static int use_imb(uint8_t aead)
{
#ifdef SLUICE_IPSEC_MB
	if (aead != WIRE_AEAD_AES256GCM || portable_only)
		return 0;
	pthread_once(&imb_once, imb_init);
	return imb != NULL;
#else
	(void)aead;
	return 0;
#endif
}

const char *aead_impl(uint8_t aead) { return use_imb(aead) ? "libipsec-mb" : "libgcrypt"; }

int session_crypto_load(char *err, size_t errlen)
{
	(void)use_imb(WIRE_AEAD_AES256GCM); /* its manager is made now, not under the filter */
	if (!gcrypt_ready()) {
		snprintf(err, errlen, "libgcrypt: the library is older than the headers built against "
				      "(%s)",
			 GCRYPT_VERSION);
		return -EIO;
	}
	snprintf(err, errlen, "OpenSSL: cannot load HKDF (check OPENSSL_CONF)");
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		return -EIO;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_MD *sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	int rc = kdf && sha ? 0 : -EIO;
	EVP_KDF_free(kdf);
	EVP_MD_free(sha);
	return rc;
}

/* Keys of the last AEAD_EPOCHS epochs used are kept: a jump back to one of them (late packets
 * of the old epoch after a boundary, or forged packets naming another epoch) derives nothing. */
#define AEAD_EPOCHS 4

struct aead_epoch {
#ifdef SLUICE_IPSEC_MB
	struct gcm_key_data gcm; /* its key schedule and hash keys (64-byte aligned) */
#endif
	uint64_t epoch; /* UINT64_MAX: empty */
	uint64_t used;  /* a->tick when last used: the least recently used is replaced */
	uint8_t key[32]; /* libgcrypt: set on the handles when this epoch is switched to */
	uint8_t iv[12];
};

struct aead {
	struct aead_epoch e[AEAD_EPOCHS];
	struct aead_epoch *cur; /* the epoch last used, or NULL */
	int fast;		 /* through libipsec-mb */
	gcry_cipher_hd_t enc, dec; /* otherwise; one key at a time, */
	uint64_t keyed;		   /* this epoch's (UINT64_MAX: none) */
	struct session_secret secret;
	uint64_t tick, derivations;
};

struct aead *aead_new(const struct session_secret *s)
{
	size_t size = (sizeof(struct aead) + 63) & ~(size_t)63;
	struct aead *a = aligned_alloc(64, size);
	if (!a)
		return NULL;
	memset(a, 0, size);
	a->secret = *s;
	for (int i = 0; i < AEAD_EPOCHS; i++)
		a->e[i].epoch = UINT64_MAX;
	a->keyed = UINT64_MAX;
	if ((a->fast = use_imb(s->aead)))
		return a;
	int algo = s->aead == WIRE_AEAD_AES256GCM ? GCRY_CIPHER_AES256 : GCRY_CIPHER_CHACHA20;
	int mode = s->aead == WIRE_AEAD_AES256GCM ? GCRY_CIPHER_MODE_GCM : GCRY_CIPHER_MODE_POLY1305;
	if (!gcrypt_ready() || gcry_cipher_open(&a->enc, algo, mode, 0) != 0 ||
	    gcry_cipher_open(&a->dec, algo, mode, 0) != 0) {
		aead_free(a);
		return NULL;
	}
	return a;
}

void aead_free(struct aead *a)
{
	if (!a)
		return;
	gcry_cipher_close(a->enc); /* NULL-safe; closing wipes the key schedule */
	gcry_cipher_close(a->dec);
	sodium_memzero(a, sizeof(*a)); /* every cached epoch's keys with it */
	free(a);
}

uint64_t aead_derivations(const struct aead *a) { return a->derivations; }

/* key(epoch) and iv(epoch) of session.h into e. 0 or -EIO (e is then empty). */
static int derive_epoch(struct aead *a, struct aead_epoch *e, uint64_t epoch)
{
	static const char klabel[] = "sluice-v1 key", ivlabel[] = "sluice-v1 iv";
	uint8_t info[sizeof(klabel) - 1 + 1 + 4];
	size_t n = 0;
	a->derivations++;
	memcpy(info, klabel, sizeof(klabel) - 1);
	n = sizeof(klabel) - 1;
	info[n++] = a->secret.aead;
	for (int i = 0; i < 4; i++)
		info[n++] = (uint8_t)(epoch >> (8 * i));
	int rc = hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, a->secret.prk, 32, info, n, e->key, 32);
	n = 0;
	memcpy(info, ivlabel, sizeof(ivlabel) - 1);
	n = sizeof(ivlabel) - 1;
	info[n++] = a->secret.aead;
	for (int i = 0; i < 4; i++)
		info[n++] = (uint8_t)(epoch >> (8 * i));
	if (rc == 0)
		rc = hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, a->secret.prk, 32, info, n, e->iv, 12);
#ifdef SLUICE_IPSEC_MB
	if (rc == 0 && a->fast) {
		IMB_AES256_GCM_PRE(imb, e->key, &e->gcm);
		sodium_memzero(e->key, sizeof(e->key)); /* the schedule is all it needs */
	}
#endif
	if (rc != 0)
		sodium_memzero(e, sizeof(*e));
	e->epoch = rc == 0 ? epoch : UINT64_MAX;
	return rc;
}

/* pn's epoch: its cached keys, else derived into the least recently used place; the libgcrypt
 * handles keyed for it. NULL on failure. */
static struct aead_epoch *epoch_of(struct aead *a, uint64_t pn)
{
	uint64_t epoch = pn >> SESSION_EPOCH_SHIFT;
	struct aead_epoch *e = a->cur;
	if (!e || e->epoch != epoch) {
		e = NULL;
		struct aead_epoch *lru = &a->e[0];
		for (int i = 0; i < AEAD_EPOCHS && !e; i++) {
			if (a->e[i].epoch == epoch)
				e = &a->e[i];
			else if (a->e[i].used < lru->used)
				lru = &a->e[i];
		}
		if (!e) {
			a->cur = NULL;
			if (derive_epoch(a, lru, epoch) != 0)
				return NULL;
			e = lru;
		}
		a->cur = e;
		e->used = ++a->tick;
	}
	if (!a->fast && a->keyed != epoch) {
		a->keyed = UINT64_MAX;
		if (gcry_cipher_setkey(a->enc, e->key, 32) != 0 ||
		    gcry_cipher_setkey(a->dec, e->key, 32) != 0)
			return NULL;
		a->keyed = epoch;
	}
	return e;
}

/* pn's nonce under its epoch's iv. */
static void nonce(const struct aead_epoch *e, uint64_t pn, uint8_t out[12])
{
	memcpy(out, e->iv, 12);
	for (int i = 0; i < 8; i++)
		out[4 + i] ^= (uint8_t)(pn >> (8 * i));
}

int aead_seal(struct aead *a, uint64_t pn, const uint8_t *aad, size_t aadlen, const uint8_t *pt,
	      size_t len, uint8_t *ct, uint8_t tag[16])
{
	uint8_t n[12];
	struct aead_epoch *e = epoch_of(a, pn);
	if (!e)
		return -EIO;
	nonce(e, pn, n);
#ifdef SLUICE_IPSEC_MB
	if (a->fast) { /* in place when ct == pt */
		struct gcm_context_data ctx;
		IMB_AES256_GCM_ENC(imb, &e->gcm, &ctx, ct, pt, len, n, aad, aadlen, tag, 16);
		return 0;
	}
#endif
	/* libgcrypt encrypts in place when given no input. */
	if (gcry_cipher_setiv(a->enc, n, 12) != 0 ||
	    gcry_cipher_authenticate(a->enc, aad, aadlen) != 0 ||
	    (pt == ct ? gcry_cipher_encrypt(a->enc, ct, len, NULL, 0)
		      : gcry_cipher_encrypt(a->enc, ct, len, pt, len)) != 0 ||
	    gcry_cipher_gettag(a->enc, tag, 16) != 0)
		return -EIO;
	return 0;
}

int aead_open(struct aead *a, uint64_t pn, const uint8_t *aad, size_t aadlen, const uint8_t *ct,
	      size_t len, const uint8_t tag[16], uint8_t *pt)
{
	uint8_t n[12];
	struct aead_epoch *e = epoch_of(a, pn);
	if (!e)
		return -EIO;
	nonce(e, pn, n);
#ifdef SLUICE_IPSEC_MB
	if (a->fast) {
		/* The library writes the tag it computes; it starts as the complement of the one
		 * received, so a call that wrote nothing can never pass. */
		struct gcm_context_data ctx;
		uint8_t t[16];
		for (int i = 0; i < 16; i++)
			t[i] = (uint8_t)~tag[i];
		IMB_AES256_GCM_DEC(imb, &e->gcm, &ctx, pt, ct, len, n, aad, aadlen, t, 16);
		return sodium_memcmp(t, tag, 16) == 0 ? 0 : -EBADMSG;
	}
#endif
	if (gcry_cipher_setiv(a->dec, n, 12) != 0 ||
	    gcry_cipher_authenticate(a->dec, aad, aadlen) != 0 ||
	    (pt == ct ? gcry_cipher_decrypt(a->dec, pt, len, NULL, 0)
		      : gcry_cipher_decrypt(a->dec, pt, len, ct, len)) != 0 ||
	    gcry_cipher_checktag(a->dec, tag, 16) != 0)
		return -EBADMSG;
	return 0;
}
