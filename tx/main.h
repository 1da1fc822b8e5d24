/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sender process's main thread (tx/main.c) and its file table (tx/files.c): what they share.
 * Not for use elsewhere.
 */
#ifndef SLUICE_TX_MAIN_H
#define SLUICE_TX_MAIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <uv.h>

#include "common/config.h"
#include "common/keys.h"
#include "common/notify.h"
#include "tx/progress.h"
#include "tx/refused.h"
#include "tx/sender/sender.h"

/* A file of a spool, queued or in flight: one per spool/path. */
struct entry {
	struct entry *next;
	uint64_t hash;
	char *key; /* "spool/relpath" */
	const struct config_spool *sp;
	struct tx_file *file;
	bool again; /* seen ready again while queued or in flight */
	/* while listed in its spool's waiting list (files.c): oldest first */
	bool listed;
	uint64_t found_ns, size;
	struct entry *older, *newer;
};

/* A spool's files queued or in flight, for its backlog and oldest-waiting gauges. */
struct spool_wait {
	struct entry *oldest, *newest;
	uint64_t backlog;
	struct spool_wait *waits; /* one per cfg.spools */
	uv_timer_t health;        /* sets the oldest-waiting gauges every second */
};

struct tx {
	const char *cfg_path;
	struct tx_config cfg;
	struct keys_tx keys;
	uint8_t rx_pk[32];
	struct link *link;
	struct sender *sender;
	struct journal *journal;
	struct keep *keep; /* sent files waiting for after: delete */
	struct spool_watch *watch;
	struct evq *evq;
	struct intake_proc *intake; /* event intake, in processes of its own */
	struct metrics_server *metrics;
	uv_loop_t loop;
	uv_async_t async;
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t progress;
	struct notify notify; /* systemd readiness and watchdog (daemon only) */
	pthread_mutex_t mu;
	struct done_item *done;
	struct entry **tab;
	size_t tabcap;
	struct refused refused;
	uint64_t backlog;
	struct spool_wait *waits; /* one per cfg.spools */
	uv_timer_t health;        /* sets the oldest-waiting gauges every second */
	/* one-shot send */
	bool oneshot;
	size_t oneshot_total, oneshot_done, oneshot_failed;
	uint64_t oneshot_bytes;
	struct progress bar; /* tx/progress.h */
	bool stopping;
	int exit_code;
};

/* reload.c: SIGHUP */
void tx_reload(struct tx *t);

/* files.c: files between the spool watcher and the sender, and what follows a send */
/* 0, or -ENOMEM (logged, nothing queued, e untouched). */
int files_submit(struct tx *t, const struct config_spool *sp, const char *spool, const char *rel,
		 const char *path, const struct stat *st, struct entry *e);
void files_ready(void *ctx, const struct config_spool *sp, const char *rel, const char *path,
		 const struct stat *st);
void files_entry_remove(struct tx *t, struct entry *e);
void files_free(struct tx_file *f);
void files_done(struct tx *t, struct tx_file *f, int status);
void files_health(struct tx *t);

#endif
