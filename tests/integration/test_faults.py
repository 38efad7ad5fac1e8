# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad cameras: each failure gets one clear log line naming the camera, an
outage with its reason, reconnection with backoff, no effect on the other
cameras, and every frame already received kept."""
import os
import re
import socket
import time
import unittest

from harness import ReelTestCase, clip, clip_frames, free_port, wait_until


class FaultTest(ReelTestCase):
    def good_camera(self):
        """A healthy camera recorded next to the faulty one."""
        _, port = self.start_sim("h264", name="goodsim")
        self.reel("camera", "add", "good", f"rtsp://127.0.0.1:{port}/cam/0")

    def assert_good_camera_fine(self, min_frames=60):
        stored = self.frames("good")
        self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), min_frames)

    def gaps(self, camera):
        return self.reel("gaps", "--camera", camera).stdout

    def run_for(self, seconds, *args):
        rec = self.start_reel("--checkpoint-ms", "500", "--backoff-max-s", "2", *args)
        time.sleep(seconds)
        self.assertEqual(rec.stop(), 0)
        return rec.output()

    def test_unreachable(self):
        self.good_camera()
        port = free_port()  # nothing listens here
        self.reel("camera", "add", "dead", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(6)
        lines = [l for l in log.splitlines() if "camera dead:" in l]
        self.assertTrue(any("Connection refused" in l for l in lines), log)
        # one line for a camera that stays down with the same cause, not one per retry
        self.assertEqual(len([l for l in lines if "Connection refused" in l]), 1, log)
        self.assertIn("Connection refused", self.gaps("dead"))
        self.assertIn("Connection refused", self.reel("status").stdout)
        self.assert_good_camera_fine()

    def test_refuses_auth(self):
        self.good_camera()
        _, port = self.start_sim("h264", extra=["--user", "admin", "--password", "right", "--auth", "digest"])
        pw = os.path.join(self.tmp, "pw")
        open(pw, "w").write("wrong\n")
        self.reel("camera", "add", "badauth", f"rtsp://127.0.0.1:{port}/cam/0", "--user", "admin",
                  "--password-file", pw)
        log = self.run_for(5)
        self.assertRegex(log, r"camera badauth: authentication failed")
        self.assertNotIn("wrong", log.replace("wrong password", ""))
        self.assertIn("authentication failed", self.gaps("badauth"))
        self.assert_good_camera_fine()

    def test_digest_and_basic_auth_record(self):
        for kind in ("digest", "basic"):
            _, port = self.start_sim("h264", extra=["--user", "admin", "--password", "s3cret!", "--auth", kind],
                                     name=f"sim-{kind}")
            self.reel("camera", "add", f"cam{kind}", f"rtsp://admin:s3cret%21@127.0.0.1:{port}/cam/0")
        listing = self.reel("camera", "list").stdout
        self.assertNotIn("s3cret", listing)
        log = self.run_for(6)
        self.assertNotIn("s3cret", log)
        for kind in ("digest", "basic"):
            stored = self.frames(f"cam{kind}")
            self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), 90)

    def test_stall_then_recover(self):
        _, port = self.start_sim("h264", extra=["--fault", "stall=3"])
        self.reel("camera", "add", "stally", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(10, "--media-timeout-s", "2")
        self.assertIn("camera stally: stalled: no video for 2 s", log)
        recs = self.recordings("stally")
        runs = {r["run"] for r in recs}
        self.assertGreaterEqual(len(runs), 2, f"expected a new run after reconnecting\n{log}")
        self.assertIn("stalled", self.gaps("stally"))
        self.assertIn(" 0 problems", self.reel("check").stdout)

    def test_garbage(self):
        self.good_camera()
        _, port = self.start_sim("h264", extra=["--fault", "garbage"])
        self.reel("camera", "add", "noisy", f"rtsp://127.0.0.1:{port}/cam/0")
        self.run_for(8)
        stored = self.frames("noisy")
        self.assertGreaterEqual(len(stored), 100)
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)
        self.assert_good_camera_fine()

    def test_camera_restarts(self):
        sim, port = self.start_sim("h264")
        self.reel("camera", "add", "flaky", f"rtsp://127.0.0.1:{port}/cam/0")
        rec = self.start_reel("--checkpoint-ms", "500", "--backoff-max-s", "1")
        time.sleep(4)
        sim.kill()
        time.sleep(1.5)
        self.start_sim("h264", port=port, name="sim2")
        time.sleep(5)
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        self.assertRegex(log, r"camera flaky: (camera closed the connection|connection lost)")
        recs = self.recordings("flaky")
        self.assertGreaterEqual(len({r["run"] for r in recs}), 2, log)
        frames = self.frames("flaky")
        first_run = recs[0]["run"]
        n_first = sum(int(r["frames"]) for r in recs if r["run"] == first_run)
        self.assertGreaterEqual(n_first, 45, "frames received before the restart must be kept")
        self.assertGreater(len(frames), n_first + 45, "recording must resume after the restart")

    def test_silent_camera_times_out(self):
        self.good_camera()
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        self.reel("camera", "add", "mute", f"rtsp://127.0.0.1:{port}/cam/0")
        try:
            rec = self.start_reel("--checkpoint-ms", "500", "--backoff-max-s", "2")
            time.sleep(13)
            self.assertEqual(rec.stop(), 0)
        finally:
            srv.close()
        self.assertRegex(rec.output(), r"camera mute: camera did not answer")
        self.assert_good_camera_fine(200)

    def test_garbage_server(self):
        """A server that answers with bytes that are not RTSP at all."""
        import threading
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        stop = threading.Event()

        def serve():
            srv.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                except OSError:
                    continue
                try:
                    c.recv(4096)
                    c.sendall(os.urandom(3000) + b"RTSP/1.0 200 OK\r\nCSeq: banana\r\n\r\n" + os.urandom(500))
                except OSError:
                    pass
                c.close()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.good_camera()
        self.reel("camera", "add", "junk", f"rtsp://127.0.0.1:{port}/cam/0")
        try:
            log = self.run_for(5)
        finally:
            stop.set()
            t.join()
            srv.close()
        self.assertRegex(log, r"camera junk: ")
        self.assert_good_camera_fine()

    def test_keepalive_holds_session(self):
        """The simulator drops sessions not kept alive within 4 s, as cameras do."""
        _, port = self.start_sim("h264", extra=["--session-timeout", "4"])
        self.reel("camera", "add", "kept", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(12)
        recs = self.recordings("kept")
        self.assertEqual(len({r["run"] for r in recs}), 1, f"the session was dropped:\n{log}")
        self.assertGreaterEqual(len(self.frames("kept")), 250)

    def test_redirect(self):
        """A server that redirects every request to the real camera."""
        import threading
        _, sim_port = self.start_sim("h264")
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        stop = threading.Event()

        def serve():
            srv.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                except OSError:
                    continue
                try:
                    req = c.recv(4096).decode(errors="replace")
                    cseq = re.search(r"CSeq:\s*(\d+)", req)
                    c.sendall(("RTSP/1.0 302 Moved Temporarily\r\nCSeq: %s\r\n"
                               "Location: rtsp://127.0.0.1:%d/cam/0\r\n\r\n"
                               % (cseq.group(1) if cseq else "1", sim_port)).encode())
                except OSError:
                    pass
                c.close()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.reel("camera", "add", "moved", f"rtsp://127.0.0.1:{port}/old")
        try:
            log = self.run_for(6)
        finally:
            stop.set()
            t.join()
            srv.close()
        self.assertIn(f"camera moved: redirected to rtsp://127.0.0.1:{sim_port}/cam/0", log)
        self.assert_frames_match_clip(self.frames("moved"), clip_frames("h264", clip("h264")), 90)

    def test_timestamp_jump(self):
        _, port = self.start_sim("h264", extra=["--fault", "ts-jump=3"])
        self.reel("camera", "add", "jumpy", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(8)
        self.assertIn("camera jumpy: RTP timestamp jumped by", log)
        recs = self.recordings("jumpy")
        self.assertGreaterEqual(len({r["run"] for r in recs}), 2, log)
        # no frame in the index carries the jump as its duration
        self.assertTrue(all(f[2] == 3000 for f in self.frames("jumpy")[:-1]))
        self.assertIn(" 0 problems", self.reel("check").stdout)

    def test_ssrc_change_and_packet_loss(self):
        _, port = self.start_sim("h264", extra=["--fault", "ssrc-change=3", "--fault", "seq-gap=500"])
        self.reel("camera", "add", "lossy", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(8)
        frames = self.frames("lossy")
        # a dropped packet costs its frame only; recording goes on across the SSRC change
        self.assertGreaterEqual(len(frames), 120, log)
        digests = {d for d, _ in clip_frames("h264", clip("h264"))}
        self.assertTrue(all(f[5] in digests for f in frames), "a stored frame is not a clip frame")
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)

    def test_params_change(self):
        _, port = self.start_sim("h264", extra=["--fault", "params-change=4",
                                                "--clip2", os.path.join(os.path.dirname(clip("h264")),
                                                                        "h264-small.264")])
        self.reel("camera", "add", "morph", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(9)
        self.assertIn("camera morph: parameter sets changed", log)
        entries = {r["entry"] for r in self.recordings("morph")}
        self.assertEqual(len(entries), 2, log)
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)


if __name__ == "__main__":
    unittest.main()
