#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A minimal RTSP load client for measuring reel-sim: opens one TCP-interleaved
# session per camera (rtsp://HOST:PORT/cam/0..N-1, no auth), reads and
# discards the media for SECS seconds, then prints the bytes received per
# camera. Not a general client: it only understands reel-sim's replies.
#   rtsp-drain.py --port 8554 --cameras 64 --seconds 30
import argparse
import selectors
import socket
import time


def rtsp(sock, req):
    sock.sendall(req.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(4096)
        if not d:
            raise SystemExit("server closed the connection during setup")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    head = head.decode()
    clen = 0
    for line in head.split("\r\n"):
        if line.lower().startswith("content-length:"):
            clen = int(line.split(":", 1)[1])
    while len(rest) < clen:
        rest += sock.recv(4096)
    if not head.startswith("RTSP/1.0 200"):
        raise SystemExit("request failed: " + head.split("\r\n")[0])
    return head, rest[clen:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8554)
    ap.add_argument("--cameras", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=30)
    a = ap.parse_args()
    sel = selectors.DefaultSelector()
    got = {}
    for i in range(a.cameras):
        url = f"rtsp://{a.host}:{a.port}/cam/{i}"
        s = socket.create_connection((a.host, a.port))
        rtsp(s, f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n")
        head, _ = rtsp(s, f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\n"
                          "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n")
        sess = [ln.split(":", 1)[1].strip().split(";")[0] for ln in head.split("\r\n")
                if ln.lower().startswith("session:")][0]
        _, extra = rtsp(s, f"PLAY {url}/ RTSP/1.0\r\nCSeq: 3\r\nSession: {sess}\r\n\r\n")
        s.setblocking(False)
        got[i] = len(extra)
        sel.register(s, selectors.EVENT_READ, i)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            try:
                d = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not d:
                sel.unregister(key.fileobj)
                print(f"cam {key.data}: closed by server")
                continue
            got[key.data] += len(d)
    total = sum(got.values())
    print(f"{a.cameras} cameras, {a.seconds:.0f} s: {total} bytes, "
          f"{total * 8 / a.seconds / max(a.cameras, 1) / 1e6:.2f} Mbit/s per camera")


if __name__ == "__main__":
    main()
