#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recording benchmark: Reel against ffmpeg and GStreamer, one process per
camera for the peers, all fed by reel-sim from the same 1080p clip.

For each N in the list and each recorder, a fresh reel-sim (same binary, same
options, same clip) serves N cameras; the recorder records them for WARMUP + T
seconds; then the simulator is paused (SIGUSR2: no new frames) and the
runner waits until nothing is queued between simulator and recorder (the
backlog at that moment says whether the recorder kept up with real time),
the recorder is stopped (SIGTERM for reel, SIGINT for the peers, which
finalise their MP4s on it), and the simulator is stopped to read its exit
stats. Per camera, it reports:

  cpu%      utime+stime+cutime+cstime of the recorder's processes from
            /proc/PID/stat over the T steady seconds, % of one core
  kernel%   over the same seconds, the machine's CPU that no process is
            charged for: kernel threads (writeback, direct-I/O completion)
            plus irq and softirq time; it includes what the simulator causes
  rss, pss  /proc/PID/smaps_rollup at the end of T, summed over processes
  disk/recv bytes on disk (allocated blocks of every file under the output
            dir: sample files, reel.db, -wal, -shm) / RTP bytes the simulator
            sent (its exit stats)
  frames    frames stored (`reel frames`; ffprobe -count_packets for the
            peers) / frames sent from the first key frame (the sim's
            --frame-log); lost = the difference when positive
  decodes   ffmpeg -v error decodes an export (reel) or the first and last
            segment (peers) of camera 0 without a message

Only the Python standard library is used. See bench/README.md.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_file(path, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{path} did not appear within {timeout}s")


# ---- /proc accounting ----

def proc_cpu_ticks(pid):
    """utime+stime+cutime+cstime of one process (all its threads, plus its
    waited-for children), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14 -> index 11
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


def proc_mem(pid):
    """(rss_bytes, pss_bytes) from smaps_rollup, or (0, 0)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def tree_pids(pids):
    """The given pids plus all their descendants (children are accounted by
    cutime/cstime once reaped, but are alive while we sample)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], list(pids)
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_of(pids):
    return sum(t for t in (proc_cpu_ticks(p) for p in tree_pids(pids)) if t is not None)


PF_KTHREAD = 0x00200000


def kernel_ticks():
    """CPU of the whole machine that no process is charged for: utime+stime
    of every kernel thread alive now (kworkers doing writeback, direct-I/O
    completion, block dispatch; ksoftirqd) plus the irq and softirq time of
    /proc/stat (on loopback, TCP's receive path runs there). Kernel threads
    that exit between two samples take their ticks with them."""
    t = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            if int(fields[6]) & PF_KTHREAD:
                t += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    try:
        with open("/proc/stat") as f:
            cpu = f.readline().split()
        t += int(cpu[6]) + int(cpu[7])   # irq, softirq
    except (OSError, ValueError, IndexError):
        pass
    return t


def mem_of(pids):
    rss = pss = 0
    for p in tree_pids(pids):
        r, s = proc_mem(p)
        rss += r
        pss += s
    return rss, pss


def in_flight(port):
    """Bytes between the simulator and the recorder: the send queues of the
    simulator's sockets (local port = port) plus the receive queues of the
    recorder's (remote port = port), from /proc/net/tcp*. The simulator's own
    output queue only holds data while its kernel send queue is full."""
    total = 0
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    w = line.split()
                    tx, rx = (int(x, 16) for x in w[4].split(":"))
                    if int(w[1].rsplit(":", 1)[1], 16) == port:
                        total += tx
                    if int(w[2].rsplit(":", 1)[1], 16) == port:
                        total += rx
        except (OSError, StopIteration, ValueError, IndexError):
            pass
    return total


def disk_bytes(path):
    """(allocated, apparent) bytes of every file under path."""
    alloc = app = 0
    for root, _, files in os.walk(path):
        for fn in files:
            try:
                st = os.lstat(os.path.join(root, fn))
            except OSError:
                continue
            alloc += st.st_blocks * 512
            app += st.st_size
    return alloc, app


# ---- the simulator ----

class Sim:
    def __init__(self, args, n, work):
        self.n = n
        self.port = free_port()
        self.ready = os.path.join(work, "sim.ready")
        self.frame_log = os.path.join(work, "frames.log")
        self.log_path = os.path.join(work, "sim.log")
        self.log = open(self.log_path, "wb")
        cmd = ["nice", "-n", str(args.nice), args.sim, "--clip", args.clip, "--codec", "h264",
               "--cameras", str(n), "--port", str(self.port), "--ready-file", self.ready,
               "--frame-log", self.frame_log, "--session-timeout", "3600"]
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        wait_file(self.ready)

    def url(self, i):
        return f"rtsp://127.0.0.1:{self.port}/cam/{i}"

    def pause(self):
        """No more frames from now on; queued output still drains (SIGUSR2)."""
        os.kill(self.p.pid, signal.SIGUSR2)

    def stop(self):
        """Stops the simulator; returns {camera: (bytes, aus)}."""
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()
        stats = {}
        with open(self.log_path, errors="replace") as f:
            for line in f:
                w = line.split()
                if len(w) >= 9 and w[0] == "reel-sim:" and w[1] == "cam":
                    stats[int(w[2].rstrip(":"))] = (int(w[6]), int(w[8]))
        return stats

    def frames_from_key(self):
        """Per camera: (frames, NAL bytes) sent from the first key frame on.
        A frame more than 1 s of media time after the one before it would
        be the simulator skipping ahead after being held up ("skip rather
        than burst"); it and anything after it are not counted."""
        first_key, count, nbytes, last_ts, ended = {}, {}, {}, {}, set()
        with open(self.frame_log) as f:
            for line in f:
                w = line.split()
                if len(w) < 4:
                    continue
                cam, ts, key, size = int(w[0]), int(w[1]), w[2] == "1", int(w[3])
                if cam in ended:
                    continue
                if cam in last_ts and ts - last_ts[cam] > 90000:
                    ended.add(cam)
                    continue
                last_ts[cam] = ts
                if cam not in first_key:
                    if not key:
                        continue
                    first_key[cam] = True
                count[cam] = count.get(cam, 0) + 1
                nbytes[cam] = nbytes.get(cam, 0) + size
        return count, nbytes


# ---- recorders ----

def run_quiet(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Reel:
    name = "reel"

    def __init__(self, args, out, sim):
        self.a, self.out, self.sim = args, out, sim
        self.data = out
        r = run_quiet([args.reel, "-d", self.data, "init"])
        if r.returncode:
            raise RuntimeError(f"reel init: {r.stderr}")
        for i in range(sim.n):
            r = run_quiet([args.reel, "-d", self.data, "camera", "add", f"cam{i}", sim.url(i)])
            if r.returncode:
                raise RuntimeError(f"reel camera add: {r.stderr}")
        self.log = open(os.path.join(os.path.dirname(out), "reel.log"), "wb")
        # The recorder alone: no web server (when this reel has one), so that
        # nothing else competes and no port can clash.
        usage = run_quiet([args.reel, "--help"])
        extra = ["--no-http"] if "--no-http" in usage.stdout + usage.stderr else []
        extra += args.reel_args.split()
        self.procs = [subprocess.Popen(["nice", "-n", str(args.nice), args.reel, "-d", self.data, "run"] + extra,
                                       stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)]
        self.t_start = time.time()

    def pids(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()
        self.t_end = time.time()

    def frames_stored(self):
        out = {}
        for i in range(self.sim.n):
            r = run_quiet([self.a.reel, "-d", self.data, "frames", "--camera", f"cam{i}",
                           "--from", f"@{int(self.t_start) - 60}", "--to", f"@{int(self.t_end) + 60}"])
            out[i] = sum(1 for line in r.stdout.splitlines() if line.strip()) if r.returncode == 0 else 0
        return out

    def decodes(self):
        mp4 = os.path.join(os.path.dirname(self.out), "export-cam0.mp4")
        r = run_quiet([self.a.reel, "-d", self.data, "export", "--camera", "cam0",
                       "--from", f"@{int(self.t_start) - 60}", "--to", f"@{int(self.t_end) + 60}",
                       "-o", mp4])
        if r.returncode:
            return f"export failed: {r.stderr.strip()[:200]}"
        return ffmpeg_check(mp4)


class Peer:
    """One recorder process per camera, each writing 10 s MP4 segments."""
    name = "?"

    def __init__(self, args, out, sim):
        self.a, self.out, self.sim = args, out, sim
        self.procs = []
        self.log = open(os.path.join(os.path.dirname(out), f"{self.name}.log"), "wb")
        for i in range(sim.n):
            d = os.path.join(out, f"cam{i}")
            os.makedirs(d)
            self.procs.append(subprocess.Popen(["nice", "-n", str(args.nice)] + self.cmd(sim.url(i), d),
                                               stdout=self.log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, start_new_session=True))

    def pids(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        deadline = time.time() + 60
        for p in self.procs:
            try:
                p.wait(max(1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()

    def segments(self, i):
        d = os.path.join(self.out, f"cam{i}")
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".mp4")
                      and os.path.getsize(os.path.join(d, f)) > 0)

    def frames_stored(self):
        out = {}
        for i in range(self.sim.n):
            total = 0
            for seg in self.segments(i):
                r = run_quiet(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                               "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", seg])
                try:
                    total += int(r.stdout.strip().split()[0])
                except (ValueError, IndexError):
                    pass
            out[i] = total
        return out

    def decodes(self):
        segs = self.segments(0)
        if not segs:
            return "no segment"
        for seg in {segs[0], segs[-1]}:
            msg = ffmpeg_check(seg)
            if msg != "ok":
                return f"{os.path.basename(seg)}: {msg}"
        return "ok"


class Ffmpeg(Peer):
    name = "ffmpeg"

    def cmd(self, url, d):
        return ["ffmpeg", "-hide_banner", "-loglevel", "warning", "-threads", "2",
                "-avoid_negative_ts", "make_zero", "-fflags", "+genpts+discardcorrupt",
                "-rtsp_transport", "tcp", "-timeout", "10000000", "-use_wallclock_as_timestamps", "1",
                "-i", url, "-f", "segment", "-segment_time", "10", "-segment_format", "mp4",
                "-reset_timestamps", "1", "-strftime", "1", "-c", "copy", "-an",
                os.path.join(d, "%Y%m%d%H%M%S.mp4")]


class Gst(Peer):
    name = "gst"

    def cmd(self, url, d):
        return ["gst-launch-1.0", "-e", "rtspsrc", f"location={url}", "protocols=tcp", "!",
                "rtph264depay", "!", "h264parse", "!", "splitmuxsink",
                f"location={os.path.join(d, 'seg%05d.mp4')}", "max-size-time=10000000000"]


RECORDERS = {"reel": Reel, "ffmpeg": Ffmpeg, "gst": Gst}


def ffmpeg_check(path):
    r = run_quiet(["nice", "ffmpeg", "-nostdin", "-v", "error", "-threads", "2", "-i", path,
                   "-f", "null", "-"])
    msg = (r.stdout + r.stderr).strip()
    if r.returncode or msg:
        return f"errors: {msg.splitlines()[0][:160] if msg else 'exit ' + str(r.returncode)}"
    return "ok"


# ---- one measurement ----

def measure(args, rec_cls, n, work):
    os.makedirs(work)
    out = os.path.join(work, "out")
    sim = Sim(args, n, work)
    rec = None
    try:
        if rec_cls is not Reel:
            os.makedirs(out)
        rec = rec_cls(args, out, sim)
        time.sleep(args.warmup)
        pids = rec.pids()
        c0, k0, t0 = cpu_of(pids), kernel_ticks(), time.monotonic()
        peak_rss = peak_pss = 0
        while time.monotonic() - t0 < args.seconds:
            time.sleep(min(5.0, max(0.1, args.seconds - (time.monotonic() - t0))))
            rss, pss = mem_of(pids)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        c1, k1, t1 = cpu_of(pids), kernel_ticks(), time.monotonic()
        rss, pss = mem_of(pids)
        alive = sum(1 for p in rec.procs if p.poll() is None)
        load = os.getloadavg()
        sim.pause()
        # Let the recorder take what is in flight: wait until nothing is
        # queued between the two (a recorder that fell behind real time
        # shows here as backlog), then give it args.drain more seconds.
        backlog = in_flight(sim.port)
        t_drain, zeros = time.monotonic(), 0
        while zeros < 3 and time.monotonic() - t_drain < 120:
            zeros = zeros + 1 if in_flight(sim.port) == 0 else 0
            time.sleep(0.2)
        drain_s = time.monotonic() - t_drain
        time.sleep(args.drain)
        rec.stop()
    finally:
        if rec is None:
            sim.p.kill()
        stats = sim.stop()
    sent_bytes = sum(b for b, _ in stats.values())
    expect, payload = sim.frames_from_key()
    payload_bytes = sum(payload.values())
    stored = rec.frames_stored()
    lost = sum(max(0, expect.get(i, 0) - stored.get(i, 0)) for i in range(n))
    cams_lossy = sum(1 for i in range(n) if expect.get(i, 0) > stored.get(i, 0))
    # more stored than sent from the first key frame: GStreamer keeps the
    # frames before it (undecodable until the key frame)
    extra = sum(max(0, stored.get(i, 0) - expect.get(i, 0)) for i in range(n))
    alloc, app = disk_bytes(out)
    res = {
        "recorder": rec_cls.name, "n": n, "seconds": round(t1 - t0, 2),
        "cpu_pct_per_cam": 100.0 * (c1 - c0) / CLK_TCK / (t1 - t0) / n,
        "cpu_pct_total": 100.0 * (c1 - c0) / CLK_TCK / (t1 - t0),
        "kernel_pct": 100.0 * (k1 - k0) / CLK_TCK / (t1 - t0),
        "rss_per_cam": rss / n, "pss_per_cam": pss / n,
        "peak_rss_per_cam": peak_rss / n, "peak_pss_per_cam": peak_pss / n,
        "sent_bytes": sent_bytes, "disk_bytes": alloc, "disk_apparent": app,
        "payload_bytes": payload_bytes,
        "disk_ratio": alloc / payload_bytes if payload_bytes else None,
        "disk_ratio_rtp": alloc / sent_bytes if sent_bytes else None,
        "frames_sent": sum(expect.values()), "frames_stored": sum(stored.values()),
        "frames_lost": lost, "cams_with_loss": cams_lossy, "frames_extra": extra,
        "frames_fraction": (sum(min(expect.get(i, 0), stored.get(i, 0)) for i in range(n))
                            / max(1, sum(expect.values()))),
        "procs_alive_at_end": alive, "loadavg": load,
        "backlog_bytes_at_stop": backlog, "drain_s": round(drain_s, 2),
        "decodes": rec.decodes(),
    }
    log(f"{rec_cls.name} N={n}: cpu {res['cpu_pct_per_cam']:.3f}%/cam, "
        f"pss {res['pss_per_cam'] / 1e6:.2f} MB/cam, disk/recv {res['disk_ratio'] or 0:.4f}, "
        f"frames {res['frames_stored']}/{res['frames_sent']} (lost {lost}), decode {res['decodes']}, "
        f"backlog {backlog / 1e6:.1f} MB drained in {drain_s:.1f} s, load {load[0]:.2f}, "
        f"kernel threads + irq {res['kernel_pct']:.1f}%")
    return res


# ---- report ----

def fmt_row(r):
    return (f"| {r['recorder']} | {r['n']} | {r['cpu_pct_per_cam']:.3f} | {r['cpu_pct_total']:.1f} | "
            f"{r['rss_per_cam'] / 1e6:.2f} | {r['pss_per_cam'] / 1e6:.2f} | "
            f"{r['disk_ratio']:.4f} | {r['disk_ratio_rtp']:.4f} | {r['frames_stored']}/{r['frames_sent']} | {r['frames_lost']} | "
            f"{r['backlog_bytes_at_stop'] / 1e6:.1f} | {r['kernel_pct']:.1f} | {r['decodes']} |")


def report(results):
    lines = ["| recorder | N | CPU %/cam | CPU % total | RSS MB/cam | PSS MB/cam | disk ÷ recv | "
             "disk ÷ RTP sent | frames stored/sent | lost | backlog MB | kernel % (machine) | decodes |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    lines += [fmt_row(r) for r in results]
    by = {(r["recorder"], r["n"]): r for r in results}
    ratio = []
    for (name, n), r in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if name == "reel":
            continue
        me = by.get(("reel", n))
        if not me:
            continue
        def q(k):
            return me[k] / r[k] if r.get(k) else float("nan")
        ratio.append(f"| reel ÷ {name} | {n} | {q('cpu_pct_per_cam'):.3f} | {q('rss_per_cam'):.3f} | "
                     f"{q('pss_per_cam'):.3f} | {q('disk_ratio'):.4f} | "
                     f"{q('frames_fraction'):.4f} |")
    if ratio:
        lines += ["", "| ratio | N | CPU | RSS | PSS | disk ÷ recv | frames stored fraction |",
                  "|---|---:|---:|---:|---:|---:|---:|"] + ratio
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("REEL_BUILD", "build"))
    ap.add_argument("--reel")
    ap.add_argument("--sim")
    ap.add_argument("--clip")
    ap.add_argument("-n", "--cameras", default="1,16,64,256",
                    help="comma-separated N list for Reel (default 1,16,64,256)")
    ap.add_argument("--peer-max", type=int, default=64,
                    help="largest N the peers (ffmpeg, gst) are run at (default 64)")
    ap.add_argument("-t", "--seconds", type=float, default=30.0, help="measured seconds (default 30)")
    ap.add_argument("--warmup", type=float, default=6.0, help="seconds before measuring (default 6)")
    ap.add_argument("--drain", type=float, default=2.0,
                    help="seconds left to the recorder once nothing is in flight (default 2)")
    ap.add_argument("--recorders", default="reel,ffmpeg,gst")
    ap.add_argument("--reel-args", default="", help="more options for `reel run` (e.g. --no-io-uring)")
    ap.add_argument("--nice", type=int, default=0, help="nice level of measured processes (default 0)")
    ap.add_argument("--work", default=None, help="scratch dir (default: a new one under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep recordings (default: delete each)")
    ap.add_argument("--json", help="write all results here as JSON")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every reel run lost no frame, decodes and has disk/recv <= --max-disk-ratio")
    ap.add_argument("--max-disk-ratio", type=float, default=1.01,
                    help="bound for --check (default 1.01; a short smoke run needs more: the database's "
                         "fixed ~100 KB is 1%% of 2 cameras x 10 s)")
    a = ap.parse_args()
    a.reel = a.reel or os.path.join(a.build, "src/reel/reel")
    a.sim = a.sim or os.path.join(a.build, "sim/reel-sim")
    a.clip = a.clip or os.path.join(a.build, "clips/h264-1080p.264")
    for f in (a.reel, a.sim, a.clip):
        if not os.path.exists(f):
            ap.error(f"{f} not found (build first, and make the clips: bench/run.sh does both)")
    recs = [x.strip() for x in a.recorders.split(",") if x.strip()]
    for x in recs:
        if x not in RECORDERS:
            ap.error(f"unknown recorder {x}")
    ns = [int(x) for x in a.cameras.split(",") if x.strip()]
    import tempfile
    work = a.work or tempfile.mkdtemp(prefix="reel-bench-")
    os.makedirs(work, exist_ok=True)
    log(f"work dir {work}; N {ns}; T {a.seconds} s; recorders {recs}")
    results = []
    for n in ns:
        for name in recs:
            if name != "reel" and n > a.peer_max:
                continue
            w = os.path.join(work, f"{name}-{n}")
            if os.path.exists(w):
                shutil.rmtree(w)
            try:
                results.append(measure(a, RECORDERS[name], n, w))
            except Exception as e:  # a recorder that cannot run is reported, not fatal
                log(f"{name} N={n}: failed: {e}")
            finally:
                if not a.keep:
                    shutil.rmtree(os.path.join(w, "out"), ignore_errors=True)
                    for fn in ("export-cam0.mp4",):
                        try:
                            os.unlink(os.path.join(w, fn))
                        except OSError:
                            pass
            if a.json:
                with open(a.json, "w") as f:
                    json.dump({"machine": machine(), "results": results}, f, indent=1)
    print(report(results))
    if not a.keep and not a.work:
        shutil.rmtree(work, ignore_errors=True)
    if a.check:
        bad = [r for r in results if r["recorder"] == "reel" and
               (r["frames_lost"] or r["decodes"] != "ok" or (r["disk_ratio"] or 9) > a.max_disk_ratio
                or r["frames_sent"] == 0)]
        if bad or not results:
            log(f"check failed: {len(bad)} reel run(s) out of target")
            return 1
    return 0


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "loadavg": os.getloadavg()}


if __name__ == "__main__":
    sys.exit(main())
