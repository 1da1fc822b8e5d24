/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The receiver's configuration: its keys (a table per mapping, a function per key), the
 * defaults, and the folders' checks (folders.c).
 */
#include "common/config/internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define RX struct rx_config *r = t_

TXF(rx_listen) { RX; schema_addr(c, v, key, &r->listen); }
TXF(rx_secret)
{
	RX;
	schema_string(c, v, key, &r->secret_path);
	r->secret_line = (unsigned)v->start_mark.line + 1;
	r->secret_col = (unsigned)v->start_mark.column + 1;
}
TXF(rx_senders)
{
	RX;
	if (v->type != YAML_SEQUENCE_NODE) {
		schema_problem(c, v, "'senders' must be a list of public key files");
		return;
	}
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0) {
		schema_problem(c, v, "'senders' must name at least one sender public key");
		return;
	}
	r->senders = calloc(n, sizeof(*r->senders));
	r->senders_line = calloc(n, sizeof(unsigned));
	r->senders_col = calloc(n, sizeof(unsigned));
	if (!r->senders || !r->senders_line || !r->senders_col)
		return;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = schema_node(c, *it);
		char *s = NULL;
		schema_string(c, e, "senders", &s);
		if (!s)
			continue;
		r->senders_line[r->nsenders] = (unsigned)e->start_mark.line + 1;
		r->senders_col[r->nsenders] = (unsigned)e->start_mark.column + 1;
		r->senders[r->nsenders++] = s;
	}
}
TXF(rx_files) { RX; schema_string(c, v, key, &r->files_dir); }
TXF(rx_events_dir) { RX; schema_string(c, v, key, &r->events_dir); }
TXF(rx_forward) { RX; schema_endpoint(c, v, key, &r->forward_kind, &r->forward, &r->forward_path); }
TXF(rx_min_free)
{
	RX;
	const char *s = schema_want_scalar(c, v, key);
	if (!s)
		return;
	unsigned pct;
	uint64_t bytes;
	if (*s && s[strlen(s) - 1] == '%' && config_parse_percent(s, &pct) == 0) {
		if (pct > 50) {
			schema_problem(c, v, "'%s' %s is out of range (0%% to 50%%)", key, s);
			return;
		}
		r->min_free_pct = pct;
		r->min_free_bytes = 0;
	} else if (config_parse_size(s, &bytes) == 0) {
		r->min_free_pct = 0;
		r->min_free_bytes = bytes;
	} else {
		schema_problem(c, v, "bad min_free '%s': use a percentage such as 5%% or a size such as "
				     "64MB", s);
	}
}
TXF(rx_days) { RX; schema_uint(c, v, key, 0, 36500, &r->retention_days); }
TXF(rx_memory)
{
	RX;
	schema_size(c, v, key, 16000000ull, 1ull << 40, "16MB to 1TiB", &r->memory_limit);
}
TXF(rx_object) { RX; schema_size(c, v, key, 1, 1000000000000ull, "1B to 1TB", &r->object_limit); }
TXF(rx_metrics_listen) { RX; schema_addr(c, v, key, &r->metrics); r->metrics_enabled = true; }
TXF(rx_state) { RX; schema_string(c, v, key, &r->state); }
TXF(rx_level) { RX; schema_level(c, v, &r->log_level); }
TXF(rx_format) { RX; schema_format(c, v, &r->log_format); }
TXF(rx_user) { RX; schema_string(c, v, key, &r->user); }
TXF(rx_audit) { RX; schema_string(c, v, key, &r->audit_path); }

static const struct field link_rx_fields[] = {{"listen", rx_listen, true}, {NULL, NULL, false}};
static const struct field keys_rx_fields[] = {
	{"secret", rx_secret, true}, {"senders", rx_senders, true}, {NULL, NULL, false}};
static const struct field output_fields[] = {
	{"files", rx_files, true}, {"events", rx_events_dir, true}, {"forward", rx_forward, false},
	{"min_free", rx_min_free, false}, {NULL, NULL, false}};
static const struct field retention_fields[] = {{"days", rx_days, false}, {NULL, NULL, false}};
static const struct field limits_fields[] = {
	{"memory", rx_memory, false}, {"object", rx_object, false}, {NULL, NULL, false}};
static const struct field metrics_rx_fields[] = {{"listen", rx_metrics_listen, true}, {NULL, NULL, false}};
static const struct field log_rx_fields[] = {
	{"level", rx_level, false}, {"format", rx_format, false}, {"audit", rx_audit, false},
	{NULL, NULL, false}};

TXF(rx_link) { schema_walk(c, v, key, link_rx_fields, t_); }
TXF(rx_keys) { schema_walk(c, v, key, keys_rx_fields, t_); }
TXF(rx_output) { schema_walk(c, v, key, output_fields, t_); }
TXF(rx_retention) { schema_walk(c, v, key, retention_fields, t_); }
TXF(rx_limits) { schema_walk(c, v, key, limits_fields, t_); }
TXF(rx_metrics) { schema_walk(c, v, key, metrics_rx_fields, t_); }
TXF(rx_log) { schema_walk(c, v, key, log_rx_fields, t_); }

static const struct field rx_fields[] = {
	{"link", rx_link, true},	   {"keys", rx_keys, true},	  {"output", rx_output, true},
	{"retention", rx_retention, false}, {"limits", rx_limits, false}, {"metrics", rx_metrics, false},
	{"state", rx_state, false},	   {"log", rx_log, false},	  {"user", rx_user, false},
	{NULL, NULL, false}};

int config_rx_load(const char *path, struct rx_config *r, FILE *err)
{
	struct ctx c;
	memset(r, 0, sizeof(*r));
	r->retention_days = 30;
	r->min_free_pct = 1;
	r->memory_limit = 512000000ull;
	r->object_limit = 4000000000ull;
	r->log_level = LOG_INFO;
	int rc = schema_load(path, err, &c);
	if (rc != 0) {
		config_rx_free(r);
		return rc;
	}
	schema_walk(&c, yaml_document_get_root_node(&c.doc), "the receiver configuration", rx_fields, r);
	if (!r->state)
		r->state = strdup("/var/lib/sluice/rx");
	if (!r->user)
		r->user = strdup("sluice");
	folders_check_rx(&c, r);
	int n = c.nerr;
	yaml_document_delete(&c.doc);
	if (n)
		config_rx_free(r);
	return n;
}

void config_rx_free(struct rx_config *r)
{
	for (size_t i = 0; i < r->nsenders; i++)
		free(r->senders[i]);
	free(r->senders);
	free(r->senders_line);
	free(r->senders_col);
	free(r->secret_path);
	free(r->files_dir);
	free(r->events_dir);
	free(r->forward_path);
	free(r->state);
	free(r->audit_path);
	free(r->user);
	memset(r, 0, sizeof(*r));
}
