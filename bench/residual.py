#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
"""Residual loss for Sluice's FEC settings: the numbers behind the defaults in README.md.

Uniform loss: a block of K source + M repair packets fails when more than M of its K+M
packets are lost (binomial tail, exact). Bursty loss: Gilbert-Elliott (loss in the bad state,
none in the good), packets of `interleave` blocks sent round-robin; estimated by simulation
with a fixed seed. An object of B blocks fails when any block fails.
"""
import math
import random
import sys


def repair(k, pct):
    m = math.ceil(k * pct / 100)
    if pct > 0:
        m = max(m, 2)
    return min(m, 255 - k)


def block_fail_uniform(k, m, p):
    n = k + m
    # P(losses > m), summed from the small side for accuracy
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(m + 1, n + 1))


def object_fail(pb, blocks):
    return -math.expm1(blocks * math.log1p(-pb)) if pb < 1 else 1.0


def sim_burst(k, m, interleave, loss, burst, groups, seed=1):
    rnd = random.Random(seed)
    r = 1.0 / burst                      # bad -> good
    p = loss * r / (1 - loss)            # good -> bad, so that the mean loss is `loss`
    bad = False
    failed = 0
    n = k + m
    for _ in range(groups):
        lost = [0] * interleave
        for _sym in range(n):
            for b in range(interleave):
                bad = (rnd.random() >= r) if bad else (rnd.random() < p)
                if bad:
                    lost[b] += 1
        failed += sum(1 for x in lost if x > m)
    return failed / (groups * interleave)


def main():
    k, pct, il = 128, 25, 16
    if len(sys.argv) > 1:
        k, pct, il = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    m = repair(k, pct)
    print(f"K={k} M={m} ({pct}% overhead), interleave {il}")
    for p in (0.01, 0.05, 0.10, 0.15):
        pb = block_fail_uniform(k, m, p)
        print(f"  uniform {p:4.0%}: block {pb:.2e}, 3 MB object (17 blocks) {object_fail(pb, 17):.2e},"
              f" 100 MB object (582 blocks) {object_fail(pb, 582):.2e}")
    for kk in (1, 2, 4):
        mm = min(255 - kk, max(kk + 6, repair(kk, pct)))
        print(f"  small object K={kk} M={mm} (manifest rule) at 5%: {block_fail_uniform(kk, mm, 0.05):.2e}")
    groups = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    for loss, burst in ((0.01, 10), (0.03, 30), (0.05, 30)):
        pb = sim_burst(k, m, il, loss, burst, groups)
        bound = 1 / (groups * il)
        txt = f"{pb:.2e}" if pb > 0 else f"< {bound:.0e} (none in {groups * il} blocks)"
        print(f"  bursty {loss:.0%} mean burst {burst}: block {txt}")


if __name__ == "__main__":
    main()
