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

# check: "ok DELIVERED LOST" once each file of batch d is delivered intact or named by a lost
# audit line (by path, or by the session and object id tx's journal has), not both.
check() {
	python3 - "$W" "$N" "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" <<'PY'
import json, os, sys, filecmp
w, n, counted = sys.argv[1], int(sys.argv[2]), int(float(sys.argv[3]))
ids = {}
for line in open(os.path.join(w, "tx-state/journal")):
    f = line.split()
    sess = [x[5:] for x in f if x.startswith("sess=")]
    obj = [x[4:] for x in f if x.startswith("obj=")]
    if sess and obj and f[-1].startswith("cam/d"):
        ids[f[-1][4:]] = (sess[0], int(obj[0]))
lost, lost_ids = [], 0
for line in open(os.path.join(w, "audit.jsonl")):
    r = json.loads(line)
    if r.get("outcome") == "lost":
        lost.append(r)
        lost_ids += r.get("object_last", r["object"]) - r["object"] + 1
delivered = nlost = 0
for i in range(1, n + 1):
    name = "d%d.bin" % i
    sess, obj = ids.get(name, (None, None))
    mine = [r for r in lost if r.get("path") == name or (r["session"] == sess and
            r["object"] <= obj <= r.get("object_last", r["object"]))]
    out = os.path.join(w, "out/files/cam", name)
    ok = os.path.exists(out) and filecmp.cmp(os.path.join(w, "d", name), out, shallow=False)
    if os.path.exists(out) and not ok:
        print("%s is under its final name but not intact" % name); sys.exit(1)
    if ok and mine:
        print("%s delivered intact, yet audited lost: %s" % (name, mine)); sys.exit(1)
    if not ok and not mine:
        print("%s (session %s object %s) neither delivered nor audited lost" % (name, sess, obj)); sys.exit(1)
    delivered += ok
    nlost += not ok
if counted != lost_ids:
    print("sluice_rx_objects_lost_total %d, but lost lines name %d ids" % (counted, lost_ids)); sys.exit(1)
print("ok %d %d" % (delivered, nlost))
PY
}
T0=$SECONDS
until check >"$W/check.txt"; do
	[ "$SECONDS" -lt $((T0 + 30)) ] || {
		grep '"lost"' "$W/audit.jsonl" >&2 || true
		fail "batch d not accounted for within 30 s: $(cat "$W/check.txt")"
	}
	sleep 0.5
done
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
n=$(grep -c "the deliver process sent no heartbeat for" "$W/rx.log")
kill -STOP "$DELIVER"
sleep 0.5
kill -TERM "$RX_PID"
i=0
while kill -0 "$RX_PID" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -le 20 ] || fail "rx did not stop within 2 s of SIGTERM with its deliver process stopped"
	sleep 0.1
done
rc=0
wait "$RX_PID" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "rx exited $rc"
[ "$(grep -c "the deliver process sent no heartbeat for" "$W/rx.log")" -gt "$n" ] ||
	fail "the stall at the stop is not logged"
log "2 ok: stopped in $((i * 100)) ms or less (exit $rc); ok"
