#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# A strictly one-way topology, as on a real diode. Two network namespaces joined by a veth
# pair; the receiver has ARP off, IPv6 off and no route back; the sender reaches it through a
# static neighbour entry. The test asserts that the receiver's interface sent zero packets.
#
#   netns sl-tx-PID                         netns sl-rx-PID
#   +-----------------------+   veth     +--------------------------+
#   | sluice-tx             |----------->| sluice-rx                |
#   | vt 192.0.2.1/24       |  one way   | vr 192.0.2.2/32, arp off |
#   | neigh 192.0.2.2 = MAC |            | no route to 192.0.2.1    |
#   +-----------------------+            +--------------------------+
. "$(dirname "$0")/lib.sh"
command -v ip >/dev/null || fail "iproute2 missing"
NT=sl-tx-$$ NR=sl-rx-$$
ip netns add "$NT" || { log "SKIP: cannot create network namespaces here"; exit 1; }
ip netns add "$NR"
netns_cleanup() { ip netns del "$NT" 2>/dev/null || true; ip netns del "$NR" 2>/dev/null || true; }
trap 'netns_cleanup; cleanup' EXIT
ip link add vt netns "$NT" type veth peer name vr netns "$NR"
for ns in "$NT" "$NR"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$NR" link set vr arp off
ip -n "$NR" addr add 192.0.2.2/32 dev vr
ip -n "$NR" link set vr up
ip -n "$NT" addr add 192.0.2.1/24 dev vt
ip -n "$NT" link set vt up
mac=$(ip -n "$NR" -o link show vr | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$NT" neigh replace 192.0.2.2 lladdr "$mac" dev vt nud permanent
tx_before=$(ip -n "$NR" -s -j link show vr | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])')

make_keys
RX_PORT=7000
write_rx_config
sed -i "s#listen: 127.0.0.1:$RX_PORT#listen: 192.0.2.2:$RX_PORT#" "$W/rx.yaml"
write_tx_config
sed -i "s#to: 127.0.0.1:$RX_PORT#to: 192.0.2.2:$RX_PORT#" "$W/tx.yaml"
ip netns exec "$NR" "$RX" -c "$W/rx.yaml" >>"$W/rx.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NT" "$TX" -c "$W/tx.yaml" >>"$W/tx.log" 2>&1 &
PIDS+=($!)
mkdir -p "$W/src/n"
make_file "$W/src/n/file.bin" 5000000 netns
cp "$ROOT"/tests/data/video/seg-0.ts "$W/src/"
cp -a "$W/src/." "$W/spool/"
ns_metric() { ip netns exec "$NR" curl -fsS "http://127.0.0.1:$RX_METRICS/metrics" 2>/dev/null | awk -v n="$1" '$1 == n {print $2; f=1} END {if (!f) print 0}'; }
ns_delivered() { [ "$(ns_metric sluice_rx_objects_delivered_total)" -ge 2 ]; }
wait_for "files across the one-way link" 60 ns_delivered
same_tree "$W/src" || fail "files differ"
tx_after=$(ip -n "$NR" -s -j link show vr | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])')
rx_bytes=$(ip -n "$NR" -s -j link show vr | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["bytes"])')
log "receiver interface: received $rx_bytes bytes, sent $((tx_after - tx_before)) packets"
[ "$rx_bytes" -gt 5216012 ] || fail "receiver saw fewer bytes than the files hold"
[ "$tx_after" -eq "$tx_before" ] || fail "the receiver's interface sent $((tx_after - tx_before)) packets"
[ "$(ns_metric sluice_rx_link_up)" -eq 1 ] || fail "link_up is not 1"
log "ok"
