#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# make bench: ceilings and the data path, on this machine, in one run.
#  1. the machine; 2. raw UDP over loopback (the socket ceiling) and memcpy; 3. AEAD and hash
#  per core; 4. FEC encode/decode; 5. tx -> rx goodput at 0% and 5% loss, MTU 1500 and 9000,
#  1 and 2 workers (tx pinned to CPU 0, rx to CPU 1, tmpfs on both ends); 6. event latency at
#  1,000 and 20,000 events/s, alone and beside video at 80% of the link.
# Timing goals live here, not in tests: this machine may be shared and noisy.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SLUICE_BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
# Pacing: above what one sender core fills, so goodput shows the CPU bound, and within what one
# receiver core sustains. Jumbo blocks (128 x 8952 B) are decoded out of cache at 5% loss; the
# receiver lost files to socket drops at 5Gbit until its AEAD moved to libipsec-mb, and now
# keeps up there. BENCH_RATE_JUMBO sets jumbo apart.
RATE=${BENCH_RATE:-5Gbit}
RATE_JUMBO=${BENCH_RATE_JUMBO:-$RATE}
MB=${BENCH_MB:-1000}
echo "== machine"
echo "  $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "  $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "== ceilings"
"$BUILD/bench/udp_ceiling" 1472 | sed 's/^/  /'
"$BUILD/bench/udp_ceiling" 8972 | sed 's/^/  /'
echo "== per-core crypto and hashing"
"$BUILD/bench/crypto_bench" | sed 's/^/  /'
echo "== FEC (ISA-L)"
"$BUILD/bench/fec_bench" | sed 's/^/  /'
echo "== goodput tx -> rx (file bytes delivered intact per second; link paced at $RATE, jumbo $RATE_JUMBO)"
for mtu in 1500 9000; do
	rate=$RATE
	[ "$mtu" = 1500 ] || rate=$RATE_JUMBO
	for loss in 0 5; do
		for w in 1 2; do
			"$ROOT/bench/goodput.sh" "$mtu" "$loss" "$w" "$rate" "$MB" 2>/dev/null | sed 's/^/  /' ||
				echo "  goodput mtu=$mtu loss=$loss% workers=$w: FAILED"
		done
	done
done
echo "== event batches: does a zstd dictionary pay? (bytes and packets per batch)"
"$BUILD/bench/evdict_bench" | sed 's/^/  /'
echo "== event batches: the signed chain record's cost per batch (tx sign, rx verify)"
"$BUILD/bench/evchain_bench" | sed 's/^/  /'
echo "== event latency, intake to line written (udp intake, link.rate 1Gbit; goal p99 < 5 ms, max < 20 ms)"
for rate in 1000 20000; do
	for video in 0 1; do
		"$ROOT/bench/events.sh" "$rate" "$video" 1Gbit "${BENCH_EVENT_SECS:-10}" 2>/dev/null | sed 's/^/  /' ||
			echo "  events $rate/s video=$video: FAILED"
	done
done
