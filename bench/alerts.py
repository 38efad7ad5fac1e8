#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Webhook delivery figures (docs/alerts.md), against a real `reel run`
recording reel-sim cameras:

1. throughput and latency: N test deliveries (POST /api/webhooks/ID/test)
   to a local receiver that answers 200 at once: how long until all arrive,
   deliveries per second, first and last latency;
2. a dead receiver: a TCP listener that accepts and never answers (each
   attempt waits the full 10 s timeout) while the cameras record: frames
   per second recorded with and without it, and GET /api/health latency.

    bench/alerts.py [--build build] [-n 200] [--cameras 4] [--seconds 20]

Prints one Markdown table. Needs build/clips (tests/data/make-clips.sh).
"""
import argparse
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()
    reel = os.path.join(a.build, "src/reel/reel")
    sim = os.path.join(a.build, "sim/reel-sim")
    clip = os.path.join(a.build, "clips/h264.264")
    tmp = tempfile.mkdtemp(prefix="reel-alerts-bench-")
    data = os.path.join(tmp, "data")
    procs = []
    try:
        subprocess.run([reel, "-d", data, "init"], check=True, capture_output=True)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sport = s.getsockname()[1]
        s.close()
        ready = os.path.join(tmp, "sim.ready")
        procs.append(subprocess.Popen([sim, "--clip", clip, "--codec", "h264", "--cameras", str(a.cameras),
                                       "--listen", "127.0.0.1", "--port", str(sport), "--ready-file", ready],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not os.path.exists(ready):
            time.sleep(0.05)
        for i in range(a.cameras):
            subprocess.run([reel, "-d", data, "camera", "add", f"c{i}", f"rtsp://127.0.0.1:{sport}/cam/{i}"],
                           check=True, capture_output=True)
        log = open(os.path.join(tmp, "reel.log"), "w+")
        procs.append(subprocess.Popen([reel, "-d", data, "run", "--http", "127.0.0.1:0"], stdout=log,
                                      stderr=subprocess.STDOUT))
        port = None
        for _ in range(300):
            log.seek(0)
            m = re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", log.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        pw = open(os.path.join(data, "initial-admin-password")).read().strip()

        def req(method, path, body=None, cookie=None, csrf=None):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            h = {"Host": "127.0.0.1"}
            if cookie:
                h["Cookie"] = f"reel_session={cookie}"
            if csrf:
                h["X-CSRF-Token"] = csrf
            if body is not None:
                h["Content-Type"] = "application/json"
                body = json.dumps(body)
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            d = r.read()
            hdr = r.getheader("Set-Cookie")
            c.close()
            return r.status, d, hdr

        st, d, hdr = req("POST", "/api/login", {"username": "admin", "password": pw})
        sid = re.match(r"reel_session=([0-9a-f]+);", hdr).group(1)
        csrf = json.loads(d)["csrf_token"]

        got = []
        lock = threading.Lock()

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    got.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *x):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        st, d, _ = req("POST", "/api/webhooks", {"name": "ok", "url": f"http://127.0.0.1:{srv.server_address[1]}/",
                                                 "kinds": ["*"]}, sid, csrf)
        ok_id = json.loads(d)["webhook"]["id"]
        t0 = time.monotonic()
        for _ in range(a.n):
            req("POST", f"/api/webhooks/{ok_id}/test", None, sid, csrf)
        t_queued = time.monotonic()
        while len(got) < a.n and time.monotonic() - t0 < 120:
            time.sleep(0.05)
        t_all = (got[-1] if got else time.monotonic()) - t0
        rows = [("test deliveries", f"{len(got)}/{a.n}"),
                ("queued via the API in", f"{t_queued - t0:.2f} s"),
                ("all received after", f"{t_all:.2f} s"),
                ("delivery rate", f"{len(got) / t_all:.0f}/s" if t_all > 0 else "-")]
        req("PATCH", f"/api/webhooks/{ok_id}", {"enabled": False}, sid, csrf)

        def frames():
            st, d, _ = req("GET", "/api/cameras", None, sid)
            return sum(c.get("frames", 0) or 0 for c in json.loads(d).get("cameras", []))

        def health_ms(k):
            v = []
            for _ in range(k):
                t = time.monotonic()
                req("GET", "/api/health")
                v.append((time.monotonic() - t) * 1000)
                time.sleep(0.05)
            return v

        def fps(seconds):
            out = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                d = subprocess.run([reel, "-d", data, "frames", "--camera", "c0"], capture_output=True, text=True)
                out.append((time.monotonic(), len(d.stdout.splitlines())))
                time.sleep(seconds / 4)
            return (out[-1][1] - out[0][1]) / (out[-1][0] - out[0][0]) if len(out) > 1 else 0

        base_fps = fps(a.seconds / 2)
        base_h = health_ms(40)
        # the dead receiver: accepts, never answers
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        dead.listen(128)
        conns = []
        threading.Thread(target=lambda: [conns.append(dead.accept()) for _ in iter(int, 1)], daemon=True).start()
        st, d, _ = req("POST", "/api/webhooks", {"name": "dead", "url": f"http://127.0.0.1:{dead.getsockname()[1]}/",
                                                 "kinds": ["*"]}, sid, csrf)
        dead_id = json.loads(d)["webhook"]["id"]
        for _ in range(20):
            req("POST", f"/api/webhooks/{dead_id}/test", None, sid, csrf)
        time.sleep(1)
        dead_fps = fps(a.seconds / 2)
        dead_h = health_ms(40)
        st, d, _ = req("GET", f"/api/webhooks/{dead_id}/deliveries", None, sid)
        pend = json.loads(d)["pending"]
        rows += [("camera c0 frames/s recorded, no webhook", f"{base_fps:.1f}"),
                 ("camera c0 frames/s recorded, dead receiver", f"{dead_fps:.1f}"),
                 ("GET /api/health p50 / max, no webhook", f"{statistics.median(base_h):.1f} / {max(base_h):.1f} ms"),
                 ("GET /api/health p50 / max, dead receiver",
                  f"{statistics.median(dead_h):.1f} / {max(dead_h):.1f} ms"),
                 ("dead receiver: notes waiting at the end", str(pend))]
        print(f"cameras {a.cameras}, load average {os.getloadavg()[0]:.2f}\n")
        print("| measure | value |\n|---|---|")
        for k, v in rows:
            print(f"| {k} | {v} |")
        return 0
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
