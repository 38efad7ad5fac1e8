# SPDX-License-Identifier: GPL-3.0-or-later
"""What test_live.py and test_media.py share: a user added with
`reel user add`, `reel run --http 127.0.0.1:0` and its port, sign-in (the
session id), and a raw socket reading live.mp4. A mixin for ReelTestCase."""
import http.client
import json
import os
import re
import socket
import time

from harness import REEL, wait_until

USER, PASSWORD = "tester", "correct horse battery"


class LiveHttpMixin:
    def add_user(self):
        """Adds USER with PASSWORD (`reel user add --password-file`)."""
        pw = os.path.join(self.tmp, "user.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.reel("user", "add", USER, "--password-file", pw)

    def run_http(self, *extra):
        """Starts `reel run --http 127.0.0.1:0 ...`, sets self.port from its
        log and self.sid by signing in as USER; returns the process."""
        rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--checkpoint-ms", "300",
                          *extra], "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("POST", "/api/login", body=json.dumps({"username": USER, "password": PASSWORD}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        self.sid = re.match(r"reel_session=([0-9a-f]{64});", r.getheader("Set-Cookie")).group(1)
        c.close()
        return rec

    def open_live_socket(self, name, query, timeout):
        """A raw socket reading live.mp4: (socket, head bytes, body start)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.sendall(f"GET /api/cameras/{name}/live.mp4{query} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                  f"Cookie: reel_session={self.sid}\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        head, _, body = buf.partition(b"\r\n\r\n")
        return s, head.decode("latin-1"), body

    def read_for(self, s, body, seconds):
        """body plus what s sends in the next seconds (or until it closes)."""
        end = time.time() + seconds
        s.settimeout(0.5)
        while time.time() < end:
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            if not d:
                break
            body += d
        return body
