/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/utf8.h"

#define LINE_MAX_BYTES 2048

static _Atomic int g_level_own = LOG_INFO;
/* Where the level lives: this process's own, or a page shared with the processes forked after
 * log_share_level (read on every line, so a change reaches them at once). */
static _Atomic int *g_level = &g_level_own;
static int g_format = LOG_FORMAT_TEXT;
static bool g_journal;
static const char *g_name = "sluice";
static const char *const level_name[] = {"error", "warn", "info", "debug"};
static const int level_prio[] = {3, 4, 6, 7}; /* sd-daemon(3): LOG_ERR, LOG_WARNING, ... */

void log_set_level(int level)
{
	if (level >= LOG_ERROR && level <= LOG_DEBUG)
		atomic_store(g_level, level);
}
int log_get_level(void) { return atomic_load(g_level); }
void log_set_format(int format) { g_format = format == LOG_FORMAT_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT; }
void log_set_name(const char *name)
{
	g_name = name;
	/* The C library reads the time zone file on the first gmtime_r: here, not in a confined
	 * process that may name no file (common/privdrop.h). */
	tzset();
}

bool log_detect_journal(void)
{
	g_journal = false;
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	int end = 0;
	struct stat st;
	if (js && sscanf(js, "%llu:%llu%n", &dev, &ino, &end) == 2 && js[end] == '\0' &&
	    fstat(STDERR_FILENO, &st) == 0)
		g_journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return g_journal;
}

int log_share_level(void)
{
	if (g_level != &g_level_own)
		return 0;
	void *p = mmap(NULL, sizeof(*g_level), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	_Atomic int *shared = p;
	atomic_store(shared, atomic_load(&g_level_own));
	g_level = shared;
	return 0;
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

/* The code point of the valid sequence of l bytes at p. */
static uint32_t code_point(const uint8_t *p, size_t l)
{
	if (l == 1)
		return p[0];
	uint32_t cp = p[0] & (0x7f >> l);
	for (size_t i = 1; i < l; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/* s as the inside of a JSON string, in printable ASCII, into out[0, cap); how many bytes.
 * Stops before an escape that would not fit. */
static size_t json_escape(char *out, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		const uint8_t *p = (const uint8_t *)s + i;
		char e[13];
		size_t el = 0;
		size_t l = utf8_seq(p, n - i);
		uint32_t cp = l ? code_point(p, l) : 0xfffd;
		i += l ? l : 1;
		if (cp == '"' || cp == '\\') {
			e[el++] = '\\', e[el++] = (char)cp;
		} else if (cp == '\n' || cp == '\r' || cp == '\t') {
			e[el++] = '\\', e[el++] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't';
		} else if (cp >= 0x20 && cp < 0x7f) {
			e[el++] = (char)cp;
		} else {
			uint32_t u[2] = {cp, 0};
			unsigned nu = 1;
			if (cp > 0xffff) { /* a surrogate pair */
				cp -= 0x10000;
				u[0] = 0xd800 | cp >> 10, u[1] = 0xdc00 | (cp & 0x3ff), nu = 2;
			}
			for (unsigned k = 0; k < nu; k++) {
				e[el++] = '\\', e[el++] = 'u';
				for (int sh = 12; sh >= 0; sh -= 4)
					e[el++] = hex[u[k] >> sh & 0xf];
			}
		}
		if (o + el > cap)
			break;
		memcpy(out + o, e, el);
		o += el;
	}
	return o;
}

/* suffix: ASCII text ending the message, kept when a long message is cut (NULL: none). */
__attribute__((format(printf, 3, 0))) static void vlog(int level, const char *suffix, const char *fmt,
						      va_list ap)
{
	char line[LINE_MAX_BYTES], msg[LINE_MAX_BYTES];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char when[64];
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	char prio[8] = "";
	if (g_journal)
		snprintf(prio, sizeof(prio), "<%d>", level_prio[level]);
	int n;
	if (g_format == LOG_FORMAT_JSON)
		n = snprintf(line, sizeof(line), "%s{\"time\":\"%s\",\"level\":\"%s\",\"process\":\"%s\",\"msg\":\"",
			     prio, when, level_name[level], g_name);
	else if (g_journal)
		n = snprintf(line, sizeof(line), "%s%s %s: ", prio, g_name, level_name[level]);
	else
		n = snprintf(line, sizeof(line), "%s %s %s: ", when, g_name, level_name[level]);
	if (n < 0 || (size_t)n >= sizeof(line) - 4)
		return;
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (m < 0)
		return;
	size_t mlen = (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
	if (!suffix)
		suffix = "";
	size_t len = (size_t)n, slen = strlen(suffix);
	if (slen > 64)
		slen = 64;
	if (g_format == LOG_FORMAT_JSON) {
		len += json_escape(line + len, sizeof(line) - len - 3 - slen, msg, mlen);
		memcpy(line + len, suffix, slen); /* printable ASCII: nothing to escape */
		len += slen;
		line[len++] = '"';
		line[len++] = '}';
	} else {
		size_t room = sizeof(line) - len - 1 - slen;
		if (mlen > room)
			mlen = room;
		memcpy(line + len, msg, mlen);
		memcpy(line + len + mlen, suffix, slen);
		len += mlen + slen;
	}
	line[len++] = '\n';
	/* One write per line so lines from threads never interleave. */
	fwrite(line, 1, len, stderr);
}

void log_msg(int level, const char *fmt, ...)
{
	if (level > log_get_level())
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
{
	if (level > log_get_level())
		return;
	uint64_t s = mono_ns() / 1000000000ull;
	uint64_t last = atomic_load(&rl->last_s);
	if (last == s || !atomic_compare_exchange_strong(&rl->last_s, &last, s)) {
		atomic_fetch_add(&rl->suppressed, 1);
		return;
	}
	uint64_t sup = atomic_exchange(&rl->suppressed, 0);
	char suffix[64] = "";
	if (sup)
		snprintf(suffix, sizeof(suffix), " (%llu similar lines suppressed)", (unsigned long long)sup);
	va_list ap;
	va_start(ap, fmt);
	vlog(level, suffix, fmt, ap);
	va_end(ap);
}

struct log_ratelimit *log_rl_slot(struct log_ratelimit rl[LOG_RL_KEYS], const char *key)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)(key ? key : ""); *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h = h ? h : 1;
	for (int i = 0; i < LOG_RL_KEYS; i++) {
		uint64_t k = atomic_load(&rl[i].key);
		if (k == 0 && (atomic_compare_exchange_strong(&rl[i].key, &k, h) || k == h))
			return &rl[i];
		if (k == h)
			return &rl[i];
	}
	return &rl[LOG_RL_KEYS - 1];
}
