/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Session keys without a handshake. Each tx session draws a fresh ephemeral X25519 pair; the
 * shared secret with the receiver's static X25519 key is fed to HKDF-SHA256 with labels (as
 * HPKE's LabeledExtract / LabeledExpand do), bound to both public keys, the sender's signing
 * key and the session id:
 *
 *   dh      = X25519(eph_sk, rx_pk) = X25519(rx_sk, eph_pk)      (all-zero result refused)
 *   prk     = HKDF-Extract(salt = "sluice-v1 session" || tx_sign_pk || le64(session),
 *                          ikm  = "sluice-v1 dh" || dh || eph_pk || rx_pk)
 *   key(e)  = HKDF-Expand(prk, "sluice-v1 key" || aead || le32(e), 32)
 *   iv(e)   = HKDF-Expand(prk, "sluice-v1 iv"  || aead || le32(e), 12)
 *
 * Epoch e = pn >> SESSION_EPOCH_SHIFT: keys move on every 2^22 packets, under AES-GCM's
 * confidentiality limit of 2^23 packets (RFC 9001 section 6.6), without any signalling.
 * Nonce = iv(e) XOR (0^4 || le64(pn)).
 */
#ifndef SLUICE_SESSION_H
#define SLUICE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_EPOCH_SHIFT 22

struct session_secret {
	uint8_t prk[32];
	uint8_t aead; /* enum wire_aead */
};

/* The AEAD this CPU runs best: AES-256-GCM with AES-NI, else ChaCha20-Poly1305. */
uint8_t session_best_aead(void);

/* tx: new ephemeral pair, derive. 0 or -errno. */
int session_tx_derive(struct session_secret *s, uint8_t eph_pk[32], const uint8_t rx_pk[32],
		      const uint8_t tx_sign_pk[32], uint64_t session, uint8_t aead)
	__attribute__((warn_unused_result));
/* rx: derive from the announced ephemeral key. 0 or -EINVAL (low-order point). */
int session_rx_derive(struct session_secret *s, const uint8_t eph_pk[32], const uint8_t rx_sk[32],
		      const uint8_t rx_pk[32], const uint8_t tx_sign_pk[32], uint64_t session,
		      uint8_t aead) __attribute__((warn_unused_result));
void session_secret_wipe(struct session_secret *s);
/* Initialises libgcrypt and libipsec-mb and loads OpenSSL's configuration and the algorithms
 * sessions use (HKDF, SHA-256), with any provider modules the site's configuration names:
 * call before the system-call filter, which allows no new executable mappings. 0, or -EIO
 * with the reason in err. */
int session_crypto_load(char *err, size_t errlen) __attribute__((warn_unused_result));

/* Per-thread sealing state. It keeps the keys and ivs of the last 4 epochs it used (with
 * libipsec-mb, their key schedules too), so going back to one of them derives nothing and,
 * with libipsec-mb, costs nothing; libgcrypt's handles are keyed again on such a switch. A
 * fifth epoch takes the place of the least recently used. aead_free wipes them all. */
struct aead;
struct aead *aead_new(const struct session_secret *s);
void aead_free(struct aead *a);
/* Seal len bytes of pt into ct (may alias) with aad; writes a 16-byte tag. 0 or -EIO. */
int aead_seal(struct aead *a, uint64_t pn, const uint8_t *aad, size_t aadlen, const uint8_t *pt,
	      size_t len, uint8_t *ct, uint8_t tag[16]) __attribute__((warn_unused_result));
/* Open; 0 if authentic (pt written), -EBADMSG otherwise (pt contents then undefined). */
int aead_open(struct aead *a, uint64_t pn, const uint8_t *aad, size_t aadlen, const uint8_t *ct,
	      size_t len, const uint8_t tag[16], uint8_t *pt) __attribute__((warn_unused_result));
/* For tests and the bench: how many epochs' keys a has derived (HKDF) since aead_new. */
uint64_t aead_derivations(const struct aead *a);
/* The library that carries an AEAD here: "libipsec-mb" or "libgcrypt". */
const char *aead_impl(uint8_t aead);
/* Tests and the bench: 1 makes aead_new use libgcrypt for every AEAD (the portable path),
 * 0 restores the choice by CPU. Affects aead objects made afterwards. */
void aead_portable_only(int on);

#endif
