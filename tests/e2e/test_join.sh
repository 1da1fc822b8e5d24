#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A receiver that hears data before the session's announcement (it started late, or the
# announcement was lost) holds the datagrams, and delivers them once a later announcement
# opens the session, even when that announcement says those objects have already left.
. "$(dirname "$0")/lib.sh"
CAPTURE="$BUILD/sluice-capture"
make_keys
write_rx_config
write_tx_config "$PROXY_PORT" 25% 20Mbit
"$CAPTURE" --listen "127.0.0.1:$PROXY_PORT" --to "127.0.0.1:$((RX_PORT + 9))" --out "$W/cap.bin" >>"$W/capture.log" 2>&1 &
CAP_PID=$!
PIDS+=("$CAP_PID")
sleep 0.2
make_file "$W/src/first.bin" 200000 first
make_file "$W/src/second.bin" 4000000 second
start_tx
cp "$W/src/first.bin" "$W/spool/"
sleep 0.3
cp "$W/src/second.bin" "$W/spool/"
wait_for "tx done" 30 metric_ge "$TX_METRICS" sluice_tx_objects_total 2
sleep 1.2 # one more announcement, saying both objects have left
kill "$TX_PID" "$CAP_PID"; wait "$TX_PID" "$CAP_PID" 2>/dev/null || true
start_rx
# The first three datagrams are the session's opening announcements: leave them out.
"$CAPTURE" --replay "$W/cap.bin" --to "127.0.0.1:$RX_PORT" --skip 3 2>>"$W/capture.log"
wait_for "both files delivered" 15 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 2
cmp "$W/src/first.bin" "$W/out/files/cam/first.bin" || fail "first differs"
cmp "$W/src/second.bin" "$W/out/files/cam/second.bin" || fail "second differs"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] || fail "objects reported lost"
log "ok"
