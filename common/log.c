/* SPDX-License-Identifier: Apache-2.0 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int g_level = LOG_INFO;
static const char *g_name = "sluice";
static const char *const level_name[] = {"error", "warn", "info", "debug"};

void log_set_level(int level) { g_level = level; }
int log_get_level(void) { return g_level; }
void log_set_name(const char *name)
{
	g_name = name;
	/* The C library reads the time zone file on the first gmtime_r: here, not in a confined
	 * process that may name no file (common/privdrop.h). */
	tzset();
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 2, 0))) static void vlog(int level, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, g_name, level_name[level]);
	if (n < 0)
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write per line so lines from threads never interleave. */
	fwrite(line, 1, len, stderr);
}

void log_msg(int level, const char *fmt, ...)
{
	if (level > g_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
{
	if (level > g_level)
		return;
	uint64_t s = mono_ns() / 1000000000ull;
	uint64_t last = atomic_load(&rl->last_s);
	if (last == s || !atomic_compare_exchange_strong(&rl->last_s, &last, s)) {
		atomic_fetch_add(&rl->suppressed, 1);
		return;
	}
	uint64_t sup = atomic_exchange(&rl->suppressed, 0);
	if (sup)
		log_msg(level, "(%llu similar lines suppressed)", (unsigned long long)sup);
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
