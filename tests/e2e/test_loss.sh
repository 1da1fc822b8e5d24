#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Through the userspace impairment proxy: 5% uniform loss with reorder, duplicates and
# corruption at the default 25% overhead; then 3% bursty loss (Gilbert-Elliott, mean burst 30)
# with 30% overhead. Everything arrives byte-identical; corrupted packets are counted as
# rejected, never delivered. The link runs at 500 Mbit/s: the point is the FEC under the
# proxy's loss, not whether a sanitized proxy on a loaded CI core keeps up with the pace (loss
# the kernel adds at either socket is reported apart, so a failure says which it was).
. "$(dirname "$0")/lib.sh"
T=1408
SRC="$W/src"
make_keys
for n in 0 1 $((T - 1)) $T $((T + 1)) 3000000; do make_file "$SRC/size-$n.bin" "$n"; done
make_file "$SRC/big/100MB.bin" 104857600 big
make_file "$SRC/x/y/deep.bin" 123457
cp "$ROOT"/tests/data/video/*.ts "$SRC/x/"
nfiles=$(find "$SRC" -type f | wc -l)

settled() {
	local d l
	d=$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)
	l=$(metric "$RX_METRICS" sluice_rx_objects_lost_total)
	[ $((d + l)) -ge "$nfiles" ]
}

run_case() {
	local spec=$1 overhead=$2 name=$3
	log "case $name: $spec, overhead $overhead"
	rm -rf "$W/out" "$W/spool" "$W/rx-state" "$W/tx-state" "$W/audit.jsonl"
	write_rx_config
	write_tx_config "$PROXY_PORT" "$overhead" 500Mbit
	start_proxy "$spec"
	start_rx
	start_tx
	cp -a "$SRC/." "$W/spool/"
	wait_for "every file delivered or lost ($name)" 180 settled
	local lost kdrops
	lost=$(metric "$RX_METRICS" sluice_rx_objects_lost_total)
	if [ "$lost" -ne 0 ]; then
		kdrops=$(metric "$RX_METRICS" sluice_rx_socket_dropped_total)
		kill "$PROXY_PID"
		wait "$PROXY_PID" 2>/dev/null || true
		grep '"outcome":"lost"' "$W/audit.jsonl" >&2 || true
		cat "$W/impair.json" >&2
		fail "$name: $lost objects lost (the kernel dropped $kdrops datagrams at rx's socket; the proxy's kernel_dropped is above)"
	fi
	same_tree "$SRC" || fail "$name: delivered tree differs"
	[ "$(metric "$RX_METRICS" sluice_rx_fec_recovered_packets_total)" -gt 0 ] || fail "$name: FEC recovered nothing"
	kill "$TX_PID" "$RX_PID" "$PROXY_PID"
	wait "$TX_PID" "$RX_PID" "$PROXY_PID" 2>/dev/null || true
	cat "$W/impair.json" >&2
}
run_case "drop=0.05,reorder=0.02,dup=0.02,corrupt=0.01,seed=${SEED:-11}" 25% uniform
grep -q '"corrupted":[1-9]' "$W/impair.json" || fail "the proxy corrupted nothing"
run_case "burst=0.03:30,seed=${SEED:-12}" 30% bursty
log "ok"
