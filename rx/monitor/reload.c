/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGHUP: the monitor reads its configuration file again. What can change while running is
 * taken: log.level (a level shared with every process, common/log.h) and retention.days (the
 * next sweep, at once). Every other key that changed is named in a warning and keeps its value
 * until the next start. A file that does not load changes nothing; its problems are logged.
 * And the audit log is opened anew at log.audit and handed to the deliver process, so that
 * logrotate's rename-then-SIGHUP starts a new file.
 */
#include "rx/monitor/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "rx/audit.h"
#include "rx/monitor/procmsg.h"

static const char *const level_name[] = {"error", "warn", "info", "debug"};

static bool addr_differs(bool a_on, const struct config_addr *a, bool b_on, const struct config_addr *b)
{
	return a_on != b_on || (a_on && strcmp(a->text, b->text) != 0);
}

static bool senders_differ(const struct rx_config *a, const struct rx_config *b)
{
	if (a->nsenders != b->nsenders)
		return true;
	for (size_t i = 0; i < a->nsenders; i++)
		if (strcmp(a->senders[i], b->senders[i]) != 0)
			return true;
	return false;
}

/* Names each key that changed and is not taken while running. */
static void name_restart_keys(const struct rx_config *o, const struct rx_config *n)
{
	const struct config_change keys[] = {
		{"link.listen", strcmp(o->listen.text, n->listen.text) != 0},
		{"keys.secret", config_str_differs(o->secret_path, n->secret_path)},
		{"keys.senders", senders_differ(o, n)},
		{"output.files", config_str_differs(o->files_dir, n->files_dir)},
		{"output.events", config_str_differs(o->events_dir, n->events_dir)},
		{"output.forward", o->forward_kind != n->forward_kind ||
					   config_str_differs(o->forward_path, n->forward_path) ||
					   addr_differs(true, &o->forward, true, &n->forward)},
		{"limits.memory", o->memory_limit != n->memory_limit},
		{"limits.object", o->object_limit != n->object_limit},
		{"metrics.listen", addr_differs(o->metrics_enabled, &o->metrics, n->metrics_enabled, &n->metrics)},
		{"output.min_free", o->min_free_pct != n->min_free_pct || o->min_free_bytes != n->min_free_bytes},
		{"state", config_str_differs(o->state, n->state)},
		{"user", config_str_differs(o->user, n->user)},
		{"log.format", o->log_format != n->log_format},
		{"log.audit", config_str_differs(o->audit_path, n->audit_path)},
	};
	config_log_restart_keys(keys, sizeof(keys) / sizeof(keys[0]));
}

/* The loader's problems, one log line each (they name file, line and column). */
static void reopen_audit(struct mon *m)
{
	if (!m->cfg->audit_path)
		return;
	if (!m->dv_open) {
		log_info("audit log: opened anew for the deliver process when it starts");
		return;
	}
	int fd = audit_open_fd(m->cfg->audit_path);
	if (fd < 0) {
		log_error("audit log %s: %s; the deliver process keeps writing to the old file",
			  m->cfg->audit_path, strerror(-fd));
		return;
	}
	int rc = channel_send_fd(&m->dv, DV_AUDIT, NULL, 0, fd);
	if (rc == 0)
		rc = channel_flush(&m->dv);
	close(fd);
	if (rc != 0 && rc != -EAGAIN) /* -EAGAIN: the rest goes with the channel's next flush */
		log_error("audit log: cannot hand it to the deliver process (%s); send SIGHUP again",
			  strerror(-rc));
}

void mon_reload(struct mon *m)
{
	struct rx_config n;
	if (config_rx_reload(m->cfg_path, &n) != 0) {
		reopen_audit(m);
		return;
	}
	name_restart_keys(m->cfg, &n);
	if (n.log_level != m->cfg->log_level) {
		m->cfg->log_level = n.log_level;
		log_set_level(n.log_level);
	}
	bool sweep = n.retention_days != m->cfg->retention_days && n.retention_days != 0;
	m->cfg->retention_days = n.retention_days;
	config_rx_free(&n);
	reopen_audit(m);
	log_info("configuration reloaded: log.level %s, retention.days %u", level_name[m->cfg->log_level],
		 m->cfg->retention_days);
	if (sweep)
		mon_retention_now(m);
}
