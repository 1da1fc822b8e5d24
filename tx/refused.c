/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/refused.h"

#include "common/log.h"
#include "common/pathrule.h"
#include "tx/journal.h"
#include "tx/tx_metrics.h"

bool refused_check(struct refused *r, const char *spool, const char *rel, const struct stat *st)
{
	char why[160];
	if (pathrule_spool_check(spool, why, sizeof(why)) == 0 &&
	    pathrule_check(rel, why, sizeof(why)) == 0)
		return false;
	uint64_t mtime = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
	uint64_t k = journal_key(spool, rel, (uint64_t)st->st_size, mtime);
	for (size_t i = 0; i < REFUSED_REMEMBERED; i++)
		if (r->key[i] == k)
			return true;
	r->key[r->next] = k;
	r->next = (r->next + 1) % REFUSED_REMEMBERED;
	log_rlk(LOG_WARN, why, "refused %s/%s: %s; kept in the spool, not sent (the receiver would refuse it)", spool,
		 ESCAPED(rel), why);
	txm_add(TXM_REFUSED, 1);
	return true;
}
