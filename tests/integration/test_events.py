# SPDX-License-Identifier: GPL-3.0-or-later
"""Events (issue 15, ev-core) against a real `reel run` and reel-sim: a
camera going offline and coming back is one camera.offline event with its
reason and its end, seen in GET /api/events, on the live event stream
(Server-Sent Events, read from a raw socket), on /api/timeline and by
`reel events`; disk.full follows the setting storage.full_percent; hostile
query parameters are refused; a viewer never sees the events of a camera
they may not see (list, stream, camera filter), the stream caps hold.
Standard library only."""
import json
import os
import re
import socket
import time
import unittest
import urllib.parse

from harness import wait_until
from test_http import HttpTest, USER


class SseReader:
    """A raw socket on GET /api/events/stream; .events() parses what came."""

    def __init__(self, port, token, path="/api/events/stream"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                       f"Accept: text/event-stream\r\n\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                break
            self.buf += d
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1")
        self.status = int(self.head.split(" ", 2)[1]) if self.head else 0
        self.s.settimeout(0.3)

    def pump(self):
        try:
            d = self.s.recv(65536)
            if d:
                self.buf += d
        except socket.timeout:
            pass
        return self.buf

    def text(self):
        """The body with chunked framing removed (good enough: chunk sizes
        are hex lines between CRLFs)."""
        return re.sub(rb"\r\n[0-9a-fA-F]+\r\n", b"", b"\r\n" + self.buf).decode(errors="replace")

    def events(self):
        out = []
        for block in self.text().split("\n\n"):
            typ = data = None
            for line in block.split("\n"):
                if line.startswith("event: "):
                    typ = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
            if typ and data:
                try:
                    out.append((typ, json.loads(data)))
                except ValueError:
                    pass
        return out

    def wait_for(self, pred, timeout, what):
        def found():
            self.pump()
            return next((e for e in self.events() if pred(e)), None)
        return wait_until(found, timeout, step=0.05, what=what)

    def close(self):
        self.s.close()


class EventsTest(HttpTest):
    def get(self, token, path):
        c = __import__("http.client").client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", path, headers={"Host": "127.0.0.1", "Authorization": f"Bearer {token}"})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def get_json(self, token, path, status=200):
        st, body = self.get(token, path)
        self.assertEqual(st, status, f"{path}: {body!r}\n" + self.dump_logs()[-3000:])
        return json.loads(body)

    def wait_recording(self):
        wait_until(lambda: self.reel("recordings", "--camera", "cam0").stdout.strip(), 20,
                   what="cam0 to record")

    def test_offline_event_api_stream_timeline(self):
        self.start_recording()
        token = self.reel("token", "add", "tadmin", "--user", USER).stdout.strip()
        self.wait_recording()
        sse = SseReader(self.port, token)
        self.assertEqual(sse.status, 200, sse.head)
        self.assertIn("text/event-stream", sse.head)
        sim = self.procs[0]
        t_kill = time.time()
        sim.kill()
        typ, start = sse.wait_for(lambda e: e[0] == "start" and e[1]["event"]["kind"] == "camera.offline", 20,
                                  "camera.offline start on the stream")
        ev = start["event"]
        self.assertEqual(start["type"], "start")
        self.assertEqual(ev["camera"], "cam0")
        self.assertEqual(ev["source"], "recorder")
        self.assertIsNone(ev["end"])
        self.assertIsNone(ev["end90k"])
        self.assertTrue(ev["detail"], "the reason is given")
        self.assertNotIn("rtsp://", ev["detail"])
        self.assertAlmostEqual(ev["start90k"] / 90000, t_kill, delta=15)
        # the open event is listed, newest first
        lst = self.get_json(token, "/api/events")
        self.assertEqual(lst["events"][0]["id"], ev["id"])
        self.assertIsNone(lst["events"][0]["end"])
        # while it is down its reconnections fail for another reason (refused): still the same event
        wait_until(lambda: re.search(r"camera cam0: cannot connect.*refused", self.rec.output(), re.I), 20,
                   what="a refused reconnection")
        sse.pump()
        self.assertFalse([e for e in sse.events() if e[0] == "end"], sse.text())
        # back: the same event ends
        t_back = time.time()
        self.start_sim("h264", port=self.sim_port, name="sim2")
        typ, end = sse.wait_for(lambda e: e[0] == "end" and e[1]["event"]["id"] == ev["id"], 30,
                                "camera.offline end on the stream")
        ended = end["event"]
        self.assertGreater(ended["end90k"], ended["start90k"])
        self.assertGreater(ended["end90k"] / 90000, t_back - 2)
        self.assertEqual(ended["detail"], ev["detail"])
        sse.close()
        # the list and its filters
        got = self.get_json(token, "/api/events?camera=cam0&kind=camera.offline")["events"]
        self.assertEqual([e["id"] for e in got], [ev["id"]])
        self.assertEqual(got[0]["end90k"], ended["end90k"])
        self.assertEqual(got[0]["start"][-1], "Z")
        self.assertEqual(self.get_json(token, "/api/events?kind=motion")["events"], [])
        before = self.get_json(token, f"/api/events?before_id={ev['id']}&kind=camera.offline")
        self.assertEqual(before["events"], [])
        self.assertIsNone(before["next_before_id"])
        # the timeline shows it on cam0's row
        q = urllib.parse.urlencode({"start": int(t_kill - 60), "end": int(time.time() + 5), "cameras": "cam0"})
        tl = self.get_json(token, f"/api/timeline?{q}")
        row = next(c for c in tl["cameras"] if c["name"] == "cam0")
        marks = [e for e in row["events"] if e["id"] == ev["id"]]
        self.assertEqual(len(marks), 1, row["events"])
        self.assertEqual(marks[0]["kind"], "camera.offline")
        self.assertEqual(marks[0]["end"], ended["end"])
        # the CLI
        out = self.reel("events", "--camera", "cam0", "--json").stdout.splitlines()
        self.assertEqual(json.loads(out[0])["id"], ev["id"])
        self.assertIn("camera.offline cam0 recorder", self.reel("events", "--kind", "camera.offline").stdout)
        self.assertNotEqual(self.reel("events", "--kind", "bogus", check=False).returncode, 0)
        # a clean stop ends nothing twice; a restart closes nothing that was closed
        self.assertEqual(self.rec.stop(), 0)
        rows = [json.loads(l) for l in self.reel("events", "--json").stdout.splitlines()]
        self.assertTrue(all(r["end90k"] for r in rows), rows)

    def test_hostile_queries_visibility_caps_disk_full(self):
        self.start_recording()
        admin = self.reel("token", "add", "tadmin", "--user", USER).stdout.strip()
        pw = os.path.join(self.tmp, "v.pw")
        with open(pw, "w") as f:
            f.write("viewer-password-1\n")
        self.reel("user", "add", "vwr", "--password-file", pw, "--role", "viewer", "--cameras", "cam0")
        viewer = self.reel("token", "add", "tvwr", "--user", "vwr").stdout.strip()
        self.reel("user", "add", "aud", "--password-file", pw, "--role", "auditor")
        auditor = self.reel("token", "add", "taud", "--user", "aud").stdout.strip()
        self.wait_recording()

        bad = ["kind=bogus", "kind=" + "x" * 200, "limit=0", "limit=1001", "limit=abc", "limit=1e3",
               "before_id=-1", "before_id=0", "before_id=99999999999999999999", "from=garbage",
               "to=2026-13-45T99:00:00Z", "from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z",
               "camera=../etc", "camera=" + "a" * 100, "camera=%00x", "camera=a%2Fb", "kind=%ZZ"]
        for q in bad:
            st, body = self.get(admin, f"/api/events?{q}")
            self.assertEqual(st, 400, f"{q}: {st} {body!r}")
            self.assertIn(b'"error"', body)
        vs = SseReader(self.port, viewer)
        ads = SseReader(self.port, admin)
        self.assertEqual((vs.status, ads.status), (200, 200))
        # an unknown camera and a hidden one look the same to the viewer
        self.reel("camera", "add", "hidden", "rtsp://127.0.0.1:9/cam/0")   # nothing listens: offline
        st1, b1 = self.get(viewer, "/api/events?camera=hidden")
        st2, b2 = self.get(viewer, "/api/events?camera=nosuch")
        self.assertEqual((st1, st2), (404, 404))
        self.assertEqual(b1.replace(b"hidden", b"X"), b2.replace(b"nosuch", b"X"))
        self.assertEqual(self.get(auditor, "/api/events")[0], 403)
        self.assertEqual(self.get(auditor, "/api/events/stream")[0], 403)

        # the hidden camera's offline event: the admin hears it and lists it
        ads.wait_for(lambda e: e[1]["event"]["camera"] == "hidden", 30, "hidden's event for the admin")
        hid = self.get_json(admin, "/api/events?camera=hidden")["events"]
        self.assertTrue(hid and hid[0]["kind"] == "camera.offline", hid)
        # then a site-wide event (disk.full at 1 %) and cam0 offline, both for the viewer
        sid, csrf = self.login()
        r = self.request("PATCH", "/api/settings", body={"storage.full_percent": 1}, cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        for v in (0, 101, "95", 1.5, None):
            r = self.request("PATCH", "/api/settings", body={"storage.full_percent": v}, cookie=sid, csrf=csrf)
            self.assertEqual(r.status, 400, (v, r.body))
        _, full = vs.wait_for(lambda e: e[1]["event"]["kind"] == "disk.full", 30, "disk.full for the viewer")
        self.assertEqual(full["event"]["camera"], "")
        self.assertIn("% used", full["event"]["detail"])
        self.procs[0].kill()
        vs.wait_for(lambda e: e[1]["event"]["camera"] == "cam0" and e[1]["event"]["kind"] == "camera.offline", 30,
                    "cam0's event for the viewer")
        self.assertNotIn("hidden", vs.text())
        listed = self.get_json(viewer, "/api/events?limit=1000")["events"]
        self.assertTrue(listed)
        self.assertFalse([e for e in listed if e["camera"] not in ("cam0", "")], listed)
        self.assertIn("disk.full", {e["kind"] for e in listed})
        # paging: one at a time reaches every event the viewer may see, in order
        seen, before = [], None
        for _ in range(50):
            page = self.get_json(viewer, "/api/events?limit=1" + (f"&before_id={before}" if before else ""))
            seen += [e["id"] for e in page["events"]]
            before = page["next_before_id"]
            if before is None:
                break
        self.assertEqual(seen, [e["id"] for e in listed])
        # the disk is no longer "full" at 100 %
        r = self.request("PATCH", "/api/settings", body={"storage.full_percent": 100}, cookie=sid, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        vs.wait_for(lambda e: e[0] == "end" and e[1]["event"]["kind"] == "disk.full", 30, "disk.full end")
        vs.close()
        ads.close()
        # caps: 8 streams of one user, the 9th is 503 with Retry-After; one closed frees a place
        # (the two closed above free their places at the server's next look, within seconds)
        streams = []

        def open_one():
            s = SseReader(self.port, viewer)
            if s.status == 200:
                streams.append(s)
            else:
                s.close()
            return len(streams) == 8
        wait_until(open_one, 20, step=0.2, what="8 streams of one user")
        extra = SseReader(self.port, viewer)
        self.assertEqual(extra.status, 503, extra.head)
        self.assertIn("Retry-After", extra.head)
        extra.close()
        streams.pop().close()
        wait_until(lambda: SseReader(self.port, viewer).status == 200, 20, step=0.5, what="a freed stream place")
        for s in streams:
            s.close()


if __name__ == "__main__":
    unittest.main()
