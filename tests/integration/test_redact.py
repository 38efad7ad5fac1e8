# SPDX-License-Identifier: GPL-3.0-or-later
"""Redacted exports (POST /api/redactions, issue 14 "Disclosure") against a
real recording of a clip with fine detail everywhere (tests/data
make-clips.sh: h264-detail.264): a blur box moving through 3 key points and
a filled box moving through 2, exported, downloaded and decoded with ffmpeg
next to view.mp4 of the same range. In every frame the fill box's pixels
are black (Y 16, U V 128), the blur box has lost its fine detail (the
high-frequency energy inside drops to a small fraction of the original's
at the same frame) and outside both the picture matches the original.
Also the refusals: no session, no CSRF, bad bodies, caps, an unknown
camera, a missing reason, someone else's job, a second job while one runs.
Standard library only."""
import json
import os
import subprocess
import time

import hashlib
import math
import re

from harness import CLIPS, REEL, REEL_SIM, free_port, wait_file, wait_until
from test_http import HttpTest

W, H = 320, 180
FRAME = W * H * 3 // 2


def t3339(t90k):
    """RFC 3339 with milliseconds (the API's precision), rounded to the nearest one."""
    ms = int(round(t90k / 90))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def px_rect(x, y, w, h):
    return (max(0, math.floor(x * W + 1e-9)), max(0, math.floor(y * H + 1e-9)),
            min(W, math.ceil((x + w) * W - 1e-9)), min(H, math.ceil((y + h) * H - 1e-9)))


def box_at(keys, t90k):
    """The same rule as src/media/redact_boxes.c: linear between key points, held outside them."""
    if t90k <= keys[0][0]:
        return keys[0][1:]
    if t90k >= keys[-1][0]:
        return keys[-1][1:]
    for a, b in zip(keys, keys[1:]):
        if a[0] <= t90k < b[0]:
            f = (t90k - a[0]) / (b[0] - a[0])
            return tuple(a[i] + (b[i] - a[i]) * f for i in range(1, 5))
    return keys[-1][1:]


def decode(path):
    """[(pts_ms, yuv420p bytes)] of every frame."""
    pts = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "frame=best_effort_timestamp_time", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout.split()
    pts = [p.split(",")[0] for p in pts if p.split(",")[0]]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         capture_output=True, check=True).stdout
    n = len(raw) // FRAME
    assert n == len(pts), (n, len(pts))
    return [(round(float(p) * 1000), raw[i * FRAME:(i + 1) * FRAME]) for i, p in enumerate(pts)]


def hf(y, r):
    """Mean |horizontal| + |vertical| neighbour difference of luma inside rect r."""
    x0, y0, x1, y1 = r
    s = n = 0
    for j in range(y0, y1 - 1):
        row, nxt = y[j * W:(j + 1) * W], y[(j + 1) * W:(j + 2) * W]
        for i in range(x0, x1 - 1):
            s += abs(row[i] - row[i + 1]) + abs(row[i] - nxt[i])
            n += 1
    return s / max(n, 1)


def shrink(r, d):
    return (r[0] + d, r[1] + d, r[2] - d, r[3] - d)


class RedactTest(HttpTest):
    def start_recording_detail(self):
        port = free_port()
        ready = os.path.join(self.tmp, "sim.ready")
        self.start([REEL_SIM, "--clip", os.path.join(CLIPS, "h264-detail.264"), "--codec", "h264", "--cameras", "1",
                    "--listen", "127.0.0.1", "--port", str(port), "--ready-file", ready], "sim")
        wait_file(ready)
        self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{port}/cam/0")
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--rotate-s", "4",
                               "--checkpoint-ms", "300"], "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))

    def recorded_range(self, seconds):
        """A range of `seconds` from 1 s after the first frame, on whole
        milliseconds: the redaction's start and end go to the API in RFC 3339
        with milliseconds, view.mp4's as seconds with 6 decimals, and both
        must name the same range (a start rounded down by a few 90 kHz ticks
        took in the frame just before view.mp4's first, and the copy was one
        frame behind the original all through)."""
        def enough():
            f = self.frames("cam0")
            return f if f and f[-1][1] - f[0][1] >= (seconds + 2) * 90000 else None
        f = wait_until(enough, 60, step=0.5, what=f"{seconds + 2} s recorded")
        start = f[0][1] + 90000
        start -= start % 90
        return start, start + seconds * 90000

    def wait_job(self, req, jid):
        def done():
            j = req("GET", f"/api/redactions/{jid}").json()
            return j if j["status"] != "running" else None
        return wait_until(done, 90, step=0.3, what="the redacted export")

    def test_boxes_cover_every_frame(self):
        self.start_recording_detail()
        s90k, e90k = self.recorded_range(8)
        sid, csrf = self.login()
        req = lambda m, p, b=None: self.request(m, p, body=b, cookie=sid, csrf=csrf)
        sec = lambda x: s90k + int(x * 90000)
        blur = [(sec(0.5), 0.05, 0.10, 0.25, 0.35), (sec(4), 0.40, 0.45, 0.30, 0.40), (sec(7.5), 0.60, 0.15, 0.25, 0.35)]
        fill = [(sec(1), 0.72, 0.55, 0.20, 0.30), (sec(7), 0.70, 0.05, 0.22, 0.30)]
        body = {"camera": "cam0", "start": t3339(s90k), "end": t3339(e90k), "reason": "subject access request 17",
                "boxes": [{"mode": "blur", "keys": [{"t": t3339(k[0]), "x": k[1], "y": k[2], "w": k[3], "h": k[4]}
                                                    for k in blur]},
                          {"mode": "fill", "keys": [{"t": t3339(k[0]), "x": k[1], "y": k[2], "w": k[3], "h": k[4]}
                                                    for k in fill]}]}
        r = req("POST", "/api/redactions", body)
        self.assertEqual(r.status, 202, r.body)
        jid = r.json()["id"]
        self.assertRegex(jid, r"^[0-9a-f]{16}$")
        # one at a time: a second one while the first runs is refused with Retry-After
        r2 = req("POST", "/api/redactions", body)
        self.assert_json_error(r2, 503)
        self.assertTrue(r2.header("Retry-After"))
        job = self.wait_job(req, jid)
        self.assertEqual(job["status"], "done", job)
        self.assertEqual(job["progress"], 1)
        self.assertEqual(len(job["redaction"]), 2)
        self.assertEqual(job["reason"], "subject access request 17")
        self.assertTrue(job["file"].endswith("_redacted.mp4"), job)
        self.assertIn(jid, [j["id"] for j in req("GET", "/api/redactions").json()["redactions"]])
        r = req("GET", f"/api/redactions/{jid}/file")
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertIn("attachment", r.header("Content-Disposition"))
        red = os.path.join(self.tmp, "redacted.mp4")
        with open(red, "wb") as f:
            f.write(r.body)
        self.assertEqual(len(r.body), job["bytes"])
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), job["sha256"])
        self.assert_decodes_clean(red)
        # signed like any export, marked as derived: the original's recordings and the rectangles applied
        self.assertTrue(job["signed"], job)
        v = subprocess.run([REEL, "-d", self.data, "verify", red], capture_output=True, text=True, timeout=120)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn("verified", v.stdout)
        self.assertIn("derived_from", v.stdout)
        self.assertIn('"redaction"', v.stdout)
        self.assertIn('"mode": "blur"', v.stdout)
        self.assertIn('"mode": "fill"', v.stdout)
        codec = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "stream=codec_name,width,height", "-of", "csv=p=0", red],
                               capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(codec, f"h264,{W},{H}")
        _, orig = self.fetch_mp4(sid, f"{s90k / 90000:.6f}", f"{e90k / 90000:.6f}", "orig.mp4")
        a, b = decode(orig), dict(decode(red))
        self.assertGreater(len(a), 200)
        self.assertGreaterEqual(len(b), len(a) - 1)
        checked = 0
        for pts, o in a:
            if pts not in b:
                continue
            x = b[pts]
            checked += 1
            t = s90k + pts * 90
            fr = px_rect(*box_at(fill, t))
            br = px_rect(*box_at(blur, t))
            oy, xy = o[:W * H], x[:W * H]
            # fill: black in luma and chroma (the encoder may ring a little at the very edge)
            vals = [xy[j * W + i] for j in range(fr[1], fr[3]) for i in range(fr[0], fr[2])]
            near = sum(1 for v in vals if abs(v - 16) <= 12) / len(vals)
            self.assertGreater(near, 0.95, f"fill box at {pts} ms: {near:.3f} of its pixels black")
            self.assertLess(abs(sum(vals) / len(vals) - 16), 3, f"fill box at {pts} ms: mean luma")
            # inside by a 4-pixel margin (x264 rings across block edges next to the texture): all black
            # (luma within 16 of 16: no picture left, only coding noise)
            inner = shrink(fr, 4)
            iv = [xy[j * W + i] for j in range(inner[1], inner[3]) for i in range(inner[0], inner[2])]
            black = sum(1 for v in iv if abs(v - 16) <= 12) / len(iv)
            self.assertGreater(black, 0.99, f"fill box at {pts} ms: {fr} {inner}")
            self.assertLess(hf(xy, inner), hf(oy, inner) * 0.1, f"fill box at {pts} ms: detail left")
            u = x[W * H:W * H + W * H // 4]
            cu = [u[j * (W // 2) + i] for j in range(inner[1] // 2 + 1, inner[3] // 2 - 1)
                  for i in range(inner[0] // 2 + 1, inner[2] // 2 - 1)]
            v_ = x[W * H + W * H // 4:]
            cv = [v_[j * (W // 2) + i] for j in range(inner[1] // 2 + 1, inner[3] // 2 - 1)
                  for i in range(inner[0] // 2 + 1, inner[2] // 2 - 1)]
            self.assertLess(abs(sum(cu + cv) / len(cu + cv) - 128), 3, f"fill box chroma at {pts} ms: mean")
            grey = sum(1 for v in cu + cv if abs(v - 128) <= 12) / len(cu + cv)
            self.assertGreater(grey, 0.98, f"fill box chroma at {pts} ms: {sorted(cu + cv)[:3]} {sorted(cu + cv)[-3:]}")
            # blur: the fine detail inside is gone
            bi = shrink(br, 2)
            before, after = hf(oy, bi), hf(xy, bi)
            self.assertGreater(before, 20, f"the clip has detail at {pts} ms")
            self.assertLess(after, before * 0.15, f"blur box at {pts} ms: {after:.1f} vs {before:.1f}")
            # outside the boxes: the original at the same time (the failure
            # says how the neighbours compare, to tell a shifted copy from a
            # damaged one)
            def outside_diff(ref):
                diff = n = 0
                for j in range(0, H, 3):
                    for i in range(0, W, 3):
                        if any(r[0] - 4 <= i < r[2] + 4 and r[1] - 4 <= j < r[3] + 4 for r in (fr, br)):
                            continue
                        diff += abs(ref[j * W + i] - xy[j * W + i])
                        n += 1
                return diff / n
            d = outside_diff(oy)
            if d >= 6:
                k = [q for q, _ in a].index(pts)
                near = {q - k: outside_diff(a[q][1][:W * H]) for q in range(k - 2, k + 3) if q != k and 0 <= q < len(a)}
                self.fail(f"outside the boxes at {pts} ms (frame {checked} of the copy): {d:.1f} against the "
                          "original at the same time, " + ", ".join(f"{v:.1f} at {o:+d} frames" for o, v in
                                                                   sorted(near.items())))
        self.assertGreaterEqual(checked, len(a) - 1)

    def test_refusals(self):
        self.start_recording_detail()
        s90k, e90k = self.recorded_range(2)
        sid, csrf = self.login()
        req = lambda m, p, b=None: self.request(m, p, body=b, cookie=sid, csrf=csrf)
        key = {"t": t3339(s90k + 45000), "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}
        good = {"camera": "cam0", "start": t3339(s90k), "end": t3339(e90k), "reason": "request 1",
                "boxes": [{"mode": "fill", "keys": [key]}]}
        # no session; a session without its CSRF token
        self.assert_json_error(self.request("POST", "/api/redactions", body=good), 401)
        self.assert_json_error(self.request("GET", "/api/redactions"), 401)
        self.assert_json_error(self.request("POST", "/api/redactions", body=good, cookie=sid), 403)
        late = t3339(e90k + 90000 * 60)
        bad = [
            dict(good, extra=1), dict(good, camera="../etc"), dict(good, camera="x" * 64), dict(good, start="soon"),
            dict(good, end=good["start"]), dict(good, end=t3339(s90k + 90000 * 601)), dict(good, reason=7),
            dict(good, reason="r" * 1001), dict(good, boxes=[]), dict(good, boxes={}),
            dict(good, boxes=[{"mode": "pixelate", "keys": [key]}]),
            dict(good, boxes=[{"mode": "fill", "keys": []}]),
            dict(good, boxes=[{"mode": "fill", "keys": [dict(key, x=0.9)]}]),
            dict(good, boxes=[{"mode": "fill", "keys": [dict(key, w=-0.1)]}]),
            dict(good, boxes=[{"mode": "fill", "keys": [dict(key, t=late)]}]),
            dict(good, boxes=[{"mode": "fill", "keys": [key, key]}]),
            dict(good, boxes=[{"mode": "fill", "keys": [dict(key, z=1)]}]),
            dict(good, boxes=[{"mode": "fill", "keys": [key]}] * 33),
            dict(good, boxes=[{"mode": "fill", "keys": [dict(key, t=t3339(s90k + i * 1000)) for i in range(65)]}]),
            [1], "not json",
        ]
        for b in bad:
            self.assert_json_error(req("POST", "/api/redactions", b), 400)
        self.assert_json_error(req("POST", "/api/redactions", dict(good, reason="  ")), 400)   # export.reason required
        self.assert_json_error(req("POST", "/api/redactions", dict(good, camera="nosuch")), 404)
        self.assert_json_error(req("POST", "/api/redactions", dict(good, reason="x" * 17000)), 413)
        for p in ["/api/redactions/0123456789abcdef", "/api/redactions/0123456789abcdef/file",
                  "/api/redactions/..%2f..%2fetc", "/api/redactions/" + "a" * 64]:
            self.assertIn(req("GET", p).status, (400, 404), p)
        # someone else's job is like no job; the owner's is there
        r = req("POST", "/api/redactions", good)
        self.assertEqual(r.status, 202, r.body)
        jid = r.json()["id"]
        pw = os.path.join(self.tmp, "ann.pw")
        with open(pw, "w") as f:
            f.write("ann-password-1\n")
        self.reel("user", "add", "ann", "--password-file", pw, "--role", "viewer")
        asid, acsrf = self.login("ann", "ann-password-1")
        for p in [f"/api/redactions/{jid}", f"/api/redactions/{jid}/file"]:
            self.assertIn(self.request("GET", p, cookie=asid, csrf=acsrf).status, (403, 404), p)
        r = self.request("GET", "/api/redactions", cookie=asid, csrf=acsrf)
        self.assertTrue(r.status == 403 or r.json()["redactions"] == [], r.body)
        job = self.wait_job(req, jid)
        self.assertEqual(job["status"], "done", job)
        self.assertEqual(req("GET", f"/api/redactions/{jid}/file").status, 200)
        # the command line: reel export --redact BOXES.json (the API's boxes), signed as derived
        boxes = os.path.join(self.tmp, "boxes.json")
        with open(boxes, "w") as f:
            json.dump({"boxes": good["boxes"]}, f)
        out = os.path.join(self.tmp, "cli.mp4")
        rng = ["--camera", "cam0", "--from", f"@{s90k / 90000:.3f}", "--to", f"@{e90k / 90000:.3f}"]
        r = self.reel("export", *rng, "-o", out, "--redact", boxes, "--reason", "request 2", "--by", "cli")
        self.assertIn("redacted, signed", r.stdout)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        self.assert_decodes_clean(out)
        v = subprocess.run([REEL, "-d", self.data, "verify", out], capture_output=True, text=True, timeout=120)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn("derived_from", v.stdout)
        with open(boxes, "w") as f:
            f.write('[{"mode":"smudge","keys":[]}]')
        r = self.reel("export", *rng, "-o", out + "2", "--redact", boxes, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(out + "2"))
