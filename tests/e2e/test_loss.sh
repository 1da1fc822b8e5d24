#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Through the userspace impairment proxy: 5% uniform loss with reorder, duplicates and
# corruption at the default 25% overhead; then 3% bursty loss (Gilbert-Elliott, mean burst 30)
# with 30% overhead. Everything arrives byte-identical; corrupted packets are counted as
# rejected, never delivered.
. "$(dirname "$0")/lib.sh"
T=1408
SRC="$W/src"
make_keys
for n in 0 1 $((T - 1)) $T $((T + 1)) 3000000; do make_file "$SRC/size-$n.bin" "$n"; done
make_file "$SRC/big/100MB.bin" 104857600 big
make_file "$SRC/x/y/deep.bin" 123457
cp "$ROOT"/tests/data/video/*.ts "$SRC/x/"
nfiles=$(find "$SRC" -type f | wc -l)

run_case() {
	local spec=$1 overhead=$2 name=$3
	log "case $name: $spec, overhead $overhead"
	rm -rf "$W/out" "$W/spool" "$W/rx-state" "$W/tx-state" "$W/audit.jsonl"
	write_rx_config
	write_tx_config "$PROXY_PORT" "$overhead" 1Gbit
	start_proxy "$spec"
	start_rx
	start_tx
	cp -a "$SRC/." "$W/spool/"
	wait_for "all files delivered ($name)" 180 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total "$nfiles"
	same_tree "$SRC" || fail "$name: delivered tree differs"
	[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] || fail "$name: objects lost"
	[ "$(metric "$RX_METRICS" sluice_rx_fec_recovered_packets_total)" -gt 0 ] || fail "$name: FEC recovered nothing"
	kill "$TX_PID" "$RX_PID" "$PROXY_PID"
	wait "$TX_PID" "$RX_PID" "$PROXY_PID" 2>/dev/null || true
	cat "$W/impair.json" >&2
}
run_case "drop=0.05,reorder=0.02,dup=0.02,corrupt=0.01,seed=${SEED:-11}" 25% uniform
grep -q '"corrupted":[1-9]' "$W/impair.json" || fail "the proxy corrupted nothing"
run_case "burst=0.03:30,seed=${SEED:-12}" 30% bursty
log "ok"
