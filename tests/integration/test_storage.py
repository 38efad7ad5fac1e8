# SPDX-License-Identifier: GPL-3.0-or-later
"""Storage faults against the real recorder (`reel run` recording reel-sim):
a full disk (a small tmpfs), a disk too small for one recording, retention by
bytes and by age, a storage directory whose identity file is missing (disk
not mounted), a database held locked by another process, EIO on writes and
power loss that drops unsynced writes (tests/faultfs, an LD_PRELOAD shim).
The tmpfs cases need mount(2) (root); they are skipped, saying so, otherwise.
"""
import calendar
import json
import os
import random
import re
import sqlite3
import subprocess
import time
import unittest

from harness import REEL, Proc, ReelTestCase, clip, clip_frames, wait_until

# Under AddressSanitizer the ASan runtime must come first in LD_PRELOAD;
# scripts/sanitize.sh names it in REEL_PRELOAD_FIRST.
PRELOAD_FIRST = os.environ.get("REEL_PRELOAD_FIRST", "")
FAULTFS = os.environ.get("REEL_FAULTFS") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(REEL)))), "tests", "faultfs", "faultfs.so")
CLIPS = os.environ.get("REEL_CLIPS", "build/clips")
CLIP_1080P = os.path.join(CLIPS, "h264-1080p.264")
CRASH_POINTS = int(os.environ.get("REEL_CRASH_POINTS", "100"))


class StorageTest(ReelTestCase):
    def setUp(self):
        super().setUp()
        self.mounts = []

    def tearDown(self):
        for p in self.procs:
            try:
                p.kill()
            except Exception:
                pass
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        super().tearDown()

    # ---- helpers ----

    def tmpfs(self, name, size):
        path = os.path.join(self.tmp, name)
        os.makedirs(path, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
        self.mounts.append(path)
        return path

    def storage_add(self, path):
        out = self.reel("storage", "add", path).stdout
        for line in self.reel("storage", "list").stdout.splitlines():
            if path in line.split():
                return line.split()[0]
        raise AssertionError(f"storage dir {path} not listed after add: {out}")

    def start_reel_env(self, env_extra, *args, name="reel"):
        env = dict(os.environ, **env_extra)
        p = Proc([REEL, "-d", self.data, "run", *args], os.path.join(self.tmp, f"{name}.log"), env=env)
        self.procs.append(p)
        return p

    def check_clean(self, *extra):
        r = self.reel("check", *extra, check=False)
        self.assertIn(" 0 problems", r.stdout, f"reel check: {r.stdout}{r.stderr}\n" + self.dump_logs())
        return r.stdout

    def gaps(self, camera):
        return self.reel("gaps", "--camera", camera).stdout

    def camera_bytes(self, camera):
        return sum(int(r["bytes"]) for r in self.recordings(camera) if int(r.get("frames", "0")) > 0)

    def short_gop_clip(self):
        """A 320x180 clip with a key frame every 10 frames, so that a fresh
        connection records within a third of a second (the crash loop)."""
        path = os.path.join(self.tmp, "gop10.264")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc2=size=320x180:rate=30:duration=4", "-c:v", "libx264", "-preset", "veryfast",
                        "-pix_fmt", "yuv420p", "-g", "10", "-keyint_min", "10", "-sc_threshold", "0", "-bf", "0",
                        "-x264-params", "repeat-headers=1", "-b:v", "300k", "-f", "h264", path],
                       check=True, capture_output=True, timeout=120)
        return path

    def _start_sim_path(self, path, cameras, name):
        from harness import REEL_SIM, free_port, wait_file
        port = free_port()
        ready = os.path.join(self.tmp, f"{name}.ready")
        p = self.start([REEL_SIM, "--clip", path, "--codec", "h264", "--cameras", str(cameras),
                        "--listen", "127.0.0.1", "--port", str(port), "--ready-file", ready], name)
        wait_file(ready)
        return p, port

    # ---- disk full ----

    def test_disk_full_deletes_oldest(self):
        """A storage dir on an 8 MiB tmpfs, two 1080p cameras (~4 Mbit/s each):
        the oldest recordings go ("deleted: disk full"), recording goes on and
        the newest footage is there."""
        d = self.tmpfs("small", "8m")
        dir_id = self.storage_add(d)
        _, port = self._start_sim_path(CLIP_1080P, 2, "sim")
        for i in range(2):
            self.reel("camera", "add", f"c{i}", f"rtsp://127.0.0.1:{port}/cam/{i}", "--storage", dir_id)
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "2")
        wait_until(lambda: "deleted: disk full" in self.gaps("c0") + self.gaps("c1"), 60, 0.5,
                   "a disk-full deletion")
        time.sleep(4)
        stop = time.time()
        self.assertEqual(rec.stop(), 0, self.dump_logs())
        log = rec.output()
        self.assertRegex(log, r"storage dir .*small: disk full: deleted recording \d+ of camera c\d")
        self.assertNotIn("stops recording", log, "it should have found something to delete")
        self.check_clean("--hash")
        for cam in ("c0", "c1"):
            frames = self.frames(cam)
            self.assertTrue(frames, f"{cam}: nothing stored")
            last = frames[-1]
            end = (last[1] + last[2]) / 90000
            self.assertGreater(end, stop - 2.0, f"{cam}: the newest footage is missing")
        st = os.statvfs(d)
        self.assertGreater(st.f_blocks, 0)

    def test_disk_smaller_than_a_recording(self):
        """Camera a on a 600 KiB tmpfs (a 1080p recording does not fit), camera
        b on the default storage: a clear error naming the camera and the
        directory, no crash, a clean index, a keeps trying, b keeps recording."""
        d = self.tmpfs("tiny", "600k")
        dir_id = self.storage_add(d)
        _, port = self._start_sim_path(CLIP_1080P, 2, "sim")
        self.reel("camera", "add", "a", f"rtsp://127.0.0.1:{port}/cam/0", "--storage", dir_id)
        self.reel("camera", "add", "b", f"rtsp://127.0.0.1:{port}/cam/1")
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "2", "--backoff-max-s", "1")
        try:
            wait_until(lambda: "no space left" in rec.output(), 45, 0.2, "the no-space error")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.dump_logs()}") from None
        time.sleep(6)
        # b goes on past 200 frames (under a loaded CI run a's error can come
        # early enough that 6 s hold exactly 200 of b's 30 fps: wait for more)
        wait_until(lambda: len(self.frames("b")) > 200, 30, 0.5, "camera b recording past 200 frames")
        self.assertIsNone(rec.p.poll(), "the recorder exited:\n" + self.dump_logs())
        log = rec.output()
        lines = [ln for ln in log.splitlines() if "no space left" in ln]
        self.assertTrue(any("camera a:" in ln and d in ln for ln in lines),
                        "no error line naming camera a and its directory:\n" + "\n".join(lines))
        # keeps trying: it reconnects after the failure
        self.assertGreaterEqual(log.count("camera a: recording") + log.count("camera a: storage"), 2, log[-3000:])
        self.assertEqual(rec.stop(), 0)
        self.check_clean("--hash")
        fb = self.frames("b")
        self.assertGreater(len(fb), 200, "camera b stopped recording")
        # b's frames are one contiguous stretch: never disturbed by a's trouble
        durs = {f[2] for f in fb[:-1]}
        self.assertEqual(durs, {3000})
        self.assertIn("storage", self.gaps("a"))

    # ---- retention ----

    def test_retention_bytes(self):
        _, port = self._start_sim_path(CLIP_1080P, 1, "sim")
        self.reel("camera", "add", "c", f"rtsp://127.0.0.1:{port}/cam/0", "--retain-bytes", "2M")
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "2")
        wait_until(lambda: "deleted by retention" in self.gaps("c"), 60, 0.5, "a retention deletion")
        time.sleep(3)
        self.assertEqual(rec.stop(), 0)
        recs = [r for r in self.recordings("c") if int(r["frames"]) > 0]
        biggest = max(int(r["bytes"]) for r in recs)
        total = sum(int(r["bytes"]) for r in recs)
        self.assertLessEqual(total, 2 * 1024 * 1024 + biggest, f"{total} bytes kept")
        self.assertIn("retention deleted", rec.output())
        self.check_clean()

    def test_retention_age(self):
        _, port = self._start_sim_path(clip("h264"), 1, "sim")
        self.reel("camera", "add", "c", f"rtsp://127.0.0.1:{port}/cam/0", "--retain-hours", "0.001")
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "2")
        wait_until(lambda: "deleted by retention" in self.gaps("c"), 60, 0.5, "a retention deletion")
        time.sleep(2)
        now = time.time()
        self.assertEqual(rec.stop(), 0)
        recs = [r for r in self.recordings("c") if int(r["frames"]) > 0]
        self.assertTrue(recs)
        first = recs[0]
        end = (int(first["start90k"]) + int(first["wall90k"])) / 90000
        # 3.6 s of age, plus one checkpoint and the one recording in progress
        self.assertGreater(end, now - 3.6 - 1.5 - 3.0, f"recording {first['id']} ended {now - end:.1f} s ago")
        self.check_clean()

    # ---- identity ----

    def test_identity_missing_then_back(self):
        d = os.path.join(self.tmp, "disk")
        dir_id = self.storage_add(d)
        _, port = self.start_sim("h264", cameras=1)
        self.reel("camera", "add", "c", f"rtsp://127.0.0.1:{port}/cam/0", "--storage", dir_id)
        rec = self.start_reel("--checkpoint-ms", "500", name="reel1")
        wait_until(lambda: self.recordings("c"), 20, 0.2, "a recording")
        time.sleep(1)
        self.assertEqual(rec.stop(), 0)
        n_before = len(self.frames("c"))
        # the disk "fails to mount": an empty directory in its place
        os.rename(d, d + ".away")
        os.mkdir(d)
        rec = self.start_reel("--checkpoint-ms", "500", "--backoff-max-s", "1", name="reel2")
        wait_until(lambda: "identity file missing" in rec.output(), 20, 0.2, "the identity error")
        time.sleep(3)
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        self.assertRegex(log, "storage dir .*disk: identity file missing — disk not mounted\\?")
        self.assertEqual(os.listdir(d), [], "it recorded into the empty mount point")
        self.assertIn("identity file missing", self.gaps("c"))
        r = self.reel("check", check=False)
        self.assertIn("identity file missing", r.stdout + r.stderr)
        # the disk is back
        os.rmdir(d)
        os.rename(d + ".away", d)
        rec = self.start_reel("--checkpoint-ms", "500", name="reel3")
        wait_until(lambda: len(self.frames("c")) > n_before + 30, 20, 0.3, "recording to resume")
        self.assertEqual(rec.stop(), 0)
        self.check_clean("--hash")

    def test_database_locked_for_a_while(self):
        """Another process holds a write transaction on reel.db for 4 s: no
        crash, a clear warning, and no frame lost."""
        _, port = self.start_sim("h264", cameras=2)
        for i in range(2):
            self.reel("camera", "add", f"c{i}", f"rtsp://127.0.0.1:{port}/cam/{i}")
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "2")
        wait_until(lambda: len(self.frames("c0")) > 30 and len(self.frames("c1")) > 30, 20, 0.3, "recording")
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=10, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("CREATE TABLE IF NOT EXISTS lock_test (x)")
        time.sleep(4)
        db.execute("ROLLBACK")
        db.close()
        time.sleep(2)
        self.assertIsNone(rec.p.poll(), "the recorder exited:\n" + self.dump_logs())
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        self.assertRegex(log, r"database busy")
        self.check_clean("--hash")
        clipf = clip_frames("h264", clip("h264"))
        for i in range(2):
            # one run, no frame missing: the frames waited in memory
            self.assert_frames_match_clip(self.frames(f"c{i}"), clipf, 150)

    # ---- I/O errors ----

    def test_eio_on_write(self):
        """One write or fdatasync of a sample file fails with EIO: that
        recording is closed at its last checkpoint, an error is reported, a new
        recording starts, and the index is consistent."""
        self.assertTrue(os.path.exists(FAULTFS), f"{FAULTFS} not built")
        _, port = self.start_sim("h264", cameras=1)
        self.reel("camera", "add", "c", f"rtsp://127.0.0.1:{port}/cam/0")
        trig = os.path.join(self.tmp, "fail-now")
        flog = os.path.join(self.tmp, "faultfs.log")
        rec = self.start_reel_env({"LD_PRELOAD": (PRELOAD_FIRST + " " + FAULTFS).strip(), "FAULTFS_MODE": "fail",
                                   "FAULTFS_PREFIX": os.path.join(self.data, "storage") + "/",
                                   "FAULTFS_TRIGGER": trig, "FAULTFS_COUNT": "1", "FAULTFS_LOG": flog},
                                  "--checkpoint-ms", "500", "--backoff-max-s", "1")
        wait_until(lambda: len(self.frames("c")) > 60, 20, 0.3, "recording")
        before = self.recordings("c")
        open(trig, "w").close()
        wait_until(lambda: os.path.exists(flog) and "fail" in open(flog).read(), 10, 0.1, "the injected error")
        os.unlink(trig)
        wait_until(lambda: len(self.recordings("c")) > len(before) and
                   any(int(r["id"]) > int(before[-1]["id"]) and int(r["frames"]) > 30 for r in self.recordings("c")),
                   20, 0.3, "a new recording after the error")
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        self.assertRegex(log, r"sample file .*(write|fdatasync) failed: Input/output error")
        recs = self.recordings("c")
        failed = [r for r in recs if int(r["id"]) == int(before[-1]["id"])]
        self.assertTrue(failed and "open" not in failed[0], f"the failed recording is not closed: {failed}")
        self.assertIn("storage", self.gaps("c"), "the outage does not say storage failed")
        self.check_clean("--hash")
        # issue 15 (ev-core): a storage.error event of camera c naming the failure; not camera.offline
        evs = [json.loads(x) for x in self.reel("events", "--json").stdout.splitlines()]
        errs = [e for e in evs if e["kind"] == "storage.error"]
        self.assertTrue(errs and all(e["camera"] == "c" and e["source"] == "store" for e in errs), evs)
        self.assertRegex(errs[-1]["detail"], r"sample file .*(write|fdatasync) failed: Input/output error")
        self.assertFalse([e for e in evs if e["kind"] == "camera.offline"], evs)

    # ---- power loss ----

    def test_power_loss_drops_unsynced_writes(self):
        """Many crash points: faultfs journals every write under the data dir
        and, at a random write/sync call or moment, keeps only what was synced
        plus a random prefix of the rest, then _exit()s. Each time the restarted
        store must check clean and lose at most the checkpoint bound."""
        self.assertTrue(os.path.exists(FAULTFS), f"{FAULTFS} not built")
        seed = int(os.environ.get("REEL_CRASH_SEED", str(int(time.time()))))
        rnd = random.Random(seed)
        print(f"seed {seed}")
        cams, ckpt_ms = 3, 500
        path = self.short_gop_clip()
        _, port = self._start_sim_path(path, cams, "sim")
        for i in range(cams):
            self.reel("camera", "add", f"c{i}", f"rtsp://127.0.0.1:{port}/cam/{i}")
        flog = os.path.join(self.tmp, "faultfs.log")
        trig = os.path.join(self.tmp, "crash-now")
        env = {"LD_PRELOAD": (PRELOAD_FIRST + " " + FAULTFS).strip(), "FAULTFS_MODE": "crash", "FAULTFS_PREFIX": self.data + "/",
               "FAULTFS_TRIGGER": trig, "FAULTFS_LOG": flog}
        args = ("--checkpoint-ms", str(ckpt_ms), "--rotate-s", "2")
        # a clean run first: how many write/sync calls a second
        t0 = time.time()
        rec = self.start_reel_env(dict(env, FAULTFS_SEED="1"), *args, name="reel-rate")
        time.sleep(3)
        self.assertEqual(rec.stop(), 0)
        with open(flog) as fh:
            calls = int(re.findall(r"exit after (\d+) ", fh.read())[-1])
        rate = calls / (time.time() - t0)
        crashes = []   # (crash wall time, log of that run)
        rolled = torn = removed = 0
        t_start = time.time()
        for k in range(CRASH_POINTS):
            if os.path.exists(trig):
                os.unlink(trig)
            open(flog, "w").close()
            e = dict(env, FAULTFS_SEED=str(rnd.randrange(1 << 30)))
            by_count = k % 2 == 0
            if by_count:
                e["FAULTFS_AFTER"] = str(int(rate * rnd.uniform(0.5, 2.2)))
            rec = self.start_reel_env(e, *args, name=f"reel{k}")
            if not by_count:
                time.sleep(rnd.uniform(0.5, 2.2))
                open(trig, "w").close()
            try:
                rc = rec.p.wait(15)
            except subprocess.TimeoutExpired:
                rec.kill()
                self.fail(f"crash point {k}: the recorder did not crash\n" + self.dump_logs())
            rec.log.close()
            self.assertEqual(rc, 99, f"crash point {k}: exit {rc}\n{rec.output()[-3000:]}")
            with open(flog) as fh:
                fl = fh.read()
            m = re.search(r"^crash \(.*\) at ([0-9.]+)", fl, re.M)
            self.assertTrue(m, fl)
            crashes.append((float(m.group(1)), rec.output()))
            rolled += len(re.findall(r"kept \d+ of", fl))
            torn += fl.count("torn")
            removed += fl.count("creation not durable")
            r = self.reel("check", check=False)
            self.assertIn(" 0 problems", r.stdout, f"after crash point {k}: {r.stdout}{r.stderr}\n{fl}")
        # a clean run so that recovery ran after the last crash
        rec = self.start_reel(*args, name="final")
        time.sleep(1.0)
        self.assertEqual(rec.stop(), 0)
        self.check_clean("--hash")
        clipf = clip_frames("h264", path)
        digests = {d for d, _ in clipf}
        bound = ckpt_ms / 1000 + 1.0
        worst, measured = 0.0, 0
        for i in range(cams):
            frames = self.frames(f"c{i}")
            for f in frames:
                self.assertIn(f[5], digests, f"c{i}: a stored frame is not a frame of the clip")
            for kw, log in crashes:
                m = re.search(rf"^(\S+) info  camera c{i}: recording", log, re.M)
                if not m:
                    continue   # crashed before this camera recorded anything
                t_rec = calendar.timegm(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) \
                    + float("0" + m.group(1)[19:23])
                if t_rec >= kw:
                    continue
                # footage of this run lost: from the end of the last frame kept
                # (or the run's start) to the crash
                before = [f for f in frames if f[1] / 90000 < kw]
                end = (before[-1][1] + before[-1][2]) / 90000 if before else t_rec
                lost = kw - max(end, t_rec)
                worst = max(worst, lost)
                measured += 1
                self.assertLessEqual(lost, bound, f"c{i}: {lost:.2f} s lost at the crash at {kw:.2f}")
        self.assertGreater(measured, CRASH_POINTS, "too few crash points measured")
        print(f"{CRASH_POINTS} crash points in {time.time() - t_start:.0f} s, {cams} cameras: {rolled} files "
              f"rolled back ({torn} torn writes), {removed} creations undone; {measured} losses measured, "
              f"worst {worst:.2f} s (bound {bound:.1f} s)")


if __name__ == "__main__":
    unittest.main()
