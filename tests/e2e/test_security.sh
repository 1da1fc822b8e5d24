#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# The receiver is the security boundary. A sender whose key is not pinned, altered packets,
# replayed packets and injected garbage deliver nothing, and each is counted in
# sluice_rx_packets_rejected_total.
. "$(dirname "$0")/lib.sh"
CAPTURE="$BUILD/sluice-capture"
make_keys
write_rx_config
write_tx_config "$PROXY_PORT" 25% 1Gbit
start_rx
"$CAPTURE" --listen "127.0.0.1:$PROXY_PORT" --to "127.0.0.1:$RX_PORT" --out "$W/cap.bin" >>"$W/capture.log" 2>&1 &
CAP_PID=$!
PIDS+=("$CAP_PID")
sleep 0.2
make_file "$W/src/one.bin" 500000 one
start_tx
cp "$W/src/one.bin" "$W/spool/"
wait_for "the genuine file" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
cmp "$W/src/one.bin" "$W/out/files/cam/one.bin" || fail "genuine file differs"
kill "$TX_PID" "$CAP_PID"; wait "$TX_PID" "$CAP_PID" 2>/dev/null || true
rej0=$(metric "$RX_METRICS" sluice_rx_packets_rejected_total)
[ "$rej0" -eq 0 ] || fail "rejections before any attack: $rej0"

snapshot() { (cd "$W/out/files" && find . -path ./.sluice-tmp -prune -o -type f -print | sort); }
snapshot >"$W/before"
delivered=$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)

log "1. replay of the whole recorded session"
"$CAPTURE" --replay "$W/cap.bin" --to "127.0.0.1:$RX_PORT" 2>>"$W/capture.log"
wait_for "replays counted" 10 metric_ge "$RX_METRICS" sluice_rx_rejected_replay_total 100
rej1=$(metric "$RX_METRICS" sluice_rx_packets_rejected_total)
[ "$rej1" -gt "$rej0" ] || fail "replays not counted as rejected"

log "2. altered packets (one flipped byte each)"
"$CAPTURE" --replay "$W/cap.bin" --to "127.0.0.1:$RX_PORT" --alter 2>>"$W/capture.log"
sleep 1
rej2=$(metric "$RX_METRICS" sluice_rx_packets_rejected_total)
[ "$rej2" -gt "$rej1" ] || fail "altered packets not counted as rejected"

log "3. a sender whose key is not pinned"
mkdir -p "$W/evil"
"$TX" keygen "$W/evil" >/dev/null
sed -e "s#$W/keys/tx.key#$W/evil/tx.key#" -e "s#127.0.0.1:$PROXY_PORT#127.0.0.1:$RX_PORT#" \
    -e "s#$W/tx-state#$W/evil-state#" -e "/^metrics:/,+1d" "$W/tx.yaml" >"$W/evil.yaml"
make_file "$W/src/evil.bin" 300000 evil
"$TX" -c "$W/evil.yaml" send --as cam "$W/src/evil.bin" >>"$W/evil.log" 2>&1 || fail "evil sender failed to run"
wait_for "unpinned announcements counted" 10 metric_ge "$RX_METRICS" sluice_rx_rejected_sender_total 1
# The log names the key, as an operator computes it from the .pub file (README, Pairing).
fingerprint() { printf '%s=' "$(cut -d: -f2 "$1")" | basenc --base64url -d | sha256sum | cut -c1-16; }
evil_fp=$(fingerprint "$W/evil/tx.pub")
grep -q "announcement from sender key $evil_fp, which is not pinned (keys.senders)" "$W/rx.log" ||
	fail "the unpinned sender's announcement is not logged with its key's fingerprint $evil_fp"
# Data of a session nobody announced is held 3 s at most, then counted.
wait_for "unpinned data counted" 10 metric_ge "$RX_METRICS" sluice_rx_rejected_unknown_session_total 100

log "3b. the pinned sender, given another receiver's public key"
mkdir -p "$W/other"
"$RX" keygen "$W/other" >/dev/null
sed -e "s#$W/keys/rx.pub#$W/other/rx.pub#" -e "s#127.0.0.1:$PROXY_PORT#127.0.0.1:$RX_PORT#" \
    -e "s#$W/tx-state#$W/other-state#" -e "/^metrics:/,+1d" "$W/tx.yaml" >"$W/other.yaml"
grep -q "$W/other/rx.pub" "$W/other.yaml" || fail "test set-up: receiver key not replaced"
rejs=$(metric "$RX_METRICS" sluice_rx_rejected_sender_total)
"$TX" -c "$W/other.yaml" send --as cam "$W/src/evil.bin" >>"$W/other.log" 2>&1 || fail "misconfigured sender failed to run"
wait_for "announcements for another receiver counted" 10 metric_ge "$RX_METRICS" sluice_rx_rejected_sender_total $((rejs + 1))
grep -q "announcement from sender $(fingerprint "$W/keys/tx.pub") for receiver key $(fingerprint "$W/other/rx.pub"), not this receiver's ($(fingerprint "$W/keys/rx.pub"))" "$W/rx.log" ||
	fail "an announcement for another receiver key is not logged with the fingerprints"

log "4. garbage"
for i in $(seq 1 200); do head -c $((RANDOM % 1400 + 1)) /dev/urandom; done | \
	python3 -c '
import socket, sys
d = sys.stdin.buffer.read(); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(0, len(d), 700): s.sendto(d[i:i+700], ("127.0.0.1", int(sys.argv[1])))
s.sendto(b"SL\x01\x02" + bytes(60), ("127.0.0.1", int(sys.argv[1])))' "$RX_PORT"
sleep 1
[ "$(metric "$RX_METRICS" sluice_rx_rejected_malformed_total)" -gt 0 ] || fail "garbage not counted"
grep -q "a datagram of wire version 1: this receiver speaks version 2" "$W/rx.log" ||
	fail "a datagram of another wire version is not logged"

snapshot >"$W/after"
cmp -s "$W/before" "$W/after" || { diff "$W/before" "$W/after" >&2; fail "an attack changed the output folder"; }
[ "$(metric "$RX_METRICS" sluice_rx_objects_delivered_total)" -eq "$delivered" ] || fail "an attack delivered an object"
[ -z "$(ls -A "$W/out/files/.sluice-tmp")" ] || fail "temp files left"
kill -0 "$RX_PID" || fail "rx died"

log "5. the receiver's monitor, link and deliver processes run under their filters, on every thread"
SPAWNER=$(pgrep -P "$RX_PID" -x sluice-rx-spawn)
assert_filtered "$W/rx.log" "$RX_PID" "$(rx_link_pid)" "$(pgrep -P "$SPAWNER" -x sluice-rx-deliv)"
log "ok: rejected $(metric "$RX_METRICS" sluice_rx_packets_rejected_total) packets"
