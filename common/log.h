/* SPDX-License-Identifier: Apache-2.0 */
/* Logging to stderr with levels; per-call-site rate limiting for per-packet paths. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/escape.h" /* a name from disk or the link is printed as ESCAPED(name) */

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(int level);
int log_get_level(void);
/* Sets a prefix printed on every line ("tx", "rx"). */
void log_set_name(const char *name);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line per second at most per call site; suppressed lines are counted and reported. */
struct log_ratelimit {
	_Atomic uint64_t last_s;
	_Atomic uint64_t suppressed;
};
void log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_rl(level, ...)                                                                         \
	do {                                                                                       \
		static struct log_ratelimit rl_;                                                   \
		log_limited(&rl_, level, __VA_ARGS__);                                              \
	} while (0)

/* Wall clock and monotonic clock in nanoseconds. */
uint64_t now_ns(void);
uint64_t mono_ns(void);

#endif
