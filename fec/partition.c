/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Objects into blocks of near-equal size (RFC 5052 section 9.1), and repair counts.
 *
 * Only the object's last symbol is short, so every block but the last is k * T bytes and
 * block b starts at (symbols in blocks 0..b-1) * T: offsets and lengths are arithmetic, never
 * a walk over the blocks.
 */
#include <errno.h>

#include "fec/fec.h"

static uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

int fec_partition_init(struct fec_partition *p, uint64_t length, uint32_t symbol_size,
		       uint32_t k_max)
{
	if (!p || symbol_size == 0 || k_max == 0 || k_max > FEC_MAX_SYMBOLS - 1)
		return -EINVAL;
	uint64_t kt = ceil_div(length, symbol_size);
	if (kt == 0)
		kt = 1; /* an empty object still has one block, of one (empty) symbol */
	uint64_t n = ceil_div(kt, k_max);
	if (n > UINT32_MAX)
		return -EFBIG;
	uint64_t k_large = ceil_div(kt, n);
	/* Block 0 is the longest, min(k_large * T, L) bytes; fec_partition_len returns a uint32_t. */
	uint64_t first = k_large * symbol_size; /* <= 254 * (2^32 - 1): no overflow */
	if ((first < length ? first : length) > UINT32_MAX)
		return -EFBIG;
	p->length = length;
	p->symbol_size = symbol_size;
	p->nsymbols = kt;
	p->nblocks = (uint32_t)n;
	p->k_large = (uint32_t)k_large;
	p->k_small = (uint32_t)(kt / n);
	p->n_large = (uint32_t)(kt - (uint64_t)p->k_small * n);
	return 0;
}

uint32_t fec_partition_k(const struct fec_partition *p, uint32_t b)
{
	return b < p->n_large ? p->k_large : p->k_small;
}

uint64_t fec_partition_offset(const struct fec_partition *p, uint32_t b)
{
	uint64_t syms = b <= p->n_large
				? (uint64_t)b * p->k_large
				: (uint64_t)p->n_large * p->k_large + (uint64_t)(b - p->n_large) * p->k_small;
	return syms * p->symbol_size;
}

uint32_t fec_partition_len(const struct fec_partition *p, uint32_t b)
{
	uint64_t off = fec_partition_offset(p, b);
	uint64_t full = (uint64_t)fec_partition_k(p, b) * p->symbol_size;
	if (off >= p->length)
		return 0;
	return (uint32_t)(p->length - off < full ? p->length - off : full);
}

/*
 * m = ceil(k * pct / 100), but at least 2 whenever pct > 0: small blocks are cheap to protect,
 * and with one repair symbol a 1-symbol object at 5% loss is lost 1 time in 400 (both of its
 * two symbols gone). Then capped so that k + m <= 255. k outside 1..254 leaves no room: 0.
 */
uint32_t fec_repair_count(uint32_t k, unsigned overhead_pct)
{
	if (k == 0 || k >= FEC_MAX_SYMBOLS || overhead_pct == 0)
		return 0;
	uint64_t m = ceil_div((uint64_t)k * overhead_pct, 100);
	if (m < 2)
		m = 2;
	if (m > FEC_MAX_SYMBOLS - k)
		m = FEC_MAX_SYMBOLS - k;
	return (uint32_t)m;
}
