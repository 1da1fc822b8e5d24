/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for rx/monitor/procmsg.c procmsg_link_decode: the link process's start
 * message, whose kept objects the deliver process wrote. Input:
 *
 *   +-------------------------+------------------------------------------------+
 *   | nsenders (byte % 4)     | SP_LINK's body (rx/monitor/procmsg.h)           |
 *   +-------------------------+------------------------------------------------+
 *
 * The decoder answers 0 or -EBADMSG only; a refused body leaves nothing allocated. A body
 * decodes only if writing its fields again (as monitor.c start_link does, the kept objects
 * through procmsg_resume_encode) gives the same bytes, every pointer lies inside the body,
 * and the counts stay within PROCMSG_RESUME_MAX and PROCMSG_TOP_MAX.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/annauth.h"
#include "common/cursor.h"
#include "rx/monitor/procmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_procmsg: %s\n", what);
		abort();
	}
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *body, size_t len)
{
	return p && p >= body && (size_t)(p - body) <= len && n <= len - (size_t)(p - body);
}

static void again(const struct procmsg_link *m, size_t ns, const uint8_t *body, size_t len)
{
	uint8_t *kept;
	size_t klen;
	check(procmsg_resume_encode(m->resume, m->nresume, &kept, &klen) == (int)m->nresume, "encode failed");
	size_t total = 4 + 32 + ns * ANNAUTH_KEY_LEN + 4 + m->state_len + klen;
	uint8_t *b = malloc(total);
	check(b != NULL, "malloc");
	struct wcursor w;
	wcursor_init(&w, b, total);
	wcursor_u32(&w, m->incarnation);
	wcursor_bytes(&w, m->rx_pk, 32);
	wcursor_bytes(&w, m->mac_keys, ns * ANNAUTH_KEY_LEN);
	wcursor_u32(&w, (uint32_t)m->state_len);
	wcursor_bytes(&w, m->state, m->state_len);
	wcursor_bytes(&w, kept, klen);
	check(!w.err && w.off == total, "re-encoding does not fill its buffer");
	check(total == len && memcmp(b, body, len) == 0, "a body decodes, but encodes to other bytes");
	free(b);
	free(kept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t ns = data[0] % 4, len = size - 1;
	/* a copy of its own, so that ASan sees a read past the body */
	uint8_t *body = malloc(len ? len : 1);
	check(body != NULL, "malloc");
	memcpy(body, data + 1, len);
	struct procmsg_link m;
	int rc = procmsg_link_decode(body, len, ns, &m);
	check(rc == 0 || rc == -EBADMSG, "an error other than -EBADMSG");
	if (rc != 0) {
		check(m.resume == NULL && m.nresume == 0, "a refused body left objects allocated");
	} else {
		check(inside(m.rx_pk, 32, body, len), "rx_pk outside the body");
		check(inside(m.mac_keys, ns * ANNAUTH_KEY_LEN, body, len), "mac_keys outside the body");
		check(inside((const uint8_t *)m.state, m.state_len, body, len), "state outside the body");
		check(m.nresume <= PROCMSG_RESUME_MAX, "more than PROCMSG_RESUME_MAX objects");
		check((m.nresume == 0) == (m.resume == NULL), "resume and nresume disagree");
		for (size_t i = 0; i < m.nresume; i++) {
			check(m.resume[i].top <= PROCMSG_TOP_MAX, "top beyond PROCMSG_TOP_MAX");
			check(inside(m.resume[i].done, (m.resume[i].top + 7u) / 8, body, len),
			      "done bits outside the body");
		}
		again(&m, ns, body, len);
		procmsg_link_free(&m);
		check(m.resume == NULL && m.nresume == 0, "procmsg_link_free left objects");
	}
	free(body);
	return 0;
}
