#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# The deliver process killed with SIGKILL while it holds files written aside, unfinished
# (README, Security model: "When the deliver process dies ..."):
#  - every file of the batch in flight is delivered intact, or named by exactly one `lost`
#    audit line (by path, or by session and object id as tx's journal has them), never both;
#  - sluice_rx_objects_lost_total equals the ids those lines name;
#  - no temp file is left in FILES/.sluice-tmp and nothing partial under a final name;
#  - files sent after the restart arrive intact.
# Twice: with fec.repeat 1 (at least one file is lost), and with fec.repeat 2, where the second
# copy completes the files the dead process held (at least one of them is delivered).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
N=10
mkdir -p "$W/d" "$W/e"
for i in $(seq 1 $N); do make_file "$W/d/d$i.bin" 1000000 "d$i"; done
for i in 1 2; do make_file "$W/e/e$i.bin" 700000 "e$i"; done

spawner() { pgrep -P "$RX_PID" -x sluice-rx-spawn | head -n 1; }
deliver_pid() { local s; s=$(spawner) && [ -n "$s" ] && pgrep -P "$s" -x sluice-rx-deliv | head -n 1; }
run_case() {
REPEAT=$1
log "fec.repeat $REPEAT"
rm -rf "$W/out" "$W/audit.jsonl" "$W/rx-state" "$W/tx-state" "$W/spool" "$W/rx.log" "$W/tx.log"
write_tx_config "$RX_PORT" 25% 30Mbit # about 3 MB/s; with 6-block files and 16 blocks interleaved, several are in flight at once
start_rx
start_tx
have_link() { [ -n "$(rx_link_pid)" ]; }
wait_for "the link process" 10 have_link
DELIVER=$(deliver_pid)
[ -n "$DELIVER" ] || fail "no deliver process"

cp -a "$W/d/." "$W/spool/"
wait_for "a first file delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
# Mid-object: the next file is being written aside by now (checked below, from the temp folder).
held() { [ -n "$(ls -A "$W/out/files/.sluice-tmp" 2>/dev/null)" ]; }
wait_for "a file written aside" 10 held
ls -l "$W/out/files/.sluice-tmp" >"$W/tmp-at-kill.txt"
kill -9 "$DELIVER"
log "killed the deliver process $DELIVER holding: $(awk 'NR > 1 { printf "%s ", $NF }' "$W/tmp-at-kill.txt")"
new_deliver() { local p; p=$(deliver_pid); [ -n "$p" ] && [ "$p" != "$DELIVER" ]; }
wait_for "a new deliver process" 10 new_deliver
grep -q "the deliver process was killed by signal 9" "$W/rx.log" || fail "the death is not logged"
[ "$(metric "$RX_METRICS" sluice_rx_deliver_restarts_total)" = 1 ] ||
	fail "deliver restarts: $(metric "$RX_METRICS" sluice_rx_deliver_restarts_total)"
wait_for "tx done with batch d" 60 bash -c "[ \$(grep -c ' cam/d' '$W/tx-state/journal') -ge $N ]"

# Each file of batch d delivered intact or named by exactly one lost line, on its own; up to
# 30 s: the link process gives an unfinished id up 2 s after the sender is done with it.
batch_accounted "$N" 1
read -r _ got lostn <"$W/check.txt"
log "batch d: $got delivered intact, $lostn audited lost one by one and counted"
held_ids=$(awk 'NR > 1 { split($NF, a, "-"); print a[2] }' "$W/tmp-at-kill.txt")
if [ "$REPEAT" = 1 ]; then
	[ "$lostn" -ge 1 ] || fail "no file was lost: the kill did not land mid-object (the test needs it to)"
	grep '"outcome":"lost"' "$W/audit.jsonl" | jq -c "{path, object, reason}" >&2
	grep -q 'lost.*deliver_restart' "$W/audit.jsonl" || fail "no lost line gives the reason deliver_restart"
else
	completed=0
	for id in $held_ids; do
		jq -e -s --argjson id "$id" 'any(.[]; .outcome == "delivered" and .object == $id)' "$W/audit.jsonl" >/dev/null &&
			completed=$((completed + 1))
	done
	[ "$completed" -ge 1 ] || fail "no file the dead process held was completed by the second copy"
	log "   $completed of the held objects ($(echo $held_ids)) completed by the second copy"
fi

cp -a "$W/e/." "$W/spool/"
delivered_e() { local i; for i in 1 2; do cmp -s "$W/e/e$i.bin" "$W/out/files/cam/e$i.bin" || return 1; done; }
wait_for "batch e delivered intact after the restart" 60 delivered_e
left=$(find "$W/out/files/.sluice-tmp" -mindepth 1 | wc -l)
[ "$left" = 0 ] || fail "temp files left: $(ls -A "$W/out/files/.sluice-tmp")"
extra=$(cd "$W/out/files/cam" && ls | grep -v -E '^(d[0-9]+|e[12])\.bin$' || true)
[ -z "$extra" ] || fail "unexpected files under final names: $extra"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
}
run_case 1
run_case 2
log "ok"
