#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Shared helpers for end-to-end tests: real binaries, loopback, userspace impairment.
# Every wait is bounded; every test cleans up its processes and folders on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SLUICE_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
TX="$BUILD/sluice-tx"
RX="$BUILD/sluice-rx"
IMPAIR="$BUILD/sluice-impair"
W=$(mktemp -d /tmp/sluice-e2e.XXXXXX)
PIDS=()
ON_CLEANUP=()
# Sanitizer builds: reports go to files, and any report fails the test (see cleanup).
export ASAN_OPTIONS="log_path=$W/sanitizer-asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$W/sanitizer-ubsan:print_stacktrace=1"
# Ports from the PID so that concurrent runs do not collide, all below the kernel's ephemeral
# range (32768 up by default): a port in it can be taken by any outgoing connection's local end.
BASE_PORT=$((20000 + ($$ % 1200) * 10))
RX_PORT=$BASE_PORT
PROXY_PORT=$((BASE_PORT + 1))
RX_METRICS=$((BASE_PORT + 2))
TX_METRICS=$((BASE_PORT + 3))

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; dump_logs; exit 1; }

dump_logs() {
	for port in "$RX_METRICS" "$TX_METRICS"; do
		echo "---- metrics on $port (non-zero)" >&2
		curl -fsS -m 2 "http://127.0.0.1:$port/metrics" 2>&1 | awk '!/^#/ && $2 != 0' >&2 || true
	done
	for f in "$W"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last ${DUMP_LINES:-60} lines)" >&2
		tail -n "${DUMP_LINES:-60}" "$f" >&2
	done
}

cleanup() {
	local rc=$?
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
	# A test's own undoing (ON_CLEANUP+=("command ...")), once its processes are gone.
	for h in "${ON_CLEANUP[@]:-}"; do
		[ -n "$h" ] && eval "$h" || true
	done
	if ls "$W"/sanitizer-* >/dev/null 2>&1; then
		log "FAIL: a sanitizer reported a problem:"
		cat "$W"/sanitizer-* >&2
		rc=1
	fi
	# A call the receiver's system-call filter refused is a path its list missed.
	if grep -l 'sandbox: refused' "$W"/*.log 2>/dev/null; then
		log "FAIL: the system-call filter refused a call:"
		grep -h 'sandbox: refused' "$W"/*.log >&2
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "${KEEP:-0}" = 1 ]; then
		log "keeping $W"
	else
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT

make_keys() {
	mkdir -p "$W/keys"
	"$TX" keygen "$W/keys" >/dev/null
	"$RX" keygen "$W/keys" >/dev/null
}

# write_rx_config [extra yaml...]
write_rx_config() {
	cat >"$W/rx.yaml" <<YAML
link:
  listen: 127.0.0.1:$RX_PORT
keys:
  secret: $W/keys/rx.key
  senders: [$W/keys/tx.pub]
output:
  files: $W/out/files
  events: $W/out/events
retention:
  days: 0
limits:
  memory: ${RX_MEMORY:-512MB}
  object: 4GB
metrics:
  listen: 127.0.0.1:$RX_METRICS
state: $W/rx-state
user: nobody
log:
  level: ${RX_LOG:-info}
  audit: $W/audit.jsonl
YAML
}

# write_tx_config TO_PORT [overhead] [rate]
write_tx_config() {
	local to=${1:-$RX_PORT} overhead=${2:-25%} rate=${3:-2Gbit}
	mkdir -p "$W/spool"
	cat >"$W/tx.yaml" <<YAML
link:
  to: 127.0.0.1:$to
  mtu: ${MTU:-1500}
  rate: $rate${TX_IMPAIR:+
  impair: "$TX_IMPAIR"}
fec:
  overhead: $overhead
  block: ${BLOCK:-128}
  interleave: ${INTERLEAVE:-16}
  repeat: ${REPEAT:-1}
keys:
  secret: $W/keys/tx.key
  receiver: $W/keys/rx.pub
spools:
  - name: cam
    path: $W/spool
    after: ${AFTER:-delete}
    keep_for: ${KEEP_FOR:-0}
metrics:
  listen: 127.0.0.1:$TX_METRICS
state: $W/tx-state
log:
  level: ${TX_LOG:-info}
workers: ${WORKERS:-2}
user: nobody
YAML
	if [ -n "${EVENTS_YAML:-}" ]; then printf '%s\n' "$EVENTS_YAML" >>"$W/tx.yaml"; fi
}

start_rx() {
	"$RX" -c "$W/rx.yaml" >>"$W/rx.log" 2>&1 &
	RX_PID=$!
	PIDS+=("$RX_PID")
	wait_for "rx metrics" 10 metrics_up "$RX_METRICS"
}

start_tx() {
	"$TX" -c "$W/tx.yaml" >>"$W/tx.log" 2>&1 &
	TX_PID=$!
	PIDS+=("$TX_PID")
	wait_for "tx metrics" 10 metrics_up "$TX_METRICS"
}

# start_proxy SPEC: listens on PROXY_PORT, forwards to RX_PORT through the impairment engine.
start_proxy() {
	"$IMPAIR" --listen "127.0.0.1:$PROXY_PORT" --to "127.0.0.1:$RX_PORT" --spec "$1" \
		--stats "$W/impair.json" >>"$W/impair.log" 2>&1 &
	PROXY_PID=$!
	PIDS+=("$PROXY_PID")
	sleep 0.2
}

metrics_up() { curl -fsS "http://127.0.0.1:$1/metrics" >/dev/null 2>&1; }

# metric PORT NAME: prints the value (0 when absent)
metric() {
	curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}

# wait_for DESC SECONDS CMD...: polls CMD every 0.1 s, bounded.
wait_for() {
	local desc=$1 secs=$2
	shift 2
	local i=0 n=$((secs * 10))
	until "$@"; do
		i=$((i + 1))
		[ "$i" -ge "$n" ] && fail "timed out after ${secs}s waiting for $desc"
		sleep 0.1
	done
}

# All files under spool copy $1 exist byte-identical under out/files/cam.
same_tree() {
	local src=$1 dst="$W/out/files/cam"
	(cd "$src" && find . -type f | sort) >"$W/want.list"
	[ -d "$dst" ] || return 1
	(cd "$dst" && find . -type f | sort) >"$W/got.list"
	cmp -s "$W/want.list" "$W/got.list" || return 1
	while read -r f; do
		cmp -s "$src/$f" "$dst/$f" || return 1
	done <"$W/want.list"
}

# PID runs under its seccomp filter on every thread, with no way to gain privileges, or its
# log LOG says the build has none (sanitizers).
# assert_filtered LOG PID...: every thread of each process is under a filter, when LOG says so.
assert_filtered() {
	local log=$1 pid t
	shift
	if grep -q 'system-call filter on' "$log"; then
		for pid in "$@"; do
			[ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "no process '$pid' to check"
			for t in /proc/"$pid"/task/*; do
				grep -q '^Seccomp:[[:space:]]*2$' "$t/status" || fail "thread $t of $pid has no seccomp filter"
				grep -q '^NoNewPrivs:[[:space:]]*1$' "$t/status" || fail "thread $t of $pid can gain privileges"
			done
		done
	else
		grep -q 'no system-call filter in this build' "$log" || fail "$log does not say whether it is filtered"
		log "   (no system-call filter in this build: sanitizers)"
	fi
}
# rx_link_pid: the link process of the sluice-rx started last (rx/monitor/monitor.h).
rx_link_pid() {
	local s
	s=$(pgrep -P "$RX_PID" -x sluice-rx-spawn | head -n 1)
	[ -n "$s" ] && pgrep -P "$s" -x sluice-rx-link | head -n 1
}
metric_ge() { [ "$(metric "$1" "$2")" -ge "$3" ]; }

# audit_rechain OUT: the audit lines on stdin written to OUT as a forger would leave them after
# removing some: seq renumbered from 1, each prev the SHA-256 of the line before (zeros first).
audit_rechain() {
	local prev="" s=0 line zero
	zero=$(printf '0%.0s' $(seq 64))
	while IFS= read -r line; do
		s=$((s + 1))
		line=$(printf '%s' "$line" | sed "s/\"seq\":[0-9]*,\"prev\":\"[0-9a-f]\{64\}\"}\$/\"seq\":$s,\"prev\":\"${prev:-$zero}\"}/")
		printf '%s\n' "$line"
		prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
	done >"$1"
}

# batch_accounted N EXACT: waits up to 30 s (by the clock: each check takes a while) until
# each file d1..dN.bin of $W/d is delivered intact under out/files/cam or named by a lost
# audit line (by path, or by the session and object id tx's journal has), not both, and
# sluice_rx_objects_lost_total equals the ids the lost lines name; with EXACT 1, a file not
# delivered must be named by exactly one lost line, naming it alone. Leaves "ok DELIVERED LOST"
# in $W/check.txt.
batch_accounted() {
	local t0=$SECONDS
	until batch_check "$1" "$2" >"$W/check.txt"; do
		[ "$SECONDS" -lt $((t0 + 30)) ] || {
			grep '"lost"' "$W/audit.jsonl" >&2 || true
			fail "batch d not accounted for within 30 s: $(cat "$W/check.txt")"
		}
		sleep 0.5
	done
}
batch_check() {
	python3 - "$W" "$1" "$2" "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" <<'PY'
import json, os, sys, filecmp
w, n, exact, counted = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(float(sys.argv[4]))
ids = {}  # d$i.bin -> (session, object), from tx's journal
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
    if not ok and exact and len(mine) != 1:
        print("%s (session %s object %s) not delivered and in %d lost lines" % (name, sess, obj, len(mine))); sys.exit(1)
    if not ok and exact and (mine[0].get("object_last", mine[0]["object"]) != mine[0]["object"] or
                             mine[0].get("path") != name):
        print("%s: its lost line does not name it on its own: %s" % (name, mine[0])); sys.exit(1)
    delivered += ok
    nlost += not ok
if counted != lost_ids:
    print("sluice_rx_objects_lost_total %d, but lost lines name %d ids" % (counted, lost_ids)); sys.exit(1)
print("ok %d %d" % (delivered, nlost))
PY
}

# stop_rx_within_2s WHY: SIGTERM rx; it must end within 2 s (WHY names the case in the
# failure), exit 0 or 1. Sets STOP_MS (the time it took, at most) and STOP_RC.
stop_rx_within_2s() {
	local i=0
	kill -TERM "$RX_PID"
	while kill -0 "$RX_PID" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le 20 ] || fail "rx did not stop within 2 s of SIGTERM ($1)"
		sleep 0.1
	done
	STOP_RC=0
	wait "$RX_PID" || STOP_RC=$?
	[ "$STOP_RC" = 0 ] || [ "$STOP_RC" = 1 ] || fail "rx exited $STOP_RC"
	# shellcheck disable=SC2034 # read by the caller
	STOP_MS=$((i * 100))
}

# stop_rx_while_stopped PID ROLE: SIGSTOP the rx child PID (its ROLE: deliver, link), then
# SIGTERM rx: it must end within 2 s, exit 0 or 1, and log the stall ("the ROLE process sent
# no heartbeat for"). Sets STOP_MS (the time it took, at most) and STOP_RC.
stop_rx_while_stopped() {
	local n
	n=$(grep -c "the $2 process sent no heartbeat for" "$W/rx.log" || true)
	kill -STOP "$1"
	sleep 0.5
	stop_rx_within_2s "with its $2 process stopped"
	[ "$(grep -c "the $2 process sent no heartbeat for" "$W/rx.log")" -gt "$n" ] ||
		fail "the stall at the stop is not logged"
}

# make_file PATH SIZE [seed]: deterministic pseudo-random content
make_file() {
	mkdir -p "$(dirname "$1")"
	head -c "$2" <(openssl enc -aes-128-ctr -nosalt -pass "pass:${3:-$2}" -pbkdf2 -in /dev/zero 2>/dev/null) >"$1"
}

# Stage a file in a scratch folder then move it into the spool (atomic pick-up).
stage_into_spool() {
	local src=$1 rel=$2
	mkdir -p "$W/spool/$(dirname "$rel")"
	cp -p "$src" "$W/spool/.$$.tmp"
	mv "$W/spool/.$$.tmp" "$W/spool/$rel"
}

# stop_clean PID NAME: SIGTERM, then the process must exit 0 within 2 s (INTERFACE.md).
stop_clean() {
	local pid=$1 name=$2 i=0
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt 20 ] && fail "$name did not stop within 2 s of SIGTERM"
		sleep 0.1
	done
	wait "$pid" && return 0
	fail "$name exited with status $? after SIGTERM"
}
