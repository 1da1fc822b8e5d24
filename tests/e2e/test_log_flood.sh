#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A repeating problem floods no log (issue 14): 300 spool files whose names break one rule give
# a few "refused" lines, each later one carrying "(N similar lines suppressed)", and the counts
# shown add up to every refusal not shown; a file breaking another rule, in the same flood,
# still gets its own line (the limiter is keyed by the rule). The counter counts every file.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
AFTER=delete write_tx_config "$RX_PORT" 25% 1Gbit
S="$W/spool"
T=300
for i in $(seq 1 "$T"); do printf 'x' >"$S/t"$'\t'"$i.bin"; done
printf 'x' >"$S/"$'rlo-\u202estp.exe'
t0=$(date +%s)
start_tx
wait_for "$((T + 1)) refusals" 60 metric_ge "$TX_METRICS" sluice_tx_files_refused_total $((T + 1))
t1=$(date +%s)
lines() { grep -c 'refused cam/t\\x09' "$W/tx.log" || true; }
L=$(lines)
# At most one line a second, and one more for the second the flood began in.
[ "$L" -le $((t1 - t0 + 2)) ] || fail "$L lines for $T refusals in $((t1 - t0)) s"
grep -qF 'refused cam/rlo-\u{202e}stp.exe: path has a bidirectional control U+202E at byte 4' "$W/tx.log" ||
	fail "the other rule's refusal was suppressed by the flood"
# One more after a pause: logged, with the count of those suppressed since the last line.
sleep 1.1
printf 'x' >"$S/t"$'\t'"last.bin"
wait_for "the last refusal" 10 metric_ge "$TX_METRICS" sluice_tx_files_refused_total $((T + 2))
wait_for "the last refusal's line" 5 grep -q 'refused cam/t\\x09last.bin' "$W/tx.log"
[ "$(lines)" -eq $((L + 1)) ] || fail "the refusal after the pause was not logged exactly once"
grep 'refused cam/t\\x09last.bin' "$W/tx.log" | grep -q ' (\([0-9]*\) similar lines suppressed)$' ||
	fail "no count of suppressed lines on the line after the flood"
shown=$(grep 'refused cam/t\\x09' "$W/tx.log" | sed -n 's/.* (\([0-9]*\) similar lines suppressed)$/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
[ "$shown" -eq $((T - L)) ] || fail "counts shown add up to $shown, not the $((T - L)) refusals not logged"
log "ok: $T refusals of one rule in $L lines (+1 after a pause), counts add up to $shown; the other rule logged"
