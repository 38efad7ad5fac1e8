# SPDX-License-Identifier: GPL-3.0-or-later
"""Camera changes reach a running recorder (docs/recorder.md): the CLI writes
reel.db, then tells the recorder through DATADIR/control.sock, which applies
the row within 2 s without disturbing the other cameras; and the control
socket holds against hostile clients."""
import os
import socket
import time
import unittest

from harness import ReelTestCase, wait_until

CAMERAS = 64
APPLY_BOUND_S = float(os.environ.get("REEL_APPLY_BOUND_S", "2.0"))
FRAME_90K = 3000          # the simulator's 30 fps


def parse_status(out):
    """{camera: state} from `reel status` (None when the recorder is not running)."""
    lines = out.splitlines()
    if lines and lines[0] == "recorder not running":
        return None
    res = {}
    for line in lines:
        if line.startswith("CAMERA"):
            continue
        parts = line.split()
        if len(parts) >= 2:
            res[parts[0]] = parts[1]
    return res


class LiveConfigTest(ReelTestCase):
    def status(self):
        return parse_status(self.reel("status").stdout)

    def timed(self, *args):
        t0 = time.time()
        r = self.reel(*args)
        el = time.time() - t0
        return r, t0, el

    def test_changes_while_recording(self):
        _, port = self.start_sim("h264", cameras=CAMERAS + 8)
        url = lambda i: f"rtsp://127.0.0.1:{port}/cam/{i}"
        for i in range(CAMERAS):
            self.reel("camera", "add", f"c{i}", url(i))
        st = self.status()
        self.assertIsNone(st, "status without a recorder")
        rec = self.start_reel("--no-http", "--checkpoint-ms", "500", "--rotate-s", "10")
        wait_until(lambda: os.path.exists(os.path.join(self.data, "control.sock")), 15, what="control socket")
        wait_until(lambda: (lambda s: s and sum(v == "recording" for v in s.values()) == CAMERAS)(self.status()),
                   40, step=0.5, what=f"all {CAMERAS} cameras recording")
        window_start = time.time()
        log = []                                     # (what, camera, t0, elapsed)

        live = ("connecting", "starting", "recording")
        expect = {
            "add": lambda st: st.get(cam_) in live,
            "disable": lambda st: st.get(cam_) == "disabled",
            "enable": lambda st: st.get(cam_) in live,
            "url": lambda st: st.get(cam_) in live,
            "remove": lambda st: cam_ not in st,
            "retention": lambda st: st.get(cam_) == "recording",
        }

        def change(what, cam, *args):
            nonlocal cam_
            cam_ = cam
            r, t0, el = self.timed("camera", *args)
            self.assertIn("applied by the running recorder", r.stdout, f"{args}: {r.stdout}{r.stderr}")
            # visible in the live status (over the socket) within the bound
            wait_until(lambda: expect[what](self.status()), max(0.1, t0 + APPLY_BOUND_S - time.time()),
                       step=0.05, what=f"{what} {cam} in reel status")
            log.append((what, cam, t0, time.time() - t0))
            time.sleep(max(0.0, t0 + 1.0 - time.time()))
        cam_ = None

        change("add", "n0", "add", "n0", url(CAMERAS))
        change("disable", "c1", "disable", "c1")
        change("add", "n1", "add", "n1", url(CAMERAS + 1))
        change("disable", "c2", "disable", "c2")
        change("enable", "c1", "enable", "c1")
        change("url", "c3", "set", "c3", "--url", url(CAMERAS + 2))
        change("add", "n2", "add", "n2", url(CAMERAS + 3))
        change("remove", "c4", "remove", "c4", "--delete-footage", "--yes")
        change("remove", "c5", "remove", "c5", "--delete-footage", "--yes")
        change("add", "n3", "add", "n3", url(CAMERAS + 4))
        # retention only: applied without a reconnect (c0 is checked below
        # with the untouched cameras: one run, no gap)
        change("retention", "c0", "set", "c0", "--retain-days", "30")
        window_end = time.time()

        st = self.status()
        self.assertIsNotNone(st)
        self.assertEqual(st["c2"], "disabled")
        self.assertNotIn("c4", st)
        self.assertNotIn("c5", st)
        listing = self.reel("camera", "list").stdout
        self.assertRegex(listing, r"(?m)^c2\s+\S+ tcp disabled ")
        # the new and re-enabled cameras record (the first key frame may take a GOP)
        wait_until(lambda: all(self.status()[c] == "recording" for c in ("n0", "n1", "n2", "n3", "c1", "c3")),
                   20, step=0.5, what="added and re-enabled cameras recording")
        time.sleep(1.0)
        self.assertEqual(rec.stop(), 0, rec.output()[-3000:])
        after = self.status()
        self.assertIsNone(after)

        for what, cam, t0, el in log:
            print(f"{what:8} {cam}: applied in {el:.2f} s", flush=True)
            self.assertLessEqual(el, APPLY_BOUND_S, f"{what} {cam} took {el:.2f} s")
        by = {(w, c): (t0, el) for w, c, t0, el in log}
        # added cameras: their footage starts after the command
        for c in ("n0", "n1", "n2", "n3"):
            fr = self.frames(c)
            self.assertTrue(fr, f"{c}: nothing recorded")
            self.assertGreaterEqual(fr[0][1] / 90000, by[("add", c)][0] - 0.5)
        # disabled: nothing stored after the change was applied
        t0, el = by[("disable", "c2")]
        fr = self.frames("c2")
        last_end = (fr[-1][1] + fr[-1][2]) / 90000
        self.assertLessEqual(last_end, t0 + el + 0.5, "c2 recorded after it was disabled")
        # c1: a run before the disable, none during, a new one after the enable
        runs = self.frames_by_run("c1")
        self.assertGreaterEqual(len(runs), 2)
        t_dis, el_dis = by[("disable", "c1")]
        t_en, _ = by[("enable", "c1")]
        for f in self.frames("c1"):
            w = f[1] / 90000
            self.assertFalse(t_dis + el_dis + 0.5 < w < t_en, f"c1 frame at {w} while disabled")
        # c3: a new run from the new URL after the change
        runs = self.frames_by_run("c3")
        self.assertGreaterEqual(len(runs), 2, "c3 did not reconnect after its URL changed")
        self.assertGreaterEqual(list(runs.values())[-1][0][1] / 90000, by[("url", "c3")][0] - 0.5)
        # removed cameras are gone with their footage
        r = self.reel("frames", "--camera", "c4", check=False)
        self.assertNotEqual(r.returncode, 0)

        # every untouched camera: one run, no gap, across the whole window
        untouched = [f"c{i}" for i in range(CAMERAS) if i not in (1, 2, 3, 4, 5)]
        for c in untouched:
            runs = self.frames_by_run(c)
            self.assertEqual(len(runs), 1, f"{c}: {len(runs)} runs (it was disturbed)")
            fr = list(runs.values())[0]
            first, last = fr[0][1] / 90000, (fr[-1][1] + fr[-1][2]) / 90000
            self.assertLess(first, window_start, f"{c} started after the window")
            self.assertGreater(last, window_end, f"{c} ended before the window")
            durs = [f[2] for f in fr[:-1]]
            self.assertTrue(all(d == FRAME_90K for d in durs), f"{c}: durations {sorted(set(durs))}")
            # contiguous: each frame starts where the previous ended (wall
            # time is media time scaled by at most 500 ppm)
            for a, b in zip(fr, fr[1:]):
                self.assertAlmostEqual(b[1] - a[1], a[2], delta=3, msg=f"{c}: gap between frames")
            # the count matches the simulator's frame rate over the span
            span = last - first
            self.assertAlmostEqual(len(fr), span * 30, delta=2, msg=f"{c}: {len(fr)} frames in {span:.2f} s")
        r = self.reel("check", check=False)
        self.assertIn(" 0 problems", r.stdout, r.stdout + r.stderr)

    def test_control_socket_hostile_clients(self):
        _, port = self.start_sim("h264", cameras=2)
        self.reel("camera", "add", "c0", f"rtsp://127.0.0.1:{port}/cam/0")
        # a camera disabled at start-up is not started, and shown as disabled
        r = self.reel("camera", "add", "off", f"rtsp://127.0.0.1:{port}/cam/1", "--disabled")
        self.assertIn("the recorder is not running: takes effect at its next start", r.stdout)
        rec = self.start_reel("--no-http")
        path = os.path.join(self.data, "control.sock")
        wait_until(lambda: os.path.exists(path), 15, what="control socket")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        # a client that connects and sends nothing does not block others
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.connect(path)
        t0 = time.time()
        st = self.status()
        self.assertIn("c0", st)
        self.assertLess(time.time() - t0, 3.0)
        # an overlong line is refused
        long_ = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        long_.connect(path)
        long_.settimeout(10)
        long_.sendall(b"camera " + b"x" * 4000)
        got = b""
        while True:
            d = long_.recv(4096)
            if not d:
                break
            got += d
        self.assertEqual(got, b"error line too long\n")
        long_.close()
        # unknown requests get an error, a camera that does not exist is "applied" (nothing to stop)
        self.assertEqual(self.raw(path, b"hello\n")[:6], b"error ")
        self.assertEqual(self.raw(path, b"camera nosuch\n"), b"ok\n")
        # the silent client is dropped after its deadline
        silent.settimeout(15)
        got = b""
        while True:
            d = silent.recv(4096)
            if not d:
                break
            got += d
        self.assertTrue(got.startswith(b"error "), got)
        silent.close()
        # many idle connections at once: the excess is told busy, the recorder still answers
        idle = []
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            idle.append(s)
        time.sleep(0.5)
        for s in idle:
            s.close()
        wait_until(lambda: self.status().get("c0") == "recording", 20, step=0.5, what="c0 recording")
        self.assertEqual(self.status().get("off"), "disabled")
        self.assertEqual(rec.stop(), 0)
        self.assertEqual(self.reel("frames", "--camera", "off").stdout, "")
        self.assertNotIn("camera off", rec.output())
        self.assertFalse(os.path.exists(path), "control socket left behind")

    def raw(self, path, data):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(10)
        s.sendall(data)
        got = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
        s.close()
        return got


if __name__ == "__main__":
    unittest.main()
