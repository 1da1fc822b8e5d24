/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* Values with units in configuration: rates, sizes, durations, percentages, addresses, names. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/pathrule.h"

/* Parses "<number><unit>" with a decimal number; unit points to what follows. */
static int number(const char *s, double *v, const char **unit)
{
	char *end;
	if (!*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || errno || !isfinite(*v) || *v < 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	*unit = end;
	return 0;
}

int config_parse_rate(const char *s, uint64_t *bps)
{
	static const struct {
		const char *u;
		double mul;
	} units[] = {{"bit", 1}, {"kbit", 1e3}, {"Kbit", 1e3}, {"Mbit", 1e6}, {"Gbit", 1e9}};
	double v;
	const char *u;
	if (number(s, &v, &u) != 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(u, units[i].u) == 0) {
			double r = v * units[i].mul;
			if (r < 1 || r > 1e12)
				return -ERANGE;
			*bps = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *u;
		double mul;
	} units[] = {{"", 1},	   {"B", 1},	     {"KB", 1e3},	 {"MB", 1e6},	     {"GB", 1e9},
		     {"TB", 1e12}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
		     {"TiB", 1099511627776.0}};
	double v;
	const char *u;
	if (number(s, &v, &u) != 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(u, units[i].u) == 0) {
			double r = v * units[i].mul;
			if (r > 1.8e19)
				return -ERANGE;
			*bytes = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *u;
		double mul;
	} units[] = {{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"min", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
	double v;
	const char *u;
	if (number(s, &v, &u) != 0)
		return -EINVAL;
	if (v == 0 && !*u) {
		*ms = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(u, units[i].u) == 0) {
			double r = v * units[i].mul;
			if (r > 365 * 86400e3)
				return -ERANGE;
			*ms = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_percent(const char *s, unsigned *pct)
{
	double v;
	const char *u;
	if (number(s, &v, &u) != 0 || (strcmp(u, "%") != 0 && *u))
		return -EINVAL;
	if (v > 1000 || v != floor(v))
		return -ERANGE;
	*pct = (unsigned)v;
	return 0;
}

int config_parse_addr(const char *s, struct config_addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port;
	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(a->text))
		return -EINVAL;
	snprintf(a->text, sizeof(a->text), "%s", s);
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	char *end;
	if (!isdigit((unsigned char)port[0]))
		return -EINVAL;
	long p = strtol(port, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -ERANGE;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
	if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		a->len = sizeof(*v4);
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		a->len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

_Static_assert(CONFIG_NAME_MAX == PATHRULE_SPOOL_MAX + 1, "a spool name the receiver accepts");

bool config_name_valid(const char *s)
{
	return pathrule_spool_check(s, NULL, 0) == 0;
}
