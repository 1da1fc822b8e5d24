#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Event latency: intake on tx to line written on rx (rx_time - tx_time of each JSON line; both
# stamped on this machine's clock), real binaries over loopback, tx pinned to CPU 0 and rx to
# CPU 1, output on tmpfs. Events go to a udp: intake at RATE per second for SECS seconds; with
# VIDEO=1 a feeder moves 8 MB segments into the spool at 80% of link.rate meanwhile.
#   events.sh RATE VIDEO [LINK_RATE] [SECS]
# Prints: "events rate=1000/s video=80%: p50=.. p99=.. max=.. ms (n=.., lost=..)".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
EVRATE=$1 VIDEO=$2 LINK=${3:-1Gbit} SECS=${4:-10}
D=$(mktemp -d ${BENCH_DIR:-/dev/shm}/sluice-evbench.XXXXXX)
P=$((31000 + $$ % 500 * 4))
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$D"' EXIT
"$BUILD/sluice-tx" keygen "$D/k" >/dev/null
"$BUILD/sluice-rx" keygen "$D/k" >/dev/null
cat >"$D/rx.yaml" <<Y
link:
  listen: 127.0.0.1:$P
keys:
  secret: $D/k/rx.key
  senders: [$D/k/tx.pub]
output:
  files: $D/out/files
  events: $D/out/events
retention:
  days: 0
metrics:
  listen: 127.0.0.1:$((P + 2))
state: $D/rxs
user: nobody
log:
  level: ${BENCH_LOG:-warn}
Y
cat >"$D/tx.yaml" <<Y
link:
  to: 127.0.0.1:$P
  rate: $LINK
keys:
  secret: $D/k/tx.key
  receiver: $D/k/rx.pub
spools:
  - name: video
    path: $D/spool
events:
  - name: bench
    listen: udp:127.0.0.1:$((P + 1))
metrics:
  listen: 127.0.0.1:$((P + 3))
state: $D/txs
user: nobody
log:
  level: ${BENCH_LOG:-warn}
workers: 1
Y
mkdir -p "$D/spool" "$D/stage"
up() { curl -fsS "http://127.0.0.1:$1/metrics" >/dev/null 2>&1; }
taskset -c 1 "$BUILD/sluice-rx" -c "$D/rx.yaml" 2>"$D/rx.log" &
PIDS+=($!)
for _ in $(seq 100); do up $((P + 2)) && break; sleep 0.1; done
taskset -c 0 "$BUILD/sluice-tx" -c "$D/tx.yaml" 2>"$D/tx.log" &
PIDS+=($!)
for _ in $(seq 100); do up $((P + 3)) && break; sleep 0.1; done
sleep 2.5 # past the first announcements
feeder=""
if [ "$VIDEO" = 1 ]; then
	# 80% of the link in 8 MB segments: one every 8e6*8 / (0.8 * rate) seconds.
	bps=$(echo "$LINK" | awk '{ v = $1 + 0; u = substr($1, length(v "") + 1);
		m = (u == "Gbit") ? 1e9 : (u == "Mbit") ? 1e6 : (u == "kbit") ? 1e3 : 1; print v * m }')
	period=$(awk -v b="$bps" 'BEGIN { printf "%.4f", 8e6 * 8 / (0.8 * b) }')
	head -c 8000000 /dev/urandom >"$D/seg"
	(
		i=0
		end=$(( $(date +%s) + SECS + 2 ))
		while [ "$(date +%s)" -lt "$end" ]; do
			cp "$D/seg" "$D/stage/s$i.ts" && mv "$D/stage/s$i.ts" "$D/spool/s$i.ts"
			i=$((i + 1))
			sleep "$period"
		done
	) &
	feeder=$!
	PIDS+=($feeder)
	sleep 2 # video flowing before events start
fi
n=$((EVRATE * SECS))
taskset -c 0 "$BUILD/sluice-evsend" --count "$n" --rate "$EVRATE" --mode json \
	"udp:127.0.0.1:$((P + 1))" 2>/dev/null
# Wait (bounded) for the last line.
f="$D/out/events/bench"
for _ in $(seq 100); do
	got=$(cat "$f"/*.jsonl 2>/dev/null | wc -l)
	[ "$got" -ge "$n" ] && break
	sleep 0.1
done
[ -n "$feeder" ] && kill "$feeder" 2>/dev/null || true
lost=$(curl -fsS "http://127.0.0.1:$((P + 2))/metrics" | awk '$1 == "sluice_rx_events_lost_total" { print $2 }')
video_mb=$(curl -fsS "http://127.0.0.1:$((P + 2))/metrics" | awk '$1 == "sluice_rx_bytes_delivered_total" { printf "%d", $2 / 1e6 }')
lat=$("$BUILD/sluice-evverify" --latency --allow-gaps --mode json "$f" 2>/dev/null | awk '/^latency_ms/ { print $2, $3, $4, $5 }')
vtag=alone
[ "$VIDEO" = 1 ] && vtag="with video at 80% of $LINK (${video_mb} MB delivered)"
echo "events ${EVRATE}/s $vtag: $lat ms, lost=${lost:-?}"
