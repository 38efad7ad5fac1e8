#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""On-demand H.265 -> H.264 transcode benchmark (issue 12): the CPU and
memory one live.mp4?stream=h264 viewer costs `reel run` while it records.

It starts reel-sim with the 1080p H.265 clip (build/clips/h265-1080p.265,
30 fps) as one camera, `reel run --http 127.0.0.1:PORT` recording it, waits
WARMUP seconds, measures reel's CPU time (utime + stime of /proc/PID/stat)
and peak RSS (VmHWM) over SECONDS of recording alone, then opens one
GET /api/cameras/cam/live.mp4?stream=h264 reader and measures the same over
SECONDS while it streams; it reports both, the difference, the bytes and
fragments (frames) the viewer got, and the output size read by ffprobe.

Only the Python standard library (and ffprobe). See bench/README.md.
"""
import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time


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


def mem_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def window(pid, seconds):
    c0, t0 = cpu_s(pid), time.monotonic()
    rss_max = 0
    while time.monotonic() - t0 < seconds:
        time.sleep(0.25)
        rss_max = max(rss_max, mem_kib(pid, "VmRSS"))
    return (cpu_s(pid) - c0) / (time.monotonic() - t0) * 100, rss_max


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--clip", default=None, help="default BUILD/clips/h265-1080p.265")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=8)
    a = ap.parse_args()
    reel = os.path.join(a.build, "src/reel/reel")
    sim = os.path.join(a.build, "sim/reel-sim")
    clip = a.clip or os.path.join(a.build, "clips/h265-1080p.265")
    tmp = tempfile.mkdtemp(prefix="reel-transcode-bench-")
    data = os.path.join(tmp, "data")
    procs = []
    try:
        port = free_port()
        ready = os.path.join(tmp, "sim.ready")
        procs.append(subprocess.Popen([sim, "--clip", clip, "--codec", "h265", "--cameras", "1", "--listen",
                                       "127.0.0.1", "--port", str(port), "--ready-file", ready],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not os.path.exists(ready):
            time.sleep(0.1)
        subprocess.run([reel, "-d", data, "init"], check=True, capture_output=True)
        subprocess.run([reel, "-d", data, "camera", "add", "cam", f"rtsp://127.0.0.1:{port}/cam/0"], check=True,
                       capture_output=True)
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("bench password 1234\n")
        subprocess.run([reel, "-d", data, "user", "add", "bench", "--password-file", pw], check=True,
                       capture_output=True)
        tok = subprocess.run([reel, "-d", data, "token", "add", "bench", "--user", "bench"], check=True,
                             capture_output=True, text=True)
        token = re.search(r"reel_[A-Za-z0-9_\-]+", tok.stdout + tok.stderr).group(0)
        hport = free_port()
        errlog = open(os.path.join(tmp, "reel.log"), "w")
        rp = subprocess.Popen([reel, "-d", data, "run", "--http", f"127.0.0.1:{hport}"], stdout=errlog,
                              stderr=subprocess.STDOUT)
        procs.append(rp)
        log(f"recording 1080p H.265 for {a.warmup} s (warm-up)")
        time.sleep(a.warmup)
        base_cpu, base_rss = window(rp.pid, a.seconds)
        log(f"recording only: {base_cpu:.1f} % of a core, RSS max {base_rss / 1024:.1f} MiB")

        got = {"bytes": 0, "data": bytearray()}
        stop = threading.Event()

        def reader():
            c = http.client.HTTPConnection("127.0.0.1", hport, timeout=30)
            c.request("GET", "/api/cameras/cam/live.mp4?stream=h264", headers={"Authorization": f"Bearer {token}"})
            r = c.getresponse()
            got["status"] = r.status
            while not stop.is_set():
                d = r.read1(65536) if hasattr(r, "read1") else r.read(65536)
                if not d:
                    break
                got["bytes"] += len(d)
                if len(got["data"]) < (64 << 20):
                    got["data"] += d
            c.close()

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        time.sleep(2)   # the transcode starts and catches up with the cached GOP
        t_cpu, t_rss = window(rp.pid, a.seconds)
        stop.set()
        th.join(10)
        path = os.path.join(tmp, "out.mp4")
        with open(path, "wb") as f:
            f.write(got["data"])
        pr = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                             "stream=codec_name,width,height,nb_read_frames", "-of", "json", path],
                            capture_output=True, text=True)
        st = json.loads(pr.stdout)["streams"][0] if pr.returncode == 0 else {}
        frames = int(st.get("nb_read_frames", 0))
        log(f"with one transcode viewer: {t_cpu:.1f} % of a core, RSS max {t_rss / 1024:.1f} MiB")
        print(f"recording only:          {base_cpu:6.1f} % CPU (of one core), RSS max {base_rss / 1024:7.1f} MiB")
        print(f"recording + 1 transcode: {t_cpu:6.1f} % CPU (of one core), RSS max {t_rss / 1024:7.1f} MiB")
        print(f"transcode costs:         {t_cpu - base_cpu:6.1f} % CPU, {(t_rss - base_rss) / 1024:7.1f} MiB RSS")
        print(f"viewer: HTTP {got.get('status')}, {got['bytes'] / 1e6:.1f} MB in {a.seconds + 2:.0f} s, "
              f"{st.get('codec_name')} {st.get('width')}x{st.get('height')}, {frames} frames "
              f"({frames / (a.seconds + 2):.1f} fps)")
        print(f"peak RSS over the run (VmHWM): {mem_kib(rp.pid, 'VmHWM') / 1024:.1f} MiB")
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
