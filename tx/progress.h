/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A one-shot send's progress, on stderr. On a terminal (isatty, TERM set and not "dumb", text
 * log format) one line is redrawn in place by a timer of the main loop:
 *
 *   [=========>          ] 45%  450 MB / 1.0 GB  812 Mbit/s  ETA 0:07
 *
 * each redraw "\r" + ESC[K (erase to end of line; with NO_COLOR no escape sequence at all, the
 * line is padded with spaces instead), and at the end a final line with the totals and the
 * elapsed time, then a newline. Otherwise nothing is redrawn: the per-file log lines stand, and
 * progress_finish logs one summary line. Main thread only (never from a signal handler); the
 * sender thread is only read from, through sender_content_bytes.
 */
#ifndef SLUICE_TX_PROGRESS_H
#define SLUICE_TX_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_INTERVAL_MS 100 /* redraws at most 10 times a second */
#define PROGRESS_SAMPLES 21      /* the rate is taken over the last 2 s of samples */

struct progress {
	FILE *out;
	int fd;
	bool bar;   /* a terminal: redraw in place */
	bool erase; /* ESC[K allowed (not NO_COLOR) */
	bool drawn; /* a bar is on the current line */
	size_t last_len;
	size_t files;
	uint64_t total;     /* content bytes to leave, all repeats */
	unsigned repeat;
	uint64_t start_ns;  /* mono_ns */
	uint64_t t_ns[PROGRESS_SAMPLES], bytes[PROGRESS_SAMPLES];
	unsigned head, n;
};

/* Decides bar or plain for fd (stderr) from isatty, TERM, NO_COLOR and json_logs. files and
 * size: what the send names; repeat: fec.repeat (each repeat sends the content again). */
void progress_init(struct progress *p, int fd, FILE *out, bool json_logs, size_t files, uint64_t size,
		   unsigned repeat);
/* A timer tick: takes a sample of `sent` (sender_content_bytes) and redraws the bar. */
void progress_tick(struct progress *p, uint64_t sent);
/* Removes the bar from the line, before a log line is written; the next tick redraws it. */
void progress_clear(struct progress *p);
/* The last line: on a terminal the final bar with totals and elapsed time; otherwise a log
 * line. done: files sent, failed: files not sent (of p->files). */
void progress_finish(struct progress *p, uint64_t sent, size_t done, size_t failed);

/* Formats bytes as "450 MB" (decimal units), a rate in bit/s as "812 Mbit/s", seconds as
 * "0:07" or "1:02:03". Exposed for the unit test. */
void progress_fmt_bytes(char *buf, size_t n, uint64_t bytes);
void progress_fmt_rate(char *buf, size_t n, double bps);
void progress_fmt_time(char *buf, size_t n, uint64_t s);

#endif
