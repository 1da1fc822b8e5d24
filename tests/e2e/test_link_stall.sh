#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A link process that stops (SIGSTOP) must hang neither the deliver process nor the receiver
# (README, Security model: "A link process that sends no heartbeat ..."):
#  1. mid-frame (test trigger link-halfstop: half a message on the block lane, then SIGSTOP):
#     the deliver process keeps serving the monitor (SIGHUP reopens the audit log), the monitor
#     kills and restarts the link process within a bounded time, logged and counted, and files
#     sent afterwards arrive intact;
#  2. mid-transfer (SIGSTOP from outside): the same, and SIGTERM then stops rx within 2 s;
#  3. SIGTERM while the link process is stopped: rx still ends within 2 s (exit 1, the stall
#     logged).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 100Mbit
mkdir -p "$W/a" "$W/b" "$W/c"
for i in 1 2; do make_file "$W/a/a$i.bin" 800000 "a$i"; done
for i in $(seq 1 6); do make_file "$W/b/b$i.bin" 2000000 "b$i"; done
for i in 1 2; do make_file "$W/c/c$i.bin" 600000 "c$i"; done
delivered() { # DIR PREFIX COUNT
	local i
	for i in $(seq 1 "$3"); do cmp -s "$1/$2$i.bin" "$W/out/files/cam/$2$i.bin" || return 1; done
}
stopped() { [ "$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" = T ]; }
reopened() { [ "$(grep -c 'deliver process: audit log reopened' "$W/rx.log")" -gt "$1" ]; }

log "1: the link process stops after half a message"
SLUICE_TEST_TRIGGER=link-halfstop start_rx
start_tx
wait_for "the link-halfstop trigger" 10 grep -q "test trigger link-halfstop" "$W/rx.log"
LINK=$(rx_link_pid)
[ -n "$LINK" ] || fail "no link process"
wait_for "link process $LINK stopped" 5 stopped "$LINK"
n=$(grep -c 'deliver process: audit log reopened' "$W/rx.log" || true)
kill -HUP "$RX_PID"
wait_for "the deliver process to take the reopened audit log (SIGHUP) while the link process is stopped" 3 reopened "$n"
log "   the deliver process still serves the monitor"
wait_for "the stopped link process restarted" 15 metric_ge "$RX_METRICS" sluice_rx_link_restarts_total 1
grep -q "the link process sent no heartbeat for" "$W/rx.log" || fail "the stall is not logged"
[ ! -e "/proc/$LINK" ] || [ "$(awk '/^State:/ { print $2 }' "/proc/$LINK/status")" = Z ] ||
	fail "the stopped link process $LINK still runs"
cp -a "$W/a/." "$W/spool/"
wait_for "files after the restart delivered intact" 60 delivered "$W/a" a 2
log "1 ok: $(grep 'sent no heartbeat' "$W/rx.log" | tail -n 1 | cut -d' ' -f4-)"

log "2: the link process stopped from outside mid-transfer"
LINK=$(rx_link_pid)
cp -a "$W/b/." "$W/spool/"
wait_for "a file of batch b delivered" 30 bash -c "ls '$W/out/files/cam/' | grep -q '^b'"
kill -STOP "$LINK"
wait_for "the stopped link process restarted" 15 metric_ge "$RX_METRICS" sluice_rx_link_restarts_total 2
wait_for "tx done with batch b" 60 bash -c "[ \$(grep -c ' cam/b' '$W/tx-state/journal') -ge 6 ]"
cp -a "$W/c/." "$W/spool/"
wait_for "files after the second restart delivered intact" 60 delivered "$W/c" c 2
stop_clean "$RX_PID" sluice-rx
log "2 ok"

log "3: SIGTERM while the link process is stopped: rx still ends within 2 s"
start_rx
wait_for "the link process" 10 bash -c "[ -n \"\$(pgrep -P \$(pgrep -P $RX_PID -x sluice-rx-spawn) -x sluice-rx-link)\" ]"
LINK=$(rx_link_pid)
stop_rx_while_stopped "$LINK" link
log "3 ok: stopped in $STOP_MS ms or less (exit $STOP_RC); ok"
