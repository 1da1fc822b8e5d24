#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A deliver process that stops (SIGSTOP) mid-transfer is noticed by the monitor (README,
# Security model: "The deliver process's loop tells the monitor ..."):
#  1. it is killed and started again within its heartbeat limit plus a margin (the test-only
#     knob SLUICE_TEST_DELIVER_STALL_MS shortens the 30 s limit to 3 s), logged and counted in
#     sluice_rx_deliver_restarts_total; each file of the batch in flight is delivered intact or
#     audited lost, never both; files sent after the restart arrive intact;
#  2. SIGTERM while the deliver process is stopped: rx still ends within 2 s (the stall logged).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
LIMIT_MS=3000
N=8
mkdir -p "$W/d" "$W/e"
for i in $(seq 1 $N); do make_file "$W/d/d$i.bin" 1000000 "d$i"; done
for i in 1 2; do make_file "$W/e/e$i.bin" 700000 "e$i"; done
write_tx_config "$RX_PORT" 25% 30Mbit
spawner() { pgrep -P "$RX_PID" -x sluice-rx-spawn | head -n 1; }
deliver_pid() { local s; s=$(spawner) && [ -n "$s" ] && pgrep -P "$s" -x sluice-rx-deliv | head -n 1; }
stopped() { [ "$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" = T ]; }

log "1: the deliver process stopped mid-transfer"
SLUICE_TEST_DELIVER_STALL_MS=$LIMIT_MS start_rx
start_tx
have_link() { [ -n "$(rx_link_pid)" ]; }
wait_for "the link process" 10 have_link
grep -q "SLUICE_TEST_DELIVER_STALL_MS" "$W/rx.log" || fail "the test knob is not logged"
DELIVER=$(deliver_pid)
[ -n "$DELIVER" ] || fail "no deliver process"
cp -a "$W/d/." "$W/spool/"
wait_for "a first file delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
kill -STOP "$DELIVER"
T0=$(date +%s%N)
wait_for "deliver process $DELIVER stopped" 5 stopped "$DELIVER"
# The limit counts from its last heartbeat (up to a second before the stop), then the
# watchdog's 250 ms tick, a 100 ms back-off: 3 s of margin.
wait_for "the stopped deliver process restarted" $((LIMIT_MS / 1000 + 3)) metric_ge "$RX_METRICS" sluice_rx_deliver_restarts_total 1
T1=$(date +%s%N)
silent=$(grep -o "the deliver process sent no heartbeat for [0-9]* ms (stopped or hung): killed" "$W/rx.log" |
	head -n 1 | awk '{ print $8 }')
[ -n "$silent" ] || fail "the stall is not logged"
[ "$silent" -ge "$LIMIT_MS" ] || fail "killed after $silent ms without a heartbeat, before its limit of $LIMIT_MS"
grep -q "the deliver process was killed by signal 9" "$W/rx.log" || fail "the kill is not logged"
[ ! -e "/proc/$DELIVER" ] || [ "$(awk '/^State:/ { print $2 }' "/proc/$DELIVER/status")" = Z ] ||
	fail "the stopped deliver process $DELIVER still runs"
new_deliver() { local p; p=$(deliver_pid); [ -n "$p" ] && [ "$p" != "$DELIVER" ]; }
wait_for "a new deliver process" 10 new_deliver
log "   restarted $(((T1 - T0) / 1000000)) ms after the stop: $(grep 'deliver process sent no heartbeat' "$W/rx.log" | tail -n 1 | cut -d' ' -f4-)"
wait_for "tx done with batch d" 60 bash -c "[ \$(grep -c ' cam/d' '$W/tx-state/journal') -ge $N ]"

# Each file of batch d delivered intact or named by a lost line, not both (lib.sh).
batch_accounted "$N" 0
read -r _ got lostn <"$W/check.txt"
log "   batch d: $got delivered intact, $lostn audited lost and counted"
cp -a "$W/e/." "$W/spool/"
delivered_e() { local i; for i in 1 2; do cmp -s "$W/e/e$i.bin" "$W/out/files/cam/e$i.bin" || return 1; done; }
wait_for "batch e delivered intact after the restart" 60 delivered_e
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
log "1 ok"

log "2: SIGTERM while the deliver process is stopped: rx still ends within 2 s"
start_rx
wait_for "the link process" 10 have_link
DELIVER=$(deliver_pid)
[ -n "$DELIVER" ] || fail "no deliver process"
stop_rx_while_stopped "$DELIVER" deliver
log "2 ok: stopped in $STOP_MS ms or less (exit $STOP_RC); ok"
