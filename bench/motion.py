#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Motion detection's cost (issue 15), two measurements:

compare  In ONE run, N cameras of reel-sim serving motion-walk.264 (640x360,
         10 fps, GOP 2 s): `reel run` records them with motion 'decode' at
         5 fps, and N ffmpeg processes do what Frigate does to get frames
         (one per camera: RTSP over TCP, decode, fps=5, gray raw frames on
         a pipe read by this script) from the same simulator at the same
         time. CPU over T seconds: Reel's motion threads (named
         reel-motion*: decoding, the model, grid rows), Reel in all
         (recording too), and the ffmpeg processes. Target: Reel's motion
         path <= 1/2 of ffmpeg alone.

subs     --subs M cameras, each a main stream (h264.264, 640x360 30 fps) and
         a sub-stream (motion-walk.264, 640x360 10 fps) from two simulators,
         motion on every sub-stream: after T seconds both simulators are
         paused, Reel stops, and every main-stream frame sent (--frame-log,
         from the first key frame) must be stored (recording.frames);
         the detector's own counts (analysed, lost) come from its log line.

Usage: bench/motion.py [--build build] [-n 8] [-t 30] [--subs 32] [--only compare|subs]
Prints what it measured as Markdown; the figures of a run are in
BENCHMARKS.md / helpers' BENCH notes. Linux only (/proc)."""
import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import cpu_of, free_port, wait_file  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def motion_ticks(pid):
    """utime+stime of the threads of pid named reel-motion* (the detector)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        if name.startswith("reel-motion"):
            fields = s[s.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total


class Sim:
    def __init__(self, args, work, name, clipname, n, fps):
        self.port = free_port()
        self.ready = os.path.join(work, f"{name}.ready")
        self.frame_log = os.path.join(work, f"{name}.frames")
        self.log = open(os.path.join(work, f"{name}.log"), "wb")
        self.p = subprocess.Popen([args.sim, "--clip", os.path.join(args.clips, clipname), "--codec", "h264",
                                   "--fps", str(fps), "--cameras", str(n), "--port", str(self.port),
                                   "--ready-file", self.ready, "--frame-log", self.frame_log,
                                   "--session-timeout", "3600"], stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        wait_file(self.ready)

    def url(self, i):
        return f"rtsp://127.0.0.1:{self.port}/cam/{i}"

    def pause(self):
        os.kill(self.p.pid, signal.SIGUSR2)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(30)
        self.log.close()

    def sent_from_key(self):
        """Per camera: frames sent from its first key frame on."""
        first, count = set(), {}
        with open(self.frame_log) as f:
            for line in f:
                w = line.split()
                if len(w) < 4:
                    continue
                cam, key = int(w[0]), w[2] == "1"
                if cam not in first:
                    if not key:
                        continue
                    first.add(cam)
                count[cam] = count.get(cam, 0) + 1
        return count


def reel(args, data, *a):
    subprocess.run([args.reel, "-d", data, *a], check=True, capture_output=True)


def start_reel(args, data, work):
    log = open(os.path.join(work, "reel.log"), "wb")
    p = subprocess.Popen([args.reel, "-d", data, "run", "--no-http", "--checkpoint-ms", "1000"], stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    return p, log


def stop_reel(p, log, work):
    p.send_signal(signal.SIGTERM)
    p.wait(60)
    log.close()
    with open(os.path.join(work, "reel.log"), errors="replace") as f:
        text = f.read()
    m = re.search(r"motion: (\d+) cameras, (\d+) access units, (\d+) pictures decoded, (\d+) analysed, (\d+) lost, "
                  r"(\d+) decode errors, (\d+) recalibrations, (\d+) events", text)
    return dict(zip(["cameras", "aus", "decoded", "analysed", "lost", "errors", "recal", "events"],
                    map(int, m.groups()))) if m else {}


def motion_on(data, names):
    db = sqlite3.connect(os.path.join(data, "reel.db"))
    for n in names:
        db.execute("INSERT OR REPLACE INTO camera_events (camera_id, motion, fps) SELECT id, 'decode', 5 FROM "
                   "camera WHERE name = ?", (n,))
    db.commit()
    db.close()


def compare(args):
    work = tempfile.mkdtemp(prefix="reel-bench-motion-")
    data = os.path.join(work, "data")
    reel(args, data, "init")
    n = args.n
    sim = Sim(args, work, "sim", "motion-walk.264", n, 10)
    for i in range(n):
        reel(args, data, "camera", "add", f"cam{i}", sim.url(i))
    motion_on(data, [f"cam{i}" for i in range(n)])
    rp, rlog = start_reel(args, data, work)
    ff, readers = [], []
    for i in range(n):
        p = subprocess.Popen(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp",
                              "-i", sim.url(i), "-vf", "fps=5", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got = [0]

        def drain(p=p, got=got):
            while True:
                b = p.stdout.read(1 << 16)
                if not b:
                    return
                got[0] += len(b)
        t = threading.Thread(target=drain, daemon=True)
        t.start()
        ff.append(p)
        readers.append(got)
    time.sleep(args.warmup)
    m0, r0, f0 = motion_ticks(rp.pid), cpu_of([rp.pid]), cpu_of([p.pid for p in ff])
    b0 = sum(g[0] for g in readers)
    load0 = os.getloadavg()[0]
    time.sleep(args.t)
    m1, r1, f1 = motion_ticks(rp.pid), cpu_of([rp.pid]), cpu_of([p.pid for p in ff])
    b1 = sum(g[0] for g in readers)
    for p in ff:
        p.terminate()
        p.wait(10)
    sim.pause()
    st = stop_reel(rp, rlog, work)
    sim.stop()
    sec = args.t
    mot, rall, ffc = (m1 - m0) / HZ, (r1 - r0) / HZ, (f1 - f0) / HZ
    frames = (b1 - b0) / (640 * 360)
    print(f"\n## compare: {n} cameras 640x360 10 fps, analysed at 5 fps, {sec:.0f} s (load {load0:.2f})\n")
    print("| what | CPU s | CPU s per camera per minute | % of one core per camera |")
    print("|---|---|---|---|")
    for name, v in (("Reel motion threads (decode + model + grid)", mot), ("Reel in all (recording + motion)", rall),
                    ("ffmpeg per camera (Frigate's way), in all", ffc)):
        print(f"| {name} | {v:.2f} | {v / n / sec * 60:.2f} | {v / n / sec * 100:.2f} |")
    print(f"\nReel motion / ffmpeg = {mot / ffc:.3f} (target <= 0.5); Reel in all / ffmpeg = {rall / ffc:.3f}")
    print(f"ffmpeg frames out: {frames:.0f} ({frames / n / sec:.2f} fps per camera); Reel detector: {st}")
    return mot / ffc if ffc else None


def subs(args):
    work = tempfile.mkdtemp(prefix="reel-bench-motion-subs-")
    data = os.path.join(work, "data")
    reel(args, data, "init")
    m = args.subs
    main = Sim(args, work, "main", "h264.264", m, 30)
    sub = Sim(args, work, "sub", "motion-walk.264", m, 10)
    for i in range(m):
        reel(args, data, "camera", "add", f"cam{i}", main.url(i), "--sub-url", sub.url(i))
    motion_on(data, [f"cam{i}" for i in range(m)])
    rp, rlog = start_reel(args, data, work)
    time.sleep(3)
    c0, m0 = cpu_of([rp.pid]), motion_ticks(rp.pid)
    load0 = os.getloadavg()[0]
    time.sleep(args.t)
    c1, m1 = cpu_of([rp.pid]), motion_ticks(rp.pid)
    main.pause()
    sub.pause()
    time.sleep(3)
    st = stop_reel(rp, rlog, work)
    main.stop()
    sub.stop()
    sent = main.sent_from_key()
    db = sqlite3.connect(os.path.join(data, "reel.db"))
    stored = dict(db.execute("SELECT c.name, SUM(r.frames) FROM recording r JOIN camera c ON c.id = r.camera_id "
                             "WHERE c.kind = 'main' GROUP BY c.name").fetchall())
    db.close()
    short = {f"cam{i}": (sent.get(i, 0), stored.get(f"cam{i}", 0)) for i in range(m)
             if stored.get(f"cam{i}", 0) < sent.get(i, 0)}
    tot_sent, tot_stored = sum(sent.values()), sum(stored.values())
    secs = args.t
    print(f"\n## subs: {m} cameras (main 640x360 30 fps + sub 640x360 10 fps, motion on every sub), "
          f"{secs:.0f} s (load {load0:.2f})\n")
    print(f"- main-stream frames sent from the first key frame: {tot_sent}, stored: {tot_stored}, "
          f"cameras short: {len(short)} {short if short else ''}")
    print(f"- Reel CPU: {(c1 - c0) / HZ / secs * 100:.1f} % of one core in all; motion threads "
          f"{(m1 - m0) / HZ / secs * 100:.1f} %")
    aus = st.get("aus", 0)
    print(f"- detector: {st}; analysed per second of sub-stream received: "
          f"{st.get('analysed', 0) / (aus / 10) if aus else 0:.2f} (5 wanted)")
    return not short and st.get("lost", 1) == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("-t", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--subs", type=int, default=32)
    ap.add_argument("--only", choices=["compare", "subs"])
    args = ap.parse_args()
    args.reel = os.path.join(args.build, "src/reel/reel")
    args.sim = os.path.join(args.build, "sim/reel-sim")
    args.clips = os.path.join(args.build, "clips")
    ok = True
    if args.only in (None, "compare"):
        ratio = compare(args)
        ok = ok and ratio is not None and ratio <= 0.5
    if args.only in (None, "subs"):
        ok = subs(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
