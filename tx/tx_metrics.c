/* SPDX-License-Identifier: Apache-2.0 */
#include "tx/tx_metrics.h"

#define C(n, h) {.name = n, .help = h, .type = METRIC_COUNTER}
#define G(n, h) {.name = n, .help = h, .type = METRIC_GAUGE}

struct metric tx_metrics[TXM_COUNT] = {
	[TXM_PACKETS] = C("sluice_tx_packets_total", "Datagrams sent."),
	[TXM_BYTES] = C("sluice_tx_bytes_total", "Datagram bytes sent."),
	[TXM_OBJECTS] = C("sluice_tx_objects_total", "Files sent completely, all repeats."),
	[TXM_BACKLOG] = G("sluice_tx_backlog_bytes", "File bytes waiting to be sent."),
	[TXM_FILE_BYTES] = C("sluice_tx_file_bytes_total", "File content bytes sent (first pass)."),
	[TXM_ABORTED] = C("sluice_tx_files_aborted_total", "Files that changed, shrank or vanished while being sent."),
	[TXM_ANNOUNCES] = C("sluice_tx_announcements_total", "Session announcements sent."),
	[TXM_SEND_ERRORS] = C("sluice_tx_send_errors_total", "Failed link sends."),
	[TXM_EVENTS] = C("sluice_tx_events_total", "Events accepted at intake."),
	[TXM_EVENTS_DROPPED] = C("sluice_tx_events_dropped_total", "Events dropped from a full queue (oldest first)."),
	[TXM_EVENTS_REJECTED] = C("sluice_tx_events_rejected_total", "Event lines refused: over max_line or badly framed."),
	[TXM_EVENT_BATCHES] = C("sluice_tx_event_batches_total", "Event batches sent."),
	[TXM_EVENTS_LOST_INTAKE] = C("sluice_tx_events_kernel_dropped_total", "UDP event datagrams the kernel dropped before intake read them."),
	[TXM_EVENT_CLIENTS_IDLE] = C("sluice_tx_event_clients_idle_closed_total", "Event clients (tcp:, unix:) closed after idle_timeout without a byte."),
	[TXM_EVENT_CLIENTS_EVICTED] = C("sluice_tx_event_clients_evicted_total", "Event clients closed, the one idle longest, to make room for a new one on a full source."),
	[TXM_EVENTS_PARTIAL] = C("sluice_tx_events_partial_dropped_total", "Unfinished event lines or frames dropped when intake closed their connection."),
	[TXM_REFUSED] = C("sluice_tx_files_refused_total", "Spool files kept, not sent: their names break the rules the receiver applies."),
	[TXM_FILES_DELETED] = C("sluice_tx_files_deleted_total", "Sent spool files deleted (after: delete, once keep_for had passed)."),
	[TXM_INTAKE_RESTARTS] = C("sluice_tx_intake_restarts_total", "Event intake processes started again after one exited, crashed or was killed for a malformed message."),
};
