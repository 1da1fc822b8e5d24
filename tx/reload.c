/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGHUP: sluice-tx reads its configuration file again and takes what can change while
 * running: log.level (shared with the intake process, common/log.h) and link.rate (the
 * sender's pacer, from its next batch). Every other key that changed is named in a warning and
 * keeps its value until the next start. A file that does not load changes nothing.
 */
#include "tx/main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tx/sender/sender.h"

static const char *const level_name[] = {"error", "warn", "info", "debug"};

static bool spools_differ(const struct tx_config *a, const struct tx_config *b)
{
	if (a->nspools != b->nspools)
		return true;
	for (size_t i = 0; i < a->nspools; i++) {
		const struct config_spool *x = &a->spools[i], *y = &b->spools[i];
		if (strcmp(x->name, y->name) != 0 || config_str_differs(x->path, y->path) ||
		    x->after_delete != y->after_delete || x->keep_for_ms != y->keep_for_ms)
			return true;
	}
	return false;
}

static bool events_differ(const struct tx_config *a, const struct tx_config *b)
{
	if (a->nevents != b->nevents)
		return true;
	for (size_t i = 0; i < a->nevents; i++) {
		const struct config_event *x = &a->events[i], *y = &b->events[i];
		if (strcmp(x->name, y->name) != 0 || x->kind != y->kind ||
		    strcmp(x->addr.text, y->addr.text) != 0 || config_str_differs(x->unix_path, y->unix_path) ||
		    x->max_line != y->max_line || x->queue != y->queue || x->compress != y->compress ||
		    x->idle_timeout_ms != y->idle_timeout_ms)
			return true;
	}
	return false;
}

static void name_restart_keys(const struct tx_config *o, const struct tx_config *n)
{
	const struct config_change keys[] = {
		{"link.to", strcmp(o->to.text, n->to.text) != 0},
		{"link.mtu", o->mtu != n->mtu},
		{"link.impair", config_str_differs(o->impair, n->impair)},
		{"fec", o->overhead_pct != n->overhead_pct || o->block != n->block ||
				o->interleave != n->interleave || o->repeat != n->repeat},
		{"keys.secret", config_str_differs(o->secret_path, n->secret_path)},
		{"keys.receiver", config_str_differs(o->receiver_path, n->receiver_path)},
		{"spools", spools_differ(o, n)},
		{"events", events_differ(o, n)},
		{"metrics.listen", o->metrics_enabled != n->metrics_enabled ||
					   (o->metrics_enabled && strcmp(o->metrics.text, n->metrics.text) != 0)},
		{"state", config_str_differs(o->state, n->state)},
		{"workers", o->workers != n->workers},
		{"user", config_str_differs(o->user, n->user)},
		{"log.format", o->log_format != n->log_format},
	};
	config_log_restart_keys(keys, sizeof(keys) / sizeof(keys[0]));
}

void tx_reload(struct tx *t)
{
	struct tx_config n;
	if (config_tx_reload(t->cfg_path, &n) != 0)
		return;
	name_restart_keys(&t->cfg, &n);
	t->cfg.log_level = n.log_level;
	log_set_level(n.log_level);
	if (n.rate_bps != t->cfg.rate_bps) {
		t->cfg.rate_bps = n.rate_bps;
		sender_set_rate(t->sender, n.rate_bps);
		log_info("link.rate now %llu bit/s", (unsigned long long)n.rate_bps);
	}
	config_tx_free(&n);
	log_info("configuration reloaded: log.level %s, link.rate %llu bit/s", level_name[t->cfg.log_level],
		 (unsigned long long)t->cfg.rate_bps);
}
