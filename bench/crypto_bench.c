/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPU per byte of everything the data path does to every byte, one core: the bulk AEAD as
 * Sluice uses it (common/session.c, a packet at a time: libipsec-mb for AES-256-GCM on x86-64,
 * libgcrypt otherwise) beside the portable path, OpenSSL's EVP and libsodium's, the content
 * hash (SHA-256, OpenSSL) beside BLAKE2b, and memcpy as the ceiling.
 * Prints "name: X.XX GB/s" lines.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/session.h"
#include "common/wire.h"

#define PKT 1408
#define RUN_NS 400000000ull

static uint8_t *buf, *out;
static size_t total = 64u << 20;

typedef void (*fn)(size_t n);

static void report(const char *name, fn f, size_t unit)
{
	f(unit); /* warm up */
	uint64_t t0 = mono_ns(), bytes = 0;
	while (mono_ns() - t0 < RUN_NS) {
		f(unit);
		bytes += unit;
	}
	double s = (double)(mono_ns() - t0) / 1e9;
	printf("%-44s %6.2f GB/s\n", name, (double)bytes / s / 1e9);
	fflush(stdout);
}

static void do_memcpy(size_t n) { memcpy(out, buf, n); }

static struct aead *g_aead;
static uint64_t g_pn;
static void do_seal(size_t n)
{
	uint8_t tag[16];
	for (size_t off = 0; off + PKT <= n; off += PKT)
		if (aead_seal(g_aead, g_pn++, buf, WIRE_DATA_HDR_LEN, buf + off, PKT, out + off, tag) != 0)
			abort();
}

/* Opening: packets sealed once beforehand (sealed_for), each opened into a scratch buffer. */
static uint8_t *sealed, (*tags)[16];
static void sealed_for(size_t n)
{
	tags = realloc(tags, (n / PKT + 1) * 16);
	sealed = realloc(sealed, n);
	if (!tags || !sealed)
		abort();
	for (size_t i = 0, off = 0; off + PKT <= n; off += PKT, i++)
		if (aead_seal(g_aead, i, buf, WIRE_DATA_HDR_LEN, buf + off, PKT, sealed + off, tags[i]) != 0)
			abort();
}

static void do_open(size_t n)
{
	for (size_t i = 0, off = 0; off + PKT <= n; off += PKT, i++)
		if (aead_open(g_aead, i, buf, WIRE_DATA_HDR_LEN, sealed + off, PKT, tags[i], out + off) != 0)
			abort();
}

static uint8_t sk[32];

/* OpenSSL 3 EVP with the per-packet calls Sluice made before its AEAD left OpenSSL: a new IV,
 * the header as AAD, the payload, the tag read as a parameter. */
static EVP_CIPHER_CTX *g_evp;
static void do_evp(size_t n)
{
	uint8_t nonce[12] = {0}, tag[16];
	int outl;
	for (size_t off = 0; off + PKT <= n; off += PKT) {
		memcpy(nonce + 4, &g_pn, 8);
		g_pn++;
		OSSL_PARAM p[2] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, 16),
				   OSSL_PARAM_construct_end()};
		if (EVP_EncryptInit_ex(g_evp, NULL, NULL, NULL, nonce) != 1 ||
		    EVP_EncryptUpdate(g_evp, NULL, &outl, buf, WIRE_DATA_HDR_LEN) != 1 ||
		    EVP_EncryptUpdate(g_evp, out + off, &outl, buf + off, PKT) != 1 ||
		    EVP_EncryptFinal_ex(g_evp, out + off + outl, &outl) != 1 ||
		    EVP_CIPHER_CTX_get_params(g_evp, p) != 1)
			abort();
	}
}

static void evp_report(const char *name, const EVP_CIPHER *c, size_t unit)
{
	g_evp = EVP_CIPHER_CTX_new();
	if (!g_evp || EVP_EncryptInit_ex(g_evp, c, NULL, sk, NULL) != 1)
		abort();
	report(name, do_evp, unit);
	EVP_CIPHER_CTX_free(g_evp);
}
static void do_sodium_aes(size_t n)
{
	uint8_t nonce[12] = {0};
	unsigned long long cl;
	for (size_t off = 0; off + PKT <= n; off += PKT)
		crypto_aead_aes256gcm_encrypt(out, &cl, buf + off, PKT, buf, WIRE_DATA_HDR_LEN, NULL, nonce, sk);
}

static void do_sodium_chacha(size_t n)
{
	uint8_t nonce[12] = {0};
	unsigned long long cl;
	for (size_t off = 0; off + PKT <= n; off += PKT)
		crypto_aead_chacha20poly1305_ietf_encrypt(out, &cl, buf + off, PKT, buf, WIRE_DATA_HDR_LEN,
							  NULL, nonce, sk);
}

static void do_sha256(size_t n)
{
	uint8_t h[32];
	for (size_t off = 0; off < n; off += 180224)
		hash_leaf(0, buf + off, n - off < 180224 ? n - off : 180224, h);
}

static void do_blake2b(size_t n)
{
	uint8_t h[32];
	for (size_t off = 0; off < n; off += 180224)
		crypto_generichash(h, 32, buf + off, n - off < 180224 ? n - off : 180224, NULL, 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	buf = malloc(total);
	out = malloc(total + 64);
	randombytes_buf(buf, total);
	randombytes_buf(sk, sizeof(sk));
	size_t unit = 4u << 20;
	report("memcpy (ceiling)", do_memcpy, unit);
	struct session_secret s = {.aead = WIRE_AEAD_AES256GCM};
	randombytes_buf(s.prk, 32);
	char name[80];
	/* AES-256-GCM as used on this CPU, then through the portable library if that differs. */
	const char *used = aead_impl(WIRE_AEAD_AES256GCM);
	for (int portable = 0; portable < 2; portable++) {
		aead_portable_only(portable);
		const char *lib = aead_impl(WIRE_AEAD_AES256GCM);
		if (portable && strcmp(lib, used) == 0)
			break;
		s.aead = WIRE_AEAD_AES256GCM;
		g_aead = aead_new(&s);
		snprintf(name, sizeof(name), "aead AES-256-GCM, %s%s, 1408 B", lib, portable ? "" : " (used)");
		report(name, do_seal, unit);
		sealed_for(unit);
		snprintf(name, sizeof(name), "aead AES-256-GCM open, %s, 1408 B", lib);
		report(name, do_open, unit);
		aead_free(g_aead);
	}
	s.aead = WIRE_AEAD_CHACHA20POLY1305;
	g_aead = aead_new(&s);
	snprintf(name, sizeof(name), "aead ChaCha20-Poly1305, %s (used without AES-NI), 1408 B", aead_impl(s.aead));
	report(name, do_seal, unit);
	aead_free(g_aead);
	aead_portable_only(0);
	s.aead = WIRE_AEAD_AES256GCM;
	evp_report("aead AES-256-GCM, OpenSSL EVP, 1408 B", EVP_aes_256_gcm(), unit);
	evp_report("aead ChaCha20-Poly1305, OpenSSL EVP, 1408 B", EVP_chacha20_poly1305(), unit);
	if (crypto_aead_aes256gcm_is_available())
		report("aead AES-256-GCM, libsodium, 1408 B", do_sodium_aes, unit);
	report("aead ChaCha20-Poly1305, libsodium, 1408 B", do_sodium_chacha, unit);
	report("hash SHA-256, OpenSSL (used), 176 KiB leaves", do_sha256, unit);
	report("hash BLAKE2b, libsodium, 176 KiB leaves", do_blake2b, unit);
	printf("aead in use on this CPU: %s\n",
	       session_best_aead() == WIRE_AEAD_AES256GCM ? "AES-256-GCM" : "ChaCha20-Poly1305");
	free(buf);
	free(out);
	free(sealed);
	free(tags);
	return 0;
}
