/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Systematic MDS erasure code over GF(2^8) (ISA-L kernels, Cauchy matrix, polynomial 0x11d).
 *
 * A block holds K source symbols (1 <= K) and M repair symbols (0 <= M), K + M <= 255, every
 * symbol `len` bytes (1 <= len). Symbol i < K is source symbol i unchanged; symbol K + j is
 * repair j = sum_i C[j][i] * src[i] with C[j][i] = 1 / ((K + j) ^ i) (ISA-L's
 * gf_gen_cauchy1_matrix), so any K of the K + M symbols rebuild the block.
 *
 * Objects are cut into blocks of near-equal size (RFC 5052 section 9.1): with T-byte symbols
 * and at most B source symbols per block, an object of L bytes has Kt = max(1, ceil(L / T))
 * source symbols in N = ceil(Kt / B) blocks; the first Kt mod N blocks (or none) carry
 * ceil(Kt / N) symbols, the rest floor(Kt / N). The last symbol of the object is zero-padded.
 *
 * A struct fec_codec caches coding tables; it is not thread-safe: one per thread. No function
 * here allocates on the hot path once a (K, M) pair has been seen.
 */
#ifndef SLUICE_FEC_H
#define SLUICE_FEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FEC_MAX_SYMBOLS 255

struct fec_partition {
	uint64_t length;      /* object bytes */
	uint32_t symbol_size; /* T */
	uint32_t nblocks;     /* N */
	uint64_t nsymbols;    /* Kt */
	uint32_t k_large;     /* ceil(Kt / N) */
	uint32_t k_small;     /* floor(Kt / N) */
	uint32_t n_large;     /* blocks with k_large symbols, the first ones */
};

/* 0, or -EINVAL if symbol_size == 0, k_max == 0 or k_max > 254, or -EFBIG if N > 2^32 - 1 or
 * a block would be longer than 2^32 - 1 bytes (fec_partition_len's type). */
int fec_partition_init(struct fec_partition *p, uint64_t length, uint32_t symbol_size,
		       uint32_t k_max) __attribute__((warn_unused_result));
/* Source symbols in block b (b < nblocks). */
uint32_t fec_partition_k(const struct fec_partition *p, uint32_t b);
/* Byte offset of block b within the object, and its length in object bytes (the last block
 * may end short of k * symbol_size). */
uint64_t fec_partition_offset(const struct fec_partition *p, uint32_t b);
uint32_t fec_partition_len(const struct fec_partition *p, uint32_t b);

/* Repair symbols for a block of k source symbols at `overhead_pct` percent:
 * ceil(k * pct / 100), with a floor that protects small blocks (see README), capped so
 * k + m <= 255. */
uint32_t fec_repair_count(uint32_t k, unsigned overhead_pct);

struct fec_codec;
struct fec_codec *fec_codec_new(void);
void fec_codec_free(struct fec_codec *c);

/* Compute m repair symbols from k source symbols. 0 or -EINVAL (bad k/m/len), -ENOMEM. */
int fec_encode(struct fec_codec *c, unsigned k, unsigned m, size_t len, uint8_t *const *src,
	       uint8_t *const *repair) __attribute__((warn_unused_result));

/*
 * Rebuild missing source symbols. sym[0..k+m-1]: sym[i] is symbol i; present[i] says whether it
 * arrived. For every missing source symbol i < k, sym[i] must point to a writable buffer of len
 * bytes, which receives it. Work is proportional to the number of missing source symbols e:
 * an e x e inversion and e * k multiply-adds per byte; nothing when e == 0.
 * 0, -EINVAL (bad arguments), -ENOSPC (fewer than k present), -ENOMEM.
 */
int fec_decode(struct fec_codec *c, unsigned k, unsigned m, size_t len, uint8_t *const *sym,
	       const bool *present) __attribute__((warn_unused_result));

#endif
