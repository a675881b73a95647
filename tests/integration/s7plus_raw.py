#!/usr/bin/python3
"""s7plus_raw.py - a tiny S7CommPlus V1 sender for tests/integration/s7plus_sim.sh.

Raw bytes over the standard library's socket only (no client library of
ours), as python-snap7's client sends them (docs/s7commplus.md, the facts'
S5): COTP CR with the SIMATIC-ROOT-HMI TSAP, InitSSL, CreateObject, the
attribute-306 echo in a 72 02 frame, absolute reads and writes with 1-based
LIDs and Blob values, Explore, DeleteObject, COTP DR. Every wait is bounded
(5 s). Prints one JSON document; exits 1 on a protocol surprise.

  s7plus_raw.py PORT session                 session id, setup answer
  s7plus_raw.py PORT read DB START LEN       {"hex": ..., "errors": [...]}
  s7plus_raw.py PORT write DB START HEX      {"errors": [...]}
  s7plus_raw.py PORT explore                 [{"db", "name", "size", "vars"}]
  s7plus_raw.py PORT cr                      the COTP answer's TPDU type
"""
import json
import socket
import struct
import sys

HOST = "127.0.0.1"
# the ObjectQualifier in py7's form (S3)
OQ = bytes.fromhex("000004e8" "8969001200000000" "896a001300" "896b000400" "000000")
CR = (bytes([3, 0, 0, 0x24, 0x1F, 0xE0, 0, 0, 0, 1, 0, 0xC1, 2, 6, 0, 0xC2, 0x10])
      + b"SIMATIC-ROOT-HMI" + bytes([0xC0, 1, 0x0A]))


def fail(msg):
    print(json.dumps({"error": msg}))
    sys.exit(1)


def vlq(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def get_vlq(b, i):
    v = 0
    for _ in range(9):
        c = b[i]
        i += 1
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i
    fail("VLQ too long")


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            fail("connection closed")
        data += chunk
    return data


def recv_tpkt(s):
    hdr = recv_exact(s, 4)
    if hdr[0] != 3:
        fail("not TPKT: %s" % hdr.hex())
    n = struct.unpack(">H", hdr[2:4])[0]
    return hdr + recv_exact(s, n - 4)


def recv_pdu(s):
    """Frames joined until the one with the trailer."""
    pdu = b""
    while True:
        pk = recv_tpkt(s)
        if pk[5] != 0xF0:
            fail("not COTP DT: %s" % pk.hex())
        f = pk[7:]
        if f[0] != 0x72:
            fail("not a frame: %s" % f.hex())
        ll = struct.unpack(">H", f[2:4])[0]
        pdu += f[4:4 + ll]
        if len(f) == 8 + ll:
            return pdu


def send_pdu(s, pdu, vv=1):
    frame = bytes([0x72, vv]) + struct.pack(">H", len(pdu)) + pdu + bytes([0x72, vv, 0, 0])
    s.sendall(struct.pack(">BBH", 3, 0, 7 + len(frame)) + bytes([2, 0xF0, 0x80]) + frame)


def req(fn, seq, session, flags, body):
    return struct.pack(">BHHHHIB", 0x31, 0, fn, 0, seq, session, flags) + body


def check_rsp(pdu, fn):
    if pdu[0] != 0x32:
        fail("not a response: %s" % pdu.hex())
    got = struct.unpack(">H", pdu[3:5])[0]
    if got != fn:
        fail("function 0x%04x answered with 0x%04x: %s" % (fn, got, pdu.hex()))
    return pdu[10:]


def wstring(name):
    b = name.encode("utf-8")
    return bytes([0, 0x15]) + vlq(len(b)) + b


def connect():
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.settimeout(5)
    s.sendall(CR)
    cc = recv_tpkt(s)
    if cc[5] != 0xD0:
        fail("no CC: %s" % cc.hex())
    send_pdu(s, req(0x05B3, 0, 0, 0x30, bytes(4)))
    check_rsp(recv_pdu(s), 0x05B3)
    obj = (bytes([0xA1]) + struct.pack(">I", 211) + vlq(287) + b"\x00\x00"
           + bytes([0xA3]) + vlq(300) + bytes([0, 0x12]) + struct.pack(">I", 0x80C3C901)
           + bytes([0xA1]) + struct.pack(">I", 211) + vlq(255) + b"\x00\x00"
           + bytes([0xA3]) + vlq(233) + wstring("SubscriptionContainer") + bytes([0xA2, 0xA2]))
    body = struct.pack(">I", 285) + bytes([0, 4, 0]) + bytes(4) + obj + bytes(4)
    send_pdu(s, req(0x04CA, 1, 288, 0x36, body))
    p = check_rsp(recv_pdu(s), 0x04CA)
    ret, i = get_vlq(p, 0)
    if ret != 0 or p[i] < 1:
        fail("CreateObject failed: %s" % p.hex())
    session, i = get_vlq(p, i + 1)
    if session == 0:
        fail("session id 0")
    # the attribute-306 echo, in a 72 02 frame (S5.4)
    body = struct.pack(">I", session) + b"\x01\x01" + vlq(306) + b"\x01" + bytes([0, 4, 1]) + b"\x00" + OQ + bytes(4)
    send_pdu(s, req(0x0542, 2, session, 0x34, body), vv=2)
    setup = check_rsp(recv_pdu(s), 0x0542)
    return s, session, setup


def address(db, start, length):
    lids = vlq(start + 1) + vlq(length)
    return b"\x00" + vlq(0x8A0E0000 + db) + b"\x03" + vlq(2550) + lids


def error_list(p, i):
    errors = []
    while True:
        item, i = get_vlq(p, i)
        if item == 0:
            return errors, i
        code, i = get_vlq(p, i)
        errors.append({"item": item, "code": code})


def do_read(s, session, db, start, length):
    body = struct.pack(">I", 0) + b"\x01\x06" + address(db, start, length) + OQ + b"\x01" + bytes(4)
    send_pdu(s, req(0x054C, 4, session, 0x34, body))
    p = check_rsp(recv_pdu(s), 0x054C)
    _, i = get_vlq(p, 0)
    data = ""
    while True:
        item, i = get_vlq(p, i)
        if item == 0:
            break
        if p[i:i + 2] != b"\x00\x14":
            fail("not a Blob: %s" % p.hex())
        n, i = get_vlq(p, i + 2)
        data = p[i:i + n].hex()
        i += n
    errors, i = error_list(p, i)
    return {"hex": data, "errors": errors}


def do_write(s, session, db, start, data):
    body = (struct.pack(">I", 0) + b"\x01\x06" + address(db, start, len(data)) + b"\x01\x00\x14"
            + vlq(len(data)) + data + b"\x00" + OQ + b"\x01" + bytes(4))
    send_pdu(s, req(0x0542, 5, session, 0x36, body))
    p = check_rsp(recv_pdu(s), 0x0542)
    _, i = get_vlq(p, 0)
    errors, _ = error_list(p, i)
    return {"errors": errors}


def parse_pvalue(p, i):
    flags, t = p[i], p[i + 1]
    i += 2
    if flags:
        fail("unexpected PValue flags %02x" % flags)
    if t == 0x15:
        n, i = get_vlq(p, i)
        raw = p[i:i + n]
        return (raw.decode("utf-16-be") if b"\x00" in raw else raw.decode("utf-8")), i + n
    if t == 0x04:
        return get_vlq(p, i)
    fail("unexpected PValue type %02x" % t)


def parse_object(p, i):
    """At an A1: (rid, class, attrs, children), index after its A2."""
    rid = struct.unpack(">I", p[i + 1:i + 5])[0]
    cls, i = get_vlq(p, i + 5)
    _, i = get_vlq(p, i)
    _, i = get_vlq(p, i)
    attrs, children = {}, []
    while True:
        el = p[i]
        if el == 0xA2:
            return (rid, cls, attrs, children), i + 1
        if el == 0xA3:
            aid, i = get_vlq(p, i + 1)
            attrs[aid], i = parse_pvalue(p, i)
        elif el == 0xA1:
            child, i = parse_object(p, i)
            children.append(child)
        else:
            fail("unexpected element %02x" % el)


def do_explore(s, session):
    send_pdu(s, req(0x04BB, 6, session, 0x34, b""))
    p = check_rsp(recv_pdu(s), 0x04BB)
    _, i = get_vlq(p, 0)
    dbs = []
    while p[i] == 0xA1:
        (rid, cls, attrs, children), i = parse_object(p, i)
        if cls != 2574 or rid >> 16 != 0x8A0E:
            fail("not a DB object")
        dbs.append({"db": attrs.get(2521), "name": attrs.get(233), "size": attrs.get(2),
                    "vars": [c[2].get(233) for c in children]})
    if p[i:] != bytes(4):
        fail("Explore does not end with u32 0: %s" % p[i:].hex())
    return dbs


def close(s, session):
    send_pdu(s, req(0x04D4, 9, session, 0x36, bytes(4)))
    check_rsp(recv_pdu(s), 0x04D4)
    s.sendall(bytes([3, 0, 0, 11, 6, 0x80, 0, 1, 0, 1, 0]))
    s.close()


PORT = int(sys.argv[1])
cmd = sys.argv[2]
try:
    if cmd == "cr":
        s = socket.create_connection((HOST, PORT), timeout=5)
        s.settimeout(5)
        s.sendall(CR)
        print(json.dumps({"tpdu": "%02x" % recv_tpkt(s)[5]}))
        s.close()
        sys.exit(0)
    s, session, setup = connect()
    if cmd == "session":
        out = {"session": session, "setup": setup.hex()}
    elif cmd == "read":
        out = do_read(s, session, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "write":
        out = do_write(s, session, int(sys.argv[3]), int(sys.argv[4]), bytes.fromhex(sys.argv[5]))
    elif cmd == "explore":
        out = do_explore(s, session)
    else:
        fail("unknown command " + cmd)
    close(s, session)
    print(json.dumps(out))
except (OSError, IndexError, ValueError) as e:
    fail("%s: %s" % (type(e).__name__, e))
