#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# STATE/senders as large as the link process writes it is read back whole. A line per session
# carries 1,024 words of resolved-id bits (about 17.5 KB), and one sender can have five lines
# (its current session, two retired ones and two loaded and not yet settled): about 88 KB. The
# monitor read at most 64 KiB per sender, so such a file was refused ("File too large: the link
# process starts without it") and the restart forgot the newest counter and which ids it had
# (found by red-team review 5). Here: five full lines for the pinned sender, the first with a
# counter far above any clock; once read, the sender's real session is refused as a replay of
# an older one, which proves the file was loaded.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config
start_rx
stop_clean "$RX_PID" rx
python3 - "$W/keys/tx.pub" "$W/rx-state/senders" <<'PY'
import base64, sys
key = open(sys.argv[1]).read().strip().split(":", 1)[1]
hexpk = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).hex()
words = " ".join(["ffffffffffffffff"] * 1024)
lines = ["%s %d 00000000000000aa 100 1 %s" % (hexpk, 1 << 62, words)]
for i in range(4):
    lines.append("retired %s %016x 101 1 %s" % (hexpk, 0xab + i, words))
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
size=$(wc -c <"$W/rx-state/senders")
[ "$size" -gt $((64 * 1024)) ] || fail "the crafted STATE/senders is only $size bytes"
start_rx
start_tx
refused() { metric_ge "$RX_METRICS" sluice_rx_rejected_replay_total 1; }
wait_for "the sender's session refused as a replay (the saved counter read)" 10 refused
! grep -q "starts without it" "$W/rx.log" || fail "$(grep -m1 'starts without it' "$W/rx.log")"
stop_clean "$TX_PID" tx
stop_clean "$RX_PID" rx
log "ok: a $size-byte STATE/senders read back"
