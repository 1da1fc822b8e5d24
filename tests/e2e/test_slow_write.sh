#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A file written slowly is sent once, complete: not while it is being written. Files named
# .hidden, *.tmp, *.part and *~ are never picked up.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config
start_rx
start_tx
make_file "$W/src.bin" 3000000 slow
( exec 3>"$W/spool/slow.bin"
  for i in $(seq 0 29); do dd if="$W/src.bin" bs=100000 skip="$i" count=1 status=none >&3; sleep 0.1; done
  exec 3>&- ) &
writer=$!
for n in .hidden x.tmp y.part z~; do echo junk >"$W/spool/$n"; done
sleep 1
[ ! -e "$W/out/files/cam/slow.bin" ] || fail "file delivered while still being written"
wait "$writer"
wait_for "slow file delivered" 20 test -f "$W/out/files/cam/slow.bin"
cmp "$W/src.bin" "$W/out/files/cam/slow.bin" || fail "slow file differs"
sleep 2
[ "$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)" -eq 1 ] || fail "more than one object delivered"
[ "$(metric "$TX_METRICS" sluice_tx_objects_total)" -eq 1 ] || fail "tx sent more than once"
for n in .hidden x.tmp y.part z~; do [ -e "$W/spool/$n" ] || fail "$n was picked up"; done
log "ok"
