/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the intake process may send sluice-tx (tx/intake_proc/intake_proc.h, enum intake_msg),
 * as sluice-tx checks it: anything else is taken as a compromise of that process.
 */
#include "tx/intake_proc/internal.h"

#include <errno.h>

#include "common/log.h"

int intake_proc_handle(const struct config_event *sources, size_t n, struct evq *q,
		       uint32_t *drops, uint32_t type, const uint8_t *body, size_t len, const char **why)
{
	switch (type) {
	case INTAKE_MSG_DROPS: {
		uint32_t s = len == 8 ? channel_get32(body) : UINT32_MAX;
		if (s >= n || sources[s].kind != CONFIG_EVENT_UDP) {
			*why = "a drop count of the wrong length or not of a UDP source";
			return -EBADMSG;
		}
		uint32_t d = channel_get32(body + 4), k = d - drops[s];
		drops[s] = d;
		if (k) {
			txm_add(TXM_EVENTS_LOST_INTAKE, k);
			log_rlk(LOG_WARN, sources[s].name, "event source %s: the kernel dropped %u datagrams before intake "
			       "read them (socket buffer full)", sources[s].name, k);
		}
		return 0;
	}
	case INTAKE_MSG_EVENT: {
		if (len <= INTAKE_EVENT_HDR) {
			*why = "an event message without an event";
			return -EBADMSG;
		}
		uint32_t s = channel_get32(body);
		if (s >= n) {
			*why = "an event of a source that does not exist";
			return -EBADMSG;
		}
		if (len - INTAKE_EVENT_HDR > sources[s].max_line) {
			*why = "an event longer than its source's max_line";
			return -EBADMSG;
		}
		(void)evq_push_at(q, s, channel_get64(body + 4), body + INTAKE_EVENT_HDR,
				  len - INTAKE_EVENT_HDR);
		return 0;
	}
	case INTAKE_MSG_COUNT: {
		if (len != 12) {
			*why = "a counter message of the wrong length";
			return -EBADMSG;
		}
		uint32_t m = channel_get32(body);
		for (size_t i = 0; i < NCHILD_METRICS; i++) {
			if (m == (uint32_t)child_metrics[i]) {
				txm_add(child_metrics[i], channel_get64(body + 4));
				return 0;
			}
		}
		*why = "a counter that is not intake's";
		return -EBADMSG;
	}
	default:
		*why = "a message of unknown type";
		return -EBADMSG;
	}
}
