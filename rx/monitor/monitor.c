/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/monitor/monitor.h"

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

#define RETENTION_INTERVAL_MS (3600 * 1000)
#define RING_BYTES (32u << 20) /* the block ring, at most an eighth of limits.memory */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STEADY_NS 30000000000ull /* a child that ran this long starts again at once */
#define STOP_KILL_MS 10000
#define STATE_MAX (64u << 10) /* STATE/senders per pinned sender, at most */

enum child_state { DOWN, STARTING, UP };

struct mon {
	struct rx_config *cfg;
	const uint8_t (*senders)[32];
	struct keys_rx keys;
	struct keyholder *kh;
	struct link *link;
	struct ring *ring;
	char empty_dir[4096];
	struct spawner_config spc;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	uv_timer_t retention, restart, stop_timer;
	uv_poll_t sp_poll, dv_poll, kh_poll;
	struct channel sp, dv, khc;
	bool dv_open, kh_open;
	enum child_state st[2];
	uint64_t started_ns[2];
	unsigned backoff_ms[2];
	uint32_t incarnation;
	uint8_t *kept;
	size_t kept_len;
	bool kept_known;
	bool stopping, finished;
	struct metrics_server *metrics;
	uv_work_t retention_work;
	bool retention_busy;
	int exit_code;
};

static const char *role_name(int role) { return role == ROLE_LINK ? "link" : "deliver"; }

static void on_closed(uv_handle_t *h) { (void)h; }

static int sp_send(struct mon *m, uint32_t type, const void *body, size_t len, int fd)
{
	if (fd >= 0)
		return channel_send_fd(&m->sp, type, body, len, fd);
	const void *parts[] = {body};
	int rc = channel_queue(&m->sp, type, parts, &len, len ? 1 : 0);
	return rc ? rc : channel_flush(&m->sp);
}

static void signal_child(struct mon *m, uint32_t role, uint32_t sig)
{
	uint8_t b[8];
	channel_put32(b, role);
	channel_put32(b + 4, sig);
	if (m->st[role] != DOWN)
		(void)sp_send(m, SP_SIGNAL, b, 8, -1);
}

/* A process sent what it never should: it is no longer trusted to run. */
static void compromised(struct mon *m, uint32_t role, const char *what)
{
	rxm_add(RXM_CHANNEL_REFUSED, 1);
	log_error("the %s process %s: treated as compromised, killed", role_name((int)role), what);
	signal_child(m, role, SIGKILL);
}

static void finish(struct mon *m)
{
	if (m->finished)
		return;
	m->finished = true;
	(void)sp_send(m, SP_STOP, NULL, 0, -1);
	uv_close((uv_handle_t *)&m->sigint, on_closed);
	uv_close((uv_handle_t *)&m->sigterm, on_closed);
	uv_close((uv_handle_t *)&m->retention, on_closed);
	uv_close((uv_handle_t *)&m->restart, on_closed);
	uv_close((uv_handle_t *)&m->stop_timer, on_closed);
	uv_close((uv_handle_t *)&m->sp_poll, on_closed);
	if (m->dv_open)
		uv_close((uv_handle_t *)&m->dv_poll, on_closed);
	if (m->kh_open)
		uv_close((uv_handle_t *)&m->kh_poll, on_closed);
	m->dv_open = m->kh_open = false;
	if (m->metrics)
		metrics_server_close(m->metrics);
	m->metrics = NULL;
}

/* The next step of a stop: link first, then deliver, then the spawner. */
static void stop_step(struct mon *m)
{
	if (m->st[ROLE_LINK] != DOWN) {
		signal_child(m, ROLE_LINK, SIGTERM);
	} else if (m->st[ROLE_DELIVER] != DOWN) {
		if (!m->dv_open || channel_queue(&m->dv, DV_STOP, NULL, NULL, 0) != 0 ||
		    channel_flush(&m->dv) != 0)
			signal_child(m, ROLE_DELIVER, SIGKILL); /* cannot be told: nothing more comes to it */
	} else {
		finish(m);
	}
}

static void on_kh(uv_poll_t *p, int status, int events);
static void on_dv(uv_poll_t *p, int status, int events);

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

static int start_deliver(struct mon *m)
{
	int sv[2], rc;
	if ((rc = pair(sv, 0)) != 0)
		return rc;
	if ((rc = channel_init(&m->dv, sv[0], PROCMSG_BODY_MAX, PROCMSG_BODY_MAX + CHANNEL_HDR)) != 0 ||
	    (rc = sp_send(m, SP_FD, NULL, 0, sv[1])) != 0 || (rc = sp_send(m, SP_DELIVER, NULL, 0, -1)) != 0) {
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	close(sv[1]);
	m->kept_known = false;
	uv_poll_init(&m->loop, &m->dv_poll, sv[0]);
	m->dv_poll.data = m;
	uv_poll_start(&m->dv_poll, UV_READABLE, on_dv);
	m->dv_open = true;
	m->st[ROLE_DELIVER] = STARTING;
	return 0;
}

static int send_link_fds(struct mon *m, int chan[2], int ev[2], int key[2], const uint8_t *body,
			 size_t len)
{
	int rc;
	if ((rc = channel_send_fd(&m->dv, DV_LINK, NULL, 0, chan[1])) != 0 ||
	    (rc = channel_flush(&m->dv)) != 0 || (rc = channel_send_fd(&m->dv, DV_LINKEV, NULL, 0, ev[1])) != 0 ||
	    (rc = channel_flush(&m->dv)) != 0)
		return rc;
	if ((rc = sp_send(m, SP_FD, NULL, 0, chan[0])) != 0 || (rc = sp_send(m, SP_FD, NULL, 0, ev[0])) != 0 ||
	    (rc = sp_send(m, SP_FD, NULL, 0, key[1])) != 0)
		return rc;
	return sp_send(m, SP_LINK, body, len, -1);
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
	uv_poll_start(&m->kh_poll, UV_READABLE, on_kh);
	m->kh_open = true;
	key[0] = -1;
	m->st[ROLE_LINK] = STARTING;
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
static void reconcile(struct mon *m)
{
	if (m->stopping)
		return;
	int rc = 0;
	if (m->st[ROLE_DELIVER] == DOWN)
		rc = start_deliver(m);
	else if (m->st[ROLE_DELIVER] == UP && m->kept_known && m->st[ROLE_LINK] == DOWN)
		rc = start_link(m);
	if (rc != 0) {
		log_error("cannot start a process: %s; stopping", strerror(-rc));
		m->exit_code = 1;
		m->stopping = true;
		stop_step(m);
	}
}

static void on_restart(uv_timer_t *t) { reconcile(t->data); }

static void child_exited(struct mon *m, uint32_t role, uint32_t status)
{
	m->st[role] = DOWN;
	if (role == ROLE_LINK && m->kh_open) {
		uv_close((uv_handle_t *)&m->kh_poll, on_closed);
		close(m->khc.fd);
		channel_free(&m->khc);
		m->kh_open = false;
	}
	if (role == ROLE_DELIVER && m->dv_open) {
		uv_close((uv_handle_t *)&m->dv_poll, on_closed);
		close(m->dv.fd);
		channel_free(&m->dv);
		m->dv_open = false;
	}
	if (m->stopping) {
		if (status != 0)
			m->exit_code = 1;
		stop_step(m);
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
	log_error("the %s process %s; starting another in %u ms%s", role_name((int)role), how,
		  m->backoff_ms[role],
		  role == ROLE_DELIVER ? " (file objects it held unfinished are lost: the link "
					 "process is restarted too)" : "");
	if (role == ROLE_DELIVER)
		signal_child(m, ROLE_LINK, SIGKILL);
	uv_timer_start(&m->restart, on_restart, m->backoff_ms[role], 0);
}

static void on_sp(uv_poll_t *p, int status, int events)
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
		finish(m);
		return;
	}
	struct channel_msg msg;
	int rc;
	while ((rc = channel_next(&m->sp, &msg)) == 1) {
		uint32_t role = msg.len >= 4 ? channel_get32(msg.body) : 2;
		if (msg.type == SP_SPAWNED && msg.len == 8 && role < 2) {
			m->st[role] = UP;
			m->started_ns[role] = deadline_now();
			log_info("%s process %" PRIu32 " started", role_name((int)role), channel_get32(msg.body + 4));
			if (m->stopping) /* asked for before the stop began */
				stop_step(m);
			else
				reconcile(m);
		} else if (msg.type == SP_EXITED && msg.len == 12 && role < 2) {
			child_exited(m, role, channel_get32(msg.body + 8));
		} else {
			rc = -EBADMSG;
			break;
		}
	}
	if (rc < 0 && !m->finished) {
		log_error("the spawner process sent a malformed message; stopping");
		m->exit_code = 1;
		finish(m);
	}
}

static void on_dv(uv_poll_t *p, int status, int events)
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
		if (msg.type == DV_KEPT && !m->kept_known) {
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
			reconcile(m);
		} else if (msg.type == DV_BADLINK) {
			compromised(m, ROLE_LINK, "sent the deliver process a malformed message");
		} else {
			rc = -EBADMSG;
			break;
		}
	}
	if (rc < 0) {
		uv_poll_stop(&m->dv_poll);
		compromised(m, ROLE_DELIVER, "sent the monitor a malformed message");
	}
}

static void on_kh(uv_poll_t *p, int status, int events)
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
		compromised(m, ROLE_LINK, "sent the key holder a malformed message");
	}
}

static void on_stop_timer(uv_timer_t *t)
{
	struct mon *m = t->data;
	log_error("processes still running %d ms after the stop began: killed", STOP_KILL_MS);
	m->exit_code = 1;
	signal_child(m, ROLE_LINK, SIGKILL);
	signal_child(m, ROLE_DELIVER, SIGKILL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct mon *m = s->data;
	if (m->stopping)
		return;
	log_info("%s: stopping", strsignal(signum));
	m->stopping = true;
	uv_timer_stop(&m->restart);
	uv_timer_start(&m->stop_timer, on_stop_timer, STOP_KILL_MS, 0);
	stop_step(m);
}

static void retention_run(uv_work_t *w)
{
	struct mon *m = w->data;
	uint64_t now = (uint64_t)time(NULL);
	retention_sweep(m->cfg->files_dir, m->cfg->retention_days, now);
	retention_sweep(m->cfg->events_dir, m->cfg->retention_days, now);
}

static void retention_done(uv_work_t *w, int status)
{
	struct mon *m = w->data;
	(void)status;
	m->retention_busy = false;
}

static void on_retention(uv_timer_t *t)
{
	struct mon *m = t->data;
	if (m->retention_busy || m->cfg->retention_days == 0)
		return;
	m->retention_busy = true;
	m->retention_work.data = m;
	uv_queue_work(&m->loop, &m->retention_work, retention_run, retention_done);
}

/* STATE/empty: the link process's root. It must be a folder, root's when root, and empty. */
static int empty_dir(struct mon *m)
{
	snprintf(m->empty_dir, sizeof(m->empty_dir), "%s/empty", m->cfg->state);
	if (mkdir(m->empty_dir, 0555) != 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	DIR *d = opendir(m->empty_dir);
	if (!d || fstat(dirfd(d), &st) != 0) {
		int e = errno;
		if (d)
			closedir(d);
		return -e;
	}
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	if (n || (geteuid() == 0 && st.st_uid != 0) || (st.st_mode & 0022))
		return -ENOTEMPTY;
	return 0;
}

static int setup(struct mon *m)
{
	int rc;
	const struct rx_config *c = m->cfg;
	const char *dirs[] = {c->files_dir, c->events_dir, c->state};
	for (size_t i = 0; i < 3; i++) {
		if ((rc = mkdirs(dirs[i], i == 2 ? 0700 : 0755, false)) != 0) {
			log_error("%s: %s", dirs[i], strerror(-rc));
			return rc;
		}
	}
	if ((rc = empty_dir(m)) != 0) {
		log_error("%s: %s (the link process's root: an empty folder, root's, not writable "
			  "by others)", m->empty_dir, rc == -ENOTEMPTY ? "not empty, or not safe" : strerror(-rc));
		return rc;
	}
	char err[512];
	if (geteuid() == 0 && (rc = privdrop_lookup(c->user, &m->spc.link.uid, &m->spc.link.gid, err,
						    sizeof(err))) != 0) {
		log_error("user: %s", err);
		return rc;
	}
	m->spc.link.as_user = geteuid() == 0;
	if ((rc = link_udp_rx_open(&m->link, (const struct sockaddr *)&c->listen.ss, c->listen.len)) != 0) {
		log_error("listen on %s: %s", c->listen.text, strerror(-rc));
		return rc;
	}
	uint64_t ring_bytes = c->memory_limit / 8 < RING_BYTES ? c->memory_limit / 8 : RING_BYTES;
	if ((rc = ring_new(&m->ring, ring_bytes ? ring_bytes : 1)) != 0) {
		log_error("block ring of %" PRIu64 " bytes: %s", ring_bytes, strerror(-rc));
		return rc;
	}
	if ((rc = rx_metrics_share()) != 0) {
		log_error("shared counters: %s", strerror(-rc));
		return rc;
	}
	/* The crypto libraries' own set-up (files, tables) before any process is confined. */
	if ((rc = session_crypto_load(err, sizeof(err))) != 0) {
		log_error("%s", err);
		return rc;
	}
	return 0;
}

static int start(struct mon *m, const char *cfg_path)
{
	int rc, fd;
	m->spc = (struct spawner_config){
		.cfg = m->cfg,
		.link = {.senders = m->senders, .nsenders = m->cfg->nsenders,
			 .memory_limit = m->cfg->memory_limit, .object_limit = m->cfg->object_limit,
			 .empty_dir = m->empty_dir},
	};
	if (setup(m) != 0)
		return 1;
	m->spc.link.link = m->link;
	m->spc.link.ring = m->ring;
	pid_t sp = spawner_start(&m->spc, &fd);
	if (sp < 0) {
		log_error("cannot start the spawner: %s", strerror((int)-sp));
		return 1;
	}
	if ((rc = channel_init(&m->sp, fd, PROCMSG_BODY_MAX, PROCMSG_BODY_MAX + CHANNEL_HDR)) != 0)
		return 1;
	/* From here on only the monitor holds the secret. */
	char err[512];
	if (keys_load_rx(m->cfg->secret_path, &m->keys, err, sizeof(err)) != 0) {
		log_error("%s:%u:%u: keys.secret: %s", cfg_path, m->cfg->secret_line, m->cfg->secret_col, err);
		return 2;
	}
	if ((rc = keyholder_new(&m->kh, &m->keys, m->senders, m->cfg->nsenders)) != 0) {
		log_error("key holder: %s", rc == -EINVAL ? "a pinned sender key has no X25519 form"
							  : strerror(-rc));
		return 1;
	}
	link_close(m->link); /* the spawner has it */
	m->link = NULL;
	return 0;
}

int monitor_run(const char *cfg_path, struct rx_config *cfg, const uint8_t (*senders)[32])
{
	static struct mon mon; /* one per process */
	struct mon *m = &mon;
	m->cfg = cfg;
	m->senders = senders;
	m->backoff_ms[0] = m->backoff_ms[1] = 0;
	int rc = start(m, cfg_path);
	if (rc != 0) {
		link_close(m->link);
		keys_wipe(&m->keys, sizeof(m->keys));
		return rc;
	}
	uv_loop_init(&m->loop);
	uv_signal_init(&m->loop, &m->sigint);
	uv_signal_init(&m->loop, &m->sigterm);
	m->sigint.data = m->sigterm.data = m;
	uv_signal_start(&m->sigint, on_signal, SIGINT);
	uv_signal_start(&m->sigterm, on_signal, SIGTERM);
	uv_timer_init(&m->loop, &m->retention);
	uv_timer_init(&m->loop, &m->restart);
	uv_timer_init(&m->loop, &m->stop_timer);
	m->retention.data = m->restart.data = m->stop_timer.data = m;
	uv_timer_start(&m->retention, on_retention, 0, RETENTION_INTERVAL_MS);
	uv_poll_init(&m->loop, &m->sp_poll, m->sp.fd);
	m->sp_poll.data = m;
	uv_poll_start(&m->sp_poll, UV_READABLE, on_sp);
	if (cfg->metrics_enabled) {
		rc = metrics_server_start(&m->metrics, &m->loop, (const struct sockaddr *)&cfg->metrics.ss,
					  rx_metrics, RXM_COUNT);
		if (rc != 0) {
			log_error("metrics on %s: %s", cfg->metrics.text, uv_strerror(rc));
			m->metrics = NULL;
			m->exit_code = 1;
			m->stopping = true;
			finish(m);
		}
	}
	char err[256];
	int landlock = privdrop_landlock_abi();
	if (!m->stopping && sandbox_enter(err, sizeof(err)) != 0) {
		log_error("%s", err);
		m->exit_code = 1;
		m->stopping = true;
		finish(m);
	}
	if (!m->stopping && strcmp(test_trigger(), "monitor-filter") == 0) {
		log_warn("test trigger monitor-filter: calling execve() under the filter");
		char *argv[] = {"/bin/true", NULL};
		execve(argv[0], argv, NULL);
		log_error("test trigger monitor-filter: execve() failed (%s): not stopped", strerror(errno));
	}
	if (!m->stopping) {
		char fp[17];
		keys_fingerprint(m->keys.dh_pk, fp);
		log_info("listening on %s (receiver key %s, %zu pinned sender%s, %s, Landlock ABI %d)",
			 cfg->listen.text, fp, cfg->nsenders, cfg->nsenders == 1 ? "" : "s",
			 sandbox_supported() ? "system-call filter on" : "no system-call filter in this build",
			 landlock);
		reconcile(m);
	}
	uv_run(&m->loop, UV_RUN_DEFAULT);
	uv_loop_close(&m->loop);
	while (waitpid(-1, NULL, 0) > 0) /* the spawner, once it has stopped its children */
		;
	keyholder_free(m->kh);
	keys_wipe(&m->keys, sizeof(m->keys));
	channel_free(&m->sp);
	if (m->dv_open)
		channel_free(&m->dv);
	free(m->kept);
	ring_free(m->ring);
	return m->exit_code;
}
