#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A receiver that cannot keep up: rx's link process is frozen (SIGSTOP) while tx sends 300 MB, more than its
# 128 MiB socket buffer holds. The datagrams the kernel drops are counted in
# sluice_rx_socket_dropped_total and logged; nothing is delivered corrupt, and rx goes on
# delivering once it runs again.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 2Gbit
start_rx
start_tx
wait_for "tx announcing" 10 metric_ge "$TX_METRICS" sluice_tx_announcements_total 1
make_file "$W/big.bin" 300000000 big
LINK=$(rx_link_pid) || fail "no link process"
kill -STOP "$LINK"
stage_into_spool "$W/big.bin" big.bin
wait_for "tx to send the whole file" 120 metric_ge "$TX_METRICS" sluice_tx_objects_total 1
kill -CONT "$LINK"
wait_for "the socket drops to be counted" 10 metric_ge "$RX_METRICS" sluice_rx_socket_dropped_total 1
drops=$(metric "$RX_METRICS" sluice_rx_socket_dropped_total)
grep -q "the kernel dropped .* datagrams: the receive socket was full" "$W/rx.log" ||
	fail "rx did not log the drops"
# What arrived and what the kernel dropped cannot exceed what was sent (a dropped GRO
# datagram may be counted once for several packets, so not equality).
wait_for "rx to drain its socket" 30 metric_ge "$RX_METRICS" sluice_rx_objects_lost_total 1
rxp=$(metric "$RX_METRICS" sluice_rx_packets_total)
txp=$(metric "$TX_METRICS" sluice_tx_packets_total)
[ $((rxp + drops)) -le "$txp" ] || fail "rx saw $rxp and dropped $drops of $txp packets"
[ ! -e "$W/out/files/cam/big.bin" ] || cmp "$W/big.bin" "$W/out/files/cam/big.bin" ||
	fail "big.bin delivered corrupt"
make_file "$W/after.bin" 2000000 after
stage_into_spool "$W/after.bin" after.bin
wait_for "a file sent after the overrun" 30 test -f "$W/out/files/cam/after.bin"
cmp "$W/after.bin" "$W/out/files/cam/after.bin" || fail "after.bin differs"
log "ok: $drops datagrams dropped by the kernel, counted and logged; rx saw $rxp of $txp packets"
