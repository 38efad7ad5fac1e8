# SPDX-License-Identifier: GPL-3.0-or-later
"""Evidence locks and the retention cap against the real recorder (`reel run`
recording reel-sim; docs/accountability.md): a lock keeps its footage from
retention by age and by bytes until it expires; on a full disk (a small
tmpfs) the oldest UNLOCKED footage goes, and when only locked footage is left
the recorder says so once, GET /api/storage and the camera list show it,
nothing locked is deleted and a camera on other storage keeps recording; the
locks API (roles, hostile input) and the retention cap (API, CLI)."""
import calendar
import json
import os
import re
import subprocess
import time

from harness import REEL, REEL_SIM, free_port, wait_file, wait_until
from test_http import HttpTest

CLIPS = os.environ.get("REEL_CLIPS", "build/clips")
CLIP_1080P = os.path.join(CLIPS, "h264-1080p.264")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


class LocksTest(HttpTest):
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
        self.reel("storage", "add", path)
        for line in self.reel("storage", "list").stdout.splitlines():
            if path in line.split():
                return line.split()[0]
        raise AssertionError(f"storage dir {path} not listed")

    def sim(self, clipf, cameras):
        port = free_port()
        ready = os.path.join(self.tmp, "sim.ready")
        self.start([REEL_SIM, "--clip", clipf, "--codec", "h264", "--cameras", str(cameras),
                    "--listen", "127.0.0.1", "--port", str(port), "--ready-file", ready], "sim")
        wait_file(ready)
        return port

    def run_reel(self):
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--rotate-s", "2",
                               "--checkpoint-ms", "500", "--backoff-max-s", "1"], "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))
        return self.rec

    def recs(self, camera):
        return [r for r in self.recordings(camera) if int(r.get("frames", "0")) > 0]

    @staticmethod
    def overlaps(r, a90k, b90k):
        s = int(r["start90k"])
        return s < b90k and s + int(r["wall90k"]) > a90k

    def user(self, name, role, cameras="all"):
        pw = os.path.join(self.tmp, f"{name}.pw")
        with open(pw, "w") as f:
            f.write(f"{name}-password-1\n")
        self.reel("user", "add", name, "--role", role, "--password-file", pw, "--cameras", cameras)
        return self.login(name, f"{name}-password-1")

    # ---- retention ----

    def test_lock_survives_retention_age_and_bytes_until_expiry(self):
        """Camera a keeps 3.6 s (age), camera b 2 MiB (bytes); a lock on both
        over their first seconds keeps that footage while retention deletes
        the rest; the CLI shortens the lock's expiry and then it goes too."""
        port = self.sim(CLIP_1080P, 2)
        self.reel("camera", "add", "a", f"rtsp://127.0.0.1:{port}/cam/0", "--retain-hours", "0.001")
        self.reel("camera", "add", "b", f"rtsp://127.0.0.1:{port}/cam/1", "--retain-bytes", "2M")
        t0 = time.time()
        out = self.reel("lock", "add", "--camera", "a,b", "--from", iso(t0 - 1), "--to", iso(t0 + 4),
                        "--case", "case 17", "--reason", "test: keep the first seconds").stdout
        lock_id = re.search(r"lock (\d+) added", out).group(1)
        la, lb = int((t0 - 1) * 90000), int((t0 + 4) * 90000)
        self.run_reel()
        wait_until(lambda: "deleted by retention" in self.reel("gaps", "--camera", "a").stdout and
                   "deleted by retention" in self.reel("gaps", "--camera", "b").stdout, 60, 0.5,
                   "retention deletions of both cameras")
        time.sleep(4)  # a few more passes
        for cam in ("a", "b"):
            recs = self.recs(cam)
            locked = [r for r in recs if self.overlaps(r, la, lb)]
            self.assertTrue(locked, f"{cam}: the locked footage was deleted:\n" + self.reel("gaps", "--camera", cam).stdout)
            # the locked recordings are the oldest kept, and contiguous from the first frame recorded
            self.assertTrue(self.overlaps(recs[0], la, lb), f"{cam}: {recs[0]}")
            # something after them was deleted by retention
            gaps = self.reel("gaps", "--camera", cam).stdout
            self.assertIn("deleted by retention", gaps)
        self.assertRegex(self.rec.output(), r"retention deleted \d+ recordings \(\d+ bytes\); [1-9]\d* bytes held by "
                                            r"evidence locks")
        # bytes: b's unlocked footage alone is within 2 MiB (+ one recording)
        recs = self.recs("b")
        unlocked = sum(int(r["bytes"]) for r in recs if not self.overlaps(r, la, lb))
        self.assertLessEqual(unlocked, 2 * 1024 * 1024 + max(int(r["bytes"]) for r in recs))
        listing = self.reel("lock", "list").stdout
        self.assertRegex(listing, rf"(?m)^{lock_id}\tactive\t.*\ta,b\tcase=case 17\texpires=never")
        # expiry: in 2 s; then retention takes the footage
        self.reel("lock", "change", lock_id, "--expires", iso(time.time() + 2))
        wait_until(lambda: not any(self.overlaps(r, la, lb) for r in self.recs("a") + self.recs("b")), 30, 0.5,
                   "the expired lock's footage to go")
        self.assertIn("\texpired\t", self.reel("lock", "list").stdout)
        self.assertEqual(self.rec.stop(), 0, self.dump_logs())
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)

    # ---- disk full ----

    def test_disk_full_deletes_unlocked_then_says_only_locked_left(self):
        """Two 1080p cameras on an 8 MiB tmpfs, camera z on the default
        storage. A lock on c0's first seconds: the disk fills, the oldest
        unlocked recordings go, the locked ones stay. Then a lock on
        everything: the next time the disk is full nothing is deleted, one
        loud line says why, the storage API and camera list show it, and z
        keeps recording."""
        d = self.tmpfs("small", "8m")
        dir_id = self.storage_add(d)
        port = self.sim(CLIP_1080P, 3)
        for i in range(2):
            self.reel("camera", "add", f"c{i}", f"rtsp://127.0.0.1:{port}/cam/{i}", "--storage", dir_id)
        self.reel("camera", "add", "z", f"rtsp://127.0.0.1:{port}/cam/2")
        t0 = time.time()
        self.reel("lock", "add", "--camera", "c0", "--from", iso(t0 - 1), "--to", iso(t0 + 3), "--case", "first",
                  "--reason", "keep the first seconds")
        la, lb = int((t0 - 1) * 90000), int((t0 + 3) * 90000)
        self.run_reel()
        sid, csrf = self.login()
        wait_until(lambda: "deleted: disk full" in self.reel("gaps", "--camera", "c0").stdout +
                   self.reel("gaps", "--camera", "c1").stdout, 60, 0.5, "a disk-full deletion")
        time.sleep(2)
        recs = self.recs("c0")
        self.assertTrue(recs and self.overlaps(recs[0], la, lb), f"c0's locked footage was deleted: {recs[:2]}")
        # now lock everything on the small disk
        r = self.request("POST", "/api/locks", body={"cameras": ["c0", "c1"], "start": iso(t0 - 60),
                                                     "end": iso(time.time() + 3600), "case": "all",
                                                     "reason": "hold everything", "expires": None},
                         cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 201, r.body)
        held = {c: {x["id"] for x in self.recs(c)} for c in ("c0", "c1")}
        z_before = len(self.frames("z"))
        line = "disk full and only footage under evidence lock is left"
        wait_until(lambda: line in self.rec.output(), 60, 0.5, "the only-locked-footage line")

        def storage_state():
            dirs = self.request("GET", "/api/storage", cookie=sid).json()
            return next(x for x in dirs if x["path"] == d)
        st = wait_until(lambda: (lambda s: s if s["state"] == "full_locked" else None)(storage_state()), 20, 0.5,
                        "GET /api/storage to say full_locked")
        self.assertIn("evidence lock", st["reason"])
        self.assertGreater(st["locked_bytes"], 0)
        cams = {c["name"]: c for c in self.request("GET", "/api/cameras", cookie=sid).json()["cameras"]}
        self.assertTrue(cams["c0"]["storage_full_locked"] or cams["c1"]["storage_full_locked"], cams["c0"])
        self.assertGreater(cams["c0"]["bytes_locked"], 0)
        self.assertFalse(cams["z"]["storage_full_locked"])
        time.sleep(6)  # retries meet the full disk again: still one line, nothing deleted
        log = self.rec.output()
        self.assertEqual(sum(1 for ln in log.splitlines() if "it is never deleted" in ln), 1,
                         "\n".join(ln for ln in log.splitlines() if line in ln))
        for c in ("c0", "c1"):
            now = {x["id"] for x in self.recs(c)}
            self.assertLessEqual(held[c], now, f"{c}: locked recordings deleted: {held[c] - now}")
        self.assertGreater(len(self.frames("z")), z_before + 100, "z stopped recording")
        self.assertIsNone(self.rec.p.poll(), self.dump_logs())
        self.assertEqual(self.rec.stop(), 0, self.dump_logs())
        self.assertIn(" 0 problems", self.reel("check").stdout)
        # issue 15 (ev-core): the same episode as events: one retention.blocked (site-wide, naming the
        # locks), and disk.full for the small disk, ended when Reel stopped
        out = self.reel("events", "--kind", "retention.blocked", "--json").stdout
        blocked = [json.loads(x) for x in out.splitlines()]
        self.assertEqual(len(blocked), 1, blocked)
        self.assertEqual(blocked[0]["camera"], "")
        self.assertIn("evidence lock", blocked[0]["detail"])
        full = [json.loads(x) for x in self.reel("events", "--kind", "disk.full", "--json").stdout.splitlines()]
        self.assertTrue([e for e in full if d in e["detail"] and e["end90k"]], full)

    # ---- API: roles, hostile input, the cap ----

    def test_locks_api_roles_and_bad_input(self):
        self.start_recording()
        sid, csrf = self.login()  # an admin
        self.reel("camera", "add", "hidden", "rtsp://127.0.0.1:9/x", "--disabled")
        osid, ocsrf = self.user("opal", "operator", "cam0")
        vsid, vcsrf = self.user("vic", "viewer")
        now = time.time()
        good = {"cameras": ["cam0"], "start": iso(now - 60), "end": iso(now), "case": "C-1",
                "reason": "a fight in the car park", "expires": iso(now + 86400)}
        # an operator locks and lists
        r = self.request("POST", "/api/locks", body=good, cookie=osid, csrf=ocsrf)
        self.assertEqual(r.status, 201, r.body)
        lock = r.json()
        self.assertEqual((lock["cameras"], lock["case"], lock["created_by"], lock["active"]),
                         (["cam0"], "C-1", "opal", True))
        lid = lock["id"]
        r = self.request("GET", "/api/locks", cookie=osid)
        self.assertEqual([x["id"] for x in r.json()["locks"]], [lid])
        self.assertEqual(self.request("GET", "/api/locks?camera=cam0&active=1", cookie=osid).json()["locks"][0]["id"],
                         lid)
        self.assertEqual(self.request("GET", "/api/locks?active=0", cookie=osid).json()["locks"], [])
        self.assert_json_error(self.request("GET", "/api/locks?camera=nosuch", cookie=osid), 404)
        # the timeline shows it (tl-data's GET /api/timeline, `locks` per camera)
        r = self.request("GET", f"/api/timeline?start={iso(now - 3600)}&end={iso(now + 60)}", cookie=osid)
        self.assertEqual(r.status, 200, r.body)
        tl = {c["name"]: c for c in r.json()["cameras"]}
        self.assertEqual([(x["id"], x["case"], x["start"], x["end"]) for x in tl["cam0"]["locks"]],
                         [(lid, "C-1", lock["start"], lock["end"])])
        r = self.request("GET", f"/api/timeline?start={iso(now - 7200)}&end={iso(now - 3600)}", cookie=osid)
        self.assertEqual(r.json()["cameras"][0]["locks"], [])
        self.assert_json_error(self.request("GET", "/api/locks?active=yes", cookie=osid), 400)
        # ... but may neither unlock nor change it
        self.assert_json_error(self.request("DELETE", f"/api/locks/{lid}", cookie=osid, csrf=ocsrf), 403)
        self.assert_json_error(self.request("PATCH", f"/api/locks/{lid}", body={"expires": None}, cookie=osid,
                                            csrf=ocsrf), 403)
        # a camera the operator may not see is no camera: not lockable, its locks not listed
        r = self.request("POST", "/api/locks", body=dict(good, cameras=["hidden"]), cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 201, r.body)
        hid = r.json()["id"]
        for cams in (["hidden"], ["cam0", "hidden"]):
            r = self.request("POST", "/api/locks", body=dict(good, cameras=cams), cookie=osid, csrf=ocsrf)
            self.assert_json_error(r, 404)
            self.assertEqual(r.json()["error"], "no such camera")
        self.assertEqual([x["id"] for x in self.request("GET", "/api/locks", cookie=osid).json()["locks"]], [lid])
        self.assert_json_error(self.request("GET", "/api/locks?camera=hidden", cookie=osid), 404)
        self.assertEqual(self.request("DELETE", f"/api/locks/{hid}", cookie=sid, csrf=csrf).status, 200)
        # a viewer may not lock (roles: ac-roles' access.c)
        self.assert_json_error(self.request("POST", "/api/locks", body=good, cookie=vsid, csrf=vcsrf), 403)
        self.assert_json_error(self.request("GET", "/api/locks", cookie=vsid), 403)
        # CSRF
        self.assert_json_error(self.request("POST", "/api/locks", body=good, cookie=osid), 403)
        # hostile input
        bads = [
            dict(good, cameras=[]), dict(good, cameras="cam0"), dict(good, cameras=["cam0"] * 65),
            dict(good, cameras=["../x"]), dict(good, cameras=[1]), dict(good, cameras=["cam0", "cam0"]),
            dict(good, start="yesterday-ish"), dict(good, end=iso(now - 120)), dict(good, start=None),
            dict(good, case=""), dict(good, case="x" * 128), dict(good, case="a\nINFO forged"),
            dict(good, reason=""), dict(good, reason="r" * 1024), {k: v for k, v in good.items() if k != "reason"},
            dict(good, expires=iso(now - 5)), dict(good, expires=5), [1], "nope",
        ]
        for b in bads:
            self.assert_json_error(self.request("POST", "/api/locks", body=b, cookie=osid, csrf=ocsrf), 400)
        self.assert_json_error(self.request("POST", "/api/locks", body=dict(good, cameras=["nosuch"]), cookie=osid,
                                            csrf=ocsrf), 404)
        self.assert_json_error(self.request("POST", "/api/locks", body='{"case":"' + "c" * 20000 + '"}', cookie=osid,
                                            csrf=ocsrf, headers={"Content-Type": "application/json"}), 413)
        # admin: change the expiry and case, then unlock
        for b in [{}, {"case": ""}, {"expires": "soon"}, {"expires": iso(now - 5)}]:
            self.assert_json_error(self.request("PATCH", f"/api/locks/{lid}", body=b, cookie=sid, csrf=csrf), 400)
        for bad_id in ("999", "abc", "0", "-1", "1e3"):
            self.assertIn(self.request("DELETE", f"/api/locks/{bad_id}", cookie=sid, csrf=csrf).status, (400, 404))
        r = self.request("PATCH", f"/api/locks/{lid}", body={"expires": None, "case": "C-1b"}, cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["expires"], r.json()["case"]), (None, "C-1b"))
        self.assertEqual(self.request("DELETE", f"/api/locks/{lid}", cookie=sid, csrf=csrf).status, 200)
        self.assertEqual(self.request("GET", "/api/locks", cookie=sid).json()["locks"], [])
        self.assertNotIn("\nINFO forged", self.rec.output())
        # the retention cap: admin only, validated, enforced on camera changes
        self.assert_json_error(self.request("PUT", "/api/settings/retention", body={"max_days": 1}, cookie=osid,
                                            csrf=ocsrf), 403)
        for b in [{"max_days": -1}, {"max_days": 1.5}, {"max_days": "7"}, {"max_days": 40000}, {}]:
            self.assert_json_error(self.request("PUT", "/api/settings/retention", body=b, cookie=sid, csrf=csrf), 400)
        r = self.request("PUT", "/api/settings/retention", body={"max_days": 7}, cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.request("GET", "/api/settings/retention", cookie=sid).json(), {"max_days": 7})
        r = self.request("PATCH", "/api/cameras/cam0", body={"retain_seconds": 8 * 86400}, cookie=sid, csrf=csrf)
        self.assert_json_error(r, 400)
        self.assertIn("maximum of 7 days", r.json()["error"])
        r = self.request("POST", "/api/cameras", body={"name": "cam9", "url": "rtsp://127.0.0.1:9/x",
                                                       "retain_seconds": 30 * 86400}, cookie=sid, csrf=csrf)
        self.assert_json_error(r, 400)
        self.assertEqual(self.request("PATCH", "/api/cameras/cam0", body={"retain_seconds": 7 * 86400}, cookie=sid,
                                      csrf=csrf).status, 200)
        # the CLI: the same refusal, and the cap itself
        r = self.reel("camera", "add", "cam8", "rtsp://127.0.0.1:9/x", "--retain-hours", "200", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("maximum of 7 days", r.stderr)
        self.assertIn("7 days", self.reel("config", "retention-cap").stdout)
        self.reel("config", "retention-cap", "0")
        self.assertIn("none", self.reel("config", "retention-cap").stdout)
        self.assertNotEqual(self.reel("config", "retention-cap", "-3", check=False).returncode, 0)
        # the CLI's locks: add (bad input refused), remove
        base = ["lock", "add", "--camera", "cam0", "--from", "-1h", "--to", "now", "--case", "cli case"]
        cid = re.search(r"lock (\d+) added", self.reel(*base, "--reason", "kept by root").stdout).group(1)
        for bad in (base, base + ["--reason", "a\nb"], ["lock", "add", "--camera", "nosuch", "--from", "-1h",
                                                        "--to", "now", "--case", "c", "--reason", "r"],
                    base + ["--reason", "r", "--expires", "-1h"], ["lock", "remove", "abc"]):
            self.assertNotEqual(self.reel(*bad, check=False).returncode, 0, bad)
        self.assertIn(f"{cid}\tactive\t", self.reel("lock", "list", "--camera", "cam0").stdout)
        self.reel("lock", "remove", cid)
        self.assertNotEqual(self.reel("lock", "remove", cid, check=False).returncode, 0)
        self.assertEqual(self.request("GET", "/api/locks", cookie=sid).json()["locks"], [])
