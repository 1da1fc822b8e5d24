#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
"""Counts byte strings in a process's memory, through /proc/PID/mem (root).

    memsearch.py PID NEEDLE...

A NEEDLE is FILE:PREFIX, the bytes of a Sluice key file (base64url after PREFIX), or several
joined with '+' (their bytes one after the other). Prints the count of each needle, then the
number of memory regions read, on one line separated by spaces.
"""
import base64
import sys


def key_bytes(spec):
    path, prefix = spec.rsplit(":", 1)
    text = open(path).read().strip()
    if not text.startswith(prefix + ":"):
        sys.exit(f"{path}: does not start with {prefix}:")
    text = text[len(prefix) + 1:]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main():
    pid = sys.argv[1]
    needles = [b"".join(key_bytes(p) for p in n.split("+")) for n in sys.argv[2:]]
    counts = [0] * len(needles)
    regions = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if "r" not in f[1] or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            regions += 1
            for i, n in enumerate(needles):
                counts[i] += data.count(n)
    print(" ".join(str(c) for c in counts + [regions]))


main()
