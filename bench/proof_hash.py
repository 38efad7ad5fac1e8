#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cost of hashing recordings at close (issue 14, "Proof").

Records N cameras from reel-sim (the 1080p H.264 clip by default) for T
seconds with short recordings, then reads the CPU time of the recorder's
hasher thread (named reel-hasher) from /proc, and the bytes it hashed from
the index. Then runs `reel check --hash` over the same footage with a cold
page cache for the files (posix_fadvise DONTNEED is what the hasher does
after reading) and reports its CPU time per GiB.

  python3 bench/proof_hash.py --build build [-n 4] [-t 60] [--clip h264-1080p.264]
"""
import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def thread_cpu(pid, name):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if open(f"/proc/{pid}/task/{tid}/comm").read().strip() != name:
                continue
            f = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / tick
        except FileNotFoundError:
            pass
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=4)
    ap.add_argument("-t", type=float, default=60)
    ap.add_argument("--clip", default="h264-1080p.264")
    ap.add_argument("--rotate", default="10")
    a = ap.parse_args()
    reel = os.path.join(a.build, "src/reel/reel")
    sim = os.path.join(a.build, "sim/reel-sim")
    tmp = tempfile.mkdtemp(prefix="reel-bench-hash-")
    data = os.path.join(tmp, "data")
    procs = []
    try:
        subprocess.run([reel, "-d", data, "init"], check=True, capture_output=True)
        port = free_port()
        ready = os.path.join(tmp, "sim.ready")
        procs.append(subprocess.Popen([sim, "--clip", os.path.join(a.build, "clips", a.clip), "--codec", "h264",
                                       "--cameras", str(a.n), "--listen", "127.0.0.1", "--port", str(port),
                                       "--ready-file", ready], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not os.path.exists(ready):
            time.sleep(0.1)
        for i in range(a.n):
            subprocess.run([reel, "-d", data, "camera", "add", f"c{i}", f"rtsp://127.0.0.1:{port}/cam/{i}"],
                           check=True, capture_output=True)
        rec = subprocess.Popen([reel, "-d", data, "run", "--no-http", "--rotate-s", a.rotate],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(rec)
        time.sleep(a.t)
        hasher = thread_cpu(rec.pid, "reel-hasher")
        total = sum(thread_cpu(rec.pid, n) for n in set(
            open(f"/proc/{rec.pid}/task/{t}/comm").read().strip() for t in os.listdir(f"/proc/{rec.pid}/task")))
        rec.terminate()
        rec.wait()
        hashed = 0
        for i in range(a.n):
            out = subprocess.run([reel, "-d", data, "recordings", "--camera", f"c{i}"], capture_output=True,
                                 text=True).stdout
            for line in out.splitlines():
                if "blake2b=" in line:
                    hashed += int(line.split("bytes=")[1].split()[0])
        load = open("/proc/loadavg").read().split()[:3]
        print(f"cameras {a.n}, {a.t:.0f} s, clip {a.clip}, recordings of {a.rotate} s, load {' '.join(load)}")
        print(f"hashed {hashed / 2**20:.1f} MiB ({hashed * 8 / a.t / a.n / 1e6:.2f} Mbit/s per camera)")
        print(f"recorder CPU {total:.2f} s; hasher thread {hasher:.2f} s (over the run, before the stop) = "
              f"{100 * hasher / a.t / a.n:.3f} % of one core per camera, "
              f"{hasher / (hashed / 2**30) if hashed else 0:.2f} CPU s per GiB")
        # check --hash over the same files (read back, cold for the files)
        for root, _, files in os.walk(os.path.join(data, "storage")):
            for f in files:
                fd = os.open(os.path.join(root, f), os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        out = subprocess.run([reel, "-d", data, "check", "--hash"], capture_output=True, text=True).stdout
        wall = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        print(f"reel check --hash: {wall:.2f} s wall, {cpu:.2f} s CPU for {hashed / 2**20:.1f} MiB "
              f"(also parses every frame): {out.strip().splitlines()[-1]}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
