#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A spool whose configured path is a symbolic link to its folder (a packaged path pointing to a
# data disk) is watched through the link: files dropped into the folder are sent, in the folder
# itself and in a sub-folder made later. Links below the spool's own path are still not
# followed (test_security).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 1Gbit
rm -rf "$W/spool"
mkdir -p "$W/disk/cam"
ln -s "$W/disk/cam" "$W/spool"
start_rx
start_tx
make_file "$W/one.bin" 100000 one
cp "$W/one.bin" "$W/disk/cam/one.bin"
wait_for "one.bin delivered" 15 test -f "$W/out/files/cam/one.bin"
cmp "$W/one.bin" "$W/out/files/cam/one.bin" || fail "one.bin differs"
mkdir "$W/disk/cam/sub"
make_file "$W/two.bin" 5000 two
cp "$W/two.bin" "$W/disk/cam/sub/two.bin"
wait_for "sub/two.bin delivered" 15 test -f "$W/out/files/cam/sub/two.bin"
cmp "$W/two.bin" "$W/out/files/cam/sub/two.bin" || fail "two.bin differs"
! grep -q "cannot watch" "$W/tx.log" || fail "$(grep -m1 'cannot watch' "$W/tx.log")"
stop_clean "$TX_PID" tx
log "ok"
