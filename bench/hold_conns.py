#!/usr/bin/env python3
"""hold_conns.py HOST PORT IDLE SLOW SECONDS - holds IDLE connections that
send nothing and SLOW clients that trickle a request one byte every 500 ms
(half of them a head, half a body after a whole head), opening a new one
whenever the server closes one, for SECONDS. Prints once a second how many
it holds and, at the end, how many the server closed (its timeouts)."""
import selectors
import socket
import sys
import time

host, port, idle, slow, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
HEAD = b"GET /api/status HTTP/1.1\r\nHost: x\r\nUser-Agent: " + b"s" * 4000 + b"\r\n\r\n"
BODY_HEAD = b"POST /api/parameters HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
sel = selectors.DefaultSelector()
conns = {}  # socket -> [kind, bytes sent]
closed = 0


def dial(kind):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return
    conns[s] = [kind, 0]
    sel.register(s, selectors.EVENT_READ)
    if kind == "body":
        try:
            s.send(BODY_HEAD)
        except OSError:
            pass


for _ in range(idle):
    dial("idle")
for i in range(slow):
    dial("head" if i % 2 else "body")
end = time.monotonic() + secs
next_trickle = next_report = time.monotonic()
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.1):
        s = key.fileobj
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:  # closed by the server: a new one in its place
            kind = conns.pop(s)[0]
            sel.unregister(s)
            s.close()
            closed += 1
            dial(kind)
    now = time.monotonic()
    if now >= next_trickle:
        next_trickle = now + 0.5
        for s, st in list(conns.items()):
            if st[0] == "idle":
                continue
            try:
                s.send(b"s" if st[0] == "head" and st[1] < len(HEAD) - 4 else b" ")
                st[1] += 1
            except OSError:
                pass
    if now >= next_report:
        next_report = now + 1
        print(f"holding {len(conns)} connections", file=sys.stderr, flush=True)
print(f"held {len(conns)} ({idle} idle, {slow} slow); the server closed {closed} on the way")
