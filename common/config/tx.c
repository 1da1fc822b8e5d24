/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender's configuration: its keys (a table per mapping, a function per key), the spools
 * and events lists, the defaults, and the checks across keys (fec.block with its overhead;
 * the folders, folders.c).
 */
#include "common/config/internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "hw/impair.h"

#define TX struct tx_config *t = t_

TXF(tx_to) { TX; schema_addr(c, v, key, &t->to); }
TXF(tx_mtu) { TX; schema_uint(c, v, key, 576, 65535, &t->mtu); }
TXF(tx_rate) { TX; schema_rate(c, v, key, &t->rate_bps); }
TXF(tx_impair)
{
	TX;
	struct impair_config ic;
	schema_string(c, v, key, &t->impair);
	if (t->impair && impair_config_parse(t->impair, &ic) != 0)
		schema_problem(c, v, "bad impairment '%s': use drop=P,burst=P:LEN,reorder=P,dup=P,corrupt=P,seed=N",
			       t->impair);
}
TXF(tx_overhead)
{
	TX;
	const char *s = schema_want_scalar(c, v, key);
	if (s && config_parse_percent(s, &t->overhead_pct) != 0)
		schema_problem(c, v, "bad overhead '%s': use a whole percentage such as 25%%", s);
	else if (s && t->overhead_pct > 400)
		schema_problem(c, v, "overhead %s is out of range (0%% to 400%%)", s);
	if (!c->fec_node)
		c->fec_node = v;
}
TXF(tx_block) { TX; schema_uint(c, v, key, 1, 254, &t->block); c->fec_node = v; }
TXF(tx_interleave) { TX; schema_uint(c, v, key, 1, 256, &t->interleave); }
TXF(tx_repeat) { TX; schema_uint(c, v, key, 1, 16, &t->repeat); }
TXF(tx_secret)
{
	TX;
	schema_string(c, v, key, &t->secret_path);
	t->secret_line = (unsigned)v->start_mark.line + 1;
	t->secret_col = (unsigned)v->start_mark.column + 1;
}
TXF(tx_receiver)
{
	TX;
	schema_string(c, v, key, &t->receiver_path);
	t->receiver_line = (unsigned)v->start_mark.line + 1;
	t->receiver_col = (unsigned)v->start_mark.column + 1;
}
TXF(tx_metrics_listen) { TX; schema_addr(c, v, key, &t->metrics); t->metrics_enabled = true; }
TXF(tx_state) { TX; schema_string(c, v, key, &t->state); }
TXF(tx_level) { TX; schema_level(c, v, &t->log_level); }
TXF(tx_format) { TX; schema_format(c, v, &t->log_format); }
TXF(tx_workers) { TX; schema_uint(c, v, key, 1, 64, &t->workers); }
TXF(tx_user) { TX; schema_string(c, v, key, &t->user); }

static const struct field link_tx_fields[] = {
	{"to", tx_to, true}, {"mtu", tx_mtu, false}, {"rate", tx_rate, false},
	{"impair", tx_impair, false}, {NULL, NULL, false}};
static const struct field fec_fields[] = {{"overhead", tx_overhead, false}, {"block", tx_block, false},
					   {"interleave", tx_interleave, false}, {"repeat", tx_repeat, false},
					   {NULL, NULL, false}};
static const struct field keys_tx_fields[] = {
	{"secret", tx_secret, true}, {"receiver", tx_receiver, true}, {NULL, NULL, false}};
static const struct field metrics_tx_fields[] = {{"listen", tx_metrics_listen, true}, {NULL, NULL, false}};
static const struct field log_tx_fields[] = {
	{"level", tx_level, false}, {"format", tx_format, false}, {NULL, NULL, false}};

TXF(tx_link) { schema_walk(c, v, key, link_tx_fields, t_); }
TXF(tx_fec) { schema_walk(c, v, key, fec_fields, t_); }
TXF(tx_keys) { schema_walk(c, v, key, keys_tx_fields, t_); }
TXF(tx_metrics) { schema_walk(c, v, key, metrics_tx_fields, t_); }
TXF(tx_log) { schema_walk(c, v, key, log_tx_fields, t_); }

static void sp_name(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	schema_name(c, v, key, ((struct config_spool *)t_)->name);
}
static void sp_path(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	schema_string(c, v, key, &((struct config_spool *)t_)->path);
}
static void sp_after(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_spool *sp = t_;
	const char *a = schema_want_scalar(c, v, key);
	if (!a)
		return;
	if (strcmp(a, "delete") == 0)
		sp->after_delete = true;
	else if (strcmp(a, "keep") == 0)
		sp->after_delete = false;
	else
		schema_problem(c, v, "bad value '%s' for 'after': use delete or keep", a);
}
static void sp_keep_for(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_spool *sp = t_;
	const char *a = schema_want_scalar(c, v, key);
	if (!a)
		return;
	int rc = config_parse_duration(a, &sp->keep_for_ms);
	if (rc == -ERANGE)
		schema_problem(c, v, "'%s' %s is out of range (0 to 365d)", key, a);
	else if (rc)
		schema_problem(c, v, "bad duration '%s' for '%s': use a number with ms, s, m, h or d (0 deletes at once)",
			       a, key);
}
static const struct field spool_fields[] = {
	{"name", sp_name, true},	  {"path", sp_path, true}, {"after", sp_after, false},
	{"keep_for", sp_keep_for, false}, {NULL, NULL, false}};

static void ev_name(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	schema_name(c, v, key, ((struct config_event *)t_)->name);
}

static void ev_listen(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_event *e = t_;
	schema_endpoint(c, v, key, &e->kind, &e->addr, &e->unix_path);
}
static void ev_max_line(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	schema_size(c, v, key, 16, 1u << 20, "16B to 1MiB", &((struct config_event *)t_)->max_line);
}
static void ev_queue(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	schema_uint(c, v, key, 1, 10000000, &((struct config_event *)t_)->queue);
}
static void ev_compress(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	schema_uint(c, v, key, 0, 19, &((struct config_event *)t_)->compress);
}
static void ev_idle_timeout(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	const char *s = schema_want_scalar(c, v, key);
	uint64_t ms;
	if (!s)
		return;
	if (config_parse_duration(s, &ms) != 0)
		schema_problem(c, v, "bad duration '%s' for '%s': use a number with ms, s, min or h", s, key);
	else if (ms < 100 || ms > 86400000)
		schema_problem(c, v, "'%s' %s is out of range (100ms to 24h)", key, s);
	else
		((struct config_event *)t_)->idle_timeout_ms = ms;
}
static const struct field event_fields[] = {
	{"name", ev_name, true},       {"listen", ev_listen, true}, {"max_line", ev_max_line, false},
	{"queue", ev_queue, false},    {"compress", ev_compress, false},
	{"idle_timeout", ev_idle_timeout, false}, {NULL, NULL, false}};

/* A list of mappings each with a unique `name` (spools, events): n elements of sz bytes,
 * each walked with fields, their name at name_off. */
static void *named_list(struct ctx *c, yaml_node_t *v, const char *key, size_t sz, size_t name_off,
			const struct field *fields, void (*init)(void *), size_t *count)
{
	if (v->type != YAML_SEQUENCE_NODE) {
		schema_problem(c, v, "'%s' must be a list", key);
		return NULL;
	}
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	char *arr = calloc(n ? n : 1, sz);
	if (!arr)
		return NULL;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		char *elem = arr + *count * sz;
		const char *name = elem + name_off;
		yaml_node_t *e = schema_node(c, *it);
		if (init)
			init(elem);
		schema_walk(c, e, key, fields, elem);
		for (size_t i = 0; i < *count && name[0]; i++)
			if (strcmp(arr + i * sz + name_off, name) == 0)
				schema_problem(c, e, "duplicate name '%s' in '%s'", name, key);
		(*count)++;
	}
	return arr;
}

static void spool_init(void *p)
{
	struct config_spool *sp = p;
	sp->after_delete = true;
	sp->keep_for_ms = 3600u * 1000u;
}

static void event_init(void *p)
{
	struct config_event *e = p;
	e->max_line = 64u << 10;
	e->queue = 100000;
	e->compress = 3;
	e->idle_timeout_ms = 60000;
}

TXF(tx_spools)
{
	TX;
	t->spools = named_list(c, v, key, sizeof(*t->spools), offsetof(struct config_spool, name),
			       spool_fields, spool_init, &t->nspools);
}

TXF(tx_events)
{
	TX;
	t->events = named_list(c, v, key, sizeof(*t->events), offsetof(struct config_event, name),
			       event_fields, event_init, &t->nevents);
}

static const struct field tx_fields[] = {
	{"link", tx_link, true},   {"fec", tx_fec, false},	   {"keys", tx_keys, true},
	{"spools", tx_spools, false}, {"events", tx_events, false}, {"metrics", tx_metrics, false},
	{"state", tx_state, false}, {"log", tx_log, false},	   {"workers", tx_workers, false},
	{"user", tx_user, false},   {NULL, NULL, false}};

static unsigned default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

int config_tx_load(const char *path, struct tx_config *t, FILE *err)
{
	struct ctx c;
	memset(t, 0, sizeof(*t));
	t->mtu = 1500;
	t->rate_bps = 800000000ull;
	t->overhead_pct = 25;
	t->block = 128;
	t->interleave = 16;
	t->repeat = 1;
	t->log_level = LOG_INFO;
	t->workers = default_workers();
	int rc = schema_load(path, err, &c);
	if (rc != 0) {
		config_tx_free(t);
		return rc;
	}
	schema_walk(&c, yaml_document_get_root_node(&c.doc), "the sender configuration", tx_fields, t);
	if (!t->state)
		t->state = strdup("/var/lib/sluice/tx");
	if (!t->user)
		t->user = strdup("sluice");
	folders_check_tx(&c, t);
	if (t->block + (t->block * t->overhead_pct + 99) / 100 > 255) {
		schema_problem(&c, c.fec_node, "fec.block %u with %u%% overhead needs %u repair packets: block + repair must stay within 255",
			       t->block, t->overhead_pct, (t->block * t->overhead_pct + 99) / 100);
	}
	int n = c.nerr;
	yaml_document_delete(&c.doc);
	if (n)
		config_tx_free(t);
	return n;
}

void config_tx_free(struct tx_config *t)
{
	for (size_t i = 0; i < t->nspools; i++)
		free(t->spools[i].path);
	free(t->spools);
	for (size_t i = 0; i < t->nevents; i++)
		free(t->events[i].unix_path);
	free(t->events);
	free(t->secret_path);
	free(t->receiver_path);
	free(t->impair);
	free(t->state);
	free(t->user);
	memset(t, 0, sizeof(*t));
}
