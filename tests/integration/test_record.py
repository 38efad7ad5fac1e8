# SPDX-License-Identifier: GPL-3.0-or-later
"""Recording end to end: a real RTSP server (our simulator or GStreamer's
gst-rtsp-server), the real recorder, a real SQLite index, and ffmpeg/ffprobe
checking what `reel export` produces. Frames sent must equal frames stored."""
import os
import time
import unittest

from harness import ReelTestCase, clip, clip_frames, wait_until


class RecordTest(ReelTestCase):
    # GStreamer converts the MP4's 15360 Hz timestamps to 90 kHz, so its frame
    # durations are 3000 +/- 1 (averaging 3000); our simulator's are exact.

    def record_and_verify(self, codec, url_of, udp=False, seconds=10.0, cameras=1, min_frames=150, dur_tol=0):
        for i in range(cameras):
            args = ["camera", "add", f"c{i}", url_of(i)]
            if udp:
                args.append("--udp")
            self.reel(*args)
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "3")
        # 10 s: a recording starts at the camera's first key frame (up to a
        # 2 s GOP after connecting) and the first cut comes at the key frame
        # 6 s in, so 8 s left a start over 2 s with one recording (seen)
        time.sleep(seconds)
        self.assertEqual(rec.stop(), 0, rec.output())
        log = rec.output()
        clipf = clip_frames(codec, clip(codec))
        for i in range(cameras):
            stored = self.frames(f"c{i}")
            try:
                self.assert_frames_match_clip(stored, clipf, min_frames, dur_tolerance=dur_tol)
            except AssertionError as e:
                raise AssertionError(f"camera c{i}: {e}\n{self.dump_logs()}")
            recs = self.recordings(f"c{i}")
            self.assertGreaterEqual(len(recs), 2, "rotation should have cut several recordings")
            by_rec = {}
            for f in stored:
                by_rec.setdefault(f[0], []).append(f)
            for rid, fr in by_rec.items():
                self.assertTrue(fr[0][4], f"recording {rid} does not start at a key frame")
            # recordings of one run are contiguous in wall time
            for a, b in zip(recs, recs[1:]):
                if a["run"] == b["run"]:
                    self.assertEqual(int(a["start90k"]) + int(a["wall90k"]), int(b["start90k"]),
                                     "recordings of one run must follow each other without a gap")
        if udp:
            self.assertNotIn("falling back to TCP", log)
        r = self.reel("check", "--hash")
        self.assertIn(" 0 problems", r.stdout)
        # export a range from the middle, check it with real decoders
        stored = self.frames("c0")
        t0 = stored[0][1] + 90000 * 1.3
        t1 = stored[-1][1] - 90000 * 0.5
        out = os.path.join(self.tmp, "clip.mp4")
        self.reel("export", "--camera", "c0", "--from", "@%.3f" % (t0 / 90000), "--to", "@%.3f" % (t1 / 90000),
                  "-o", out)
        st, dur = self.ffprobe_frames(out)
        self.assertEqual(st["codec_name"], {"h264": "h264", "h265": "hevc"}[codec])
        self.assertEqual((st["width"], st["height"]), (640, 360))
        self.assertAlmostEqual(dur, (t1 - t0) / 90000, delta=0.1)
        self.assert_decodes_clean(out)
        return log

    def test_sim_h264_tcp(self):
        _, port = self.start_sim("h264", cameras=2)
        self.record_and_verify("h264", lambda i: f"rtsp://127.0.0.1:{port}/cam/{i}", cameras=2)

    def test_sim_h265_tcp(self):
        _, port = self.start_sim("h265", cameras=2)
        self.record_and_verify("h265", lambda i: f"rtsp://127.0.0.1:{port}/cam/{i}", cameras=2)

    def test_sim_h264_udp(self):
        _, port = self.start_sim("h264")
        self.record_and_verify("h264", lambda i: f"rtsp://127.0.0.1:{port}/cam/{i}", udp=True)

    def test_sim_h265_udp(self):
        _, port = self.start_sim("h265")
        self.record_and_verify("h265", lambda i: f"rtsp://127.0.0.1:{port}/cam/{i}", udp=True)

    def test_gst_h264_tcp(self):
        _, port = self.start_gst("h264")
        self.record_and_verify("h264", lambda i: f"rtsp://127.0.0.1:{port}/cam", seconds=7, min_frames=120, dur_tol=1)

    def test_gst_h265_tcp(self):
        _, port = self.start_gst("h265")
        self.record_and_verify("h265", lambda i: f"rtsp://127.0.0.1:{port}/cam", seconds=7, min_frames=120, dur_tol=1)

    def test_gst_h264_udp(self):
        _, port = self.start_gst("h264")
        self.record_and_verify("h264", lambda i: f"rtsp://127.0.0.1:{port}/cam", udp=True, seconds=7,
                               min_frames=120, dur_tol=1)

    def test_gst_h265_udp(self):
        _, port = self.start_gst("h265")
        self.record_and_verify("h265", lambda i: f"rtsp://127.0.0.1:{port}/cam", udp=True, seconds=7,
                               min_frames=120, dur_tol=1)


if __name__ == "__main__":
    unittest.main()
