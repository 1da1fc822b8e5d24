#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# tx -> rx goodput: file bytes delivered intact per second, real binaries over loopback,
# tx pinned to CPU 0 and rx to CPU 1, spool and output on tmpfs (/dev/shm) so the data path is
# measured, not the disk. Loss is made by tx's impaired link (link.impair), which costs the
# receiver nothing.
#   goodput.sh MTU LOSS WORKERS RATE [MB]
# Prints one line: "goodput mtu=1500 loss=0% workers=1 rate=...: X.XX Gbit/s (...)".
# A file counts as intact when rx delivered it: its deliver role checked the content against
# the hash in the manifest the sender signed.
# As a video-management system ingesting segments would, the bench removes each delivered file
# once its audit line is written, so rx writes into recycled page-cache pages as on a host in
# steady state. BENCH_KEEP_OUTPUT=1 keeps them all: rx then writes 1 GB and more into pages
# never touched since boot, which on a VM with free page reporting costs several times more.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
MTU=$1 LOSS=$2 WORKERS=$3 RATE=$4 MB=${5:-1000}
D=$(mktemp -d ${BENCH_DIR:-/dev/shm}/sluice-bench.XXXXXX)
P=$((29000 + $$ % 500 * 4))
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$D"' EXIT
"$BUILD/sluice-tx" keygen "$D/k" >/dev/null
"$BUILD/sluice-rx" keygen "$D/k" >/dev/null
impair=""
[ "$LOSS" != 0 ] && impair="  impair: drop=0.$(printf '%02d' "$LOSS"),seed=5"
cat >"$D/rx.yaml" <<Y
link:
  listen: 127.0.0.1:$P
keys:
  secret: $D/k/rx.key
  senders: [$D/k/tx.pub]
output:
  files: $D/out/files
  events: $D/out/events
limits:
  memory: 1GB
metrics:
  listen: 127.0.0.1:$((P + 2))
state: $D/rxs
user: nobody
log:
  level: ${BENCH_LOG:-error}
  audit: $D/audit.jsonl
Y
cat >"$D/tx.yaml" <<Y
link:
  to: 127.0.0.1:$P
  mtu: $MTU
  rate: $RATE
$impair
keys:
  secret: $D/k/tx.key
  receiver: $D/k/rx.pub
spools:
  - name: bench
    path: $D/spool
    keep_for: 0
metrics:
  listen: 127.0.0.1:$((P + 3))
state: $D/txs
user: nobody
log:
  level: ${BENCH_LOG:-error}
workers: $WORKERS
Y
mkdir -p "$D/stage" "$D/spool"
n=$(( (MB + 99) / 100 ))
for i in $(seq 1 "$n"); do head -c 100000000 /dev/urandom >"$D/stage/f$i.bin"; done
bytes=$((n * 100000000))
taskset -c 1 "$BUILD/sluice-rx" -c "$D/rx.yaml" 2>"$D/rx.log" &
PIDS+=($!)
metric() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" '$1 == n {print $2; f=1} END {if (!f) print 0}'; }
for i in $(seq 100); do curl -fsS "http://127.0.0.1:$((P + 2))/metrics" >/dev/null 2>&1 && break; sleep 0.05; done
taskset -c 0 "$BUILD/sluice-tx" -c "$D/tx.yaml" 2>"$D/tx.log" &
PIDS+=($!)
for i in $(seq 100); do [ "$(metric $((P + 3)) sluice_tx_announcements_total)" -gt 0 ] && break; sleep 0.05; done
# From here this script stands for the receiver host's consumer (it polls the audit log and
# removes delivered files): it runs on rx's core, as it would on the receiving host, not on
# the sender's.
taskset -pc 1 $$ >/dev/null
# CPU time (user + system, all threads, in clock ticks) of a process and its descendants so
# far: sluice-rx is a monitor, a spawner, a link and a deliver process (rx/monitor/monitor.h).
# A child started again during the run would be missed; the bench has none.
cputicks() {
	local t=0 p
	for p in $1 $(pgrep -P "$1") $(pgrep -P "$1" | xargs -r -n1 pgrep -P); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
RXPID=${PIDS[0]} TXPID=${PIDS[1]}
rx0=$(cputicks "$RXPID") tx0=$(cputicks "$TXPID")
t0=$(date +%s.%N)
mv "$D"/stage/* "$D/spool/"
# BENCH_PERF=DIR: a cpu-clock profile of each core (tx on 0, rx on 1) for the first seconds.
if [ -n "${BENCH_PERF:-}" ]; then
	mkdir -p "$BENCH_PERF"
	for c in 0 1; do
		perf record -q -e cpu-clock -g -C "$c" -o "$BENCH_PERF/cpu$c.data" -- sleep "${BENCH_PERF_SECS:-2}" >/dev/null 2>&1 &
	done
fi
deadline=$(( $(date +%s) + 120 ))
# Poll the audit log, not the metrics endpoint: a curl every few ms would steal CPU from tx.
while :; do
	c=$(grep -c '"outcome":"\(delivered\|lost\)"' "$D/audit.jsonl" 2>/dev/null || true)
	if [ "${BENCH_KEEP_OUTPUT:-0}" != 1 ]; then
		sed -n 's/.*"outcome":"delivered","spool":"bench","path":"\([^"/]*\)".*/\1/p' "$D/audit.jsonl" 2>/dev/null |
			while read -r f; do rm -f "$D/out/files/bench/$f"; done
	fi
	[ "${c:-0}" -ge "$n" ] && break
	[ "$(date +%s)" -gt "$deadline" ] && break
	sleep 0.2
done
rx1=$(cputicks "$RXPID") tx1=$(cputicks "$TXPID")
# The end is the time of the last outcome, as the receiver wrote it.
t1=$(python3 -c '
import json, sys, datetime
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["outcome"] in ("delivered", "lost"):
        last = r["time"]
t = datetime.datetime.strptime(last, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
print("%.6f" % t.timestamp())' "$D/audit.jsonl" 2>/dev/null || date +%s.%N)
d=$(metric $((P + 2)) sluice_rx_objects_delivered_total)
[ "${KEEP:-0}" = 1 ] && curl -fsS "http://127.0.0.1:$((P + 2))/metrics" >"$D/rx.metrics" 2>/dev/null
rxp=$(metric $((P + 2)) sluice_rx_packets_total); txp=$(metric $((P + 3)) sluice_tx_packets_total)
rec=$(metric $((P + 2)) sluice_rx_fec_recovered_packets_total)
lost=$(metric $((P + 2)) sluice_rx_objects_lost_total)

hz=$(getconf CLK_TCK)
awk -v b="$bytes" -v hz="$hz" -v txc=$((tx1 - tx0)) -v rxc=$((rx1 - rx0)) -v s="$t0" -v e="$t1" -v m="$MTU" -v l="$LOSS" -v w="$WORKERS" -v r="$RATE" -v d="$d" -v n="$n" -v rec="$rec" -v lost="$lost" -v txp="$txp" -v rxp="$rxp" 'BEGIN {
	good = d * 100000000
	# CPU seconds per GB delivered, each side (on loopback, the tx figure includes the kernel
	# receive path up to the rx socket): steadier than the rate on a noisy host.
	gb = good / 1e9
	printf "goodput mtu=%-5s loss=%s%% workers=%s rate=%-7s %6.2f Gbit/s  (%d/%d files intact in %.2fs, %d packets rebuilt by FEC, %d lost, %d of %d packets arrived; CPU s per GB: tx %.2f, rx %.2f)\n",
		m, l, w, r, good * 8 / (e - s) / 1e9, d, n, e - s, rec, lost, rxp, txp,
		(gb > 0 ? txc / hz / gb : 0), (gb > 0 ? rxc / hz / gb : 0) }'
