# SPDX-License-Identifier: GPL-3.0-or-later
"""The timeline's data (issue 13): GET /api/timeline over days of footage
made by bench/tl_fill.c (spans, gaps of every kind, min_gap, cameras,
hostile parameters), the recordings list and its pages, and the fMP4 of
recorded footage (init.mp4 + frag.m4s) decoded by ffmpeg: chained within a
recording, across a recording boundary, key frames only, and an open H.265
recording while it records; the span cache following retention's
deletions while the recorder runs."""
import http.client
import json
import os
import struct
import subprocess
import time
import unittest
import urllib.parse

from harness import REEL, ReelTestCase, wait_until
from live_http import LiveHttpMixin

FILL = os.environ.get("REEL_TL_FILL", "")
CLIPS = os.environ.get("REEL_CLIPS", "")
S = 90000


def iso(unix_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix_s)) + "Z"


def parse_iso(s):
    import datetime
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def patch_tfdt(frag, delta):
    """frag (moof + mdat) with delta added to its tfdt (what a player's
    timestampOffset does), so that fragments of two recordings play one
    after the other in a plain file."""
    b = bytearray(frag)
    i = b.find(b"tfdt")
    assert i > 0
    (v,) = struct.unpack(">Q", b[i + 8:i + 16])
    b[i + 8:i + 16] = struct.pack(">Q", v + delta)
    return bytes(b)


class TimelineTest(LiveHttpMixin, ReelTestCase):
    def get(self, path, cookie=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Host": "127.0.0.1"}
        if cookie:
            h["Cookie"] = f"reel_session={self.sid}"
        c.request("GET", path, headers=h)
        r = c.getresponse()
        body = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, body

    def get_json(self, path, status=200):
        st, _, body = self.get(path)
        self.assertEqual(st, status, body[:500])
        return json.loads(body)

    def fill(self, *args):
        self.assertTrue(FILL and os.path.exists(FILL), "REEL_TL_FILL must name reel-bench-tl-fill")
        r = subprocess.run([FILL, self.data, os.path.join(CLIPS, "h264-small.264"), *args], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def decode_count(self, path):
        """(frames decoded, ffmpeg's complaints)"""
        r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                            "stream=nb_read_frames", "-of", "json", path], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(json.loads(r.stdout)["streams"][0]["nb_read_frames"]), r.stderr.strip()

    def test_timeline_over_filled_days(self):
        end = int(time.time()) // 60 * 60 - 120
        days = 13
        self.fill("--cameras", "2", "--days", str(days), "--end", str(end))
        self.add_user()
        self.run_http()
        start = end - days * 86400
        q = f"start={iso(start)}&end={iso(end)}"

        # ---- the timeline ----
        j = self.get_json(f"/api/timeline?{q}")
        self.assertEqual([c["name"] for c in j["cameras"]], ["cam0", "cam1"])
        kinds = set()
        for cam in j["cameras"]:
            self.assertEqual(cam["locks"], [])
            self.assertEqual(cam["events"], [])
            pieces = sorted([(a, b, "span") for a, b in cam["spans"]] +
                            [(g["start"], g["end"], g["reason"]) for g in cam["gaps"]])
            self.assertEqual(pieces[0][0], j["start"])
            self.assertEqual(pieces[-1][1], j["end"])
            for a, b in zip(pieces, pieces[1:]):
                self.assertEqual(a[1], b[0], pieces)
            kinds |= {g["reason"] for g in cam["gaps"]}
        self.assertTrue({"deleted by retention", "refused", "wrong password", "stalled", "recorder stopped",
                         "offline"} <= kinds, kinds)
        # the stall (5 min) is under the default min_gap of 13 days (4.7 min)? No: 13 d / 4000 = 280 s < 300 s
        stalls = [g for g in j["cameras"][0]["gaps"] if g["reason"] == "stalled"]
        self.assertEqual(len(stalls), 1, j["cameras"][0]["gaps"])
        self.assertIn("detail", stalls[0])
        # with min_gap 50 min the 5, 20 and 30 min gaps join their spans; the 60 and 90 min ones stay
        j2 = self.get_json(f"/api/timeline?{q}&min_gap=3000")
        k2 = {g["reason"] for g in j2["cameras"][0]["gaps"]}
        self.assertNotIn("stalled", k2)
        self.assertNotIn("refused", k2)
        self.assertIn("wrong password", k2)
        self.assertLess(len(j2["cameras"][0]["spans"]), len(j["cameras"][0]["spans"]))
        # one camera, asked twice; the same answer again (the cache)
        j3 = self.get_json(f"/api/timeline?{q}&cameras=cam1,cam1")
        self.assertEqual([c["name"] for c in j3["cameras"]], ["cam1"])
        self.assertEqual(j3["cameras"][0], j["cameras"][1])
        # the future is not a gap: the timeline stops at now
        j4 = self.get_json(f"/api/timeline?start={iso(end - 3600)}&end={iso(int(time.time()) + 86400)}&cameras=cam0")
        last_gap = j4["cameras"][0]["gaps"][-1]
        self.assertLessEqual(parse_iso(last_gap["end"]), time.time() + 5)

        # ---- hostile parameters ----
        for bad, want in [(f"{q}&cameras=cam0,nosuch", 404), (f"{q}&cameras=" + ",".join(f"c{i}" for i in range(65)), 400),
                          (f"{q}&cameras=" + "x" * 5000, 414), (f"{q}&cameras=" + "x" * 100, 400), (f"{q}&cameras=../etc", 400), (f"{q}&cameras=", 400),
                          (f"{q}&cameras=cam0%00", 400),
                          (f"start={iso(end)}&end={iso(start)}", 400), (f"start={iso(end - 63 * 86400)}&end={iso(end)}", 400),
                          (f"{q}&min_gap=-1", 400), (f"{q}&min_gap=abc", 400), (f"{q}&min_gap=1e300", 400),
                          ("start=yesterday", 400)]:
            st, _, body = self.get(f"/api/timeline?{bad}")
            self.assertEqual(st, want, (bad[:80], body[:200]))
        st, _, _ = self.get(f"/api/timeline?{q}", cookie=False)
        self.assertEqual(st, 401)

        # ---- recordings: an hour, then pages ----
        t = start + 3 * 86400
        rl = self.get_json(f"/api/cameras/cam0/recordings?start={iso(t)}&end={iso(t + 3600)}")
        recs = rl["recordings"]
        self.assertFalse(rl["more"])
        self.assertIn(len(recs), (60, 61))
        self.assertEqual(recs, sorted(recs, key=lambda x: x["start90k"]))
        r0 = recs[0]
        for k in ("id", "start", "end", "start90k", "duration90k", "frames", "bytes", "entry", "codec", "width",
                  "height", "open"):
            self.assertIn(k, r0)
        self.assertEqual((r0["width"], r0["height"], r0["open"]), (320, 180, False))
        self.assertTrue(r0["codec"].startswith("avc1."))
        page = self.get_json(f"/api/cameras/cam0/recordings?start={iso(t)}&end={iso(t + 86400)}")
        self.assertTrue(page["more"])
        self.assertEqual(len(page["recordings"]), 1000)
        nxt = self.get_json(f"/api/cameras/cam0/recordings?start={urllib.parse.quote(page['recordings'][-1]['end'])}"
                            f"&end={iso(t + 86400)}")
        self.assertEqual(nxt["recordings"][0]["id"], page["recordings"][-1]["id"] + 1)
        st, _, _ = self.get(f"/api/cameras/nosuch/recordings?start={iso(t)}&end={iso(t + 60)}")
        self.assertEqual(st, 404)
        st, _, _ = self.get(f"/api/cameras/cam0/recordings?start={iso(t)}&end={iso(t + 60)}&stream=sub")
        self.assertEqual(st, 404)

        # ---- init segment ----
        st, h, init = self.get(f"/api/cameras/cam0/init.mp4?entry={r0['entry']}")
        self.assertEqual(st, 200)
        self.assertEqual(init[4:8], b"ftyp")
        self.assertIn(b"mvex", init)
        self.assertIn("private", h["cache-control"])
        for bad, want in [("", 400), ("?entry=0", 400), ("?entry=abc", 400), ("?entry=99999", 404),
                          ("?entry=1&entry=2", 200), ("?entry=" + "9" * 40, 400)]:
            st, _, _ = self.get(f"/api/cameras/cam0/init.mp4{bad}")
            self.assertEqual(st, want, bad)

        # ---- fragments: a recording in 2 s steps, chained on X-Reel-To ----
        a, b = recs[0], recs[1]
        frags, off = [], 0
        while True:
            st, h, body = self.get(f"/api/cameras/cam0/frag.m4s?rec={a['id']}&from={off}&to={off + 2 * S}")
            if st == 416:
                break
            self.assertEqual(st, 200, body[:200])
            self.assertEqual(int(h["x-reel-from"]), off)
            self.assertEqual(body[4:8], b"moof")
            off = int(h["x-reel-to"])
            self.assertGreater(off, int(h["x-reel-from"]))
            frags.append(body)
            self.assertLess(len(frags), 100)
        path = os.path.join(self.tmp, "chain.mp4")
        with open(path, "wb") as f:
            f.write(init + b"".join(frags))
        n, complaints = self.decode_count(path)
        self.assertEqual(n, a["frames"])
        self.assertEqual(complaints, "")
        self.assert_decodes_clean(path)
        # across the boundary: rec a whole, then rec b placed after it (timestampOffset)
        st, ha, fa = self.get(f"/api/cameras/cam0/frag.m4s?rec={a['id']}")
        st2, hb, fb = self.get(f"/api/cameras/cam0/frag.m4s?rec={b['id']}")
        self.assertEqual((st, st2), (200, 200))
        self.assertEqual(ha["x-reel-from"], "0")
        path = os.path.join(self.tmp, "boundary.mp4")
        with open(path, "wb") as f:
            f.write(init + fa + patch_tfdt(fb, int(ha["x-reel-to"])))
        n, _ = self.decode_count(path)
        self.assertEqual(n, a["frames"] + b["frames"])
        self.assert_decodes_clean(path)
        # key frames only
        st, hk, fk = self.get(f"/api/cameras/cam0/frag.m4s?rec={a['id']}&keys=1")
        self.assertEqual(st, 200)
        self.assertLess(len(fk), len(fa) / 4)
        path = os.path.join(self.tmp, "keys.mp4")
        with open(path, "wb") as f:
            f.write(init + fk)
        n, _ = self.decode_count(path)
        self.assertTrue(1 <= n < a["frames"] / 4, n)
        self.assert_decodes_clean(path)
        self.assertEqual(hk["x-reel-to"], ha["x-reel-to"])
        # hostile: another camera's recording, bad numbers, past the end
        other = self.get_json(f"/api/cameras/cam1/recordings?start={iso(t)}&end={iso(t + 60)}")["recordings"][0]
        for bad, want in [(f"rec={other['id']}", 404), ("rec=0", 400), ("rec=-1", 400), ("", 400),
                          ("rec=999999999", 404), (f"rec={a['id']}&from=-5", 400), (f"rec={a['id']}&keys=2", 400),
                          (f"rec={a['id']}&from=10&to=10", 400), (f"rec={a['id']}&from={60 * S}", 416),
                          (f"rec={a['id']}&from=1e5", 400), (f"rec={a['id']}&h264=1", 200)]:
            st, _, body = self.get(f"/api/cameras/cam0/frag.m4s?{bad}")
            self.assertEqual(st, want, (bad, body[:200]))

    def test_live_h265_fragments_and_retention(self):
        self.add_user()
        sim, port = self.start_sim("h265")
        self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{port}/cam/0")
        self.run_http("--rotate-s", "2")
        t0 = int(time.time()) - 5

        def recordings():
            return self.get_json(f"/api/cameras/cam0/recordings?start={iso(t0)}&end={iso(int(time.time()) + 5)}")[
                "recordings"]
        recs = wait_until(lambda: (lambda r: r if len(r) >= 4 else None)(recordings()), 40,
                          what="four recordings")
        # the timeline seeds its cache now, and must follow what comes next
        j = self.get_json(f"/api/timeline?start={iso(t0)}&end={iso(int(time.time()) + 1)}&min_gap=0")
        first_span_start = parse_iso(j["cameras"][0]["spans"][0][0])
        # an open recording is served up to what is committed
        open_rec = wait_until(lambda: next((r for r in recordings() if r["open"] and r["frames"] > 0), None), 20,
                              what="an open recording with frames")
        self.assertTrue(open_rec["codec"].startswith(("hvc1", "hev1")), open_rec)
        st, _, init = self.get(f"/api/cameras/cam0/init.mp4?entry={open_rec['entry']}")
        self.assertEqual(st, 200)
        st, h, frag = self.get(f"/api/cameras/cam0/frag.m4s?rec={open_rec['id']}")
        self.assertEqual(st, 200, frag[:200])
        self.assertEqual(h["cache-control"], "private, no-cache")
        path = os.path.join(self.tmp, "open.mp4")
        with open(path, "wb") as f:
            f.write(init + frag)
        n, _ = self.decode_count(path)
        self.assertGreaterEqual(n, 1)
        self.assertLessEqual(n, open_rec["frames"] + 200)  # it may have grown since the list
        self.assert_decodes_clean(path)
        # past what is committed of an open recording: 204, nothing yet (not an error)
        st, h, none = self.get(f"/api/cameras/cam0/frag.m4s?rec={open_rec['id']}&from={int(h['x-reel-to']) + 3600 * S}")
        if st != 416 or next(r for r in recordings() if r["id"] == open_rec["id"])["open"]:
            # (416 only if the recording closed meanwhile: its 60 s are up)
            self.assertEqual((st, none, h["x-reel-to"]), (204, b"", h["x-reel-from"]))
        # H.265 to H.264 for browsers without H.265: its own init segment first, then the fragment
        st, h, both = self.get(f"/api/cameras/cam0/frag.m4s?rec={open_rec['id']}&h264=1")
        self.assertEqual(st, 200, both[:200])
        self.assertEqual(both[4:8], b"ftyp")
        path = os.path.join(self.tmp, "h264.mp4")
        with open(path, "wb") as f:
            f.write(both)
        info, _ = self.ffprobe_frames(path)
        self.assertEqual(info["codec_name"], "h264")
        self.assertGreaterEqual(int(info["nb_read_frames"]), 1)
        self.assert_decodes_clean(path)
        # footage grows: the cached last span follows
        time.sleep(3)
        j = self.get_json(f"/api/timeline?start={iso(t0)}&end={iso(int(time.time()) + 1)}&min_gap=0")
        self.assertGreater(parse_iso(j["cameras"][0]["spans"][-1][1]), time.time() - 3)
        # retention deletes the oldest: the cached spans lose them, a gap says why
        self.reel("camera", "set", "cam0", "--retain-bytes", "300K")

        def cut():
            oldest = recordings()[0]
            j = self.get_json(f"/api/timeline?start={iso(t0)}&end={iso(int(time.time()) + 1)}&min_gap=0")
            cam = j["cameras"][0]
            if parse_iso(cam["spans"][0][0]) > first_span_start + 1 and any(
                    g["reason"] == "deleted by retention" for g in cam["gaps"]):
                return cam, oldest
            return None
        cam, oldest = wait_until(cut, 30, what="retention to show on the timeline")
        # nothing deleted shows as footage (the timeline was read after the list)
        self.assertGreaterEqual(parse_iso(cam["spans"][0][0]) + 0.002, parse_iso(oldest["start"]), (cam, oldest))


if __name__ == "__main__":
    unittest.main()
