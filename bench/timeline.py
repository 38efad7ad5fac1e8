#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The timeline's API benchmark (issue 13): how long Reel takes to answer
GET /api/timeline for 31 days x 16 cameras and for 1 camera x 1 day, the
recordings list of an hour, and the first fragment (init.mp4 + frag.m4s) of
a recording, over footage made by reel-bench-tl-fill.

    bench/timeline.py [--build build] [--data DIR] [--cameras 16] [--days 31] [-n 50]

Without --data it makes a fresh data directory in /tmp (reel init, then
reel-bench-tl-fill: about a minute and 4 GB of reel.db for 16 cameras x
31 days) and removes it afterwards; with --data it uses that one (filled
before, no recorder running) and keeps it. It starts `reel run` on a free
port, signs in, and times each request n times over a kept-alive
connection (client-side wall time from sending the request to the last
byte, Python's http.client on the same machine). The first timeline query
after the start also seeds the server's span cache: it is reported apart
("cold"). Prints a Markdown table; --json FILE writes the numbers too.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def iso(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix_s)) + "Z"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Client:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def req(self, method, path, body=None):
        h = {"Host": "127.0.0.1"}
        if self.cookie:
            h["Cookie"] = self.cookie
        if body is not None:
            h["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        dt = time.perf_counter() - t0
        return r, data, dt


def timed(cl, path, n):
    ts, size = [], 0
    for _ in range(n):
        r, data, dt = cl.req("GET", path)
        if r.status != 200:
            raise SystemExit(f"{path}: {r.status} {data[:200]!r}")
        ts.append(dt * 1000)
        size = len(data)
    ts.sort()
    return {"median_ms": statistics.median(ts), "p95_ms": ts[int(len(ts) * 0.95) - 1] if len(ts) >= 20 else ts[-1],
            "min_ms": ts[0], "bytes": size, "n": n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--data")
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--days", type=float, default=31)
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--json")
    a = ap.parse_args()
    reel = os.path.join(a.build, "src", "reel", "reel")
    fill = os.path.join(a.build, "bench", "reel-bench-tl-fill")
    clip = os.path.join(a.build, "clips", "h264-small.264")
    tmp = None
    data = a.data
    fill_s = None
    if not data:
        tmp = tempfile.mkdtemp(prefix="reel-tl-bench-")
        data = os.path.join(tmp, "data")
        subprocess.run([reel, "-d", data, "init"], check=True, capture_output=True)
        t0 = time.time()
        out = subprocess.run([fill, data, clip, "--cameras", str(a.cameras), "--days", str(a.days)], check=True,
                             capture_output=True, text=True).stdout
        fill_s = time.time() - t0
        print(f"fill: {out.strip()} in {fill_s:.1f} s", file=sys.stderr)
    port = free_port()
    log = open(os.path.join(tmp or "/tmp", "reel-tl-bench.log"), "w")
    proc = subprocess.Popen([reel, "-d", data, "run", "--http", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    res = {"load_before": os.getloadavg()}
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit("reel run did not start")
                time.sleep(0.2)
        pw = open(os.path.join(data, "initial-admin-password")).read().strip()
        cl = Client(port)
        r, body, _ = cl.req("POST", "/api/login", json.dumps({"username": "admin", "password": pw}))
        if r.status != 200:
            raise SystemExit(f"login: {r.status} {body!r}")
        cl.cookie = re.match(r"(reel_session=[0-9a-f]+)", r.getheader("Set-Cookie")).group(1)
        cams = [c["name"] for c in json.loads(cl.req("GET", "/api/cameras")[1])["cameras"]]
        now = int(time.time())
        start = now - int(a.days * 86400)
        q_all = f"/api/timeline?start={iso(start)}&end={iso(now)}"
        r, body, dt = cl.req("GET", q_all)
        res["timeline_all_cold_ms"] = dt * 1000
        j = json.loads(body)
        res["timeline_all_cameras"] = len(j["cameras"])
        res["timeline_all_spans"] = sum(len(c["spans"]) for c in j["cameras"])
        res["timeline_all_gaps"] = sum(len(c["gaps"]) for c in j["cameras"])
        res["timeline_all"] = timed(cl, q_all, a.n)
        day = now - 86400 * 3
        res["timeline_1cam_1day"] = timed(cl, f"/api/timeline?start={iso(day)}&end={iso(day + 86400)}"
                                              f"&cameras={cams[0]}", a.n)
        t = now - 86400 * 5 + 1800
        rl = f"/api/cameras/{cams[0]}/recordings?start={iso(t)}&end={iso(t + 3600)}"
        res["recordings_1h"] = timed(cl, rl, a.n)
        recs = json.loads(cl.req("GET", rl)[1])["recordings"]
        rec = recs[len(recs) // 2]
        res["init_mp4"] = timed(cl, f"/api/cameras/{cams[0]}/init.mp4?entry={rec['entry']}", a.n)
        res["first_fragment_2s"] = timed(cl, f"/api/cameras/{cams[0]}/frag.m4s?rec={rec['id']}&from=0&to=180000",
                                         a.n)
        res["fragment_whole_recording"] = timed(cl, f"/api/cameras/{cams[0]}/frag.m4s?rec={rec['id']}", a.n)
        # a click somewhere in 31 days: recordings list around t + init + first fragment, in sequence
        clicks = []
        for k in range(min(a.n, 20)):
            tc = start + 86400 + (k * 1234567) % int(a.days * 86400 - 2 * 86400)
            t0 = time.perf_counter()
            rr = json.loads(cl.req("GET", f"/api/cameras/{cams[k % len(cams)]}/recordings?start={iso(tc)}"
                                          f"&end={iso(tc + 120)}")[1])["recordings"]
            if rr:
                cl.req("GET", f"/api/cameras/{cams[k % len(cams)]}/init.mp4?entry={rr[0]['entry']}")
                cl.req("GET", f"/api/cameras/{cams[k % len(cams)]}/frag.m4s?rec={rr[0]['id']}&from=0&to=180000")
            clicks.append((time.perf_counter() - t0) * 1000)
        clicks.sort()
        res["click_list_init_frag"] = {"median_ms": statistics.median(clicks), "max_ms": clicks[-1], "n": len(clicks)}
        res["load_after"] = os.getloadavg()
        res["fill_s"] = fill_s
        res["cameras"], res["days"] = len(cams), a.days
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"| what ({res['cameras']} cameras x {res['days']:g} days, 60 s recordings) | median ms | p95 ms | bytes |")
    print("|---|---|---|---|")
    print(f"| /api/timeline all cameras, first query (seeds the span cache) | {res['timeline_all_cold_ms']:.1f} | | |")
    for k, label in [("timeline_all", "/api/timeline all cameras, 31 days"),
                     ("timeline_1cam_1day", "/api/timeline 1 camera, 1 day"),
                     ("recordings_1h", "recordings list, 1 hour"), ("init_mp4", "init.mp4"),
                     ("first_fragment_2s", "frag.m4s, first 2 s of a recording"),
                     ("fragment_whole_recording", "frag.m4s, a whole 60 s recording")]:
        v = res[k]
        print(f"| {label} | {v['median_ms']:.1f} | {v['p95_ms']:.1f} | {v['bytes']} |")
    c = res["click_list_init_frag"]
    print(f"| a click: recordings list + init.mp4 + first fragment | {c['median_ms']:.1f} | max {c['max_ms']:.1f} | |")
    print(f"\nload average before {res['load_before']}, after {res['load_after']}; "
          f"spans {res['timeline_all_spans']}, gaps {res['timeline_all_gaps']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
