#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpora of fuzz_wire and fuzz_msg: a few valid inputs and a few that are
one step from valid, in the formats of common/wire.h and rx/msg.h.

    python3 tests/fuzz/make_seeds.py        (from the top of the tree)

The seeds of fuzz_manifest and fuzz_linkrole need signatures and AEAD sealing with fixed keys:
tests/fuzz/gen_linkrole_seeds.c writes those.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- common/wire.h ----

def prefix(typ, session, magic=b"SL", version=2):
    return magic + bytes([version, typ]) + struct.pack("<Q", session)


def data(session=0x1122334455667788, pn=1, obj=1, objlen=200, block=0, t=64, k=4, m=2, esi=0,
         kind=1, flags=0, payload=None, **kw):
    hdr = prefix(2, session, **kw) + struct.pack("<QQQIHBBBBH", pn, obj, objlen, block, t, k, m,
                                                 esi, kind, flags)
    assert len(hdr) == 48
    body = payload if payload is not None else bytes((i * 7) & 0xFF for i in range(t))
    return hdr + body + bytes(range(16))


def announce(session=0x1122334455667788, counter=1, next_id=2, done_id=0, t=64, mtu=1500,
             overhead=25, block_max=8, interleave=1, repeat=1, aead=2, flags=0, prev_session=0,
             prev_done=0):
    a = prefix(1, session)
    a += bytes(range(0x10, 0x30)) + bytes(range(0x40, 0x60)) + bytes(range(0x80, 0xA0))
    a += struct.pack("<QQQQQQQ", counter, 1700000000 * 10**9, 1700000000 * 10**9 - 10**9, 100, 1,
                     next_id, done_id)
    a += struct.pack("<HHHBBBBH", t, mtu, overhead, block_max, interleave, repeat, aead, flags)
    assert len(a) == 176
    a += struct.pack("<QQ", prev_session, prev_done)
    return a + bytes(0xC0 + i & 0xFF for i in range(64)) + bytes(0x30 + i for i in range(16))


def wire_seeds():
    w = lambda n, b: write("fuzz_wire", n, b)
    w("data-valid-t64", data())
    w("data-valid-t16-manifest", data(t=16, kind=2, k=1, m=6, esi=6))
    w("data-valid-k255", data(t=16, k=255, m=0, esi=254, kind=3, block=0xFFFFFFFF, obj=2**63 + 5))
    w("data-valid-maxfields", data(session=2**64 - 1, pn=2**64 - 2, obj=2**63 - 1, objlen=2**64 - 1, t=16))
    w("data-valid-events-maxid", data(kind=3, obj=2**64 - 1))
    w("announce-valid", announce())
    w("announce-valid-aes", announce(aead=1, block_max=254, done_id=2, next_id=2))
    # one step from valid
    w("data-flags", data(flags=1))
    w("data-km256", data(k=128, m=128))
    w("data-esi-eq-km", data(k=4, m=2, esi=6))
    w("data-t15", data(t=15))
    w("data-kind0", data(kind=0))
    w("data-short", data()[:-1])
    w("data-long", data() + b"\0")
    w("data-bad-magic", data(magic=b"SM"))
    w("data-version1", data(version=1))
    w("data-version3", data(version=3))
    w("data-events-file-id", data(kind=3, obj=5))
    w("data-file-event-id", data(kind=1, obj=2**63))
    w("announce-next-event-id", announce(next_id=2**63, done_id=0))
    w("announce-prev-done-event-id", announce(prev_session=7, prev_done=2**63))
    w("announce-valid-prev", announce(prev_session=0x0102030405060708, prev_done=17))
    w("announce-v1-240", announce()[:240])
    w("announce-done-gt-next", announce(done_id=3, next_id=2))
    w("announce-aead3", announce(aead=3))
    w("announce-blockmax255", announce(block_max=255))
    w("announce-short", announce()[:-1])
    w("prefix-only", prefix(2, 7))
    w("type3", prefix(3, 7) + bytes(52))


# ---- rx/msg.h ----

def msg(typ, body, length=None):
    return struct.pack("<II", typ, len(body) if length is None else length) + body


def msg_seeds():
    w = lambda n, b: write("fuzz_msg", n, b)
    pk = bytes(range(0x10, 0x30))
    w("session", msg(1, struct.pack("<QQQ", 0x1122334455667788, 3, 1700000000 * 10**9) + pk +
                     struct.pack("<I", 1)))
    w("block", msg(2, struct.pack("<QQIQ", 0x1122334455667788, 1, 0, 0) + b"block data " * 8))
    w("file-end", msg(3, struct.pack("<QQQI", 0x1122334455667788, 1, 200, 1)))
    w("manifest", msg(4, struct.pack("<QQ", 0x1122334455667788, 1) + bytes(range(150))))
    w("lost", msg(5, struct.pack("<QQB", 0x1122334455667788, 1, 1) + b"evicted: limits.memory reached"))
    w("lost-200", msg(5, struct.pack("<QQB", 1, 2, 3) + b"r" * 200))
    w("events", msg(6, struct.pack("<QQ", 0x1122334455667788, 2) + b'{"event":"x"}\n'))
    w("block-empty", msg(2, struct.pack("<QQIQ", 1, 1, 0, 0)))
    w("block-ref", msg(7, struct.pack("<QQIQQI", 0x1122334455667788, 1, 0, 0, 1 << 25, 180224)))
    # one step from valid
    w("lost-201", msg(5, struct.pack("<QQB", 1, 2, 3) + b"r" * 201))
    w("session-short", msg(1, struct.pack("<QQQ", 1, 2, 3) + pk))
    w("file-end-long", msg(3, struct.pack("<QQQI", 1, 1, 200, 1) + b"\0"))
    w("type0", msg(0, bytes(16)))
    w("block-ref-short", msg(7, bytes(16)))
    w("block-ref-long", msg(7, struct.pack("<QQIQQI", 1, 1, 0, 0, 0, 1) + b"\0"))
    w("lost-range", msg(8, struct.pack("<QQQ", 0x1122334455667788, 1, 3) + b"sent while this receiver was stopped"))
    w("lost-range-zero", msg(8, struct.pack("<QQQ", 1, 1, 0) + b"x"))
    w("lost-range-overflow", msg(8, struct.pack("<QQQ", 1, 2**63 - 1, 2) + b"x"))
    w("partial", msg(9, struct.pack("<QQQ", 0x1122334455667788, 1, 40000000)))
    w("partial-long", msg(9, struct.pack("<QQQ", 1, 1, 1) + b"x"))
    w("type10", msg(10, bytes(40)))
    w("length-over-max", msg(2, struct.pack("<QQIQ", 1, 1, 0, 0), length=17 * 1024 * 1024 + 1))
    w("length-mismatch", msg(3, struct.pack("<QQQI", 1, 1, 200, 1), length=40))


if __name__ == "__main__":
    wire_seeds()
    msg_seeds()
