/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* What both daemons' SIGHUP reloads share: comparing keys, and saying what was refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

bool config_str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

void config_log_refused(const char *problems, const char *path)
{
	for (const char *p = problems ? problems : ""; *p;) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		if (len > 0)
			log_error("reload refused: %.*s", len, p);
		p += len + (nl != NULL);
	}
	log_error("reload refused: %s unchanged, running on the configuration loaded before", path);
}

void config_log_restart_keys(const struct config_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].changed)
			log_warn("%s changed: takes effect at the next start", c[i].key);
}

/* One load with its problems gathered, logged as refused when there are any. */
static int reload(const char *path, int (*load)(const char *, void *, FILE *), void *out)
{
	char *problems = NULL;
	size_t plen = 0;
	FILE *err = open_memstream(&problems, &plen);
	if (!err) {
		log_error("reload: %s", strerror(errno));
		return -ENOMEM;
	}
	int rc = load(path, out, err);
	fclose(err);
	if (rc != 0)
		config_log_refused(problems, path);
	free(problems);
	return rc;
}

static int load_rx(const char *path, void *out, FILE *err) { return config_rx_load(path, out, err); }
static int load_tx(const char *path, void *out, FILE *err) { return config_tx_load(path, out, err); }

int config_rx_reload(const char *path, struct rx_config *out) { return reload(path, load_rx, out); }
int config_tx_reload(const char *path, struct tx_config *out) { return reload(path, load_tx, out); }
