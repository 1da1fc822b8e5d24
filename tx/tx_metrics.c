/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/tx_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C(n, h) {.name = n, .help = h, .type = METRIC_COUNTER}
#define G(n, h) {.name = n, .help = h, .type = METRIC_GAUGE}
#define MICRO(n, h) {.name = n, .help = h, .type = METRIC_GAUGE, .micro = true}

static struct metric initial[TXM_COUNT] = {
	[TXM_PACKETS] = C("sluice_tx_packets_total", "Datagrams sent."),
	[TXM_BYTES] = C("sluice_tx_bytes_total", "Datagram bytes sent."),
	[TXM_OBJECTS] = C("sluice_tx_objects_total", "Files sent completely, all repeats."),
	[TXM_BACKLOG] = G("sluice_tx_backlog_bytes", "File bytes waiting to be sent."),
	[TXM_FILE_BYTES] = C("sluice_tx_file_bytes_total", "File content bytes sent (first pass)."),
	[TXM_ABORTED] = C("sluice_tx_files_aborted_total", "Sends of a file abandoned, the file sent again or given up: it changed, shrank or vanished while being sent, or a packet of it or its last manifest copy could not be sealed (sluice_tx_seal_errors_total)."),
	[TXM_ANNOUNCES] = C("sluice_tx_announcements_total", "Session announcements sent."),
	[TXM_SEND_ERRORS] = C("sluice_tx_send_errors_total", "Failed link sends."),
	[TXM_EVENTS] = C("sluice_tx_events_total", "Events accepted at intake."),
	[TXM_EVENTS_DROPPED] = C("sluice_tx_events_dropped_total", "Events dropped from a full queue (oldest first)."),
	[TXM_EVENTS_REJECTED] = C("sluice_tx_events_rejected_total", "Event lines refused: over max_line or badly framed."),
	[TXM_EVENT_BATCHES] = C("sluice_tx_event_batches_total", "Event batches sent."),
	[TXM_EVENT_BATCHES_CUT] = C("sluice_tx_event_batches_cut_total", "Event batches taken from the queue at a stop but not sent whole: the link was too slow to take them before the stop ended (their events are a seq gap at the receiver)."),
	[TXM_EVENTS_LOST_INTAKE] = C("sluice_tx_events_kernel_dropped_total", "UDP event datagrams the kernel dropped before intake read them."),
	[TXM_EVENT_CLIENTS_IDLE] = C("sluice_tx_event_clients_idle_closed_total", "Event clients (tcp:, unix:) closed after idle_timeout without a byte."),
	[TXM_EVENT_CLIENTS_EVICTED] = C("sluice_tx_event_clients_evicted_total", "Event clients closed, the one idle longest, to make room for a new one on a full source."),
	[TXM_EVENTS_PARTIAL] = C("sluice_tx_events_partial_dropped_total", "Unfinished event lines or frames dropped when intake closed their connection."),
	[TXM_REFUSED] = C("sluice_tx_files_refused_total", "Spool files kept, not sent: their names break the rules the receiver applies."),
	[TXM_FILES_DELETED] = C("sluice_tx_files_deleted_total", "Sent spool files deleted (after: delete, once keep_for had passed)."),
	[TXM_INTAKE_RESTARTS] = C("sluice_tx_intake_restarts_total", "Event intake processes started again after one exited, crashed or was killed for a malformed message."),
	[TXM_OLDEST] = MICRO("sluice_tx_oldest_waiting_seconds", "Seconds since the oldest spool file not yet fully sent (all repeats) was found ready; 0 when none waits."),
	[TXM_MANIFEST_ERRORS] = C("sluice_tx_manifest_errors_total", "Files kept, not consumed: their manifest could not be signed (see the log), so it was not recorded as sent."),
	[TXM_LEFT_ASIDE] = C("sluice_tx_files_left_aside_total", "Files under a hidden .sluice-delete-PID name that could not be put back under their name: left by a sluice-tx killed while deleting them (counted at each scan that finds them), or changed since they were sent and their move back failed: each may be a file never sent; see the log."),
	[TXM_EVENT_BATCHES_LOST] = C("sluice_tx_event_batches_lost_total", "Event batches taken from the queue that could not be sent: not coded, or a packet not sealed (see the log and sluice_tx_seal_errors_total); their events are a seq gap at the receiver."),
	[TXM_SEAL_ERRORS] = C("sluice_tx_seal_errors_total", "Packets the AEAD could not seal. None leaves with what the failed seal left: a file's packet leaves zeroed (the receiver counts it as failing authentication) and that pass of the file is abandoned and sent again (sluice_tx_files_aborted_total); a manifest copy with one is sent again, up to 3 times (then, for the last copy, the file is sent again); an event batch with one is not sent from that block on (sluice_tx_event_batches_lost_total). See the log."),
	[TXM_UNWATCHED] = G("sluice_tx_spool_unwatched_folders", "Spool sub-folders inotify would not watch (often the watch limit): files in them are not seen until a retry, every 500 ms, succeeds."),
};

struct metric *tx_metrics = initial;
size_t tx_metrics_n = TXM_COUNT;
static size_t nspools;

int tx_metrics_spools(const struct config_spool *sp, size_t n)
{
	struct metric *m = calloc(TXM_COUNT + 2 * n, sizeof(*m));
	char *labels = calloc(n ? n : 1, CONFIG_NAME_MAX + 16);
	if (!m || !labels) {
		free(m);
		free(labels);
		return -ENOMEM;
	}
	memcpy(m, initial, sizeof(initial));
	for (size_t i = 0; i < n; i++) {
		char *l = labels + i * (CONFIG_NAME_MAX + 16);
		snprintf(l, CONFIG_NAME_MAX + 16, "spool=\"%s\"", sp[i].name);
		m[TXM_COUNT + i] = (struct metric)G("sluice_tx_spool_backlog_bytes",
						    "File bytes waiting to be sent, per spool.");
		m[TXM_COUNT + i].labels = l;
		m[TXM_COUNT + n + i] = (struct metric)MICRO("sluice_tx_spool_oldest_waiting_seconds",
							    "Seconds since the spool's oldest file not yet fully sent was found ready.");
		m[TXM_COUNT + n + i].labels = l;
	}
	/* Lives as long as the process: the metrics server and every thread read it. */
	tx_metrics = m;
	tx_metrics_n = TXM_COUNT + 2 * n;
	nspools = n;
	return 0;
}

struct metric *txm_spool_backlog(size_t spool) { return &tx_metrics[TXM_COUNT + spool]; }

struct metric *txm_spool_oldest(size_t spool) { return &tx_metrics[TXM_COUNT + nspools + spool]; }
