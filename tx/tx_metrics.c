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
};
