/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool files the receiver would refuse (common/pathrule.h): the sender refuses them where
 * they stand, before anything is sent or deleted. Each is logged once with the rule it
 * breaks and counted in sluice_tx_files_refused_total; picked up again unchanged (same spool,
 * path, size and mtime) it is passed over in silence; once it changes it is judged, logged
 * and counted again. The last REFUSED_REMEMBERED refusals are remembered (per run): beyond
 * that, the oldest is logged again when next picked up.
 */
#ifndef SLUICE_TX_REFUSED_H
#define SLUICE_TX_REFUSED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define REFUSED_REMEMBERED 4096

/* Zero-initialised is empty; nothing to free. Main loop only. */
struct refused {
	uint64_t key[REFUSED_REMEMBERED]; /* journal_key of each refused version; 0 = free */
	size_t next;
};

/* true if spool/rel must not be sent (logged and counted on its first refusal); false if its
 * names keep the rules. */
bool refused_check(struct refused *r, const char *spool, const char *rel, const struct stat *st);

#endif
