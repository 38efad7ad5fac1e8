#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Live view benchmark (issue 12): the recorder's CPU and memory with N
cameras recording (as bench/bench.py: reel-sim, the 1080p clip) and V live
viewers, viewer i reading GET /api/cameras/cam{i}/live.mp4 to the end of
the run (each of a different camera). The figures are bench.py's (CPU % of
one core per camera and in all, PSS, frames lost = sent from the first key
frame - stored), plus what each viewer received.

    python3 bench/live.py --build build -n 64 --viewers 16 -t 20

Only the Python standard library is used. See bench/README.md.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

USER, PASSWORD = "bench", "live view benchmark password"


class Viewer(threading.Thread):
    """Reads live.mp4 of one camera until stopped; counts bytes and fragments."""

    def __init__(self, port, sid, cam):
        super().__init__(daemon=True)
        self.port, self.sid, self.cam = port, sid, cam
        self.bytes = 0
        self.status = None
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set() and self.status != 200:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                s.sendall(f"GET /api/cameras/{self.cam}/live.mp4 HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                          f"Cookie: reel_session={self.sid}\r\n\r\n".encode())
                first = s.recv(65536)
                m = re.match(rb"HTTP/1\.[01] (\d+)", first)
                self.status = int(m.group(1)) if m else None
                if self.status != 200:
                    s.close()
                    time.sleep(0.5)
                    continue
                self.bytes += len(first)
                s.settimeout(1)
                while not self.stop_ev.is_set():
                    try:
                        d = s.recv(1 << 16)
                    except socket.timeout:
                        continue
                    if not d:
                        self.status = None
                        break
                    self.bytes += len(d)
                s.close()
            except OSError:
                time.sleep(0.5)


class LiveReel(bench.Reel):
    """bench.Reel with the web server on and V live viewers."""
    name = "reel+live"

    def __init__(self, args, out, sim):
        self.a, self.out, self.sim = args, out, sim
        self.data = out
        run = bench.run_quiet
        for cmd in (["init"], ["user", "add", USER, "--password-file", args.pwfile]):
            r = run([args.reel, "-d", self.data, *cmd])
            if r.returncode:
                raise RuntimeError(f"reel {cmd[0]}: {r.stderr}")
        for i in range(sim.n):
            r = run([args.reel, "-d", self.data, "camera", "add", f"cam{i}", sim.url(i)])
            if r.returncode:
                raise RuntimeError(f"reel camera add: {r.stderr}")
        self.port = bench.free_port()
        self.log = open(os.path.join(os.path.dirname(out), "reel.log"), "wb")
        self.procs = [subprocess.Popen(["nice", "-n", str(args.nice), args.reel, "-d", self.data, "run",
                                        "--http", f"127.0.0.1:{self.port}"] + args.reel_args.split(),
                                       stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)]
        self.t_start = time.time()
        self.viewers = []
        sid = self.login()
        for i in range(min(args.viewers, sim.n)):
            v = Viewer(self.port, sid, f"cam{i}")
            v.start()
            self.viewers.append(v)

    def login(self):
        t0 = time.time()
        while time.time() - t0 < 30:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("POST", "/api/login", body=json.dumps({"username": USER, "password": PASSWORD}),
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                if r.status == 200:
                    return re.match(r"reel_session=([0-9a-f]{64});", r.getheader("Set-Cookie")).group(1)
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("cannot log in to reel run")

    def stop(self):
        self.viewer_bytes = [v.bytes for v in self.viewers]
        self.viewers_streaming = sum(1 for v in self.viewers if v.status == 200)
        for v in self.viewers:
            v.stop_ev.set()
        for v in self.viewers:
            v.join(5)
        super().stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("REEL_BUILD", "build"))
    ap.add_argument("-n", "--cameras", type=int, default=64)
    ap.add_argument("--viewers", type=int, default=16)
    ap.add_argument("-t", "--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--drain", type=float, default=2.0)
    ap.add_argument("--reel-args", default="")
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--json", help="write the result here as JSON")
    a = ap.parse_args()
    a.reel = os.path.join(a.build, "src/reel/reel")
    a.sim = os.path.join(a.build, "sim/reel-sim")
    a.clip = os.path.join(a.build, "clips/h264-1080p.264")
    work = tempfile.mkdtemp(prefix="reel-bench-live-")
    a.pwfile = os.path.join(work, "pw")
    with open(a.pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    rec = {}

    class Rec(LiveReel):
        def __init__(self, *args):
            super().__init__(*args)
            rec["r"] = self

    try:
        res = bench.measure(a, Rec, a.cameras, os.path.join(work, "run"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r = rec["r"]
    res["viewers"] = len(r.viewers)
    res["viewers_streaming_at_end"] = r.viewers_streaming
    res["viewer_mbit_s"] = [round(b * 8 / 1e6 / (r.t_end - r.t_start), 2) for b in r.viewer_bytes]
    print(f"| cameras | viewers | CPU % in all | CPU %/cam | PSS MB in all | PSS MB/cam | frames lost | "
          f"viewers streaming at end | Mbit/s per viewer (min-max) |")
    print("|---|---|---|---|---|---|---|---|---|")
    mb = res["viewer_mbit_s"] or [0]
    print(f"| {a.cameras} | {len(r.viewers)} | {res['cpu_pct_total']:.1f} | {res['cpu_pct_per_cam']:.3f} | "
          f"{res['pss_per_cam'] * a.cameras / 1e6:.1f} | {res['pss_per_cam'] / 1e6:.2f} | {res['frames_lost']} | "
          f"{r.viewers_streaming}/{len(r.viewers)} | {min(mb):.1f}-{max(mb):.1f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
