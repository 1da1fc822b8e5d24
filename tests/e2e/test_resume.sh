#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A receiver stopped cleanly in the middle of a file keeps the blocks it has: restarted in the
# early in the sender's second copy (fec.repeat: 2), it completes the file from the blocks it
# kept and the rest of the second copy, neither of which holds the whole file alone. A clean
# stop whose session never comes back reports the kept object as lost.
. "$(dirname "$0")/lib.sh"
SIZE=40000000
REPEAT=2
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 100Mbit
make_file "$W/src/big.bin" "$SIZE" big
# packets of one copy: source symbols and 25% repair, as the sender cuts them
PASS=$(( (SIZE + 1407) / 1408 * 5 / 4 ))
packets_ge() { metric_ge "$TX_METRICS" sluice_tx_packets_total "$1"; }

start_rx
start_tx
cp "$W/src/big.bin" "$W/spool/"
wait_for "half the first copy" 30 packets_ge $(( PASS / 2 ))
log "stopping rx at $(metric "$TX_METRICS" sluice_tx_packets_total) of $((PASS * 2)) packets"
stop_clean "$RX_PID" rx
grep -q "kept session .* object 1: [0-9]* blocks" "$W/rx.log" || fail "rx kept nothing at its clean stop"
# rx is back (and its session rejoined, through the pending buffer) some way into the second
# copy: a tenth of it, plus what the start takes; the kept half covers what it missed.
wait_for "a tenth of the second copy" 30 packets_ge $(( PASS + PASS / 10 ))
log "restarting rx at $(metric "$TX_METRICS" sluice_tx_packets_total) packets"
start_rx
wait_for "the file" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
cmp "$W/src/big.bin" "$W/out/files/cam/big.bin" || fail "big.bin differs"
grep -q "resumed session .* object 1: [0-9]* blocks kept at the last clean stop" "$W/rx.log" ||
	fail "no resume logged"
grep -q "object 1: resumed with [0-9]* of [0-9]* blocks" "$W/rx.log" || fail "link role did not resume"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] || fail "an object counted lost"
! grep -q '"outcome":"lost"' "$W/audit.jsonl" || fail "a lost line in the audit log"
[ -z "$(ls -A "$W/out/files/.sluice-tmp")" ] || fail "temp files left: $(ls "$W/out/files/.sluice-tmp")"

log "a kept object whose session does not come back is reported lost"
stop_clean "$TX_PID" tx
make_file "$W/src/two.bin" "$SIZE" two
start_tx
cp "$W/src/two.bin" "$W/spool/"
wait_for "the new session" 20 metric_ge "$RX_METRICS" sluice_rx_sessions_total 2
wait_for "40% of the first copy" 30 packets_ge $(( PASS * 2 / 5 ))
stop_clean "$RX_PID" rx
grep -q "kept session .* object 1: [0-9]* blocks" "$W/rx.log" || fail "rx kept nothing at its second stop"
# the kept object's temp file (SESSION-OBJECT); the new session's own copy of two.bin may be in
# flight beside it when the loss is reported, so only this name must go
kept_tmp=$(ls -A "$W/out/files/.sluice-tmp")
[ -n "$kept_tmp" ] || fail "no temp file kept at the second stop"
kept_gone() { for f in $kept_tmp; do [ ! -e "$W/out/files/.sluice-tmp/$f" ] || return 1; done; }
stop_clean "$TX_PID" tx
start_tx # a new sender session: the kept object cannot complete
start_rx
wait_for "the session" 20 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1
wait_for "the kept object reported lost" 10 grep -q '"outcome":"lost".*its session did not come back' "$W/audit.jsonl"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -ge 1 ] || fail "the loss is not counted"
# the line names the sender (the gaps report and resend need it): the deliver role hears of
# the kept object's session before the loss
lostline=$(grep '"outcome":"lost".*its session did not come back' "$W/audit.jsonl")
case "$lostline" in *'"sender":"'*) ;; *) fail "the lost line names no sender: $lostline" ;; esac
wait_for "its temp file ($kept_tmp) removed" 10 kept_gone
log "ok"
