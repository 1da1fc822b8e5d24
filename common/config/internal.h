/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration loader's parts (the files of common/config/) and what they share: the
 * loading context, the key tables' types, the schema walker and its typed readers (schema.c),
 * and the folders' checks (folders.c). Not for use outside common/config/; the interface is
 * common/config.h.
 */
#ifndef SLUICE_COMMON_CONFIG_INTERNAL_H
#define SLUICE_COMMON_CONFIG_INTERNAL_H

#include "common/config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

struct ctx {
	const char *file;
	FILE *err;
	int nerr;
	yaml_document_t doc;
	const yaml_node_t *fec_node; /* where a block/overhead conflict is reported */
};

typedef void (*field_fn)(struct ctx *c, yaml_node_t *value, void *target, const char *key);

struct field {
	const char *key;
	field_fn fn;
	bool required;
};

/* A key's function, for a field table. */
#define TXF(name) static void name(struct ctx *c, yaml_node_t *v, void *t_, const char *key)

/* schema.c */
void schema_problem(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *schema_scalar(const yaml_node_t *n);
yaml_node_t *schema_node(struct ctx *c, int id);
const char *schema_want_scalar(struct ctx *c, const yaml_node_t *n, const char *key);
void schema_string(struct ctx *c, const yaml_node_t *n, const char *key, char **out);
/* A spool or event source name (config_name_valid), copied into out. */
void schema_name(struct ctx *c, const yaml_node_t *n, const char *key, char out[CONFIG_NAME_MAX]);
void schema_uint(struct ctx *c, const yaml_node_t *n, const char *key, unsigned lo, unsigned hi,
		 unsigned *out);
void schema_rate(struct ctx *c, const yaml_node_t *n, const char *key, uint64_t *out);
void schema_size(struct ctx *c, const yaml_node_t *n, const char *key, uint64_t lo, uint64_t hi,
		 const char *range, uint64_t *out);
void schema_addr(struct ctx *c, const yaml_node_t *n, const char *key, struct config_addr *out);
void schema_level(struct ctx *c, const yaml_node_t *n, int *out);
void schema_format(struct ctx *c, const yaml_node_t *n, int *out); /* log.format */
void schema_endpoint(struct ctx *c, yaml_node_t *v, const char *key, enum config_event_kind *kind,
		     struct config_addr *addr, char **path);
void schema_walk(struct ctx *c, yaml_node_t *n, const char *where, const struct field *fields,
		 void *target);
yaml_node_t *schema_lookup(struct ctx *c, yaml_node_t *map, const char *key);
int schema_load(const char *path, FILE *err, struct ctx *c);

/* folders.c */
void folders_check_tx(struct ctx *c, const struct tx_config *t);
void folders_check_rx(struct ctx *c, const struct rx_config *r);

#endif
