#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A spool folder that is removed (rm -rf) or moved away, then made again, is watched again:
# tx warns once when it vanishes, says when it watches it again, and sends what is put in the
# new folder (also in a sub-folder); files put in the moved-away folder are no longer its own.
# A sub-folder renamed within the spool stays watched.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 200Mbit
start_rx
start_tx
OUT="$W/out/files/cam"
delivered() { cmp -s "$1" "$OUT/$2"; }
watched_again() { [ "$(grep -c "spool cam: watching $W/spool again" "$W/tx.log")" -ge "$1" ]; }

make_file "$W/f0.bin" 100000 f0
stage_into_spool "$W/f0.bin" f0.bin
wait_for "f0 delivered" 10 delivered "$W/f0.bin" f0.bin

log "1. spool folder removed with rm -rf, then made again"
mkdir -p "$W/spool/sub"
sleep 0.3
rm -rf "$W/spool"
wait_for "vanishing logged" 5 grep -q "spool cam: folder $W/spool is gone" "$W/tx.log"
sleep 1.5 # missing for a while: looked for, but said once
[ "$(grep -c "spool cam: folder $W/spool" "$W/tx.log")" -eq 1 ] || fail "the missing folder was logged more than once"
mkdir -p "$W/spool/sub"
# Put in at once: whether the watch is back yet or not, the file is found (event or rescan).
make_file "$W/f1.bin" 200000 f1
stage_into_spool "$W/f1.bin" f1.bin
wait_for "watched again" 3 watched_again 1
make_file "$W/f2.bin" 300000 f2
stage_into_spool "$W/f2.bin" sub/f2.bin
wait_for "f1 delivered" 10 delivered "$W/f1.bin" f1.bin
wait_for "sub/f2 delivered" 10 delivered "$W/f2.bin" sub/f2.bin

log "2. spool folder moved away, then a new one put in its place"
mv "$W/spool" "$W/spool.old"
wait_for "moving logged" 5 grep -q "spool cam: folder $W/spool is gone" "$W/tx.log"
mkdir "$W/spool.new"
mv "$W/spool.new" "$W/spool"
wait_for "watched again" 3 watched_again 2
make_file "$W/old.bin" 1000 old
cp "$W/old.bin" "$W/spool.old/.x.tmp" && mv "$W/spool.old/.x.tmp" "$W/spool.old/old.bin"
make_file "$W/f3.bin" 400000 f3
stage_into_spool "$W/f3.bin" f3.bin
make_file "$W/f4.bin" 50000 f4
stage_into_spool "$W/f4.bin" deep/er/f4.bin
wait_for "f3 delivered" 10 delivered "$W/f3.bin" f3.bin
wait_for "deep/er/f4 delivered" 10 delivered "$W/f4.bin" deep/er/f4.bin

log "3. a sub-folder renamed within the spool keeps its watch under the new name"
mkdir "$W/spool/a"
sleep 0.3
mv "$W/spool/a" "$W/spool/b"
sleep 0.3
make_file "$W/f5.bin" 60000 f5
cp "$W/f5.bin" "$W/spool/b/.f5.tmp" && mv "$W/spool/b/.f5.tmp" "$W/spool/b/f5.bin"
wait_for "b/f5 delivered" 5 delivered "$W/f5.bin" b/f5.bin
sleep 0.5
[ ! -e "$OUT/old.bin" ] || fail "a file put in the moved-away folder was sent"
[ "$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)" -eq 6 ] || fail "rx delivered $(metric "$RX_METRICS" sluice_rx_objects_delivered_total) objects, not 6"
grep -q '"outcome":"delivered","spool":"cam","path":"sub/f2.bin"' "$W/audit.jsonl" || fail "no audit line for sub/f2.bin"
kill -0 "$TX_PID" || fail "tx died"
stop_clean "$TX_PID" sluice-tx
log "ok"
