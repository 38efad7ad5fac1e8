# SPDX-License-Identifier: GPL-3.0-or-later
"""Resources under hostile clients (issue 11, "From the client side"):
descriptors, memory and threads of the HTTP server must never be taken
from the recorder. Against a real `reel run` recording from reel-sim:

- the recorder run with `ulimit -n 256`, 8 cameras, 16 slow readers of a
  long view.mp4 (a little read, then stalled) and a flood of wrong logins
  from many addresses: every camera keeps >= 99 % of its frames, the admin
  signs in during the flood, the process never logs EMFILE and is not
  killed, and a stalled download holds no sample file open;
- downloads over the per-user cap get 503 with Retry-After (HEAD and 304
  are not downloads), and a slot comes back when a download ends;
- a playback memory budget below one MP4 header answers 413, not the OOM
  killer;
- cheap requests (/api/health) answer at once while logins hash on the
  worker pool.
Standard library only."""
import http.client
import json
import os
import re
import socket
import threading
import time
import unittest

from harness import REEL, REEL_SIM, ReelTestCase, clip, free_port, wait_file, wait_until
import test_http

CAMERAS = 8
READERS = 16
USERS = ["tester", "viewer1", "viewer2", "viewer3"]   # 4 downloads each: the per-user cap
VIEW = "/api/cameras/cam0/view.mp4?start=-1h&end=now"


def fd_targets(pid):
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


class ResourceTest(ReelTestCase):
    request = test_http.HttpTest.request
    login = test_http.HttpTest.login

    def setUp(self):
        super().setUp()
        self.outputs = []
        self.pwfile = os.path.join(self.tmp, "user.pw")
        with open(self.pwfile, "w") as f:
            f.write(test_http.PASSWORD + "\n")
        self.reel("user", "add", test_http.USER, "--password-file", self.pwfile)

    def start_reel_limited(self, cameras, nofile=None, extra=()):
        # the 1080p clip: a view.mp4 bigger than the socket buffers comes
        # soon, so that a stalled reader really holds its response
        port = free_port()
        ready = os.path.join(self.tmp, "sim.ready")
        self.start([REEL_SIM, "--clip", os.path.join(os.path.dirname(clip("h264")), "h264-1080p.264"), "--codec",
                    "h264", "--cameras", str(cameras), "--listen", "127.0.0.1", "--port", str(port),
                    "--ready-file", ready], "sim")
        wait_file(ready)
        for i in range(cameras):
            self.reel("camera", "add", f"cam{i}", f"rtsp://127.0.0.1:{port}/cam/{i}")
        args = [REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--rotate-s", "2",
                "--checkpoint-ms", "300", "--backoff-max-s", "1", *extra]
        if nofile:
            # soft and hard: `reel run` cannot raise it
            args = ["sh", "-c", f'ulimit -n {nofile} && exec "$0" "$@"', *args]
        self.rec = self.start(args, "reel")
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))

    def wait_big_view(self, sid):
        """Until cam0's view.mp4 is over the largest send buffer + 1 MiB."""
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            need = int(f.read().split()[2]) + (1 << 20)

        def size():
            r = self.request("HEAD", VIEW, cookie=sid)
            return int(r.header("Content-Length") or 0) if r.status == 200 else 0
        wait_until(lambda: size() > need, 40, 0.5, f"a view.mp4 over {need} bytes")

    def raw_get(self, path, sid, method="GET", extra=""):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: reel_session={sid}\r\n{extra}\r\n".encode())
        return s

    def head_of(self, s):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data

    def status_of(self, head):
        m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        return int(m.group(1)) if m else None

    def login_from(self, source, user, password, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))
        c.request("POST", "/api/login", body=json.dumps({"username": user, "password": password}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    def flood(self, stop, threads, counts):
        """Wrong logins (unknown names, so no account is slowed down) from
        many loopback addresses, threads in parallel, until stop."""
        def run(k):
            i = 0
            while not stop.is_set():
                src = f"127.0.{1 + k}.{2 + i % 200}"
                try:
                    st = self.login_from(src, f"nobody{k}-{i}", "wrong password")
                    counts[st] = counts.get(st, 0) + 1
                except OSError:
                    counts["error"] = counts.get("error", 0) + 1
                i += 1
        ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        return ts

    def frames_in_window(self, camera, w0, w1):
        return sum(1 for f in self.frames(camera) if w0 <= f[1] < w1)

    # ---- the resource test of the issue ----

    def test_slow_readers_and_login_flood_under_256_descriptors(self):
        for u in USERS[1:]:
            self.reel("user", "add", u, "--password-file", self.pwfile, "--role", "viewer", "--cameras", "all")
        self.start_reel_limited(CAMERAS, nofile=256)
        pid = self.rec.p.pid
        sids = [self.login(u, test_http.PASSWORD)[0] for u in USERS]
        # footage in several sample files per camera (each a descriptor per
        # reader on the old code), more than the socket buffers hold
        self.wait_big_view(sids[0])
        base_fds = len(fd_targets(pid))
        t0 = time.time()
        readers = []
        stop = threading.Event()
        counts = {}
        flooders = []
        try:
            for i in range(READERS):
                s = self.raw_get(VIEW, sids[i % len(sids)])
                head = self.head_of(s)
                self.assertEqual(self.status_of(head), 200, head[:300])
                s.recv(16384)           # a little, then stalled
                readers.append(s)
            time.sleep(1)
            fds = fd_targets(pid)
            samples = [t for t in fds if "/storage/" in t and not t.endswith("/")]
            print(f"descriptors: {base_fds} before the readers, {len(fds)} with {READERS} stalled readers "
                  f"({len(samples)} sample files open)")
            # 16 sockets, the sample files being written (one per camera,
            # two around a rotation), nothing per reader
            self.assertLessEqual(len(fds), base_fds + READERS + CAMERAS + 8,
                                 f"stalled downloads hold descriptors: {len(fds)} open, {len(samples)} of them "
                                 f"sample files")
            flooders = self.flood(stop, 16, counts)
            time.sleep(2)
            lat = []
            for _ in range(3):
                t = time.monotonic()
                st = self.login_from("127.0.0.1", test_http.USER, test_http.PASSWORD)
                lat.append(time.monotonic() - t)
                self.assertEqual(st, 200, f"the admin could not sign in during the flood: {st}")
                time.sleep(1)
            health = []
            for _ in range(5):
                t = time.monotonic()
                r = self.request("GET", "/api/health")
                health.append(time.monotonic() - t)
                self.assertEqual(r.status, 200)
            time.sleep(3)
        finally:
            stop.set()
            for t in flooders:
                t.join()
            for s in readers:
                s.close()
        t1 = time.time()
        print(f"login flood: {counts}; admin login {', '.join(f'{x * 1000:.0f}' for x in lat)} ms; "
              f"/api/health max {max(health) * 1000:.0f} ms")
        self.assertLess(max(lat), 5.0, f"admin login took {max(lat):.1f} s during the flood")
        self.assertGreater(sum(v for k, v in counts.items() if k == 401), 50, f"the flood did not run: {counts}")
        # every camera recorded >= 99 % of its frames through it all (the
        # window ends 2 s early: the last checkpoint must have landed)
        time.sleep(1.5)
        w0, w1 = int(t0 * 90000), int((t1 - 2) * 90000)
        durs = sorted(f[2] for f in self.frames("cam0"))
        want = (w1 - w0) / durs[len(durs) // 2]
        for i in range(CAMERAS):
            got = self.frames_in_window(f"cam{i}", w0, w1)
            self.assertGreaterEqual(got, 0.99 * want - 1, f"cam{i}: {got} frames of {want:.0f}\n" + self.dump_logs())
        self.assertIsNone(self.rec.p.poll(), "reel run died")
        out = self.rec.output()
        self.assertNotIn("Too many open files", out)
        self.assertNotIn("EMFILE", out)
        self.assertEqual(self.rec.stop(), 0)

    # ---- the caps ----

    def test_download_cap_503_retry_after(self):
        self.start_reel_limited(1)
        sid, _ = self.login()
        self.wait_big_view(sid)
        r = self.request("GET", VIEW, cookie=sid)
        etag = r.header("ETag")
        self.assertEqual(r.status, 200)
        readers = [self.raw_get(VIEW, sid) for _ in range(4)]
        try:
            for s in readers:
                self.assertEqual(self.status_of(self.head_of(s)), 200)
            over = self.request("GET", VIEW, cookie=sid)
            self.assertEqual(over.status, 503, over.body[:200])
            self.assertTrue(re.fullmatch(r"[1-9][0-9]*", over.header("Retry-After") or ""), over.headers)
            self.assertIn("downloads", over.json()["error"])
            # HEAD and a matching If-None-Match are not downloads
            self.assertEqual(self.request("HEAD", VIEW, cookie=sid).status, 200)
            # (the ETag changes while the open recording grows: a 200 is as good)
            self.assertIn(self.request("GET", VIEW, cookie=sid, headers={"If-None-Match": etag}).status,
                          (304, 503))
            readers.pop().close()
            wait_until(lambda: self.request("GET", VIEW, cookie=sid).status == 200, 15, 0.5,
                       "a download slot to come back")
        finally:
            for s in readers:
                s.close()
        self.assertIn("too many downloads", self.rec.output())

    def test_memory_budget_413(self):
        self.start_reel_limited(1, extra=("--playback-mem-kib", "1"))
        # a header of some 300 frames (stsz alone 1.2 KB): over 1 KiB
        wait_until(lambda: len(self.frames("cam0")) >= 300, 40, 0.5, "300 frames")
        sid, _ = self.login()
        r = self.request("GET", VIEW, cookie=sid)
        self.assertEqual(r.status, 413, r.body[:200])
        self.assertIn("budget", r.json()["error"])
        self.assertIsNone(self.rec.p.poll())

    # ---- threads ----

    def test_login_burst_queue_full_503(self):
        """80 logins at once: 2 hash, 32 wait, the rest are told to come
        back (503 with Retry-After) instead of queueing without bound; the
        server then serves a correct login."""
        self.start_reel_limited(1)
        n = 80
        barrier = threading.Barrier(n)
        results = [None] * n

        def one(k):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                           source_address=(f"127.0.9.{k + 2}", 0))
            c.connect()
            barrier.wait()
            c.request("POST", "/api/login", body=json.dumps({"username": f"burst{k}", "password": "x"}),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            results[k] = (r.status, r.getheader("Retry-After"))
            c.close()
        ts = [threading.Thread(target=one, args=(k,)) for k in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        statuses = [r[0] for r in results]
        print(f"80 logins at once: {statuses.count(401)} x 401, {statuses.count(503)} x 503")
        self.assertEqual(set(statuses) - {401, 503}, set(), statuses)
        self.assertGreater(statuses.count(503), 0, "the worker queue grew without bound")
        self.assertLessEqual(statuses.count(401), n - 1)
        self.assertTrue(all(ra and ra.isdigit() for st, ra in results if st == 503), results)
        self.login()

    def test_health_answers_while_logins_hash(self):
        """Password hashing runs on the worker pool: while 16 clients keep
        libmicrohttpd's threads busy with logins, /api/health (no hash)
        answers at once."""
        self.start_reel_limited(1)
        stop = threading.Event()
        counts = {}
        ts = self.flood(stop, 16, counts)
        try:
            time.sleep(2)
            lat = []
            for _ in range(20):
                t = time.monotonic()
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                c.request("GET", "/api/health")
                r = c.getresponse()
                r.read()
                c.close()
                lat.append(time.monotonic() - t)
                self.assertEqual(r.status, 200)
                time.sleep(0.1)
        finally:
            stop.set()
            for t in ts:
                t.join()
        lat.sort()
        print(f"/api/health during a login flood ({counts}): median {lat[10] * 1000:.0f} ms, "
              f"max {lat[-1] * 1000:.0f} ms")
        self.assertLess(lat[10], 0.25, f"/api/health waited for password hashing: {lat}")


if __name__ == "__main__":
    unittest.main()
