/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An impaired link for tests and benchmarks: wraps another link and passes what it sends
 * through the impairment engine (hw/impair.c) first. It costs the sender a copy per datagram
 * and nothing on the receiver, so a benchmark at 5% loss measures Sluice, not a proxy.
 * Configured with link.impair on the sender; never set on a real diode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/impair.h"
#include "hw/link_impl.h"

#define BATCH 128
#define SLOT 65536

struct impair_link {
	struct link base;
	struct link *inner;
	struct impair *im;
	uint8_t *buf;
	struct link_pkt out[BATCH];
	unsigned n;
	int err;
};

static void flush(struct impair_link *l)
{
	if (l->n) {
		int rc = link_send(l->inner, l->out, l->n);
		if (rc < 0)
			l->err = rc;
	}
	l->n = 0;
}

static void emit(void *ctx, const uint8_t *p, size_t len)
{
	struct impair_link *l = ctx;
	if (l->n == BATCH)
		flush(l);
	uint8_t *d = l->buf + (size_t)l->n * SLOT;
	memcpy(d, p, len);
	l->out[l->n].data = d;
	l->out[l->n].len = len;
	l->n++;
}

static int il_send(struct link *b, const struct link_pkt *pkts, unsigned n)
{
	struct impair_link *l = (struct impair_link *)b;
	l->err = 0;
	for (unsigned i = 0; i < n; i++)
		impair_process(l->im, pkts[i].data, pkts[i].len, emit, l);
	flush(l);
	return l->err ? l->err : (int)n;
}

static int il_recv(struct link *b, struct link_pkt *pkts, unsigned max, int timeout_ms)
{
	return link_recv(((struct impair_link *)b)->inner, pkts, max, timeout_ms);
}

static int il_fd(const struct link *b) { return link_fd(((const struct impair_link *)b)->inner); }

static void il_close(struct link *b)
{
	struct impair_link *l = (struct impair_link *)b;
	impair_flush(l->im, emit, l);
	flush(l);
	impair_free(l->im);
	link_close(l->inner);
	free(l->buf);
	free(l);
}

static const struct link_ops impair_ops = {il_send, il_recv, il_fd, il_close};

int link_impair_wrap(struct link **out, struct link *inner, const char *spec)
{
	struct impair_config c;
	if (impair_config_parse(spec, &c) != 0)
		return -EINVAL;
	struct impair_link *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->base.ops = &impair_ops;
	l->inner = inner;
	l->im = impair_new(&c);
	l->buf = malloc((size_t)BATCH * SLOT);
	if (!l->im || !l->buf) {
		impair_free(l->im);
		free(l->buf);
		free(l);
		return -ENOMEM;
	}
	*out = &l->base;
	return 0;
}
