/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* What the spawner, the deliver process and the link process (the key holder's requests) send
 * the monitor. */
#include "rx/monitor/internal.h"


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "common/annauth.h"
#include "common/channel.h"
#include "common/cursor.h"
#include "common/deadline.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/mkdirs.h"
#include "common/privdrop.h"
#include "common/sandbox.h"
#include "common/session.h"
#include "common/smallfile.h"
#include "common/wire.h"
#include "hw/link.h"
#include "rx/link/proc.h"
#include "rx/monitor/keyholder.h"
#include "rx/monitor/procmsg.h"
#include "rx/monitor/spawner.h"
#include "rx/retention.h"
#include "rx/ring.h"
#include "rx/rx_metrics.h"

void mon_on_spawner(uv_poll_t *p, int status, int events)
{
	struct mon *m = p->data;
	(void)events;
	ssize_t got = status < 0 ? -EIO : channel_read(&m->sp);
	if (got == -EAGAIN || got == -EINTR)
		return;
	if (got <= 0) {
		if (!m->finished)
			log_error("the spawner process is gone; stopping");
		m->exit_code = 1;
		mon_finish(m);
		return;
	}
	struct channel_msg msg;
	int rc;
	while ((rc = channel_next(&m->sp, &msg)) == 1) {
		uint32_t role = msg.len >= 4 ? channel_get32(msg.body) : 2;
		if (msg.type == SP_SPAWNED && msg.len == 8 && role < 2) {
			m->st[role] = UP;
			m->started_ns[role] = deadline_now();
			log_info("%s process %" PRIu32 " started", mon_role_name((int)role), channel_get32(msg.body + 4));
			if (m->stopping) /* asked for before the stop began */
				mon_stop_step(m);
			else
				mon_reconcile(m);
		} else if (msg.type == SP_EXITED && msg.len == 12 && role < 2) {
			mon_child_exited(m, role, channel_get32(msg.body + 8));
		} else {
			rc = -EBADMSG;
			break;
		}
	}
	if (rc < 0 && !m->finished) {
		log_error("the spawner process sent a malformed message; stopping");
		m->exit_code = 1;
		mon_finish(m);
	}
}

void mon_on_deliver(uv_poll_t *p, int status, int events)
{
	struct mon *m = p->data;
	(void)events;
	ssize_t got = status < 0 ? -EIO : channel_read(&m->dv);
	if (got == -EAGAIN || got == -EINTR)
		return;
	if (got <= 0) { /* it is exiting: the spawner will say how */
		uv_poll_stop(&m->dv_poll);
		return;
	}
	struct channel_msg msg;
	int rc;
	while ((rc = channel_next(&m->dv, &msg)) == 1) {
		if (msg.type == DV_ALIVE && msg.len == 0) {
			m->alive_ns[ROLE_DELIVER] = deadline_now();
		} else if (msg.type == DV_KEPT && !m->kept_known) {
			uint8_t *k = malloc(msg.len ? msg.len : 1);
			if (!k || msg.len < 4) {
				free(k);
				rc = -EBADMSG;
				break;
			}
			memcpy(k, msg.body, msg.len);
			free(m->kept);
			m->kept = k;
			m->kept_len = msg.len;
			m->kept_known = true;
			mon_reconcile(m);
		} else if (msg.type == DV_BADLINK) {
			mon_compromised(m, ROLE_LINK, "sent the deliver process a malformed message");
		} else {
			rc = -EBADMSG;
			break;
		}
	}
	if (rc < 0) {
		uv_poll_stop(&m->dv_poll);
		mon_compromised(m, ROLE_DELIVER, "sent the monitor a malformed message");
	}
}

void mon_on_keyholder(uv_poll_t *p, int status, int events)
{
	struct mon *m = p->data;
	(void)events;
	ssize_t got = status < 0 ? -EIO : channel_read(&m->khc);
	if (got == -EAGAIN || got == -EINTR)
		return;
	if (got <= 0) {
		uv_poll_stop(&m->kh_poll);
		return;
	}
	struct channel_msg msg;
	int rc;
	while ((rc = channel_next(&m->khc, &msg)) == 1) {
		if (msg.type == KH_ALIVE && msg.len == 0) {
			m->alive_ns[ROLE_LINK] = deadline_now();
			continue;
		}
		if (msg.type != KH_ASK || msg.len != WIRE_ANNOUNCE_LEN) {
			rc = -EBADMSG;
			break;
		}
		struct session_secret s;
		const char *why = NULL;
		if (keyholder_answer(m->kh, msg.body, msg.len, deadline_now(), &s, &why) == 0) {
			uint8_t b[KH_KEYS_LEN];
			memcpy(b, s.prk, 32);
			b[32] = s.aead;
			const void *parts[] = {b};
			size_t len = sizeof(b);
			rc = channel_queue(&m->khc, KH_KEYS, parts, &len, 1);
			sodium_memzero(b, sizeof(b));
			session_secret_wipe(&s);
		} else {
			const void *parts[] = {why};
			size_t len = strlen(why);
			log_rl(LOG_WARN, "key holder: announcement refused: %s", why);
			rc = channel_queue(&m->khc, KH_REFUSED, parts, &len, 1);
		}
		if (rc != 0 || ((rc = channel_flush(&m->khc)) != 0 && rc != -EAGAIN))
			break;
		rc = 0;
	}
	if (rc == -EBADMSG) {
		uv_poll_stop(&m->kh_poll);
		mon_compromised(m, ROLE_LINK, "sent the key holder a malformed message");
	}
}
