#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Link health as an operator sees it, through the impairment proxy dropping 10%:
#
#   sluice-tx ──UDP──> sluice-impair (drop=0.10) ──UDP──> sluice-rx
#      :TX_METRICS                                           :RX_METRICS
#
# While files flow: both expositions pass `promtool check metrics`, counters move, the
# per-spool backlog and oldest-waiting gauges are set, sluice_rx_link_loss_ratio is near 0.10
# and the clock skew near 0. tx stops: sluice_rx_link_up falls to 0 within 5 s and rx logs
# "link down"; tx starts again: link_up 1 and "link up". The shipped alert rules pass
# `promtool check rules`, and every sluice_ metric the rules and the dashboard name exists.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool missing: 'make deps' installs it (Debian package prometheus)"
RULES="$ROOT/dist/prometheus/sluice.rules.yml"
DASH="$ROOT/dist/grafana/sluice.json"

# value PORT SERIES: the sample's value, "absent" when there is none
value() {
	curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
		awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print "absent" }'
}
# check PORT SERIES AWK-CONDITION-ON-v
check() {
	local v
	v=$(value "$1" "$2")
	[ "$v" != absent ] && awk -v v="$v" "BEGIN { exit !($3) }"
}
scrape_check() {
	curl -fsS "http://127.0.0.1:$1/metrics" >"$W/$2.prom" || fail "scraping $2"
	promtool check metrics <"$W/$2.prom" >"$W/promtool-$2.out" 2>&1 ||
		{ cat "$W/promtool-$2.out" >&2; fail "promtool check metrics refused $2's exposition"; }
}

make_keys
write_rx_config
write_tx_config "$PROXY_PORT" 25% 40Mbit
start_proxy "drop=0.10,seed=${SEED:-7}"
start_rx
start_tx
for i in 1 2 3 4 5 6; do make_file "$W/src/f$i.bin" $((10 * 1024 * 1024)) "h$i"; done
cp "$W/src/"*.bin "$W/spool/"

log "while traffic flows: expositions, counters, gauges"
wait_for "tx backlog for spool cam" 10 check "$TX_METRICS" 'sluice_tx_spool_backlog_bytes{spool="cam"}' 'v > 0'
wait_for "tx oldest waiting >= 1 s" 10 check "$TX_METRICS" 'sluice_tx_spool_oldest_waiting_seconds{spool="cam"}' 'v >= 1'
check "$TX_METRICS" sluice_tx_oldest_waiting_seconds 'v >= 1' || fail "sluice_tx_oldest_waiting_seconds not set"
p1=$(value "$RX_METRICS" sluice_rx_packets_total)
t1=$(value "$TX_METRICS" sluice_tx_packets_total)
sleep 6 # the loss window is ~10 s: most of it full of traffic
scrape_check "$RX_METRICS" rx
scrape_check "$TX_METRICS" tx
p2=$(value "$RX_METRICS" sluice_rx_packets_total)
t2=$(value "$TX_METRICS" sluice_tx_packets_total)
[ "$p2" -gt "$p1" ] || fail "sluice_rx_packets_total did not move ($p1 -> $p2)"
[ "$t2" -gt "$t1" ] || fail "sluice_tx_packets_total did not move ($t1 -> $t2)"
loss=$(value "$RX_METRICS" sluice_rx_link_loss_ratio)
log "   loss ratio $loss (proxy drops 10%)"
awk -v v="$loss" 'BEGIN { exit !(v >= 0.07 && v <= 0.13) }' || fail "sluice_rx_link_loss_ratio $loss, not near 0.10"
check "$RX_METRICS" sluice_rx_clock_skew_seconds 'v > -0.5 && v < 0.5' || fail "clock skew not near 0"
# Announcements come every second and the proxy drops 10% of datagrams, so two in a row are
# lost about once in a hundred looks (age 2 to 3 s): the next one must bring the age back.
wait_for "heartbeat age below 2 s" 3 check "$RX_METRICS" sluice_rx_heartbeat_age_seconds 'v < 2'
check "$RX_METRICS" sluice_rx_link_up 'v == 1' || fail "link not up"
check "$RX_METRICS" sluice_rx_sessions_total 'v == 1' || fail "sessions_total is not 1"
grep -q 'link up: announcements from sender' "$W/rx.log" || fail "rx did not log link up"

log "the files arrive; the backlog empties"
wait_for "all files delivered" 120 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 6
wait_for "tx backlog 0" 10 check "$TX_METRICS" 'sluice_tx_spool_backlog_bytes{spool="cam"}' 'v == 0'
wait_for "tx oldest waiting 0" 5 check "$TX_METRICS" sluice_tx_oldest_waiting_seconds 'v == 0'

log "tx stops: the link falls within 5 s"
stop_clean "$TX_PID" sluice-tx
wait_for "link_up 0" 5 check "$RX_METRICS" sluice_rx_link_up 'v == 0'
grep -q 'link down: no announcement from any sender for 3\.[0-9] s' "$W/rx.log" || fail "rx did not log link down"
check "$RX_METRICS" sluice_rx_heartbeat_age_seconds 'v >= 3' || fail "heartbeat age below 3 s with the link down"
scrape_check "$RX_METRICS" rx-down

log "tx starts again: the link rises"
start_tx
wait_for "link_up 1" 5 check "$RX_METRICS" sluice_rx_link_up 'v == 1'
[ "$(grep -c 'link up: announcements from sender' "$W/rx.log")" -eq 2 ] || fail "rx did not log link up again"
grep -q 'restarted: new session' "$W/rx.log" || fail "rx did not log the sender's restart"
check "$RX_METRICS" sluice_rx_sessions_total 'v == 2' || fail "sessions_total is not 2"

log "alert rules and dashboard"
promtool check rules "$RULES" >"$W/promtool-rules.out" 2>&1 ||
	{ cat "$W/promtool-rules.out" >&2; fail "promtool check rules refused $RULES"; }
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$DASH" || fail "$DASH is not JSON"
# Every metric named exists in an exposition.
awk '!/^#/ { sub(/[{ ].*/, "", $1); print $1 }' "$W"/rx.prom "$W"/tx.prom | sort -u >"$W/exported"
grep -oh 'sluice_[a-z_]*' "$RULES" "$DASH" | sort -u >"$W/named"
missing=$(comm -23 "$W/named" "$W/exported" || true)
[ -z "$missing" ] || fail "named in the rules or dashboard but not exported: $missing"
log "ok"
