#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpora of fuzz_wire, fuzz_msg, fuzz_pathrule, fuzz_senders_state, fuzz_journal,
fuzz_config, fuzz_keys, fuzz_kept, fuzz_metrics_http, fuzz_intake_msg, fuzz_intake_udp,
fuzz_deliver, fuzz_procmsg, fuzz_gapreport and fuzz_evbatch:
a few valid inputs and a few that are one step from valid, in the formats of common/wire.h and
rx/msg.h, names for common/pathrule.h, the receiver's STATE/senders (with datagrams from
fuzz_linkrole's seeds), the sender's STATE/journal (tx/journal.h), configurations, key files,
kept-object records, HTTP requests, intake channel messages, event datagrams, the deliver
role's operations, the link process's start message (the target signs and hashes, so these
need no keys), gap reports (common/gapreport.h) and event batches v2 (common/evbatch.h, with
their chain record, common/evchain.h: the content hash is right, the signature is zeros, which
the decoder does not check; the entries the fuzzer found in version 1 are kept: malformed, they
still reach the decoder's early refusals).

    python3 tests/fuzz/make_seeds.py [TARGET...]   (from the top of the tree; default: all)

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


# ---- common/evbatch.h v2 and its chain record (common/evchain.h) ----

def evbatch_v2(source, stream, after, events, batch=1, prev=bytes(32), flags=0, sig=bytes(64),
               version=2, tamper=None):
    """A raw-codec event batch; events: [(seq, tx_ns, bytes)]. tamper(field) may change what the
    record says."""
    import hashlib
    body = bytes([version, 0, len(source), 0]) + struct.pack("<IQQ", len(events), stream, after) + source
    for seq, tx, data in events:
        body += struct.pack("<QQI", seq, tx, len(data)) + data
    f = {"count": len(events), "stream": stream, "batch": batch, "first": events[0][0] if events else 0,
         "last": events[-1][0] if events else 0, "after": after,
         "content": hashlib.sha256(body).digest(), "prev": prev, "source": source}
    if tamper:
        tamper(f)
    rec = bytes([1, flags, len(f["source"]), 0]) + struct.pack(
        "<IQQQQQ", f["count"], f["stream"], f["batch"], f["first"], f["last"], f["after"])
    rec += f["content"] + f["prev"] + f["source"] + sig
    raw = body + rec
    return bytes([0]) + struct.pack("<I", len(raw)) + raw


def evbatch_seeds():
    w = lambda name, data: write("fuzz_evbatch", name, data)
    evs = [(0, 1700000000 * 10**9, b'{"a":1}'), (1, 1700000000 * 10**9 + 5, b"plain"),
           (7, 0, b"bad\xff\xfe ctl\x01")]
    w("py-v2", evbatch_v2(b"vms", 0x0123456789ABCDEF, 0, evs, batch=3, prev=bytes(range(32))))
    w("py-v2-restart", evbatch_v2(b"syslog.main", 7, 990, [(990, 1, b"x")], batch=2**63, flags=1))
    w("py-v2-reset", evbatch_v2(b"a", 1, 0, evs[:1], flags=2))
    w("py-v2-bad-flags", evbatch_v2(b"a", 1, 0, evs[:1], flags=4))
    w("py-v1", evbatch_v2(b"vms", 1, 0, evs, version=1))
    w("py-batch-0", evbatch_v2(b"vms", 1, 0, evs, batch=0))
    w("py-no-events", evbatch_v2(b"vms", 1, 0, []))
    w("py-count-differs", evbatch_v2(b"vms", 1, 0, evs, tamper=lambda f: f.update(count=2)))
    w("py-last-differs", evbatch_v2(b"vms", 1, 0, evs, tamper=lambda f: f.update(last=8)))
    w("py-source-differs", evbatch_v2(b"vms", 1, 0, evs, tamper=lambda f: f.update(source=b"vmt")))
    w("py-content-differs", evbatch_v2(b"vms", 1, 0, evs, tamper=lambda f: f.update(content=bytes(32))))
    w("py-record-cut", evbatch_v2(b"vms", 1, 0, evs)[:-1])


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


# ---- common/keys.h ----

def keys_seeds():
    import base64
    w = lambda n, b: write("fuzz_keys", n, b)
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    k = bytes(range(32))
    pre = [b"sluice-tx-key:", b"sluice-rx-key:", b"sluice-tx-pub:", b"sluice-rx-pub:"]
    for i, p in enumerate(pre):
        w("good-%d" % i, bytes([i]) + p + b64(k) + b"\n")
        w("good-nolf-%d" % i, bytes([i]) + p + b64(bytes(32 - j for j in range(32))))
        w("open-mode-%d" % i, bytes([i | 4]) + p + b64(k) + b"\n")
    w("crlf", b"\x02" + pre[2] + b64(k) + b"\r\n")
    w("padding", b"\x02" + pre[2] + base64.urlsafe_b64encode(k) + b"\n")
    w("std-alphabet", b"\x02" + pre[2] + base64.b64encode(bytes([0xFB] * 32)).rstrip(b"=") + b"\n")
    w("wrong-prefix", b"\x02" + pre[0] + b64(k) + b"\n")
    w("short", b"\x03" + pre[3] + b64(k[:31]) + b"\n")
    w("long", b"\x03" + pre[3] + b64(k + b"x") + b"\n")
    w("two-lines", b"\x02" + pre[2] + b64(k) + b"\n" + pre[2] + b64(k) + b"\n")
    w("nul", b"\x02" + pre[2] + b64(k) + b"\x00\n")
    w("high-bytes", b"\x02" + pre[2] + b64(k)[:-1] + b"\xc3\n")
    w("bad-last-char", b"\x02" + pre[2] + b64(k)[:-1] + b"B\n")
    w("too-long-file", b"\x02" + pre[2] + b64(k) + b"\n" + b" " * 300)
    w("empty", b"\x01")


# ---- rx/kept.h ----

def kept_seeds():
    import hashlib

    def rec(session, obj, length, blocks, manifest=b""):
        b = b"SLKEEP1\0" + struct.pack("<QQQII", session, obj, length, len(blocks), len(manifest))
        for (blk, off, ln) in blocks:
            b += struct.pack("<IQI", blk, off, ln) + bytes([blk & 0xFF]) * 32
        return b + manifest

    def w(name, flags, body, summed=False):
        if summed:
            body += hashlib.blake2b(body, digest_size=16).digest()
        write("fuzz_kept", name, bytes([flags]) + body)

    t = 1408 * 128
    w("one-block", 0, rec(0x1122334455667788, 3, 1000, [(0, 0, 1000)]))
    w("three-blocks-gap", 0, rec(0x1122334455667788, 4, 3 * t, [(0, 0, t), (2, 2 * t, t)], b"M" * 200))
    w("raw-summed", 1, rec(0xABC, 5, 5000, [(0, 0, 4000), (1, 4000, 1000)]), summed=True)
    w("raw-bad-sum", 1, rec(0xABC, 5, 5000, [(0, 0, 4000)]) + b"\0" * 16)
    w("short-file", 2, rec(7, 9, 100, [(0, 0, 100)]))
    w("missing-file", 4, rec(7, 9, 100, [(0, 0, 100)]))
    w("folder", 6, rec(7, 9, 100, [(0, 0, 100)]))
    w("no-blocks", 0, rec(7, 9, 100, []))
    w("event-id", 0, rec(7, (1 << 63) + 1, 100, [(0, 0, 100)]))
    w("over-limit", 0, rec(7, 10, (1 << 30) + 1, [(0, 0, 100)]))
    w("unordered", 0, rec(7, 11, 300, [(1, 100, 100), (0, 0, 100)]))
    w("beyond-length", 0, rec(7, 12, 300, [(0, 250, 100)]))
    w("high-block", 0, rec(7, 13, 300, [(5000000, 0, 100)]))
    w("huge-block", 0, rec(7, 13, 300, [((1 << 24) - 1, 0, 100)]))
    w("count-mismatch", 0, rec(7, 14, 300, [(0, 0, 100)])[:-10])


# ---- common/metrics.h: the request reader ----

def metrics_http_seeds():
    w = lambda n, c, b: write("fuzz_metrics_http", n, bytes([c]) + b)
    w("get-metrics", 255, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    w("get-metrics-query", 3, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    w("get-metrics-lf", 0, b"GET /metrics HTTP/1.1\nHost: x\n\n")
    w("post", 10, b"POST /metrics HTTP/1.1\r\n\r\n")
    w("not-found", 255, b"GET /metricsx HTTP/1.1\r\n\r\n")
    w("bad-version", 255, b"GET /metrics HTTP/2.0\r\n\r\n")
    w("no-spaces", 255, b"GET\r\n\r\n")
    w("control-in-target", 255, b"GET /met\x01rics HTTP/1.1\r\n\r\n")
    w("bad-method", 255, b"G(T /metrics HTTP/1.1\r\n\r\n")
    w("endless", 255, b"GET /metrics HTTP/1.1\r\n" + b"X-A: " + b"a" * 8300)
    w("nul", 255, b"GET /metrics\0 HTTP/1.1\r\n\r\n")
    w("incomplete", 255, b"GET /metrics HTTP/1.1\r\n")


# ---- tx/intake_proc/intake_proc.h: what the intake process sends ----

def intake_msg_seeds():
    w = lambda n, b: write("fuzz_intake_msg", n, b)
    m = lambda t, body: struct.pack("<II", t, len(body)) + body
    ev = lambda s, text, t=1700000000123456789: m(1, struct.pack("<IQ", s, t) + text)
    cnt = lambda k, v: m(2, struct.pack("<IQ", k, v))
    drops = lambda s, v: m(3, struct.pack("<II", s, v))
    # tx/tx_metrics.h: TXM_EVENTS_DROPPED 9, TXM_EVENTS_REJECTED 10, TXM_EVENT_CLIENTS_IDLE 13
    w("events", ev(0, b'{"a":1}') + ev(1, b"hello world") + ev(2, b"12345678") + ev(0, b"x" * 64))
    w("overflow", b"".join(ev(i % 3, b"e%d" % i) for i in range(15)))
    w("counters", cnt(10, 3) + cnt(13, 1) + cnt(9, 2) + drops(0, 5) + drops(0, 7) + drops(0, 2))
    w("bad-source", ev(0, b"ok") + ev(3, b"no"))
    w("too-long", ev(2, b"123456789"))
    w("empty-event", ev(0, b""))
    w("bad-counter", cnt(0, 1))
    w("tcp-drops", drops(1, 1))
    w("unknown-type", m(7, b"abc"))
    w("bad-header", ev(0, b"ok") + struct.pack("<II", 1, 99999))
    w("truncated", ev(1, b"abcdef")[:-2])
    w("big-tcp", ev(1, bytes(range(256)) * 4))


# ---- tx/intake/dgram.c: udp: datagrams ----

def intake_udp_seeds():
    w = lambda n, b: write("fuzz_intake_udp", n, b)
    d = lambda s, b: bytes([s]) + struct.pack("<H", len(b)) + b
    w("events", d(0, b'{"a":1}\n') + d(1, b"plain text\r\n") + d(2, b"x" * 2000))
    w("edges", d(0, b"0123456789abcdef") + d(0, b"0123456789abcdef\n") + d(0, b"0123456789abcdefg") +
      d(0, b"0123456789abcdef\r\n") + d(0, b"0123456789abcde\r\r\n"))
    w("empty", d(0, b"") + d(1, b"\n") + d(2, b"\r\n") + d(0, b"\r"))
    w("binary", d(1, bytes(range(256))) + d(1, b"a\x00b\n\n"))
    w("big", d(2, b"y" * 65535))
    w("many", b"".join(d(i % 3, b"event %d" % i) for i in range(70)))


# ---- rx/deliver.c: fuzz_deliver's operations ----

def deliver_seeds():
    w = lambda n, b: write("fuzz_deliver", n, b)
    st = lambda s: bytes([len(s)]) + s
    session = lambda sess=1, flags=0, other=False: bytes([0, sess, flags | (0x80 if other else 0), 1])

    def file(obj, spool, path, data, sess=1, t=64, k=8, flags=0):
        return (bytes([14, sess]) + struct.pack("<HHBB", obj, t, k, flags) + st(spool) + st(path) +
                struct.pack("<H", len(data)) + data)

    def block(obj, b, off, data, sess=1, ref=None):
        op = 1 if ref is None else 2
        out = bytes([op, sess]) + struct.pack("<HHIH", obj, b, off, len(data)) + data
        return out + (struct.pack("<bb", *ref) if ref is not None else b"")

    def file_end_auto(obj, sess=1, t=64, k=8):
        return bytes([4, sess]) + struct.pack("<HHB", obj, t, k)

    def manifest_auto(obj, spool, path, sess=1, t=64, k=8, flags=0, size=None, mtime=1000):
        out = bytes([5, sess]) + struct.pack("<HHBB", obj, t, k, flags | (2 if size is not None else 0))
        if size is not None:
            out += struct.pack("<I", size)
        return out + struct.pack("<I", mtime) + st(spool) + st(path)

    def plant(kind, name, data=b""):
        return bytes([15, kind]) + st(name) + struct.pack("<H", len(data)) + data

    lost = lambda obj, kind, why, sess=1: bytes([8, sess]) + struct.pack("<HBB", obj, kind, len(why)) + why
    lost_range = lambda obj, n, why, sess=1: bytes([9, sess]) + struct.pack("<HHB", obj, n, len(why)) + why
    partial = lambda obj, n, sess=1: bytes([10, sess]) + struct.pack("<HI", obj, n)
    restart = bytes([13])
    body = lambda n: bytes((i * 31 + n) & 0xFF for i in range(n))

    w("one-file", session() + file(1, b"cam", b"a.ts", body(100)))
    w("multi-block", session() + file(1, b"cam", b"seg/b.ts", body(1500), t=64, k=4))
    w("via-ring", session() + file(1, b"cam", b"c.ts", body(3000), flags=1))
    w("manifest-first", session() + file(2, b"cam", b"d.bin", body(700), flags=2))
    w("empty-file", session() + file(3, b"cam", b"empty", b""))
    w("duplicate-and-renamed", session() + file(1, b"cam", b"a.ts", body(100)) +
      file(2, b"cam", b"a.ts", body(100)) + file(3, b"cam", b"a.ts", body(101)) +
      file(4, b"cam", b"a.ts", body(102)))
    w("other-sender", session(other=True) + file(1, b"cam", b"a.ts", body(10)))
    w("no-session", file(1, b"cam", b"a.ts", body(10)))
    w("wrong-key", session() + file(1, b"cam", b"a.ts", body(10), flags=8))
    w("missing-block", session() + file(1, b"cam", b"a.ts", body(1500), k=4, flags=16))
    w("short-blocks", session() + file(1, b"cam", b"a.ts", body(1500), k=4, flags=64))
    w("repeated-block", session() + file(1, b"cam", b"a.ts", body(1500), k=4, flags=1 | 32))
    w("unsafe-names", session() + file(1, b"cam", b"../x", body(5)) + file(2, b"..", b"x", body(5)) +
      file(3, b"cam", b"a/../../b", body(5)) + file(4, b".sluice-tmp", b"x", body(5)) +
      file(5, b"cam", b".sluice-tmp/x", body(5)) + file(6, b"cam", b"a\x00b", body(5)) +
      file(7, b"cam", b"/abs", body(5)) + file(8, b"cam", b"x\\y\xe2\x80\xae", body(5)))
    w("planted-file", plant(0, b"a.ts", b"older content") + session() + file(1, b"s", b"a.ts", body(13)) +
      file(2, b"s", b"a.ts", b"older content"))
    w("planted-leaf-link", plant(1, b"b.ts") + session() + file(1, b"s", b"b.ts", body(20)))
    w("planted-folder", plant(2, b"c") + session() + file(1, b"s", b"c", body(20)) +
      file(2, b"s", b"c/d.ts", body(30)))
    w("planted-spool-link", plant(3, b"evil") + session() + file(1, b"evil", b"x.ts", body(20)))
    # 612 bytes in symbols of 64, at most 8 a block: 10 symbols, blocks of 5 (320 and 292 bytes)
    w("by-hand", session() + block(1, 0, 0, body(320)) + block(1, 1, 320, body(292)) +
      file_end_auto(1) + manifest_auto(1, b"cam", b"hand.ts"))
    w("by-hand-ring", session() + block(1, 0, 0, body(320), ref=(0, 0)) +
      block(1, 1, 320, body(292), ref=(0, 0)) + file_end_auto(1) + manifest_auto(1, b"cam", b"r.ts"))
    w("bad-ring-ref", session() + block(1, 0, 0, body(100), ref=(1, 0)) + block(2, 0, 0, body(100), ref=(0, 5)))
    w("manifest-mismatch", session() + block(1, 0, 0, body(100)) + file_end_auto(1) +
      manifest_auto(1, b"cam", b"m.ts", flags=4))
    w("manifest-size", session() + block(1, 0, 0, body(100)) + file_end_auto(1) +
      manifest_auto(1, b"cam", b"m.ts", size=99))
    w("restart-partial", session() + block(1, 0, 0, body(320)) + partial(1, 612) + restart +
      session() + block(1, 1, 320, body(292)) + file_end_auto(1) + manifest_auto(1, b"cam", b"kept.ts"))
    w("lost", session() + block(1, 0, 0, body(100)) + lost(1, 1, b"given up") + lost(2, 2, b"x") +
      lost(3, 3, b"events") + lost_range(10, 5, b"sent while stopped") + lost_range(0, 1, b"bad"))
    # an event batch (common/evbatch.h v2), raw codec: its record's signature (zeros) does not
    # verify with the pinned key, so it is refused as a whole (audited "rejected")
    batch = evbatch_v2(b"vms", 0x0123456789ABCDEF, 0,
                       [(0, 1700000000 * 10**9, b'{"a":1}'), (1, 1700000000 * 10**9, b"plain")])
    w("events", session() + bytes([11, 1]) + struct.pack("<HH", 0x8001, len(batch)) + batch)
    raw_msg = lambda t, b: bytes([12, t]) + struct.pack("<H", len(b)) + b
    w("raw-messages", session() + raw_msg(2, struct.pack("<QQIQ", 0x5E55000000000001, 1, 0, 0) + b"x") +
      raw_msg(3, struct.pack("<QQQI", 0x5E55000000000001, 1, 1, 1)) +
      raw_msg(9, struct.pack("<QQQ", 0x5E55000000000001, 1, 1)))
    w("conflicts", session() + block(1, 0, 0, body(100)) + bytes([3, 1]) + struct.pack("<HIH", 1, 100, 1) +
      bytes([3, 1]) + struct.pack("<HIH", 1, 101, 1))
    w("session-conflict", session() + session(other=True) + session(flags=3) + session(sess=2, flags=2))


# ---- rx/monitor/procmsg.h: SP_LINK's body, after a byte whose value % 4 is the sender count ----

def procmsg_seeds():
    w = lambda n, b: write("fuzz_procmsg", n, b)

    def kept(objs):
        b = struct.pack("<I", len(objs))
        for session, obj, length, top, done in objs:
            b += struct.pack("<QQQI", session, obj, length, top) + done
        return b

    def link(ns, state=b"", objs=(), incarnation=1):
        body = struct.pack("<I", incarnation) + bytes(range(0xA0, 0xC0))
        body += b"".join(bytes([0x40 + i]) * 32 for i in range(ns))
        body += struct.pack("<I", len(state)) + state + kept(objs)
        return bytes([ns]) + body

    state = b"sluice-senders 1\n" + b"00" * 32 + b" 5 1122334455667788 3 1\n"
    two = [(0x1122334455667788, 3, 5000, 10, b"\xff\x01"), (0x1122334455667788, 7, 64, 1, b"\x01")]
    w("bare", link(0))
    w("one-sender-state", link(1, state, incarnation=2))
    w("two-senders-kept", link(2, state, two))
    w("three-senders-kept-no-state", link(3, b"", two + [(9, 1, 0, 0, b"")]))
    w("truncated", link(2, state, two)[:-1])
    w("top-over-max", link(1, b"", [(1, 1, 0, (1 << 24) + 1, b"")]))


# ---- common/gapreport.h ----

def gapreport_seeds():
    def w(name, text):
        write("fuzz_gapreport", name, text.encode())
    hdr = '"format":"sluice-gap-report","version":1'
    full = ('{"time":"2026-11-22T09:59:58.123456Z","spool":"cam","path":"a/b.ts",'
            '"session":"0123456789abcdef","object":5,"object_last":7,"sender":"829ac7d7131f28e5",'
            '"reason":"link: no packet of it arrived"}')
    w("empty", '{%s,"created":"2026-11-22T10:00:00Z","lost":[]}' % hdr)
    w("full", '{%s,"created":"2026-11-22T10:00:00Z","since":"2026-11-21T10:00:00+02:00",'
              '"lost":[%s,{"session":"00000000000000aa","object":1,"object_last":1}]}' % (hdr, full))
    w("indented", '{\n  %s,\n  "lost": [\n    %s\n  ]\n}\n' % (hdr, full))
    w("version-2", '{"format":"sluice-gap-report","version":2,"lost":[]}')
    w("last-below-first", '{%s,"lost":[{"session":"0123456789abcdef","object":7,"object_last":5}]}' % hdr)
    w("unknown-key", '{%s,"lost":[{"session":"0123456789abcdef","object":1,"object_last":1,"x":1}]}' % hdr)
    w("duplicate-key", '{%s,"version":1,"lost":[]}' % hdr)
    w("bad-time", '{%s,"lost":[{"session":"0123456789abcdef","object":1,"object_last":1,'
                  '"time":"2026-02-29T00:00:00Z"}]}' % hdr)
    w("escapes", '{%s,"lost":[{"session":"0123456789abcdef","object":1,"object_last":1,'
                 '"path":"\\u202e\\u00e9\\ud83d\\ude00"}]}' % hdr)
    w("nul", '{%s,"lost":[{"session":"0123456789abcdef","object":1,"object_last":1,'
             '"path":"a\\u0000b"}]}' % hdr)
    w("big-id", '{%s,"lost":[{"session":"0123456789abcdef","object":9223372036854775807,'
                '"object_last":9223372036854775808}]}' % hdr)
    w("time-only", "2026-11-22T10:00:00.123456789Z")
    # Found by fuzz_gapreport: jansson quoted this control byte in its error, and the message
    # went to the terminal as it was.
    w("control-byte", '{%s,\x11"lost":[]}' % hdr)


if __name__ == "__main__":
    import sys
    every = {
        "fuzz_wire": wire_seeds, "fuzz_msg": msg_seeds, "fuzz_pathrule": pathrule_seeds,
        "fuzz_senders_state": senders_seeds, "fuzz_journal": journal_seeds,
        "fuzz_config": config_seeds, "fuzz_keys": keys_seeds, "fuzz_kept": kept_seeds,
        "fuzz_metrics_http": metrics_http_seeds, "fuzz_intake_msg": intake_msg_seeds,
        "fuzz_intake_udp": intake_udp_seeds, "fuzz_deliver": deliver_seeds,
        "fuzz_procmsg": procmsg_seeds, "fuzz_gapreport": gapreport_seeds,
        "fuzz_evbatch": evbatch_seeds,
    }
    for t in sys.argv[1:] or every:
        every[t]()
