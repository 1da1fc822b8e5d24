#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A wall-clock step back of an hour, on either host, changes no timer. tx and rx run under
# build/libfakeclock.so (tests/tools/fakeclock/): each reads its wall-clock offset from a file
# the test rewrites, and a timed wait on the wall clock behaves as the kernel's does when the
# clock is stepped. The machine's clock is never touched.
#  1. tx idle (only announcements): tx's clock steps back an hour. Its announcements must keep
#     coming every second and rx must keep taking them (link up, no replay refused).
#  2. files and events flowing: rx's clock steps back an hour, then tx's another hour. The
#     link stays up throughout, every file and event arrives intact, and the clocks did move
#     (the events' tx_time and rx_time go back).
. "$(dirname "$0")/lib.sh"
FAKE="$BUILD/libfakeclock.so"
EVSEND="$BUILD/sluice-evsend"
EVVERIFY="$BUILD/sluice-evverify"
[ -f "$FAKE" ] || fail "$FAKE not built"
export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" # the shim is preloaded before ASan
U=$((BASE_PORT + 5))
N=1500
make_keys
EVENTS_YAML="events:
  - name: cam-events
    listen: udp:127.0.0.1:$U"
write_rx_config
write_tx_config "$RX_PORT" 25% 100Mbit
echo 0 >"$W/tx.clock"
echo 0 >"$W/rx.clock"
SLUICE_FAKECLOCK="$W/rx.clock" LD_PRELOAD="$FAKE" "$RX" -c "$W/rx.yaml" >>"$W/rx.log" 2>&1 &
RX_PID=$!
PIDS+=("$RX_PID")
wait_for "rx metrics" 10 metrics_up "$RX_METRICS"
SLUICE_FAKECLOCK="$W/tx.clock" LD_PRELOAD="$FAKE" "$TX" -c "$W/tx.yaml" >>"$W/tx.log" 2>&1 &
TX_PID=$!
PIDS+=("$TX_PID")
wait_for "tx metrics" 10 metrics_up "$TX_METRICS"
wait_for "link up" 10 metric_ge "$RX_METRICS" sluice_rx_link_up 1

# watch SECONDS: every 0.5 s the link must be up and no announcement refused as a replay.
watch_link() {
	local i
	for i in $(seq 1 $(($1 * 2))); do
		sleep 0.5
		[ "$(metric "$RX_METRICS" sluice_rx_link_up)" = 1 ] || fail "rx: link down $((i / 2)) s after the step"
		[ "$(metric "$RX_METRICS" sluice_rx_rejected_replay_total)" = 0 ] ||
			fail "rx refused $(metric "$RX_METRICS" sluice_rx_rejected_replay_total) announcements as replays"
	done
}

log "1. tx idle, its wall clock steps back an hour"
sleep 1.5
a0=$(metric "$TX_METRICS" sluice_tx_announcements_total)
echo -3600 >"$W/tx.clock"
watch_link 5
a1=$(metric "$TX_METRICS" sluice_tx_announcements_total)
[ $((a1 - a0)) -ge 4 ] || fail "tx sent $((a1 - a0)) announcements in the 5 s after its clock stepped back"
log "   $((a1 - a0)) announcements in 5 s, link up"

log "2. files and events flowing; rx's clock steps back an hour, then tx's another"
mkdir -p "$W/src"
for i in $(seq 1 40); do make_file "$W/src/f$i.bin" 1500000 "f$i"; done
"$EVSEND" --count "$N" --rate 150 --mode json "udp:127.0.0.1:$U" 2>>"$W/evsend.log" &
EV_PID=$!
PIDS+=("$EV_PID")
(for i in $(seq 1 40); do
	cp -p "$W/src/f$i.bin" "$W/spool/.f$i.tmp" && mv "$W/spool/.f$i.tmp" "$W/spool/f$i.bin"
	sleep 0.25
done) &
PIDS+=($!)
wait_for "transfer under way" 20 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 5
echo -3600 >"$W/rx.clock"
watch_link 3
d=$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)
[ "$d" -lt 40 ] || fail "the transfer was over before tx's step: nothing tested"
echo -7200 >"$W/tx.clock"
watch_link 4
wait "$EV_PID" || fail "evsend failed: $(tail -n 3 "$W/evsend.log")"
wait_for "every file delivered" 60 same_tree "$W/src"
wait_for "every event delivered" 30 metric_ge "$RX_METRICS" sluice_rx_events_delivered_total "$N"
[ "$(metric "$RX_METRICS" sluice_rx_events_lost_total)" = 0 ] || fail "events lost"
# One file per UTC day of writing: a step over midnight splits them. In seq order, as one file.
mkdir -p "$W/ev"
python3 - "$W/out/events/cam-events" "$W/ev/2000-01-01.jsonl" "$W/times.txt" <<'PY' || fail "reading the event lines"
import json, os, sys
lines = []
for n in sorted(os.listdir(sys.argv[1])):
    with open(os.path.join(sys.argv[1], n), "rb") as f:
        lines += [(json.loads(l)["seq"], l) for l in f]
lines.sort()
with open(sys.argv[2], "wb") as f:
    f.writelines(l for _, l in lines)
first, last = json.loads(lines[0][1]), json.loads(lines[-1][1])
with open(sys.argv[3], "w") as f:
    f.write("%s %s %s %s\n" % (first["tx_time"], last["tx_time"], first["rx_time"], last["rx_time"]))
PY
"$EVVERIFY" --source cam-events --expect "$N" --mode json "$W/ev" >"$W/check.txt" ||
	fail "events: $(tail -n 5 "$W/check.txt")"
read -r tx0 tx1 rx0 rx1 <"$W/times.txt"
[[ "$tx1" < "$tx0" ]] || fail "tx_time did not go back ($tx0 .. $tx1): the shim did not step tx's clock"
[[ "$rx1" < "$rx0" ]] || fail "rx_time did not go back ($rx0 .. $rx1): the shim did not step rx's clock"
log "   40 files and $N events intact; tx_time $tx0 .. $tx1, rx_time $rx0 .. $rx1"
a0=$(metric "$TX_METRICS" sluice_tx_announcements_total)
watch_link 3
a1=$(metric "$TX_METRICS" sluice_tx_announcements_total)
[ $((a1 - a0)) -ge 2 ] || fail "tx sent $((a1 - a0)) announcements in 3 s once idle again"
stop_clean "$TX_PID" tx
stop_clean "$RX_PID" rx
log "ok"
