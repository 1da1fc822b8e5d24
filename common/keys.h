/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Long-term keys. The sender signs with Ed25519; the receiver holds an X25519 pair. Files are
 * one text line each, safe to paste and to carry by hand across the diode:
 *
 *   tx.pub  "sluice-tx-pub:<base64url, 32 bytes>"     tx.key  "sluice-tx-key:<base64url seed>"
 *   rx.pub  "sluice-rx-pub:<base64url, 32 bytes>"     rx.key  "sluice-rx-key:<base64url secret>"
 *
 * Secret files are written 0600 and refused when group or others have any access.
 */
#ifndef SLUICE_KEYS_H
#define SLUICE_KEYS_H

#include <stddef.h>
#include <stdint.h>

enum keys_role { KEYS_TX = 1, KEYS_RX = 2 };

struct keys_tx {
	uint8_t sign_sk[64]; /* libsodium Ed25519 secret (seed || public) */
	uint8_t sign_pk[32];
};

struct keys_rx {
	uint8_t dh_sk[32];
	uint8_t dh_pk[32];
};

/* Write DIR/tx.key + DIR/tx.pub or DIR/rx.key + DIR/rx.pub (never overwriting an existing
 * key). 0 or -errno; `err` receives a message. */
int keys_generate(enum keys_role role, const char *dir, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int keys_load_tx(const char *path, struct keys_tx *k, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int keys_load_rx(const char *path, struct keys_rx *k, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Load a public key of the given role ("sluice-tx-pub:" or "sluice-rx-pub:"). */
int keys_load_public(enum keys_role role, const char *path, uint8_t pk[32], char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Parse one line (no trailing newline needed) in the formats above. */
int keys_parse_line(const char *line, const char *prefix, uint8_t *out, size_t outlen)
	__attribute__((warn_unused_result));
/* Short printable fingerprint: first 8 bytes of SHA-256(pk) as 16 hex digits. */
void keys_fingerprint(const uint8_t pk[32], char out[17]);
void keys_wipe(void *p, size_t n);

#endif
