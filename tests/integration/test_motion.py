# SPDX-License-Identifier: GPL-3.0-or-later
"""Motion detection (issue 15, src/motion/): reel-sim streams the clips of
tests/data/make-clips.sh in 20 s loops at 10 fps, so the truth is known:
motion.264 has a box moving from 4 s to 7 s (left half) and from 12 s to
15 s (right half) of each loop; light.264 a light switched on at 7 s and off
at 14 s; noise.264 camera noise only. Frame n of camera i is sent at the
simulator's start + n / fps and shows the clip's frame (n + 37 i) mod 200
(sim/main.c staggers cameras by 37 frames), so each moment of the truth
maps to wall time. The motion configuration is set through
PUT /api/cameras/{camera}/motion while recording (no restart). Events are
read from reel.db's event table after a clean stop; the grid rows from
motion_minute. Also: the config route's roles, caps and hostile input."""
import os
import re
import signal
import sqlite3
import time

from harness import CLIPS, REEL, REEL_SIM, free_port, wait_file, wait_until
from test_http import HttpTest

FPS = 10
LOOP_S = 20.0
STAGGER = 37                      # frames between cameras of one simulator
TRUTH = [(4.0, 7.0, "left"), (12.0, 15.0, "right")]   # clip seconds of motion.264's box
TOL_S = 1.0
LEFT = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
RIGHT = [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]


class MotionTest(HttpTest):
    def sim(self, name, clipname, cameras=1):
        port = free_port()
        ready = os.path.join(self.tmp, f"{name}.ready")
        self.start([REEL_SIM, "--clip", os.path.join(CLIPS, clipname), "--codec", "h264", "--fps", str(FPS),
                    "--cameras", str(cameras), "--listen", "127.0.0.1", "--port", str(port), "--ready-file", ready],
                   name)
        wait_file(ready)
        return port, os.stat(ready).st_mtime

    def run_reel(self, *extra):
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--checkpoint-ms", "500",
                               "--backoff-max-s", "1", *extra], "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))
        return self.rec

    def put(self, cam, body, sid, csrf):
        r = self.request("PUT", f"/api/cameras/{cam}/motion", body=body, cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    @staticmethod
    def truth(t0, cam_index, until):
        """[(wall start, wall end, which)] of the box's moves shown by camera cam_index up to until."""
        off = (STAGGER * cam_index) % int(LOOP_S * FPS) / FPS
        out = []
        k = -1
        while True:
            base = t0 + k * LOOP_S - off
            if base > until:
                return out
            for a, b, which in TRUTH:
                out.append((base + a, base + b, which))
            k += 1

    def events(self, name):
        db = sqlite3.connect(os.path.join(self.data, "reel.db"))
        rows = db.execute("SELECT e.start90k, e.end90k, e.zones, e.peak, e.source FROM event e JOIN camera c ON "
                          "c.id = e.camera_id WHERE c.name = ? AND e.kind = 'motion' ORDER BY e.start90k",
                          (name,)).fetchall()
        db.close()
        return [(s / 90000, e / 90000 if e is not None else None, z, p, src) for s, e, z, p, src in rows]

    def grid_or(self, name):
        """The OR of the cell bits of every motion_minute row of camera name (a 256-bit int), and the row count."""
        db = sqlite3.connect(os.path.join(self.data, "reel.db"))
        rows = db.execute("SELECT m.data FROM motion_minute m JOIN camera c ON c.id = m.camera_id WHERE c.name = ?",
                          (name,)).fetchall()
        db.close()
        bits = 0
        for (blob,) in rows:
            self.assertEqual(blob[0], 1)
            bits |= int.from_bytes(blob[2:34], "little")
        return bits, len(rows)

    def check_truth(self, name, evs, windows, ready, stop):
        """Every fully observed window has one event within TOL_S at both ends; every event lies on a window."""
        seen = [w for w in windows if w[0] >= ready and w[1] <= stop - 1.0]
        self.assertTrue(seen, f"{name}: no window observed (ready {ready}, stop {stop})")
        for a, b, which in seen:
            match = [e for e in evs if abs(e[0] - a) <= TOL_S]
            self.assertEqual(len(match), 1, f"{name}: window {a:.2f}..{b:.2f} ({which}): events {evs}\n"
                             + self.dump_logs())
            self.assertIsNotNone(match[0][1], f"{name}: the event was not ended")
            self.assertLessEqual(abs(match[0][1] - b), TOL_S, f"{name}: window {a:.2f}..{b:.2f}: event {match[0]}")
            self.assertEqual(match[0][4], "motion")
            self.assertGreater(match[0][3], 0)
        for e in evs:
            end = e[1] if e[1] is not None else stop
            self.assertTrue(any(e[0] < b + TOL_S and end > a - TOL_S for a, b, _ in windows),
                            f"{name}: event {e} on no motion of the truth {windows}")
        return seen

    def test_events_match_truth_not_light_or_noise_zones_and_masks(self):
        """Four cameras over three simulators: "mo" (whole picture) fires within 1 s of each move; "zoned"
        (a mask over the left half, zone "door" over the right) fires only for the right-half move, naming
        "door", and its grid never holds a masked cell; "light" (a light switched on and off) and "noise"
        fire nothing and store no grid."""
        mport, t0 = self.sim("sim-motion", "motion.264", cameras=2)
        lport, _ = self.sim("sim-light", "light.264")
        nport, _ = self.sim("sim-noise", "noise.264")
        for name, url in (("mo", f"rtsp://127.0.0.1:{mport}/cam/0"), ("zoned", f"rtsp://127.0.0.1:{mport}/cam/1"),
                          ("light", f"rtsp://127.0.0.1:{lport}/cam/0"), ("noise", f"rtsp://127.0.0.1:{nport}/cam/0")):
            self.reel("camera", "add", name, url)
        rec = self.run_reel()
        sid, csrf = self.login()
        self.put("mo", {"motion": "decode"}, sid, csrf)
        cfg = self.put("zoned", {"motion": "decode", "zones": [{"name": "", "kind": "mask", "points": LEFT},
                                                                {"name": "door", "kind": "zone", "points": RIGHT}]},
                       sid, csrf)
        self.assertEqual([z["name"] for z in cfg["zones"]], ["", "door"])
        # more sensitive than the default: a light change or noise must still not fire
        self.put("light", {"motion": "decode", "sensitivity": 75}, sid, csrf)
        self.put("noise", {"motion": "decode", "sensitivity": 75}, sid, csrf)
        wait_until(lambda: len(re.findall(r"motion \w+: detector started", rec.output())) == 4, 10,
                   what="four detectors to start")
        ready = time.time() + 2.5          # a key frame (GOP 2 s) and the background
        stop_at = t0 + 29.0
        time.sleep(max(0.0, stop_at - time.time()))
        rec.stop(signal.SIGTERM, timeout=30)
        stop = time.time()
        log = rec.output()
        self.assertNotIn("reconnecting", log)

        mo = self.check_truth("mo", self.events("mo"), self.truth(t0, 0, stop), ready, stop)
        self.assertTrue(all(e[2] == "" for e in self.events("mo")))
        windows = self.truth(t0, 1, stop)
        door = [w for w in windows if w[2] == "right"]
        masked = [w for w in windows if w[2] == "left" and w[0] >= ready and w[1] <= stop - 1.0]
        zev = self.events("zoned")
        self.check_truth("zoned", zev, door, ready, stop)
        self.assertTrue(masked, "no masked move observed")
        for e in zev:
            self.assertEqual(e[2], "door")
            for a, b, _ in masked:
                self.assertFalse(e[0] < b and (e[1] or stop) > a, f"zoned: event {e} during masked move {a}..{b}")
        self.assertEqual(self.events("light"), [], log[-3000:])
        self.assertEqual(self.events("noise"), [])
        m = re.search(r"motion: 4 cameras, (\d+) access units, (\d+) pictures decoded, (\d+) analysed, (\d+) lost, "
                      r"(\d+) decode errors, (\d+) recalibrations", log)
        self.assertTrue(m, log[-2000:])
        self.assertGreaterEqual(int(m.group(6)), 1, "the light change recalibrated nothing")
        self.assertEqual(int(m.group(5)), 0)
        # the grid: rows for the moving camera, none for light and noise, no masked cell for "zoned"
        bits, n = self.grid_or("mo")
        self.assertGreater(n, 0)
        self.assertNotEqual(bits, 0)
        zbits, zn = self.grid_or("zoned")
        self.assertGreater(zn, 0)
        for y in range(16):
            for x in range(8):
                self.assertFalse(zbits >> (y * 16 + x) & 1, f"zoned: masked cell ({x}, {y}) in the grid")
        self.assertEqual(self.grid_or("light")[1], 0)
        self.assertEqual(self.grid_or("noise")[1], 0)
        print(f"mo windows checked: {len(mo)}; events mo {self.events('mo')}; zoned {zev}")

    def test_config_route_roles_caps_hostile_and_live_apply(self):
        """GET/PUT /api/cameras/{camera}/motion: defaults; PUT needs an admin and the CSRF token; a viewer
        reads; a camera hidden from a user is not found; every bad field, cap and body is refused with 400
        (413 over the body cap) and changes nothing; the ONVIF password is write-only; a change starts and
        stops the camera's detector while recording (no reconnection) and is audited."""
        port, _ = self.sim("sim", "h264.264", cameras=2)
        self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{port}/cam/0")
        self.reel("camera", "add", "other", f"rtsp://127.0.0.1:{port}/cam/1")
        pw = os.path.join(self.tmp, "vic.pw")
        with open(pw, "w") as f:
            f.write("vic-password-1\n")
        self.reel("user", "add", "vic", "--role", "viewer", "--password-file", pw, "--cameras", "cam0")
        rec = self.run_reel()
        sid, csrf = self.login()
        vsid, vcsrf = self.login("vic", "vic-password-1")
        path = "/api/cameras/cam0/motion"
        r = self.request("GET", path, cookie=sid)
        self.assertEqual(r.status, 200, r.body)
        d = r.json()
        self.assertEqual((d["motion"], d["fps"], d["sensitivity"], d["zones"], d["source"]),
                         ("off", 5, 50, [], "main"))
        self.assertFalse(d["onvif"]["password_set"])
        self.assertEqual(self.request("GET", path).status, 401)
        self.assertEqual(self.request("GET", path, cookie=vsid).status, 200)
        self.assertIn(self.request("GET", "/api/cameras/other/motion", cookie=vsid).status, (403, 404))
        self.assert_json_error(self.request("GET", "/api/cameras/nope/motion", cookie=sid), 404)
        self.assertEqual(self.request("PUT", path, body={"motion": "decode"}, cookie=sid).status, 403)  # no CSRF
        self.assert_json_error(self.request("PUT", path, body={"motion": "decode"}, cookie=vsid, csrf=vcsrf), 403)
        pts = lambda n: [[i / n, (i * 7 % n) / n] for i in range(n)]   # noqa: E731
        zone = lambda name, n=3, **kw: dict({"name": name, "points": pts(n)}, **kw)   # noqa: E731
        bad = [
            {"motion": "sometimes"}, {"motion": 1}, {"fps": 0}, {"fps": 16}, {"fps": 5.5}, {"fps": "5"},
            {"sensitivity": 0}, {"sensitivity": 101}, {"min_area": -0.1}, {"min_area": 100.5},
            {"pre_roll_s": -1}, {"post_roll_s": 61}, {"event_retain_days": -1}, {"event_retain_days": 99999},
            {"bogus": 1}, {"motion": "onvif"}, {"onvif": {"xaddr": "file:///etc/passwd"}},
            {"onvif": {"xaddr": "http://" + "a" * 600}}, {"onvif": {"user": "u", "extra": 1}}, {"onvif": "x"},
            {"zones": {}}, {"zones": [zone("a", 2)]}, {"zones": [zone("a", 33)]},
            {"zones": [zone(f"z{i}") for i in range(17)]}, {"zones": [zone("a,b")]}, {"zones": [zone("")]},
            {"zones": [zone("x" * 40)]}, {"zones": [zone("a"), zone("a")]}, {"zones": [zone("a", kind="region")]},
            {"zones": [{"name": "a", "points": [[0, 0], [1, 0], [1, 1.01]]}]},
            {"zones": [{"name": "a", "points": [[0, 0], [1, 0], [1]]}]},
            {"zones": [{"name": "a", "points": [[0, 0], [1, 0], ["1", 0]]}]},
            {"zones": [zone("a", sensitivity=0)]}, {"zones": [zone("a", min_area=101)]},
            {"zones": [zone("a", colour="red")]}, {"zones": ["door"]},
        ]
        for b in bad:
            self.assert_json_error(self.request("PUT", path, body=b, cookie=sid, csrf=csrf), 400)
        for raw in ("[]", "not json", '{"fps": 5, "fps": 6}', ""):
            self.assert_json_error(self.request("PUT", path, body=raw, cookie=sid, csrf=csrf,
                                                headers={"Content-Type": "application/json"}), 400)
        self.assert_json_error(self.request("PUT", path, body='{"zones":[' + " " * 20000 + "]}", cookie=sid,
                                            csrf=csrf, headers={"Content-Type": "application/json"}), 413)
        self.assertEqual(self.request("GET", path, cookie=sid).json(), d)   # nothing changed
        # the caps themselves pass: 16 zones of 32 points
        big = {"zones": [zone(f"z{i}", 32) for i in range(16)]}
        self.assertEqual(len(self.put("cam0", big, sid, csrf)["zones"]), 16)
        # ONVIF password: write-only
        r = self.put("cam0", {"onvif": {"xaddr": "http://10.0.0.9/onvif/device_service", "user": "u",
                                        "password": "s3cret-onvif"}}, sid, csrf)
        self.assertTrue(r["onvif"]["password_set"])
        self.assertNotIn(b"s3cret-onvif", self.request("GET", path, cookie=sid).body)
        # applied while recording: the detector starts and stops without a reconnection
        t = time.time()
        self.put("cam0", {"motion": "decode", "zones": [zone("door")]}, sid, csrf)
        wait_until(lambda: "motion cam0: detector started" in rec.output(), 5, what="the detector to start")
        self.put("cam0", {"motion": "off"}, sid, csrf)
        wait_until(lambda: "motion cam0: detector stopped" in rec.output(), 5, what="the detector to stop")
        self.assertLess(time.time() - t, 10)
        self.assertNotIn("reconnecting", rec.output())
        self.assertNotIn("s3cret-onvif", rec.output())
        db = sqlite3.connect(os.path.join(self.data, "reel.db"))
        audit = db.execute("SELECT detail FROM audit WHERE action = 'camera.change' AND camera = 'cam0'").fetchall()
        db.close()
        self.assertGreaterEqual(len(audit), 4)
        self.assertFalse(any("s3cret-onvif" in a for (a,) in audit))
