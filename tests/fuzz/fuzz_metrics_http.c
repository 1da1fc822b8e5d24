/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the metrics endpoint's request reader (common/metrics.c,
 * metrics_request_status: what the server answers to the bytes a client has sent so far),
 * without a socket. Input:
 *
 *   +--------+----------------------------------------------------------+
 *   | chunk  | the bytes a client sends (at most METRICS_REQ_MAX + 256) |
 *   +--------+----------------------------------------------------------+
 *
 * The bytes arrive as the server reads them: in pieces of 1 + chunk bytes (or 1/64 of them,
 * if more: every answer costs a pass over what has arrived), into a buffer of
 * METRICS_REQ_MAX (the server reads no more before it answers), asking after each piece; the
 * first answer counts. It must be:
 *   - 0 (read on) only while no blank line has arrived and the buffer is not full, and never
 *     still 0 once all bytes are in with a blank line among them or the buffer full;
 *   - the same as the answer to the whole request at once (how reads split the bytes does not
 *     matter: the answer depends on the request line alone);
 *   - the answer of a reference reader written here apart from the server's, on the request
 *     line: 200 only for GET of /metrics or /metrics?..., 405 for another method of a well-
 *     formed line, 404 for another target, 431 for a full buffer without a blank line, else 400.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_metrics_http: %s\n", what);
		abort();
	}
}

/* The end of the headers: LF LF or LF CR LF, anywhere in p[0..n). */
static bool blank_line(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && (p[i + 1] == '\n' || (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')))
			return true;
	return false;
}

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 9112's request-line, as far as the server checks it; p holds a blank line. */
static int reference(const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);
	size_t l = (size_t)(lf - p);
	if (l && p[l - 1] == '\r')
		l--;
	size_t i = 0, m0, t0, t1;
	while (i < l && tchar((unsigned char)p[i]))
		i++;
	m0 = i;
	if (m0 == 0 || i >= l || p[i] != ' ')
		return 400;
	t0 = ++i;
	while (i < l && (unsigned char)p[i] > ' ' && (unsigned char)p[i] < 0x7f)
		i++;
	t1 = i;
	if (t1 == t0 || i >= l || p[i] != ' ')
		return 400;
	i++;
	if (l - i != 8 || strncmp(p + i, "HTTP/1.", 7) != 0 || p[i + 7] < '0' || p[i + 7] > '9')
		return 400;
	if (m0 != 3 || strncmp(p, "GET", 3) != 0)
		return 405;
	size_t tl = t1 - t0;
	if ((tl == 8 && memcmp(p + t0, "/metrics", 8) == 0) ||
	    (tl > 8 && memcmp(p + t0, "/metrics?", 9) == 0))
		return 200;
	return 404;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > METRICS_REQ_MAX + 257)
		return 0;
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	size_t chunk = 1 + data[0] > n / 64 ? 1 + (size_t)data[0] : n / 64;
	char *buf = malloc(METRICS_REQ_MAX); /* exact size: ASan sees a read past it */
	check(buf != NULL, "malloc");
	size_t len = 0;
	int status = 0;
	while (status == 0 && len < n && len < METRICS_REQ_MAX) {
		size_t k = n - len < chunk ? n - len : chunk;
		if (k > METRICS_REQ_MAX - len)
			k = METRICS_REQ_MAX - len;
		memcpy(buf + len, s + len, k);
		len += k;
		status = metrics_request_status(buf, len);
		bool done = blank_line(buf, len) || len >= METRICS_REQ_MAX;
		check((status == 0) == !done, status ? "an answer before the request was complete"
						     : "no answer to a complete request");
	}
	if (status != 0) {
		int want = blank_line(buf, len) ? reference(buf, len) : 431;
		check(status == want, "an answer other than the reference reader's");
		size_t whole = n < METRICS_REQ_MAX ? n : METRICS_REQ_MAX;
		memcpy(buf, s, whole);
		check(metrics_request_status(buf, whole) == status,
		      "the answer depends on how the request was split");
	}
	free(buf);
	return 0;
}
