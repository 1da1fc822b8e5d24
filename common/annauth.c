/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/annauth.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

static const char LABEL[] = "sluice-v2 announce mac";

static int derive(uint8_t key[ANNAUTH_KEY_LEN], const uint8_t dh[32], const uint8_t tx_sign_pk[32],
		  const uint8_t rx_pk[32])
{
	crypto_generichash_state st;
	if (sodium_is_zero(dh, 32))
		return -EINVAL;
	crypto_generichash_init(&st, dh, 32, ANNAUTH_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)LABEL, sizeof(LABEL) - 1);
	crypto_generichash_update(&st, tx_sign_pk, 32);
	crypto_generichash_update(&st, rx_pk, 32);
	crypto_generichash_final(&st, key, ANNAUTH_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int annauth_key_tx(uint8_t key[ANNAUTH_KEY_LEN], const uint8_t sign_sk[64], const uint8_t rx_pk[32])
{
	uint8_t x_sk[32], dh[32];
	int rc = -EINVAL;
	if (crypto_sign_ed25519_sk_to_curve25519(x_sk, sign_sk) == 0 &&
	    crypto_scalarmult_curve25519(dh, x_sk, rx_pk) == 0)
		rc = derive(key, dh, sign_sk + 32, rx_pk);
	sodium_memzero(x_sk, sizeof(x_sk));
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

int annauth_key_rx(uint8_t key[ANNAUTH_KEY_LEN], const uint8_t rx_sk[32], const uint8_t rx_pk[32],
		   const uint8_t tx_sign_pk[32])
{
	uint8_t x_pk[32], dh[32];
	int rc = -EINVAL;
	if (crypto_sign_ed25519_pk_to_curve25519(x_pk, tx_sign_pk) == 0 &&
	    crypto_scalarmult_curve25519(dh, rx_sk, x_pk) == 0)
		rc = derive(key, dh, tx_sign_pk, rx_pk);
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

void annauth_mac(uint8_t mac[ANNAUTH_MAC_LEN], const uint8_t key[ANNAUTH_KEY_LEN], const uint8_t *msg,
		 size_t len)
{
	crypto_generichash(mac, ANNAUTH_MAC_LEN, msg, len, key, ANNAUTH_KEY_LEN);
}

bool annauth_check(const uint8_t mac[ANNAUTH_MAC_LEN], const uint8_t key[ANNAUTH_KEY_LEN],
		   const uint8_t *msg, size_t len)
{
	uint8_t want[ANNAUTH_MAC_LEN];
	annauth_mac(want, key, msg, len);
	return crypto_verify_16(want, mac) == 0;
}
