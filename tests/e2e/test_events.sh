#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Events end to end, through 2% link loss (tx's impaired link): 100,000 events through each
# intake kind at once (UDP datagrams; 8 concurrent TCP clients with lines split across writes
# and overlong lines; 4 unix-socket clients with RFC 6587 octet counting; a stock
# `logger --rfc5424` over TCP and over UDP). Each source's lines must hold every event exactly
# once, in order, content intact, every line valid JSON (sluice-evverify), and the same lines
# must reach a local TCP consumer (output.forward), or be counted as not forwarded. Then the
# queue is overflowed on purpose over a slow link: the receiver's gap count must equal what tx
# dropped. Last, UDP events sent
# while tx is frozen: what the kernel drops before intake must be counted and logged on tx.
# Through all of it, every batch's signed record is in the audit log and each source's chain of
# batches has no break (verify-audit).
. "$(dirname "$0")/lib.sh"
EVSEND="$BUILD/sluice-evsend"
EVVERIFY="$BUILD/sluice-evverify"
N=${EVENTS_N:-100000}
U=$((BASE_PORT + 5)) T=$((BASE_PORT + 6)) LT=$((BASE_PORT + 7)) LU=$((BASE_PORT + 8)) Q=$((BASE_PORT + 9))
make_keys
EVENTS_YAML="events:
  - name: udp
    listen: udp:127.0.0.1:$U
  - name: tcp
    listen: tcp:127.0.0.1:$T
  - name: unix
    listen: unix:$W/events.sock
  - name: logger-tcp
    listen: tcp:127.0.0.1:$LT
  - name: logger-udp
    listen: udp:127.0.0.1:$LU"
TX_IMPAIR="drop=0.02,seed=11"
write_rx_config
# rx also forwards every line to a local consumer (output.forward): it must get the same lines.
FWD=$((BASE_PORT + 4))
sed -i "s|^  events: $W/out/events|&\n  forward: tcp:127.0.0.1:$FWD|" "$W/rx.yaml"
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(120)
c, _ = s.accept(); c.settimeout(120)
with open(sys.argv[2], "wb") as f:
    while True:
        d = c.recv(1 << 20)
        if not d: break
        f.write(d); f.flush()
' "$FWD" "$W/forwarded.jsonl" 2>>"$W/consumer.log" &
PIDS+=($!)
write_tx_config "$RX_PORT" 25% 1Gbit
start_rx
start_tx
wait_for "session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1

log "phase 1: $N events per intake kind, 2% link loss"
gens=()
"$EVSEND" --count "$N" --rate 10000 --mode mixed "udp:127.0.0.1:$U" 2>>"$W/evsend.log" & gens+=($!)
"$EVSEND" --count "$N" --clients 8 --split --overlong 1000 --max-line 65536 --mode mixed \
	"tcp:127.0.0.1:$T" 2>>"$W/evsend.log" & gens+=($!)
"$EVSEND" --count "$N" --clients 4 --split --octet --mode mixed "unix:$W/events.sock" 2>>"$W/evsend.log" & gens+=($!)
("$EVSEND" --count "$N" --mode text-msg - | logger --rfc5424 -T -n 127.0.0.1 -P "$LT") 2>>"$W/evsend.log" & gens+=($!)
("$EVSEND" --count "$N" --rate 10000 --mode text-msg - | logger --rfc5424 -d -n 127.0.0.1 -P "$LU") \
	2>>"$W/evsend.log" & gens+=($!)
for g in "${gens[@]}"; do wait "$g" || fail "an event generator failed ($(tail -n 3 "$W/evsend.log"))"; done
wait_for "all $((5 * N)) events delivered" 90 metric_ge "$RX_METRICS" sluice_rx_events_delivered_total $((5 * N))
out="$W/out/events"
"$EVVERIFY" --source udp --expect "$N" "$out/udp" >"$W/check-udp.txt" || fail "udp: $(tail -n 5 "$W/check-udp.txt")"
"$EVVERIFY" --source tcp --expect "$N" --clients 8 "$out/tcp" >"$W/check-tcp.txt" || fail "tcp: $(tail -n 5 "$W/check-tcp.txt")"
"$EVVERIFY" --source unix --expect "$N" --clients 4 "$out/unix" >"$W/check-unix.txt" || fail "unix: $(tail -n 5 "$W/check-unix.txt")"
for s in logger-tcp logger-udp; do
	"$EVVERIFY" --source "$s" --expect "$N" --mode text-msg --suffix "$out/$s" >"$W/check-$s.txt" ||
		fail "$s: $(tail -n 5 "$W/check-$s.txt")"
done
for f in "$W"/check-*.txt; do log "$(basename "$f" .txt): $(tail -n 1 "$f")"; done
[ "$(metric "$TX_METRICS" sluice_tx_events_rejected_total)" = $((N / 1000)) ] ||
	fail "tx refused $(metric "$TX_METRICS" sluice_tx_events_rejected_total) overlong lines, expected $((N / 1000))"
grep -q "line longer than max_line" "$W/tx.log" || fail "no log line for an overlong line"
[ "$(metric "$RX_METRICS" sluice_rx_events_lost_total)" = 0 ] || fail "events lost at 2% loss"
[ "$(metric "$TX_METRICS" sluice_tx_events_dropped_total)" = 0 ] || fail "tx dropped events"
[ "$(metric "$TX_METRICS" sluice_tx_events_kernel_dropped_total)" = 0 ] || fail "the kernel dropped UDP events before intake"
# Forwarding never blocks: a consumer too slow for a burst misses lines, counted. Every line
# it got must be one of the files', once; with what was counted, nothing is unaccounted for.
fwd_complete() {
	[ $(($(wc -l <"$W/forwarded.jsonl") + $(metric "$RX_METRICS" sluice_rx_events_forward_dropped_total))) -ge $((5 * N)) ]
}
wait_for "the forwarded lines" 30 fwd_complete
cat "$out"/*/*.jsonl | sort >"$W/files.sorted"
sort "$W/forwarded.jsonl" >"$W/fwd.sorted"
[ -z "$(uniq -d "$W/fwd.sorted" | head -1)" ] || fail "a line was forwarded twice"
[ -z "$(comm -23 "$W/fwd.sorted" "$W/files.sorted" | head -1)" ] || fail "a forwarded line is not in the files"
fwd_dropped=$(metric "$RX_METRICS" sluice_rx_events_forward_dropped_total)
[ $(($(wc -l <"$W/fwd.sorted") + fwd_dropped)) -eq $((5 * N)) ] || fail "forwarded + not forwarded != delivered"
rm -f "$W/fwd.sorted"
rm -f "$W/files.sorted"
recovered=$(metric "$RX_METRICS" sluice_rx_fec_recovered_packets_total)
[ "$recovered" -gt 0 ] || fail "no packet was rebuilt: the loss did not happen"
log "phase 1 ok: $((5 * N)) events, forwarded intact ($fwd_dropped not forwarded, counted: consumer too slow); $recovered packets rebuilt by FEC"

log "phase 2: a queue of 500 over a 4 Mbit/s link, 20,000 events at once"
stop_clean "$TX_PID" tx
EVENTS_YAML="events:
  - name: burst
    listen: tcp:127.0.0.1:$Q
    queue: 500"
TX_IMPAIR=""
write_tx_config "$RX_PORT" 25% 4Mbit
start_tx
wait_for "the restarted sender's session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 2
"$EVSEND" --count 20000 --mode json "tcp:127.0.0.1:$Q" 2>>"$W/evsend.log" || fail "evsend burst"
accounted() {
	local d l
	d=$(metric "$RX_METRICS" sluice_rx_events_delivered_total)
	l=$(metric "$RX_METRICS" sluice_rx_events_lost_total)
	[ $((d - 5 * N + l)) -ge 20000 ]
}
wait_for "every burst event delivered or counted lost" 60 accounted
dropped=$(metric "$TX_METRICS" sluice_tx_events_dropped_total)
lost=$(metric "$RX_METRICS" sluice_rx_events_lost_total)
[ "$dropped" -gt 0 ] || fail "the queue never overflowed"
[ "$lost" = "$dropped" ] || fail "rx counted $lost events lost, tx dropped $dropped"
"$EVVERIFY" --source burst --allow-gaps --seq-from 0 --mode json "$out/burst" >"$W/check-burst.txt" ||
	fail "burst: $(tail -n 5 "$W/check-burst.txt")"
grep -q "seq_gaps=$dropped\b" "$W/check-burst.txt" || fail "seq gaps in the file differ from $dropped: $(tail -n 1 "$W/check-burst.txt")"
grep -q "queue full" "$W/tx.log" || fail "tx did not log the overflow"
grep -q "dropped by the sender" "$W/rx.log" || fail "rx did not log the gap"
log "phase 2 ok: tx dropped $dropped, rx counted $lost lost and the files show the same gaps"

# A stop with events still queued for a slow link ends within 2 s (stop_clean checks it).
"$EVSEND" --count 5000 --first 20000 --mode json "tcp:127.0.0.1:$Q" 2>>"$W/evsend.log" || fail "evsend burst 2"
log "phase 3: UDP events sent while tx is stopped: what the kernel drops is counted on tx"
stop_clean "$TX_PID" tx
EVENTS_YAML="events:
  - name: frozen
    listen: udp:127.0.0.1:$U"
write_tx_config "$RX_PORT" 25% 1Gbit
start_tx
wait_for "the third session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 3
before=$(metric "$RX_METRICS" sluice_rx_events_delivered_total)
kill -STOP "$TX_PID"
"$EVSEND" --count 200000 --mode json "udp:127.0.0.1:$U" 2>>"$W/evsend.log" || { kill -CONT "$TX_PID"; fail "evsend frozen"; }
kill -CONT "$TX_PID"
kdrop_counted() { [ "$(metric "$TX_METRICS" sluice_tx_events_kernel_dropped_total)" -gt 0 ]; }
wait_for "the kernel drops to be counted" 10 kdrop_counted
frozen_accounted() {
	local d k
	d=$(metric "$RX_METRICS" sluice_rx_events_delivered_total)
	k=$(metric "$TX_METRICS" sluice_tx_events_kernel_dropped_total)
	[ $((d - before + k)) -eq 200000 ]
}
wait_for "delivered + dropped by the kernel = sent" 20 frozen_accounted
grep -q "the kernel dropped" "$W/tx.log" || fail "tx did not log the kernel drops"
log "phase 3 ok: $(metric "$TX_METRICS" sluice_tx_events_kernel_dropped_total) datagrams dropped by the kernel, counted and logged; the rest delivered"
stop_clean "$TX_PID" tx
stop_clean "$RX_PID" rx
grep -Eq "next=25000 batch=[0-9]+ prev=[0-9a-f]{64} clean" "$W/tx-state/events/burst" ||
	fail "burst seq not saved: $(cat "$W/tx-state/events/burst")"
# Every batch of every source, through loss, reordering and tx restarts, chained without a break.
grep -q '"outcome":"chain_break"' "$W/audit.jsonl" && fail "chain break: $(grep -m1 chain_break "$W/audit.jsonl")"
"$RX" verify-audit "$W/audit.jsonl" --sender "$W/keys/tx.pub" >"$W/va.out" 2>"$W/va.err" ||
	fail "verify-audit: $(head -n 3 "$W/va.err")"
log "$(grep '^events:' "$W/va.out")"
