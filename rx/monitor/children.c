/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* Starting, stopping and restarting the monitor's children (rx/monitor/monitor.h). */
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
#include "rx/audit.h"
#include "rx/link/proc.h"
#include "rx/monitor/keyholder.h"
#include "rx/monitor/procmsg.h"
#include "rx/monitor/spawner.h"
#include "rx/retention.h"
#include "rx/ring.h"
#include "rx/rx_metrics.h"

const char *mon_role_name(int role) { return role == ROLE_LINK ? "link" : "deliver"; }

void mon_on_closed(uv_handle_t *h) { (void)h; }

int mon_spawner_send(struct mon *m, uint32_t type, const void *body, size_t len, int fd)
{
	if (fd >= 0)
		return channel_send_fd(&m->sp, type, body, len, fd);
	const void *parts[] = {body};
	int rc = channel_queue(&m->sp, type, parts, &len, len ? 1 : 0);
	return rc ? rc : channel_flush(&m->sp);
}

void mon_signal(struct mon *m, uint32_t role, uint32_t sig)
{
	uint8_t b[8];
	channel_put32(b, role);
	channel_put32(b + 4, sig);
	if (m->st[role] != DOWN)
		(void)mon_spawner_send(m, SP_SIGNAL, b, 8, -1);
}

/* A process sent what it never should: it is no longer trusted to run. */
void mon_compromised(struct mon *m, uint32_t role, const char *what)
{
	rxm_add(RXM_CHANNEL_REFUSED, 1);
	log_rlk(LOG_ERROR, mon_role_name((int)role), "the %s process %s: treated as compromised, killed", mon_role_name((int)role), what);
	mon_signal(m, role, SIGKILL);
}

void mon_finish(struct mon *m)
{
	if (m->finished)
		return;
	m->finished = true;
	notify_stopping(&m->notify);
	(void)mon_spawner_send(m, SP_STOP, NULL, 0, -1);
	uv_close((uv_handle_t *)&m->sigint, mon_on_closed);
	uv_close((uv_handle_t *)&m->sigterm, mon_on_closed);
	uv_close((uv_handle_t *)&m->sighup, mon_on_closed);
	uv_close((uv_handle_t *)&m->retention, mon_on_closed);
	uv_close((uv_handle_t *)&m->restart, mon_on_closed);
	uv_close((uv_handle_t *)&m->stop_timer, mon_on_closed);
	uv_close((uv_handle_t *)&m->space, mon_on_closed);
	uv_close((uv_handle_t *)&m->watchdog, mon_on_closed);
	uv_close((uv_handle_t *)&m->sp_poll, mon_on_closed);
	if (m->dv_open)
		uv_close((uv_handle_t *)&m->dv_poll, mon_on_closed);
	if (m->kh_open)
		uv_close((uv_handle_t *)&m->kh_poll, mon_on_closed);
	m->dv_open = m->kh_open = false;
	if (m->metrics)
		metrics_server_close(m->metrics);
	m->metrics = NULL;
}

/* The next step of a stop: link first, then deliver, then the spawner. */
void mon_stop_step(struct mon *m)
{
	if (m->st[ROLE_LINK] != DOWN) {
		mon_signal(m, ROLE_LINK, SIGTERM);
	} else if (m->st[ROLE_DELIVER] != DOWN) {
		if (!m->dv_open || channel_queue(&m->dv, DV_STOP, NULL, NULL, 0) != 0 ||
		    channel_flush(&m->dv) != 0)
			mon_signal(m, ROLE_DELIVER, SIGKILL); /* cannot be told: nothing more comes to it */
	} else {
		mon_finish(m);
	}
}


static int pair(int sv[2], int buf)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	if (buf) {
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}
	return 0;
}

static void on_restart(uv_timer_t *t);

/* log.audit cannot be opened: no deliver process starts without it (what it delivered would
 * go unaudited). Tried again after the back-off, counted as a restart, as when one dies. */
static void deliver_later(struct mon *m, int err)
{
	unsigned *b = &m->backoff_ms[ROLE_DELIVER];
	*b = !*b ? BACKOFF_MIN_MS : *b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *b * 2;
	rxm_add(RXM_DELIVER_RESTARTS, 1);
	log_error("audit log %s: %s; the deliver process cannot start without it: trying again in %u ms",
		  m->cfg->audit_path, strerror(-err), *b);
	uv_timer_start(&m->restart, on_restart, *b, 0);
}

/* The deliver process gets its channel and, opened here, the audit log: the spawner's Landlock
 * ruleset, which its children's stack on, names no folder of it. */
static int start_deliver(struct mon *m)
{
	int sv[2], rc, afd = -1;
	if (m->cfg->audit_path && (afd = audit_open_fd(m->cfg->audit_path)) < 0) {
		deliver_later(m, afd);
		return 0;
	}
	if ((rc = pair(sv, 0)) != 0) {
		if (afd >= 0)
			close(afd);
		return rc;
	}
	if ((rc = channel_init(&m->dv, sv[0], PROCMSG_BODY_MAX, PROCMSG_BODY_MAX + CHANNEL_HDR)) != 0 ||
	    (rc = mon_spawner_send(m, SP_FD, NULL, 0, sv[1])) != 0 ||
	    (afd >= 0 && (rc = mon_spawner_send(m, SP_FD, NULL, 0, afd)) != 0) ||
	    (rc = mon_spawner_send(m, SP_DELIVER, NULL, 0, -1)) != 0) {
		close(sv[0]);
		close(sv[1]);
		if (afd >= 0)
			close(afd);
		return rc;
	}
	close(sv[1]);
	if (afd >= 0)
		close(afd);
	m->kept_known = false;
	uv_poll_init(&m->loop, &m->dv_poll, sv[0]);
	m->dv_poll.data = m;
	uv_poll_start(&m->dv_poll, UV_READABLE, mon_on_deliver);
	m->dv_open = true;
	m->st[ROLE_DELIVER] = STARTING;
	m->alive_ns[ROLE_DELIVER] = deadline_now();
	m->stall_killed[ROLE_DELIVER] = false;
	return 0;
}

static int send_link_fds(struct mon *m, int chan[2], int ev[2], int key[2], const uint8_t *body,
			 size_t len)
{
	int rc;
	if ((rc = channel_send_fd(&m->dv, DV_LINK, NULL, 0, chan[1])) != 0 ||
	    (rc = channel_flush(&m->dv)) != 0 || (rc = channel_send_fd(&m->dv, DV_LINKEV, NULL, 0, ev[1])) != 0 ||
	    (rc = channel_flush(&m->dv)) != 0)
		return rc == -EPIPE || rc == -ECONNRESET ? -ESRCH : rc; /* the deliver process is gone */
	if ((rc = mon_spawner_send(m, SP_FD, NULL, 0, chan[0])) != 0 || (rc = mon_spawner_send(m, SP_FD, NULL, 0, ev[0])) != 0 ||
	    (rc = mon_spawner_send(m, SP_FD, NULL, 0, key[1])) != 0)
		return rc;
	return mon_spawner_send(m, SP_LINK, body, len, -1);
}

static int start_link(struct mon *m)
{
	int chan[2] = {-1, -1}, ev[2] = {-1, -1}, key[2] = {-1, -1}, rc;
	size_t n = m->cfg->nsenders, cap = STATE_MAX * (n ? n : 1);
	char path[4200];
	snprintf(path, sizeof(path), "%s/senders", m->cfg->state);
	char *state = malloc(cap);
	uint8_t *body = NULL;
	if (!state)
		return -ENOMEM;
	long slen = smallfile_read(path, state, cap);
	if (slen < 0) {
		if (slen != -ENOENT)
			log_warn("%s: %s: the link process starts without it", path, strerror((int)-slen));
		slen = 0;
	}
	size_t len = 4 + 32 + n * ANNAUTH_KEY_LEN + 4 + (size_t)slen + m->kept_len;
	if (!(body = malloc(len))) {
		rc = -ENOMEM;
		goto out;
	}
	struct wcursor w;
	wcursor_init(&w, body, len);
	wcursor_u32(&w, ++m->incarnation);
	wcursor_bytes(&w, m->keys.dh_pk, 32);
	wcursor_bytes(&w, keyholder_mac_keys(m->kh), n * ANNAUTH_KEY_LEN);
	wcursor_u32(&w, (uint32_t)slen);
	wcursor_bytes(&w, state, (size_t)slen);
	wcursor_bytes(&w, m->kept, m->kept_len);
	if ((rc = pair(chan, 8 << 20)) != 0 || (rc = pair(ev, 0)) != 0 || (rc = pair(key, 0)) != 0)
		goto out;
	if ((rc = send_link_fds(m, chan, ev, key, body, len)) != 0)
		goto out;
	/* The kept objects go to the first link process after a deliver start only. */
	m->kept_len = 4;
	memset(m->kept, 0, 4);
	if ((rc = channel_init(&m->khc, key[0], KH_BODY_MAX, 1 << 16)) != 0)
		goto out;
	fcntl(key[0], F_SETFL, fcntl(key[0], F_GETFL) | O_NONBLOCK);
	uv_poll_init(&m->loop, &m->kh_poll, key[0]);
	m->kh_poll.data = m;
	uv_poll_start(&m->kh_poll, UV_READABLE, mon_on_keyholder);
	m->kh_open = true;
	key[0] = -1;
	m->st[ROLE_LINK] = STARTING;
	m->alive_ns[ROLE_LINK] = deadline_now();
	m->stall_killed[ROLE_LINK] = false;
out:
	for (int i = 0; i < 2; i++) {
		if (chan[i] >= 0)
			close(chan[i]);
		if (ev[i] >= 0)
			close(ev[i]);
	}
	if (key[0] >= 0)
		close(key[0]);
	if (key[1] >= 0)
		close(key[1]);
	free(state);
	free(body);
	return rc;
}

/* Start whatever should run and does not: the deliver process first, then the link process
 * once the deliver process has named its kept objects. */
void mon_reconcile(struct mon *m)
{
	if (m->stopping)
		return;
	int rc = 0;
	if (m->st[ROLE_DELIVER] == DOWN && !m->dv_closing)
		rc = start_deliver(m);
	else if (m->st[ROLE_DELIVER] == UP && m->kept_known && m->st[ROLE_LINK] == DOWN && !m->kh_closing)
		rc = start_link(m);
	if (rc == -ESRCH) {
		/* it ended as its link process was being started: its exit, reported next,
		 * restarts both */
		log_warn("the deliver process ended while a link process was being started for it");
		return;
	}
	if (rc != 0) {
		log_error("cannot start a process: %s; stopping", strerror(-rc));
		m->exit_code = 1;
		m->stopping = true;
		mon_stop_step(m);
	}
}

static void on_restart(uv_timer_t *t) { mon_reconcile(t->data); }

/* A child whose loop has not said it runs for its bound (m->stall_ns: the link process's
 * KH_ALIVE, about once a second, also while it hands over its queue at a stop; the deliver
 * process's DV_ALIVE, between messages) is stopped or hung: killed, and so started again like
 * any that ends. During a stop the bound is LINK_STALL_STOP_NS for both, so that a hung one
 * does not hold the stop past 2 s. */
void mon_watchdog(uv_timer_t *t)
{
	struct mon *m = t->data;
	uint64_t now = deadline_now();
	for (uint32_t role = 0; role < 2; role++) {
		uint64_t limit = m->stopping ? LINK_STALL_STOP_NS : m->stall_ns[role];
		if (m->st[role] == DOWN || m->stall_killed[role] || now - m->alive_ns[role] < limit)
			continue;
		m->stall_killed[role] = true;
		log_error("the %s process sent no heartbeat for %" PRIu64 " ms (stopped or hung): killed",
			  mon_role_name((int)role), (now - m->alive_ns[role]) / 1000000u);
		mon_signal(m, role, SIGKILL);
	}
}

/* A child's poll handle has closed: its next process may start (libuv: a handle is not
 * initialised again before its close callback; the exit and the message that starts the next
 * process can come in one pass of the loop, and did: an assertion ended the monitor). */
static void poll_closed(uv_handle_t *h)
{
	struct mon *m = h->data;
	if (h == (uv_handle_t *)&m->kh_poll)
		m->kh_closing = false;
	else
		m->dv_closing = false;
	if (!m->stopping && !uv_is_active((uv_handle_t *)&m->restart)) /* else after its back-off */
		mon_reconcile(m);
}

void mon_child_exited(struct mon *m, uint32_t role, uint32_t status)
{
	m->st[role] = DOWN;
	if (role == ROLE_LINK && m->kh_open) {
		uv_close((uv_handle_t *)&m->kh_poll, poll_closed);
		m->kh_closing = true;
		close(m->khc.fd);
		channel_free(&m->khc);
		m->kh_open = false;
	}
	if (role == ROLE_DELIVER && m->dv_open) {
		uv_close((uv_handle_t *)&m->dv_poll, poll_closed);
		m->dv_closing = true;
		close(m->dv.fd);
		channel_free(&m->dv);
		m->dv_open = false;
	}
	if (m->stopping) {
		if (status != 0)
			m->exit_code = 1;
		mon_stop_step(m);
		return;
	}
	char how[64];
	int st = (int)status;
	if (WIFSIGNALED(st))
		snprintf(how, sizeof(how), "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(st));
	uint64_t now = deadline_now();
	if (now - m->started_ns[role] >= STEADY_NS || !m->backoff_ms[role])
		m->backoff_ms[role] = BACKOFF_MIN_MS;
	else if ((m->backoff_ms[role] *= 2) > BACKOFF_MAX_MS)
		m->backoff_ms[role] = BACKOFF_MAX_MS;
	rxm_add(role == ROLE_LINK ? RXM_LINK_RESTARTS : RXM_DELIVER_RESTARTS, 1);
	log_error("the %s process %s; starting another in %u ms%s", mon_role_name((int)role), how,
		  m->backoff_ms[role],
		  role == ROLE_DELIVER ? " (the link process is restarted too; each file object "
					 "it held unfinished is audited lost, deliver_restart, unless "
					 "completed again)" : "");
	if (role == ROLE_DELIVER)
		mon_signal(m, ROLE_LINK, SIGKILL);
	uv_timer_start(&m->restart, on_restart, m->backoff_ms[role], 0);
}
