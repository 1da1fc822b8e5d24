/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/monitor/monitor.h"
#include "rx/monitor/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

static void on_stop_timer(uv_timer_t *t)
{
	struct mon *m = t->data;
	log_error("processes still running %d ms after the stop began: killed", STOP_KILL_MS);
	m->exit_code = 1;
	mon_signal(m, ROLE_LINK, SIGKILL);
	mon_signal(m, ROLE_DELIVER, SIGKILL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct mon *m = s->data;
	if (m->stopping)
		return;
	log_info("%s: stopping", strsignal(signum));
	notify_stopping(&m->notify);
	m->stopping = true;
	uv_timer_stop(&m->restart);
	uv_timer_start(&m->stop_timer, on_stop_timer, STOP_KILL_MS, 0);
	mon_stop_step(m);
}

static void on_hup(uv_signal_t *s, int signum)
{
	struct mon *m = s->data;
	(void)signum;
	if (!m->stopping)
		mon_reload(m);
}

static void retention_run(uv_work_t *w)
{
	struct mon *m = w->data;
	uint64_t now = (uint64_t)time(NULL);
	retention_sweep(m->cfg->files_dir, m->sweep_days, now);
	retention_sweep(m->cfg->events_dir, m->sweep_days, now);
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
	m->sweep_days = m->cfg->retention_days;
	m->retention_work.data = m;
	uv_queue_work(&m->loop, &m->retention_work, retention_run, retention_done);
}

void mon_retention_now(struct mon *m) { on_retention(&m->retention); }

/* The children's heartbeat bounds; the deliver process's may be shortened by the tests
 * (STALL_TEST_ENV, in ms: an environment variable, never the config), logged when it is. */
static void stall_limits(struct mon *m)
{
	m->stall_ns[ROLE_LINK] = LINK_STALL_NS;
	m->stall_ns[ROLE_DELIVER] = DELIVER_STALL_NS;
	const char *t = getenv(STALL_TEST_ENV);
	if (!t || !*t)
		return;
	char *end;
	unsigned long ms = strtoul(t, &end, 10);
	if (*end || ms < 1000 || ms > DELIVER_STALL_NS / 1000000u) {
		log_warn("%s=%s: not a number of ms from 1000 to %llu; ignored", STALL_TEST_ENV, t,
			 DELIVER_STALL_NS / 1000000u);
		return;
	}
	m->stall_ns[ROLE_DELIVER] = (uint64_t)ms * 1000000u;
	log_warn("%s=%lu (tests only): the deliver process is killed after %lu ms without a "
		 "heartbeat", STALL_TEST_ENV, ms, ms);
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
	if ((rc = privdrop_empty_dir(c->state, m->empty_dir, sizeof(m->empty_dir))) != 0) {
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
	m->spawner_pid = sp;
	if ((rc = channel_init(&m->sp, fd, PROCMSG_BODY_MAX, PROCMSG_BODY_MAX + CHANNEL_HDR)) != 0)
		return 1;
	/* From here on only the monitor holds the secret: not dumpable, so that no other process
	 * of its user (a compromised spawner or deliver process) reads it through /proc. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	char err[512];
	if (keys_load_rx(m->cfg->secret_path, &m->keys, err, sizeof(err)) != 0) {
		log_error("%s:%u:%u: keys.secret: %s", cfg_path, m->cfg->secret_line, m->cfg->secret_col, err);
		return 2;
	}
	if ((rc = keyholder_new(&m->kh, &m->keys, m->senders, m->cfg->nsenders,
				 m->cfg->state)) != 0) {
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
	m->cfg_path = cfg_path;
	m->senders = senders;
	m->backoff_ms[0] = m->backoff_ms[1] = 0;
	stall_limits(m);
	int rc = start(m, cfg_path);
	if (rc != 0) {
		link_close(m->link);
		keys_wipe(&m->keys, sizeof(m->keys));
		return rc;
	}
	uv_loop_init(&m->loop);
	uv_signal_init(&m->loop, &m->sigint);
	uv_signal_init(&m->loop, &m->sigterm);
	uv_signal_init(&m->loop, &m->sighup);
	m->sigint.data = m->sigterm.data = m->sighup.data = m;
	uv_signal_start(&m->sigint, on_signal, SIGINT);
	uv_signal_start(&m->sigterm, on_signal, SIGTERM);
	uv_signal_start(&m->sighup, on_hup, SIGHUP);
	uv_timer_init(&m->loop, &m->retention);
	uv_timer_init(&m->loop, &m->restart);
	uv_timer_init(&m->loop, &m->stop_timer);
	m->retention.data = m->restart.data = m->stop_timer.data = m;
	uv_timer_start(&m->retention, on_retention, 0, RETENTION_INTERVAL_MS);
	uv_timer_init(&m->loop, &m->space);
	m->space.data = m;
	uv_timer_init(&m->loop, &m->watchdog);
	m->watchdog.data = m;
	uv_timer_start(&m->watchdog, mon_watchdog, WATCHDOG_MS, WATCHDOG_MS);
	uv_timer_start(&m->space, mon_space_check, 0, SPACE_CHECK_MS);
	uv_poll_init(&m->loop, &m->sp_poll, m->sp.fd);
	m->sp_poll.data = m;
	uv_poll_start(&m->sp_poll, UV_READABLE, mon_on_spawner);
	if (cfg->metrics_enabled) {
		rc = metrics_server_start(&m->metrics, &m->loop, (const struct sockaddr *)&cfg->metrics.ss,
					  rx_metrics, RXM_COUNT);
		if (rc != 0) {
			log_error("metrics on %s: %s", cfg->metrics.text, uv_strerror(rc));
			m->metrics = NULL;
			m->exit_code = 1;
			m->stopping = true;
			mon_finish(m);
		}
	}
	char err[256];
	int landlock = privdrop_landlock_abi();
	if (!m->stopping && sandbox_enter(err, sizeof(err)) != 0) {
		log_error("%s", err);
		m->exit_code = 1;
		m->stopping = true;
		mon_finish(m);
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
		notify_ready(&m->notify, &m->loop, "receiving");
		mon_reconcile(m);
	}
	uv_run(&m->loop, UV_RUN_DEFAULT);
	uv_loop_close(&m->loop);
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, 0)) > 0) { /* the spawner, once it has stopped its children */
		if (pid != m->spawner_pid)
			continue;
		if (WIFSIGNALED(st))
			log_error("the spawner process was killed by signal %d (%s)", WTERMSIG(st),
				  strsignal(WTERMSIG(st)));
		else if (WEXITSTATUS(st) != 0)
			log_error("the spawner process exited with status %d", WEXITSTATUS(st));
	}
	keyholder_free(m->kh);
	keys_wipe(&m->keys, sizeof(m->keys));
	channel_free(&m->sp);
	if (m->dv_open)
		channel_free(&m->dv);
	free(m->kept);
	ring_free(m->ring);
	return m->exit_code;
}
