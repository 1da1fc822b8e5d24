#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Files of every awkward size, nested folders and real H.264 MPEG-TS segments cross loopback
# byte-identical at 0% loss; mtimes kept, nothing executable, spool emptied (after: delete),
# counters agree on both sides.
. "$(dirname "$0")/lib.sh"
T=1408 # symbol size at MTU 1500 over IPv4
SRC="$W/src"
make_keys
mkdir -p "$SRC"
for n in 0 1 $((T - 1)) $T $((T + 1)) 3000000; do make_file "$SRC/size-$n.bin" "$n"; done
make_file "$SRC/big/100MB.bin" 104857600 big
make_file "$SRC/a/b/c/deep.bin" 77777
cp "$ROOT"/tests/data/video/*.ts "$SRC/a/"
touch -d '2026-01-02 03:04:05.123456789' "$SRC/size-1.bin"
write_rx_config
write_tx_config "$RX_PORT" 25% 4Gbit
start_rx
start_tx
cp -a "$SRC/." "$W/spool/"
nfiles=$(find "$SRC" -type f | wc -l)
wait_for "all $nfiles files delivered" 120 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total "$nfiles"
assert_filtered "$W/tx.log" "$TX_PID"
same_tree "$SRC" || fail "delivered tree differs from the source"
[ "$(stat -c %Y.%y "$W/out/files/cam/size-1.bin" | cut -c1-10)" = "$(stat -c %Y "$SRC/size-1.bin")" ] || fail "mtime not kept"
[ "$(stat -c %y "$W/out/files/cam/size-1.bin")" = "$(stat -c %y "$SRC/size-1.bin")" ] || fail "mtime nanoseconds not kept"
if find "$W/out/files" -type f -perm /111 | grep -q .; then fail "an executable file was delivered"; fi
wait_for "spool emptied" 10 bash -c "[ -z \"\$(find '$W/spool' -type f)\" ]"
[ -z "$(ls -A "$W/out/files/.sluice-tmp")" ] || fail "temp files left behind"
[ "$(metric "$TX_METRICS" sluice_tx_objects_total)" -eq "$nfiles" ] || fail "tx objects_total"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] || fail "objects lost at 0% loss"
[ "$(metric "$RX_METRICS" sluice_rx_packets_rejected_total)" -eq 0 ] || fail "packets rejected at 0% loss"
[ "$(metric "$RX_METRICS" sluice_rx_link_up)" -eq 1 ] || fail "link_up is not 1"
grep -c '"outcome":"delivered"' "$W/audit.jsonl" | grep -qx "$nfiles" || fail "audit lines"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
log "ok: $nfiles files"
