#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A packet the sender cannot seal is never a silent loss. tx runs under build/libsealfail.so
# (tests/tools/sealfail/): it picks ChaCha20-Poly1305, sealed through libgcrypt, and the test
# makes libgcrypt's gettag fail on demand.
#  1. 400 seals of a file's content fail (whole blocks: FEC cannot rebuild them). The file is
#     neither recorded as sent nor deleted (after: delete): that pass is abandoned, the file is
#     sent again and arrives intact. tx counts the 400 and names the file; rx dropped the zeroed
#     packets as failing authentication.
#  2. one seal of a file's manifest fails: the signed manifest is sent again (no second send
#     of the file, no hole in the spool's chain).
#  3. all 3 tries of a file's last manifest copy fail: the file is not recorded as sent, but
#     sent again and delivered intact; rx reports the first manifest's chain seq missing.
#  4. one seal of an event batch fails: tx counts the batch lost, and rx reports its event as
#     a seq gap once the next batch arrives.
. "$(dirname "$0")/lib.sh"
SHIM="$BUILD/libsealfail.so"
EVSEND="$BUILD/sluice-evsend"
[ -f "$SHIM" ] || fail "$SHIM not built"
export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" # the shim is preloaded before ASan
U=$((BASE_PORT + 5))
make_keys
EVENTS_YAML="events:
  - name: cam-events
    listen: udp:127.0.0.1:$U"
write_rx_config
write_tx_config "$RX_PORT" 25% 200Mbit
echo "0 0" >"$W/sealfail"
start_rx
SLUICE_SEALFAIL="$W/sealfail" LD_PRELOAD="$SHIM" "$TX" -c "$W/tx.yaml" >>"$W/tx.log" 2>&1 &
TX_PID=$!
PIDS+=("$TX_PID")
wait_for "tx metrics" 10 metrics_up "$TX_METRICS"
wait_for "link up" 10 metric_ge "$RX_METRICS" sluice_rx_link_up 1

log "phase 1: 400 seals of a file's content fail"
echo "1 400" >"$W/sealfail"
make_file "$W/a.bin" 3000000 a
stage_into_spool "$W/a.bin" a.bin
wait_for "a.bin delivered" 30 test -f "$W/out/files/cam/a.bin"
cmp "$W/a.bin" "$W/out/files/cam/a.bin" || fail "a.bin delivered with other content"
errs=$(metric "$TX_METRICS" sluice_tx_seal_errors_total)
[ "$errs" = 400 ] || fail "tx counted $errs seal errors, expected 400"
[ "$(metric "$TX_METRICS" sluice_tx_files_aborted_total)" = 1 ] || fail "the abandoned pass is not counted once"
grep -q "cam/a.bin: a packet could not be sealed" "$W/tx.log" || fail "no log line naming a.bin"
metric_ge "$RX_METRICS" sluice_rx_rejected_auth_total 1 || fail "rx saw no zeroed packet"
[ "$(grep -c "sent cam/a.bin" "$W/tx.log")" = 1 ] || fail "a.bin not recorded as sent exactly once"
wait_for "a.bin deleted once sent" 10 test ! -e "$W/spool/a.bin"
# rx cannot tell an abandoned pass from a loss: it reports that object (not the file) lost once.
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" = 1 ] ||
	fail "rx reports $(metric "$RX_METRICS" sluice_rx_objects_lost_total) objects lost, expected 1 (the abandoned pass)"

log "phase 2: one seal of a file's manifest fails: the signed manifest is sent again"
# A 1000-byte file is one symbol and two repair packets (fec.overhead 25%, at least 2), then
# its manifest.
aborted=$(metric "$TX_METRICS" sluice_tx_files_aborted_total)
echo "2 1 3" >"$W/sealfail"
make_file "$W/b.bin" 1000 b
stage_into_spool "$W/b.bin" b.bin
wait_for "b.bin delivered" 30 test -f "$W/out/files/cam/b.bin"
cmp "$W/b.bin" "$W/out/files/cam/b.bin" || fail "b.bin delivered with other content"
wait_for "b.bin recorded as sent" 10 grep -q "sent cam/b.bin" "$W/tx.log"
errs=$(metric "$TX_METRICS" sluice_tx_seal_errors_total)
[ "$errs" = 401 ] || fail "tx counted $errs seal errors, expected 401"
grep -q "a packet of a manifest (object [0-9]*) could not be sealed" "$W/tx.log" ||
	fail "no log line for the manifest"
[ "$(metric "$TX_METRICS" sluice_tx_files_aborted_total)" = "$aborted" ] || fail "b.bin was sent again"
[ "$(grep -c "sent cam/b.bin" "$W/tx.log")" = 1 ] || fail "b.bin not recorded as sent exactly once"

log "phase 3: every try of a file's last manifest copy fails: the file is sent again"
echo "3 3 3" >"$W/sealfail"
make_file "$W/c.bin" 1000 c
stage_into_spool "$W/c.bin" c.bin
wait_for "c.bin delivered" 30 test -f "$W/out/files/cam/c.bin"
cmp "$W/c.bin" "$W/out/files/cam/c.bin" || fail "c.bin delivered with other content"
wait_for "c.bin recorded as sent" 10 grep -q "sent cam/c.bin" "$W/tx.log"
errs=$(metric "$TX_METRICS" sluice_tx_seal_errors_total)
[ "$errs" = 404 ] || fail "tx counted $errs seal errors, expected 404"
grep -q "the manifest of cam/c.bin did not leave (3 tries); the file will be sent again" "$W/tx.log" ||
	fail "no log line naming c.bin"
[ "$(metric "$TX_METRICS" sluice_tx_files_aborted_total)" = $((aborted + 1)) ] ||
	fail "c.bin's abandoned send is not counted once"
[ "$(grep -c "sent cam/c.bin" "$W/tx.log")" = 1 ] || fail "c.bin not recorded as sent exactly once"
# its first manifest's chain seq was taken and never arrived: rx reports it missing
wait_for "the chain break reported" 15 metric_ge "$RX_METRICS" sluice_rx_chain_breaks_total 1
grep '"chain_break"' "$W/audit.jsonl" | grep -q '"missing"' || fail "no chain_break missing line in the audit log"
[ "$(metric "$RX_METRICS" sluice_rx_chain_breaks_total)" = 1 ] || fail "more than one chain break"

log "phase 4: one seal of an event batch fails"
# A first event, so that rx knows where the stream starts (a stream rx has not seen starts at
# its first batch that arrives; tx counts a batch lost before it, as below).
"$EVSEND" --count 1 --mode json "udp:127.0.0.1:$U" 2>>"$W/evsend.log"
wait_for "the first event delivered" 10 metric_ge "$RX_METRICS" sluice_rx_events_delivered_total 1
echo "4 1" >"$W/sealfail"
"$EVSEND" --count 1 --first 1 --mode json "udp:127.0.0.1:$U" 2>>"$W/evsend.log"
wait_for "batch counted lost" 10 metric_ge "$TX_METRICS" sluice_tx_event_batches_lost_total 1
errs=$(metric "$TX_METRICS" sluice_tx_seal_errors_total)
[ "$errs" = 405 ] || fail "tx counted $errs seal errors, expected 405"
grep -q "a packet of an event batch (object [0-9]*) could not be sealed" "$W/tx.log" ||
	fail "no log line for the event batch"
"$EVSEND" --count 1 --first 2 --mode json "udp:127.0.0.1:$U" 2>>"$W/evsend.log"
wait_for "the next event delivered" 10 metric_ge "$RX_METRICS" sluice_rx_events_delivered_total 2
wait_for "the lost event reported" 10 metric_ge "$RX_METRICS" sluice_rx_events_lost_total 1
[ "$(metric "$RX_METRICS" sluice_rx_events_delivered_total)" = 2 ] || fail "rx delivered the lost batch"
[ "$(metric "$RX_METRICS" sluice_rx_events_lost_total)" = 1 ] || fail "rx lost more than the one event"
log "ok: a failed seal is counted, logged and made good (file sent again) or reported (event gap)"
