#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A camera network floods a TCP event source with connections while sluice-tx runs under an
# open-file limit (soft and hard 64) below what a full source needs. The intake process caps
# its clients to what the limit leaves room for, so accept() never fails with EMFILE (which
# made libuv open "/" for its spare descriptor, and the intake filter kill the process with
# SIGSYS, again on every flood): the intake process stays up, idle clients are evicted to make
# room, and events sent on a new connection in the middle of the flood arrive.
. "$(dirname "$0")/lib.sh"
EVSEND="$BUILD/sluice-evsend"
T=$((BASE_PORT + 6))
FLOOD=${FLOOD:-200}
make_keys
EVENTS_YAML="events:
  - name: tcp
    listen: tcp:127.0.0.1:$T"
write_rx_config
write_tx_config "$RX_PORT" 25% 1Gbit
# sluice-tx with soft and hard open-file limits of 64 (dash's ulimit -n sets both)
REAL_TX=$TX
TX="$W/tx-lowfd"
printf '#!/bin/sh\nulimit -n 64 || exit 97\nexec "%s" "$@"\n' "$REAL_TX" >"$TX"
chmod +x "$TX"
start_rx
start_tx
wait_for "session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1
grep -q "event sources: the open-file limit is 64 (hard 64)" "$W/tx.log" ||
	fail "no warning about the open-file limit: $(grep -m1 'open-file' "$W/tx.log")"
cap=$(sed -n 's/.*event sources: .* at most \([0-9]*\) clients per stream source.*/\1/p' "$W/tx.log" | head -n 1)
[ -n "$cap" ] && [ "$cap" -gt 0 ] && [ "$cap" -lt 64 ] || fail "no client cap under the limit in the log (got '$cap')"
log "the cap under a limit of 64: $cap clients per stream source"

log "a flood of $FLOOD idle connections, then events on a new one"
python3 - "$T" "$FLOOD" "$EVSEND" "$W" <<'PY' || fail "the flood or the events on a new connection failed"
import socket, subprocess, sys, time
port, n, evsend, w = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
held = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    held.append(s)
time.sleep(1.0)
with open(w + "/evsend.log", "ab") as log:
    rc = subprocess.call([evsend, "--count", "500", "--mode", "mixed", "tcp:127.0.0.1:%d" % port],
                         stderr=log)
time.sleep(0.5)
for s in held:
    s.close()
sys.exit(rc)
PY
wait_for "the 500 events delivered" 20 metric_ge "$RX_METRICS" sluice_rx_events_delivered_total 500
! grep -q "intake process .* was killed by signal" "$W/tx.log" ||
	fail "the intake process was killed: $(grep -m1 'intake process .* was killed by signal' "$W/tx.log")"
[ "$(metric "$TX_METRICS" sluice_tx_intake_restarts_total)" = 0 ] ||
	fail "the intake process was restarted $(metric "$TX_METRICS" sluice_tx_intake_restarts_total) times"
evicted=$(metric "$TX_METRICS" sluice_tx_event_clients_evicted_total)
[ "$evicted" -ge $((FLOOD - cap)) ] || fail "$evicted clients evicted, expected at least $((FLOOD - cap))"
[ "$(metric "$RX_METRICS" sluice_rx_events_lost_total)" = 0 ] || fail "rx counted events lost"
stop_clean "$TX_PID" tx
log "ok: $evicted idle clients evicted, the intake process never restarted, 500 events delivered"
