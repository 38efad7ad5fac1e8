# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP server of `reel run` against a real recording from reel-sim:
accounts and sessions (cookie flags, 401 everywhere without one, rate
limiting, CSRF), the timeline (spans and gaps with reasons across a camera
outage), view.mp4 (ffprobe frame counts against `reel frames`, clean
decoding, byte ranges joined, 206/416/If-Range/If-None-Match/HEAD, ETag
growing with an open recording, same bytes as `reel export`), path
traversal and bad requests, and the camera configuration API (add, list,
change, enable/disable, delete with and without footage, every bad input
refused; the database checked with sqlite3, no password in any response
or log line). Standard library only (http.client, sqlite3)."""
import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import time
import unittest

from harness import REEL, ReelTestCase, wait_until

USER, PASSWORD = "tester", "correct horse battery"
CAM_PASSWORD = "cam-S3cr3t-pw"


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


class HttpTest(ReelTestCase):
    outputs = None

    def setUp(self):
        super().setUp()
        self.outputs = []
        pw = os.path.join(self.tmp, "user.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.reel("user", "add", USER, "--password-file", pw)

    # ---- set-up ----

    def start_recording(self, rotate="2", auth=False):
        extra = ["--user", "admin", "--password", CAM_PASSWORD, "--auth", "digest"] if auth else []
        self.sim_extra = extra
        _, self.sim_port = self.start_sim("h264", extra=extra)
        if auth:
            pwf = os.path.join(self.tmp, "cam.pw")
            with open(pwf, "w") as f:
                f.write(CAM_PASSWORD + "\n")
            self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{self.sim_port}/cam/0", "--user", "admin",
                      "--password-file", pwf)
        else:
            self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{self.sim_port}/cam/0")
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--rotate-s", rotate,
                               "--checkpoint-ms", "300", "--backoff-max-s", "1"], "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))

    def request(self, method, path, headers=None, body=None, cookie=None, csrf=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = f"reel_session={cookie}"
        if csrf:
            h["X-CSRF-Token"] = csrf
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        resp = Resp(r.status, r.getheaders(), data)
        if not path.endswith(".mp4") or r.status >= 400:
            self.outputs.append(data.decode(errors="replace"))
        for k, v in resp.headers:
            self.outputs.append(f"{k}: {v}")
        return resp

    def login(self, user=USER, password=PASSWORD):
        r = self.request("POST", "/api/login", body={"username": user, "password": password})
        self.assertEqual(r.status, 200, r.body)
        cookie = r.header("Set-Cookie")
        m = re.match(r"reel_session=([0-9a-f]{64});", cookie)
        self.assertTrue(m, cookie)
        return m.group(1), r.json()["csrf_token"]

    def assert_json_error(self, r, status):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertIsInstance(r.json().get("error"), str)
        self.assertTrue(r.json()["error"])

    def frames_in(self, start90k, end90k):
        """Stored frames whose display interval overlaps [start, end)."""
        return [f for f in self.frames("cam0") if f[1] < end90k and f[1] + f[2] > start90k]

    def view_path(self, s, e):
        return f"/api/cameras/cam0/view.mp4?start={s}&end={e}"

    def fetch_mp4(self, cookie, s, e, name):
        r = self.request("GET", self.view_path(s, e), cookie=cookie)
        self.assertEqual(r.status, 200, r.body[:200])
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(r.body)
        return r, path

    def check_mp4(self, cookie, s90k, e90k, name):
        """view.mp4 for [s, e): decodes cleanly, exactly the frames `reel
        frames` lists for the range, the range's duration."""
        s, e = f"{s90k / 90000:.6f}", f"{e90k / 90000:.6f}"
        r, path = self.fetch_mp4(cookie, s, e, name)
        self.assertEqual(r.header("Content-Type"), "video/mp4")
        stream, duration = self.ffprobe_frames(path)
        self.assertEqual(stream["codec_name"], "h264")
        # The edit list starts playback at s: a frame that began before s is
        # decoded but not shown, so the frames shown are those starting in
        # [s, e); the duration is the footage in [s, e), gaps squeezed out.
        overlapping = self.frames_in(s90k, e90k)
        want = [f for f in overlapping if f[1] >= s90k]
        self.assertEqual(int(stream["nb_read_frames"]), len(want), f"{name}: frames [{s}, {e})")
        self.assertGreater(len(want), 0)
        covered = sum(min(e90k, f[1] + f[2]) - max(s90k, f[1]) for f in overlapping) / 90000
        self.assertAlmostEqual(duration, covered, delta=0.05, msg=name)
        self.assert_decodes_clean(path)
        # Also straight from the URL, as a player would.
        url = f"http://127.0.0.1:{self.port}{self.view_path(s, e)}"
        out = subprocess.run(["ffmpeg", "-v", "error", "-headers", f"Cookie: reel_session={cookie}\r\n", "-i", url,
                              "-f", "null", "-"], capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr.strip(), "")
        return r, path

    def assert_no_secret_anywhere(self, sid):
        self.rec.stop()
        log = self.rec.output()
        for secret in (CAM_PASSWORD, PASSWORD):
            self.assertNotIn(secret, log)
            for o in self.outputs:
                self.assertNotIn(secret, o)
        self.assertNotIn("reel_session=", log)
        self.assertNotIn(sid, log)

    # ---- tests ----

    def test_init_writes_admin_password_file(self):
        # issue 11: the password goes to a 0600 file, the output says where
        d = os.path.join(self.tmp, "fresh")
        r = subprocess.run([REEL, "-d", d, "init"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        pwfile = os.path.join(d, "initial-admin-password")
        self.assertIn(f"created user admin; its password is in {pwfile}", r.stdout)
        st = os.lstat(pwfile)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        with open(pwfile) as f:
            pw = f.read().strip()
        self.assertGreaterEqual(len(pw), 12)
        self.assertNotIn(pw, r.stdout + r.stderr)
        r2 = subprocess.run([REEL, "-d", d, "init"], capture_output=True, text=True, timeout=60)
        self.assertNotIn("created user", r2.stdout)
        users = subprocess.run([REEL, "-d", d, "user", "list"], capture_output=True, text=True).stdout
        self.assertIn("admin", users)
        self.assertNotIn(pw, users)
        # the password in the file logs in
        self.data = d
        self.start_recording()
        self.login("admin", pw)

    def test_login_sessions_csrf_tokens(self):
        self.start_recording()
        self.assertEqual(self.request("GET", "/api/health").json(), {"ok": True})
        # every API route needs a session or a token
        for method, path in [("GET", "/api/cameras"), ("GET", "/api/session"), ("POST", "/api/logout"),
                             ("POST", "/api/tokens"), ("GET", "/api/cameras/cam0/spans?start=-1m&end=now"),
                             ("GET", "/api/cameras/cam0/view.mp4?start=-1m&end=now"),
                             ("HEAD", "/api/cameras/cam0/view.mp4?start=-1m&end=now"),
                             ("GET", "/api/nope"), ("GET", "/api/cameras/cam0/spans")]:
            r = self.request(method, path)
            self.assertEqual(r.status, 401, f"{method} {path}")
            if method != "HEAD":
                self.assert_json_error(r, 401)
        r = self.request("GET", "/api/cameras", cookie="0" * 64)
        self.assert_json_error(r, 401)
        r = self.request("GET", "/api/cameras", headers={"Authorization": "Bearer reel_" + "0" * 64})
        self.assert_json_error(r, 401)
        # login: cookie flags
        r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD})
        self.assertEqual(r.status, 200)
        cookie = r.header("Set-Cookie")
        attrs = [a.strip() for a in cookie.split(";")]
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Strict", attrs)
        self.assertIn("Path=/", attrs)
        self.assertNotIn("Secure", attrs)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.header("Content-Security-Policy"),
                         "default-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
                         "form-action 'self'")
        sid = re.match(r"reel_session=([0-9a-f]{64})", cookie).group(1)
        csrf = r.json()["csrf_token"]
        self.assertEqual(r.json()["user"], USER)
        self.assertEqual(r.json()["role"], "admin")
        r = self.request("GET", "/api/session", cookie=sid)
        self.assertEqual(r.json()["user"], USER)
        self.assertEqual(r.json()["csrf_token"], csrf)
        self.assertEqual(r.json()["role"], "admin")   # the page shows the admin pages by it
        cams = self.request("GET", "/api/cameras", cookie=sid).json()["cameras"]
        self.assertEqual([c["name"] for c in cams], ["cam0"])
        for k in ("name", "state", "connected", "fps", "bitrate_bps", "last_error", "bytes_kept", "seconds_kept",
                  "oldest", "codec", "width", "height"):
            self.assertIn(k, cams[0])
        # CSRF: POST with the cookie but without the token, a wrong one, a foreign Origin
        self.assert_json_error(self.request("POST", "/api/tokens", body={"name": "t1"}, cookie=sid), 403)
        self.assert_json_error(self.request("POST", "/api/tokens", body={"name": "t1"}, cookie=sid,
                                            csrf="0" * 64), 403)
        self.assert_json_error(self.request("POST", "/api/tokens", body={"name": "t1"}, cookie=sid, csrf=csrf,
                                            headers={"Origin": "http://evil.example"}), 403)
        self.assert_json_error(self.request("POST", "/api/logout", cookie=sid), 403)
        self.assert_json_error(self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD},
                                            headers={"Origin": "http://evil.example"}), 403)
        # with the token and a matching Origin: a new API token, shown once
        r = self.request("POST", "/api/tokens", body={"name": "t1"}, cookie=sid, csrf=csrf,
                         headers={"Origin": f"http://127.0.0.1:{self.port}"})
        self.assertEqual(r.status, 200, r.body)
        tok = r.json()["token"]
        self.assertTrue(tok.startswith("reel_"))
        self.assert_json_error(self.request("POST", "/api/tokens", body={"name": "t1"}, cookie=sid, csrf=csrf), 409)
        self.assert_json_error(self.request("POST", "/api/tokens", body={"name": "../x"}, cookie=sid, csrf=csrf), 400)
        self.assert_json_error(self.request("POST", "/api/tokens", body="{not json", cookie=sid, csrf=csrf), 400)
        # bearer requests need no CSRF token
        bearer = {"Authorization": f"Bearer {tok}"}
        self.assertEqual(self.request("GET", "/api/cameras", headers=bearer).status, 200)
        r = self.request("POST", "/api/tokens", body={"name": "t2"}, headers=bearer)
        self.assertEqual(r.status, 200, r.body)
        # CLI tokens work too, are listed without their value, and can be removed
        cli_tok = self.reel("token", "add", "script", "--user", USER).stdout.strip()
        self.assertTrue(cli_tok.startswith("reel_"))
        listing = self.reel("token", "list").stdout
        self.assertIn("script", listing)
        self.assertNotIn(cli_tok, listing)
        self.assertEqual(self.request("GET", "/api/cameras", headers={"Authorization": f"Bearer {cli_tok}"}).status,
                         200)
        self.reel("token", "remove", "script")
        self.assertEqual(self.request("GET", "/api/cameras", headers={"Authorization": f"Bearer {cli_tok}"}).status,
                         401)
        # logout ends the session
        r = self.request("POST", "/api/logout", cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200)
        self.assertIn("Max-Age=0", r.header("Set-Cookie"))
        self.assert_json_error(self.request("GET", "/api/cameras", cookie=sid), 401)
        # a password change ends sessions
        sid2, _ = self.login()
        pw = os.path.join(self.tmp, "new.pw")
        with open(pw, "w") as f:
            f.write("another long password\n")
        self.reel("user", "passwd", USER, "--password-file", pw)
        self.assert_json_error(self.request("GET", "/api/cameras", cookie=sid2), 401)
        sid3, _ = self.login(USER, "another long password")
        # the page and its assets are public, with the security headers
        r = self.request("GET", "/")
        if r.status == 200:
            self.assertTrue(r.header("Content-Type").startswith("text/html"))
            self.assertEqual(r.header("X-Frame-Options"), "DENY")
            self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        else:
            self.assert_json_error(r, 404)  # the UI is not built in
        self.assert_json_error(self.request("DELETE", "/api/cameras", cookie=sid3), 403)

    def test_rate_limited(self):
        self.start_recording()
        for i in range(5):
            r = self.request("POST", "/api/login", body={"username": USER, "password": f"wrong{i}"})
            self.assert_json_error(r, 401)
        r = self.request("POST", "/api/login", body={"username": USER, "password": "wrong5"})
        self.assert_json_error(r, 429)
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        # even the right password is refused while locked
        r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD})
        self.assertEqual(r.status, 429)
        # unknown users get the same answer as wrong passwords
        r = self.request("POST", "/api/login", body={"username": "nobody", "password": "x" * 10})
        self.assert_json_error(r, 401)
        self.assertIn("failed login for 'tester'", self.rec.output())
        self.assertNotIn("wrong1", self.rec.output())

    def test_spans_gaps_and_view_across_outage(self):
        self.start_recording(rotate="2")
        sid, _ = self.login()
        time.sleep(6)
        self.procs[0].kill()  # the camera goes away
        time.sleep(3)
        sim2, _ = self.start_sim("h264", port=self.sim_port, name="sim2")
        time.sleep(6)
        self.rec.stop()
        # No camera while the HTTP side is checked: the footage must not
        # grow between fetching an MP4 and listing the frames it should hold.
        sim2.kill()
        frames = self.frames("cam0")
        recs = self.recordings("cam0")
        self.assertGreaterEqual(len({r["run"] for r in recs}), 2, recs)
        t0, t1 = frames[0][1], frames[-1][1] + frames[-1][2]
        # spans and gaps over the whole time, from a bit before to a bit after
        s, e = t0 - 90000, t1 + 90000
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0"], "reel2")
        m = wait_until(lambda: re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15)
        self.port = int(m.group(1))
        sid, _ = self.login()
        r = self.request("GET", f"/api/cameras/cam0/spans?start={s / 90000:.6f}&end={e / 90000:.6f}", cookie=sid)
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual(j["camera"], "cam0")
        spans, gaps = j["spans"], j["gaps"]
        self.assertEqual(len(spans), 2, j)

        # spans and gaps tile [start, end) in order
        pieces = sorted([(p["start"], p["end"], "span") for p in spans] +
                        [(g["start"], g["end"], g["reason"]) for g in gaps])
        self.assertEqual(pieces[0][0], j["start"])
        self.assertEqual(pieces[-1][1], j["end"])
        for a, b in zip(pieces, pieces[1:]):
            self.assertEqual(a[1], b[0], pieces)
        # the outage between the two spans has its reason
        between = [g for g in gaps if spans[0]["end"] <= g["start"] and g["end"] <= spans[1]["start"]]
        self.assertTrue(between, j)
        self.assertTrue(any(g["reason"] not in ("not recorded",) for g in between), between)
        self.assertTrue(any("refused" in g["reason"] or "closed" in g["reason"] or "stalled" in g["reason"]
                            or "lost" in g["reason"] or "reset" in g["reason"] or "EOF" in g["reason"]
                            or "connect" in g["reason"] for g in between), between)
        # view.mp4: inside one recording, across several, across the gap, at the edges
        by_rec = {}
        for f in frames:
            by_rec.setdefault(f[0], []).append(f)
        ids = sorted(by_rec)
        mid = by_rec[ids[1]]
        a = mid[len(mid) // 4][1] + 1234
        self.check_mp4(sid, a, a + 30000, "inside.mp4")
        a = by_rec[ids[0]][10][1] + 567
        self.check_mp4(sid, a, by_rec[ids[2]][5][1] + 789, "several.mp4")
        self.check_mp4(sid, t0 + 45000 + 1234, t1 - 45000 - 1234, "across-gap.mp4")
        self.check_mp4(sid, t0 - 5 * 90000, t0 + 90000 + 1234, "start-edge.mp4")
        self.check_mp4(sid, t1 - 90000 - 1234, t1 + 5 * 90000, "end-edge.mp4")
        self.check_mp4(sid, t0, t1, "all.mp4")

    def test_view_ranges_etag_export(self):
        self.start_recording(rotate="2")
        sid, _ = self.login()
        time.sleep(8)
        frames = self.frames("cam0")
        t0 = frames[0][1]
        # a range whose recordings are all closed: its bytes no longer change
        closed = [r for r in self.recordings("cam0") if "open" not in r]
        self.assertGreaterEqual(len(closed), 1, closed)
        last = closed[-1]
        e90k = int(last["start90k"]) + int(last["wall90k"]) // 2
        s, e = f"{(t0 + 45000) / 90000:.6f}", f"{e90k / 90000:.6f}"
        path = self.view_path(s, e)
        t_start = time.time()
        whole = self.request("GET", path, cookie=sid)
        self.assertEqual(whole.status, 200)
        self.assertLess(time.time() - t_start, 2.0)
        size = len(whole.body)
        self.assertEqual(int(whole.header("Content-Length")), size)
        self.assertEqual(whole.header("Accept-Ranges"), "bytes")
        etag = whole.header("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
        self.assertTrue(whole.header("Last-Modified").endswith(" GMT"))
        self.assertRegex(whole.header("Content-Disposition"), r'^inline; filename="cam0-\d{8}T\d{6}Z\.mp4"$')
        self.assertEqual(whole.body[4:8], b"ftyp")
        self.assertIn(b"moov", whole.body[:4096])  # fast start
        # export writes the same bytes, then (signed by default, issue 14)
        # one top-level uuid box with the signed manifest
        out = os.path.join(self.tmp, "export.mp4")
        self.reel("export", "--camera", "cam0", "--from", "@" + s, "--to", "@" + e, "-o", out)
        with open(out, "rb") as f:
            exported = f.read()
        self.assertEqual(exported[:size], whole.body, "reel export and view.mp4 differ")
        tail = exported[size:]
        self.assertEqual((int.from_bytes(tail[:4], "big"), tail[4:8]), (len(tail), b"uuid"))
        self.reel("export", "--camera", "cam0", "--from", "@" + s, "--to", "@" + e, "-o", out + ".plain",
                  "--no-sign")
        with open(out + ".plain", "rb") as f:
            self.assertEqual(f.read(), whole.body, "reel export --no-sign and view.mp4 differ")
        # byte ranges fetched piecewise and joined equal the whole
        parts, off, step = [], 0, 65537
        while off < size:
            r = self.request("GET", path, cookie=sid, headers={"Range": f"bytes={off}-{off + step - 1}"})
            self.assertEqual(r.status, 206)
            last = min(off + step, size) - 1
            self.assertEqual(r.header("Content-Range"), f"bytes {off}-{last}/{size}")
            self.assertEqual(r.header("ETag"), etag)
            parts.append(r.body)
            off += step
        self.assertEqual(b"".join(parts), whole.body)
        r = self.request("GET", path, cookie=sid, headers={"Range": "bytes=-100"})
        self.assertEqual((r.status, r.body), (206, whole.body[-100:]))
        r = self.request("GET", path, cookie=sid, headers={"Range": f"bytes={size - 10}-"})
        self.assertEqual((r.status, r.body), (206, whole.body[-10:]))
        r = self.request("GET", path, cookie=sid, headers={"Range": f"bytes={size}-"})
        self.assert_json_error(r, 416)
        self.assertEqual(r.header("Content-Range"), f"bytes */{size}")
        r = self.request("GET", path, cookie=sid, headers={"Range": "bytes=0-1,5-6"})
        self.assertEqual((r.status, r.body), (200, whole.body))
        # If-Range: current tag -> 206, old tag -> whole; If-None-Match -> 304
        r = self.request("GET", path, cookie=sid, headers={"Range": "bytes=0-9", "If-Range": etag})
        self.assertEqual((r.status, r.body), (206, whole.body[:10]))
        r = self.request("GET", path, cookie=sid, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
        self.assertEqual((r.status, r.body), (200, whole.body))
        r = self.request("GET", path, cookie=sid, headers={"If-None-Match": etag})
        self.assertEqual((r.status, r.body), (304, b""))
        self.assertEqual(r.header("ETag"), etag)
        # HEAD: headers only
        r = self.request("HEAD", path, cookie=sid)
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(int(r.header("Content-Length")), size)
        self.assertEqual(r.header("ETag"), etag)
        # a range reaching into the open recording: the tag changes as it grows
        now_path = self.view_path(s, f"{time.time() + 60:.3f}")
        e1 = self.request("HEAD", now_path, cookie=sid).header("ETag")
        time.sleep(1.5)
        e2 = self.request("HEAD", now_path, cookie=sid).header("ETag")
        self.assertNotEqual(e1, e2)
        # a one-hour range starts sending quickly
        t = time.time()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", self.view_path(f"{time.time() - 3000:.0f}", f"{time.time() + 600:.0f}"),
                  headers={"Cookie": f"reel_session={sid}"})
        r = c.getresponse()
        r.read(1)
        self.assertEqual(r.status, 200)
        self.assertLess(time.time() - t, 0.5)
        c.close()

    def test_traversal_bad_requests_no_secrets(self):
        self.start_recording(auth=True)
        sid, _ = self.login()
        time.sleep(3)
        for path in ["/api/cameras/..%2F..%2Fetc%2Fpasswd/view.mp4?start=-1m&end=now",
                     "/api/cameras/..%2f..%2fetc%2fpasswd/spans",
                     "/api/cameras/../../etc/passwd/view.mp4?start=-1m&end=now",
                     "/api/cameras/%2e%2e/view.mp4?start=-1m&end=now",
                     "/api/cameras/cam0%00/view.mp4?start=-1m&end=now",
                     "/api/cameras/cam0%2F..%2F..%2Freel.db/view.mp4?start=-1m&end=now",
                     "/..%2Freel.db", "/../reel.db", "/reel.db", "/storage", "/%2e%2e/%2e%2e/etc/passwd",
                     "/api/cameras/cam0/view.mp4/../../../../etc/passwd"]:
            r = self.request("GET", path, cookie=sid)
            self.assertGreaterEqual(r.status, 400, path)
            self.assertLess(r.status, 500, path)
            self.assertNotIn(b"root:", r.body)
            self.assertNotIn(b"SQLite format", r.body)
            self.assertEqual(r.header("Content-Type"), "application/json", path)
        # a raw NUL byte in the request line
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as so:
            so.sendall(b"GET /api/cameras/cam0\x00/etc/passwd/view.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Cookie: reel_session=" + sid.encode() + b"\r\n\r\n")
            data = so.recv(65536)
        self.assertRegex(data, rb"^HTTP/1\.1 4\d\d ")
        self.assertNotIn(b"root:", data)
        # bad requests: 4xx with a JSON error saying what was wrong
        base = "/api/cameras/cam0/view.mp4"
        cases = [(f"{base}?start=yesterday&end=now", 400, "start"),
                 (f"{base}?start=-1m&end=2026-13-99T00:00:00Z", 400, "end"),
                 (f"{base}?end=now", 400, "start"),
                 (f"{base}?start=-1m", 400, "end"),
                 (f"{base}?start=now&end=-1m", 400, "after"),
                 (f"{base}?start=-8d&end=now", 400, "7 days"),
                 (f"{base}?start=%zz&end=now", 400, "start"),
                 ("/api/cameras/nosuch/view.mp4?start=-1m&end=now", 404, "nosuch"),
                 ("/api/cameras/nosuch/spans?start=-1m&end=now", 404, "nosuch"),
                 (f"{base}?start=1000&end=1010", 404, "no footage"),
                 ("/api/cameras/cam0/spans?start=x&end=now", 400, "start"),
                 ("/api/cameras/a.b/spans", 400, "camera name"),
                 ("/api/cameras/cam0/other", 404, "route")]
        for path, status, word in cases:
            r = self.request("GET", path, cookie=sid)
            self.assert_json_error(r, status)
            self.assertIn(word, r.json()["error"], path)
        self.assert_json_error(self.request("PUT", "/api/cameras", cookie=sid), 403)
        r = self.request("POST", "/api/login", body="x" * 20000)
        self.assertIn(r.status, (400, 413))
        # the camera password appears in no API output and no log line
        self.request("GET", "/api/cameras", cookie=sid)
        self.request("GET", "/api/cameras/cam0/spans?start=-1m&end=now", cookie=sid)
        self.assertNotIn(CAM_PASSWORD, self.request("GET", "/api/cameras", cookie=sid).body.decode())
        self.assert_no_secret_anywhere(sid)

    # ---- the camera configuration API ----

    def db_camera(self, name):
        """The camera's row in reel.db as a dict, or None."""
        with sqlite3.connect(f"file:{os.path.join(self.data, 'reel.db')}?mode=ro", uri=True, timeout=10) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM camera WHERE name = ?", (name,)).fetchone()
            return dict(row) if row else None

    def db_recordings(self, camera_id):
        with sqlite3.connect(f"file:{os.path.join(self.data, 'reel.db')}?mode=ro", uri=True, timeout=10) as db:
            return db.execute("SELECT COUNT(*) FROM recording WHERE camera_id = ?", (camera_id,)).fetchone()[0]

    def assert_changed(self, r, status):
        """A saved change: status (200/201) with a recorder that applied it,
        or 202 with a note when no recorder is attached."""
        self.assertIn(r.status, (status, 202), r.body)
        if r.status == 202:
            self.assertIn("reel run", r.json()["note"])
        return r.json()

    def listed(self, sid):
        return {c["name"]: c for c in self.request("GET", "/api/cameras", cookie=sid).json()["cameras"]}

    def test_camera_api_add_change_validate(self):
        self.start_recording()
        sid, csrf = self.login()
        url = f"rtsp://127.0.0.1:{self.sim_port}/cam/0"
        body = {"name": "cam1", "url": url, "user": "admin", "password": CAM_PASSWORD, "udp": True,
                "retain_bytes": 10 ** 9, "retain_seconds": 7200, "storage": 0, "enabled": True}
        # credentials: none, a session without its CSRF token, a foreign Origin
        self.assert_json_error(self.request("POST", "/api/cameras", body=body), 401)
        self.assert_json_error(self.request("POST", "/api/cameras", body=body, cookie=sid), 403)
        self.assert_json_error(self.request("POST", "/api/cameras", body=body, cookie=sid, csrf=csrf,
                                            headers={"Origin": "http://evil.example"}), 403)
        self.assertIsNone(self.db_camera("cam1"))
        # add
        r = self.request("POST", "/api/cameras", body=body, cookie=sid, csrf=csrf)
        j = self.assert_changed(r, 201)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual((j["name"], j["url"], j["user"], j["has_password"], j["udp"], j["retain_bytes"],
                          j["retain_seconds"], j["enabled"]), ("cam1", url, "admin", True, True, 10 ** 9, 7200, True))
        self.assertGreater(j["storage"], 0)
        self.assertNotIn("password", j)
        row = self.db_camera("cam1")
        self.assertEqual((row["url"], row["user"], row["password"], row["udp"], row["retain_bytes"],
                          row["retain_seconds"], row["enabled"]), (url, "admin", CAM_PASSWORD, 1, 10 ** 9, 7200, 1))
        self.assertIn("cam1", self.reel("camera", "list").stdout)
        cams = self.listed(sid)
        self.assertEqual(sorted(cams), ["cam0", "cam1"])
        self.assertTrue(cams["cam1"]["enabled"])
        self.assertTrue(cams["cam0"]["enabled"])
        self.assertNotIn("url", cams["cam1"])
        r = self.request("GET", "/api/cameras/cam1/config", cookie=sid)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["url"], url)
        self.assertNotIn("password", r.json())
        # a second time: 409
        r = self.request("POST", "/api/cameras", body=body, cookie=sid, csrf=csrf)
        self.assert_json_error(r, 409)
        self.assertIn("exists", r.json()["error"])
        # bad inputs: each a 4xx saying what is wrong, nothing written
        good = {"name": "cam2", "url": url}
        bad = [({"url": url}, 400, "name: required"),
               ({"name": "cam2"}, 400, "url: required"),
               (dict(good, name="a.b"), 400, "name"),
               (dict(good, name="x" * 64), 400, "name"),
               (dict(good, url="http://127.0.0.1/x"), 400, "rtsp://"),
               (dict(good, url=f"rtsp://admin:{CAM_PASSWORD}@127.0.0.1:{self.sim_port}/cam/0"), 400, "credentials"),
               (dict(good, url=f"rtsp://admin@127.0.0.1:{self.sim_port}/cam/0"), 400, "credentials"),
               (dict(good, url="rtsp://"), 400, "host"),
               (dict(good, url="rtsp://h/" + "x" * 1100), 400, "url"),
               (dict(good, url="rtsp://h/a b"), 400, "url"),
               (dict(good, user="a:b"), 400, "user"),
               (dict(good, user="u" * 200), 400, "user"),
               (dict(good, password="p" * 300), 400, "password"),
               (dict(good, udp="yes"), 400, "udp"),
               (dict(good, enabled=None), 400, "enabled"),
               (dict(good, retain_bytes=-1), 400, "retain_bytes"),
               (dict(good, retain_seconds=1.5), 400, "retain_seconds"),
               (dict(good, storage=99), 400, "storage"),
               (dict(good, colour="red"), 400, "unknown field 'colour'"),
               ('{"name": "cam2", "name": "cam3", "url": "rtsp://h/"}', 400, "JSON"),
               ('{"name": "cam2", "password": "' + CAM_PASSWORD + '", ', 400, "JSON"),
               ("[]", 400, "JSON object"),
               ('{"name": "cam2", "url": "rtsp://h/", "user": "' + "u" * 20000 + '"}', 413, "16384")]
        for b, status, word in bad:
            r = self.request("POST", "/api/cameras", body=b, cookie=sid, csrf=csrf,
                             headers={"Content-Type": "application/json"})
            self.assert_json_error(r, status)
            self.assertIn(word, r.json()["error"], b if len(str(b)) < 200 else word)
        self.assertIsNone(self.db_camera("cam2"))
        # PATCH: a subset; the password untouched unless given
        r = self.request("PATCH", "/api/cameras/cam1", body={"retain_seconds": 60, "udp": False}, cookie=sid,
                         csrf=csrf)
        j = self.assert_changed(r, 200)
        self.assertEqual((j["retain_seconds"], j["udp"], j["retain_bytes"], j["has_password"]), (60, False, 10 ** 9,
                                                                                                 True))
        row = self.db_camera("cam1")
        self.assertEqual((row["retain_seconds"], row["udp"], row["password"]), (60, 0, CAM_PASSWORD))
        r = self.request("PATCH", "/api/cameras/cam1", body={"password": "another-cam-pw"}, cookie=sid, csrf=csrf)
        self.assert_changed(r, 200)
        self.assertEqual(self.db_camera("cam1")["password"], "another-cam-pw")
        for path, b, status, word in [("/api/cameras/cam1", {"name": "cam9"}, 400, "renamed"),
                                      ("/api/cameras/cam1", {}, 400, "nothing to change"),
                                      ("/api/cameras/cam1", {"url": "rtsp://u:p@h/"}, 400, "credentials"),
                                      ("/api/cameras/cam1", {"retain_bytes": -5}, 400, "retain_bytes"),
                                      ("/api/cameras/nosuch", {"udp": True}, 404, "nosuch"),
                                      ("/api/cameras/a.b", {"udp": True}, 400, "camera name")]:
            r = self.request("PATCH", path, body=b, cookie=sid, csrf=csrf)
            self.assert_json_error(r, status)
            self.assertIn(word, r.json()["error"], path)
        self.assertEqual(self.db_camera("cam1")["retain_bytes"], 10 ** 9)
        # disable and enable: kept, shown as such
        r = self.request("POST", "/api/cameras/cam1/disable", cookie=sid, csrf=csrf)
        self.assertFalse(self.assert_changed(r, 200)["enabled"])
        self.assertEqual(self.db_camera("cam1")["enabled"], 0)
        cams = self.listed(sid)
        self.assertEqual((cams["cam1"]["enabled"], cams["cam1"]["state"]), (False, "disabled"))
        r = self.request("POST", "/api/cameras/cam1/enable", cookie=sid, csrf=csrf)
        self.assertTrue(self.assert_changed(r, 200)["enabled"])
        self.assertEqual(self.db_camera("cam1")["enabled"], 1)
        self.assertTrue(self.listed(sid)["cam1"]["enabled"])
        self.assert_json_error(self.request("POST", "/api/cameras/nosuch/enable", cookie=sid, csrf=csrf), 404)
        # wrong methods
        r = self.request("PUT", "/api/cameras/cam1", body={"udp": True}, cookie=sid, csrf=csrf)
        self.assert_json_error(r, 405)
        self.assertEqual(r.header("Allow"), "PATCH, DELETE")
        r = self.request("GET", "/api/cameras/cam1/enable", cookie=sid)
        self.assert_json_error(r, 405)
        self.assertEqual(r.header("Allow"), "POST")
        # a bearer token needs no CSRF token
        tok = self.request("POST", "/api/tokens", body={"name": "admin-script"}, cookie=sid, csrf=csrf).json()["token"]
        bearer = {"Authorization": f"Bearer {tok}"}
        r = self.request("POST", "/api/cameras", body={"name": "cam3", "url": url, "enabled": False}, headers=bearer)
        j = self.assert_changed(r, 201)
        self.assertEqual((j["enabled"], j["has_password"], j["user"]), (False, False, ""))
        self.assertEqual(self.db_camera("cam3")["enabled"], 0)
        # a camera without footage goes without confirmation
        r = self.request("DELETE", "/api/cameras/cam3", headers=bearer)
        self.assertIn(r.status, (200, 202), r.body)
        self.assertEqual(r.json()["deleted"], "cam3")
        self.assertIsNone(self.db_camera("cam3"))
        self.assert_json_error(self.request("DELETE", "/api/cameras/cam3", headers=bearer), 404)
        # the camera password: in no response and no log line
        self.assert_no_secret_anywhere(sid)
        self.assertNotIn("another-cam-pw", self.rec.output())
        for o in self.outputs:
            self.assertNotIn("another-cam-pw", o)

    def test_camera_api_delete_footage(self):
        self.start_recording(rotate="2")
        sid, csrf = self.login()
        wait_until(lambda: any(int(r.get("frames", 0)) > 0 for r in self.recordings("cam0")), 20,
                   what="footage of cam0")
        cam_id = self.db_camera("cam0")["id"]
        # Until the recorder applies changes at run time (the hub branch),
        # the camera is stopped by taking its source away: no open run.
        self.procs[0].kill()
        wait_until(lambda: not any("open" in r for r in self.recordings("cam0")), 20, what="cam0's run to close")
        n = self.db_recordings(cam_id)
        self.assertGreater(n, 0)
        r = self.request("DELETE", "/api/cameras/cam0", cookie=sid, csrf=csrf)
        self.assert_json_error(r, 409)
        self.assertIn("footage", r.json()["error"])
        self.assertIn("delete_footage=1&confirm=cam0", r.json()["error"])
        for q, word in [("?delete_footage=1", "confirm"), ("?delete_footage=1&confirm=cam1", "confirm"),
                        ("?delete_footage=yes&confirm=cam0", "delete_footage")]:
            self.assert_json_error(self.request("DELETE", "/api/cameras/cam0" + q, cookie=sid, csrf=csrf), 400)
        self.assert_json_error(self.request("DELETE", "/api/cameras/cam0?delete_footage=1&confirm=cam0",
                                            cookie=sid), 403)
        row = self.db_camera("cam0")
        self.assertEqual(row["enabled"], 1)  # refused before anything changed
        self.assertEqual(self.db_recordings(cam_id), n)
        self.assertIn("cam0", self.listed(sid))
        r = self.request("DELETE", "/api/cameras/cam0?delete_footage=1&confirm=cam0", cookie=sid, csrf=csrf)
        self.assertIn(r.status, (200, 202), r.body)
        self.assertEqual(r.json()["deleted"], "cam0")
        self.assertTrue(r.json()["footage_deleted"])
        self.assertIsNone(self.db_camera("cam0"))
        self.assertEqual(self.db_recordings(cam_id), 0)
        self.assertNotIn("cam0", self.listed(sid))
        self.assertNotIn("cam0", self.reel("camera", "list").stdout)
        self.assert_json_error(self.request("GET", "/api/cameras/cam0/spans", cookie=sid), 404)

    def test_roles_viewer_cannot_change_cameras(self):
        """`reel user add --role viewer`: listed with its role; through the
        real server its session may read (cameras, spans, view.mp4) and gets
        403 on every camera change, which leaves the camera as it was."""
        pw = os.path.join(self.tmp, "viewer.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        # issue 14: a new viewer sees no camera unless given some ("all" here:
        # cam0 is added below)
        self.reel("user", "add", "watcher", "--role", "viewer", "--password-file", pw, "--cameras", "all")
        r = self.reel("user", "add", "boss", "--role", "chief", "--password-file", pw, check=False)
        self.assertEqual(r.returncode, 2)
        listing = self.reel("user", "list").stdout
        self.assertRegex(listing, r"(?m)^watcher\s+role=viewer ")
        self.assertRegex(listing, rf"(?m)^{USER}\s+role=admin ")
        self.assertNotIn("boss", listing)
        self.start_recording()
        sid, csrf = self.login("watcher", PASSWORD)
        url = f"rtsp://127.0.0.1:{self.sim_port}/cam/0"
        for method, path, body in [("POST", "/api/cameras", {"name": "cam9", "url": url}),
                                   ("PATCH", "/api/cameras/cam0", {"udp": True}),
                                   ("DELETE", "/api/cameras/cam0?delete_footage=1&confirm=cam0", None),
                                   ("POST", "/api/cameras/cam0/disable", None),
                                   ("GET", "/api/cameras/cam0/config", None)]:
            r = self.request(method, path, body=body, cookie=sid, csrf=csrf)
            self.assert_json_error(r, 403)
            self.assertIn("administrator", r.json()["error"])
        self.assertEqual(list(self.listed(sid)), ["cam0"])
        row = self.db_camera("cam0")
        self.assertEqual((row["enabled"], row["udp"]), (1, 0))
        wait_until(lambda: self.request("GET", "/api/cameras/cam0/spans?start=-1m&end=now", cookie=sid)
                   .json()["spans"], 15.0, what="cam0's first span")
        r = self.request("GET", "/api/cameras/cam0/view.mp4?start=-1m&end=now", cookie=sid)
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        # the administrator still may
        asid, acsrf = self.login()
        r = self.request("PATCH", "/api/cameras/cam0", body={"retain_seconds": 3600}, cookie=asid, csrf=acsrf)
        self.assertIn(r.status, (200, 202), r.body)  # 202 while `reel run` attaches no recorder to the server
        self.assertEqual(self.db_camera("cam0")["retain_seconds"], 3600)

    def test_camera_api_applies_live(self):
        self.start_recording(rotate="2")
        sid, csrf = self.login()
        url = f"rtsp://127.0.0.1:{self.sim_port}/cam/0"
        t0 = time.time()
        r = self.request("POST", "/api/cameras", body={"name": "cam1", "url": url}, cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 201, r.body)  # a recorder applied it
        # recording within 2 s of the POST: the live state, then committed frames
        wait_until(lambda: self.listed(sid)["cam1"]["state"] == "recording", max(0.1, 2.0 - (time.time() - t0)),
                   what="cam1 recording within 2 s")
        wait_until(lambda: self.request("GET", "/api/cameras/cam1/spans?start=-1m&end=now", cookie=sid)
                   .json()["spans"], 3.0, what="cam1's first span")
        self.assertGreater(len(self.frames("cam1")), 0)
        # disabled: stopped within 2 s, its run closed; shown as such
        r = self.request("POST", "/api/cameras/cam1/disable", cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        wait_until(lambda: not any("open" in x for x in self.recordings("cam1")), 2.0, what="cam1's run closed")
        self.assertEqual(self.listed(sid)["cam1"]["state"], "disabled")
        n = len(self.frames("cam1"))
        time.sleep(1.5)
        self.assertEqual(len(self.frames("cam1")), n, "a disabled camera still records")
        r = self.request("POST", "/api/cameras/cam1/enable", cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        # applied within 2 s (the session is being set up); recording from the
        # camera's next key frame, which the recorder cannot hurry
        wait_until(lambda: self.listed(sid)["cam1"]["state"] != "disabled", 2.0, what="cam1 enabled again")
        wait_until(lambda: self.listed(sid)["cam1"]["state"] == "recording", 5.0, what="cam1 recording again")
        # removed while recording: stopped first, then deleted with its footage
        self.assert_json_error(self.request("DELETE", "/api/cameras/cam1", cookie=sid, csrf=csrf), 409)
        r = self.request("DELETE", "/api/cameras/cam1?delete_footage=1&confirm=cam1", cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        self.assertIsNone(self.db_camera("cam1"))
        self.assertNotIn("cam1", self.listed(sid))
        # cam0 never stopped
        before = len(self.frames("cam0"))
        time.sleep(1.5)
        self.assertGreater(len(self.frames("cam0")), before)
        self.assert_no_secret_anywhere(sid)


if __name__ == "__main__":
    unittest.main()
