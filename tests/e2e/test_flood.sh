#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A hostile network floods the receiver at 1 Gbit/s with a mix of garbage, well-formed data
# of sessions nobody announced, forged data naming the genuine session (numbered within the
# first epoch, or across all: refused unopened), forged announcements
# and replays of a recorded genuine session, while the genuine sender sends files at a rate the
# link carries. Every genuine file arrives intact, nothing is lost, every kind of attack is
# counted under its reason, and the peak memory of each of the receiver's processes stays under limits.memory plus a
# fixed margin (FLOOD_MARGIN_MB, stated in README).
. "$(dirname "$0")/lib.sh"
FLOOD="$BUILD/sluice-flood"
CAPTURE="$BUILD/sluice-capture"
MEMORY_MB=64
MARGIN_MB=${FLOOD_MARGIN_MB:-96}
RX_MEMORY=${MEMORY_MB}MB
make_keys
write_rx_config
write_tx_config "$PROXY_PORT" 25% 300Mbit
start_rx
# The genuine stream goes through a recorder, so the flood can replay it.
"$CAPTURE" --listen "127.0.0.1:$PROXY_PORT" --to "127.0.0.1:$RX_PORT" --out "$W/cap.bin" >>"$W/capture.log" 2>&1 &
PIDS+=("$!")
sleep 0.2
mkdir -p "$W/src"
for i in $(seq 1 12); do make_file "$W/src/f$i.bin" 3000000 "f$i"; done
start_tx
cp "$W/src/f1.bin" "$W/src/f2.bin" "$W/spool/"
wait_for "two files before the flood" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 2
session=$(sed -n 's/.*info: session \([0-9a-f]\{16\}\) (counter.*/\1/p' "$W/tx.log" | head -1)
[ -n "$session" ] || fail "no session id in the sender's log"
cp "$W/cap.bin" "$W/replay.bin"

log "flood: 1 Gbit/s for 15 s, session $session"
"$FLOOD" --to "127.0.0.1:$RX_PORT" --mbit 1000 --duration-s 15 \
	--mix garbage,nosession,session,announce,replay --session "$session" \
	--sender "$W/keys/tx.pub" --receiver "$W/keys/rx.pub" --replay "$W/replay.bin" >"$W/flood.log" 2>&1 &
FLOOD_PID=$!
PIDS+=("$FLOOD_PID")
sleep 2
for i in $(seq 3 12); do cp "$W/src/f$i.bin" "$W/spool/"; sleep 0.5; done
wait_for "all twelve files" 60 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 12
wait "$FLOOD_PID" || fail "the flood tool failed: $(cat "$W/flood.log")"
log "$(cat "$W/flood.log")"
rate=$(sed -n 's/^sluice-flood: \([0-9]*\) Mbit.*/\1/p' "$W/flood.log")
# It aims at 1 Gbit/s; on a 2-core machine that also runs both daemons, the flood's own
# sending core is the limit (about 0.7-1 Gbit/s here): the test asks for half of it.
min=${FLOOD_MIN_MBIT:-500}; case "$BUILD" in */san) min=50 ;; esac # sanitizers slow both ends
[ "${rate:-0}" -ge "$min" ] || fail "the flood reached only ${rate:-0} Mbit/s"

for i in $(seq 1 12); do cmp "$W/src/f$i.bin" "$W/out/files/cam/f$i.bin" || fail "f$i.bin differs"; done
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] || fail "objects lost"
[ "$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)" -eq 12 ] || fail "an extra object delivered"
[ "$(metric "$RX_METRICS" sluice_rx_link_up)" -eq 1 ] || fail "link not up after the flood"
[ "$(metric "$RX_METRICS" sluice_rx_sessions_total)" -eq 1 ] || fail "a forged or replayed announcement opened a session"
for m in malformed unknown_session auth replay announce_mac; do
	[ "$(metric "$RX_METRICS" "sluice_rx_rejected_${m}_total")" -gt 1000 ] || fail "sluice_rx_rejected_${m}_total not counting the flood"
done
# forged data numbered more than an epoch ahead: refused before any key is derived for it
grep -q 'refused unopened' "$W/rx.log" || fail "forged data beyond the packet-number bound not logged"
kill -0 "$RX_PID" || fail "rx died"
SPAWNER=$(pgrep -P "$RX_PID" -x sluice-rx-spawn)
for p in "monitor:$RX_PID" "spawner:$SPAWNER" "link:$(rx_link_pid)" "deliver:$(pgrep -P "$SPAWNER" -x sluice-rx-deliv)"; do
	pid=${p#*:}
	[ -n "$pid" ] || fail "no ${p%%:*} process"
	peak_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	log "rx ${p%%:*} process peak RSS $((peak_kb / 1024)) MB (limits.memory ${MEMORY_MB} MB + margin ${MARGIN_MB} MB)"
	case "$BUILD" in */san) ;;
	*) [ "$peak_kb" -le $(( (MEMORY_MB + MARGIN_MB) * 1024 )) ] || fail "rx ${p%%:*} process peak RSS $((peak_kb / 1024)) MB over limits.memory + margin" ;;
	esac
done
case "$BUILD" in */san) log "   (not compared under sanitizers: ASan's shadow memory and quarantine of freed blocks count in RSS)" ;; esac
log "ok"
