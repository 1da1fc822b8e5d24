/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* Logging to stderr with levels; per-call-site rate limiting for per-packet paths. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/escape.h" /* a name from disk or the link is printed as ESCAPED(name) */

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(int level);
int log_get_level(void);
/* Sets a prefix printed on every line ("tx", "rx"). */
void log_set_name(const char *name);

/*
 * log.format. TEXT: "2026-01-02T03:04:05.678Z NAME LEVEL: message". JSON: one object per line,
 *   {"time":"2026-01-02T03:04:05.678Z","level":"info","process":"sluice-rx deliver","msg":"..."}
 * in printable ASCII (every other character \u-escaped; a byte that is not UTF-8 becomes
 * U+FFFD), so that any message still makes exactly one line of valid JSON.
 */
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };
void log_set_format(int format);
/* Whether stderr is the journal: JOURNAL_STREAM ("DEV:INODE", set by systemd) names the file
 * stderr is. Then each line starts with its sd-daemon(3) priority ("<3>" error, "<4>" warn,
 * "<6>" info, "<7>" debug) and a text line has no time (the journal stamps it). Call before
 * any confinement; forked processes inherit the answer. */
bool log_detect_journal(void);
/* Moves the level into a shared anonymous page: a process forked after this call follows
 * log_set_level from any of them (sluice-rx's monitor on SIGHUP). 0 or -errno. */
int log_share_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Rate limiting, for lines a peer, a link, a disk or a camera can repeat: one line per second at
 * most per call site (log_rl), or per call site and key (log_rlk: a flood of one source, spool
 * or reason does not hide another's line). The next line let through after some were
 * suppressed ends with "(N similar lines suppressed)", N counting those since the last one.
 */
struct log_ratelimit {
	_Atomic uint64_t last_s;
	_Atomic uint64_t suppressed;
	_Atomic uint64_t key; /* log_rlk: a hash of the key this limiter is for; 0: free */
};
void log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The limiter of `key` among a call site's LOG_RL_KEYS: the first keys seen take one each, the
 * keys after them share the last (so memory and lines per second stay bounded). */
#define LOG_RL_KEYS 8
struct log_ratelimit *log_rl_slot(struct log_ratelimit rl[LOG_RL_KEYS], const char *key);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_rl(level, ...)                                                                         \
	do {                                                                                       \
		static struct log_ratelimit rl_;                                                   \
		log_limited(&rl_, level, __VA_ARGS__);                                              \
	} while (0)
#define log_rlk(level, key, ...)                                                                   \
	do {                                                                                       \
		static struct log_ratelimit rl_[LOG_RL_KEYS];                                      \
		log_limited(log_rl_slot(rl_, key), level, __VA_ARGS__);                             \
	} while (0)

/* Wall clock and monotonic clock in nanoseconds. */
uint64_t now_ns(void);
uint64_t mono_ns(void);

#endif
