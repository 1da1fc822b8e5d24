#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Losses the receiver must report, and only those:
# 1. files a sender sent before the receiver ever heard it: one "lost" audit line for the
#    range of their ids, counted in sluice_rx_objects_lost_total;
# 2. files sent while the receiver was stopped: the same on rejoining the session, and
#    nothing said of the file it had delivered before it stopped;
# 3. files sent while it was stopped by a session that ended meanwhile: reported when the
#    sender's next session says where that one ended; after a sender crash, the receiver says
#    it cannot account for that session;
# 4. event batches lost on the link: a seq gap in the events, never a lost object.
. "$(dirname "$0")/lib.sh"
EVSEND="$BUILD/sluice-evsend"
EV_PORT=$((BASE_PORT + 5))
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 1Gbit
mkdir -p "$W/src"
for i in 1 2 3 4 5 6 7 8; do make_file "$W/src/f$i.bin" 300000 "f$i"; done

# lost_line FIRST LAST REASON: the audit log has a lost line for exactly that range.
lost_line() {
	python3 - "$W/audit.jsonl" "$1" "$2" "$3" <<'PY'
import json, sys
path, first, last, reason = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for line in open(path):
    r = json.loads(line)
    if r["outcome"] != "lost":
        continue
    got_last = r.get("object_last", r["object"])
    if r["object"] == first and got_last == last and reason in r.get("reason", ""):
        sys.exit(0)
sys.exit(1)
PY
}
lost_lines() { grep -c '"outcome":"lost"' "$W/audit.jsonl" || true; }

log "1. three files leave before the receiver runs"
for i in 1 2 3; do cp "$W/src/f$i.bin" "$W/spool/"; done
start_tx
wait_for "tx to send three files" 30 metric_ge "$TX_METRICS" sluice_tx_objects_total 3
start_rx
wait_for "the session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1
wait_for "the range reported" 10 lost_line 1 3 "sent before this receiver first heard this sender"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 3 ] || fail "lost counter is not 3"
[ "$(lost_lines)" -eq 1 ] || fail "expected one lost line, got $(lost_lines)"
grep -q 'objects 1-3 (3) lost: sent before this receiver first heard this sender' "$W/rx.log" ||
	fail "no log line for the range"
cp "$W/src/f4.bin" "$W/spool/"
wait_for "a later file" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
cmp "$W/src/f4.bin" "$W/out/files/cam/f4.bin" || fail "f4 differs"

log "2. two files leave while the receiver is stopped"
sleep 1
stop_clean "$RX_PID" rx
for i in 5 6; do cp "$W/src/f$i.bin" "$W/spool/"; done
wait_for "tx to send six files" 30 metric_ge "$TX_METRICS" sluice_tx_objects_total 6
start_rx
wait_for "the session rejoined" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1
wait_for "the range reported" 10 lost_line 5 6 "sent while this receiver was stopped"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 2 ] || fail "lost counter is not 2 after the rejoin"
[ "$(lost_lines)" -eq 2 ] || fail "expected two lost lines, got $(lost_lines)"
! lost_line 4 4 "" || fail "f4, delivered before the stop, reported lost"

log "3. two files leave while the receiver is stopped, then the sender restarts"
sleep 1
stop_clean "$RX_PID" rx
for i in 7 8; do cp "$W/src/f$i.bin" "$W/spool/"; done
wait_for "tx to send eight files" 30 metric_ge "$TX_METRICS" sluice_tx_objects_total 8
stop_clean "$TX_PID" tx
start_tx
start_rx
wait_for "the new session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1
wait_for "the old session's range reported" 10 lost_line 7 8 "the sender has restarted since"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 2 ] || fail "lost counter is not 2 after the sender restarted"
[ "$(metric "$RX_METRICS" sluice_rx_sessions_unaccounted_total)" -eq 0 ] || fail "a clean stop counted as unaccounted"

log "3b. the sender is killed while the receiver is stopped"
sleep 1
stop_clean "$RX_PID" rx
kill -9 "$TX_PID"; wait "$TX_PID" 2>/dev/null || true
start_tx
start_rx
wait_for "the unaccounted session counted" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_unaccounted_total 1
# the link process counts it; the deliver process writes the audit line a moment later
wait_for "its audit line" 10 grep -q '"outcome":"session".*previous session not accounted for' "$W/audit.jsonl"
grep -q 'how far its previous session .* got is not known' "$W/rx.log" || fail "no log line for it"
stop_clean "$TX_PID" tx
stop_clean "$RX_PID" rx

log "4. event batches lost on the link are event gaps, not lost objects"
rm -f "$W/audit.jsonl"
EVENTS_YAML="events:
  - name: ev
    listen: udp:127.0.0.1:$EV_PORT"
TX_IMPAIR="burst=0.3:60,seed=5"
write_tx_config "$RX_PORT" 25% 1Gbit
start_rx
start_tx
wait_for "the session" 20 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1
"$EVSEND" --count 400 --rate 100 "udp:127.0.0.1:$EV_PORT" >>"$W/evsend.log" 2>&1 || fail "evsend failed"
wait_for "an event gap" 20 metric_ge "$RX_METRICS" sluice_rx_events_lost_total 1
sleep 4 # past the link role's 2 s grace for ids the sender has announced as done
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] ||
	fail "lost event batches counted as lost objects: $(metric "$RX_METRICS" sluice_rx_objects_lost_total)"
[ "$(lost_lines)" -eq 0 ] || fail "lost event batches audited as lost files"
log "ok: $(metric "$RX_METRICS" sluice_rx_events_lost_total) events lost as gaps, no object lost"
