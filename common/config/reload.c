/* SPDX-License-Identifier: Apache-2.0 */
/* What both daemons' SIGHUP reloads share: comparing keys, and saying what was refused. */
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
