#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# spools[].keep_for with after: delete: a sent file stays in the spool for keep_for, is not sent
# again meanwhile (not on a close-after-write without change, not after a tx restart), is then
# deleted (counted), and is sent again if its content changes while it is kept. A file left under
# its hidden name by a sluice-tx killed while deleting it (.sluice-delete-PID-NAME) is put back
# under NAME at the next start and sent; one whose NAME is taken is left, logged and counted.
# keep_for: 0 (today's behaviour, deleted at once) is what the other tests run with (lib.sh).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
KEEP_FOR=2s TX_LOG=debug write_tx_config "$RX_PORT" 25% 200Mbit
start_rx
start_tx
S="$W/spool" OUT="$W/out/files/cam"
delivered_lines() { grep -c "\"outcome\":\"delivered\",\"spool\":\"cam\",\"path\":\"$1\"" "$W/audit.jsonl" || true; }
sent_lines() { grep -c "sent cam/$1 " "$W/tx.log" || true; }

log "1. kept for 2 s, then deleted; a close-after-write without change sends nothing"
make_file "$W/a.bin" 300000 a
stage_into_spool "$W/a.bin" a.bin
wait_for "a.bin sent" 10 grep -q "sent cam/a.bin " "$W/tx.log"
wait_for "a.bin delivered" 5 cmp -s "$W/a.bin" "$OUT/a.bin"
sleep 0.5
: >>"$S/a.bin" # opened for writing and closed: IN_CLOSE_WRITE, same size and mtime
sleep 0.5
[ -e "$S/a.bin" ] || fail "a.bin deleted within 1 s; keep_for is 2 s"
wait_for "a.bin deleted" 3 test ! -e "$S/a.bin"
sleep 1
[ "$(delivered_lines a.bin)" -eq 1 ] || fail "a.bin delivered $(delivered_lines a.bin) times"
[ "$(sent_lines a.bin)" -eq 1 ] || fail "a.bin sent $(sent_lines a.bin) times"
[ "$(metric "$TX_METRICS" sluice_tx_files_deleted_total)" -eq 1 ] || fail "deletion not counted"
grep -q "debug: deleted cam/a.bin, sent [0-9]* ms ago" "$W/tx.log" || fail "no debug line for the deletion"

log "2. tx restarted while the file is kept: not sent again, deleted on time"
make_file "$W/b.bin" 200000 b
stage_into_spool "$W/b.bin" b.bin
wait_for "b.bin sent" 10 grep -q "sent cam/b.bin " "$W/tx.log"
sleep 1
stop_clean "$TX_PID" sluice-tx
start_tx
[ -e "$S/b.bin" ] || fail "b.bin deleted at the restart, before keep_for"
wait_for "b.bin deleted" 3 test ! -e "$S/b.bin"
sleep 1
[ "$(delivered_lines b.bin)" -eq 1 ] || fail "b.bin delivered $(delivered_lines b.bin) times"
[ "$(sent_lines b.bin)" -eq 1 ] || fail "b.bin sent $(sent_lines b.bin) times"
[ "$(metric "$TX_METRICS" sluice_tx_objects_total)" -eq 0 ] || fail "tx sent something after the restart"
[ "$(metric "$TX_METRICS" sluice_tx_files_deleted_total)" -eq 1 ] || fail "deletion after the restart not counted"

log "3. content changed while kept: sent again, the new content deleted 2 s after its own send"
make_file "$W/c.bin" 100000 c
make_file "$W/c2.bin" 120000 c2
stage_into_spool "$W/c.bin" c.bin
wait_for "c.bin sent" 10 grep -q "sent cam/c.bin " "$W/tx.log"
cp "$W/c2.bin" "$S/c.bin" # rewritten in place
wait_for "changed c.bin sent" 10 bash -c "[ \$(grep -c 'sent cam/c.bin ' '$W/tx.log') -ge 2 ]"
wait_for "changed c.bin stored beside" 5 metric_ge "$RX_METRICS" sluice_rx_objects_renamed_total 1
found=0
for f in "$OUT"/c*; do cmp -s "$f" "$W/c2.bin" && found=1; done
[ "$found" = 1 ] || fail "the changed content of c.bin did not arrive"
wait_for "c.bin deleted" 5 test ! -e "$S/c.bin"
[ "$(sent_lines c.bin)" -eq 2 ] || fail "c.bin sent $(sent_lines c.bin) times"
kill -0 "$TX_PID" || fail "tx died"
stop_clean "$TX_PID" sluice-tx

log "4. left aside by a killed tx: put back and sent; left, logged and counted when its name is taken"
make_file "$W/seg1.mp4" 150000 seg1
make_file "$W/d.bin" 50000 d
make_file "$W/d-aside.bin" 60000 d-aside
cp -p "$W/seg1.mp4" "$S/.sluice-delete-99999999-seg1.mp4" # no process has PID 99999999
cp -p "$W/d-aside.bin" "$S/.sluice-delete-99999999-d.bin"
cp -p "$W/d.bin" "$S/d.bin"
start_tx
wait_for "seg1.mp4 delivered" 10 cmp -s "$W/seg1.mp4" "$OUT/seg1.mp4"
grep -qF "warn: spool cam: put back seg1.mp4 (left aside by a sluice-tx killed while deleting it)" "$W/tx.log" ||
	fail "no warn line for the file put back"
wait_for "d.bin delivered" 10 cmp -s "$W/d.bin" "$OUT/d.bin"
cmp -s "$W/d-aside.bin" "$S/.sluice-delete-99999999-d.bin" || fail "the file aside beside a taken name was not left alone"
grep -q "warn: spool cam: .sluice-delete-99999999-d.bin .*look at it: it may be a file never sent" "$W/tx.log" ||
	fail "no warn line naming the file left aside"
[ "$(metric "$TX_METRICS" sluice_tx_files_left_aside_total)" -eq 1 ] || fail "the file left aside not counted"
[ "$(delivered_lines seg1.mp4)" -eq 1 ] || fail "seg1.mp4 delivered $(delivered_lines seg1.mp4) times"
wait_for "seg1.mp4 deleted after keep_for" 5 test ! -e "$S/seg1.mp4"
stop_clean "$TX_PID" sluice-tx
log "ok"
