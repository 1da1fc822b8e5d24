/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* The sub-folders of the spools inotify would not watch, tried again at every tick, and their
 * gauge (sluice_tx_spool_unwatched_folders). */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/log.h"
#include "tx/spool_internal.h"
#include "tx/tx_metrics.h"

#define UNWATCHED_MAX 65536

static void unwatched_gauge(const struct spool_watch *w)
{
	metric_set(&tx_metrics[TXM_UNWATCHED], w->nunwatched);
}

/* Remembers (sp, rel) for another try; false when it was remembered already. A retry puts back
 * what it took from the list, unique already, and a folder first tried under a folder being
 * retried (unwatched until now, so never scanned) cannot be on it: no search then, so a tick
 * costs one pass over the list, not one per folder. */
bool spool_unwatched_add(struct spool_watch *w, const struct config_spool *sp, const char *rel)
{
	for (struct unwatched *u = w->retrying ? NULL : w->unwatched; u; u = u->next)
		if (u->sp == sp && strcmp(u->rel, rel) == 0)
			return false;
	struct unwatched *u = w->nunwatched < UNWATCHED_MAX ? malloc(sizeof(*u)) : NULL;
	char *copy = u ? strdup(rel) : NULL;
	if (!copy) { /* still logged; the next rescan (overflow, root back) finds it again */
		free(u);
		return true;
	}
	*u = (struct unwatched){.next = w->unwatched, .sp = sp, .rel = copy};
	w->unwatched = u;
	w->nunwatched++;
	unwatched_gauge(w);
	return true;
}

/* Each tick: the sub-folders not watched yet, again; gone ones are forgotten. */
void spool_unwatched_retry(struct spool_watch *w)
{
	struct unwatched *list = w->unwatched;
	w->unwatched = NULL;
	w->nunwatched = 0;
	while (list) {
		struct unwatched *u = list;
		list = u->next;
		w->retrying = true; /* a failure again is kept, not logged again */
		if (w->roots[u->sp - w->spools].missing)
			(void)spool_unwatched_add(w, u->sp, u->rel);
		else if (spool_add_dir(w, u->sp, u->rel, false) == 0)
			log_rlk(LOG_INFO, u->sp->name, "spool %s: watching %s/%s now", u->sp->name,
				u->sp->path, ESCAPED(u->rel));
		w->retrying = false;
		free(u->rel);
		free(u);
	}
	unwatched_gauge(w);
}
