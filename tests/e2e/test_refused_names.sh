#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A spool file whose name the receiver would refuse (common/pathrule.h) is refused by the
# sender where it stands, with `after: delete`: kept in the spool, logged once with the rule
# it breaks (the name escaped), counted in sluice_tx_files_refused_total, not sent; logged
# again only once it changes. A good file beside it arrives. `sluice-tx send` refuses such a
# file with a message and exit 2 (1 when other files were sent). No log holds a raw byte
# outside printable ASCII.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
AFTER=delete write_tx_config "$RX_PORT" 25% 1Gbit
S="$W/spool"
mkdir -p "$S" "$W/keep"
make_file "$W/src/good.bin" 300000 good
# One refused file per class; a copy of each is kept to compare with afterwards.
deep=$(printf 'd%d/' $(seq 1 32))deep.bin # 33 components
refused=($'rlo-\u202estp.exe' $'csi\xc2\x9b31m.bin' $'tab\tname.bin' $'nl\nname.bin' $'bad\xffutf8.bin' "$deep")
for i in "${!refused[@]}"; do
	mkdir -p "$(dirname "$S/${refused[$i]}")"
	make_file "$S/${refused[$i]}" $((1000 + i)) "r$i"
	cp "$S/${refused[$i]}" "$W/keep/$i"
done
cp "$W/src/good.bin" "$S/good.bin"
n=${#refused[@]}
# A path the receiver would take (4080 bytes, 16 components) that is too long for the sender
# to open by path under its spool folder (PATH_MAX 4096): reported as refused, not skipped.
python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(15):
    name = chr(ord("a") + i) * 255
    os.mkdir(name, dir_fd=fd)
    nfd = os.open(name, os.O_RDONLY, dir_fd=fd); os.close(fd); fd = nfd
f = os.open("z" * 240, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd); os.write(f, b"long"); os.close(f)
' "$S"
n=$((n + 1))
start_rx
start_tx
wait_for "the good file" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
cmp "$W/src/good.bin" "$W/out/files/cam/good.bin" || fail "good file differs"
wait_for "$n refusals" 10 metric_ge "$TX_METRICS" sluice_tx_files_refused_total "$n"
wait_for "good file removed from the spool" 10 bash -c "[ ! -e '$S/good.bin' ]"
for i in "${!refused[@]}"; do
	cmp -s "$S/${refused[$i]}" "$W/keep/$i" || fail "refused file $i is no longer in the spool"
done
# The log names the rule, with the name escaped.
grep -qF 'refused cam/rlo-\u{202e}stp.exe: path has a bidirectional control U+202E at byte 4; kept in the spool' "$W/tx.log" || fail "no refusal line for the bidi name"
grep -qF 'refused cam/csi\u{9b}31m.bin: path has a control character U+009B at byte 3' "$W/tx.log" || fail "no refusal line for the C1 name"
grep -qF 'refused cam/tab\x09name.bin: path has a control byte 0x09 at 3' "$W/tx.log" || fail "no refusal line for the tab"
grep -qF 'refused cam/nl\x0aname.bin: path has a control byte 0x0a at 2' "$W/tx.log" || fail "no refusal line for the newline"
grep -qF 'refused cam/bad\xffutf8.bin: path is not valid UTF-8 at byte 3' "$W/tx.log" || fail "no refusal line for invalid UTF-8"
# (its folder, 32 deep, is refused: nothing below it is read)
grep -qF "refused cam/${deep%deep.bin}: a folder nested 32 deep, where a path may have at most 32 components" "$W/tx.log" ||
	fail "no refusal line for the deep path"
grep -q 'spool cam: aaaa.*: path longer than 4095 bytes under the spool folder; kept in the spool, not sent' "$W/tx.log" || fail "no refusal line for the long path"

# Picked up again unchanged (closed after an open for writing): not logged or counted again.
: >>"$S/${refused[0]}"
: >>"$S/${refused[2]}"
sleep 1
[ "$(metric "$TX_METRICS" sluice_tx_files_refused_total)" -eq "$n" ] || fail "an unchanged refused file was counted again"
[ "$(grep -c 'refused cam/rlo-' "$W/tx.log")" -eq 1 ] || fail "an unchanged refused file was logged again"
# Changed: judged again, logged and counted once more.
printf x >>"$S/${refused[0]}"
wait_for "the changed file refused again" 10 metric_ge "$TX_METRICS" sluice_tx_files_refused_total $((n + 1))
[ "$(grep -c 'refused cam/rlo-' "$W/tx.log")" -eq 2 ] || fail "a changed refused file was not logged again"
[ -e "$S/${refused[0]}" ] || fail "the changed refused file left the spool"

# Nothing of them reached the receiver; the receiver rejected nothing either (never sent).
[ "$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)" -eq 1 ] || fail "a refused file was delivered"
[ "$(metric "$RX_METRICS" sluice_rx_objects_rejected_total)" -eq 0 ] || fail "the receiver had to reject an object"
[ "$(find "$W/out/files/cam" -type f | wc -l)" -eq 1 ] || fail "more than the good file in the output"

# One-shot send: every path is checked before anything is sent; one refused name refuses the
# whole command (exit 2, nothing sent), alone or beside a good file.
set +e
"$TX" -c "$W/tx.yaml" send --as once "$W/keep/0" "$S/${refused[3]}" >"$W/send1.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || { cat "$W/send1.out" >&2; fail "send of a good and a refused file exited $rc, wanted 2"; }
grep -qF 'sluice-tx: send: refused; nothing was sent' "$W/send1.out" || { cat "$W/send1.out" >&2; fail "send did not say nothing was sent"; }
grep -qF 'sluice-tx: send: nl\x0aname.bin: refused: path has a control byte 0x0a at 2' "$W/send1.out" || { cat "$W/send1.out" >&2; fail "no refusal message from send"; }
sleep 1
[ ! -e "$W/out/files/once/0" ] || fail "send sent the good file beside a refused one"
set +e
"$TX" -c "$W/tx.yaml" send --as once "$S/${refused[0]}" >"$W/send2.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || { cat "$W/send2.out" >&2; fail "send of a refused file alone exited $rc, wanted 2"; }
grep -qF 'refused: path has a bidirectional control U+202E at byte 4' "$W/send2.out" || fail "no refusal message for the bidi name"

# Every log is printable ASCII: no name reached a terminal raw.
for f in "$W/tx.log" "$W/rx.log" "$W/send1.out" "$W/send2.out" "$W/audit.jsonl"; do
	if LC_ALL=C grep -n '[^ -~]' "$f" >"$W/raw.txt"; then
		cat -A "$W/raw.txt" >&2
		fail "$(basename "$f") holds a byte outside printable ASCII"
	fi
done
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
log "ok: $n names refused and kept, the good file delivered"
