#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# make demo: the real job on a built-in default, on loopback, in well under a minute.
# Keys are made, sluice-rx and sluice-tx start, a userspace impairment proxy between them drops
# 5% of packets (with bursts, reordering and duplicates), two cameras' H.264 MPEG-TS segments
# cross while a VMS sends motion events over syslog UDP, and a summary says what arrived, how
# fast and what it cost.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
D="$ROOT/build/demo"
rm -rf "$D"
mkdir -p "$D/keys" "$D/spool/cam-north" "$D/spool/cam-south" "$D/src"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
P=$((27000 + $$ % 1000 * 4))

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
say "keys: sluice-tx keygen, sluice-rx keygen (in $D/keys)"
"$BUILD/sluice-tx" keygen "$D/keys" >/dev/null
"$BUILD/sluice-rx" keygen "$D/keys" >/dev/null
cat >"$D/rx.yaml" <<YAML
link:
  listen: 127.0.0.1:$P
keys:
  secret: $D/keys/rx.key
  senders: [$D/keys/tx.pub]
output:
  files: $D/out/files
  events: $D/out/events
metrics:
  listen: 127.0.0.1:$((P + 2))
state: $D/rx-state
user: nobody   # the link process's account (a package makes `sluice`, the default)
log:
  level: warn
  audit: $D/audit.jsonl
YAML
cat >"$D/tx.yaml" <<YAML
link:
  to: 127.0.0.1:$((P + 1))
  rate: 400Mbit
fec:
  overhead: 25%
keys:
  secret: $D/keys/tx.key
  receiver: $D/keys/rx.pub
spools:
  - name: cam-north
    path: $D/spool/cam-north
  - name: cam-south
    path: $D/spool/cam-south
events:
  - name: vms
    listen: udp:127.0.0.1:$((P + 4))
metrics:
  listen: 127.0.0.1:$((P + 3))
state: $D/tx-state
user: nobody   # the intake process's account (a package makes `sluice`, the default)
log:
  level: warn
YAML
"$BUILD/sluice-tx" -c "$D/tx.yaml" --check >/dev/null
"$BUILD/sluice-rx" -c "$D/rx.yaml" --check >/dev/null
say "link: 127.0.0.1:$((P + 1)) -> impairment proxy (5% loss in bursts, reorder, duplicates) -> rx 127.0.0.1:$P"
"$BUILD/sluice-impair" --listen "127.0.0.1:$((P + 1))" --to "127.0.0.1:$P" \
	--spec "burst=0.05:4,reorder=0.01,dup=0.01,seed=42" --stats "$D/impair.json" 2>"$D/impair.log" &
PIDS+=($!)
"$BUILD/sluice-rx" -c "$D/rx.yaml" 2>"$D/rx.log" &
PIDS+=($!)
"$BUILD/sluice-tx" -c "$D/tx.yaml" 2>"$D/tx.log" &
PIDS+=($!)
metric() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" '$1 == n {print $2; f=1} END {if (!f) print 0}'; }
for i in $(seq 50); do metric $((P + 3)) sluice_tx_packets_total | grep -qv '^0$' && break; sleep 0.1; done

say "recorders drop 2 x 30 real H.264 MPEG-TS segments (2 s each) into the spools;"
say "meanwhile the VMS sends 3,000 events (JSON, syslog text, invalid UTF-8) at 1,000/s"
"$BUILD/sluice-evsend" --count 3000 --rate 1000 --mode mixed "udp:127.0.0.1:$((P + 4))" 2>"$D/evsend.log" &
EVPID=$!
n=0
start=$(date +%s.%N)
for i in $(seq -w 0 29); do
	for cam in north south; do
		src="$ROOT/tests/data/video/seg-$((10#$i % 3)).ts"
		cp "$src" "$D/src/$cam-$i.ts"
		cp "$src" "$D/spool/cam-$cam/.seg-$i.ts.part"
		mv "$D/spool/cam-$cam/.seg-$i.ts.part" "$D/spool/cam-$cam/seg-$i.ts"
		n=$((n + 1))
	done
done
for i in $(seq 400); do
	[ "$(metric $((P + 2)) sluice_rx_objects_delivered_total)" -ge "$n" ] && break
	sleep 0.1
done
end=$(date +%s.%N)
wait "$EVPID" || true
for i in $(seq 50); do
	[ "$(metric $((P + 2)) sluice_rx_events_delivered_total)" -ge 3000 ] && break
	sleep 0.1
done
ok=0 bad=0
for f in "$D"/src/*.ts; do
	b=$(basename "$f"); cam=${b%%-*}; seg=${b#*-}
	if cmp -s "$f" "$D/out/files/cam-$cam/seg-$seg"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
bytes=$(cat "$D"/src/*.ts | wc -c)
txb=$(metric $((P + 3)) sluice_tx_bytes_total)
say "summary"
printf '  delivered, byte-identical:  %d of %d segments (%d missing or different)\n' "$ok" "$n" "$bad"
awk -v b="$bytes" -v s="$start" -v e="$end" -v t="$txb" 'BEGIN {
	printf "  video bytes:                %.1f MB in %.1f s\n", b / 1e6, e - s
	printf "  on the wire:                %.1f MB for video and events (%.0f%% over the video: FEC, headers, tags, manifests, events)\n", t / 1e6, (t - b) * 100 / b }'
kill "${PIDS[0]}" 2>/dev/null && wait "${PIDS[0]}" 2>/dev/null || true
python3 - "$D/impair.json" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except Exception:
    s = None
if s:
    print(f"  link impairment:            {s.get('dropped', 0)} of {s.get('in', 0)} packets dropped, "
          f"{s.get('reordered', 0)} reordered, {s.get('duplicated', 0)} duplicated")
PY
printf '  rebuilt by FEC:             %s packets\n' "$(metric $((P + 2)) sluice_rx_fec_recovered_packets_total)"
printf '  packets refused:            %s (%s replays/duplicates, %s forged or malformed)\n' \
	"$(metric $((P + 2)) sluice_rx_packets_rejected_total)" "$(metric $((P + 2)) sluice_rx_rejected_replay_total)" \
	"$(( $(metric $((P + 2)) sluice_rx_rejected_auth_total) + $(metric $((P + 2)) sluice_rx_rejected_malformed_total) ))"
printf '  objects lost:               %s\n' "$(metric $((P + 2)) sluice_rx_objects_lost_total)"
evok=$("$BUILD/sluice-evverify" --source vms --expect 3000 --latency "$D/out/events/vms" 2>/dev/null || true)
printf '  events:                     %s of 3000 delivered in order (%s lost); %s\n' \
	"$(metric $((P + 2)) sluice_rx_events_delivered_total)" "$(metric $((P + 2)) sluice_rx_events_lost_total)" \
	"$(echo "$evok" | awk '/^latency_ms/ { print "intake to line written: " $2 " " $3 " " $4 " ms" }')"
printf '  event lines:                %s\n' "$(ls "$D"/out/events/vms/*.jsonl 2>/dev/null | head -1)"
printf '  audit log:                  %s (%s lines)\n' "$D/audit.jsonl" "$(wc -l <"$D/audit.jsonl")"
printf '  delivered files:            %s\n' "$D/out/files"
[ "$bad" -eq 0 ] && echo "$evok" | grep -q 'missing=0 dup=0 bad=0'
