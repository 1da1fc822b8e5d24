/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The announcement MAC: a cheap check, before any signature, that an announcement comes from
 * the pinned sender to this receiver. Its key needs a static secret of one of the two ends:
 *
 *   x_tx    = the sender's Ed25519 key in its X25519 form (RFC 7748 birational map)
 *   dh      = X25519(x_tx_sk, rx_pk) = X25519(rx_sk, x_tx_pk)        (all-zero result refused)
 *   key     = BLAKE2b-256(key = dh, "sluice-v2 announce mac" || tx_sign_pk || rx_pk)
 *   mac     = BLAKE2b-128(key, announcement bytes 0..255)   (keyed, libsodium's generichash)
 *
 * A forger who knows both public keys but neither secret cannot compute the key, so a forged
 * announcement costs the receiver one 256-byte BLAKE2b (well under a microsecond) and never
 * reaches the Ed25519 check, whose budget stays for genuine announcements. The signature is
 * still checked on every announcement that passes: the MAC key is shared by both ends, so it
 * authenticates "one of the two", the signature "the sender".
 */
#ifndef SLUICE_ANNAUTH_H
#define SLUICE_ANNAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANNAUTH_KEY_LEN 32
#define ANNAUTH_MAC_LEN 16

/* Sender side, from its Ed25519 secret (seed || public). 0 or -EINVAL. */
int annauth_key_tx(uint8_t key[ANNAUTH_KEY_LEN], const uint8_t sign_sk[64], const uint8_t rx_pk[32])
	__attribute__((warn_unused_result));
/* Receiver side, for one pinned sender. 0 or -EINVAL (a key with no X25519 form, low order). */
int annauth_key_rx(uint8_t key[ANNAUTH_KEY_LEN], const uint8_t rx_sk[32], const uint8_t rx_pk[32],
		   const uint8_t tx_sign_pk[32]) __attribute__((warn_unused_result));
void annauth_mac(uint8_t mac[ANNAUTH_MAC_LEN], const uint8_t key[ANNAUTH_KEY_LEN], const uint8_t *msg,
		 size_t len);
/* Constant-time comparison against the expected MAC. */
bool annauth_check(const uint8_t mac[ANNAUTH_MAC_LEN], const uint8_t key[ANNAUTH_KEY_LEN],
		   const uint8_t *msg, size_t len);

#endif
