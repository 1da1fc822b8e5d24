/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* The sender's counters (names fixed by INTERFACE.md, plus detail). */
#ifndef SLUICE_TX_METRICS_H
#define SLUICE_TX_METRICS_H

#include "common/config.h"
#include "common/metrics.h"

enum tx_metric {
	TXM_PACKETS = 0,   /* sluice_tx_packets_total */
	TXM_BYTES,         /* sluice_tx_bytes_total: datagram bytes sent */
	TXM_OBJECTS,       /* sluice_tx_objects_total: files sent completely (all repeats) */
	TXM_BACKLOG,       /* sluice_tx_backlog_bytes (gauge): file bytes waiting to be sent */
	TXM_FILE_BYTES,    /* sluice_tx_file_bytes_total: file content bytes sent (first pass) */
	TXM_ABORTED,       /* sluice_tx_files_aborted_total: sends abandoned (changed, vanished, not sealed) */
	TXM_ANNOUNCES,     /* sluice_tx_announcements_total */
	TXM_SEND_ERRORS,   /* sluice_tx_send_errors_total */
	TXM_EVENTS,        /* sluice_tx_events_total: events accepted at intake */
	TXM_EVENTS_DROPPED, /* sluice_tx_events_dropped_total: dropped from a full queue */
	TXM_EVENT_BATCHES_CUT, /* sluice_tx_event_batches_cut_total: cut short by a stop */
	TXM_EVENTS_REJECTED, /* sluice_tx_events_rejected_total: over max_line, bad framing */
	TXM_EVENT_BATCHES, /* sluice_tx_event_batches_total */
	TXM_EVENTS_LOST_INTAKE, /* sluice_tx_events_kernel_dropped_total: UDP datagrams dropped before intake */
	TXM_EVENT_CLIENTS_IDLE, /* sluice_tx_event_clients_idle_closed_total */
	TXM_EVENT_CLIENTS_EVICTED, /* sluice_tx_event_clients_evicted_total: closed for a new client */
	TXM_EVENTS_PARTIAL, /* sluice_tx_events_partial_dropped_total: unfinished at close */
	TXM_REFUSED,       /* sluice_tx_files_refused_total: names the receiver would refuse (tx/refused.h) */
	TXM_FILES_DELETED, /* sluice_tx_files_deleted_total: sent spool files deleted (after: delete) */
	TXM_INTAKE_RESTARTS, /* sluice_tx_intake_restarts_total: intake processes started again */
	TXM_OLDEST,        /* sluice_tx_oldest_waiting_seconds (micro gauge): oldest file not fully sent */
	TXM_MANIFEST_ERRORS, /* sluice_tx_manifest_errors_total: files kept, their manifest not signed */
	TXM_UNWATCHED,     /* sluice_tx_spool_unwatched_folders (gauge): sub-folders inotify refused */
	TXM_LEFT_ASIDE,    /* sluice_tx_files_left_aside_total: .sluice-delete-* files not put back */
	TXM_EVENT_BATCHES_LOST, /* sluice_tx_event_batches_lost_total: could not be coded or sealed */
	TXM_SEAL_ERRORS,   /* sluice_tx_seal_errors_total: packets the AEAD could not seal */
	TXM_COUNT
};

/* TXM_COUNT metrics, then, once tx_metrics_spools() has run, two labelled series per spool:
 * sluice_tx_spool_backlog_bytes{spool="NAME"} and sluice_tx_spool_oldest_waiting_seconds. */
extern struct metric *tx_metrics;
extern size_t tx_metrics_n; /* all of them, for the metrics server */

/* Adds the per-spool series for sp[0..n) (valid spool names: nothing to escape). Call before
 * any other thread or process uses tx_metrics. 0 or -ENOMEM. */
int tx_metrics_spools(const struct config_spool *sp, size_t n) __attribute__((warn_unused_result));
struct metric *txm_spool_backlog(size_t spool);
struct metric *txm_spool_oldest(size_t spool);

static inline void txm_add(enum tx_metric m, uint64_t v) { metric_add(&tx_metrics[m], v); }

#endif
