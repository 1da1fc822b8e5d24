#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# SIGTERM stops sluice-tx within 2 s (INTERFACE.md) also on a link paced below a packet per
# 2 s (link.rate 2kbit: one 1,500-byte datagram costs 6 s): the pacer's wait used to be slept
# whole, and the stop waited for it (found by red-team review 5). What was not sent stays in
# the spool, and goes at the next start (not checked here: it would take hours at this rate).
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 2kbit
start_rx
start_tx
make_file "$W/a.bin" 100000 slow-a
stage_into_spool "$W/a.bin" a.bin
sent_some() { [ "$(metric "$TX_METRICS" sluice_tx_packets_total)" -ge 2 ]; }
wait_for "tx to send its first packets" 20 sent_some
sleep 1
T0=$(date +%s%N)
stop_clean "$TX_PID" tx
log "tx stopped in $((($(date +%s%N) - T0) / 1000000)) ms at 2 kbit/s"
[ -e "$W/spool/a.bin" ] || fail "a.bin left the spool unsent"
stop_clean "$RX_PID" rx
log "ok"
