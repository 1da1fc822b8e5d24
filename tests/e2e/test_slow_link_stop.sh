#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# SIGTERM stops sluice-tx within 2 s (INTERFACE.md) also on a link paced below a packet per
# 2 s (link.rate 2kbit: one 1,500-byte datagram costs 6 s): the pacer's wait used to be slept
# whole, and the stop waited for it (found by red-team review 5). What was not sent stays in
# the spool and is not journalled: a small file whose content left but whose manifest was
# still waiting for the pacer is sent again at the next start, at a normal rate, and arrives.
# A rate raised by SIGHUP takes effect at once, also while the pacer holds a packet at the old
# rate (at 100 bit/s one datagram costs two minutes: the debt used to be waited out).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 2kbit
start_rx
start_tx
make_file "$W/a.bin" 600 slow-a
stage_into_spool "$W/a.bin" a.bin
# Data packets (announcements apart): a.bin's content is one source and one repair packet;
# once both are out, its manifest waits for the pacer.
data_packets() { echo $(($(metric "$TX_METRICS" sluice_tx_packets_total) - $(metric "$TX_METRICS" sluice_tx_announcements_total))); }
content_out() { [ "$(data_packets)" -ge 2 ]; }
wait_for "a.bin's content to leave" 30 content_out
log "   $(data_packets) data packets out: stopping while the manifest waits"
T0=$(date +%s%N)
stop_clean "$TX_PID" tx
log "tx stopped in $((($(date +%s%N) - T0) / 1000000)) ms at 2 kbit/s"
[ -e "$W/spool/a.bin" ] || fail "a.bin left the spool: recorded as sent, though its manifest never left"
! grep -q "sent cam/a.bin" "$W/tx.log" || fail "a.bin logged as sent: $(grep 'sent cam/a.bin' "$W/tx.log")"
write_tx_config "$RX_PORT" 25% 200Mbit
start_tx
arrived() { cmp -s "$W/a.bin" "$W/out/files/cam/a.bin"; }
wait_for "a.bin at the next start" 20 arrived
stop_clean "$TX_PID" tx

log "a rate raised by SIGHUP while a packet waits at 100 bit/s"
write_tx_config "$RX_PORT" 25% 100bit
start_tx
make_file "$W/b.bin" 600 slow-b
stage_into_spool "$W/b.bin" b.bin
one_out() { [ "$(data_packets)" -ge 1 ]; }
wait_for "b.bin's first packet" 30 one_out
write_tx_config "$RX_PORT" 25% 200Mbit
kill -HUP "$TX_PID"
arrived_b() { cmp -s "$W/b.bin" "$W/out/files/cam/b.bin"; }
wait_for "b.bin at the new rate" 10 arrived_b
stop_clean "$TX_PID" tx
stop_clean "$RX_PID" rx
log "ok"
