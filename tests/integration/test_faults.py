# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad cameras: each failure gets one clear log line naming the camera, an
outage with its reason, reconnection with backoff, no effect on the other
cameras, and every frame already received kept. Every test also bounds the
recorder's peak memory (harness.rss_bound_kib)."""
import os
import re
import socket
import subprocess
import sys
import time
import unittest
from datetime import datetime

from harness import REEL, ReelTestCase, clip, clip_frames, free_port, rtsp_udp_seqs, wait_until


def parse_gaps(text):
    """`reel gaps` lines -> [(start_s, end_s or None, reason)]."""
    def ts(v):
        return datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() if "." in v else \
            datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").timestamp()
    out = []
    for line in text.splitlines():
        a, b, reason = line.split(" ", 2)
        out.append((ts(a), None if b == "(ongoing)" else ts(b), reason))
    return out


def big_nal(codec, payload):
    """The NAL unit reel-sim sends with --fault big-nal=PAYLOAD, rebuilt from
    docs/simulator.md: a prefix SEI with one user_data_unregistered message."""
    hdr = b"\x06" if codec == "h264" else b"\x4e\x01"
    size = b"\xff" * (payload // 255) + bytes([payload % 255])
    data = bytes(1 + (i + (i >> 8)) % 255 for i in range(payload - 16))
    return hdr + b"\x05" + size + b"reel-sim big-nal" + data + b"\x80"


def clip_skips(test, stored, clipf):
    """Walks stored frames along the (looping) clip: each must be a frame of
    the clip, the first a key frame; returns how many clip frames were
    skipped between each pair of consecutive stored frames."""
    pos = {d: i for i, (d, _) in enumerate(clipf)}
    test.assertEqual(len(pos), len(clipf), "clip frames are not unique")
    test.assertTrue(stored and stored[0][4], "first stored frame is not a key frame")
    skips = []
    for a, b in zip(stored, stored[1:]):
        test.assertIn(a[5], pos, "a stored frame is not a frame of the clip")
        test.assertIn(b[5], pos, "a stored frame is not a frame of the clip")
        skips.append((pos[b[5]] - pos[a[5]] - 1) % len(clipf))
    return skips


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

    def start_reel(self, *args, name="reel"):
        """The recorder without the live view's GOP cache: the memory bound
        of these tests is about the recording path's per-camera buffers; the
        cache (up to 8 MiB a camera, 64 MiB in all) has its own bounds,
        tested in tests/unit/test_hub.c, and would hold a big-NAL camera's
        frames on top of them."""
        return super().start_reel("--live-cache-mib", "0", *args, name=name)

    def stop_reel(self, rec, extra_kib=0):
        """Stops the recorder: it must exit 0, and its peak RSS (read just
        before the signal) stay within the bound for the cameras configured
        (plus extra_kib for a test that sends frames far over the usual)."""
        self.assertEqual(rec.stop(), 0, self.dump_logs())
        cameras = len(self.reel("camera", "list").stdout.splitlines())
        self.assert_bounded_memory(rec, cameras, extra_kib)
        return rec.output()

    def run_for(self, seconds, *args, extra_kib=0):
        rec = self.start_reel("--checkpoint-ms", "500", "--backoff-max-s", "2", *args)
        time.sleep(seconds)
        return self.stop_reel(rec, extra_kib)

    def test_unreachable(self):
        self.good_camera()
        port = free_port()  # nothing listens here
        self.reel("camera", "add", "dead", f"rtsp://127.0.0.1:{port}/cam/0")
        rec = self.start_reel("--checkpoint-ms", "500", "--backoff-max-s", "2")
        time.sleep(6)
        # live status comes from the running recorder (docs/recorder.md)
        status = self.reel("status").stdout
        log = self.stop_reel(rec)
        lines = [l for l in log.splitlines() if "camera dead:" in l]
        self.assertTrue(any("Connection refused" in l for l in lines), log)
        # one line for a camera that stays down with the same cause, not one per retry
        self.assertEqual(len([l for l in lines if "Connection refused" in l]), 1, log)
        self.assertIn("Connection refused", self.gaps("dead"))
        self.assertIn("Connection refused", status)
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
            pw = os.path.join(self.tmp, "cam.pw")
            with open(pw, "w") as f:
                f.write("s3cret!\n")
            self.reel("camera", "add", f"cam{kind}", f"rtsp://127.0.0.1:{port}/cam/0", "--user", "admin",
                      "--password-file", pw)
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
        # frames before the stall and after the reconnection are kept, each run a piece of the clip
        by_run = list(self.frames_by_run("stally").values())
        clipf = clip_frames("h264", clip("h264"))
        self.assert_frames_match_clip(by_run[0], clipf, 30)
        self.assert_frames_match_clip(by_run[1], clipf, 20)

    def test_garbage(self):
        self.good_camera()
        _, port = self.start_sim("h264", extra=["--fault", "garbage"])
        self.reel("camera", "add", "noisy", f"rtsp://127.0.0.1:{port}/cam/0")
        self.run_for(8)
        stored = self.frames("noisy")
        self.assertGreaterEqual(len(stored), 100)
        # garbage and malformed packets cost no frame: one run, the clip without a hole
        self.assertEqual(len(self.frames_by_run("noisy")), 1)
        skips = clip_skips(self, stored, clip_frames("h264", clip("h264")))
        # (random garbage may now and then look like an interleaved header and cost a packet)
        self.assertLessEqual(sum(skips), len(stored) // 20, f"frames lost: {[k for k in skips if k]}")
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
        log = self.stop_reel(rec)
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
            self.stop_reel(rec)
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
        accepts = []

        def serve():
            srv.settimeout(0.2)
            while not stop.is_set():
                try:
                    c, _ = srv.accept()
                except OSError:
                    continue
                accepts.append(time.time())
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
        self.assertGreaterEqual(len(accepts), 2, "the recorder did not reconnect")
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
        # host and port only: a redirect's path and query may hold credentials (issue 11)
        self.assertIn(f"camera moved: redirected to rtsp://127.0.0.1:{sim_port}\n", log)
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
        # frames before and after the jump are kept (the run after it waits for a key frame)
        by_run = list(self.frames_by_run("jumpy").values())
        clipf = clip_frames("h264", clip("h264"))
        self.assert_frames_match_clip(by_run[0], clipf, 30)
        self.assert_frames_match_clip(by_run[1], clipf, 20)
        self.assertIn(" 0 problems", self.reel("check").stdout)

    def test_wraparound(self):
        """RTP timestamps that wrap past 2^32 and sequence numbers past 2^16
        mid-run, over TCP and over UDP: one run each, every frame of the clip
        in order, every duration exact across the wrap."""
        wrap_s = 4
        _, port = self.start_sim("h264", cameras=2,
                                 extra=["--ts-start", str(2**32 - wrap_s * 90000), "--seq-start", str(2**16 - 300)])
        t0 = time.monotonic()
        self.reel("camera", "add", "wraptcp", f"rtsp://127.0.0.1:{port}/cam/0")
        self.reel("camera", "add", "wrapudp", f"rtsp://127.0.0.1:{port}/cam/1", "--udp")
        log = self.run_for(10)
        self.assertGreater(time.monotonic() - t0, wrap_s + 3, "the run ended before the timestamps wrapped")
        clipf = clip_frames("h264", clip("h264"))
        for cam in ("wraptcp", "wrapudp"):
            runs = self.frames_by_run(cam)
            self.assertEqual(len(runs), 1, f"{cam}: the wrap started a new run\n{log[-3000:]}")
            frames = list(runs.values())[0]
            self.assert_frames_match_clip(frames, clipf, 150)
            self.assertTrue(all(f[2] == 3000 for f in frames[:-1]), f"{cam}: a duration is not 1/30 s")
            # the recording spans the moment of the wrap (wrap_s after the simulator started,
            # while the recorder stops about 10.5 s after it): it started before the wrap
            span = (frames[-1][1] - frames[0][1]) / 90000
            self.assertGreater(span, 7.0, f"{cam}: only {span:.1f} s recorded")
        self.assertNotIn("timestamp jumped", log)
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)

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
        # frames before and after the SSRC change: no hole longer than a few lost frames
        walls = sorted(f[1] for f in frames)
        self.assertGreater(walls[-1] - walls[0], 4 * 90000, "frames missing before or after the change")
        gap = max(b - a for a, b in zip(walls, walls[1:]))
        self.assertLess(gap, 90000 // 2, f"a hole of {gap / 90000:.2f} s")

    def test_params_change(self):
        _, port = self.start_sim("h264", extra=["--fault", "params-change=4",
                                                "--clip2", os.path.join(os.path.dirname(clip("h264")),
                                                                        "h264-small.264")])
        self.reel("camera", "add", "morph", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(9)
        self.assertIn("camera morph: parameter sets changed", log)
        recs = self.recordings("morph")
        entries = {r["entry"] for r in recs}
        self.assertEqual(len(entries), 2, log)
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)
        # frames before and after the change are kept
        for e in entries:
            self.assertGreaterEqual(sum(int(r["frames"]) for r in recs if r["entry"] == e), 30, log)

    def test_reorder_udp(self):
        """RTP over UDP arriving out of order (shuffled in windows of 8) is put
        back in order: every frame stored, as the clip has it."""
        _, port = self.start_sim("h264", cameras=2, extra=["--fault", "reorder=8"])
        # the simulator does reorder: a raw UDP client sees sequence numbers go backwards
        seqs = rtsp_udp_seqs(port, "/cam/1", 1.5)
        self.assertGreater(len(seqs), 50)
        backwards = sum(1 for a, b in zip(seqs, seqs[1:]) if ((b - a) & 0xffff) > 0x8000)
        self.assertGreater(backwards, len(seqs) // 10, "the simulator did not reorder")
        self.assertEqual(sorted(seqs), sorted(set(seqs)), "duplicates")
        self.reel("camera", "add", "shuffled", f"rtsp://127.0.0.1:{port}/cam/0", "--udp")
        self.reel("camera", "add", "tcpcam", f"rtsp://127.0.0.1:{port}/cam/1")   # unaffected over TCP
        log = self.run_for(8)
        self.assertNotIn("falling back to TCP", log)
        clipf = clip_frames("h264", clip("h264"))
        for cam in ("shuffled", "tcpcam"):
            self.assertEqual(len(self.frames_by_run(cam)), 1, log)
            self.assert_frames_match_clip(self.frames(cam), clipf, 150)
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)

    def big_nal_camera(self, name, payload, every):
        sim, port = self.start_sim("h264", extra=["--fault", f"big-nal={payload},{every}"], name=f"sim-{name}")
        self.reel("camera", "add", name, f"rtsp://127.0.0.1:{port}/cam/0")
        return sim

    def big_nals_sent(self, sim):
        return len(re.findall(r"cam 0: fault big-nal: a \d+-byte SEI", sim.output()))

    def test_big_nal_stored_intact(self):
        """A 3 MiB NAL unit (FU-A) in a frame, under the 4 MiB cap: the frame is
        stored with it byte for byte, and no frame is lost."""
        payload = 3 << 20
        sim = self.big_nal_camera("big", payload, 3)
        # 3 MiB frames pass through the reassembly buffer, the frame and the
        # writer's batch: 3 copies allowed over the per-camera bound (peaks
        # of 53 MiB seen once issue 15's threads took their malloc arenas)
        log = self.run_for(9, extra_kib=3 * (payload >> 10))
        sent = self.big_nals_sent(sim)
        self.assertGreaterEqual(sent, 2, sim.output())
        self.assertNotIn("cap", log)
        stored = self.frames("big")
        self.assertEqual(len(self.frames_by_run("big")), 1, log)
        self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), 150)
        nal = big_nal("h264", payload)
        bigs = [f for f in stored if f[3] > len(nal)]
        # the last one may have been in flight when the recorder stopped
        self.assertIn(len(bigs), (sent - 1, sent), f"{len(bigs)} big frames stored, {sent} sent")
        self.assertGreaterEqual(len(bigs), 1)
        self.assertTrue(all(not f[4] for f in bigs), "the big NAL rides on non-key frames")
        # byte-exact: export the second around the first one and find the NAL, length-prefixed
        t = bigs[0][1] // 90000
        out = os.path.join(self.tmp, "big.mp4")
        self.reel("export", "--camera", "big", "--from", f"@{t - 1}", "--to", f"@{t + 2}", "-o", out)
        with open(out, "rb") as f:
            mp4 = f.read()
        self.assertIn(len(nal).to_bytes(4, "big") + nal, mp4, "the big NAL is not in the export intact")
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)

    def test_huge_nal_dropped(self):
        """A 16 MiB NAL unit, four times the 4 MiB cap on one frame: that frame
        is dropped with one log line naming the camera (not one per frame),
        the frames before and after are kept, recording goes on in one run."""
        payload = 16 << 20
        sim = self.big_nal_camera("huge", payload, 4)
        self.good_camera()
        log = self.run_for(12)
        sent = self.big_nals_sent(sim)
        self.assertGreaterEqual(sent, 2, sim.output())
        lines = [l for l in log.splitlines() if "cap" in l]
        self.assertEqual(len(lines), 1, log)
        self.assertIn("camera huge: frame dropped: access unit over the 4 MiB cap; recording goes on", lines[0])
        self.assertEqual(len(self.frames_by_run("huge")), 1, f"the camera reconnected\n{log}")
        stored = self.frames("huge")
        self.assertFalse([f for f in stored if f[3] > 4 << 20], "an oversized frame was stored")
        skips = clip_skips(self, stored, clip_frames("h264", clip("h264")))
        holes = [i for i, k in enumerate(skips) if k]
        # each huge NAL costs exactly its own frame; the last may still have been in flight
        self.assertTrue(all(skips[i] == 1 for i in holes), f"holes: {[skips[i] for i in holes]}")
        self.assertIn(len(holes), (sent - 1, sent), f"{len(holes)} frames dropped, {sent} huge NALs sent")
        self.assertGreaterEqual(len(holes), 1)
        self.assertGreaterEqual(holes[0], 30, "frames before the first drop")
        self.assertGreaterEqual(len(stored) - 1 - holes[-1], 30, "frames after the last drop")
        self.assertIn(" 0 problems", self.reel("check", "--hash").stdout)
        self.assert_good_camera_fine(200)

    def test_tcp_refused_falls_back_to_udp(self):
        """A server that answers 461 to RTP over TCP, as several real ones do:
        the camera, configured for TCP, is recorded over UDP without the user
        doing anything, and the log says so once."""
        _, port = self.start_sim("h264", extra=["--fault", "refuse-tcp"])
        self.reel("camera", "add", "notcp", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(7)
        self.assertEqual(log.count("camera notcp: server refused RTP over TCP"), 1, log)
        self.assertRegex(log, r"camera notcp: recording \S+ 640x360 over UDP")
        self.assertNotIn("transport refused", self.gaps("notcp"))
        self.assertEqual(len(self.frames_by_run("notcp")), 1, log)
        self.assert_frames_match_clip(self.frames("notcp"), clip_frames("h264", clip("h264")), 120)

    def test_repeated_timestamps_spread(self):
        """A camera that repeats a frame's timestamp every 10th frame: each
        frame keeps a sensible duration (within 50% of 1/30 s), the export
        has increasing DTS and ffmpeg does not complain."""
        _, port = self.start_sim("h264", extra=["--fault", "ts-repeat=10"])
        self.reel("camera", "add", "rep", f"rtsp://127.0.0.1:{port}/cam/0")
        log = self.run_for(7)
        self.assertEqual(len(self.frames_by_run("rep")), 1, log)
        stored = self.frames("rep")
        self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), 120, dur_tolerance=1500)
        out = os.path.join(self.tmp, "rep.mp4")
        self.reel("export", "--camera", "rep", "--from", "@%.3f" % (stored[0][1] / 90000),
                  "--to", "@%.3f" % (stored[-1][1] / 90000), "-o", out)
        r = subprocess.run(["ffprobe", "-v", "warning", "-select_streams", "v:0", "-show_entries",
                            "packet=dts,duration", "-of", "csv=p=0", out],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("monoton", r.stderr.lower())
        pkts = [tuple(int(x) for x in l.split(",")[:2]) for l in r.stdout.split() if l]
        self.assertGreater(len(pkts), 100)
        dts = [p[0] for p in pkts]
        self.assertTrue(all(b > a for a, b in zip(dts, dts[1:])), "DTS not increasing")
        durs = [b - a for a, b in zip(dts, dts[1:])]
        nominal = sum(durs) / len(durs)
        self.assertTrue(all(abs(d - nominal) <= nominal / 2 for d in durs), f"durations {sorted(set(durs))}")
        copy = os.path.join(self.tmp, "rep-copy.mp4")
        r = subprocess.run(["ffmpeg", "-v", "warning", "-i", out, "-c", "copy", copy],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("monoton", r.stderr.lower(), r.stderr)

    def test_clean_restart_keeps_recorder_stopped(self):
        """`reel run` stopped with SIGTERM and started again: the downtime is
        "recorder stopped", the short reconnection after it "connecting"."""
        _, port = self.start_sim("h264")
        self.reel("camera", "add", "cam", f"rtsp://127.0.0.1:{port}/cam/0")
        rec = self.start_reel("--checkpoint-ms", "500")
        time.sleep(4)
        self.stop_reel(rec)
        down = time.time()
        time.sleep(3)
        rec = self.start_reel("--checkpoint-ms", "500", name="reel2")
        up = time.time()
        time.sleep(4)
        log = self.stop_reel(rec)
        gaps = parse_gaps(self.gaps("cam"))
        stopped = [g for g in gaps if g[2] == "recorder stopped" and g[1] is not None]
        self.assertEqual(len(stopped), 1, f"{gaps}\n{log}")
        start, end, _ = stopped[0]
        self.assertAlmostEqual(start, down, delta=1.0)
        self.assertAlmostEqual(end, up, delta=1.0)
        after = [g for g in gaps if g[0] >= end - 0.01 and g[2] != "recorder stopped"]
        self.assertTrue(after and after[0][2] == "connecting", f"{gaps}")
        self.assertIsNotNone(after[0][1])
        self.assertLess(after[0][1] - after[0][0], 2.5, f"{gaps}")
        # the last stop leaves its outage open until the next start
        self.assertEqual(gaps[-1][2], "recorder stopped")
        self.assertIsNone(gaps[-1][1])

    def test_unresolvable_name_does_not_delay_others(self):
        """A camera whose host name never resolves (its DNS server never
        answers) fails "cannot resolve NAME: timed out" and backs off, while
        a healthy camera next to it keeps every frame: lookups are off the
        loop. The recorder runs in a private mount namespace whose
        /etc/resolv.conf points at a silent UDP socket on 127.0.0.2:53."""
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            dns.bind(("127.0.0.2", 53))
        except OSError as e:
            self.skipTest(f"cannot bind 127.0.0.2:53: {e}")
        self.addCleanup(dns.close)
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.2\noptions timeout:30 attempts:1\n")
        self.good_camera()
        self.reel("camera", "add", "lost", "rtsp://cam.reel-test.example:8554/cam/0")
        rec = self.start(["unshare", "-m", "--propagation", "private", "sh", "-c",
                          'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv,
                          REEL, "-d", self.data, "run", "--checkpoint-ms", "500", "--backoff-max-s", "2"],
                         "reel")
        t0 = time.monotonic()
        time.sleep(14)
        elapsed = time.monotonic() - t0
        log = self.stop_reel(rec)
        self.assertIn("camera lost: cannot resolve cam.reel-test.example: timed out", log)
        self.assertIn("cannot resolve cam.reel-test.example: timed out", self.gaps("lost"))
        stored = self.frames("good")
        self.assertEqual(len(self.frames_by_run("good")), 1, log)
        self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), 200)
        # recorded from about 1 s after start to the stop, at 30 fps
        expected = 30 * (elapsed - 1.5)
        print(f"{self.id()}: healthy camera stored {len(stored)} frames in {elapsed:.1f} s "
              f"(expected about {expected:.0f})", file=sys.stderr)
        self.assertGreater(len(stored), 0.9 * expected, f"{len(stored)} frames in {elapsed:.1f} s\n{log}")


if __name__ == "__main__":
    unittest.main()
