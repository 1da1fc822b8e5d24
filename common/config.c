/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loading. libyaml builds a document with a mark (line, column) on every node;
 * a schema walk checks each mapping against its known keys, converts values and reports every
 * problem at its node, so an operator sees all of them in one run.
 */
#include "common/config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/escape.h"
#include "common/log.h"
#include "hw/impair.h"

struct ctx {
	const char *file;
	FILE *err;
	int nerr;
	yaml_document_t doc;
	const yaml_node_t *fec_node; /* where a block/overhead conflict is reported */
};

/* One line per problem: the values it quotes come from the file and may hold anything (a
 * newline would forge a second problem line, a bidi control reorder this one), so the message
 * is escaped as log lines escape names. */
__attribute__((format(printf, 3, 4))) static void problem(struct ctx *c, const yaml_node_t *n,
							  const char *fmt, ...)
{
	va_list ap;
	unsigned line = n ? (unsigned)n->start_mark.line + 1 : 1;
	unsigned col = n ? (unsigned)n->start_mark.column + 1 : 1;
	char *msg = NULL, *esc = NULL;
	va_start(ap, fmt);
	int len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (len >= 0)
		esc = malloc(4 * (size_t)len + 4); /* an escape is at most 4 bytes per byte */
	fprintf(c->err, "%s:%u:%u: %s\n", c->file, line, col,
		esc ? escape_name(msg, esc, 4 * (size_t)len + 4) : "(out of memory)");
	free(esc);
	free(len >= 0 ? msg : NULL);
	c->nerr++;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct ctx *c, int id) { return yaml_document_get_node(&c->doc, id); }

/* ---- typed fields ---- */

static const char *want_scalar(struct ctx *c, const yaml_node_t *n, const char *key)
{
	const char *s = scalar(n);
	if (!s)
		problem(c, n, "'%s' must be a single value, not a %s", key,
			n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	return s;
}

static void get_string(struct ctx *c, const yaml_node_t *n, const char *key, char **out)
{
	const char *s = want_scalar(c, n, key);
	if (!s)
		return;
	if (!*s) {
		problem(c, n, "'%s' must not be empty", key);
		return;
	}
	free(*out);
	*out = strdup(s);
}

static void get_uint(struct ctx *c, const yaml_node_t *n, const char *key, unsigned lo, unsigned hi,
		     unsigned *out)
{
	const char *s = want_scalar(c, n, key);
	if (!s)
		return;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || s[0] == '-' || errno) {
		problem(c, n, "'%s' must be a whole number, not '%s'", key, s);
		return;
	}
	if (v < lo || v > hi) {
		problem(c, n, "'%s' is %lu; it must be between %u and %u", key, v, lo, hi);
		return;
	}
	*out = (unsigned)v;
}

static void get_rate(struct ctx *c, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *s = want_scalar(c, n, key);
	if (!s)
		return;
	int rc = config_parse_rate(s, out);
	if (rc == -ERANGE)
		problem(c, n, "'%s' %s is out of range (1bit to 1000Gbit)", key, s);
	else if (rc)
		problem(c, n, "bad rate '%s': use a number with bit, kbit, Mbit or Gbit (per second)", s);
}

static void get_size(struct ctx *c, const yaml_node_t *n, const char *key, uint64_t lo, uint64_t hi,
		     const char *range, uint64_t *out)
{
	const char *s = want_scalar(c, n, key);
	if (!s)
		return;
	uint64_t v;
	if (config_parse_size(s, &v) != 0) {
		problem(c, n, "bad size '%s': use a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", s);
		return;
	}
	if (v < lo || v > hi) {
		problem(c, n, "'%s' %s is out of range (%s)", key, s, range);
		return;
	}
	*out = v;
}

static void get_addr(struct ctx *c, const yaml_node_t *n, const char *key, struct config_addr *out)
{
	const char *s = want_scalar(c, n, key);
	if (!s)
		return;
	if (config_parse_addr(s, out) != 0)
		problem(c, n, "bad address '%s' for '%s': use IPv4 a.b.c.d:port or [IPv6]:port, port 1-65535",
			s, key);
}

static void get_level(struct ctx *c, const yaml_node_t *n, int *out)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	const char *s = want_scalar(c, n, "level");
	if (!s)
		return;
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return;
		}
	}
	problem(c, n, "bad log level '%s': use error, warn, info or debug", s);
}

/* ---- mappings ---- */

typedef void (*field_fn)(struct ctx *c, yaml_node_t *value, void *target, const char *key);

struct field {
	const char *key;
	field_fn fn;
	bool required;
};

/* Walks mapping n: each known key once, unknown and duplicate keys reported, required keys
 * checked. `where` names the mapping in messages. */
static void walk(struct ctx *c, yaml_node_t *n, const char *where, const struct field *fields,
		 void *target)
{
	if (n->type != YAML_MAPPING_NODE) {
		problem(c, n, "'%s' must be a mapping of keys to values", where);
		return;
	}
	size_t nf = 0;
	while (fields[nf].key)
		nf++;
	bool seen[32] = {0};
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *ks = scalar(k);
		if (!ks) {
			problem(c, k, "keys in '%s' must be plain names", where);
			continue;
		}
		size_t i = 0;
		while (i < nf && strcmp(fields[i].key, ks) != 0)
			i++;
		if (i == nf) {
			problem(c, k, "unknown key '%s' in '%s'", ks, where);
			continue;
		}
		if (seen[i]) {
			problem(c, k, "duplicate key '%s' in '%s'", ks, where);
			continue;
		}
		seen[i] = true;
		fields[i].fn(c, v, target, ks);
	}
	for (size_t i = 0; i < nf; i++)
		if (fields[i].required && !seen[i])
			problem(c, n, "missing required key '%s' in '%s'", fields[i].key, where);
}

/* ---- sender ---- */

#define TXF(name) static void name(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
#define TX struct tx_config *t = t_

TXF(tx_to) { TX; get_addr(c, v, key, &t->to); }
TXF(tx_mtu) { TX; get_uint(c, v, key, 576, 65535, &t->mtu); }
TXF(tx_rate) { TX; get_rate(c, v, key, &t->rate_bps); }
TXF(tx_impair)
{
	TX;
	struct impair_config ic;
	get_string(c, v, key, &t->impair);
	if (t->impair && impair_config_parse(t->impair, &ic) != 0)
		problem(c, v, "bad impairment '%s': use drop=P,burst=P:LEN,reorder=P,dup=P,corrupt=P,seed=N",
			t->impair);
}
TXF(tx_overhead)
{
	TX;
	const char *s = want_scalar(c, v, key);
	if (s && config_parse_percent(s, &t->overhead_pct) != 0)
		problem(c, v, "bad overhead '%s': use a whole percentage such as 25%%", s);
	else if (s && t->overhead_pct > 400)
		problem(c, v, "overhead %s is out of range (0%% to 400%%)", s);
	if (!c->fec_node)
		c->fec_node = v;
}
TXF(tx_block) { TX; get_uint(c, v, key, 1, 254, &t->block); c->fec_node = v; }
TXF(tx_interleave) { TX; get_uint(c, v, key, 1, 256, &t->interleave); }
TXF(tx_repeat) { TX; get_uint(c, v, key, 1, 16, &t->repeat); }
TXF(tx_secret)
{
	TX;
	get_string(c, v, key, &t->secret_path);
	t->secret_line = (unsigned)v->start_mark.line + 1;
	t->secret_col = (unsigned)v->start_mark.column + 1;
}
TXF(tx_receiver)
{
	TX;
	get_string(c, v, key, &t->receiver_path);
	t->receiver_line = (unsigned)v->start_mark.line + 1;
	t->receiver_col = (unsigned)v->start_mark.column + 1;
}
TXF(tx_metrics_listen) { TX; get_addr(c, v, key, &t->metrics); t->metrics_enabled = true; }
TXF(tx_state) { TX; get_string(c, v, key, &t->state); }
TXF(tx_level) { TX; get_level(c, v, &t->log_level); }
TXF(tx_workers) { TX; get_uint(c, v, key, 1, 64, &t->workers); }

static const struct field link_tx_fields[] = {
	{"to", tx_to, true}, {"mtu", tx_mtu, false}, {"rate", tx_rate, false},
	{"impair", tx_impair, false}, {NULL, NULL, false}};
static const struct field fec_fields[] = {{"overhead", tx_overhead, false}, {"block", tx_block, false},
					   {"interleave", tx_interleave, false}, {"repeat", tx_repeat, false},
					   {NULL, NULL, false}};
static const struct field keys_tx_fields[] = {
	{"secret", tx_secret, true}, {"receiver", tx_receiver, true}, {NULL, NULL, false}};
static const struct field metrics_tx_fields[] = {{"listen", tx_metrics_listen, true}, {NULL, NULL, false}};
static const struct field log_tx_fields[] = {{"level", tx_level, false}, {NULL, NULL, false}};

TXF(tx_link) { walk(c, v, key, link_tx_fields, t_); }
TXF(tx_fec) { walk(c, v, key, fec_fields, t_); }
TXF(tx_keys) { walk(c, v, key, keys_tx_fields, t_); }
TXF(tx_metrics) { walk(c, v, key, metrics_tx_fields, t_); }
TXF(tx_log) { walk(c, v, key, log_tx_fields, t_); }

static void sp_name(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_spool *sp = t_;
	const char *n = want_scalar(c, v, key);
	if (!n)
		return;
	if (!config_name_valid(n))
		problem(c, v, "bad name '%s': use 1 to 63 of a-z 0-9 . _ -, not starting with '.'", n);
	else
		snprintf(sp->name, sizeof(sp->name), "%s", n);
}
static void sp_path(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	get_string(c, v, key, &((struct config_spool *)t_)->path);
}
static void sp_after(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_spool *sp = t_;
	const char *a = want_scalar(c, v, key);
	if (!a)
		return;
	if (strcmp(a, "delete") == 0)
		sp->after_delete = true;
	else if (strcmp(a, "keep") == 0)
		sp->after_delete = false;
	else
		problem(c, v, "bad value '%s' for 'after': use delete or keep", a);
}
static void sp_keep_for(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_spool *sp = t_;
	const char *a = want_scalar(c, v, key);
	if (!a)
		return;
	int rc = config_parse_duration(a, &sp->keep_for_ms);
	if (rc == -ERANGE)
		problem(c, v, "'%s' %s is out of range (0 to 365d)", key, a);
	else if (rc)
		problem(c, v, "bad duration '%s' for '%s': use a number with ms, s, m, h or d (0 deletes at once)",
			a, key);
}
static const struct field spool_fields[] = {
	{"name", sp_name, true},	  {"path", sp_path, true}, {"after", sp_after, false},
	{"keep_for", sp_keep_for, false}, {NULL, NULL, false}};

static void ev_name(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_event *e = t_;
	const char *n = want_scalar(c, v, key);
	if (!n)
		return;
	if (!config_name_valid(n))
		problem(c, v, "bad name '%s': use 1 to 63 of a-z 0-9 . _ -, not starting with '.'", n);
	else
		snprintf(e->name, sizeof(e->name), "%s", n);
}
/* udp:HOST:PORT, tcp:HOST:PORT or unix:/absolute/path (event intake, event forwarding). */
static void get_endpoint(struct ctx *c, yaml_node_t *v, const char *key, enum config_event_kind *kind,
			 struct config_addr *addr, char **path)
{
	const char *s = want_scalar(c, v, key);
	if (!s)
		return;
	if (strncmp(s, "udp:", 4) == 0 || strncmp(s, "tcp:", 4) == 0) {
		*kind = s[0] == 'u' ? CONFIG_EVENT_UDP : CONFIG_EVENT_TCP;
		if (config_parse_addr(s + 4, addr) != 0)
			problem(c, v, "bad address '%s' for '%s': use udp:HOST:PORT, tcp:HOST:PORT or unix:/path",
				s, key);
	} else if (strncmp(s, "unix:", 5) == 0 && s[5] == '/' && strlen(s + 5) < 108) {
		*kind = CONFIG_EVENT_UNIX;
		free(*path);
		*path = strdup(s + 5);
	} else {
		problem(c, v, "bad %s '%s': use udp:HOST:PORT, tcp:HOST:PORT or unix:/absolute/path", key, s);
	}
}
static void ev_listen(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	struct config_event *e = t_;
	get_endpoint(c, v, key, &e->kind, &e->addr, &e->unix_path);
}
static void ev_max_line(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	get_size(c, v, key, 16, 1u << 20, "16B to 1MiB", &((struct config_event *)t_)->max_line);
}
static void ev_queue(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	get_uint(c, v, key, 1, 10000000, &((struct config_event *)t_)->queue);
}
static void ev_compress(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	get_uint(c, v, key, 0, 19, &((struct config_event *)t_)->compress);
}
static void ev_idle_timeout(struct ctx *c, yaml_node_t *v, void *t_, const char *key)
{
	const char *s = want_scalar(c, v, key);
	uint64_t ms;
	if (!s)
		return;
	if (config_parse_duration(s, &ms) != 0)
		problem(c, v, "bad duration '%s' for '%s': use a number with ms, s, min or h", s, key);
	else if (ms < 100 || ms > 86400000)
		problem(c, v, "'%s' %s is out of range (100ms to 24h)", key, s);
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
		problem(c, v, "'%s' must be a list", key);
		return NULL;
	}
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	char *arr = calloc(n ? n : 1, sz);
	if (!arr)
		return NULL;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		char *elem = arr + *count * sz;
		const char *name = elem + name_off;
		yaml_node_t *e = node(c, *it);
		if (init)
			init(elem);
		walk(c, e, key, fields, elem);
		for (size_t i = 0; i < *count && name[0]; i++)
			if (strcmp(arr + i * sz + name_off, name) == 0)
				problem(c, e, "duplicate name '%s' in '%s'", name, key);
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
	{NULL, NULL, false}};

/* ---- receiver ---- */

#define RX struct rx_config *r = t_

TXF(rx_listen) { RX; get_addr(c, v, key, &r->listen); }
TXF(rx_secret)
{
	RX;
	get_string(c, v, key, &r->secret_path);
	r->secret_line = (unsigned)v->start_mark.line + 1;
	r->secret_col = (unsigned)v->start_mark.column + 1;
}
TXF(rx_senders)
{
	RX;
	if (v->type != YAML_SEQUENCE_NODE) {
		problem(c, v, "'senders' must be a list of public key files");
		return;
	}
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0) {
		problem(c, v, "'senders' must name at least one sender public key");
		return;
	}
	r->senders = calloc(n, sizeof(*r->senders));
	r->senders_line = calloc(n, sizeof(unsigned));
	r->senders_col = calloc(n, sizeof(unsigned));
	if (!r->senders || !r->senders_line || !r->senders_col)
		return;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(c, *it);
		char *s = NULL;
		get_string(c, e, "senders", &s);
		if (!s)
			continue;
		r->senders_line[r->nsenders] = (unsigned)e->start_mark.line + 1;
		r->senders_col[r->nsenders] = (unsigned)e->start_mark.column + 1;
		r->senders[r->nsenders++] = s;
	}
}
TXF(rx_files) { RX; get_string(c, v, key, &r->files_dir); }
TXF(rx_events_dir) { RX; get_string(c, v, key, &r->events_dir); }
TXF(rx_forward) { RX; get_endpoint(c, v, key, &r->forward_kind, &r->forward, &r->forward_path); }
TXF(rx_days) { RX; get_uint(c, v, key, 0, 36500, &r->retention_days); }
TXF(rx_memory) { RX; get_size(c, v, key, 16000000ull, 1ull << 40, "16MB to 1TiB", &r->memory_limit); }
TXF(rx_object) { RX; get_size(c, v, key, 1, 1000000000000ull, "1B to 1TB", &r->object_limit); }
TXF(rx_metrics_listen) { RX; get_addr(c, v, key, &r->metrics); r->metrics_enabled = true; }
TXF(rx_state) { RX; get_string(c, v, key, &r->state); }
TXF(rx_level) { RX; get_level(c, v, &r->log_level); }
TXF(rx_audit) { RX; get_string(c, v, key, &r->audit_path); }

static const struct field link_rx_fields[] = {{"listen", rx_listen, true}, {NULL, NULL, false}};
static const struct field keys_rx_fields[] = {
	{"secret", rx_secret, true}, {"senders", rx_senders, true}, {NULL, NULL, false}};
static const struct field output_fields[] = {
	{"files", rx_files, true}, {"events", rx_events_dir, true}, {"forward", rx_forward, false},
	{NULL, NULL, false}};
static const struct field retention_fields[] = {{"days", rx_days, false}, {NULL, NULL, false}};
static const struct field limits_fields[] = {
	{"memory", rx_memory, false}, {"object", rx_object, false}, {NULL, NULL, false}};
static const struct field metrics_rx_fields[] = {{"listen", rx_metrics_listen, true}, {NULL, NULL, false}};
static const struct field log_rx_fields[] = {
	{"level", rx_level, false}, {"audit", rx_audit, false}, {NULL, NULL, false}};

TXF(rx_link) { walk(c, v, key, link_rx_fields, t_); }
TXF(rx_keys) { walk(c, v, key, keys_rx_fields, t_); }
TXF(rx_output) { walk(c, v, key, output_fields, t_); }
TXF(rx_retention) { walk(c, v, key, retention_fields, t_); }
TXF(rx_limits) { walk(c, v, key, limits_fields, t_); }
TXF(rx_metrics) { walk(c, v, key, metrics_rx_fields, t_); }
TXF(rx_log) { walk(c, v, key, log_rx_fields, t_); }

static const struct field rx_fields[] = {
	{"link", rx_link, true},	   {"keys", rx_keys, true},	  {"output", rx_output, true},
	{"retention", rx_retention, false}, {"limits", rx_limits, false}, {"metrics", rx_metrics, false},
	{"state", rx_state, false},	   {"log", rx_log, false},	  {NULL, NULL, false}};

/* ---- folders ----
 * Run after the schema walk, against the file system: each folder key must be (or become) a
 * folder, and no two may be the same folder or nest, or the daemon would send, sweep or
 * deliver its own files. Paths are compared as the kernel will see them: the part that exists
 * through realpath (links resolved), the rest lexically (".", "..", repeated slashes). */

struct folder {
	char label[CONFIG_NAME_MAX + 32]; /* "'state'", "the path of spool 'cam'" */
	const char *text;  /* as written */
	const yaml_node_t *node; /* its value, or NULL when it is a default */
	char real[PATH_MAX];
	bool ok; /* resolved, and not blocked by a file */
};

static yaml_node_t *lookup(struct ctx *c, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));
		if (k && strcmp(k, key) == 0)
			return node(c, p->value);
	}
	return NULL;
}

/* Appends the components of rel to out (absolute, no trailing slash), "." dropped and ".."
 * taking one off. false when it would not fit. */
static bool lexical_append(char *out, size_t cap, const char *rel)
{
	size_t len = strlen(out);
	if (len == 1)
		len = 0; /* "/" */
	while (*rel) {
		while (*rel == '/')
			rel++;
		size_t n = strcspn(rel, "/");
		if (n == 0)
			break;
		if (n == 1 && rel[0] == '.') {
			/* nothing */
		} else if (n == 2 && rel[0] == '.' && rel[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			if (len + 1 + n >= cap)
				return false;
			out[len++] = '/';
			memcpy(out + len, rel, n);
			len += n;
		}
		rel += n;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return true;
}

/* Resolves f->text into f->real. A part that exists and is not a folder is reported, as is the
 * whole path when want_dir differs from what exists there. */
static void folder_resolve(struct ctx *c, struct folder *f, bool want_dir)
{
	char abs[PATH_MAX], pre[PATH_MAX], real[PATH_MAX];
	int n;
	if (f->text[0] == '/') {
		n = snprintf(abs, sizeof(abs), "%s", f->text);
	} else {
		if (!getcwd(pre, sizeof(pre)))
			return;
		n = snprintf(abs, sizeof(abs), "%s/%s", pre, f->text);
	}
	if (n < 0 || (size_t)n >= sizeof(abs)) {
		problem(c, f->node, "%s is too long", f->label);
		return;
	}
	/* The longest leading part that exists; the rest, which cannot hold links, follows it. */
	size_t cut = strlen(abs);
	for (;;) {
		memcpy(pre, abs, cut);
		pre[cut] = '\0';
		if (realpath(cut ? pre : "/", real))
			break;
		if (cut == 0) {
			strcpy(real, "/");
			break;
		}
		while (cut > 0 && abs[cut - 1] != '/')
			cut--;
		while (cut > 0 && abs[cut - 1] == '/')
			cut--;
	}
	const char *rest = abs + cut;
	struct stat st;
	bool exists = stat(real, &st) == 0;
	bool whole = !rest[strspn(rest, "/")];
	if (exists && !S_ISDIR(st.st_mode) && (!whole || want_dir)) {
		if (whole)
			problem(c, f->node, "%s %s is not a folder", f->label, f->text);
		else
			problem(c, f->node, "%s %s cannot be a folder: %s is not a folder", f->label, f->text,
				cut ? pre : "/");
		return;
	}
	if (exists && S_ISDIR(st.st_mode) && whole && !want_dir) {
		problem(c, f->node, "%s %s is a folder; it must name a file", f->label, f->text);
		return;
	}
	snprintf(f->real, sizeof(f->real), "%s", real);
	if (!lexical_append(f->real, sizeof(f->real), rest)) {
		problem(c, f->node, "%s is too long", f->label);
		return;
	}
	f->ok = true;
}

enum nesting { APART, SAME, INSIDE, CONTAINS };

static bool under(const char *a, const char *b)
{
	size_t n = strlen(b);
	return strncmp(a, b, n) == 0 && (n == 1 || a[n] == '/');
}

static enum nesting nesting(const char *a, const char *b)
{
	return strcmp(a, b) == 0 ? SAME : under(a, b) ? INSIDE : under(b, a) ? CONTAINS : APART;
}

/* a and b must not be the same folder nor nest; reported at a, or at b when a is a default. */
static void folders_apart(struct ctx *c, const struct folder *a, const struct folder *b)
{
	if (!a->ok || !b->ok)
		return;
	enum nesting k = nesting(a->real, b->real);
	if (k == APART)
		return;
	if (!a->node) {
		const struct folder *t = a;
		a = b;
		b = t;
		k = k == INSIDE ? CONTAINS : k == CONTAINS ? INSIDE : k;
	}
	if (k == SAME)
		problem(c, a->node, "%s %s is the same folder as %s (%s); each needs a folder of its own",
			a->label, a->text, b->label, b->text);
	else
		problem(c, a->node, "%s %s %s %s (%s); these folders must not nest", a->label, a->text,
			k == INSIDE ? "is inside" : "contains", b->label, b->text);
}

static void folder_set(struct ctx *c, struct folder *f, const char *label, const char *text,
		       yaml_node_t *n, bool want_dir)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->label, sizeof(f->label), "%s", label);
	f->text = text;
	f->node = n && scalar(n) ? n : NULL;
	if (text)
		folder_resolve(c, f, want_dir);
}

static void check_folders_tx(struct ctx *c, const struct tx_config *t)
{
	yaml_node_t *root = yaml_document_get_root_node(&c->doc);
	yaml_node_t *spools = lookup(c, root, "spools");
	struct folder state, *sp = calloc(t->nspools ? t->nspools : 1, sizeof(*sp));
	if (!sp)
		return;
	folder_set(c, &state, "'state'", t->state, lookup(c, root, "state"), true);
	for (size_t i = 0; i < t->nspools; i++) {
		yaml_node_t *e = spools && spools->type == YAML_SEQUENCE_NODE
					 ? node(c, spools->data.sequence.items.start[i]) : NULL;
		char label[sizeof(sp->label)];
		snprintf(label, sizeof(label), "the path of spool '%s'", t->spools[i].name);
		folder_set(c, &sp[i], label, t->spools[i].path, lookup(c, e, "path"), true);
		for (size_t j = 0; j < i; j++)
			folders_apart(c, &sp[i], &sp[j]);
	}
	for (size_t i = 0; i < t->nspools; i++)
		folders_apart(c, &state, &sp[i]);
	free(sp);
}

static void check_folders_rx(struct ctx *c, const struct rx_config *r)
{
	yaml_node_t *root = yaml_document_get_root_node(&c->doc);
	yaml_node_t *output = lookup(c, root, "output");
	struct folder files, events, state, audit;
	folder_set(c, &files, "'output.files'", r->files_dir, lookup(c, output, "files"), true);
	folder_set(c, &events, "'output.events'", r->events_dir, lookup(c, output, "events"), true);
	folder_set(c, &state, "'state'", r->state, lookup(c, root, "state"), true);
	folder_set(c, &audit, "'log.audit'", r->audit_path, lookup(c, lookup(c, root, "log"), "audit"), false);
	folders_apart(c, &events, &files);
	folders_apart(c, &state, &files);
	folders_apart(c, &state, &events);
	/* Retention would sweep an audit log kept in an output folder, and readers of the output
	 * would take it for delivered data. */
	const struct folder *outs[] = {&files, &events};
	for (size_t i = 0; audit.ok && i < 2; i++)
		if (outs[i]->ok && nesting(audit.real, outs[i]->real) != APART &&
		    nesting(audit.real, outs[i]->real) != CONTAINS)
			problem(c, audit.node, "'log.audit' %s is inside %s (%s); the audit log must be kept out of the output folders",
				audit.text, outs[i]->label, outs[i]->text);
	if (audit.ok && state.ok && strcmp(audit.real, state.real) == 0)
		problem(c, audit.node, "'log.audit' %s is the same path as 'state' (%s)", audit.text, state.text);
}

/* ---- loading ---- */

static int load(const char *path, FILE *err, struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->file = path;
	c->err = err;
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		fprintf(err, "%s:1:1: cannot read: %s\n", path, strerror(e));
		return -e;
	}
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	int ok = yaml_parser_load(&p, &c->doc);
	if (!ok) {
		fprintf(err, "%s:%zu:%zu: YAML syntax error: %s%s%s\n", path, p.problem_mark.line + 1,
			p.problem_mark.column + 1, p.problem ? p.problem : "unknown",
			p.context ? " " : "", p.context ? p.context : "");
		c->nerr++;
	}
	yaml_parser_delete(&p);
	fclose(f);
	if (!ok)
		return 1;
	if (!yaml_document_get_root_node(&c->doc)) {
		fprintf(err, "%s:1:1: the file is empty\n", path);
		yaml_document_delete(&c->doc);
		return 1;
	}
	return 0;
}

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
	int rc = load(path, err, &c);
	if (rc != 0) {
		config_tx_free(t);
		return rc;
	}
	walk(&c, yaml_document_get_root_node(&c.doc), "the sender configuration", tx_fields, t);
	if (!t->state)
		t->state = strdup("/var/lib/sluice/tx");
	check_folders_tx(&c, t);
	if (t->block + (t->block * t->overhead_pct + 99) / 100 > 255) {
		problem(&c, c.fec_node, "fec.block %u with %u%% overhead needs %u repair packets: block + repair must stay within 255",
			t->block, t->overhead_pct, (t->block * t->overhead_pct + 99) / 100);
	}
	int n = c.nerr;
	yaml_document_delete(&c.doc);
	if (n)
		config_tx_free(t);
	return n;
}

int config_rx_load(const char *path, struct rx_config *r, FILE *err)
{
	struct ctx c;
	memset(r, 0, sizeof(*r));
	r->retention_days = 30;
	r->memory_limit = 512000000ull;
	r->object_limit = 4000000000ull;
	r->log_level = LOG_INFO;
	int rc = load(path, err, &c);
	if (rc != 0) {
		config_rx_free(r);
		return rc;
	}
	walk(&c, yaml_document_get_root_node(&c.doc), "the receiver configuration", rx_fields, r);
	if (!r->state)
		r->state = strdup("/var/lib/sluice/rx");
	check_folders_rx(&c, r);
	int n = c.nerr;
	yaml_document_delete(&c.doc);
	if (n)
		config_rx_free(r);
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
	memset(t, 0, sizeof(*t));
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
	memset(r, 0, sizeof(*r));
}
