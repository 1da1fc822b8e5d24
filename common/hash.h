/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content hash of a file object: a two-level SHA-256 tree over the object's FEC blocks, so
 * workers hash blocks in parallel on tx and the receiver verifies blocks as they are written:
 *
 *   leaf(b) = SHA-256(0x00 || le32(b) || block bytes)
 *   root    = SHA-256(0x01 || le64(length) || leaf(0) || ... || leaf(N-1))
 *
 * SHA-256 (OpenSSL, SHA-NI where the CPU has it) because an attacker can choose file content.
 */
#ifndef SLUICE_HASH_H
#define SLUICE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_LEN 32

void hash_leaf(uint32_t block, const uint8_t *data, size_t len, uint8_t out[HASH_LEN]);
void hash_root(uint64_t length, const uint8_t *leaves, uint32_t nblocks, uint8_t out[HASH_LEN]);
/* Plain SHA-256 of p, on the same per-thread OpenSSL context (SHA-NI where the CPU has it):
 * for bulk bytes such as an event batch's content. */
void hash_sha256(const void *p, size_t len, uint8_t out[HASH_LEN]);
void hash_hex(const uint8_t h[HASH_LEN], char out[2 * HASH_LEN + 1]);

#endif
