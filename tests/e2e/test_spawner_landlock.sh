#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# sluice-rx's spawner under its Landlock ruleset (README, "The receiver is four processes"):
#  1. the test trigger spawner-read-key: the spawner, once confined, opens keys.secret and is
#     refused (EACCES), as is anything outside output.files, output.events and state;
#  2. its children, whose rulesets stack on the spawner's: the deliver process still writes a
#     file and its audit line, the link process starts;
#  3. a deliver process killed and started again (forked under the same ruleset, the audit log
#     handed to it by the monitor) delivers the next file and audits it;
#  4. an audit log the monitor cannot open (a symbolic link): logged, counted as a deliver
#     restart, no deliver process runs without it, and one starts once it opens.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 300Mbit
mkdir -p "$W/src"
make_file "$W/src/one.bin" 2000000 one
make_file "$W/src/two.bin" 1000000 two

child() { pgrep -P "$1" -x "$2" | head -n 1; } # PARENT COMM
spawner() { child "$RX_PID" sluice-rx-spawn; }
deliver_pid() { local s; s=$(spawner) && [ -n "$s" ] && child "$s" sluice-rx-deliv; }
have_link() { [ -n "$(rx_link_pid)" ]; }
arrived() { cmp -s "$W/src/$1" "$W/out/files/cam/$1"; }
audited() { grep -q "\"outcome\":\"delivered\".*$1" "$W/audit.jsonl"; }

SLUICE_TEST_TRIGGER=spawner-read-key start_rx
start_tx
wait_for "the link process" 10 have_link

log "1: the spawner opens keys.secret"
wait_for "the spawner-read-key trigger" 10 grep -q "test trigger spawner-read-key" "$W/rx.log"
line=$(grep "test trigger spawner-read-key" "$W/rx.log" | tail -n 1)
log "   ${line#*test trigger }"
if grep -q "Landlock ABI 0)" "$W/rx.log"; then
	log "1: skipped (no Landlock in this kernel: the spawner's file access is not narrowed)"
else
	[[ "$line" == *"spawner opening $W/keys/rx.key: Permission denied"* ]] ||
		fail "the spawner's open of the key file was not refused: $line"
	grep -q "sluice-rx spawner info: Landlock ABI [1-9][0-9]*, files beneath output.files, output.events and state only" "$W/rx.log" ||
		fail "no log line for the spawner's ruleset"
	log "1 ok"
fi

log "2: the deliver process writes under the stacked rulesets"
cp "$W/src/one.bin" "$W/spool/"
wait_for "one.bin delivered intact" 30 arrived one.bin
wait_for "one.bin audited" 10 audited one.bin
log "2 ok"

log "3: a deliver process started again under the spawner's ruleset"
DELIVER=$(deliver_pid)
[ -n "$DELIVER" ] || fail "no deliver process under the spawner"
kill -KILL "$DELIVER"
new_deliver() { local p; p=$(deliver_pid); [ -n "$p" ] && [ "$p" != "$DELIVER" ]; }
wait_for "a new deliver process" 15 new_deliver
wait_for "a new link process" 15 have_link
cp "$W/src/two.bin" "$W/spool/"
wait_for "two.bin delivered intact" 60 arrived two.bin
wait_for "two.bin audited" 10 audited two.bin
! grep -q "deliver process: audit log" "$W/rx.log" || fail "the deliver process could not open the audit log"
log "3 ok"
stop_clean "$RX_PID" sluice-rx

log "4: an audit log the monitor cannot open: no deliver process until it can"
mv "$W/audit.jsonl" "$W/audit.old"
ln -s "$W/audit.old" "$W/audit.jsonl" # O_NOFOLLOW: refused
: >"$W/rx.log"
start_rx
refused() { grep -q "audit log $W/audit.jsonl: Too many levels of symbolic links; the deliver process cannot start without it: trying again in [0-9]* ms" "$W/rx.log"; }
wait_for "the refusal logged" 10 refused
wait_for "counted as a deliver restart" 10 metric_ge "$RX_METRICS" sluice_rx_deliver_restarts_total 1
[ -z "$(deliver_pid)" ] || fail "a deliver process runs without its audit log"
rm "$W/audit.jsonl"
wait_for "a deliver process once the audit log opens" 15 deliver_pid
wait_for "a start line in the new audit log" 10 grep -q "\"outcome\":\"start\"" "$W/audit.jsonl"
stop_clean "$RX_PID" sluice-rx
log "4 ok"
log "ok"
