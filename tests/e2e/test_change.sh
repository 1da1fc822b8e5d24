#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A file that grows while it is being sent is not delivered half-old, half-new: tx notices,
# says so, and sends it again once it is complete; rx ends up with the final content. A file
# removed while being sent does not stop the sender; one cut short is sent again, shortened.
# A file renamed over one being sent, with the same size and mtime (cp -p, rsync -t), is sent
# too, not taken for the one sent and deleted unsent.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 20Mbit
start_rx
start_tx
make_file "$W/grow.bin" 4000000 grow
cp "$W/grow.bin" "$W/spool/grow.bin"
sleep 0.6 # 4 MB at 20 Mbit/s takes about 2 s: it is in flight now
head -c 1000 /dev/zero >>"$W/spool/grow.bin"
cat "$W/spool/grow.bin" >"$W/grown.bin"
wait_for "abort counted" 10 metric_ge "$TX_METRICS" sluice_tx_files_aborted_total 1
grep -q "grow.bin changed while being sent" "$W/tx.log" || fail "no log line for the change"
wait_for "grown file delivered" 30 test -f "$W/out/files/cam/grow.bin"
cmp "$W/grown.bin" "$W/out/files/cam/grow.bin" || fail "delivered content is not the final one"
make_file "$W/gone.bin" 3000000 gone
cp "$W/gone.bin" "$W/spool/gone.bin"
sleep 0.4
rm -f "$W/spool/gone.bin"
make_file "$W/next.bin" 10000 next
cp "$W/next.bin" "$W/spool/next.bin"
wait_for "next file delivered" 30 test -f "$W/out/files/cam/next.bin"
cmp "$W/next.bin" "$W/out/files/cam/next.bin" || fail "next differs"
# A file cut short while being sent: a worker's read comes up short ("it shrank"), the partial
# send is abandoned, and the shorter file, now complete, is sent again.
make_file "$W/shrink.bin" 12000000 shrink
cp "$W/shrink.bin" "$W/spool/shrink.bin"
sleep 0.6 # at 20 Mbit/s the first 3 MB are still on the wire; reads run two groups ahead
truncate -s 3000000 "$W/spool/shrink.bin"
head -c 3000000 "$W/shrink.bin" >"$W/shrunk.bin"
wait_for "shrink counted" 20 metric_ge "$TX_METRICS" sluice_tx_files_aborted_total 2
grep -q "shrink.bin changed while being sent (it shrank)" "$W/tx.log" || fail "no log line for the short read"
wait_for "shrunk file delivered" 30 test -f "$W/out/files/cam/shrink.bin"
cmp "$W/shrunk.bin" "$W/out/files/cam/shrink.bin" || fail "delivered content is not the shortened file"
# Replaced while being sent by another file of the same size and mtime: the sent one is
# journalled by its inode, so the new one is not taken for it (nor deleted unsent).
make_file "$W/rep.bin" 4000000 rep
make_file "$W/rep2.bin" 4000000 rep2
cp "$W/rep.bin" "$W/spool/rep.bin"
sleep 0.6 # 4 MB at 20 Mbit/s: in flight
touch -r "$W/spool/rep.bin" "$W/rep2.bin"
mv "$W/rep2.bin" "$W/spool/rep.bin"
cmp -s "$W/rep.bin" "$W/spool/rep.bin" && fail "the replacement has the first file's bytes"
wait_for "the first copy delivered" 30 test -f "$W/out/files/cam/rep.bin"
cmp "$W/rep.bin" "$W/out/files/cam/rep.bin" || fail "rep.bin is not the first file"
wait_for "the replacement delivered as rep.1.bin" 30 test -f "$W/out/files/cam/rep.1.bin"
[ "$(grep -c "sent cam/rep.bin (4000000 bytes)" "$W/tx.log")" = 2 ] || fail "rep.bin not sent twice"
make_file "$W/rep2.bin" 4000000 rep2
cmp "$W/rep2.bin" "$W/out/files/cam/rep.1.bin" || fail "rep.1.bin is not the replacement"
kill -0 "$TX_PID" || fail "tx died"
log "ok"
