/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor's parts (rx/monitor/): its state, and the calls between monitor.c (set-up, the
 * loop, signals, retention), space.c (free space on the output folders), children.c (starting,
 * stopping and restarting the children), messages.c (what the spawner, the deliver process and
 * the link process send it) and reload.c (SIGHUP).
 */
#ifndef SLUICE_RX_MONITOR_INTERNAL_H
#define SLUICE_RX_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "common/channel.h"
#include "common/config.h"
#include "common/keys.h"
#include "common/notify.h"
#include "rx/monitor/spawner.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STEADY_NS 30000000000ull /* a child that ran this long starts again at once */
#define STOP_KILL_MS 1800 /* a stop ends within 2 s (INTERFACE.md): whatever still runs is killed */
#define LINK_STALL_NS 5000000000ull /* no KH_ALIVE from the link process for this long: killed */
#define LINK_STALL_STOP_NS 1500000000ull /* the same once a stop began (SIGTERM within 2 s) */
/* No DV_ALIVE from the deliver process for this long: killed. Its loop beats between messages,
 * and one message may be a file's commit (fsync of up to limits.object bytes, then its
 * folder's), which takes seconds on slow storage: 30 s is well past that. Once a stop began,
 * LINK_STALL_STOP_NS. */
#define DELIVER_STALL_NS 30000000000ull
#define STALL_TEST_ENV "SLUICE_TEST_DELIVER_STALL_MS" /* tests only: DELIVER_STALL_NS, shorter */
#define WATCHDOG_MS 250
/* STATE/senders per pinned sender, at most: five lines (its current session, two retired in the
 * link process's table, two loaded and not yet settled: SESSIONS_PER_SENDER is 2), each of up to
 * 1,024 words of resolved-id bits (RESOLVED_WINDOW / 64, 17 characters each) and a head: about
 * 88 KB (rx/link/state.c writes them; tests/e2e/test_senders_state.sh). */
#define STATE_MAX (128u << 10)

enum child_state { DOWN, STARTING, UP };

struct mon {
	struct rx_config *cfg;
	const char *cfg_path;
	const uint8_t (*senders)[32];
	struct keys_rx keys;
	struct keyholder *kh;
	struct link *link;
	struct ring *ring;
	char empty_dir[4096];
	struct spawner_config spc;
	pid_t spawner_pid;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t retention, restart, stop_timer, space, watchdog;
	struct notify notify; /* systemd readiness and watchdog */
	uv_poll_t sp_poll, dv_poll, kh_poll;
	struct channel sp, dv, khc;
	bool dv_open, kh_open;
	bool dv_closing, kh_closing; /* their poll handle closed, not re-initialised until done */
	enum child_state st[2];
	uint64_t started_ns[2];
	unsigned backoff_ms[2];
	uint32_t incarnation;
	uint64_t alive_ns[2];   /* per role, its last KH_ALIVE or DV_ALIVE (or its start) */
	uint64_t stall_ns[2];   /* per role, how long it may be silent (LINK_STALL_NS, ...) */
	bool stall_killed[2];   /* the watchdog killed the current one */
	uint8_t *kept;
	size_t kept_len;
	bool kept_known;
	bool stopping, finished;
	struct metrics_server *metrics;
	uv_work_t retention_work;
	bool retention_busy;
	bool space_low[3]; /* output.files, output.events, log.audit below output.min_free */
	unsigned sweep_days; /* retention.days for the sweep under way (a reload may change cfg's) */
	int exit_code;
};
/* children.c */
const char *mon_role_name(int role);
void mon_on_closed(uv_handle_t *h);
int mon_spawner_send(struct mon *m, uint32_t type, const void *body, size_t len, int fd);
void mon_signal(struct mon *m, uint32_t role, uint32_t sig);
void mon_compromised(struct mon *m, uint32_t role, const char *what);
void mon_finish(struct mon *m);
void mon_stop_step(struct mon *m);
void mon_reconcile(struct mon *m);
void mon_child_exited(struct mon *m, uint32_t role, uint32_t status);
void mon_watchdog(uv_timer_t *t);

/* space.c: free space on the output folders (timer callback) */
#define SPACE_CHECK_MS 5000
void mon_space_check(uv_timer_t *t);

/* monitor.c */
void mon_retention_now(struct mon *m);

/* reload.c */
void mon_reload(struct mon *m);

/* messages.c */
void mon_on_spawner(uv_poll_t *p, int status, int events);
void mon_on_deliver(uv_poll_t *p, int status, int events);
void mon_on_keyholder(uv_poll_t *p, int status, int events);

#endif
