#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A forger who has the two public keys (they are not secret) floods the receiver with
# announcements naming the pinned sender: 10,000 a second, huge session counter, random
# signature. Beside it a genuine sender starts, sends, restarts and sends again. The session
# must open within 2 s of the sender's start each time, every genuine file must arrive intact,
# nothing may be counted lost, and the forgeries must be refused by their MAC.
. "$(dirname "$0")/lib.sh"
FLOOD="$BUILD/sluice-flood"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 1Gbit
start_rx

# 272-byte announcements at 30 Mbit/s: about 13,800 a second (at least 10,000)
"$FLOOD" --mix announce --sender "$W/keys/tx.pub" --receiver "$W/keys/rx.pub" --to "127.0.0.1:$RX_PORT" \
	--mbit 30 --duration-s 40 >"$W/forge.log" 2>&1 &
FORGE_PID=$!
PIDS+=("$FORGE_PID")
wait_for "forgeries arriving" 10 metric_ge "$RX_METRICS" sluice_rx_packets_total 5000

# session_opens_within N SECONDS: sluice_rx_sessions_total reaches N within SECONDS of now.
session_opens_within() {
	local want=$1 limit_ms=$(( $2 * 1000 )) t0 t
	t0=$(date +%s%N)
	until metric_ge "$RX_METRICS" sluice_rx_sessions_total "$want"; do
		t=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ "$t" -gt "$limit_ms" ] && fail "session $want did not open within $2 s of the sender's start"
		sleep 0.05
	done
	log "session $want opened after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

mkdir -p "$W/src"
for i in 1 2 3 4 5; do make_file "$W/src/a$i.bin" 2000000 "a$i"; done
for i in 1 2 3 4 5; do make_file "$W/src/b$i.bin" 2000000 "b$i"; done

log "1. a sender starts during the flood"
for i in 1 2 3 4 5; do cp "$W/src/a$i.bin" "$W/spool/"; done
start_tx
session_opens_within 1 2
wait_for "the first five files" 60 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 5
[ "$(metric "$RX_METRICS" sluice_rx_link_up)" -eq 1 ] || fail "link not up while the genuine sender announces"

log "2. the sender restarts during the flood"
stop_clean "$TX_PID" tx
for i in 1 2 3 4 5; do cp "$W/src/b$i.bin" "$W/spool/"; done
start_tx
session_opens_within 2 2
wait_for "all ten files" 60 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 10
kill -0 "$FORGE_PID" 2>/dev/null || fail "the flood ended before the test did: $(cat "$W/forge.log")"

for i in 1 2 3 4 5; do
	cmp "$W/src/a$i.bin" "$W/out/files/cam/a$i.bin" || fail "a$i.bin differs"
	cmp "$W/src/b$i.bin" "$W/out/files/cam/b$i.bin" || fail "b$i.bin differs"
done
lost=$(metric "$RX_METRICS" sluice_rx_objects_lost_total)
[ "$lost" -eq 0 ] || fail "$lost objects lost"
! grep -q '"outcome":"lost"' "$W/audit.jsonl" || fail "a lost line in the audit log"
[ "$(metric "$RX_METRICS" sluice_rx_sender_restarts_total)" -eq 1 ] || fail "restart not counted once"
[ "$(metric "$RX_METRICS" sluice_rx_link_up)" -eq 1 ] || fail "link not up after the restart"
forged=$(metric "$RX_METRICS" sluice_rx_rejected_announce_mac_total)
[ "$forged" -ge 20000 ] || fail "only $forged forgeries refused by their MAC"
grep -q 'announcement with a bad MAC' "$W/rx.log" || fail "forgeries not logged"
kill "$FORGE_PID" 2>/dev/null; wait "$FORGE_PID" 2>/dev/null || true
log "ok: $forged forged announcements refused by their MAC; $(cat "$W/forge.log")"
