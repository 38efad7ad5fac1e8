# SPDX-License-Identifier: GPL-3.0-or-later
"""Accounts and secrets against a real `reel run` (issue 11): wrong
passwords "through a reverse proxy" (X-Forwarded-For from a trusted peer)
slow the attacker down without locking the real user out, while an
untrusted peer's X-Forwarded-For is ignored; a user name with a newline
cannot forge a log line. The proxy is simulated by connecting from
127.0.0.2 (Linux routes all of 127/8 to lo). Standard library only."""
import http.client
import json
import os
import re
import unittest

from harness import REEL, ReelTestCase, wait_until

USER, PASSWORD = "tester", "correct horse battery"


class AccountsTest(ReelTestCase):
    def setUp(self):
        super().setUp()
        pw = os.path.join(self.tmp, "user.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.reel("user", "add", USER, "--password-file", pw)

    def start_server(self, *extra):
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", *extra], "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))

    def login(self, user, password, source="127.0.0.1", xff=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(source, 0))
        h = {"Content-Type": "application/json"}
        if xff:
            h["X-Forwarded-For"] = xff
        c.request("POST", "/api/login", body=json.dumps({"username": user, "password": password}), headers=h)
        r = c.getresponse()
        r.read()
        status, retry = r.status, r.getheader("Retry-After")
        c.close()
        return status, retry

    def test_proxy_attack_does_not_lock_out_user(self):
        self.start_server("--trusted-proxy", "127.0.0.2", "--trusted-proxy", "10.9.0.0/16")
        # 30 wrong passwords from one client behind the proxy (which appends
        # what it saw to what the client wrote)
        statuses = [self.login(USER, f"wrong{i}", source="127.0.0.2", xff=f"1.2.3.{i}, 203.0.113.5")[0]
                    for i in range(30)]
        self.assertEqual(statuses[:5], [401] * 5, statuses)
        self.assertIn(429, statuses[5:], statuses)  # slowed, not free to go on
        # the 429 carries Retry-After, a few seconds at most
        status, retry = self.login(USER, "wrong-again", source="127.0.0.2", xff="203.0.113.5")
        self.assertEqual(status, 429)
        self.assertTrue(1 <= int(retry) <= 8, retry)
        # the real user, from another address behind the same proxy (and a
        # trusted inner hop), gets in at once
        self.assertEqual(self.login(USER, PASSWORD, source="127.0.0.2", xff="198.51.100.20, 10.9.1.1")[0], 200)
        self.assertIn("user tester logged in from 198.51.100.20", self.rec.output())
        self.assertIn("failed login for 'tester' from 203.0.113.5", self.rec.output())

    def test_untrusted_forwarded_for_ignored(self):
        self.start_server("--trusted-proxy", "127.0.0.2")
        # a direct client (127.0.0.1, not trusted) making up a new
        # X-Forwarded-For each time is still one address: locked after 20
        # failures (names that do not exist: the account is not what stops it)
        statuses = [self.login(f"nobody{i}", "wrong-password", xff=f"198.51.100.{i}")[0] for i in range(21)]
        self.assertEqual(statuses[:20], [401] * 20, statuses)
        self.assertEqual(statuses[20], 429, statuses)
        self.assertNotIn("from 198.51.100.", self.rec.output())
        # through the proxy, another address is not affected
        self.assertEqual(self.login(USER, PASSWORD, source="127.0.0.2", xff="192.0.2.1")[0], 200)

    def test_newline_in_user_name_cannot_forge_log_line(self):
        self.start_server()
        forged = "2026-01-01T00:00:00Z info http: user admin logged in"  # the name stays < 64 bytes
        status, _ = self.login("evil\n" + forged, "wrong-password")
        self.assertEqual(status, 401)
        wait_until(lambda: "failed login for 'evil" in self.rec.output(), 10, what="the failed login's log line")
        out = self.rec.output()
        for line in out.splitlines():
            self.assertFalse(line.startswith("2026-01-01T00:00:00Z"), line)
            if "failed login for 'evil" in line:
                self.assertIn("user admin logged in", line)  # on the same line, escaped
        self.assertNotIn("evil\n", out)

    def test_camera_add_refuses_password_in_url(self):
        # a password on the command line is in `ps` for every local user
        for args in (["camera", "add", "c1", "rtsp://admin:s3cret@127.0.0.1:554/x"],
                     ["camera", "add", "c1", "rtsp://admin:s3cret@127.0.0.1:554/x", "--user", "admin"]):
            r = self.reel(*args, check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("--password-file", r.stderr)
            self.assertNotIn("s3cret", r.stdout + r.stderr)
        self.assertNotIn("c1", self.reel("camera", "list").stdout)
        # a bare user name is no secret: moved out of the URL
        self.reel("camera", "add", "c2", "rtsp://admin@127.0.0.1:554/x")
        self.assertIn("user=admin", self.reel("camera", "list").stdout)
        r = self.reel("camera", "set", "c2", "--url", "rtsp://admin:s3cret@127.0.0.1:554/y", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--password-file", r.stderr)
        self.assertNotIn("s3cret", self.reel("camera", "list").stdout)
        # the file option works
        pw = os.path.join(self.tmp, "cam.pw")
        with open(pw, "w") as f:
            f.write("s3cret\n")
        self.reel("camera", "add", "c3", "rtsp://127.0.0.1:554/x", "--user", "admin", "--password-file", pw)


if __name__ == "__main__":
    unittest.main()
