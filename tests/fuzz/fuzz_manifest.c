/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for manifest_verify() (common/manifest.c), which the deliver role runs on
 * bytes a subverted link role controls. The public key is fixed: the Ed25519 key whose seed is
 * 32 bytes of 0x54 ('T'), the same sender key as fuzz_linkrole's; the seed corpus written by
 * gen_linkrole_seeds.c holds manifests signed with it. A manifest that verifies must come out
 * with NUL-free strings within their limits and must re-sign to the same bytes (Ed25519
 * signatures are deterministic).
 */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/manifest.h"

static uint8_t pk[32], sk[64];

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_manifest: %s\n", what);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];
	(void)argc;
	(void)argv;
	check(sodium_init() >= 0, "sodium_init failed");
	memset(seed, 'T', sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = malloc(sizeof(*m));
	check(m != NULL, "out of memory");
	int rc = manifest_verify(data, size, pk, m);
	check(rc == 0 || rc == -EBADMSG || rc == -EPERM || rc == -EPROTONOSUPPORT,
	      "unexpected return value");
	if (rc == 0) {
		size_t sl = strlen(m->spool), pl = strlen(m->path);
		check(sl >= 1 && sl <= MANIFEST_SPOOL_MAX && pl >= 1 && pl <= MANIFEST_PATH_MAX,
		      "string lengths out of range");
		check(size == MANIFEST_FIXED_LEN + sl + pl + 64, "a NUL inside a string, or leftovers");
		uint8_t *out = malloc(MANIFEST_MAX_LEN);
		check(out != NULL, "out of memory");
		int n = manifest_sign(m, sk, out, MANIFEST_MAX_LEN);
		check(n == (int)size && memcmp(out, data, size) == 0, "does not re-sign to the input");
		free(out);
	}
	free(m);
	return 0;
}
