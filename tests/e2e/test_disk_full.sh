#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A full output filesystem (an 8 MB tmpfs as output.files, files of 3 MB): what does not fit is
# audited lost with reason disk_full (spool and path named) and counted; no partial file under a
# final name and no temp file is left; rx keeps running, and delivers again by itself once
# delivered files are removed. The free-space gauge follows, and output.min_free's low-water
# mark is logged once each way. Events on a full output.events (a 1 MB tmpfs) are counted lost
# and disk_full, no line is left cut short, and events are written again once space is freed.
#
#   UDP events --> sluice-tx --udp--> sluice-rx --> $W/out/files  (tmpfs, 8 MB)
#                                              \--> $W/out/events (tmpfs, 1 MB)
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	log "SKIP: needs root to mount a small tmpfs"
	exit 0
fi
MNT="$W/out/files" EVD="$W/out/events"
mkdir -p "$MNT" "$EVD"
mount -t tmpfs -o size=8m,mode=0755 tmpfs "$MNT" || { log "SKIP: cannot mount a tmpfs here"; exit 0; }
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$EVD" || { umount "$MNT"; log "SKIP: cannot mount a tmpfs here"; exit 0; }
ON_CLEANUP+=("umount '$MNT' 2>/dev/null || umount -l '$MNT'" "umount '$EVD' 2>/dev/null || umount -l '$EVD'")
# log.audit's filesystem is watched for output.min_free too: on a small tmpfs of its own, so
# that the mark below (50%) does not depend on how full this machine's /tmp is.
ALOG="$W/alog"
mkdir -p "$ALOG"
mount -t tmpfs -o size=4m,mode=0755 tmpfs "$ALOG" || { log "SKIP: cannot mount a tmpfs here"; exit 0; }
ON_CLEANUP+=("umount '$ALOG' 2>/dev/null || umount -l '$ALOG'")

U=$((BASE_PORT + 5))
make_keys
EVENTS_YAML="events:
  - name: ev
    listen: udp:127.0.0.1:$U"
write_rx_config
sed -i "s|^  events: .*|&\n  min_free: 50%|; s|^  audit: .*|  audit: $ALOG/audit.jsonl|" "$W/rx.yaml"
write_tx_config "$RX_PORT" 25% 400Mbit
start_rx
start_tx
OUT="$MNT/cam"
decided() { [ $(($(metric "$RX_METRICS" sluice_rx_objects_delivered_total) + $(metric "$RX_METRICS" sluice_rx_objects_lost_total))) -ge "$1" ]; }

log "1. the free-space gauge, above the low-water mark"
wait_for "free-space gauge" 10 metric_ge "$RX_METRICS" sluice_rx_output_free_bytes 7000000
[ "$(metric "$RX_METRICS" sluice_rx_output_free_bytes)" -le 8388608 ] || fail "free bytes above the tmpfs size"
metric_ge "$RX_METRICS" sluice_rx_events_free_bytes 1 || fail "no free bytes for output.events"
[ "$(metric "$RX_METRICS" sluice_rx_disk_low)" -eq 0 ] || fail "disk_low set on an empty filesystem"

log "2. files of 3 MB, one at a time: two fit, the next two do not"
for i in 1 2 3 4; do
	make_file "$W/src/f$i.bin" 3000000 "f$i"
	stage_into_spool "$W/src/f$i.bin" "f$i.bin"
	wait_for "f$i decided" 30 decided "$i"
done
cmp "$W/src/f1.bin" "$OUT/f1.bin" || fail "f1 differs"
cmp "$W/src/f2.bin" "$OUT/f2.bin" || fail "f2 differs"
[ ! -e "$OUT/f3.bin" ] && [ ! -e "$OUT/f4.bin" ] || fail "a file that did not fit has a final name"
[ "$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)" -eq 2 ] || fail "delivered count"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 2 ] || fail "lost count"
[ "$(metric "$RX_METRICS" sluice_rx_disk_full_total)" -eq 2 ] || fail "disk_full count"
python3 - "$ALOG/audit.jsonl" <<'PY' || fail "the audit log does not say f3 and f4 were lost for a full disk"
import json, sys
lost = [json.loads(l) for l in open(sys.argv[1]) if '"lost"' in l]
got = sorted((r["spool"], r["path"]) for r in lost if r["reason"].startswith("disk_full"))
assert got == [("cam", "f3.bin"), ("cam", "f4.bin")], (got, lost)
PY
[ -z "$(ls -A "$MNT/.sluice-tmp")" ] || fail "temp files left: $(ls -A "$MNT/.sluice-tmp")"
grep -q 'disk_full' "$W/rx.log" || fail "no log line for the full disk"

log "3. the low-water mark: below it, logged once"
wait_for "disk_low" 12 metric_ge "$RX_METRICS" sluice_rx_disk_low 1
sleep 5.5 # another check, still below: no second line
[ "$(grep -c "output.files .* below output.min_free" "$W/rx.log")" -eq 1 ] || fail "below-the-mark line not logged once"

log "4. space freed: rx (still running) delivers again by itself"
kill -0 "$RX_PID" || fail "rx died"
metrics_up "$RX_METRICS" || fail "rx metrics down"
rm -f "$OUT/f1.bin" "$OUT/f2.bin"
for i in 5 6; do
	make_file "$W/src/f$i.bin" 3000000 "f$i"
	stage_into_spool "$W/src/f$i.bin" "f$i.bin"
	wait_for "f$i delivered" 30 test -f "$OUT/f$i.bin"
	cmp "$W/src/f$i.bin" "$OUT/f$i.bin" || fail "f$i differs"
done
[ "$(metric "$RX_METRICS" sluice_rx_disk_full_total)" -eq 2 ] || fail "disk_full counted again"

log "5. above the mark again: the last line about it says so"
rm -f "$OUT/f5.bin" "$OUT/f6.bin"
disk_low_clear() { [ "$(metric "$RX_METRICS" sluice_rx_disk_low)" -eq 0 ]; }
wait_for "disk_low cleared" 12 disk_low_clear
grep "output.files .* output.min_free" "$W/rx.log" | tail -n 1 | grep -q "above output.min_free" ||
	fail "no line saying output.files is above output.min_free again"

log "6. events on a full output.events: counted lost, no line cut short, written again later"
send_events() { # FROM TO: one UDP datagram each, about 400 bytes
	local i pad
	pad=$(printf 'x%.0s' $(seq 1 360))
	for i in $(seq "$1" "$2"); do
		printf '{"n":%d,"pad":"%s"}' "$i" "$pad" >/dev/udp/127.0.0.1/"$U"
	done
}
ev_written() { metric_ge "$RX_METRICS" sluice_rx_events_delivered_total "$1"; }
send_events 1 5
wait_for "events 1-5 written" 10 ev_written 5
dd if=/dev/zero of="$EVD/filler" bs=4096 status=none 2>/dev/null || true
lost0=$(metric "$RX_METRICS" sluice_rx_events_lost_total)
send_events 6 40
wait_for "events lost to the full disk" 10 metric_ge "$RX_METRICS" sluice_rx_disk_full_total 3
metric_ge "$RX_METRICS" sluice_rx_events_lost_total $((lost0 + 1)) || fail "events lost not counted"
grep -q 'events ev: cannot write .* (disk_full)' "$W/rx.log" || fail "no log line for events lost to the full disk"
kill -0 "$RX_PID" || fail "rx died"
rm -f "$EVD/filler"
sleep 1
send_events 41 45
python3 - "$EVD/ev" <<'PY' || fail "the events file is not whole lines ending with 41..45"
import json, os, sys, time
d = sys.argv[1]
for _ in range(100):
    ns = []
    for f in sorted(os.listdir(d)):
        ns += [json.loads(l)["event"]["n"] for l in open(os.path.join(d, f), "rb").read().decode().splitlines()]
    if ns[-5:] == [41, 42, 43, 44, 45]:
        break
    time.sleep(0.1)
assert ns[:5] == [1, 2, 3, 4, 5] and ns[-5:] == [41, 42, 43, 44, 45] and ns == sorted(set(ns)), ns
PY
log "ok"
