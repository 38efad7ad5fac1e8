# SPDX-License-Identifier: GPL-3.0-or-later
"""A camera's sub-stream (README, `camera add --sub-url`): two simulators
serve the same device's main stream (1920x1080) and its low-resolution
sub-stream (320x180); both are recorded, each with its own retention (the
sub's byte limit deletes only sub recordings), exported each at its own
resolution, listed by the CLI and the HTTP API, and `camera set --no-sub`
while recording stops the sub within 2 s without disturbing the main
stream (one run, no frame lost)."""
import http.client
import json
import os
import re
import sqlite3
import subprocess
import time

from harness import CLIPS, REEL, REEL_SIM, ReelTestCase, clip_frames, free_port, wait_file, wait_until

APPLY_BOUND_S = float(os.environ.get("REEL_APPLY_BOUND_S", "2.0"))
SUB_RETAIN = 150 * 1024          # about 4 s of the 300 kbit/s sub clip
USER, PASSWORD = "tester", "correct horse battery"


def status_of(out):
    """{row name: state} from `reel status`; stream rows are indented."""
    res = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0] != "CAMERA":
            res[parts[0]] = (parts[1], line.startswith("  "))
    return res


class SubStreamTest(ReelTestCase):
    def sim(self, name, clipname):
        port = free_port()
        ready = os.path.join(self.tmp, f"{name}.ready")
        self.start([REEL_SIM, "--clip", os.path.join(CLIPS, clipname), "--codec", "h264", "--cameras", "1",
                    "--listen", "127.0.0.1", "--port", str(port), "--ready-file", ready], name)
        wait_file(ready)
        return f"rtsp://127.0.0.1:{port}/cam/0"

    def status(self):
        return status_of(self.reel("status").stdout)

    def probe(self, path):
        r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "json", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = json.loads(r.stdout)["streams"][0]
        return s["width"], s["height"]

    def api(self, path, cookie=None, method="GET", body=None, csrf=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Cookie": f"reel_session={cookie}"} if cookie else {}
        if csrf:
            h["X-CSRF-Token"] = csrf
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    def test_sub_stream_records_retains_exports_and_goes(self):
        main_url, sub_url = self.sim("sim-main", "h264-1080p.264"), self.sim("sim-sub", "h264-small.264")
        pw = os.path.join(self.tmp, "user.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.reel("user", "add", USER, "--password-file", pw)
        self.reel("camera", "add", "cam", main_url, "--sub-url", sub_url, "--sub-retain-bytes", str(SUB_RETAIN))
        listing = self.reel("camera", "list").stdout
        self.assertRegex(listing, rf"(?m)^cam\s+{re.escape(main_url)} tcp .*retain-bytes=- ")
        self.assertRegex(listing, rf"(?m)^  ~sub\s+{re.escape(sub_url)} retain-bytes=150\.0 KiB ")

        t_start = time.time()
        rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--rotate-s", "2",
                          "--checkpoint-ms", "300"], "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))
        wait_until(lambda: self.status().get("cam", ("",))[0] == "recording" and
                   self.status().get("cam~sub", ("",))[0] == "recording", 20, step=0.3,
                   what="both streams recording")
        st = self.status()
        self.assertFalse(st["cam"][1])
        self.assertTrue(st["cam~sub"][1], "the sub-stream is listed under its camera")

        # the sub's byte retention deletes sub recordings only
        def sub_trimmed():
            return any("deleted by retention" in line
                       for line in self.reel("gaps", "--camera", "cam", "--stream", "sub").stdout.splitlines())
        wait_until(sub_trimmed, 30, step=0.5, what="retention deleting sub-stream recordings")
        subrecs = self.reel("recordings", "--camera", "cam", "--stream", "sub").stdout.splitlines()
        sizes = [int(re.search(r"bytes=(\d+)", line).group(1)) for line in subrecs]
        # retention runs after each commit: at most one recording over the limit meanwhile
        self.assertLessEqual(sum(sizes), SUB_RETAIN + max(sizes) * 2, subrecs)
        self.assertNotIn("deleted", self.reel("gaps", "--camera", "cam").stdout)

        # exports: the main stream at its resolution, the sub at its own
        for stream, want in (("main", (1920, 1080)), ("sub", (320, 180))):
            out = os.path.join(self.tmp, f"{stream}.mp4")
            self.reel("export", "--camera", "cam", "--stream", stream, "--from", "-1m", "--to", "now", "-o", out)
            self.assertEqual(self.probe(out), want, stream)
        out = os.path.join(self.tmp, "default.mp4")
        self.reel("export", "--camera", "cam", "--from", "-1m", "--to", "now", "-o", out)
        self.assertEqual(self.probe(out), (1920, 1080))
        r = self.reel("recordings", "--camera", "cam", "--stream", "audio", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)

        # HTTP: cameras only, each with its streams; spans and view.mp4 take ?stream=sub
        r = self.api("/api/login", method="POST", body={"username": USER, "password": PASSWORD})
        self.assertEqual(r[0], 200, r[2])
        sid = re.match(r"reel_session=([0-9a-f]{64});", dict(r[1])["Set-Cookie"]).group(1)
        csrf = json.loads(r[2])["csrf_token"]
        status, _, body = self.api("/api/cameras", sid)
        self.assertEqual(status, 200, body)
        cams = json.loads(body)["cameras"]
        self.assertEqual([c["name"] for c in cams], ["cam"], "stream rows are not listed as cameras")
        streams = cams[0]["streams"]
        self.assertEqual(set(streams), {"main", "sub"})
        self.assertEqual(streams["main"]["state"], "recording")
        self.assertEqual(streams["sub"]["state"], "recording")
        self.assertEqual(streams["sub"]["retain_bytes"], SUB_RETAIN)
        self.assertEqual(streams["main"]["retain_bytes"], 0)
        spans = {}
        for stream in ("main", "sub"):
            status, _, body = self.api(f"/api/cameras/cam/spans?start=-1m&end=now&stream={stream}", sid)
            self.assertEqual(status, 200, body)
            spans[stream] = json.loads(body)
            self.assertTrue(spans[stream]["spans"], stream)
            status, _, body = self.api(f"/api/cameras/cam/view.mp4?start=-20s&end=now&stream={stream}", sid)
            self.assertEqual(status, 200, body[:200])
            path = os.path.join(self.tmp, f"view-{stream}.mp4")
            with open(path, "wb") as f:
                f.write(body)
            self.assertEqual(self.probe(path), (1920, 1080) if stream == "main" else (320, 180))
        # the sub's retention shows in its own spans, the main's go back to the start
        self.assertGreater(spans["sub"]["spans"][0]["start"], spans["main"]["spans"][0]["start"])
        self.assertEqual(self.api("/api/cameras/cam/spans?start=-1m&end=now&stream=audio", sid)[0], 400)

        # the configuration API: the sub-stream in the camera's config; a
        # change of its retention only; removal refused while it has footage
        status, _, body = self.api("/api/cameras/cam/config", sid)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["sub"], {"url": sub_url, "retain_bytes": SUB_RETAIN, "retain_seconds": 0,
                                                   "storage": 1, "enabled": True})
        status, _, body = self.api("/api/cameras/cam", sid, "PATCH", {"sub_retain_seconds": 7200}, csrf)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["sub"]["retain_seconds"], 7200)
        status, _, body = self.api("/api/cameras/cam", sid, "PATCH", {"sub_url": None}, csrf)
        self.assertEqual(status, 409, body)
        self.assertIn("delete_footage=1&confirm=cam", json.loads(body)["error"])
        status, _, body = self.api("/api/cameras/cam", sid, "PATCH", {"sub_url": None, "sub_retain_bytes": 1}, csrf)
        self.assertEqual(status, 400, body)
        # a second camera through the API (disabled: not recorded): its sub
        # follows its credentials and enabled state; DELETE takes both rows
        status, _, body = self.api("/api/cameras", sid, "POST",
                                   {"name": "cam2", "url": main_url, "sub_url": sub_url, "user": "u1",
                                    "password": "pw-1", "enabled": False, "sub_retain_bytes": 1000}, csrf)
        self.assertEqual(status, 201, body)
        self.assertEqual(json.loads(body)["sub"]["retain_bytes"], 1000)
        self.assertEqual(self.api("/api/cameras/cam2", sid, "PATCH", {"user": "u2", "password": "pw-2"}, csrf)[0],
                         200)
        self.assertEqual(self.api("/api/cameras/cam", sid, "PATCH", {"sub_retain_bytes": 5}, csrf)[0], 200)
        self.assertEqual(self.api("/api/cameras/cam", sid, "PATCH", {"sub_retain_bytes": SUB_RETAIN}, csrf)[0], 200)
        status, _, body = self.api("/api/cameras/cam2", sid, "PATCH", {"sub_retain_bytes": 5, "sub_url": None},
                                   csrf)
        self.assertEqual(status, 400, body)
        db = sqlite3.connect(os.path.join(self.data, "reel.db"))
        rows = {n: (u, p, e) for n, u, p, e in db.execute(
            "SELECT name, user, password, enabled FROM camera WHERE name LIKE 'cam2%'")}
        self.assertEqual(rows, {"cam2": ("u2", "pw-2", 0), "cam2~sub": ("u2", "pw-2", 0)})
        self.assertEqual(self.api("/api/cameras/cam2/enable", sid, "POST", None, csrf)[0], 200)
        self.assertEqual(self.api("/api/cameras/cam2/disable", sid, "POST", None, csrf)[0], 200)
        # it may have recorded a moment while enabled: footage goes only when confirmed
        self.assertEqual(self.api("/api/cameras/cam2?delete_footage=1&confirm=cam2", sid, "PATCH", {"sub_url": None},
                                  csrf)[0], 200)
        self.assertEqual(db.execute("SELECT count(*) FROM camera WHERE name LIKE 'cam2%'").fetchone()[0], 1)
        self.assertEqual(self.api("/api/cameras/cam2", sid, "PATCH", {"sub_url": sub_url}, csrf)[0], 200)
        self.assertEqual(db.execute("SELECT enabled FROM camera WHERE name = 'cam2~sub'").fetchone()[0], 0)
        status, _, body = self.api("/api/cameras/cam2?delete_footage=1&confirm=cam2", sid, "DELETE", None, csrf)
        self.assertEqual(status, 200, body)
        self.assertEqual(db.execute("SELECT count(*) FROM camera WHERE name LIKE 'cam2%'").fetchone()[0], 0)
        db.close()

        # --no-sub while recording: the sub stops within the bound, the main keeps going
        t0 = time.time()
        r = self.reel("camera", "set", "cam", "--no-sub", "--delete-footage", "--yes")
        self.assertIn("applied by the running recorder", r.stdout, r.stdout + r.stderr)
        wait_until(lambda: "cam~sub" not in self.status(), max(0.1, t0 + APPLY_BOUND_S - time.time()), step=0.05,
                   what="the sub-stream gone from status")
        el = time.time() - t0
        print(f"--no-sub applied in {el:.2f} s", flush=True)
        self.assertNotIn("~sub", self.reel("camera", "list").stdout)
        r = self.reel("recordings", "--camera", "cam", "--stream", "sub", check=False)
        self.assertNotEqual(r.returncode, 0)
        cams = json.loads(self.api("/api/cameras", sid)[2])["cameras"]
        self.assertEqual(set(cams[0]["streams"]), {"main"})
        time.sleep(2.0)
        t_end = time.time()
        self.assertEqual(rec.stop(), 0, rec.output()[-3000:])

        # the main stream: one run, every frame of the clip in order, none lost
        runs = self.frames_by_run("cam")
        self.assertEqual(len(runs), 1, "the main stream was disturbed")
        fr = list(runs.values())[0]
        self.assert_frames_match_clip(fr, clip_frames("h264", os.path.join(CLIPS, "h264-1080p.264")), 60)
        self.assertGreater((fr[-1][1] + fr[-1][2]) / 90000, t0 + 1.5)
        print(f"main: {len(fr)} frames in {t_end - t_start:.1f} s", flush=True)
        r = self.reel("check", check=False)
        self.assertIn(" 0 problems", r.stdout, r.stdout + r.stderr)
        self.assertNotIn("~sub", self.reel("status").stdout)
