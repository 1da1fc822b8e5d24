#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# The chain of event batches (common/evchain.h), end to end:
#
#   sluice-evsend --udp--> sluice-tx ==> sluice-impair (proxy) ==> sluice-rx --> audit.jsonl
#
#  1. events in three runs, tx restarted (clean) between the first two and rx between the last
#     two, nothing lost: every batch has an "events" audit line with its signed record, the
#     first after the tx restart says so, there is no chain_break, and
#     `verify-audit --sender` exits 0 having verified every batch;
#     then the first two batches' lines removed from that whole log, its line chain recomputed:
#     verify-audit exits 1 naming the source and batches 1..2;
#  2. the proxy stopped while 20 events are sent (their batches lost on the link), then
#     started again for 30 more: rx audits a chain_break naming the source, the missing batch
#     seqs and the event seqs they held, counts it, and verify-audit exits 1 naming the same.
. "$(dirname "$0")/lib.sh"
EVSEND="$BUILD/sluice-evsend"
U=$((BASE_PORT + 5))
make_keys
EVENTS_YAML="events:
  - name: vms
    listen: udp:127.0.0.1:$U"
write_rx_config
write_tx_config "$PROXY_PORT"
start_proxy "drop=0,seed=3"
start_rx
start_tx
wait_for "session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1
# send FIRST N: events FIRST..FIRST+N-1, 50 a second, so that batches are small and many.
send() { "$EVSEND" --count "$2" --first "$1" --rate 50 "udp:127.0.0.1:$U" 2>>"$W/evsend.log" || fail "evsend"; }
delivered() { metric_ge "$RX_METRICS" sluice_rx_events_delivered_total "$1"; }
VA() { "$RX" verify-audit "$W/audit.jsonl" --sender "$W/keys/tx.pub" >"$W/va.out" 2>"$W/va.err"; }

log "1. no loss, tx and rx restarted between batches"
send 0 30
wait_for "30 events delivered" 20 delivered 30
stop_clean "$TX_PID" sluice-tx
start_tx
wait_for "the new session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 2
send 30 30
wait_for "60 events delivered" 20 delivered 60
stop_clean "$RX_PID" sluice-rx
start_rx
wait_for "rx rejoined the session" 10 metric_ge "$RX_METRICS" sluice_rx_link_up 1
send 60 30
wait_for "30 more events delivered" 20 delivered 30
sleep 1.5 # past the reorder time: a missing batch would be given up by now
batches=$(grep -c '"outcome":"events","source":"vms"' "$W/audit.jsonl" || true)
[ "$batches" -ge 3 ] || fail "only $batches events lines"
grep -q '"outcome":"chain_break"' "$W/audit.jsonl" && fail "a chain break without loss: $(grep chain_break "$W/audit.jsonl")"
grep -q '"outcome":"events","source":"vms",.*"reason":"sender restarted; the chain goes on"' "$W/audit.jsonl" ||
	fail "the tx restart is not recorded on the first batch after it"
grep '"outcome":"events"' "$W/audit.jsonl" | grep -vq '"batch":[0-9]*,"event_first":[0-9]*,"event_last":[0-9]*,"sender":"[0-9a-f]\{16\}",.*"record":"[A-Za-z0-9+/=]*"' &&
	fail "an events line without batch, event_first, event_last, sender or record"
[ "$(metric "$RX_METRICS" sluice_rx_event_chain_breaks_total)" = 0 ] || fail "chain breaks counted"
VA || { cat "$W/va.err" >&2; fail "verify-audit failed without loss"; }
grep -q "events: $batches event batches verified with the sender keys and chained per source, no break" "$W/va.out" ||
	fail "summary: $(cat "$W/va.out")"
log "1 ok: $(tail -n 1 "$W/va.out")"
log "   $(grep '"outcome":"events"' "$W/audit.jsonl" | awk '{ s += length($0) + 1 } END { printf "%d events lines, %.0f bytes each on average", NR, s / NR }')"

log "1b. the source's first batches removed from the whole log, its line chain recomputed"
# The log begins at seq 1, so each source must begin at batch 1 or where rx said it began
# following the chain; the first batch after the tx restart says so, so two of run 1 go.
awk '/"outcome":"events"/ && n++ < 2 { next } 1' "$W/audit.jsonl" | audit_rechain "$W/headless.jsonl"
ln=$(grep -n -m 1 '"outcome":"events"' "$W/headless.jsonl" | cut -d: -f1) # no head: pipefail and SIGPIPE
first=$(sed -n "${ln}p" "$W/headless.jsonl")
case $first in *'"reason"'*) fail "run 1 had fewer than 3 batches: $first" ;; esac
b=$(printf '%s' "$first" | sed 's/.*"batch":\([0-9]*\),.*/\1/')
[ "$b" -eq 3 ] || fail "the first batch left is $b, want 3"
# with and without --sender (the records' chain is checked either way); the line chain itself
# is whole, or verify-audit would stop at an earlier line
for keys in "--sender $W/keys/tx.pub" ""; do
	rc=0
	# shellcheck disable=SC2086 # keys: an option and its file, or nothing
	"$RX" verify-audit "$W/headless.jsonl" $keys >"$W/va.out" 2>"$W/va.err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$W/va.err" "$W/va.out" >&2; fail "verify-audit $keys exited $rc on a source without its first batches, want 1"; }
	[ "$(cat "$W/va.err")" = "$W/headless.jsonl:$ln: source vms: chain break: batches 1..2 missing before batch 3, the first of the source in a log that begins at seq 1" ] ||
		fail "verify-audit $keys does not name the missing first batches: $(cat "$W/va.err")"
done
log "1b ok: $(cat "$W/va.err")"

log "2. batches lost on the link"
before=$(grep -c '"outcome":"events"' "$W/audit.jsonl")
last=$(grep '"outcome":"events"' "$W/audit.jsonl" | tail -n 1 | sed 's/.*"batch":\([0-9]*\),.*/\1/')
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
send 90 20
sleep 0.5 # tx has sent them into the void
start_proxy "drop=0,seed=4"
send 110 30
wait_for "the 30 after the outage delivered" 20 delivered 60
wait_for "the chain break audited" 10 grep -q '"outcome":"chain_break"' "$W/audit.jsonl"
brk=$(grep '"outcome":"chain_break"' "$W/audit.jsonl")
log "   $brk"
[ "$(printf '%s\n' "$brk" | wc -l)" -eq 1 ] || fail "more than one break line"
printf '%s' "$brk" | grep -q "\"source\":\"vms\",\"session\":\"[0-9a-f]\{16\}\",\"batch\":$((last + 1))," ||
	fail "the break does not name source vms and batch $((last + 1))"
# The lost batches held exactly events 90..109.
printf '%s' "$brk" | grep -q '"event_first":90,"event_last":109,' || fail "the break does not name events 90..109"
printf '%s' "$brk" | grep -q '"reason":"lost: batch [0-9]*\.\.[0-9]* never arrived (events 90\.\.109)"' ||
	fail "reason: $brk"
[ "$(metric "$RX_METRICS" sluice_rx_event_chain_breaks_total)" = 1 ] || fail "sluice_rx_event_chain_breaks_total is not 1"
[ "$(metric "$RX_METRICS" sluice_rx_events_lost_total)" = 20 ] || fail "the 20 events are not counted lost"
rc=0
VA || rc=$?
[ "$rc" -eq 1 ] || { cat "$W/va.err" >&2; fail "verify-audit exited $rc on a broken chain, want 1"; }
line=$(grep -n '"outcome":"chain_break"' "$W/audit.jsonl" | cut -d: -f1)
grep -Eq "audit.jsonl:$line: source vms: chain break: batch(es)? $((last + 1))(\.\.[0-9]+)? missing \(events 90\.\.109\)" "$W/va.err" ||
	fail "verify-audit: $(cat "$W/va.err")"
log "2 ok: $(head -n 1 "$W/va.err")"
[ "$(grep -c '"outcome":"events"' "$W/audit.jsonl")" -gt "$before" ] || fail "no batch after the outage"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
log "ok"
