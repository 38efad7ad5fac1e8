#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scrub-preview thumbnail benchmark (issue 13): what thumb.jpg costs.

It starts reel-sim with two streams, the 1080p H.264 clip
(build/clips/h264-1080p.264, GOP 2 s) as camera "main" and the same clip
plus a small one (build/clips/h264-small.264) as camera "sub" with a
sub-stream, records RECORD seconds, then for each camera asks for the
thumbnail (w=160) of every key frame of the footage (t stepping by the GOP)
and measures, with reel's CPU time (utime + stime of /proc/PID/stat) minus
what recording alone costs over the same time:

  * CPU per thumbnail decoded (ms), and the wall time of a miss and a hit;
  * the bytes the cache holds (DATADIR/thumbs) per thumbnail, and so per
    camera-day when every key frame of a day is made (86400 / GOP thumbnails)
    and when one every 10 s is (what the timeline asks at its usual zooms);
  * the CPU a camera would cost if every key frame were made as it is
    recorded (CPU per thumbnail / GOP), as a share of one core.

Only the Python standard library. See bench/README.md.
"""
import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def iso(x):
    return datetime.fromtimestamp(x, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--record", type=float, default=60, help="seconds of footage (default 60)")
    ap.add_argument("--gop", type=float, default=2.0, help="the clip's key frame interval in seconds")
    a = ap.parse_args()
    reel = os.path.join(a.build, "src/reel/reel")
    sim = os.path.join(a.build, "sim/reel-sim")
    tmp = tempfile.mkdtemp(prefix="reel-thumbs-bench-")
    data = os.path.join(tmp, "data")
    procs = []
    try:
        ports = []
        for i, clip in enumerate(("h264-1080p.264", "h264-small.264")):
            port = free_port()
            ready = os.path.join(tmp, f"sim{i}.ready")
            procs.append(subprocess.Popen([sim, "--clip", os.path.join(a.build, "clips", clip), "--codec", "h264",
                                           "--cameras", "2", "--listen", "127.0.0.1", "--port", str(port),
                                           "--ready-file", ready], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            while not os.path.exists(ready):
                time.sleep(0.1)
            ports.append(port)
        run = lambda *x: subprocess.run([reel, "-d", data, *x], check=True, capture_output=True, text=True)
        run("init")
        run("camera", "add", "main", f"rtsp://127.0.0.1:{ports[0]}/cam/0")
        run("camera", "add", "sub", f"rtsp://127.0.0.1:{ports[0]}/cam/1", "--sub-url",
            f"rtsp://127.0.0.1:{ports[1]}/cam/0")
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("bench password 1234\n")
        run("user", "add", "bench", "--password-file", pw)
        tok = run("token", "add", "bench", "--user", "bench")
        token = re.search(r"reel_[A-Za-z0-9_\-]+", tok.stdout + tok.stderr).group(0)
        hport = free_port()
        errlog = open(os.path.join(tmp, "reel.log"), "w")
        rp = subprocess.Popen([reel, "-d", data, "run", "--http", f"127.0.0.1:{hport}"], stdout=errlog,
                              stderr=subprocess.STDOUT)
        procs.append(rp)
        t0 = time.time()
        log(f"recording 2 cameras for {a.record:.0f} s")
        time.sleep(a.record)
        # what recording alone costs (CPU s per wall s), over 10 s
        c0, w0 = cpu_s(rp.pid), time.monotonic()
        time.sleep(10)
        idle = (cpu_s(rp.pid) - c0) / (time.monotonic() - w0)
        log(f"recording alone: {idle * 100:.1f} % of a core; loadavg {os.getloadavg()[0]:.2f}")
        conn = http.client.HTTPConnection("127.0.0.1", hport, timeout=60)

        def get(path):
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Host": "127.0.0.1"})
            r = conn.getresponse()
            body = r.read()
            return r.status, r.getheader("X-Reel-Thumb"), r.getheader("X-Reel-Stream"), body

        rows = []
        for cam in ("main", "sub"):
            before = du(os.path.join(data, "thumbs"))
            ts = [t0 + 3 + i * a.gop for i in range(int((a.record - 6) / a.gop))]
            c0, w0 = cpu_s(rp.pid), time.monotonic()
            n, stream, miss_wall = 0, "?", []
            for t in ts:
                s0 = time.monotonic()
                st, how, stream_h, _ = get(f"/api/cameras/{cam}/thumb.jpg?t={iso(t)}&w=160")
                if st == 200 and how == "decoded":
                    n += 1
                    stream = stream_h
                    miss_wall.append(time.monotonic() - s0)
            wall = time.monotonic() - w0
            cpu = cpu_s(rp.pid) - c0 - idle * wall
            hit_wall = []
            for t in ts:
                s0 = time.monotonic()
                st, how, _, _ = get(f"/api/cameras/{cam}/thumb.jpg?t={iso(t)}&w=160")
                if st == 200 and how == "cached":
                    hit_wall.append(time.monotonic() - s0)
            size = du(os.path.join(data, "thumbs")) - before
            per = size / max(n, 1)
            ms = cpu / max(n, 1) * 1000
            rows.append((cam, stream, n, ms, sorted(miss_wall)[len(miss_wall) // 2] * 1000 if miss_wall else 0,
                         sorted(hit_wall)[len(hit_wall) // 2] * 1000 if hit_wall else 0, per,
                         per * 86400 / a.gop, per * 86400 / 10, ms / 1000 / a.gop * 100))
        conn.close()
        print(f"load average at the end: {os.getloadavg()[0]:.2f}; recording alone {idle * 100:.1f} % of a core")
        print("| camera | decoded from | thumbnails | CPU per thumbnail | miss (median) | hit (median) | bytes each |"
              " per camera-day, every key frame | per camera-day, one per 10 s | CPU if every key frame made at close |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for cam, stream, n, ms, miss, hit, per, day_all, day_10, share in rows:
            print(f"| {cam} | {stream} | {n} | {ms:.1f} ms | {miss:.1f} ms | {hit:.1f} ms | {per:.0f} B |"
                  f" {day_all / 1e6:.1f} MB | {day_10 / 1e6:.2f} MB | {share:.2f} % of a core |")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
