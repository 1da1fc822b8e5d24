#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpora of fuzz_wire, fuzz_msg, fuzz_pathrule, fuzz_senders_state, fuzz_journal
and fuzz_config:
a few valid inputs and a few that are one step from valid, in the formats of common/wire.h and
rx/msg.h, names for common/pathrule.h, the receiver's STATE/senders (with datagrams from
fuzz_linkrole's seeds), the sender's STATE/journal (tx/journal.h) and configurations.

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


# ---- common/pathrule.h, common/escape.h ----

def pathrule_seeds():
    def w(name, data):
        write("fuzz_pathrule", name, data)
    # valid
    w("plain", b"cam-north/2026-11-22/clip 0001.mp4")
    w("spool", b"cam-north.2_x")
    w("utf8", "caméra/東京/видео 🎥.mkv".encode())
    w("depth-32", b"/".join([b"d"] * 32))
    w("name-255", b"a/" + b"n" * 255)
    # one step from valid
    w("depth-33", b"/".join([b"d"] * 33))
    w("name-256", b"a/" + b"n" * 256)
    w("dotdot", b"a/../b")
    w("dot", b"a/./b")
    w("hidden", b"a/.b")
    w("empty-component", b"a//b")
    w("trailing-slash", b"a/b/")
    w("absolute", b"/etc/passwd")
    w("newline", b"a\nb")
    w("del", b"a\x7fb")
    w("backslash", b"a\\b")
    w("bidi-rlo", "invoice\u202egpj.exe".encode())
    w("zero-width", "a\u200bb".encode())
    w("c1", "a\u0085b".encode())
    w("tag", "a\U000e0041b".encode())
    w("overlong", b"a\xc0\xafb")
    w("surrogate", b"a\xed\xa0\x80b")
    w("above-10ffff", b"a\xf4\x90\x80\x80b")
    w("cut-sequence", b"a\xe2\x82")
    w("nul-inside", b"ok\0../x")
    w("long-escape", ("\u202e" * 300).encode() + b"\xff" * 300)


# ---- STATE/senders (rx/linkrole.c) ----

# Ed25519 public keys from the seeds 'T' x 32 and 'U' x 32 (crypto_sign_seed_keypair), the
# senders fuzz_senders_state pins; the fuzz_linkrole seeds are announcements signed by 'T'.
PK_T = "9f49439e9db095bc4111ed25d35795d831bc55a047f4b1d7f6aee3777bb41220"
PK_U = "c6822637c7d310ec57627be00ba259d253749f4aaf644470cffbe53a35f73242"
S1 = 0x5EED000000000001  # session 1 of gen_linkrole_seeds.c, counter 1


def senders_line(pk, counter, session=0, floor=0, base=0, above=(0, 0, 0, 0)):
    return ("%s %d %016x %d %d %s\n" % (pk, counter, session, floor, base,
                                         " ".join("%016x" % w for w in above))).encode()


def senders_seeds():
    def w(name, text, dgrams=None):
        write("fuzz_senders_state", name, text + (b"\0" + dgrams if dgrams is not None else b""))

    def lr(name):
        with open(os.path.join(HERE, "corpus", "fuzz_linkrole", name), "rb") as f:
            return f.read()
    fresh = senders_line(PK_T, 1, S1, 0, 1) + senders_line(PK_U, 0)
    # valid
    w("saved", fresh)
    w("empty", b"")
    w("rejoin", senders_line(PK_T, 1, S1, 3, 1) + senders_line(PK_U, 0), lr("file-1block"))
    w("rejoin-above", senders_line(PK_T, 1, S1, 9, 2, (0x5, 0, 0, 1 << 63)), lr("file-1block"))
    w("newer-session", senders_line(PK_T, 0), lr("restart"))
    w("older-format", ("%s 1\n" % PK_T).encode(), lr("announce"))
    w("replayed-session", senders_line(PK_T, 7, 0x5EED000000000007, 4, 1), lr("announce"))
    # one step from valid
    w("rejoin-huge", senders_line(PK_T, 1, S1, 2**64 - 1, 2**64 - 3, (2**64 - 1,) * 4),
      lr("file-1block"))
    w("rejoin-base-0", senders_line(PK_T, 1, S1, 0, 0, (2**64 - 1,) * 4), lr("file-1block"))
    w("counter-max", senders_line(PK_T, 2**64 - 1, S1), lr("announce"))
    w("counter-overflow", ("%s 18446744073709551616 1 2 3\n" % PK_T).encode(), lr("announce"))
    w("negative", ("%s -1 -1 -1 -1 -1 -1 -1 -1\n" % PK_T).encode(), lr("announce"))
    w("uppercase-hex", senders_line(PK_T.upper(), 1, S1, 0, 1))
    w("short-key", senders_line(PK_T[:-2], 1, S1))
    w("not-hex", senders_line("z" * 64, 1, S1))
    w("one-field", (PK_T + "\n").encode())
    w("no-newline", senders_line(PK_T, 1, S1, 0, 1)[:-1])
    w("long-line", senders_line(PK_T, 1, S1)[:-1] + b" " * 300 + b"7\n" + senders_line(PK_U, 3))
    w("duplicate", senders_line(PK_T, 1, S1, 0, 1) + senders_line(PK_T, 5, S1 + 1, 9, 9))
    w("torn", fresh[:len(fresh) // 2])


# ---- STATE/journal (tx/journal.h) ----

def journal_seeds():
    def w(name, lines):
        write("fuzz_journal", name, b"".join(l if isinstance(l, bytes) else l.encode() for l in lines))

    def new(key, size, mtime, at, ino, name):
        return "sent %016x %d %d at=%d ino=%d %s\n" % (key, size, mtime, at, ino, name)

    def old(key, size, mtime, name):
        return "sent %016x %d %d %s\n" % (key, size, mtime, name)
    a = new(0x9d3c0a1b2e4f5061, 1048576, 1795000000123456789, 1795000001000000000, 131075,
            "cam-north/2026/11/22/seg-0001.ts")
    b = new(0x1f2e3d4c5b6a7988, 7, 8, 99, 3, "cam/new file.bin")
    c = old(0x0123456789abcdef, 5, 6, "cam/old.bin")
    # valid
    w("empty", [])
    w("new-format", [a, b])
    w("old-format", [c, old(0xfedcba9876543210, 0, 0, "events-spool/x")])
    w("mixed", [c, a, b])
    w("same-key-twice", [b, new(0x1f2e3d4c5b6a7988, 7, 8, 100, 4, "cam/new file.bin")])
    w("short-key", ["sent 1 2 3 at=4 ino=5 cam/a\n", "sent 2 2 3 cam/b\n"])
    w("utf8-name", [new(0x42, 1, 2, 3, 4, "caméra/東京/видео.mkv")])
    # one step from valid
    w("torn-last", [a, b[:-9]])
    w("damaged", [a, "sent zzzz\n", "sent 1 2\n", "sent 3 4 5 at=x ino=5 cam/a\n",
                  "sent 6 7 8 at=9 cam/a\n", "\n", "sent\n", b])
    w("no-path", ["sent 11 1 2 at=3 ino=4 \n", "sent 12 1 2\n", "sent 13 1 2 noslash\n"])
    w("long-spool", [old(0x77, 1, 2, "s" * 64 + "/x"), old(0x78, 1, 2, "s" * 63 + "/x")])
    w("overflow", ["sent 1ffffffffffffffff 18446744073709551616 1 cam/a\n",
                   "sent ffffffffffffffff 18446744073709551615 18446744073709551615 at=18446744073709551615 "
                   "ino=18446744073709551615 cam/a\n"])
    w("negative", ["sent -1 -2 -3 at=-4 ino=-5 cam/a\n"])
    w("nul-and-cr", [b"sent 21 1 2 cam/a\0b\n", b"sent 22 1 2 cam/c\r\n", b"\r\n"])
    w("not-a-journal", [b"\x7fELF\x02\x01\x01" + bytes(range(256))])


# ---- configuration (common/config.h): the examples of INTERFACE.md, folders made relative ----

TX_YAML = """link:
  to: 127.0.0.1:7000
  mtu: 1500
  rate: 800Mbit
fec:
  overhead: 25%
  block: 128
  interleave: 16
  repeat: 1
keys:
  secret: /etc/sluice/tx.key
  receiver: /etc/sluice/rx.pub
spools:
  - name: cam-north
    path: spool/cam-north
    after: delete
    keep_for: 1h
events:
  - name: vms
    listen: udp:127.0.0.1:5140
metrics:
  listen: 127.0.0.1:9471
state: state-tx
log:
  level: info
"""

RX_YAML = """link:
  listen: 0.0.0.0:7000
keys:
  secret: /etc/sluice/rx.key
  senders: [/etc/sluice/tx.pub]
output:
  files: out/files
  events: out/events
retention:
  days: 30
limits:
  memory: 512MB
  object: 4GB
metrics:
  listen: 127.0.0.1:9472
state: state-rx
log:
  level: info
  audit: audit.jsonl
"""


def config_seeds():
    def w(name, text):
        write("fuzz_config", name, text.encode() if isinstance(text, str) else text)
    # valid
    w("tx", TX_YAML)
    w("rx", RX_YAML)
    w("tx-extensions", TX_YAML.replace("  rate: 800Mbit\n", "  rate: 1Gbit\n  impair: \"drop=0.05,burst=0.03:30,seed=1\"\n")
      + "workers: 2\n")
    w("tx-events", TX_YAML.replace("    listen: udp:127.0.0.1:5140\n",
                                   "    listen: tcp:[::1]:5141\n    max_line: 1MiB\n    queue: 10\n"
                                   "    compress: 19\n    idle_timeout: 30min\n"
                                   "  - name: sock\n    listen: unix:/run/sluice/ev.sock\n"))
    w("tx-flow", "{link: {to: '[::1]:7000'}, keys: {secret: a, receiver: b},"
      " spools: [{name: a, path: s/a, after: keep, keep_for: 0}]}\n")
    w("rx-forward", RX_YAML.replace("  events: out/events\n", "  events: out/events\n  forward: unix:/run/siem.sock\n"))
    w("rx-anchors", RX_YAML.replace("  secret: /etc/sluice/rx.key\n", "  secret: &k /etc/sluice/rx.key\n")
      .replace("[/etc/sluice/tx.pub]", "[/etc/sluice/tx.pub, *k]"))
    # one step from valid
    w("empty", "")
    w("comment-only", "# nothing\n")
    w("list-root", "- link\n- keys\n")
    w("syntax-error", TX_YAML.replace("  mtu: 1500\n", "  mtu: [1500\n"))
    w("tab-indent", TX_YAML.replace("  mtu:", "\tmtu:"))
    w("duplicate-key", TX_YAML + "state: again\n")
    w("unknown-key", RX_YAML + "colour: blue\n")
    w("out-of-range", TX_YAML.replace("block: 128", "block: 255").replace("25%", "401%")
      .replace("mtu: 1500", "mtu: -1").replace("repeat: 1", "repeat: 99999999999999999999"))
    w("fec-too-big", TX_YAML.replace("block: 128", "block: 250").replace("25%", "10%"))
    w("bad-units", TX_YAML.replace("800Mbit", "800 parsecs").replace("1h", "1.5 fortnights"))
    w("bad-addresses", TX_YAML.replace("127.0.0.1:7000", "localhost:7000")
      .replace("udp:127.0.0.1:5140", "unix:relative"))
    w("dup-names", TX_YAML.replace("spools:\n", "spools:\n  - name: cam-north\n    path: spool/other\n"))
    w("nested-folders", RX_YAML.replace("out/events", "out/files/ev").replace("state-rx", "out"))
    w("audit-in-output", RX_YAML.replace("audit.jsonl", "out/files/audit.jsonl"))
    w("names-with-control", TX_YAML.replace("name: cam-north", 'name: "cam\\nnorth\\u202e"'))
    w("recursive-alias", "link: &a {to: *a}\nkeys: &b [*b]\n")
    w("many-aliases", "x: &a [1, 2, 3]\nlink: {to: *a}\nspools: [*a, *a, *a, *a]\nevents: *a\n")
    w("two-documents", TX_YAML + "---\n" + RX_YAML)
    w("not-utf8", TX_YAML.encode().replace(b"cam-north", b"cam\xff\xfe"))
    w("nul", TX_YAML.encode().replace(b"state-tx", b"state\0tx"))


if __name__ == "__main__":
    wire_seeds()
    msg_seeds()
    pathrule_seeds()
    senders_seeds()
    journal_seeds()
    config_seeds()
