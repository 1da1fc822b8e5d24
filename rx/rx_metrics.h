/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/* The receiver's counters (Prometheus names fixed by INTERFACE.md, plus detail). Defined in
 * rx/rx_metrics.c; every process adds to them with metric_add(). */
#ifndef SLUICE_RX_METRICS_H
#define SLUICE_RX_METRICS_H

#include "common/metrics.h"

enum rx_metric {
	RXM_PACKETS = 0,        /* sluice_rx_packets_total: datagrams received */
	RXM_REJECTED,           /* sluice_rx_packets_rejected_total: malformed, unknown key or session, forged, replayed */
	RXM_REJ_MALFORMED,      /* sluice_rx_rejected_malformed_total */
	RXM_REJ_SESSION,        /* sluice_rx_rejected_unknown_session_total */
	RXM_REJ_AUTH,           /* sluice_rx_rejected_auth_total: AEAD or signature failure */
	RXM_REJ_REPLAY,         /* sluice_rx_rejected_replay_total */
	RXM_REJ_SENDER,         /* sluice_rx_rejected_sender_total: announcement from an unpinned key */
	RXM_DUP_PACKETS,        /* sluice_rx_packets_redundant_total: for blocks or objects already complete */
	RXM_DELIVERED,          /* sluice_rx_objects_delivered_total */
	RXM_DUPLICATES,         /* sluice_rx_objects_duplicate_total: identical content already there */
	RXM_RENAMED,            /* sluice_rx_objects_renamed_total: stored beside a different file */
	RXM_LOST,               /* sluice_rx_objects_lost_total */
	RXM_OBJ_REJECTED,       /* sluice_rx_objects_rejected_total: bad manifest, hash or path */
	RXM_BYTES_DELIVERED,    /* sluice_rx_bytes_delivered_total */
	RXM_EVENTS_DELIVERED,   /* sluice_rx_events_delivered_total */
	RXM_EVENTS_LOST,        /* sluice_rx_events_lost_total */
	RXM_EVENTS_DUPLICATE,   /* sluice_rx_events_duplicate_total: seq already written */
	RXM_EVENTS_FWD_DROPPED, /* sluice_rx_events_forward_dropped_total: lines not forwarded */
	RXM_FEC_RECOVERED,      /* sluice_rx_fec_recovered_packets_total */
	RXM_SESSIONS,           /* sluice_rx_sessions_total: sessions opened */
	RXM_RESTARTS,           /* sluice_rx_sender_restarts_total */
	RXM_EVICTED,            /* sluice_rx_objects_evicted_total: dropped by limits.memory */
	RXM_MEMORY,             /* sluice_rx_memory_bytes: partial objects held (gauge) */
	RXM_LINK_UP,            /* sluice_rx_link_up (gauge) */
	RXM_SOCKET_DROPPED,     /* sluice_rx_socket_dropped_total: datagrams the kernel dropped */
	RXM_REJ_ANN_MAC,        /* sluice_rx_rejected_announce_mac_total: forged announcements */
	RXM_REJ_OVER_LIMIT,     /* sluice_rx_rejected_over_limit_total: packets of files over limits.object */
	RXM_UNACCOUNTED,        /* sluice_rx_sessions_unaccounted_total: previous session's end unknown */
	RXM_LINK_RESTARTS,      /* sluice_rx_link_restarts_total: link processes started again */
	RXM_DELIVER_RESTARTS,   /* sluice_rx_deliver_restarts_total: deliver processes started again */
	RXM_CHANNEL_REFUSED,    /* sluice_rx_channel_refused_total: malformed messages between processes */
	RXM_DISK_FULL,          /* sluice_rx_disk_full_total: objects and event writes lost to a full filesystem */
	RXM_OUTPUT_FREE,        /* sluice_rx_output_free_bytes: free space for output.files (gauge) */
	RXM_EVENTS_FREE,        /* sluice_rx_events_free_bytes: free space for output.events (gauge) */
	RXM_DISK_LOW,           /* sluice_rx_disk_low: 1 while either is below output.min_free (gauge) */
	RXM_LOSS_RATIO,         /* sluice_rx_link_loss_ratio (micro gauge): over the last ~10 s */
	RXM_HEARTBEAT_AGE,      /* sluice_rx_heartbeat_age_seconds (micro gauge) */
	RXM_CLOCK_SKEW,         /* sluice_rx_clock_skew_seconds (micro gauge, signed) */
	RXM_AUDIT_WRITE_ERRORS, /* sluice_rx_audit_write_errors_total: failed audit-log writes */
	RXM_AUDIT_BACKLOG,      /* sluice_rx_audit_backlog_lines: audit lines waiting for a write (gauge) */
	RXM_AUDIT_DROPPED,      /* sluice_rx_audit_lines_dropped_total: over the backlog's bound */
	RXM_AUDIT_FREE,         /* sluice_rx_audit_free_bytes: free space for log.audit (gauge) */
	RXM_DIR_FSYNC_ERRORS,   /* sluice_rx_dir_fsync_errors_total: delivered, the folder's fsync failed */
	RXM_EVENT_CHAIN_BREAKS, /* sluice_rx_event_chain_breaks_total: event batch chains broken (missing, mismatch, fork, restart) */
	RXM_EVENT_BATCHES_REJECTED, /* sluice_rx_event_batches_rejected_total: bad signature or malformed */
	RXM_EVENT_BATCHES_LOST, /* sluice_rx_event_batches_lost_total: batches the link gave up */
	RXM_EVENTS_SEQ_BACK,    /* sluice_rx_events_seq_back_total: seq below one written, newer tx_time */
	RXM_CHAIN_BREAKS,       /* sluice_rx_chain_breaks_total: audited chain_break lines */
	RXM_LINK_REFUSED,       /* sluice_rx_link_messages_refused_total: decoded, refused by deliver */
	RXM_COUNT
};

/* RXM_COUNT counters: in this process's memory until rx_metrics_share() moves them into a
 * shared mapping that the processes forked after it add to (0 or -errno). */
extern struct metric *rx_metrics;
int rx_metrics_share(void) __attribute__((warn_unused_result));

static inline void rxm_add(enum rx_metric m, uint64_t v) { metric_add(&rx_metrics[m], v); }

#endif
