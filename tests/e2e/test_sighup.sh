#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# SIGHUP and the logs (README, "Logs"):
#  1. rx and tx at info with log.format json: every line of both logs is a JSON object with
#     time, level, process and msg, and no debug line is there;
#  2. log.level debug in both configurations and a SIGHUP to each: the next file brings debug
#     lines from the rx monitor's children (the link and the deliver process) and from tx;
#  3. logrotate's move: the audit log renamed, SIGHUP, the next file's audit line is in a new
#     file at log.audit, and the renamed file keeps the earlier lines and gets no new one;
#  4. a key that needs a restart (limits.object) is named and left as it was; a configuration
#     that does not load is refused with its problem, and rx keeps running on the old one.
. "$(dirname "$0")/lib.sh"
make_keys
RX_LOG=info TX_LOG=info
write_rx_config
write_tx_config "$RX_PORT" 25% 300Mbit
sed -i 's/^log:$/log:\n  format: json/' "$W/rx.yaml" "$W/tx.yaml"
mkdir -p "$W/src"
for i in 1 2 3; do make_file "$W/src/f$i.bin" 200000 "f$i"; done

all_json() { # LOG: every line parses, with the four keys
	python3 - "$1" <<'PY' || fail "$1 has a line that is not a JSON log line"
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="ascii"), 1):
    o = json.loads(line)
    assert sorted(o) == ["level", "msg", "process", "time"], (n, line)
    assert o["level"] in ("error", "warn", "info", "debug"), (n, line)
PY
}
debug_from() { # LOG PROCESS: a debug line from that process
	python3 - "$1" "$2" <<'PY'
import json, sys
sys.exit(0 if any(o["level"] == "debug" and o["process"] == sys.argv[2]
                  for o in map(json.loads, open(sys.argv[1]))) else 1)
PY
}
delivered() { cmp -s "$W/src/$1" "$W/out/files/cam/$1"; }
audit_has() { grep -q "\"path\":\"$2\"" "$1" 2>/dev/null; }

start_rx
start_tx
log "1: JSON lines at info"
stage_into_spool "$W/src/f1.bin" f1.bin
wait_for "f1 delivered" 20 delivered f1.bin
wait_for "f1 audited" 5 audit_has "$W/audit.jsonl" f1.bin
all_json "$W/rx.log"
all_json "$W/tx.log"
! grep -q '"level":"debug"' "$W/rx.log" "$W/tx.log" || fail "a debug line at level info"
log "1 ok: $(wc -l <"$W/rx.log") rx lines, $(wc -l <"$W/tx.log") tx lines, all JSON"

log "2: level debug by SIGHUP"
sed -i 's/level: info/level: debug/' "$W/rx.yaml" "$W/tx.yaml"
kill -HUP "$RX_PID" "$TX_PID"
reloaded() { grep -q 'configuration reloaded' "$1"; }
wait_for "rx to reload" 5 reloaded "$W/rx.log"
wait_for "tx to reload" 5 reloaded "$W/tx.log"
kill -0 "$RX_PID" && kill -0 "$TX_PID" || fail "a SIGHUP ended a process"
log "3 (set-up): the audit log moved aside as logrotate does, then SIGHUP"
mv "$W/audit.jsonl" "$W/audit.jsonl.1"
kill -HUP "$RX_PID"
reopened() { [ "$(grep -c 'configuration reloaded' "$W/rx.log")" -ge 2 ]; }
wait_for "rx to reload again" 5 reopened
stage_into_spool "$W/src/f2.bin" f2.bin
wait_for "f2 delivered" 20 delivered f2.bin
for p in "sluice-rx link" "sluice-rx deliver"; do
	wait_for "a debug line from $p" 5 debug_from "$W/rx.log" "$p"
done
wait_for "a debug line from sluice-tx" 5 debug_from "$W/tx.log" sluice-tx
all_json "$W/rx.log"
all_json "$W/tx.log"
log "2 ok: debug lines from the link and deliver processes and from tx"

log "3: the audit log reopened"
wait_for "f2 audited in the new file" 5 audit_has "$W/audit.jsonl" f2.bin
audit_has "$W/audit.jsonl.1" f1.bin || fail "the rotated audit log lost f1's line"
! audit_has "$W/audit.jsonl.1" f2.bin || fail "f2's audit line went to the rotated file"
! audit_has "$W/audit.jsonl" f1.bin || fail "the new audit log holds f1's line"
log "3 ok: f1 in audit.jsonl.1, f2 in audit.jsonl"

log "4: a key that needs a restart, and a configuration that does not load"
sed -i 's/object: 4GB/object: 5GB/' "$W/rx.yaml"
kill -HUP "$RX_PID"
named() { grep -q 'limits.object changed: takes effect at the next start' "$W/rx.log"; }
wait_for "limits.object to be named" 5 named
sed -i 's/object: 5GB/object: lots/' "$W/rx.yaml"
kill -HUP "$RX_PID"
refused() { grep -q "reload refused.*bad size 'lots'" "$W/rx.log"; }
wait_for "the bad configuration to be refused" 5 refused
sed -i 's/rate: 300Mbit/rate: 100Mbit/; s/to: 127.0.0.1:/to: 127.0.0.2:/' "$W/tx.yaml"
kill -HUP "$TX_PID"
tx_named() { grep -q 'link.to changed: takes effect at the next start' "$W/tx.log"; }
wait_for "tx to name link.to" 5 tx_named
grep -q 'link.rate now 100000000 bit/s' "$W/tx.log" || fail "tx did not take the new link.rate"
stage_into_spool "$W/src/f3.bin" f3.bin
wait_for "f3 delivered after the refused reload" 20 delivered f3.bin
wait_for "f3 audited" 5 audit_has "$W/audit.jsonl" f3.bin
all_json "$W/rx.log"
all_json "$W/tx.log"
log "4 ok"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
log "PASS"
