"""Hostile cameras (issue 11, "from the camera side"): a camera, or whoever
can send packets on the camera network, must neither collect the camera
passwords nor stop the recording nor write into the terminal or the API.
reel-sim's hostile faults (docs/simulator.md) play the camera; a second
reel-sim on 127.0.0.2 plays "another host" that asks for Basic and logs every
Authorization header it receives (--fault log-auth)."""
import json
import os
import socket
import sys
import time
import unittest

from harness import REEL, ReelTestCase, clip, clip_frames, wait_until

PASSWORD = "hunter2-secret"


class HostileCameraTest(ReelTestCase):
    def setUp(self):
        super().setUp()
        self.pwfile = os.path.join(self.tmp, "pw")
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")

    def add(self, name, url, *opts):
        self.reel("camera", "add", name, url, "--user", "admin", "--password-file", self.pwfile, *opts)

    def evil_sim(self):
        """Another host (127.0.0.2) that asks for Basic and logs what it gets."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.2", 0))
            except OSError as e:
                self.skipTest(f"no 127.0.0.2: {e}")
        return self.start_sim("h264", name="evil", extra=("--listen", "127.0.0.2", "--user", "admin", "--password",
                                                          PASSWORD, "--auth", "basic", "--fault", "log-auth"))

    def status(self):
        """The running recorder's live status (control socket), by camera name."""
        path = os.path.join(self.data, "control.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"status\n")
        data = b""
        while not data.endswith(b"end\n"):
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        out = {}
        for line in data.decode().splitlines():
            if line.startswith("{"):
                o = json.loads(line)
                out[o["name"]] = o
        return out

    def wait_status(self, name, pred, what, timeout=30):
        wait_until(lambda: os.path.exists(os.path.join(self.data, "control.sock")), 15, what="control socket")
        wait_until(lambda: pred(self.status().get(name, {})), timeout, step=0.3, what=what)
        return self.status()[name]

    def good_camera(self):
        _, port = self.start_sim("h264", name="goodsim")
        self.reel("camera", "add", "good", f"rtsp://127.0.0.1:{port}/cam/0")

    def assert_good_recorded(self, seconds, log):
        stored = self.frames("good")
        self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), 60)
        expected = 30 * (seconds - 1.5)
        self.assertGreater(len(stored), 0.9 * expected, f"{len(stored)} frames in {seconds:.1f} s\n{log}")

    def test_redirect_to_other_host_refused(self):
        """A camera answering DESCRIBE with 302 to another host: refused,
        "redirect to another host refused: rtsp://127.0.0.2:PORT" (host and
        port only) in the log and last_error; the other host never sees the
        password (before: Basic on every retry)."""
        _, eport = self.evil_sim()
        _, port = self.start_sim("h264", extra=("--fault", f"redirect=rtsp://127.0.0.2:{eport}/cam/0?token=abc"))
        self.add("cam", f"rtsp://127.0.0.1:{port}/cam/0")
        rec = self.start_reel("--backoff-max-s", "1", "--no-http")
        want = f"redirect to another host refused: rtsp://127.0.0.2:{eport}"
        st = self.wait_status("cam", lambda o: want in (o.get("last_error") or ""), "redirect refused")
        self.assertEqual(st["last_error"], want)
        time.sleep(3)        # several retries
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        self.assertIn(f"camera cam: {want}; retrying", log)
        self.assertNotIn("token=abc", log)
        self.assertNotIn("fault log-auth", self.procs[0].output(), "the other host got an Authorization header")
        self.assertIn(want, self.reel("gaps", "--camera", "cam").stdout)

    def test_allowed_redirect_sends_no_credentials(self):
        """--allow-redirect follows it, but the other host gets no
        credentials even when it asks for them; a redirect to another port
        of the same host is followed with them (Digest) and records."""
        _, eport = self.evil_sim()
        _, port = self.start_sim("h264", extra=("--fault", f"redirect=rtsp://127.0.0.2:{eport}/cam/0"))
        _, rport = self.start_sim("h264", name="real", extra=("--user", "admin", "--password", PASSWORD))
        _, sport = self.start_sim("h264", name="same", extra=("--fault", f"redirect=rtsp://127.0.0.1:{rport}/cam/0"))
        self.add("cam", f"rtsp://127.0.0.1:{port}/cam/0", "--allow-redirect")
        self.add("moved", f"rtsp://127.0.0.1:{sport}/cam/0")
        out = self.reel("camera", "list").stdout
        self.assertRegex(out, r"cam .* allow-redirect")
        rec = self.start_reel("--backoff-max-s", "1", "--no-http")
        st = self.wait_status("cam", lambda o: "no credentials configured" in (o.get("last_error") or ""),
                              "401 without credentials")
        self.assertNotIn("/cam/0", st["last_error"])
        self.wait_status("moved", lambda o: o.get("state", "").startswith("recording"), "moved recording")
        time.sleep(2)
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        self.assertIn(f"camera cam: redirected to rtsp://127.0.0.2:{eport} (another host, allowed; no credentials "
                      "sent there)", log)
        self.assertIn(f"camera moved: redirected to rtsp://127.0.0.1:{rport}", log)
        self.assertNotIn("fault log-auth", self.procs[0].output(), "the other host got an Authorization header")
        self.assertGreater(len(self.frames("moved")), 30)

    def test_basic_after_digest_refused(self):
        """A camera that offered Digest and, after a reconnection, offers
        only Basic does not get the password: a clear error instead. A
        restart of the camera by a live change keeps that memory; with
        --allow-basic (a live change) it gets Basic."""
        p, port = self.start_sim("h264", extra=("--user", "admin", "--password", PASSWORD, "--fault",
                                                "basic-after-digest", "--fault", "disconnect=3", "--fault",
                                                "log-auth"))
        self.add("cam", f"rtsp://127.0.0.1:{port}/cam/0")
        rec = self.start_reel("--backoff-max-s", "1", "--no-http")
        st = self.wait_status("cam", lambda o: "only Basic" in (o.get("last_error") or ""), "downgrade refused")
        self.assertIn("offers only Basic after the camera offered Digest: password not sent", st["last_error"])
        recorded = len(self.frames("cam"))
        self.assertGreater(recorded, 0)                  # recorded before the downgrade
        # a live change restarts the camera: still no Basic
        self.reel("camera", "set", "cam", "--udp")
        wait_until(lambda: "camera cam: configuration changed; reconnecting" in rec.output(), 15,
                   what="restart")
        time.sleep(3)
        self.assertIn("only Basic", self.status()["cam"]["last_error"] or "")
        sim_log = p.output()
        self.assertIn("fault basic-after-digest: from now on only Basic", sim_log)
        self.assertIn("Authorization: Digest", sim_log)
        self.assertNotIn("Authorization: Basic", sim_log)
        # allowed by the user: Basic, and it records again
        self.reel("camera", "set", "cam", "--allow-basic")
        wait_until(lambda: "Authorization: Basic" in p.output(), 20, what="Basic sent once allowed")
        self.wait_status("cam", lambda o: o.get("state", "").startswith("recording"), "recording with Basic")
        time.sleep(1)
        self.assertEqual(rec.stop(), 0)
        self.assertIn("password not sent", rec.output())
        self.assertGreater(len(self.frames("cam")), recorded)

    def test_udp_from_foreign_source_dropped(self):
        """RTP over UDP from a port the camera did not announce (same
        address): dropped, counted in the live status, logged once a minute
        with the count and the source; the recording is the clip's frames."""
        _, port = self.start_sim("h264", extra=("--fault", "udp-foreign"))
        self.reel("camera", "add", "cam", f"rtsp://127.0.0.1:{port}/cam/0", "--udp")
        rec = self.start_reel("--no-http")
        t0 = time.monotonic()
        st = self.wait_status("cam", lambda o: o.get("udp_foreign_dropped", 0) > 100, "foreign packets counted")
        self.assertTrue(st["state"].startswith("recording"), st)
        time.sleep(max(0.0, 8 - (time.monotonic() - t0)))
        n = self.status()["cam"]["udp_foreign_dropped"]
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        lines = [ln for ln in log.splitlines() if "from a source other than the camera" in ln]
        self.assertEqual(len(lines), 1, log)       # at most one a minute
        self.assertRegex(lines[0], r"camera cam: dropped \d+ UDP packets? from a source other than the camera "
                         r"\(last from 127\.0\.0\.1:\d+; \d+ since start\)")
        print(f"{self.id()}: {n} foreign packets dropped", file=sys.stderr)
        stored = self.frames("cam")
        self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), 120)
        self.assertEqual(len(self.frames_by_run("cam")), 1, log)

    def test_redirect_to_unresolvable_name_does_not_delay_others(self):
        """An allowed redirect to a host name whose DNS server never answers:
        the camera fails "cannot resolve NAME: timed out" and backs off,
        while a healthy camera next to it keeps every frame (lookups are off
        the loop thread, with a deadline). The recorder runs in a private
        mount namespace whose /etc/resolv.conf points at a silent UDP socket
        on 127.0.0.2:53 (as test_faults.test_unresolvable_name_does_not_delay_others,
        which covers a configured name)."""
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            dns.bind(("127.0.0.2", 53))
        except OSError as e:
            dns.close()
            self.skipTest(f"cannot bind 127.0.0.2:53: {e}")
        self.addCleanup(dns.close)
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.2\noptions timeout:30 attempts:1\n")
        self.good_camera()
        _, port = self.start_sim("h264", extra=("--fault", "redirect=rtsp://cam.reel-test.example:8554/cam/0"))
        self.add("lost", f"rtsp://127.0.0.1:{port}/cam/0", "--allow-redirect")
        rec = self.start(["unshare", "-m", "--propagation", "private", "sh", "-c",
                          'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv,
                          REEL, "-d", self.data, "run", "--no-http", "--checkpoint-ms", "500", "--backoff-max-s", "2"],
                         "reel")
        t0 = time.monotonic()
        time.sleep(14)
        elapsed = time.monotonic() - t0
        self.assertEqual(rec.stop(), 0, self.dump_logs())
        log = rec.output()
        self.assertIn("camera lost: redirected to rtsp://cam.reel-test.example:8554 (another host", log)
        self.assertIn("camera lost: cannot resolve cam.reel-test.example: timed out", log)
        self.assertEqual(len(self.frames_by_run("good")), 1, log)
        self.assert_good_recorded(elapsed, log)

    def test_camera_text_escaped_and_url_redacted(self):
        """Text from a camera with terminal escape sequences (here the SDP's
        a=control, quoted in the error) reaches the
        log, `reel status` and last_error escaped; a URL's query (which may
        hold credentials) never shows in last_error, the log or the gaps."""
        _, hport = self.start_sim("h264", name="hostile", extra=("--fault", "hostile-text"))
        _, port = self.start_sim("h264")
        self.reel("camera", "add", "text", f"rtsp://127.0.0.1:{hport}/cam/0")
        self.reel("camera", "add", "query", f"rtsp://127.0.0.1:{port}/cam/7?user=admin&password={PASSWORD}")
        rec = self.start_reel("--backoff-max-s", "1", "--no-http")
        st = self.wait_status("text", lambda o: "control URL" in (o.get("last_error") or ""), "control URL error")
        self.assertEqual(st["last_error"], f"RTSP error: DESCRIBE rtsp://127.0.0.1:{hport}: unusable control URL "
                         '"trackID=0\\x1b[2J\\x1b]0;pwned\\x07\\x1b[31m"')
        st = self.wait_status("query", lambda o: "404" in (o.get("last_error") or ""), "404")
        self.assertEqual(st["last_error"], f"stream not found: DESCRIBE rtsp://127.0.0.1:{port}: 404 Not Found")
        status = self.reel("status").stdout
        self.assertIn("\\x1b[2J", status)
        self.assertEqual(rec.stop(), 0)
        log = rec.output()
        everything = log + status + self.reel("gaps", "--camera", "text").stdout + \
            self.reel("gaps", "--camera", "query").stdout
        for bad in ("\x1b", "\x07", PASSWORD, "/cam/7"):
            self.assertNotIn(bad, everything)


if __name__ == "__main__":
    unittest.main()
