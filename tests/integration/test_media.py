# SPDX-License-Identifier: GPL-3.0-or-later
"""Snapshots and on-demand transcodes (issue 12, src/media): snapshot.jpg of
H.264 and H.265 cameras is a JPEG of the camera's size that ffprobe decodes,
served from the cache within 5 s (one decode); live.mp4?stream=h264 of an
H.265 camera decodes as H.264 at most 1280x720, a third transcode over
--transcode-max 2 gets 503, and the transcodes stop after the last viewer
leaves."""
import http.client
import json
import os
import re
import subprocess
import time

from harness import CLIPS, REEL_SIM, ReelTestCase, free_port, wait_file, wait_until
from live_http import LiveHttpMixin



class MediaTest(LiveHttpMixin, ReelTestCase):
    def start_reel_with(self, sims, *extra):
        """sims: [(codec, clip path, [camera names])]; logs in."""
        self.add_user()
        names = []
        for n, (codec, path, cams) in enumerate(sims):
            port = free_port()
            ready = os.path.join(self.tmp, f"sim{n}.ready")
            self.start([REEL_SIM, "--clip", path, "--codec", codec, "--cameras", str(len(cams)),
                        "--listen", "127.0.0.1", "--port", str(port), "--ready-file", ready], f"sim{n}")
            wait_file(ready)
            for i, name in enumerate(cams):
                self.reel("camera", "add", name, f"rtsp://127.0.0.1:{port}/cam/{i}")
                names.append(name)
        rec = self.run_http(*extra)
        self.first_snapshot = {}
        for name in names:
            self.first_snapshot[name] = wait_until(lambda: (lambda r: r if r[0] == 200 else None)(self.snapshot(name)),
                                                   30, step=0.3, what=f"a key frame of {name}")
        return rec

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", path, headers={"Cookie": f"reel_session={self.sid}"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def snapshot(self, name):
        return self.get(f"/api/cameras/{name}/snapshot.jpg")

    def probe(self, data, suffix, count=False):
        path = os.path.join(self.tmp, f"probe-{time.time_ns()}.{suffix}")
        with open(path, "wb") as f:
            f.write(data)
        args = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                "stream=codec_name,width,height" + (",nb_read_frames" if count else ""), "-of", "json", path]
        if count:
            args.insert(1, "-count_frames")
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["streams"][0]

    def check_snapshot(self, codec):
        self.start_reel_with([(codec, os.path.join(CLIPS, f"{codec}.{codec[1:]}"), ["cam"])])
        st, h, jpeg = self.first_snapshot["cam"]
        self.assertEqual(h["x-reel-snapshot"], "decoded")
        self.assertEqual(h["content-type"], "image/jpeg")
        self.assertEqual(h["cache-control"], "no-store")
        s = self.probe(jpeg, "jpg")
        self.assertEqual((s["codec_name"], s["width"], s["height"]), ("mjpeg", 640, 360))
        # Within 5 s: the cached picture, no second decode.
        st2, h2, jpeg2 = self.snapshot("cam")
        self.assertEqual(st2, 200)
        self.assertEqual(h2["x-reel-snapshot"], "cached")
        self.assertEqual(jpeg2, jpeg)
        time.sleep(5.2)   # the cache's 5 s are over: decoded again
        st3, h3, jpeg3 = self.snapshot("cam")
        self.assertEqual((st3, h3["x-reel-snapshot"]), (200, "decoded"))
        self.assertEqual(self.probe(jpeg3, "jpg")["width"], 640)
        self.assertEqual(self.snapshot("nosuch")[0], 404)
        self.assertEqual(self.get("/api/cameras/cam/snapshot.jpg?stream=sub")[0], 404)

    def test_snapshot_h264(self):
        self.check_snapshot("h264")

    def test_snapshot_h265(self):
        self.check_snapshot("h265")

    def open_live(self, name, query):
        return self.open_live_socket(name, query, 30)

    def test_transcode_h265_to_h264(self):
        rec = self.start_reel_with([("h265", os.path.join(CLIPS, "h265-1080p.265"), ["big"]),
                                    ("h265", os.path.join(CLIPS, "h265.265"), ["a", "b"])],
                                   "--transcode-max", "2")
        s1, head1, body1 = self.open_live("big", "?stream=h264")
        self.assertIn(" 200 ", head1.splitlines()[0], head1)
        s2, head2, body2 = self.open_live("a", "?stream=h264")
        self.assertIn(" 200 ", head2.splitlines()[0], head2)
        # Over the cap of 2: 503 with Retry-After; the plain stream still works.
        st, h, body = self.get("/api/cameras/b/live.mp4?stream=h264")
        self.assertEqual(st, 503, body)
        self.assertIn("retry-after", h)
        self.assertIn("transcode", json.loads(body)["error"])
        body1 = self.read_for(s1, body1, 6)
        body2 = self.read_for(s2, body2, 1)
        s1.close()
        s2.close()
        big = self.probe(body1, "mp4", count=True)
        self.assertEqual(big["codec_name"], "h264")
        self.assertEqual((big["width"], big["height"]), (1280, 720))
        self.assertGreater(int(big["nb_read_frames"]), 0)
        small = self.probe(body2, "mp4")
        self.assertEqual((small["codec_name"], small["width"], small["height"]), ("h264", 640, 360))
        # Both transcodes stop after the last viewer left (10 s linger).
        wait_until(lambda: len(re.findall(r"transcode: camera \d+ stopped", rec.output())) == 2, 40, step=0.5,
                   what="both transcodes to stop")
        # The recording went on meanwhile.
        self.assertEqual(self.snapshot("big")[0], 200)
