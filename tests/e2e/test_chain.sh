#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Chain of custody per spool (common/chain.h): each manifest names the one before it.
#  1. a1, then tx restarted, a2, then rx restarted, a3: one unbroken chain 1..3 across both
#     restarts (the tx chain head is in STATE/chain), no chain_break line, the counter at 0,
#     verify-audit exits 0 and reports the chain;
#  2. rx stopped while tx sends a4 (the whole object, manifest too, is lost), rx back, a5: the
#     audit has a chain_break "missing" line naming spool cam, seq 4 and a4's session and
#     object id (as a5's manifest names it), sluice_rx_chain_breaks_total is 1, and
#     verify-audit exits 1 naming the spool, the seq and the ids;
#  3. 150 small files through the impairment proxy (5% loss, reorder, duplicates; 90% FEC
#     overhead and each object sent twice, so that no file of one to five packets is lost
#     outright): repeats are no break, manifests
#     complete out of order, nothing is lost: no chain_break line, the counter at 0, and
#     verify-audit finds the chain whole;
#  4. tx's STATE/chain lost, a file sent: seq 1 again, a "reset" chain_break online, and
#     verify-audit names the reset, also once rx's chain_break line is removed from the log;
#  5. tx's STATE/chain restored from a copy older than its last file: seq 2 given twice, a
#     "fork" chain_break online, and verify-audit names the fork, with or without that line.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
AFTER=keep write_tx_config
mkdir -p "$W/src"
for i in 1 2 3 4 5; do make_file "$W/src/a$i.bin" $((20000 + i * 1000)) "a$i"; done
delivered() { cmp -s "$W/src/$1" "$W/out/files/cam/$1"; }
sent() { grep -q "sent cam/$1" "$W/tx.log"; }
VA() { "$RX" verify-audit "$W/audit.jsonl" --sender "$W/keys/tx.pub" >"$W/va.out" 2>"$W/va.err"; }
# journal_ids NAME: SESS and OBJ, the session and object id tx's journal has for cam/NAME.
journal_ids() {
	read -r SESS OBJ < <(sed -n "s/.* sess=\([0-9a-f]*\) obj=\([0-9]*\) cam\/$1\$/\1 \2/p" "$W/tx-state/journal" | tail -n 1)
	[ -n "$SESS" ] || fail "$1 not in tx's journal"
}
# missing_break SEQ NEXT: the file at chain seq SEQ (SESS/OBJ) never arrived: the audit has one
# chain_break "missing" line naming spool cam, SEQ and those ids (a gap is a break once it has
# stayed open 5 s, rx/deliver/chain.c), NEXT's line says it follows a gap, the break is counted
# once, and verify-audit exits 1 naming the spool, the seq and the ids.
missing_break() {
	local seq=$1 next=$2 line rc=0
	wait_for "a chain_break line" 15 grep -q '"outcome":"chain_break"' "$W/audit.jsonl"
	line=$(grep '"outcome":"chain_break"' "$W/audit.jsonl")
	echo "$line" | grep -q "^{\"time\":\"[^\"]*\",\"outcome\":\"chain_break\",\"spool\":\"cam\",\"session\":\"$SESS\",\"object\":$OBJ,\"sender\":\"[0-9a-f]\{16\}\",\"reason\":\"missing\",\"chain_seq\":$seq,\"seq\":[0-9]*,\"prev\":\"[0-9a-f]\{64\}\"}$" ||
		fail "the chain_break line does not name cam, seq $seq, $SESS/$OBJ: $line"
	grep -q "\"path\":\"$next\".*\"chain_seq\":$((seq + 1)),\"chain\":\"gap\"" "$W/audit.jsonl" ||
		fail "$next's line does not say it follows a gap"
	[ "$(metric "$RX_METRICS" sluice_rx_chain_breaks_total)" -eq 1 ] || fail "chain breaks not counted once"
	VA || rc=$?
	[ "$rc" -eq 1 ] || { cat "$W/va.err" >&2; fail "verify-audit exited $rc on a broken chain, want 1"; }
	grep -q "spool cam: chain break: seq $seq is missing (seq $seq was object $SESS/$OBJ, as seq $((seq + 1)), object $SESS/[0-9]*, names it)" "$W/va.err" ||
		fail "verify-audit does not name the break: $(cat "$W/va.err")"
	log "   $(cat "$W/va.err")"
}
# named_break FILE WHAT PATTERN: verify-audit --sender exits 1 on FILE, naming the break.
named_break() {
	local rc=0
	"$RX" verify-audit "$1" --sender "$W/keys/tx.pub" >"$W/va.out" 2>"$W/va.err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$W/va.err" "$W/va.out" >&2; fail "$1: verify-audit exited $rc on $2, want 1"; }
	grep -q "$3" "$W/va.err" || fail "verify-audit does not name $2: $(cat "$W/va.err")"
	log "   $(cat "$W/va.err")"
}
# offline_break WHAT PATTERN: named in the audit log, and still once rx's chain_break lines are
# removed, the seqs renumbered and the line chain recomputed.
offline_break() {
	named_break "$W/audit.jsonl" "$1" "$2"
	grep -v '"outcome":"chain_break"' "$W/audit.jsonl" | audit_rechain "$W/nobreak.jsonl"
	"$RX" verify-audit "$W/nobreak.jsonl" >/dev/null 2>&1 || fail "the rewritten log's own chain does not verify"
	named_break "$W/nobreak.jsonl" "$1" "$2"
}

log "1. tx and rx restarts between files: one chain"
start_rx
start_tx
stage_into_spool "$W/src/a1.bin" a1.bin
wait_for "a1 delivered" 30 delivered a1.bin
stop_clean "$TX_PID" sluice-tx
grep -q '^cam 1 [0-9a-f]\{16\} [0-9]* [0-9a-f]\{64\}$' "$W/tx-state/chain" ||
	fail "tx STATE/chain does not hold cam's head at seq 1: $(cat "$W/tx-state/chain")"
start_tx
stage_into_spool "$W/src/a2.bin" a2.bin
wait_for "a2 delivered" 30 delivered a2.bin
stop_clean "$RX_PID" sluice-rx
start_rx
wait_for "rx rejoined the session" 10 metric_ge "$RX_METRICS" sluice_rx_link_up 1
stage_into_spool "$W/src/a3.bin" a3.bin
wait_for "a3 delivered" 30 delivered a3.bin
wait_for "a3 audited" 5 grep -q '"path":"a3.bin"' "$W/audit.jsonl"
for i in 1 2 3; do
	grep -q "\"outcome\":\"delivered\",\"spool\":\"cam\",\"path\":\"a$i.bin\".*\"chain_seq\":$i," "$W/audit.jsonl" ||
		fail "a$i's delivered line lacks chain_seq $i"
done
grep -q '"path":"a1.bin".*"chain":"first"' "$W/audit.jsonl" || fail "a1 is not marked first of its chain"
# a2 after the tx restart and a3 after the rx restart are simply next: no "chain" note
for i in 2 3; do
	grep -q "\"path\":\"a$i.bin\".*\"chain_seq\":$i,\"seq\"" "$W/audit.jsonl" ||
		fail "a$i is not next in its chain: $(grep "a$i.bin" "$W/audit.jsonl")"
done
! grep -q chain_break "$W/audit.jsonl" || fail "a chain_break after restarts: $(grep chain_break "$W/audit.jsonl")"
[ "$(metric "$RX_METRICS" sluice_rx_chain_breaks_total)" -eq 0 ] || fail "chain breaks counted"
VA || { cat "$W/va.err" >&2; fail "verify-audit failed on an unbroken chain"; }
grep -q '^chains: 1 spool chain(s) of 3 manifest(s), no seq missing' "$W/va.out" ||
	fail "verify-audit did not report the chain: $(cat "$W/va.out")"
log "   $(grep '^chains' "$W/va.out")"

log "2. an object sent while rx is down: a break naming spool and ids"
stop_clean "$RX_PID" sluice-rx
stage_into_spool "$W/src/a4.bin" a4.bin
wait_for "a4 sent" 30 sent a4.bin
# "sent" is logged as the last packet is handed to the pacer; under load its manifest could
# still reach an rx started at once (seen in CI: a4 then audited lost with its chain place,
# no gap). The part is about a whole object missed.
sleep 1
start_rx
wait_for "rx rejoined the session" 10 metric_ge "$RX_METRICS" sluice_rx_link_up 1
stage_into_spool "$W/src/a5.bin" a5.bin
wait_for "a5 delivered" 30 delivered a5.bin
[ ! -e "$W/out/files/cam/a4.bin" ] || fail "a4 arrived: nothing was lost"
journal_ids a4.bin
missing_break 4 a5.bin
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx

log "3. loss and reordering on the link, nothing lost: no break in the log"
rm -rf "$W/out" "$W/spool" "$W/rx-state" "$W/tx-state" "$W/audit.jsonl" "$W/src"
write_rx_config
# fec.repeat 2: a one-packet object (a manifest, a small file) with its one repair packet is
# lost outright with p = 0.05^2 per copy; over 300 objects that happened in one run of three.
AFTER=keep REPEAT=2 write_tx_config "$PROXY_PORT" 90% 200Mbit
start_proxy "drop=0.05,reorder=0.05,dup=0.02,seed=${SEED:-21}"
start_rx
start_tx
for i in $(seq 1 150); do make_file "$W/src/f$i.bin" $((500 + i * 37)) "f$i"; done
cp -a "$W/src/." "$W/spool/"
wait_for "150 files delivered" 120 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 150
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] || fail "objects lost"
VA || { cat "$W/va.err" >&2; fail "verify-audit found a break where nothing was lost"; }
grep -q '^chains: 1 spool chain(s) of 150 manifest(s)' "$W/va.out" || fail "$(cat "$W/va.out")"
# Online, a manifest completing before the one ahead of it leaves a gap for a moment: not a
# break unless it stays open.
sleep 6 # past the hold, so that a gap still open would be audited
! grep -q '"outcome":"chain_break"' "$W/audit.jsonl" ||
	fail "a break where nothing was lost: $(grep chain_break "$W/audit.jsonl")"
[ "$(metric "$RX_METRICS" sluice_rx_chain_breaks_total)" -eq 0 ] || fail "chain breaks counted"
late=$(grep -c '"chain":"late"' "$W/audit.jsonl" || true)
log "   $(tail -n 1 "$W/va.out"); $late manifest(s) arrived after a later one"

log "4. the sender begins anew (its STATE/chain lost): a reset, a break offline too"
stop_clean "$TX_PID" sluice-tx
rm "$W/tx-state/chain"
start_tx
make_file "$W/src/r1.bin" 3000 r1
stage_into_spool "$W/src/r1.bin" r1.bin
wait_for "r1 delivered" 30 delivered r1.bin
wait_for "r1 audited" 5 grep -q '"path":"r1.bin"' "$W/audit.jsonl"
wait_for "a reset chain_break line" 5 grep -q '"outcome":"chain_break".*"reason":"reset"' "$W/audit.jsonl"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
offline_break "a reset" "spool cam: chain break: seq 1 again (object [0-9a-f]\{16\}/[0-9]*) after seq 150: the sender began its chain anew"

log "5. the sender's STATE/chain restored from an old copy: seq 2 sent twice, a fork"
rm -rf "$W/out" "$W/spool" "$W/rx-state" "$W/tx-state" "$W/audit.jsonl"
write_rx_config
AFTER=keep write_tx_config
start_rx
start_tx
for i in 1 2 3; do make_file "$W/src/k$i.bin" $((4000 + i)) "k$i"; done
stage_into_spool "$W/src/k1.bin" k1.bin
wait_for "k1 delivered" 30 delivered k1.bin
stop_clean "$TX_PID" sluice-tx
cp "$W/tx-state/chain" "$W/chain.old"
start_tx
stage_into_spool "$W/src/k2.bin" k2.bin
wait_for "k2 delivered" 30 delivered k2.bin
stop_clean "$TX_PID" sluice-tx
cp "$W/chain.old" "$W/tx-state/chain"
start_tx
stage_into_spool "$W/src/k3.bin" k3.bin
wait_for "k3 delivered" 30 delivered k3.bin
wait_for "k3 audited" 5 grep -q '"path":"k3.bin"' "$W/audit.jsonl"
wait_for "a fork chain_break line" 5 grep -q '"outcome":"chain_break".*"reason":"fork"' "$W/audit.jsonl"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
offline_break "a fork" "spool cam: chain break: seq 2 held by two manifests (object [0-9a-f]\{16\}/[0-9]*, and here object [0-9a-f]\{16\}/[0-9]*): a fork"

log "6. a file lost on the link while rx runs: audited lost, a break naming spool and ids"
rm -rf "$W/out" "$W/spool" "$W/rx-state" "$W/tx-state" "$W/audit.jsonl" "$W/src"
kill -TERM "$PROXY_PID" # part 3's, still on the port
wait "$PROXY_PID" 2>/dev/null || true
write_rx_config
AFTER=keep write_tx_config "$PROXY_PORT"
start_proxy "drop=0,seed=6"
start_rx
start_tx
for i in 1 2 3; do make_file "$W/src/l$i.bin" $((6000 + i)) "l$i"; done
stage_into_spool "$W/src/l1.bin" l1.bin
wait_for "l1 delivered" 30 delivered l1.bin
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
stage_into_spool "$W/src/l2.bin" l2.bin
wait_for "l2 sent" 30 sent l2.bin
sleep 0.5 # its last packets have left into the void
start_proxy "drop=0,seed=7"
stage_into_spool "$W/src/l3.bin" l3.bin
wait_for "l3 delivered" 30 delivered l3.bin
[ ! -e "$W/out/files/cam/l2.bin" ] || fail "l2 arrived: nothing was lost"
journal_ids l2.bin
# the link role gives l2 up once the sender's announcements have said for 2 s that it has left
wait_for "l2 audited lost" 10 grep -q '"outcome":"lost"' "$W/audit.jsonl"
line=$(grep '"outcome":"lost"' "$W/audit.jsonl")
echo "$line" | grep -q "^{\"time\":\"[^\"]*\",\"outcome\":\"lost\",.*\"session\":\"$SESS\",\"object\":$OBJ,\"sender\":\"[0-9a-f]\{16\}\",\"reason\":\"link: no packet of it arrived\"," ||
	fail "the lost line does not name l2 as $SESS/$OBJ given up by the link: $line"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 1 ] || fail "l2 not counted lost"
missing_break 2 l3.bin
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
log "PASS"
