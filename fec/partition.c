/* SPDX-License-Identifier: Apache-2.0 */
/* Objects into blocks of near-equal size (RFC 5052 section 9.1), and repair counts. */
#include <errno.h>

#include "fec/fec.h"

int fec_partition_init(struct fec_partition *p, uint64_t length, uint32_t symbol_size, uint32_t k_max)
{
	if (symbol_size == 0 || k_max == 0 || k_max > 254)
		return -EINVAL;
	uint64_t kt = length / symbol_size + (length % symbol_size != 0);
	if (kt == 0)
		kt = 1; /* an empty object still has one (empty) block */
	uint64_t n = kt / k_max + (kt % k_max != 0);
	if (n > UINT32_MAX)
		return -EFBIG;
	p->length = length;
	p->symbol_size = symbol_size;
	p->nsymbols = kt;
	p->nblocks = (uint32_t)n;
	p->k_large = (uint32_t)(kt / n + (kt % n != 0));
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
	uint64_t syms = b <= p->n_large ? (uint64_t)b * p->k_large
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

/* At least 2 repair symbols for any block when overhead is on: a 1-symbol object at 5% loss
 * would otherwise be lost 1 time in 400. Capped so that k + m <= 255. */
uint32_t fec_repair_count(uint32_t k, unsigned overhead_pct)
{
	if (k >= FEC_MAX_SYMBOLS)
		return 0;
	uint64_t m = ((uint64_t)k * overhead_pct + 99) / 100;
	if (overhead_pct > 0 && m < 2)
		m = 2;
	if (m > FEC_MAX_SYMBOLS - k)
		m = FEC_MAX_SYMBOLS - k;
	return (uint32_t)m;
}
