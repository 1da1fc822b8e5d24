/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema walker under both configurations: libyaml builds a document with a mark (line,
 * column) on every node; schema_walk checks each mapping against its table of known keys
 * (unknown, duplicate and missing required keys reported) and calls each key's function, which
 * converts its value with the typed readers here. Every problem is reported at its node as
 * FILE:LINE:COL: message, and the walk goes on, so an operator sees all of them in one run.
 */
#include "common/config/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/log.h"

/* One line per problem: the values it quotes come from the file and may hold anything (a
 * newline would forge a second problem line, a bidi control reorder this one), so the message
 * is escaped as log lines escape names. */
void schema_problem(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
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

const char *schema_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *schema_node(struct ctx *c, int id) { return yaml_document_get_node(&c->doc, id); }

const char *schema_want_scalar(struct ctx *c, const yaml_node_t *n, const char *key)
{
	const char *s = schema_scalar(n);
	if (!s)
		schema_problem(c, n, "'%s' must be a single value, not a %s", key,
			       n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	return s;
}

void schema_name(struct ctx *c, const yaml_node_t *n, const char *key, char out[CONFIG_NAME_MAX])
{
	const char *s = schema_want_scalar(c, n, key);
	if (!s)
		return;
	if (!config_name_valid(s))
		schema_problem(c, n, "bad name '%s': use 1 to 63 of a-z 0-9 . _ -, not starting with '.'", s);
	else
		snprintf(out, CONFIG_NAME_MAX, "%s", s);
}

void schema_string(struct ctx *c, const yaml_node_t *n, const char *key, char **out)
{
	const char *s = schema_want_scalar(c, n, key);
	if (!s)
		return;
	if (!*s) {
		schema_problem(c, n, "'%s' must not be empty", key);
		return;
	}
	free(*out);
	*out = strdup(s);
}

void schema_uint(struct ctx *c, const yaml_node_t *n, const char *key, unsigned lo, unsigned hi,
		 unsigned *out)
{
	const char *s = schema_want_scalar(c, n, key);
	if (!s)
		return;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || s[0] == '-' || errno) {
		schema_problem(c, n, "'%s' must be a whole number, not '%s'", key, s);
		return;
	}
	if (v < lo || v > hi) {
		schema_problem(c, n, "'%s' is %lu; it must be between %u and %u", key, v, lo, hi);
		return;
	}
	*out = (unsigned)v;
}

void schema_rate(struct ctx *c, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *s = schema_want_scalar(c, n, key);
	if (!s)
		return;
	int rc = config_parse_rate(s, out);
	if (rc == -ERANGE)
		schema_problem(c, n, "'%s' %s is out of range (1bit to 1000Gbit)", key, s);
	else if (rc)
		schema_problem(c, n, "bad rate '%s': use a number with bit, kbit, Mbit or Gbit (per second)", s);
}

void schema_size(struct ctx *c, const yaml_node_t *n, const char *key, uint64_t lo, uint64_t hi,
		 const char *range, uint64_t *out)
{
	const char *s = schema_want_scalar(c, n, key);
	if (!s)
		return;
	uint64_t v;
	if (config_parse_size(s, &v) != 0) {
		schema_problem(c, n, "bad size '%s': use a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB",
			       s);
		return;
	}
	if (v < lo || v > hi) {
		schema_problem(c, n, "'%s' %s is out of range (%s)", key, s, range);
		return;
	}
	*out = v;
}

void schema_addr(struct ctx *c, const yaml_node_t *n, const char *key, struct config_addr *out)
{
	const char *s = schema_want_scalar(c, n, key);
	if (!s)
		return;
	if (config_parse_addr(s, out) != 0)
		schema_problem(c, n, "bad address '%s' for '%s': use IPv4 a.b.c.d:port or [IPv6]:port, port 1-65535",
			       s, key);
}

void schema_level(struct ctx *c, const yaml_node_t *n, int *out)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	const char *s = schema_want_scalar(c, n, "level");
	if (!s)
		return;
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return;
		}
	}
	schema_problem(c, n, "bad log level '%s': use error, warn, info or debug", s);
}

void schema_format(struct ctx *c, const yaml_node_t *n, int *out)
{
	const char *s = schema_want_scalar(c, n, "format");
	if (!s)
		return;
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		schema_problem(c, n, "bad log format '%s': use text or json", s);
}

/* Walks mapping n: each known key once, unknown and duplicate keys reported, required keys
 * checked. `where` names the mapping in messages. */
void schema_walk(struct ctx *c, yaml_node_t *n, const char *where, const struct field *fields,
		 void *target)
{
	if (n->type != YAML_MAPPING_NODE) {
		schema_problem(c, n, "'%s' must be a mapping of keys to values", where);
		return;
	}
	size_t nf = 0;
	while (fields[nf].key)
		nf++;
	bool seen[32] = {0};
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = schema_node(c, p->key), *v = schema_node(c, p->value);
		const char *ks = schema_scalar(k);
		if (!ks) {
			schema_problem(c, k, "keys in '%s' must be plain names", where);
			continue;
		}
		size_t i = 0;
		while (i < nf && strcmp(fields[i].key, ks) != 0)
			i++;
		if (i == nf) {
			schema_problem(c, k, "unknown key '%s' in '%s'", ks, where);
			continue;
		}
		if (seen[i]) {
			schema_problem(c, k, "duplicate key '%s' in '%s'", ks, where);
			continue;
		}
		seen[i] = true;
		fields[i].fn(c, v, target, ks);
	}
	for (size_t i = 0; i < nf; i++)
		if (fields[i].required && !seen[i])
			schema_problem(c, n, "missing required key '%s' in '%s'", fields[i].key, where);
}

/* udp:HOST:PORT, tcp:HOST:PORT or unix:/absolute/path (event intake, event forwarding). */
void schema_endpoint(struct ctx *c, yaml_node_t *v, const char *key, enum config_event_kind *kind,
		     struct config_addr *addr, char **path)
{
	const char *s = schema_want_scalar(c, v, key);
	if (!s)
		return;
	if (strncmp(s, "udp:", 4) == 0 || strncmp(s, "tcp:", 4) == 0) {
		*kind = s[0] == 'u' ? CONFIG_EVENT_UDP : CONFIG_EVENT_TCP;
		if (config_parse_addr(s + 4, addr) != 0)
			schema_problem(c, v, "bad address '%s' for '%s': use udp:HOST:PORT, tcp:HOST:PORT or unix:/path",
				       s, key);
	} else if (strncmp(s, "unix:", 5) == 0 && s[5] == '/' && strlen(s + 5) < 108) {
		*kind = CONFIG_EVENT_UNIX;
		free(*path);
		*path = strdup(s + 5);
	} else {
		schema_problem(c, v, "bad %s '%s': use udp:HOST:PORT, tcp:HOST:PORT or unix:/absolute/path",
			       key, s);
	}
}

yaml_node_t *schema_lookup(struct ctx *c, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = schema_scalar(schema_node(c, p->key));
		if (k && strcmp(k, key) == 0)
			return schema_node(c, p->value);
	}
	return NULL;
}

int schema_load(const char *path, FILE *err, struct ctx *c)
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
