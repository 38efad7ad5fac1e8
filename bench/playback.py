#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Playback benchmark: time to first byte and throughput of
GET /api/cameras/NAME/view.mp4?start=..&end=.. from `reel run --http`.

It makes a data directory with one camera whose footage (HOURS, default 25 h,
so that a 24 h range is full) is synthesised by reel-bench-fill from a clip,
adds an API token (`reel token add`), starts `reel run --http 127.0.0.1:PORT`
(the camera's URL points nowhere, so the recorder only serves), then for each
range (1 min, 1 h, 24 h, ending 10 minutes before the footage ends) and each
client count (1, 16) runs that many concurrent GETs with the bearer token and
reports per case: time to the status line + headers, time to the first body
byte (median and max over clients), and the aggregate body throughput. Each
client reads at most --max-bytes of the body (the 24 h file is gigabytes),
so throughput is measured over that prefix.

Only the Python standard library is used. See bench/README.md.
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

RANGES = [("1 min", 60), ("1 h", 3600), ("24 h", 86400)]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reel(a, *args, check=True):
    r = subprocess.run([a.reel, "-d", a.data, *args], capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"reel {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def one_get(port, path, token, max_bytes, out, i):
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        c.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = c.getresponse()
        t_head = time.monotonic() - t0
        if resp.status != 200:
            out[i] = {"error": f"HTTP {resp.status}: {resp.read(300)!r}"}
            return
        first = resp.read(1)
        t_first = time.monotonic() - t0
        got = len(first)
        while got < max_bytes:
            b = resp.read(min(1 << 20, max_bytes - got))
            if not b:
                break
            got += len(b)
        t_end = time.monotonic() - t0
        length = resp.getheader("Content-Length")
        out[i] = {"head_s": t_head, "ttfb_s": t_first, "bytes": got, "total_s": t_end,
                  "length": int(length) if length else None}
    except Exception as e:  # reported per client
        out[i] = {"error": str(e)}
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("REEL_BUILD", "build"))
    ap.add_argument("--clip", help="H.264 Annex-B clip to repeat (default: build/clips/h264.264, "
                                   "640x360 0.8 Mbit/s: 25 h is about 9 GB)")
    ap.add_argument("--hours", type=float, default=25.0)
    ap.add_argument("--clients", default="1,16")
    ap.add_argument("--max-bytes", type=int, default=256 << 20,
                    help="body bytes each client reads at most (default 256 MiB)")
    ap.add_argument("--data", help="reuse/keep this data dir (filled once)")
    ap.add_argument("--fill", help="reel-bench-fill binary (default: BUILD/bench/reel-bench-fill)")
    a = ap.parse_args()
    a.reel = os.path.join(a.build, "src/reel/reel")
    fill = a.fill or os.path.join(a.build, "bench/reel-bench-fill")
    a.clip = a.clip or os.path.join(a.build, "clips/h264.264")
    for f in (a.reel, fill, a.clip):
        if not os.path.exists(f):
            ap.error(f"{f} not found (bench/run.sh builds and makes the clips)")
    usage = subprocess.run([a.reel, "--help"], capture_output=True, text=True)
    if "--http" not in usage.stdout + usage.stderr or "token add" not in usage.stdout + usage.stderr:
        log("this reel has no HTTP server or no `token add` yet: the playback benchmark cannot run")
        return 77
    tmp = None
    if not a.data:
        tmp = tempfile.mkdtemp(prefix="reel-playback-")
        a.data = os.path.join(tmp, "data")
    marker = os.path.join(a.data, "bench-fill.end")
    if not os.path.exists(marker):
        os.makedirs(os.path.dirname(os.path.abspath(a.data)), exist_ok=True)
        reel(a, "init")
        reel(a, "camera", "add", "bench", "rtsp://127.0.0.1:9/none")
        end = int(time.time())
        t0 = time.monotonic()
        r = subprocess.run(["nice", fill, a.data, "bench", a.clip, str(a.hours), "--end", str(end)],
                           capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"reel-bench-fill: {r.stderr.strip()}")
        log(f"filled {a.hours} h in {time.monotonic() - t0:.1f} s: {r.stdout.strip()}")
        with open(marker, "w") as f:
            f.write(str(end))
    with open(marker) as f:
        end = int(f.read())
    # a token: `reel token add` needs a user; `reel user add` makes one
    reel(a, "user", "add", "bench", check=False)
    name = f"bench{int(time.time())}"
    r = reel(a, "token", "add", name, "--user", "bench")
    m = re.search(r"reel_[A-Za-z0-9_\-]+", r.stdout + r.stderr)
    if not m:
        raise SystemExit(f"no token in `reel token add` output: {r.stdout} {r.stderr}")
    token = m.group(0)
    port = free_port()
    logf = open(os.path.join(os.path.dirname(a.data), "reel-run.log"), "wb")
    p = subprocess.Popen([a.reel, "-d", a.data, "run", "--http", f"127.0.0.1:{port}"],
                         stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    rows = []
    try:
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or p.poll() is not None:
                    raise SystemExit("reel run did not start serving HTTP (see reel-run.log)")
                time.sleep(0.1)
        stop = end - 600
        for label, secs in RANGES:
            path = f"/api/cameras/bench/view.mp4?start={stop - secs}&end={stop}"
            for n in [int(x) for x in a.clients.split(",")]:
                out = [None] * n
                th = [threading.Thread(target=one_get, args=(port, path, token, a.max_bytes, out, i))
                      for i in range(n)]
                t0 = time.monotonic()
                for t in th:
                    t.start()
                for t in th:
                    t.join()
                wall = time.monotonic() - t0
                errs = [o["error"] for o in out if "error" in o]
                if errs:
                    rows.append(f"| {label} | {n} | error: {errs[0][:80]} | | | | |")
                    log(f"{label} x{n}: {errs[0]}")
                    continue
                ttfb = [o["ttfb_s"] for o in out]
                head = [o["head_s"] for o in out]
                total = sum(o["bytes"] for o in out)
                length = out[0]["length"]
                rows.append(f"| {label} | {n} | {statistics.median(head) * 1e3:.1f} | "
                            f"{statistics.median(ttfb) * 1e3:.1f} | {max(ttfb) * 1e3:.1f} | "
                            f"{(length or 0) / 1e6:.1f} | {total / 1e6 / wall:.0f} |")
                log(rows[-1])
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        logf.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print("| range | clients | headers ms (median) | first byte ms (median) | first byte ms (max) | "
          "file MB | MB/s (all clients) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
