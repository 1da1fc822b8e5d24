#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A full filesystem under log.audit: the lines that report files lost to a full output.files
# cannot be written either. They wait in memory, in order, counted
# (sluice_rx_audit_write_errors_total, sluice_rx_audit_backlog_lines); rx keeps running; the
# monitor watches log.audit's filesystem (sluice_rx_audit_free_bytes, the output.min_free
# warning); once space is freed the deliver process's periodic retry writes them with no new
# traffic: the lost files are named in the audit log, `sluice-rx verify-audit` finds the chain
# intact and `sluice-rx gaps` lists them.
#
#   sluice-tx --udp--> sluice-rx --> $W/out/files   (tmpfs, 8 MB, filled)
#                               \--> $W/alog/audit.jsonl (tmpfs, 1 MB, filled)
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	log "SKIP: needs root to mount a small tmpfs"
	exit 0
fi
MNT="$W/out/files" ALOG="$W/alog"
mkdir -p "$MNT" "$ALOG"
mount -t tmpfs -o size=8m,mode=0755 tmpfs "$MNT" || { log "SKIP: cannot mount a tmpfs here"; exit 0; }
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$ALOG" || { umount "$MNT"; log "SKIP: cannot mount a tmpfs here"; exit 0; }
ON_CLEANUP+=("umount '$MNT' 2>/dev/null || umount -l '$MNT'" "umount '$ALOG' 2>/dev/null || umount -l '$ALOG'")

make_keys
write_rx_config
sed -i "s|^  audit: .*|  audit: $ALOG/audit.jsonl|; s|^  events: .*|&\n  min_free: 50%|" "$W/rx.yaml"
write_tx_config "$RX_PORT" 25% 400Mbit
start_rx
start_tx
AUDIT="$ALOG/audit.jsonl"
OUT="$MNT/cam"
decided() { [ $(($(metric "$RX_METRICS" sluice_rx_objects_delivered_total) + $(metric "$RX_METRICS" sluice_rx_objects_lost_total))) -ge "$1" ]; }

log "1. a file delivered and audited; the audit log's filesystem is watched"
make_file "$W/src/f1.bin" 200000 f1
stage_into_spool "$W/src/f1.bin" f1.bin
wait_for "f1 delivered" 30 decided 1
cmp "$W/src/f1.bin" "$OUT/f1.bin" || fail "f1 differs"
wait_for "audit free-space gauge" 10 metric_ge "$RX_METRICS" sluice_rx_audit_free_bytes 500000
[ "$(metric "$RX_METRICS" sluice_rx_audit_free_bytes)" -le 1048576 ] || fail "audit free bytes above its tmpfs"

log "2. both filesystems full: files lost, the audit lines that do not fit wait in memory"
# The filler takes every free page; the audit log's own last page still has room for a few
# lines, so enough files are lost to go past it.
dd if=/dev/zero of="$ALOG/filler" bs=4096 status=none 2>/dev/null || true
dd if=/dev/zero of="$MNT/filler" bs=65536 status=none 2>/dev/null || true
errs0=$(metric "$RX_METRICS" sluice_rx_audit_write_errors_total)
N=20
for i in $(seq 2 $((N + 1))); do
	make_file "$W/src/f$i.bin" 20000 "f$i"
	stage_into_spool "$W/src/f$i.bin" "f$i.bin"
done
wait_for "f2..f$((N + 1)) decided" 60 decided $((N + 1))
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq "$N" ] || fail "lost count"
kill -0 "$RX_PID" || fail "rx died"
metric_ge "$RX_METRICS" sluice_rx_audit_write_errors_total $((errs0 + 1)) || fail "audit write errors not counted"
metric_ge "$RX_METRICS" sluice_rx_audit_backlog_lines 1 || fail "the waiting lines are not in the gauge"
[ "$(grep -c '"lost"' "$AUDIT")" -lt "$N" ] || fail "every lost line was written to a full filesystem?"
grep -q 'audit log: cannot write (.*): [0-9]* line(s), [0-9]* bytes, wait in memory' "$W/rx.log" || fail "no log line for the failed audit write"
wait_for "log.audit below the mark" 12 grep -q "log.audit .* below output.min_free" "$W/rx.log"
metric_ge "$RX_METRICS" sluice_rx_disk_low 1 || fail "disk_low not set for log.audit"

log "3. space for the audit log again: the waiting lines are written with no new traffic"
rm -f "$ALOG/filler"
backlog_empty() { [ "$(metric "$RX_METRICS" sluice_rx_audit_backlog_lines)" -eq 0 ]; }
wait_for "backlog written" 10 backlog_empty
python3 - "$AUDIT" "$N" <<'PY' || fail "the audit log does not name every lost file, in order, lost for a full disk"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
lost = [r for r in lines if r["outcome"] == "lost"]
assert all(r["reason"].startswith("disk_full") for r in lost), lost
assert sorted(r["path"] for r in lost) == sorted("f%d.bin" % i for i in range(2, int(sys.argv[2]) + 2)), lost
objs = [r["object"] for r in lost]
assert objs == sorted(objs), objs
PY
grep -q 'audit log: writes succeed again; ' "$W/rx.log" || fail "no log line for the recovery"
[ "$(metric "$RX_METRICS" sluice_rx_audit_lines_dropped_total)" -eq 0 ] || fail "lines dropped"
"$RX" verify-audit "$AUDIT" >"$W/va.out" 2>"$W/va.err" ||
	fail "verify-audit: $(cat "$W/va.err")"
grep -q "chain intact" "$W/va.out" || fail "verify-audit: $(cat "$W/va.out")"
"$RX" -c "$W/rx.yaml" gaps >"$W/report.json" 2>"$W/gaps.err" || fail "gaps failed: $(cat "$W/gaps.err")"
python3 - "$W/report.json" "$N" <<'PY' || fail "gaps does not list every lost file: $(cat "$W/report.json")"
import json, sys
rep = json.load(open(sys.argv[1]))
assert sorted(e.get("path") for e in rep["lost"]) == sorted("f%d.bin" % i for i in range(2, int(sys.argv[2]) + 2)), rep
PY

log "4. output.files freed too: rx delivers and audits again"
rm -f "$MNT/filler"
make_file "$W/src/f99.bin" 200000 f99
stage_into_spool "$W/src/f99.bin" f99.bin
wait_for "f99 delivered" 30 test -f "$OUT/f99.bin"
wait_for "f99 audited" 10 grep -q '"delivered".*"f99.bin"' "$AUDIT"
"$RX" verify-audit "$AUDIT" >"$W/va.out" 2>"$W/va.err" || fail "verify-audit at the end: $(cat "$W/va.err")"
log "ok"
