#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# The rx chain heads (STATE/chains) survive a crash:
#  1. small files flow while the deliver process is killed with SIGKILL: every file arrives
#     intact or is audited lost (the one in flight at the kill can be, for real), and no
#     chain_break names the seq of a file that was delivered; with nothing lost, no chain_break
#     at all;
#  2. the same with sluice-rx killed as a whole and started again (the files sent while it is
#     down are lost for real: audited, and their seqs may be a `missing` break);
# after the 5 s hold (DELIVER_CHAIN_HOLD_NS) each time, sluice_rx_chain_breaks_total equals the
# chain_break lines, and with nothing lost verify-audit exits 0. Before the heads were written
# ahead of the audit lines, the head on disk was up to 1 s old, and the files delivered in
# that second (closed in STATE/decided, so their manifests never came back) were reported
# `missing`.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
REPEAT=2 write_tx_config
mkdir -p "$W/src"
N=120
for i in $(seq 1 $N); do make_file "$W/src/f$i.bin" $((2000 + i)) "f$i"; done
# feed FIRST LAST: one file every 50 ms
feed() { local i; for i in $(seq "$1" "$2"); do stage_into_spool "$W/src/f$i.bin" "f$i.bin"; sleep 0.05; done; }
spawner() { pgrep -P "$RX_PID" -x sluice-rx-spawn | head -n 1; }
deliver_pid() { local s; s=$(spawner) && [ -n "$s" ] && pgrep -P "$s" -x sluice-rx-deliv | head -n 1; }
# breaks_ok BASE: no chain_break line names a seq a delivered or duplicate line carries; the
# counter (of the running rx) plus BASE equals the chain_break lines; prints the lost lines.
breaks_ok() {
	python3 - "$W/audit.jsonl" "$(metric "$RX_METRICS" sluice_rx_chain_breaks_total)" "$1" <<'PY'
import json, sys
seqs, breaks, lost = set(), [], 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    o = r.get("outcome")
    if o in ("delivered", "renamed", "duplicate") and "chain_seq" in r:
        seqs.add(r["chain_seq"])
    elif o == "chain_break":
        breaks.append(r)
    elif o == "lost":
        lost += 1
for b in breaks:
    first = b.get("chain_seq", 0)
    named = [s for s in range(first, b.get("chain_last", first) + 1) if s in seqs]
    if named:
        print("a chain_break names seqs %s of files delivered: %s" % (named, json.dumps(b)))
        sys.exit(1)
if int(float(sys.argv[2])) + int(sys.argv[3]) != len(breaks):
    print("sluice_rx_chain_breaks_total %s (+%s before a restart), but %d chain_break lines"
          % (sys.argv[2], sys.argv[3], len(breaks)))
    sys.exit(1)
print(lost)
PY
}
# all_there FIRST LAST: each file delivered intact, or as many lost as the counter says
all_there() {
	local i miss=0
	for i in $(seq "$1" "$2"); do cmp -s "$W/src/f$i.bin" "$W/out/files/cam/f$i.bin" || miss=$((miss + 1)); done
	[ "$miss" -le "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" ] ||
		fail "$miss of f$1..f$2 not delivered, $(metric "$RX_METRICS" sluice_rx_objects_lost_total) counted lost"
}

log "1. the deliver process killed while files flow"
start_rx
start_tx
feed 1 60 &
FEED=$!
wait_for "files delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 15
DELIVER=$(deliver_pid)
[ -n "$DELIVER" ] || fail "no deliver process"
kill -9 "$DELIVER"
log "   killed the deliver process $DELIVER after $(grep -c '"outcome":"delivered"' "$W/audit.jsonl") delivered lines"
new_deliver() { local p; p=$(deliver_pid); [ -n "$p" ] && [ "$p" != "$DELIVER" ]; }
wait_for "a new deliver process" 10 new_deliver
wait "$FEED"
wait_for "f60 audited" 30 grep -q '"path":"f60.bin"' "$W/audit.jsonl"
sleep 7 # past the hold: a gap left open would be a break by now
all_there 1 60
LOST=$(breaks_ok 0) || fail "$LOST"
if [ "$LOST" = 0 ]; then
	! grep -q '"outcome":"chain_break"' "$W/audit.jsonl" ||
		fail "nothing lost, yet: $(grep '"outcome":"chain_break"' "$W/audit.jsonl")"
else
	log "   $LOST lost line(s): the file(s) in flight at the kill"
fi
BREAKS1=$(grep -c '"outcome":"chain_break"' "$W/audit.jsonl" || true)

log "2. sluice-rx killed as a whole while files flow, then started again"
feed 61 $N &
FEED=$!
wait_for "files delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 75
OLD=$(spawner)
OLD="$OLD $(pgrep -P "$OLD" | tr '\n' ' ')"
kill -9 "$RX_PID"
wait "$RX_PID" 2>/dev/null || true
gone() { local p; for p in $OLD; do ! kill -0 "$p" 2>/dev/null || return 1; done; }
wait_for "rx's processes ($OLD) gone" 10 gone
log "   killed sluice-rx after $(grep -c '"outcome":"delivered"' "$W/audit.jsonl") delivered lines"
start_rx
wait "$FEED"
wait_for "f$N audited" 30 grep -q "\"path\":\"f$N.bin\"" "$W/audit.jsonl"
sleep 7
all_there 61 $N # the files sent while rx was down are lost for real, and audited
LOST2=$(breaks_ok "$BREAKS1") || fail "$LOST2"
log "   $((LOST2 - LOST)) lost line(s) after the rx restart: the files sent while it was down"
BREAKS2=$(grep -c '"outcome":"chain_break"' "$W/audit.jsonl" || true)
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
[ "$(grep -c '"outcome":"chain_break"' "$W/audit.jsonl")" -eq "$BREAKS2" ] ||
	fail "a chain_break at the stop: $(grep '"outcome":"chain_break"' "$W/audit.jsonl" | tail -n 1)"
if [ "$LOST2" = 0 ]; then
	[ "$BREAKS2" = 0 ] || fail "nothing lost, yet $BREAKS2 chain_break line(s)"
	"$RX" verify-audit "$W/audit.jsonl" --sender "$W/keys/tx.pub" >"$W/va.out" 2>"$W/va.err" ||
		{ cat "$W/va.out" "$W/va.err" >&2; fail "verify-audit failed after the crashes"; }
	log "   $(grep '^chains' "$W/va.out")"
fi
log "ok"
