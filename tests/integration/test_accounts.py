# SPDX-License-Identifier: GPL-3.0-or-later
"""Accounts and secrets against a real `reel run` (issue 11): wrong
passwords "through a reverse proxy" (X-Forwarded-For from a trusted peer)
slow the attacker down without locking the real user out, while an
untrusted peer's X-Forwarded-For is ignored; a user name with a newline
cannot forge a log line; `camera add` refuses a password in the URL; API
tokens expire, are listed without their secret, revoked, named per user,
and end when their user's password changes. The proxy is simulated by connecting from
127.0.0.2 (Linux routes all of 127/8 to lo). Standard library only."""
import http.client
import json
import os
import re
import sqlite3
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
        answers = [self.login(USER, f"wrong{i}", source="127.0.0.2", xff=f"1.2.3.{i}, 203.0.113.5")
                   for i in range(30)]
        statuses = [a[0] for a in answers]
        self.assertEqual(statuses[:5], [401] * 5, statuses)
        self.assertIn(429, statuses[5:], statuses)  # slowed, not free to go on
        # a 429 carries Retry-After, a few seconds at most (no long lock)
        for status, retry in answers:
            if status == 429:
                self.assertTrue(1 <= int(retry) <= 8, retry)
        # the real user, from another address behind the same proxy (and a
        # trusted inner hop), gets in at once
        self.assertEqual(self.login(USER, PASSWORD, source="127.0.0.2", xff="198.51.100.20, 10.9.1.1")[0], 200)
        self.assertIn("user tester logged in from 198.51.100.20", self.rec.output())
        self.assertIn("failed login for 'tester' from 203.0.113.5", self.rec.output())

    def test_untrusted_forwarded_for_ignored(self):
        for bad in ("proxy.example.org", "10.0.0.0/33", "::1/129", "10.0.0.1/"):
            r = self.reel("run", "--trusted-proxy", bad, check=False, timeout=30)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--trusted-proxy", r.stderr)
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

    def api(self, method, path, body=None, cookie=None, csrf=None, bearer=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        if cookie:
            h["Cookie"] = f"reel_session={cookie}"
        if csrf:
            h["X-CSRF-Token"] = csrf
        if bearer:
            h["Authorization"] = f"Bearer {bearer}"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None

    def session(self, user, password):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("POST", "/api/login", body=json.dumps({"username": user, "password": password}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        body = json.loads(r.read())
        self.assertEqual(r.status, 200, body)
        sid = re.match(r"reel_session=([0-9a-f]{64});", r.getheader("Set-Cookie")).group(1)
        c.close()
        return sid, body["csrf_token"]

    def test_tokens_expire_list_revoke(self):
        pw = os.path.join(self.tmp, "bob.pw")
        with open(pw, "w") as f:
            f.write("bobs password\n")
        self.reel("user", "add", "bob", "--password-file", pw, "--role", "viewer")
        self.start_server("--token-max-days", "30", "--token-default-days", "7")
        sid, csrf = self.session(USER, PASSWORD)
        st, t1 = self.api("POST", "/api/tokens", {"name": "ci"}, sid, csrf)
        self.assertEqual(st, 200, t1)
        st, t2 = self.api("POST", "/api/tokens", {"name": "backup", "days": 30}, sid, csrf)
        self.assertEqual(st, 200, t2)
        # over the maximum, or not a whole number of days: refused
        for days in (31, 0, 1.5, "7"):
            st, _ = self.api("POST", "/api/tokens", {"name": "long", "days": days}, sid, csrf)
            self.assertEqual(st, 400, days)
        # names per user: bob may have a "ci" too, tester not a second one
        self.assertEqual(self.api("POST", "/api/tokens", {"name": "ci"}, sid, csrf)[0], 409)
        bsid, bcsrf = self.session("bob", "bobs password")
        st, tb = self.api("POST", "/api/tokens", {"name": "ci"}, bsid, bcsrf)
        self.assertEqual(st, 200, tb)
        # the list: the caller's own, never the secret
        st, lst = self.api("GET", "/api/tokens", bearer=t1["token"])
        self.assertEqual(st, 200)
        self.assertEqual([t["name"] for t in lst["tokens"]], ["backup", "ci"])
        text = json.dumps(lst)
        for t in (t1, t2, tb):
            self.assertNotIn(t["token"], text)
            self.assertNotIn(t["token"][5:], text)
        ci = [t for t in lst["tokens"] if t["name"] == "ci"][0]
        self.assertEqual(ci["expires"] - ci["created"], 7 * 86400)
        bk = [t for t in lst["tokens"] if t["name"] == "backup"][0]
        self.assertEqual(bk["expires"] - bk["created"], 30 * 86400)
        self.assertIsNotNone(ci["last_used"])   # the GET above used it
        # revoke by name: only the caller's
        self.assertEqual(self.api("DELETE", "/api/tokens/ci", cookie=sid, csrf=csrf)[0], 200)
        self.assertEqual(self.api("GET", "/api/session", bearer=t1["token"])[0], 401)
        self.assertEqual(self.api("GET", "/api/session", bearer=tb["token"])[0], 200)  # bob's "ci" lives
        self.assertEqual(self.api("DELETE", "/api/tokens/ci", cookie=sid, csrf=csrf)[0], 404)
        # a token older than --token-max-days ends, whatever its own expiry
        with sqlite3.connect(os.path.join(self.data, "reel.db")) as db:
            db.execute("UPDATE web_token SET created_ns = created_ns - 31 * 86400 * 1000000000, "
                       "expires_ns = expires_ns + 86400 * 1000000000 WHERE name = 'backup'")
        db.close()
        self.assertEqual(self.api("GET", "/api/session", bearer=t2["token"])[0], 401)
        # a password change ends the user's tokens
        st, t3 = self.api("POST", "/api/tokens", {"name": "fresh"}, sid, csrf)
        self.assertEqual(self.api("GET", "/api/session", bearer=t3["token"])[0], 200)
        pw2 = os.path.join(self.tmp, "new.pw")
        with open(pw2, "w") as f:
            f.write("a brand new password\n")
        self.reel("user", "passwd", USER, "--password-file", pw2)
        self.assertEqual(self.api("GET", "/api/session", bearer=t3["token"])[0], 401)
        # removing the user ends theirs
        self.reel("user", "remove", "bob")
        self.assertEqual(self.api("GET", "/api/session", bearer=tb["token"])[0], 401)


if __name__ == "__main__":
    unittest.main()
