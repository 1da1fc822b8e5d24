/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* A one-shot send's progress bar or summary line (tx/progress.h). */
#include "tx/progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"

#define BAR_MIN 10
#define BAR_MAX 40
#define BAR_TEXT 56 /* columns kept for the text: the longest is about 52 */

static void fmt_scaled(char *buf, size_t n, double v, const char *const *units, unsigned nunits,
		       const char *suffix)
{
	unsigned u = 0;
	while (v >= 1000.0 && u + 1 < nunits) {
		v /= 1000.0;
		u++;
	}
	if (u == 0 || v >= 100.0)
		snprintf(buf, n, "%.0f %s%s", v, units[u], suffix);
	else
		snprintf(buf, n, "%.1f %s%s", v, units[u], suffix);
}

void progress_fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
	static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	fmt_scaled(buf, n, (double)bytes, u, 6, "");
}

void progress_fmt_rate(char *buf, size_t n, double bps)
{
	static const char *const u[] = {"bit", "kbit", "Mbit", "Gbit", "Tbit"};
	fmt_scaled(buf, n, bps, u, 5, "/s");
}

void progress_fmt_time(char *buf, size_t n, uint64_t s)
{
	if (s >= 3600)
		snprintf(buf, n, "%llu:%02u:%02u", (unsigned long long)(s / 3600), (unsigned)(s / 60 % 60),
			 (unsigned)(s % 60));
	else
		snprintf(buf, n, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

void progress_init(struct progress *p, int fd, FILE *out, bool json_logs, size_t files, uint64_t size,
		   unsigned repeat)
{
	memset(p, 0, sizeof(*p));
	const char *term = getenv("TERM");
	const char *nocolor = getenv("NO_COLOR");
	p->out = out;
	p->fd = fd;
	p->bar = isatty(fd) && term && term[0] && strcmp(term, "dumb") != 0 && !json_logs;
	p->erase = !(nocolor && nocolor[0]); /* no-color.org: set and not empty */
	p->files = files;
	p->repeat = repeat ? repeat : 1;
	p->total = size * p->repeat;
	p->start_ns = mono_ns();
}

/* Bits per second over the samples kept (up to the last 2 s), else since the start. */
static double rate_bps(const struct progress *p, uint64_t now, uint64_t sent)
{
	if (p->n >= 2) {
		unsigned old = (p->head + PROGRESS_SAMPLES - p->n) % PROGRESS_SAMPLES;
		unsigned new = (p->head + PROGRESS_SAMPLES - 1) % PROGRESS_SAMPLES;
		if (p->t_ns[new] > p->t_ns[old])
			return (double)(p->bytes[new] - p->bytes[old]) * 8e9 / (double)(p->t_ns[new] - p->t_ns[old]);
	}
	return now > p->start_ns ? (double)sent * 8e9 / (double)(now - p->start_ns) : 0.0;
}

static unsigned columns(const struct progress *p)
{
	struct winsize ws;
	if (ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Writes "\r", ESC[K, the bar and text; without ESC[K, blanks a longer previous line first. */
static void draw(struct progress *p, unsigned pct, const char *text, const char *end)
{
	char line[512];
	size_t len = 0, cols = columns(p), tlen = strlen(text);
	/* "[" bar "] " text, one column spare (no automatic wrap). The bar's width follows the
	 * terminal, not the text, so that it stays put from one redraw to the next; it shrinks
	 * only when the text would not fit beside it, and is left out below BAR_MIN. */
	size_t w = cols > BAR_TEXT ? cols - BAR_TEXT : 0;
	if (w > BAR_MAX)
		w = BAR_MAX;
	if (w + tlen + 4 > cols)
		w = cols > tlen + 4 ? cols - tlen - 4 : 0;
	if (w >= BAR_MIN) {
		size_t fill = w * pct / 100;
		line[len++] = '[';
		for (size_t i = 0; i < w; i++)
			line[len++] = i < fill ? '=' : i == fill ? '>' : ' ';
		line[len++] = ']';
		line[len++] = ' ';
	}
	len += (size_t)snprintf(line + len, sizeof(line) - len, "%s", text);
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	if (len >= cols)
		len = cols - 1; /* a narrow terminal: cut, rather than wrap and redraw below */
	if (!p->erase && len < p->last_len) /* blank what the shorter line leaves behind */
		fprintf(p->out, "\r%*s", (int)p->last_len, "");
	fprintf(p->out, "\r%s%.*s%s", p->erase ? "\x1b[K" : "", (int)len, line, end);
	fflush(p->out);
	p->last_len = len;
}

void progress_tick(struct progress *p, uint64_t sent)
{
	if (!p->bar)
		return;
	uint64_t now = mono_ns();
	p->t_ns[p->head] = now;
	p->bytes[p->head] = sent;
	p->head = (p->head + 1) % PROGRESS_SAMPLES;
	if (p->n < PROGRESS_SAMPLES)
		p->n++;
	if (sent > p->total)
		sent = p->total;
	unsigned pct = p->total ? (unsigned)(sent * 100 / p->total) : 0;
	double bps = rate_bps(p, now, sent);
	char done[32], total[32], rate[32], eta[32] = "--:--";
	progress_fmt_bytes(done, sizeof(done), sent);
	progress_fmt_bytes(total, sizeof(total), p->total);
	progress_fmt_rate(rate, sizeof(rate), bps);
	if (bps > 0.0)
		progress_fmt_time(eta, sizeof(eta), (uint64_t)((double)(p->total - sent) * 8.0 / bps + 0.5));
	char text[256];
	snprintf(text, sizeof(text), "%3u%%  %s / %s  %s  ETA %s", pct, done, total, rate, eta);
	draw(p, pct, text, "");
	p->drawn = true;
}

void progress_clear(struct progress *p)
{
	if (!p->bar || !p->drawn)
		return;
	if (p->erase)
		fputs("\r\x1b[K", p->out);
	else
		fprintf(p->out, "\r%*s\r", (int)p->last_len, "");
	fflush(p->out);
	p->drawn = false;
	p->last_len = 0;
}

void progress_finish(struct progress *p, uint64_t sent, size_t done, size_t failed)
{
	uint64_t now = mono_ns();
	double secs = now > p->start_ns ? (double)(now - p->start_ns) / 1e9 : 0.0;
	char bytes[32], rate[32], took[32], files[64];
	progress_fmt_bytes(bytes, sizeof(bytes), sent);
	progress_fmt_rate(rate, sizeof(rate), secs > 0.0 ? (double)sent * 8.0 / secs : 0.0);
	progress_fmt_time(took, sizeof(took), (uint64_t)(secs + 0.5));
	size_t ok = done - failed;
	if (ok == p->files)
		snprintf(files, sizeof(files), "%zu file%s sent", ok, ok == 1 ? "" : "s");
	else
		snprintf(files, sizeof(files), "%zu of %zu files sent", ok, p->files);
	if (p->bar) {
		unsigned pct = ok == p->files ? 100 : p->total ? (unsigned)((sent < p->total ? sent : p->total) * 100 / p->total) : 0;
		char text[256];
		snprintf(text, sizeof(text), "%3u%%  %s  %s  %s in %s", pct, bytes, rate, files, took);
		draw(p, pct, text, "\n");
		p->drawn = false;
	} else if (ok == p->files) {
		log_info("send: %s, %s in %s (%s)", files, bytes, took, rate);
	} else {
		log_error("send: %s, %s in %s (%s)", files, bytes, took, rate);
	}
}
