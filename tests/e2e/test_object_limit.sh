#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A file over the receiver's limits.object is refused unopened and audited "rejected" with its
# spool, path, size and the limit as reason; nothing is written, nothing counted lost, and its
# packets are counted as over the limit, not as malformed. A file under the limit still arrives.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
sed -i 's/^  object: 4GB$/  object: 1MB/' "$W/rx.yaml"
grep -q '^  object: 1MB$' "$W/rx.yaml" || fail "could not set limits.object"
write_tx_config "$RX_PORT" 25% 1Gbit
make_file "$W/src/big.bin" 3000000 big
make_file "$W/src/small.bin" 500000 small
start_rx
start_tx
cp "$W/src/big.bin" "$W/spool/"
wait_for "the rejection" 20 grep -q '"outcome":"rejected"' "$W/audit.jsonl"
python3 - "$W/audit.jsonl" <<'PY' || fail "the rejected line does not say what was refused and why"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
r = [l for l in lines if l["outcome"] == "rejected"]
assert len(r) == 1, r
r = r[0]
assert r["spool"] == "cam" and r["path"] == "big.bin" and r["size"] == 3000000, r
assert "limits.object" in r["reason"], r
PY
cp "$W/src/small.bin" "$W/spool/"
wait_for "the small file" 20 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
cmp "$W/src/small.bin" "$W/out/files/cam/small.bin" || fail "small.bin differs"
sleep 3 # past the link role's grace: the big file must not turn up as lost
[ ! -e "$W/out/files/cam/big.bin" ] || fail "big.bin was written"
[ "$(metric "$RX_METRICS" sluice_rx_objects_rejected_total)" -eq 1 ] || fail "rejected count is not 1"
[ "$(metric "$RX_METRICS" sluice_rx_objects_lost_total)" -eq 0 ] || fail "the refused file counted lost"
! grep -q '"outcome":"lost"' "$W/audit.jsonl" || fail "a lost line for the refused file"
[ "$(metric "$RX_METRICS" sluice_rx_rejected_over_limit_total)" -gt 1000 ] || fail "its packets not counted as over the limit"
[ "$(metric "$RX_METRICS" sluice_rx_rejected_malformed_total)" -eq 0 ] || fail "its packets counted as malformed"
log "ok"
