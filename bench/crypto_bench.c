/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPU per byte of everything the data path does to every byte, one core: the bulk AEAD as
 * Sluice uses it (common/session.c: OpenSSL EVP, a packet at a time) beside libsodium's, the
 * content hash (SHA-256, OpenSSL) beside BLAKE2b, and memcpy as the ceiling.
 * Prints "name: X.XX GB/s" lines.
 */
#include <openssl/evp.h>
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

static uint8_t sk[32];
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
	g_aead = aead_new(&s);
	report("aead AES-256-GCM, OpenSSL (used), 1408 B", do_seal, unit);
	aead_free(g_aead);
	s.aead = WIRE_AEAD_CHACHA20POLY1305;
	g_aead = aead_new(&s);
	report("aead ChaCha20-Poly1305, OpenSSL, 1408 B", do_seal, unit);
	aead_free(g_aead);
	if (crypto_aead_aes256gcm_is_available())
		report("aead AES-256-GCM, libsodium, 1408 B", do_sodium_aes, unit);
	report("aead ChaCha20-Poly1305, libsodium, 1408 B", do_sodium_chacha, unit);
	report("hash SHA-256, OpenSSL (used), 176 KiB leaves", do_sha256, unit);
	report("hash BLAKE2b, libsodium, 176 KiB leaves", do_blake2b, unit);
	printf("aead in use on this CPU: %s\n",
	       session_best_aead() == WIRE_AEAD_AES256GCM ? "AES-256-GCM" : "ChaCha20-Poly1305");
	free(buf);
	free(out);
	return 0;
}
