/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
#include "rx/rx_metrics.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define C(n, h) {.name = n, .help = h, .type = METRIC_COUNTER}
#define G(n, h) {.name = n, .help = h, .type = METRIC_GAUGE}
#define MICRO(n, h) {.name = n, .help = h, .type = METRIC_GAUGE, .micro = true}

static struct metric initial[RXM_COUNT] = {
	[RXM_PACKETS] = C("sluice_rx_packets_total", "Datagrams received."),
	[RXM_REJECTED] = C("sluice_rx_packets_rejected_total", "Datagrams refused: malformed, unknown sender or session, forged or replayed."),
	[RXM_REJ_MALFORMED] = C("sluice_rx_rejected_malformed_total", "Datagrams refused as malformed."),
	[RXM_REJ_SESSION] = C("sluice_rx_rejected_unknown_session_total", "Datagrams for a session with no valid announcement."),
	[RXM_REJ_AUTH] = C("sluice_rx_rejected_auth_total", "Datagrams failing AEAD or signature checks."),
	[RXM_REJ_REPLAY] = C("sluice_rx_rejected_replay_total", "Datagrams refused by the replay window."),
	[RXM_REJ_SENDER] = C("sluice_rx_rejected_sender_total", "Announcements from keys not pinned or for another receiver."),
	[RXM_DUP_PACKETS] = C("sluice_rx_packets_redundant_total", "Authentic datagrams for blocks or objects already complete."),
	[RXM_DELIVERED] = C("sluice_rx_objects_delivered_total", "Files delivered under their final name."),
	[RXM_DUPLICATES] = C("sluice_rx_objects_duplicate_total", "Files whose identical content was already delivered."),
	[RXM_RENAMED] = C("sluice_rx_objects_renamed_total", "Files stored beside a different file of the same name."),
	[RXM_LOST] = C("sluice_rx_objects_lost_total", "Objects that can no longer complete."),
	[RXM_OBJ_REJECTED] = C("sluice_rx_objects_rejected_total", "Objects refused: bad manifest, hash or path."),
	[RXM_BYTES_DELIVERED] = C("sluice_rx_bytes_delivered_total", "File bytes delivered."),
	[RXM_EVENTS_DELIVERED] = C("sluice_rx_events_delivered_total", "Events written."),
	[RXM_EVENTS_LOST] = C("sluice_rx_events_lost_total", "Events missing from sequence gaps, or not written (see the log)."),
	[RXM_EVENTS_FWD_DROPPED] = C("sluice_rx_events_forward_dropped_total", "Event lines not forwarded: consumer slow or away (they are in the files)."),
	[RXM_EVENTS_DUPLICATE] = C("sluice_rx_events_duplicate_total", "Events dropped: seq already written."),
	[RXM_FEC_RECOVERED] = C("sluice_rx_fec_recovered_packets_total", "Source packets rebuilt by FEC."),
	[RXM_SESSIONS] = C("sluice_rx_sessions_total", "Sender sessions opened."),
	[RXM_RESTARTS] = C("sluice_rx_sender_restarts_total", "Sender restarts detected."),
	[RXM_EVICTED] = C("sluice_rx_objects_evicted_total", "Partial objects evicted by limits.memory."),
	[RXM_MEMORY] = G("sluice_rx_memory_bytes", "Bytes held in partial objects."),
	[RXM_LINK_UP] = G("sluice_rx_link_up", "1 while the sender's heartbeats arrive."),
	[RXM_REJ_OVER_LIMIT] = C("sluice_rx_rejected_over_limit_total", "Datagrams of files longer than limits.object (the file is audited rejected)."),
	[RXM_UNACCOUNTED] = C("sluice_rx_sessions_unaccounted_total", "New sender sessions whose previous session this receiver cannot account for (it crashed while this receiver was stopped, or was never heard): files it sent may be missing unreported."),
	[RXM_REJ_ANN_MAC] = C("sluice_rx_rejected_announce_mac_total", "Announcements refused by their MAC, before any signature check: forged or corrupted."),
	[RXM_LINK_RESTARTS] = C("sluice_rx_link_restarts_total", "Link processes started again after one died or was killed."),
	[RXM_DELIVER_RESTARTS] = C("sluice_rx_deliver_restarts_total", "Deliver processes started again after one died or was killed."),
	[RXM_CHAIN_BREAKS] = C("sluice_rx_chain_breaks_total", "Breaks in a spool's chain of manifests: missing, mismatched, forked, replayed or reset (each an audited chain_break line)."),
	[RXM_LINK_REFUSED] = C("sluice_rx_link_messages_refused_total", "Messages from the link process that decoded but that the deliver process refused (a block reference outside the ring, a kind or range out of bounds, a session of an unpinned sender or of another): a genuine link process sends none; each is logged."),
	[RXM_CHANNEL_REFUSED] = C("sluice_rx_channel_refused_total", "Malformed messages between rx's processes: each one's sender was killed as compromised."),
	[RXM_DISK_FULL] = C("sluice_rx_disk_full_total", "Objects lost, and event writes failed, because output.files or output.events was full (ENOSPC, EDQUOT)."),
	[RXM_OUTPUT_FREE] = G("sluice_rx_output_free_bytes", "Free bytes on the filesystem of output.files, for an unprivileged writer; checked every 5 s."),
	[RXM_EVENTS_FREE] = G("sluice_rx_events_free_bytes", "Free bytes on the filesystem of output.events, for an unprivileged writer; checked every 5 s."),
	[RXM_DISK_LOW] = G("sluice_rx_disk_low", "1 while output.files or output.events has less free space than output.min_free."),
	[RXM_SOCKET_DROPPED] = C("sluice_rx_socket_dropped_total", "Datagrams the kernel dropped: the receive socket's buffer was full."),
	[RXM_LOSS_RATIO] = MICRO("sluice_rx_link_loss_ratio", "Share of the data packets the sender sent (as its announcements say) that did not arrive, over the last ~10 s; 0 while no sender is heard."),
	[RXM_HEARTBEAT_AGE] = MICRO("sluice_rx_heartbeat_age_seconds", "Seconds since the last valid announcement (since the link process started, before any)."),
	[RXM_AUDIT_WRITE_ERRORS] = C("sluice_rx_audit_write_errors_total", "Audit-log writes that failed (each attempt, retries included): the line waits in memory and is written when a write succeeds again."),
	[RXM_AUDIT_BACKLOG] = G("sluice_rx_audit_backlog_lines", "Audit lines that could not be written yet, kept in memory in order."),
	[RXM_AUDIT_DROPPED] = C("sluice_rx_audit_lines_dropped_total", "Audit lines not written: dropped because the in-memory backlog was full (4 MiB), or still waiting for a write that succeeds when the deliver process stopped (their text is in the log). The audit log notes each hole."),
	[RXM_AUDIT_FREE] = G("sluice_rx_audit_free_bytes", "Free bytes on the filesystem of log.audit, for an unprivileged writer; checked every 5 s."),
	[RXM_DIR_FSYNC_ERRORS] = C("sluice_rx_dir_fsync_errors_total", "Files delivered whose folder could not be synced after the rename: the file is there, but its name may not survive a crash (audited with reason dir_fsync_failed)."),
	[RXM_EVENT_CHAIN_BREAKS] = C("sluice_rx_event_chain_breaks_total", "Breaks in the signed chain of an event source's batches: missing, mismatching, forked or restarted, or the state file unreadable (audit outcome chain_break)."),
	[RXM_EVENT_BATCHES_REJECTED] = C("sluice_rx_event_batches_rejected_total", "Event batches refused: malformed, or not signed by a pinned sender key (audit outcome rejected)."),
	[RXM_EVENT_BATCHES_LOST] = C("sluice_rx_event_batches_lost_total", "Event batches the link could not complete: their events show as seq gaps (sluice_rx_events_lost_total) once a later batch of the source arrives."),
	[RXM_EVENTS_SEQ_BACK] = C("sluice_rx_events_seq_back_total", "Events not written because their seq went back within the same stream with a newer tx_time (the sender's state restored from an old copy); also counted in sluice_rx_events_lost_total."),
	[RXM_CLOCK_SKEW] = MICRO("sluice_rx_clock_skew_seconds", "This receiver's wall clock minus the sender's, from its last announcement (transit time included)."),
};

struct metric *rx_metrics = initial;

int rx_metrics_share(void)
{
	void *p = mmap(NULL, sizeof(initial), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	memcpy(p, rx_metrics, sizeof(initial));
	rx_metrics = p;
	return 0;
}
