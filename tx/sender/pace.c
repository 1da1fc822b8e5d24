/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every data packet leaves through pace_send: in batches of at most send_batch (what the
 * pacer's burst allows), each batch after the pacer's wait, counted. File content, manifests,
 * event batches and their repair packets share the one pacer (hw/pacer.h).
 */
#include "tx/sender/internal.h"

/* Sends packets [0, n) of wire in batches, paced. */
void pace_send(struct sender *s, struct link_pkt *wire, unsigned n)
{
	for (unsigned p = 0; p < n; p += s->send_batch) {
		unsigned b = n - p < s->send_batch ? n - p : s->send_batch;
		size_t sz = 0;
		for (unsigned i = 0; i < b; i++)
			sz += wire[p + i].len;
		pacer_wait(&s->pacer, sz);
		int rc = link_send(s->c.link, &wire[p], b);
		if (rc < 0) {
			txm_add(TXM_SEND_ERRORS, 1);
			log_rl(LOG_ERROR, "link send failed: %s", strerror(-rc));
		} else {
			txm_add(TXM_PACKETS, b);
			txm_add(TXM_BYTES, sz);
		}
		s->packets += b;
	}
}
