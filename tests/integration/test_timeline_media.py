# SPDX-License-Identifier: GPL-3.0-or-later
"""Scrub-preview thumbnails and export jobs (issue 13, tl-media).

thumb.jpg: a JPEG of the key frame at or before t, from the sub-stream when
there is one, decoded once and then served from the recording's pack
(DATADIR/thumbs, 0600), 304 on its ETag; hostile: t outside the footage, a
huge or bad w, a camera without footage at t never shows another camera's
picture, a corrupt sample file answers 500 and the server goes on; the pack
goes with the recording when the camera's footage is deleted.

/api/exports: one camera as an MP4 whose frames match the range, two as a
stored zip of two MP4s, each decoded by ffmpeg; progress, file name, Range,
0600 files in a 0700 directory; the reason required unless the setting says
optional; caps on the body; another user's export invisible; a job running
when the server stopped is failed at the next start."""
import concurrent.futures
import glob
import http.client
import io
import json
import os
import re
import sqlite3
import stat
import subprocess
import time
import zipfile

from harness import CLIPS, REEL, REEL_SIM, ReelTestCase, free_port, wait_file, wait_until
from live_http import PASSWORD, USER, LiveHttpMixin


class TimelineMediaTest(LiveHttpMixin, ReelTestCase):
    def start_cams(self, n, sub=False, extra=()):
        """n cameras cam0.. from one simulator (cam0 with cam<n>'s stream as
        its sub-stream when sub); signs in; waits for footage."""
        port = free_port()
        ready = os.path.join(self.tmp, "sim.ready")
        self.start([REEL_SIM, "--clip", os.path.join(CLIPS, "h264.264"), "--codec", "h264", "--cameras",
                    str(n + (1 if sub else 0)), "--listen", "127.0.0.1", "--port", str(port), "--ready-file", ready],
                   "sim")
        wait_file(ready)
        self.add_user()
        for i in range(n):
            args = ["camera", "add", f"cam{i}", f"rtsp://127.0.0.1:{port}/cam/{i}"]
            if sub and i == 0:
                args += ["--sub-url", f"rtsp://127.0.0.1:{port}/cam/{n}"]
            self.reel(*args)
        return self.run_http("--rotate-s", "4", *extra)

    def req(self, method, path, body=None, headers=None, sid=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Host": "127.0.0.1", "Cookie": f"reel_session={sid or self.sid}"}
        if method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf_of(sid or self.sid)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c.request(method, path, body=json.dumps(body) if isinstance(body, (dict, list)) else body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def csrf_of(self, sid):
        if not hasattr(self, "_csrf"):
            self._csrf = {}
        if sid not in self._csrf:
            st, _, data = self.req("GET", "/api/session", sid=sid)
            self._csrf[sid] = json.loads(data)["csrf_token"]
        return self._csrf[sid]

    def login(self, user, password):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("POST", "/api/login", body=json.dumps({"username": user, "password": password}),
                  headers={"Content-Type": "application/json", "Host": "127.0.0.1"})
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        return re.match(r"reel_session=([0-9a-f]{64});", r.getheader("Set-Cookie")).group(1)

    def recs(self, camera):
        st, _, data = self.req("GET", f"/api/cameras/{camera}/spans?start=-1h")
        self.assertEqual(st, 200, data)
        return json.loads(data)["spans"]

    def wait_footage(self, camera, seconds):
        """The first span of camera once it is at least seconds long: (start, end) as RFC 3339."""
        def ok():
            sp = self.recs(camera)
            if sp and self.ts(sp[0][1] if isinstance(sp[0], list) else sp[0]["end"]) - \
                    self.ts(sp[0][0] if isinstance(sp[0], list) else sp[0]["start"]) >= seconds:
                return sp[0]
            return None
        sp = wait_until(ok, 60, step=0.5, what=f"{seconds} s of footage of {camera}")
        return (sp["start"], sp["end"]) if isinstance(sp, dict) else tuple(sp)

    @staticmethod
    def ts(t):
        from datetime import datetime
        return datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()

    @staticmethod
    def iso(x):
        from datetime import datetime, timezone
        return datetime.fromtimestamp(x, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def probe(self, data, suffix):
        path = os.path.join(self.tmp, f"probe-{time.time_ns()}.{suffix}")
        with open(path, "wb") as f:
            f.write(data)
        r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
                            "-of", "json", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["streams"][0]

    # ---- thumbnails ----

    def test_thumbnails(self):
        self.start_cams(2, sub=True)
        start, end = self.wait_footage("cam0", 6)
        t = self.iso(self.ts(start) + 3)
        st, h, jpeg = self.req("GET", f"/api/cameras/cam0/thumb.jpg?t={t}")
        self.assertEqual(st, 200, jpeg)
        self.assertEqual((h["content-type"], h["x-reel-thumb"], h["x-reel-stream"]), ("image/jpeg", "decoded", "sub"))
        self.assertEqual(h["cache-control"], "private, max-age=3600")
        s = self.probe(jpeg, "jpg")
        self.assertEqual((s["codec_name"], s["width"]), ("mjpeg", 160))
        self.assertLessEqual(self.ts(h["x-reel-time"]), self.ts(t))
        # again: from the pack, the same bytes; 304 on the ETag
        st2, h2, jpeg2 = self.req("GET", f"/api/cameras/cam0/thumb.jpg?t={t}")
        self.assertEqual((st2, h2["x-reel-thumb"], jpeg2), (200, "cached", jpeg))
        st3, _, _ = self.req("GET", f"/api/cameras/cam0/thumb.jpg?t={t}", headers={"If-None-Match": h["etag"]})
        self.assertEqual(st3, 304)
        st4, _, big = self.req("GET", f"/api/cameras/cam0/thumb.jpg?t={t}&w=320")
        self.assertEqual(st4, 200)
        self.assertEqual(self.probe(big, "jpg")["width"], 320)
        packs = glob.glob(os.path.join(self.data, "thumbs", "*", "*.thm"))
        self.assertTrue(packs)
        for p in packs:
            self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600)
        # cam1 has no sub-stream: its main stream
        s1, e1 = self.wait_footage("cam1", 3)
        st5, h5, j5 = self.req("GET", f"/api/cameras/cam1/thumb.jpg?t={self.iso(self.ts(s1) + 1)}")
        self.assertEqual((st5, h5["x-reel-stream"]), (200, "main"))
        self.assertEqual(self.probe(j5, "jpg")["width"], 160)

        # hostile: outside the footage, bad or huge w, bad t, unknown camera
        for q, want in ((f"t={self.iso(self.ts(start) - 3600)}", 404), ("t=2000-01-01T00:00:00Z", 404),
                        (f"t={t}&w=100000", 400), (f"t={t}&w=79", 400), (f"t={t}&w=-160", 400),
                        (f"t={t}&w=1e3", 400), ("t=yesterday-ish", 400), ("", 400), ("t=" + "9" * 200, 400)):
            st, _, body = self.req("GET", f"/api/cameras/cam0/thumb.jpg?{q}")
            self.assertEqual(st, want, (q, body))
        self.assertEqual(self.req("GET", f"/api/cameras/nope/thumb.jpg?t={t}")[0], 404)
        # a camera with no footage at t never answers with another camera's picture
        self.reel("camera", "add", "idle", "rtsp://127.0.0.1:9/none")
        self.reel("camera", "disable", "idle")
        self.assertEqual(self.req("GET", f"/api/cameras/idle/thumb.jpg?t={t}")[0], 404)

        # a corrupt sample file: 500 with a reference, the server goes on
        recs = [r for r in self.recordings("cam1") if "open" not in r]
        self.assertTrue(recs)
        rec = recs[0]
        files = glob.glob(os.path.join(self.data, "storage", "*", f"{rec['id']:016x}"))
        self.assertEqual(len(files), 1, files)
        with open(files[0], "r+b") as f:
            f.write(b"\0" * 65536)
        st, _, body = self.req("GET", f"/api/cameras/cam1/thumb.jpg?t={self.iso(self.ts(s1) + 0.5)}&w=200")
        self.assertEqual(st, 500, body)
        self.assertIn(b"reference", body)
        self.assertEqual(self.req("GET", "/api/health")[0], 200)

        # the camera's footage deleted: its packs go with the recordings
        gone = self.cam_packs(files[0])
        self.assertTrue(gone)
        self.reel("camera", "remove", "cam1", "--delete-footage", "--yes")
        wait_until(lambda: not any(os.path.exists(p) for p in gone), 20, step=0.3, what="cam1's packs to go")
        self.assertTrue(any(os.path.exists(p) for p in packs))   # cam0's stay

    def cam_packs(self, sample_file):
        cam_id = os.path.basename(os.path.dirname(sample_file))
        return glob.glob(os.path.join(self.data, "thumbs", cam_id, "*.thm"))

    # ---- exports ----

    def wait_export(self, eid, sid=None):
        seen = []

        def done():
            st, _, data = self.req("GET", f"/api/exports/{eid}", sid=sid)
            self.assertEqual(st, 200, data)
            e = json.loads(data)
            seen.append(e["progress"])
            return e if e["status"] != "running" else None
        e = wait_until(done, 60, step=0.1, what=f"export {eid}")
        for p in seen:
            self.assertTrue(0 <= p <= 1, seen)
        return e

    def expected_frames(self, camera, start, end):
        """Frames of camera whose wall time falls in [start, end)."""
        a, b = round(self.ts(start) * 90000), round(self.ts(end) * 90000)
        return sum(1 for f in self.frames(camera) if a <= f[1] < b)

    def frame_count(self, path):
        r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                            "stream=nb_read_frames", "-of", "json", path], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(json.loads(r.stdout)["streams"][0]["nb_read_frames"])

    def test_exports(self):
        rec = self.start_cams(2)
        s0, _ = self.wait_footage("cam0", 9)
        self.wait_footage("cam1", 9)
        start, end = self.iso(self.ts(s0) + 2), self.iso(self.ts(s0) + 7)
        body = {"cameras": ["cam0"], "start": start, "end": end}
        # the reason is required by default
        st, _, data = self.req("POST", "/api/exports", body)
        self.assertEqual((st, json.loads(data)["error"]), (400, "a reason is required"))
        st, _, data = self.req("POST", "/api/exports", dict(body, reason="   "))
        self.assertEqual(st, 400)
        # caps and bad input
        for bad in ({**body, "reason": "x", "cameras": []}, {**body, "reason": "x", "cameras": ["cam0"] * 2},
                    {**body, "reason": "x", "cameras": [f"c{i}" for i in range(17)]},
                    {**body, "reason": "x", "cameras": ["../etc"]}, {**body, "reason": "x", "cameras": "cam0"},
                    {**body, "reason": "x", "end": self.iso(self.ts(start) + 86400.001)},
                    {**body, "reason": "x", "end": start}, {**body, "reason": "x", "start": "soon"},
                    {**body, "reason": "x" * 501}, {**body, "reason": 5}, {**body, "reason": "x", "audio": "yes"}):
            st, _, data = self.req("POST", "/api/exports", bad)
            self.assertEqual(st, 400, (bad, data))
        self.assertEqual(self.req("POST", "/api/exports", "{" + " " * 20000 + "}")[0], 413)
        self.assertEqual(self.req("POST", "/api/exports", "not json")[0], 400)
        self.assertEqual(self.req("POST", "/api/exports", {**body, "reason": "x", "cameras": ["nope"]})[0], 404)
        self.assertEqual(self.req("POST", "/api/exports", {**body, "reason": "x", "cameras": ["cam0~sub"]})[0], 400)
        st, _, data = self.req("POST", "/api/exports", {**body, "reason": "x", "start": "2001-01-01T00:00:00Z",
                                                         "end": "2001-01-01T01:00:00Z"})
        self.assertEqual(st, 404, data)

        # one camera: an MP4 with the range's frames
        st, _, data = self.req("POST", "/api/exports", dict(body, reason="case 42: theft at the gate"))
        self.assertEqual(st, 202, data)
        e = json.loads(data)
        self.assertRegex(e["id"], r"^[0-9a-f]{16}$")
        self.assertEqual((e["status"], e["cameras"], e["reason"], e["signed"]), ("running", ["cam0"],
                                                                                 "case 42: theft at the gate", False))
        self.assertRegex(e["file"], r"^cam0_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\dZ_5s\.mp4$")
        e = self.wait_export(e["id"])
        self.assertEqual((e["status"], e["progress"], e["error"]), ("done", 1, None), e)
        self.assertRegex(e["sha256"], r"^[0-9a-f]{64}$")
        st, h, mp4 = self.req("GET", f"/api/exports/{e['id']}/file")
        self.assertEqual(st, 200)
        self.assertEqual(h["content-disposition"], f'attachment; filename="{e["file"]}"')
        self.assertEqual(len(mp4), e["bytes"])
        path = os.path.join(self.tmp, e["file"])
        with open(path, "wb") as f:
            f.write(mp4)
        self.assert_decodes_clean(path)
        want = self.expected_frames("cam0", start, end)
        got = self.frame_count(path)
        self.assertGreater(want, 50)   # 5 s of a 30 fps clip
        self.assertLessEqual(abs(got - want), 1, (got, want))
        st, h, part = self.req("GET", f"/api/exports/{e['id']}/file", headers={"Range": "bytes=100-199"})
        self.assertEqual((st, part), (206, mp4[100:200]))
        d = os.path.join(self.data, "exports", e["id"])
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
        self.assertEqual(os.listdir(d), [e["file"]])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, e["file"])).st_mode), 0o600)

        # two cameras: a stored zip of two MP4s
        st, _, data = self.req("POST", "/api/exports", {"cameras": ["cam0", "cam1"], "start": start, "end": end,
                                                        "reason": "two", "audio": False})
        self.assertEqual(st, 202, data)
        z = self.wait_export(json.loads(data)["id"])
        self.assertEqual(z["status"], "done", z)
        self.assertRegex(z["file"], r"^cam0\+cam1_.*_5s\.zip$")
        st, h, zdata = self.req("GET", f"/api/exports/{z['id']}/file")
        self.assertEqual((st, h["content-type"]), (200, "application/zip"))
        zf = zipfile.ZipFile(io.BytesIO(zdata))
        names = sorted(i.filename for i in zf.infolist())
        self.assertEqual(len(names), 2, names)
        self.assertTrue(names[0].startswith("cam0_") and names[1].startswith("cam1_"), names)
        for i in zf.infolist():
            self.assertEqual(i.compress_type, zipfile.ZIP_STORED)
            p = os.path.join(self.tmp, i.filename)
            with open(p, "wb") as f:
                f.write(zf.read(i))
            self.assert_decodes_clean(p)
            cam = i.filename.split("_")[0]
            self.assertLessEqual(abs(self.frame_count(p) - self.expected_frames(cam, start, end)), 1)

        # the list: newest first
        st, _, data = self.req("GET", "/api/exports")
        ids = [x["id"] for x in json.loads(data)["exports"]]
        self.assertEqual(ids, [z["id"], e["id"]])

        # at most 2 running per user: a third at once gets 503 with Retry-After (jobs are quick, so
        # up to 10 rounds of 3 requests sent together; the cap is met in the first on this box)
        busy = None
        for _ in range(10):
            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                answers = list(pool.map(lambda i: self.req("POST", "/api/exports", {
                    "cameras": ["cam0", "cam1"], "start": s0, "end": self.iso(self.ts(s0) + 86400),
                    "reason": f"cap {i}"}), range(3)))
            for st, h, data in answers:
                if st == 202:
                    self.wait_export(json.loads(data)["id"])
                else:
                    self.assertEqual(st, 503, data)
                    busy = (h, json.loads(data))
            if busy:
                break
        self.assertIsNotNone(busy, "never met the per-user cap")
        self.assertEqual(busy[0]["retry-after"], "10")
        self.assertEqual(busy[1]["error"], "too many exports running for this user: try again when one ends")
        st, _, data = self.req("GET", "/api/exports")
        for x in json.loads(data)["exports"]:
            if x["reason"].startswith("cap "):
                self.assertEqual(self.req("DELETE", f"/api/exports/{x['id']}")[0], 200)

        # another user (an operator) sees none of them and cannot touch them
        pw = os.path.join(self.tmp, "other.pw")
        with open(pw, "w") as f:
            f.write("another long password\n")
        self.reel("user", "add", "other", "--password-file", pw, "--role", "operator")
        osid = self.login("other", "another long password")
        st, _, data = self.req("GET", "/api/exports", sid=osid)
        self.assertEqual((st, json.loads(data)["exports"]), (200, []))
        for m, p in (("GET", f"/api/exports/{e['id']}"), ("GET", f"/api/exports/{e['id']}/file"),
                     ("DELETE", f"/api/exports/{e['id']}"), ("GET", "/api/exports/0123456789abcdef"),
                     ("GET", "/api/exports/..%2f..%2freel.db"), ("GET", "/api/exports/" + "a" * 100)):
            st, _, data = self.req(m, p, sid=osid)
            self.assertIn(st, (400, 404), (m, p, data))
        # the setting export.reason=optional: no reason needed
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=10)
        db.execute("INSERT OR REPLACE INTO setting (key, value) VALUES ('export.reason', 'optional')")
        db.commit()
        db.close()
        st, _, data = self.req("POST", "/api/exports", body, sid=osid)
        self.assertEqual(st, 202, data)
        mine = self.wait_export(json.loads(data)["id"], sid=osid)
        self.assertEqual((mine["user"], mine["reason"]), ("other", ""))
        # the owner's list holds both users' exports only for an administrator (USER is admin here)
        st, _, data = self.req("GET", "/api/exports")
        self.assertIn(mine["id"], [x["id"] for x in json.loads(data)["exports"]])

        # delete: the files go, then 404
        st, _, _ = self.req("DELETE", f"/api/exports/{e['id']}")
        self.assertEqual(st, 200)
        self.assertFalse(os.path.exists(d))
        self.assertEqual(self.req("GET", f"/api/exports/{e['id']}")[0], 404)

        # a job running when the server stops is failed at the next start, with a clear error
        rec.stop()
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=10)
        uid = db.execute("SELECT id FROM web_user WHERE name = 'other'").fetchone()[0]
        db.execute("INSERT INTO export (id, user_id, cameras, start90k, end90k, created_ns, status, file)"
                   " VALUES ('00000000000000aa', ?, '[\"cam0\"]', 0, 90000, ?, 'running', 'x.mp4')",
                   (uid, time.time_ns()))
        db.commit()
        db.close()
        os.makedirs(os.path.join(self.data, "exports", "00000000000000aa"))
        rec2 = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0"], "reel2")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", rec2.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))
        self.sid = self.login(USER, PASSWORD)
        st, _, data = self.req("GET", "/api/exports/00000000000000aa")
        x = json.loads(data)
        self.assertEqual((st, x["status"], x["error"]), (200, "failed", "the server stopped while the export was running"))
        self.assertFalse(os.path.exists(os.path.join(self.data, "exports", "00000000000000aa")))
        self.assertEqual(self.req("GET", "/api/exports/00000000000000aa/file")[0], 409)
