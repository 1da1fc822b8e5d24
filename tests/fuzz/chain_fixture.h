/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What fuzz_verify_audit and its seed generator (gen_chain_seeds.c) agree on: the TEST-ONLY
 * sender key (Ed25519 from seed 'T' x 32, as fuzz_linkrole and fuzz_manifest use; never a real
 * key) and the delivered files the harness puts under --files DIR, whose content hashes the
 * seeds' manifests carry. Include once, in the target's or the generator's .c.
 */
#ifndef SLUICE_FUZZ_CHAIN_FIXTURE_H
#define SLUICE_FUZZ_CHAIN_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#define FIXTURE_SPOOL "cam"
#define FIXTURE_T 256 /* symbol size and block max of the seeds' manifests */
#define FIXTURE_K 4
#define FIXTURE_NFILES 2

static const struct {
	const char *path;
	size_t size;
} fixture_files[FIXTURE_NFILES] = {{"a.ts", 1000}, {"d/b.ts", 3000}};

/* Byte j of file i. */
static inline uint8_t fixture_byte(size_t i, size_t j)
{
	return (uint8_t)(j * 31 + i * 7 + 1);
}

static inline void fixture_sender(uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

/* The key file as common/keys.c writes tx.pub. */
static inline void fixture_pub_line(const uint8_t pk[32], char *out, size_t cap)
{
	static const char prefix[] = "sluice-tx-pub:";
	memcpy(out, prefix, sizeof(prefix) - 1);
	sodium_bin2base64(out + sizeof(prefix) - 1, cap - sizeof(prefix) - 1, pk, 32,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	size_t n = strlen(out);
	out[n] = '\n';
	out[n + 1] = '\0';
}

#endif
