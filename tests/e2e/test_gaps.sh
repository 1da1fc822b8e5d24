#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# The gap report round trip, the only feedback a one-way site has (issue 14 item 5):
# 1. files sent while rx is stopped (reported as a range when the session comes back) and a
#    file lost on the link (an impairing proxy drops everything for a moment) are lost;
# 2. `sluice-rx gaps` lists them (session, ids, reason; --since filters by audit time), and
#    leaves out ids that were delivered after all; a report larger than `resend` reads (16 MiB)
#    is not written: gaps says so and asks for --since (it used to write it, and resend
#    refused it, nothing done);
# 3. `sluice-tx resend REPORT` re-queues those tx still has (kept for keep_for), names those it
#    no longer has (deleted by hand, changed since) and exits 1 for them;
# 4. the missing files then arrive intact;
# 5. a malformed or hostile report is refused with a message naming the problem, exit 2, and
#    nothing is re-queued.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
KEEP_FOR=1h write_tx_config "$PROXY_PORT" 25% 200Mbit
start_proxy ""
start_rx
start_tx
S="$W/spool" OUT="$W/out/files/cam"
mkdir -p "$W/src/sub"
for i in 1 2 3 4 5 6; do make_file "$W/src/f$i.bin" 200000 "f$i"; done
make_file "$W/src/sub/f7.bin" 150000 f7

lost_covers() { # SESSION-agnostic: an audit lost line covers id $1
	python3 - "$W/audit.jsonl" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["outcome"] == "lost" and r["object"] <= int(sys.argv[2]) <= r.get("object_last", r["object"]):
        sys.exit(0)
sys.exit(1)
PY
}

log "1a. f1 delivered; f2, f3, f4, sub/f7 sent while rx is stopped"
stage_into_spool "$W/src/f1.bin" f1.bin
wait_for "f1 delivered" 20 cmp -s "$W/src/f1.bin" "$OUT/f1.bin"
sleep 1
stop_clean "$RX_PID" rx
for f in f2.bin f3.bin f4.bin sub/f7.bin; do stage_into_spool "$W/src/$f" "$f"; done
wait_for "tx to send five files" 30 metric_ge "$TX_METRICS" sluice_tx_objects_total 5
start_rx
wait_for "ids 2-5 reported lost" 10 lost_covers 5
lost_covers 2 || fail "id 2 not reported lost"

log "1b. f5 lost on the link: the proxy drops everything while it leaves"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
start_proxy "drop=1"
stage_into_spool "$W/src/f5.bin" f5.bin
wait_for "tx to send f5" 30 metric_ge "$TX_METRICS" sluice_tx_objects_total 6
sleep 0.5
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
start_proxy ""
wait_for "id 6 reported lost" 15 lost_covers 6
stage_into_spool "$W/src/f6.bin" f6.bin
wait_for "f6 delivered" 20 cmp -s "$W/src/f6.bin" "$OUT/f6.bin"
for f in f2.bin f3.bin f4.bin f5.bin sub/f7.bin; do
	[ ! -e "$OUT/$f" ] || fail "$f arrived although it was lost"
done
SESSION=$(grep -o 'session [0-9a-f]\{16\}' "$W/tx.log" | head -n 1 | cut -d' ' -f2)
grep -q "sess=$SESSION obj=6 cam/f5.bin" "$W/tx-state/journal" ||
	fail "tx's journal does not map session $SESSION object 6 to cam/f5.bin: $(cat "$W/tx-state/journal")"

log "2. sluice-rx gaps lists the lost ids, --since filters"
"$RX" -c "$W/rx.yaml" gaps >"$W/report.json" 2>"$W/gaps.err" || fail "gaps failed: $(cat "$W/gaps.err")"
python3 - "$W/report.json" "$SESSION" <<'PY' || fail "the report is not what was lost: $(cat "$W/report.json")"
import json, sys
rep = json.load(open(sys.argv[1]))
assert rep["format"] == "sluice-gap-report" and rep["version"] == 1, rep
ids = set()
for e in rep["lost"]:
    assert e["session"] == sys.argv[2], e
    assert e["spool"] == "cam" if "spool" in e else True
    assert e["reason"] and e["time"].endswith("Z"), e
    ids.update(range(e["object"], e["object_last"] + 1))
assert ids == {2, 3, 4, 5, 6}, ids
PY
"$RX" -c "$W/rx.yaml" gaps --since 1h >"$W/r2.json" || fail "gaps --since 1h failed"
cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lost"])' "$W/report.json") \
	<(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lost"])' "$W/r2.json") ||
	fail "--since 1h left something out"
"$RX" -c "$W/rx.yaml" gaps --since 2099-01-01T00:00:00Z >"$W/r3.json" || fail "gaps --since a date failed"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["lost"] == []' "$W/r3.json" ||
	fail "--since the future still lists entries: $(cat "$W/r3.json")"
set +e
"$RX" -c "$W/rx.yaml" gaps --since yesterday >/dev/null 2>"$W/gaps.err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "gaps --since yesterday exited $rc, not 2"
grep -q "since.*yesterday" "$W/gaps.err" || fail "no message naming the bad --since: $(cat "$W/gaps.err")"

log "2b. an audit log with a lost file whose path is known, delivered ids left out"
sed "s#audit: .*#audit: $W/crafted.jsonl#" "$W/rx.yaml" >"$W/rx2.yaml"
cat >"$W/crafted.jsonl" <<'JL'
{"time":"2026-01-01T00:00:00.000001Z","outcome":"lost","spool":"cam","path":"x/y.ts","size":10,"session":"00000000000000aa","object":3,"sender":"0011223344556677","reason":"disk_full"}
{"time":"2026-01-01T00:00:01.000001Z","outcome":"lost","size":0,"session":"00000000000000aa","object":5,"object_last":9,"reason":"link: sent while this receiver was stopped"}
{"time":"2026-01-01T00:00:02.000001Z","outcome":"delivered","spool":"cam","path":"z.ts","size":1,"session":"00000000000000aa","object":7}
not json at all
JL
"$RX" -c "$W/rx2.yaml" gaps >"$W/r4.json" 2>"$W/gaps.err" || fail "gaps on the crafted log failed"
grep -q "crafted.jsonl:4: " "$W/gaps.err" || fail "the damaged audit line was not named: $(cat "$W/gaps.err")"
python3 - "$W/r4.json" <<'PY' || fail "crafted report wrong: $(cat "$W/r4.json")"
import json, sys
l = json.load(open(sys.argv[1]))["lost"]
got = [(e.get("spool"), e.get("path"), e["object"], e["object_last"], e["reason"]) for e in l]
want = [("cam", "x/y.ts", 3, 3, "disk_full"),
        (None, None, 5, 6, "link: sent while this receiver was stopped"),
        (None, None, 8, 9, "link: sent while this receiver was stopped")]
assert got == want, got
assert l[0]["sender"] == "0011223344556677"
PY

log "2c. a report over resend's 16 MiB is refused by gaps itself, naming --since"
sed "s#audit: .*#audit: $W/big.jsonl#" "$W/rx.yaml" >"$W/rx3.yaml"
python3 - "$W/big.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(5000):  # about 3.6 KB of report each: 18 MB in all, 5,000 entries
        f.write(json.dumps({"time": "2026-01-01T00:00:00.000001Z", "outcome": "lost", "spool": "cam",
                            "path": "d/%05d-" % i + "p" * 3000 + ".ts", "size": 1,
                            "session": "00000000000000bb", "object": 2 * i + 1,
                            "reason": "r" * 500}) + "\n")
PY
rc=0
"$RX" -c "$W/rx3.yaml" gaps >"$W/big.json" 2>"$W/gaps.err" || rc=$?
[ "$rc" = 1 ] || fail "gaps on a too large report exited $rc, not 1 ($(wc -c <"$W/big.json") bytes written)"
[ ! -s "$W/big.json" ] || fail "gaps wrote a report resend would refuse ($(wc -c <"$W/big.json") bytes)"
grep -q "over the 16777216 bytes .*--since" "$W/gaps.err" || fail "the refusal does not say why: $(cat "$W/gaps.err")"
log "   $(cat "$W/gaps.err")"

log "3. resend: what tx still has is re-queued, what it no longer has is named"
rm "$S/f3.bin"                          # deleted by hand: no longer available
make_file "$S/f4.new" 200000 changed && mv "$S/f4.new" "$S/f4.bin" # changed since it was sent
wait_for "the changed f4 sent as new" 20 metric_ge "$TX_METRICS" sluice_tx_objects_total 8
set +e
"$TX" -c "$W/tx.yaml" resend "$W/report.json" >"$W/resend.out" 2>"$W/resend.err"; rc=$?
set -e
cat "$W/resend.out" >&2
[ "$rc" -eq 1 ] || fail "resend exited $rc, not 1 (two files are no longer available): $(cat "$W/resend.err")"
for f in f2.bin f5.bin sub/f7.bin; do
	grep -q "^re-queued cam/$f " "$W/resend.out" || fail "$f not re-queued"
done
grep -q "^not available: cam/f3.bin .*no longer in the spool" "$W/resend.out" || fail "f3 not named as gone"
grep -q "^not available: cam/f4.bin .*changed since it was sent" "$W/resend.out" || fail "f4 not named as changed"
grep -q "^3 re-queued, 2 not available, 0 ids unknown" "$W/resend.out" || fail "no summary"

log "4. the missing files arrive intact"
for f in f2.bin f5.bin sub/f7.bin; do
	wait_for "$f delivered" 30 cmp -s "$W/src/$f" "$OUT/$f"
done
[ ! -e "$OUT/f3.bin" ] || fail "f3 arrived although it was gone"
cmp -s "$S/f4.bin" "$OUT/f4.bin" || fail "the changed f4 did not arrive as itself"
ls -a "$S" | grep -q '^\.sluice-resend' && fail "a resend copy was left in the spool"

log "5. malformed and hostile reports are refused, exit 2, nothing re-queued"
before=$(metric "$TX_METRICS" sluice_tx_objects_total)
refused() { # FILE EXPECTED-TEXT
	set +e
	"$TX" -c "$W/tx.yaml" resend "$1" >"$W/bad.out" 2>"$W/bad.err"; local rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "report $(head -c 200 "$1") exited $rc, not 2"
	grep -q -- "$2" "$W/bad.err" || fail "no message '$2' for $(head -c 200 "$1"): $(cat "$W/bad.err")"
	[ ! -s "$W/bad.out" ] || fail "something was done for a refused report: $(cat "$W/bad.out")"
}
good_entry="{\"session\":\"$SESSION\",\"object\":2,\"object_last\":2,\"reason\":\"r\",\"time\":\"2026-01-01T00:00:00Z\"}"
hdr='"format":"sluice-gap-report","version":1'
printf 'not json' >"$W/b1"; refused "$W/b1" "not JSON"
printf '{%s,"lost":[%s]} trailing' "$hdr" "$good_entry" >"$W/b2"; refused "$W/b2" "not JSON"
printf '{"format":"sluice-gap-report","version":2,"lost":[]}' >"$W/b3"; refused "$W/b3" "version 2"
printf '{"format":"other","version":1,"lost":[]}' >"$W/b4"; refused "$W/b4" "format"
printf '{%s,"lost":[{"session":"xyz","object":1,"object_last":1}]}' "$hdr" >"$W/b5"; refused "$W/b5" "lost\[0\].session"
printf '{%s,"lost":[{"session":"%s","object":5,"object_last":2}]}' "$hdr" "$SESSION" >"$W/b6"; refused "$W/b6" "lost\[0\].object_last"
printf '{%s,"lost":[{"session":"%s","object":0,"object_last":2}]}' "$hdr" "$SESSION" >"$W/b7"; refused "$W/b7" "lost\[0\].object"
printf '{%s,"lost":[%s,{"session":"%s","object":2,"object_last":2,"spool":"cam","path":"../../etc/passwd","evil":1}]}' \
	"$hdr" "$good_entry" "$SESSION" >"$W/b8"; refused "$W/b8" "lost\[1\]: unknown key 'evil'"
printf '{%s,%s,"lost":[]}' "$hdr" "$hdr" >"$W/b9"; refused "$W/b9" "duplicate"
head -c 20000000 /dev/zero | tr '\0' ' ' >"$W/b10"; refused "$W/b10" "too large"
printf '{%s,"lost":[{"session":"%s","object":2,"object_last":2,"spool":"%s"}]}' "$hdr" "$SESSION" \
	"$(head -c 300 /dev/zero | tr '\0' a)" >"$W/b11"; refused "$W/b11" "lost\[0\].spool"
sleep 1
[ "$(metric "$TX_METRICS" sluice_tx_objects_total)" -eq "$before" ] || fail "a refused report sent something"
log "ok"
