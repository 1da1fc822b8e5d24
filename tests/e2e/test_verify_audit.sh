#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# The audit log is hash-chained line to line and `sluice-rx verify-audit` re-checks it offline:
#  1. files delivered, rx restarted (a "start" line, not a break), the log rotated on SIGHUP
#     (the chain goes on in the new file): verify-audit passes on the files in order, with
#     --sender and --files; --sender with two key files after it, given twice, and with the
#     logs after "--" all agree; a key file that does not parse, or a log after --files DIR,
#     is named, status 2;
#  2. copies with a line removed, altered, two swapped, one inserted (with a correct prev) each
#     fail with status 1 naming the line; so do the files in the wrong order and a foreign key;
#  3. a delivered line altered and the chain recomputed after it (what anyone who can write the
#     log can do) passes the chain check but fails --sender: the signed manifest disagrees; and
#     fails --head with a copy of the head (so does a removed last line);
#  4. per spool, each chain place's state is counted: a delivered line relabeled a duplicate
#     (of itself) is refused, one relabeled lost is counted and named as lost; the spool's
#     first line removed from a whole log is a missing seq 1; a log given from its middle,
#     or a spool rx saw first at seq N, say where the chain begins; a duplicate whose
#     delivered line is in an earlier file is backed only by --files re-hashing its copy;
#  5. --files names a delivered file altered and one removed;
#  6. --files follows no symbolic link inside DIR (a folder linked to an intact copy outside).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
AFTER=keep write_tx_config
mkdir -p "$W/src"
make_file "$W/src/a1.bin" 300000 a1
make_file "$W/src/a2.bin" 1000 a2
make_file "$W/src/d/a3.bin" 2500000 a3
make_file "$W/src/b1.bin" 700000 b1
make_file "$W/src/c1.bin" 5000 c1
delivered() { cmp -s "$W/src/$1" "$W/out/files/cam/$1"; }
VA() { "$RX" verify-audit "$@" >"$W/va.out" 2>"$W/va.err"; }
# expect_break WHAT PATTERN ARGS...: status 1 and stderr matching PATTERN
expect_break() {
	local what=$1 pat=$2 rc=0
	shift 2
	VA "$@" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$W/va.err" >&2; fail "$what: verify-audit exited $rc, want 1"; }
	grep -Eq "$pat" "$W/va.err" || { cat "$W/va.err" >&2; fail "$what: no '$pat' in its message"; }
	log "   $what: $(head -n 1 "$W/va.err")"
}

log "1. deliveries, an rx restart, a rotation"
start_rx
start_tx
for f in a1.bin a2.bin d/a3.bin; do stage_into_spool "$W/src/$f" "$f"; done
for f in a1.bin a2.bin d/a3.bin; do wait_for "$f delivered" 30 delivered "$f"; done
stop_clean "$RX_PID" sluice-rx
start_rx
wait_for "rx rejoined the session" 10 metric_ge "$RX_METRICS" sluice_rx_link_up 1
stage_into_spool "$W/src/b1.bin" b1.bin
wait_for "b1 delivered" 30 delivered b1.bin
# other content under a delivered name (stored as a2.1.bin, "renamed"), and b1 again ("duplicate")
make_file "$W/src2/a2.bin" 2000 a2-other
stage_into_spool "$W/src2/a2.bin" a2.bin
wait_for "a2.bin's other content stored as a2.1.bin" 30 cmp -s "$W/src2/a2.bin" "$W/out/files/cam/a2.1.bin"
stage_into_spool "$W/src/b1.bin" b1.bin
wait_for "b1 audited as a duplicate" 30 grep -q '"outcome":"duplicate","spool":"cam","path":"b1.bin"' "$W/audit.jsonl"
mv "$W/audit.jsonl" "$W/audit.jsonl.1"
kill -HUP "$RX_PID"
wait_for "the audit log reopened" 5 grep -q 'audit log reopened' "$W/rx.log"
stage_into_spool "$W/src/c1.bin" c1.bin
wait_for "c1 delivered" 30 delivered c1.bin
wait_for "c1 audited" 5 grep -q '"path":"c1.bin"' "$W/audit.jsonl"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx

L1="$W/audit.jsonl.1" L2="$W/audit.jsonl"
[ "$(grep -c '"outcome":"start"' "$L1")" -eq 2 ] || fail "want two start lines in $L1"
head -n 1 "$L1" | grep -q '"outcome":"start".*"seq":1,"prev":"0\{64\}"}$' ||
	fail "the first line is not a start line with seq 1 and prev zero: $(head -n 1 "$L1")"
grep -q '"outcome":"delivered".*"content_hash":"[0-9a-f]\{64\}","symbol_size":[0-9]*,"block_max":[0-9]*,"manifest":"[A-Za-z0-9+/=]*","chain_seq":[0-9]*,\("chain":"[a-z]*",\)\?"seq"' "$L1" ||
	fail "a delivered line lacks symbol_size, block_max or manifest"
# The first line of the new file chains to the last of the old one.
want=$(tail -n 1 "$L1" | tr -d '\n' | sha256sum | cut -c1-64)
head -n 1 "$L2" | grep -q "\"prev\":\"$want\"}$" || fail "the new file does not chain to the old one"
[ "$(cut -d' ' -f1 "$W/rx-state/audit-head")" -eq "$(($(wc -l <"$L1") + $(wc -l <"$L2")))" ] ||
	fail "STATE/audit-head does not hold the last seq: $(cat "$W/rx-state/audit-head")"
VA "$L1" "$L2" --sender "$W/keys/tx.pub" --files "$W/out/files" ||
	{ cat "$W/va.err" >&2; fail "verify-audit failed on an intact log"; }
grep -q "chain intact: $(($(wc -l <"$L1") + $(wc -l <"$L2"))) lines" "$W/va.out" || fail "summary: $(cat "$W/va.out")"
grep -q "files: 6 re-hashed and unchanged, 0 missing or changed" "$W/va.out" || fail "summary: $(cat "$W/va.out")"
grep -q "signatures: 7 signed manifests verified" "$W/va.out" || fail "summary: $(cat "$W/va.out")"
log "   $(head -n 1 "$W/va.out")"
# --sender takes one or more key files, up to the next option; repeating --sender is the same.
# Audit log FILEs come before the first option or after "--".
mkdir -p "$W/spare"
"$TX" keygen "$W/spare" >/dev/null
VA "$L1" "$L2" --sender "$W/keys/tx.pub" "$W/spare/tx.pub" --files "$W/out/files" ||
	{ cat "$W/va.err" >&2; fail "--sender with two key files after it"; }
cp "$W/va.out" "$W/va.one-flag"
VA "$L1" "$L2" --sender "$W/keys/tx.pub" --sender "$W/spare/tx.pub" --files "$W/out/files" ||
	{ cat "$W/va.err" >&2; fail "--sender given twice"; }
cmp -s "$W/va.out" "$W/va.one-flag" || fail "the two --sender forms differ: $(cat "$W/va.one-flag" "$W/va.out")"
grep -q "signatures: 7 signed manifests verified" "$W/va.out" || fail "summary: $(cat "$W/va.out")"
VA --sender "$W/spare/tx.pub" "$W/keys/tx.pub" --files "$W/out/files" -- "$L1" "$L2" ||
	{ cat "$W/va.err" >&2; fail "audit logs after --"; }
cmp -s "$W/va.out" "$W/va.one-flag" || fail "logs after -- differ: $(cat "$W/va.out")"
# expect_usage WHAT PATTERN ARGS...: status 2 and stderr matching PATTERN
expect_usage() {
	local what=$1 pat=$2 rc=0
	shift 2
	VA "$@" || rc=$?
	[ "$rc" -eq 2 ] || { cat "$W/va.err" "$W/va.out" >&2; fail "$what: verify-audit exited $rc, want 2"; }
	grep -Eq -e "$pat" "$W/va.err" || { cat "$W/va.err" >&2; fail "$what: no '$pat' in its message"; }
	log "   $what: $(head -n 1 "$W/va.err")"
}
printf 'sluice-tx-pub:not-a-key\n' >"$W/bad.pub"
expect_usage "a key file that does not parse, second after --sender" "--sender: $W/bad.pub: not a key of this kind" \
	"$L1" "$L2" --sender "$W/keys/tx.pub" "$W/bad.pub"
expect_usage "a missing key file" "--sender: $W/none.pub: No such file" "$L1" --sender "$W/none.pub" --files "$W/out/files"
expect_usage "--sender with no key file" "--sender needs at least one key file" "$L1" --sender --files "$W/out/files"
expect_usage "an audit log after --files DIR" "$L2: an argument after --files $W/out/files" \
	"$L1" --files "$W/out/files" "$L2"
# The head as kept where the receiver cannot write: here the daemon's own log line.
grep -o 'audit log reopened: chain head [0-9]* [0-9a-f]*' "$W/rx.log" | tail -n 1 | cut -d' ' -f6- >"$W/head.rotated"
[ -s "$W/head.rotated" ] || fail "no 'chain head' line in rx.log at the reopen"
cp "$W/rx-state/audit-head" "$W/head.last"
VA "$L1" "$L2" --head "$W/head.last" || fail "--head of the last line: $(cat "$W/va.err")"
VA "$L1" "$L2" --head "$W/head.rotated" || fail "--head at the rotation: $(cat "$W/va.err")"
grep -q "head: seq $(wc -l <"$L1") is the line the head copy names" "$W/va.out" || fail "summary: $(cat "$W/va.out")"
VA "$L2" || fail "the rotated-to file alone does not verify"
grep -q "the chain begins at seq $(($(wc -l <"$L1") + 1))" "$W/va.out" || fail "no note of where it begins"
log "1 ok"

log "2. tampered copies"
cat "$L1" "$L2" >"$W/all.jsonl"
n=$(wc -l <"$W/all.jsonl")
[ "$n" -ge 6 ] || fail "only $n lines"
sed '4d' "$W/all.jsonl" >"$W/removed.jsonl"
expect_break "removed line 4" "removed.jsonl:4: seq 5 where 4 was expected" "$W/removed.jsonl"
sed '4s/"outcome":"[a-z]*"/"outcome":"lost"/' "$W/all.jsonl" >"$W/altered.jsonl"
! cmp -s "$W/all.jsonl" "$W/altered.jsonl" || fail "the alteration changed nothing"
expect_break "altered line 4" "altered.jsonl:5: prev does not match" "$W/altered.jsonl"
{ sed -n 1,3p "$W/all.jsonl"; sed -n 5p "$W/all.jsonl"; sed -n 4p "$W/all.jsonl"; sed -n '6,$p' "$W/all.jsonl"; } >"$W/swapped.jsonl"
expect_break "lines 4 and 5 swapped" "swapped.jsonl:4: seq 5 where 4 was expected" "$W/swapped.jsonl"
# A forged line with the right seq and prev after line 4: the line after it breaks.
l4=$(sed -n 4p "$W/all.jsonl")
h4=$(printf '%s' "$l4" | sha256sum | cut -c1-64)
forged="{\"time\":\"2026-01-01T00:00:00.000000Z\",\"outcome\":\"delivered\",\"spool\":\"cam\",\"path\":\"x.bin\",\"seq\":5,\"prev\":\"$h4\"}"
sed "4a\\$forged" "$W/all.jsonl" >"$W/inserted.jsonl"
expect_break "a line inserted after line 4" "inserted.jsonl:6: seq 5 after seq 5" "$W/inserted.jsonl"
expect_break "files in the wrong order" "audit.jsonl.1:1: seq 1 after seq" "$L2" "$L1"
sed '$s/.$//' "$W/all.jsonl" | head -c -1 >"$W/cut.jsonl"
expect_break "last line cut" "cut.jsonl:$n: the last line has no end" "$W/cut.jsonl"
mkdir -p "$W/other"
"$TX" keygen "$W/other" >/dev/null
expect_break "a foreign sender key" "all.jsonl:[0-9]+: sender [0-9a-f]{16} is not one of the keys" \
	"$W/all.jsonl" --sender "$W/other/tx.pub"
log "2 ok"

log "3. a delivered line altered, the chain recomputed after it"
# rechain: every prev after the first line set to the hash of the line before, as a forger would.
rechain() {
	local prev="" line
	while IFS= read -r line; do
		[ -n "$prev" ] && line=$(printf '%s' "$line" | sed "s/\"prev\":\"[0-9a-f]\{64\}\"}\$/\"prev\":\"$prev\"}/")
		printf '%s\n' "$line"
		prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
	done
}
k=$(grep -n '"outcome":"delivered"' "$W/all.jsonl" | head -n 1 | cut -d: -f1)
sed "${k}s/\"size\":[0-9]*/\"size\":1/" "$W/all.jsonl" | rechain >"$W/forged.jsonl"
! cmp -s "$W/all.jsonl" "$W/forged.jsonl" || fail "the forgery changed nothing"
VA "$W/forged.jsonl" || fail "a recomputed chain does not verify: $(cat "$W/va.err")"
expect_break "a forged size under a recomputed chain" "forged.jsonl:$k: \"size\" is not what the signed manifest says" \
	"$W/forged.jsonl" --sender "$W/keys/tx.pub"
expect_break "the same forgery against a head copy" "forged.jsonl:$n: seq $n is not the line the --head copy names" \
	"$W/forged.jsonl" --head "$W/head.last"
# A delivered line credited to another trusted sender (chain recomputed): its manifest says whose.
mkdir -p "$W/other2"
"$TX" keygen "$W/other2" >/dev/null
fp2=$(cut -d: -f2 "$W/other2/tx.pub" | tr -- '-_' '+/' | sed 's/$/=/' | base64 -d | sha256sum | cut -c1-16)
sed "${k}s/\"sender\":\"[0-9a-f]*\"/\"sender\":\"$fp2\"/" "$W/all.jsonl" | rechain >"$W/credited.jsonl"
! cmp -s "$W/all.jsonl" "$W/credited.jsonl" || fail "the forgery changed nothing"
expect_break "a line credited to another sender" "credited.jsonl:$k: the manifest is signed by [0-9a-f]{16}, the line names sender $fp2" \
	"$W/credited.jsonl" --sender "$W/keys/tx.pub" --sender "$W/other2/tx.pub"
head -n -1 "$W/all.jsonl" >"$W/short.jsonl"
expect_break "the last line removed, against a head copy" "the log ends at seq $((n - 1)), the head copy names seq $n" \
	"$W/short.jsonl" --head "$W/head.last"
log "3 ok"

log "4. each place of the spool's chain: delivered, duplicate of a delivered file, lost"
# reseq: lines removed before, so seq renumbered from the first line's and every prev
# recomputed, as a forger would
reseq() {
	local prev="" line s=""
	while IFS= read -r line; do
		if [ -z "$s" ]; then
			s=$(printf '%s' "$line" | sed 's/.*"seq":\([0-9]*\),"prev":"[0-9a-f]\{64\}"}$/\1/')
		else
			s=$((s + 1))
			line=$(printf '%s' "$line" | sed "s/\"seq\":[0-9]*,\"prev\":\"[0-9a-f]\{64\}\"}\$/\"seq\":$s,\"prev\":\"$prev\"}/")
		fi
		printf '%s\n' "$line"
		prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
	done
}
cp -a "$W/out/files" "$W/files2"
VA "$W/all.jsonl" --sender "$W/keys/tx.pub" --files "$W/files2" ||
	{ cat "$W/va.err" >&2; fail "verify-audit failed on the intact log"; }
grep -q '^spool cam (sender [0-9a-f]\{16\}): seqs 1\.\.7 all accounted for: 6 delivered (file re-hashed), 1 duplicate of a delivered file, 0 lost, 0 rejected$' "$W/va.out" ||
	fail "no per-spool summary: $(cat "$W/va.out")"
# b1's delivered line relabeled a duplicate of itself, its file removed: nothing backs it
k=$(grep -n '"outcome":"delivered","spool":"cam","path":"b1.bin"' "$W/all.jsonl" | cut -d: -f1)
sed "${k}s/\"outcome\":\"delivered\",\"spool\":\"cam\",\"path\":\"b1.bin\"/\"outcome\":\"duplicate\",\"spool\":\"cam\",\"path\":\"b1.bin\",\"stored_as\":\"b1.bin\"/" \
	"$W/all.jsonl" | rechain >"$W/relabeled.jsonl"
! cmp -s "$W/all.jsonl" "$W/relabeled.jsonl" || fail "the relabel changed nothing"
rm "$W/files2/cam/b1.bin"
expect_break "a delivered line relabeled duplicate, its file removed" \
	"relabeled.jsonl:$k: duplicate of cam/b1.bin: no delivered or renamed line of that name and content before it" \
	"$W/relabeled.jsonl" --sender "$W/keys/tx.pub" --files "$W/files2"
# the same without the stored copy's name
sed "${k}s/\"outcome\":\"delivered\"/\"outcome\":\"duplicate\"/" "$W/all.jsonl" | rechain >"$W/relabeled2.jsonl"
expect_break "a delivered line relabeled duplicate naming no stored copy" \
	"relabeled2.jsonl:$k: a duplicate line without stored_as" "$W/relabeled2.jsonl" --sender "$W/keys/tx.pub"
# a1's delivered line relabeled lost, keeping its manifest: its place is lost, named
k=$(grep -n '"outcome":"delivered","spool":"cam","path":"a1.bin"' "$W/all.jsonl" | cut -d: -f1)
s1=$(sed -n "${k}p" "$W/all.jsonl" | sed 's/.*"chain_seq":\([0-9]*\),.*/\1/')
sed "${k}s/\"outcome\":\"delivered\"/\"outcome\":\"lost\"/" "$W/all.jsonl" | rechain >"$W/relost.jsonl"
rm "$W/files2/cam/a1.bin"
cp "$W/out/files/cam/b1.bin" "$W/files2/cam/b1.bin"
VA "$W/relost.jsonl" --sender "$W/keys/tx.pub" --files "$W/files2" ||
	{ cat "$W/va.err" >&2; fail "verify-audit failed on a log with a lost place"; }
grep -q '^spool cam (sender [0-9a-f]\{16\}): seqs 1\.\.7 all accounted for: 5 delivered (file re-hashed), 1 duplicate of a delivered file, 1 lost, 0 rejected$' "$W/va.out" ||
	fail "the lost place is not counted: $(cat "$W/va.out")"
grep -q "^  seq $s1 lost: cam/a1.bin ($W/relost.jsonl:$k)$" "$W/va.out" || fail "the lost place is not named: $(cat "$W/va.out")"
log "   $(grep -A1 '^spool cam' "$W/va.out" | tr '\n' ' ')"
# the spool's first line removed (the log given begins at its first line): seq 1 is missing
k=$(grep -n '"chain_seq":1,' "$W/all.jsonl" | cut -d: -f1)
sed "${k}d" "$W/all.jsonl" | reseq >"$W/nofirst.jsonl"
VA "$W/nofirst.jsonl" || fail "the renumbered log does not verify: $(cat "$W/va.err")"
expect_break "the spool's first line removed" "spool cam: chain break: seq 1 is missing" \
	"$W/nofirst.jsonl" --sender "$W/keys/tx.pub"
# ... and the next one marked as the first rx saw: rx's word, said in the summary
sed "${k}d" "$W/all.jsonl" | sed 's/"chain_seq":2,/"chain_seq":2,"chain":"first",/' | reseq >"$W/nofirst2.jsonl"
VA "$W/nofirst2.jsonl" --sender "$W/keys/tx.pub" || fail "a spool begun at a first: $(cat "$W/va.err")"
grep -q '^spool cam (sender [0-9a-f]\{16\}): seqs 2\.\.7 all accounted for (rx saw seq 2 first: the audit log says nothing of those below): 5 delivered, 1 duplicate of a delivered file, 0 lost, 0 rejected$' "$W/va.out" ||
	fail "the summary does not say where the chain begins: $(cat "$W/va.out")"
# a log given from its middle: its spools may begin where it does, and the summary says so
VA "$L2" --sender "$W/keys/tx.pub" || fail "the rotated-to file alone: $(cat "$W/va.err")"
grep -q '^spool cam (sender [0-9a-f]\{16\}): seqs 7\.\.7 all accounted for (the log given begins after its first line: seqs below are not seen): 1 delivered, 0 duplicate' "$W/va.out" ||
	fail "summary of a partial log: $(cat "$W/va.out")"
# a log given from just after b1's delivered line: its duplicate is backed only by --files,
# re-hashing the stored copy
k=$(grep -n '"outcome":"delivered","spool":"cam","path":"b1.bin"' "$W/all.jsonl" | cut -d: -f1)
tail -n +$((k + 1)) "$W/all.jsonl" >"$W/tail.jsonl"
expect_break "a duplicate whose delivered line is in an earlier file" \
	"tail.jsonl:[0-9]+: duplicate of cam/b1.bin: no delivered or renamed line of that name and content before it in the files given" \
	"$W/tail.jsonl" --sender "$W/keys/tx.pub"
VA "$W/tail.jsonl" --sender "$W/keys/tx.pub" --files "$W/out/files" ||
	fail "the duplicate backed by --files: $(cat "$W/va.err")"
grep -q "files: 3 re-hashed and unchanged, 0 missing or changed" "$W/va.out" || fail "summary: $(cat "$W/va.out")"
log "4 ok"

log "5. --files after a file changed and one removed"
printf 'X' | dd of="$W/out/files/cam/d/a3.bin" bs=1 seek=1000000 conv=notrunc status=none
rm "$W/out/files/cam/a2.1.bin"
expect_break "altered and removed files" "delivered file cam/d/a3.bin has changed since delivery" \
	"$W/all.jsonl" --files "$W/out/files"
grep -q "delivered file cam/a2.1.bin is missing" "$W/va.err" || fail "a2.1.bin not named missing: $(cat "$W/va.err")"
[ "$(wc -l <"$W/va.err")" -eq 2 ] || fail "more than the two files named: $(cat "$W/va.err")"
grep -q "files: 4 re-hashed and unchanged, 2 missing or changed" "$W/va.out" || fail "summary: $(cat "$W/va.out")"
log "5 ok"

log "6. --files does not follow a symbolic link inside DIR out of it"
# The folder cam/d replaced by a link to an intact copy outside DIR: a log (or a hand) that
# plants a link must not get files outside DIR re-hashed and reported unchanged.
mkdir -p "$W/outside"
cp -a "$W/files2/cam/d" "$W/outside/d"
rm -rf "$W/files2/cam/d"
ln -s "$W/outside/d" "$W/files2/cam/d"
expect_break "a symbolic link to a folder outside DIR" \
	"delivered file cam/d/a3.bin has changed since delivery \(not a regular file of the audited size" \
	"$W/all.jsonl" --sender "$W/keys/tx.pub" --files "$W/files2"
log "6 ok"
log "ok"
