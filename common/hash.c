/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/hash.h"

#include <openssl/evp.h>
#include <pthread.h>

#include "common/cursor.h"

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *p) { EVP_MD_CTX_free(p); }
static void ctx_key_init(void) { pthread_key_create(&ctx_key, ctx_free); }

/* SHA-256 of a || b. The context is per thread and reused: no allocation per call. */
static void digest2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[HASH_LEN])
{
	pthread_once(&ctx_once, ctx_key_init);
	EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		pthread_setspecific(ctx_key, ctx);
	}
	unsigned int n = 0;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, a, alen);
	EVP_DigestUpdate(ctx, b, blen);
	EVP_DigestFinal_ex(ctx, out, &n);
}

void hash_sha256(const void *p, size_t len, uint8_t out[HASH_LEN])
{
	digest2(p, len, NULL, 0, out);
}

void hash_leaf(uint32_t block, const uint8_t *data, size_t len, uint8_t out[HASH_LEN])
{
	uint8_t pre[5] = {0x00, (uint8_t)block, (uint8_t)(block >> 8), (uint8_t)(block >> 16),
			  (uint8_t)(block >> 24)};
	digest2(pre, sizeof(pre), data, len, out);
}

void hash_root(uint64_t length, const uint8_t *leaves, uint32_t nblocks, uint8_t out[HASH_LEN])
{
	uint8_t pre[9];
	pre[0] = 0x01;
	le64_write(pre + 1, length);
	digest2(pre, sizeof(pre), leaves, (size_t)nblocks * HASH_LEN, out);
}

void hash_hex(const uint8_t h[HASH_LEN], char out[2 * HASH_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < HASH_LEN; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[2 * HASH_LEN] = '\0';
}
