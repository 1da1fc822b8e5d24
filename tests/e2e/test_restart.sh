#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Killing either side loses nothing that was accepted:
#  1. rx killed (SIGKILL) mid-transfer leaves no partial file under a final name, and after a
#     restart it takes up the stream again;
#  2. tx killed (SIGKILL) mid-transfer and restarted delivers everything and resends only
#     what was in flight (its journal holds what had fully left).
# The key holder's floor file (STATE/keyholder, written by the monitor) holds the sender's
# newest session counter answered, and rises with the new session of a tx restart.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
AFTER=keep write_tx_config "$RX_PORT" 25% 300Mbit
mkdir -p "$W/a" "$W/b"
for i in $(seq 1 6); do make_file "$W/a/a$i.bin" 4000000 "a$i"; done
for i in $(seq 1 12); do make_file "$W/b/b$i.bin" 3000000 "b$i"; done
start_rx
start_tx

log "1. rx killed mid-transfer"
cp -a "$W/a/." "$W/spool/"
wait_for "first file delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
kill -9 "$RX_PID"; wait "$RX_PID" 2>/dev/null || true
for f in "$W"/out/files/cam/*; do
	[ -f "$f" ] || continue
	cmp -s "$f" "$W/a/$(basename "$f")" || fail "partial or wrong file under a final name: $f"
done
wait_for "tx done with batch a" 60 bash -c "[ \$(wc -l <'$W/tx-state/journal') -ge 6 ]"
start_rx
[ -z "$(ls -A "$W/out/files/.sluice-tmp")" ] || fail "rx did not clear its temp folder at start"
# What crossed while rx was down is gone (nothing can be resent over a diode): phase 2 starts
# once rx has rejoined the sender's running session.
wait_for "rx rejoined the session" 10 metric_ge "$RX_METRICS" sluice_rx_link_up 1
floor() {
	[ "$(wc -l <"$W/rx-state/keyholder")" -eq 1 ] || fail "STATE/keyholder: not one line"
	grep -Ex '[0-9a-f]{64} [0-9]+' "$W/rx-state/keyholder" >/dev/null || fail "STATE/keyholder: $(cat "$W/rx-state/keyholder")"
	cut -d' ' -f2 "$W/rx-state/keyholder"
}
floor1=$(floor)

log "2. tx killed mid-transfer and restarted"
cp -a "$W/b/." "$W/spool/"
wait_for "some of batch b delivered" 60 bash -c "[ \$(ls '$W/out/files/cam' | grep -c '^b') -ge 3 ]"
kill -9 "$TX_PID"; wait "$TX_PID" 2>/dev/null || true
journaled=$(grep -c ' cam/b' "$W/tx-state/journal" || true)
log "journal held $journaled of 12 files of batch b at the kill"
start_tx
wait_for "batch b delivered" 90 bash -c "for i in \$(seq 1 12); do cmp -s '$W/b/b'\$i.bin '$W/out/files/cam/b'\$i.bin || exit 1; done"
resent=$(metric "$TX_METRICS" sluice_tx_objects_total)
[ "$resent" -eq $((12 - journaled)) ] || fail "tx sent $resent files after the restart; $((12 - journaled)) were not yet fully sent"
if ls "$W/out/files/cam" | grep -Ev '^[ab][0-9]+\.bin$'; then fail "unexpected files (renamed copies?)"; fi
[ "$(metric "$RX_METRICS" sluice_rx_sender_restarts_total)" -ge 1 ] || fail "sender restart not detected"
floor2=$(floor)
[ "$floor2" -gt "$floor1" ] || fail "STATE/keyholder: the floor did not rise with tx's new session ($floor1, then $floor2)"
log "ok"
