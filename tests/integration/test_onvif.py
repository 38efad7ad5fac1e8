# SPDX-License-Identifier: GPL-3.0-or-later
"""ONVIF (issue 15) against our own device simulator (sim/onvif-sim.py):
WS-Discovery across two network namespaces the test makes (`reel onvif
discover`: the Probe sent on every multicast interface, the device found,
its 0.0.0.0 XAddr rewritten to the sender, its profiles read);
POST /api/onvif/profiles with a WS-UsernameToken against a device whose
clock is an hour off (profiles, stream URIs, suggested main and sub; a
wrong password refused clearly; hostile bodies, a viewer, no CSRF; the
password in no log line, answer or audit row); PullPoint motion from the
simulator as `motion` events with source `onvif` (reel.db and `reel events`), through a
refused Renew and from a camera that never says "off"."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
import unittest

from harness import REEL, free_port, wait_until
from test_http import HttpTest, PASSWORD, USER

SIM = os.environ.get("REEL_ONVIF_SIM") or os.path.join(os.path.dirname(__file__), "..", "..", "sim", "onvif-sim.py")
DEV_PASSWORD = "onvif-S3cret-pw"


class OnvifTest(HttpTest):
    def start_onvif(self, name, *extra):
        ready_log = os.path.join(self.tmp, f"{name}.log")
        p = self.start(["python3", SIM, "--no-discovery", "--bind", "127.0.0.1", "--user", "admin", "--password",
                        DEV_PASSWORD, "--log", os.path.join(self.tmp, f"{name}.ops"), *extra], name)
        m = wait_until(lambda: re.search(r"READY port=(\d+)", p.output()), 15, what=f"{name} to listen")
        return p, int(m.group(1))

    def ops(self, name):
        path = os.path.join(self.tmp, f"{name}.ops")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def test_discovery_in_netns(self):
        # Two namespaces: the recorder's (its multicast route on lo, as a host whose default route is not the
        # camera network) and the cameras' (the simulator), joined by a veth pair. The Probe must go out on
        # every multicast interface to find the device; its 0.0.0.0 XAddr is rewritten to the sender.
        if os.geteuid() != 0 or not shutil.which("ip"):
            self.skipTest("needs root and iproute2 to make network namespaces (ip netns add)")
        rns, cns = f"reel-onvif-r{os.getpid()}", f"reel-onvif-c{os.getpid()}"
        r = subprocess.run(["ip", "netns", "add", rns], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest(f"cannot make a network namespace: {r.stderr.strip()}")
        try:
            subprocess.run(["ip", "netns", "add", cns], check=True)
            v0, v1 = f"ro{os.getpid() % 100000}", f"co{os.getpid() % 100000}"
            for cmd in (["ip", "-n", rns, "link", "set", "lo", "up"],
                        ["ip", "-n", rns, "link", "set", "lo", "multicast", "on"],
                        ["ip", "-n", rns, "route", "add", "224.0.0.0/4", "dev", "lo"],
                        ["ip", "-n", rns, "link", "add", v0, "type", "veth", "peer", "name", v1, "netns", cns],
                        ["ip", "-n", rns, "addr", "add", "10.77.0.1/24", "dev", v0],
                        ["ip", "-n", rns, "link", "set", v0, "up"],
                        ["ip", "-n", cns, "link", "set", "lo", "up"],
                        ["ip", "-n", cns, "addr", "add", "10.77.0.2/24", "dev", v1],
                        ["ip", "-n", cns, "link", "set", v1, "up"],
                        ["ip", "-n", cns, "route", "add", "224.0.0.0/4", "dev", v1]):
                subprocess.run(cmd, check=True)
            p = self.start(["ip", "netns", "exec", cns, "python3", SIM, "--name", "Front Door", "--hardware", "SIM-9",
                            "--mcast-if", "10.77.0.2", "--rtsp-main", "rtsp://10.77.0.2:8554/main"], "onvif-ns")
            m = wait_until(lambda: re.search(r"READY port=(\d+)", p.output()), 15, what="the simulator")
            port = int(m.group(1))
            time.sleep(0.5)   # the responder joins the group just after READY; the veth comes up
            devs = []
            for _ in range(3):   # a fresh veth may drop the first datagrams (DAD, carrier): ask again
                r = subprocess.run(["ip", "netns", "exec", rns, REEL, "onvif", "discover", "--timeout-ms", "1500"],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                devs = json.loads(r.stdout)["devices"]
                if devs:
                    break
            self.assertEqual(len(devs), 1, r.stdout + p.output())
            d = devs[0]
            # the simulator advertises http://0.0.0.0:PORT/...: rewritten to the sender's address
            self.assertEqual(d["xaddr"], f"http://10.77.0.2:{port}/onvif/device_service")
            self.assertEqual(d["address"], "10.77.0.2")
            self.assertEqual(d["name"], "Front Door")
            self.assertEqual(d["hardware"], "SIM-9")
            self.assertIn("onvif://www.onvif.org/location/sim", d["scopes"])
            # and the device answers across the namespaces: its profiles, with a UsernameToken
            pwf = os.path.join(self.tmp, "dev.pw")
            with open(pwf, "w") as f:
                f.write("secret\n")
            r = subprocess.run(["ip", "netns", "exec", rns, REEL, "onvif", "profiles", d["xaddr"], "--user", "admin",
                                "--password-file", pwf], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["suggest"]["main"], "rtsp://10.77.0.2:8554/main")
            # outside the namespaces nobody answers (and the timeout is kept)
            t0 = time.monotonic()
            r = subprocess.run([REEL, "onvif", "discover", "--timeout-ms", "300"], capture_output=True, text=True,
                               timeout=30)
            self.assertNotIn(f":{port}/onvif", r.stdout)
            self.assertLess(time.monotonic() - t0, 10)
            r = subprocess.run([REEL, "onvif", "discover", "--timeout-ms", "99999"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
        finally:
            subprocess.run(["ip", "netns", "del", rns])
            subprocess.run(["ip", "netns", "del", cns])

    def test_profiles_with_username_token(self):
        self.start_recording()
        _, dport = self.start_onvif("onvif", "--skew-s", "3600", "--rtsp-main",
                                    f"rtsp://127.0.0.1:{self.sim_port}/cam/0", "--rtsp-sub",
                                    f"rtsp://127.0.0.1:{self.sim_port}/cam/0?sub")
        xaddr = f"http://127.0.0.1:{dport}/onvif/device_service"
        # a slow device (3.4 s a reply, 5 calls): the whole profiles path stops at its 15 s deadline; runs meanwhile
        _, sport = self.start_onvif("onvif-slow", "--slow-ms", "3400", "--rtsp-sub", "rtsp://127.0.0.1:1/sub")
        slow_pw = os.path.join(self.tmp, "slow.pw")
        with open(slow_pw, "w") as f:
            f.write(DEV_PASSWORD + "\n")
        slow_t0 = time.monotonic()
        slow = subprocess.Popen([REEL, "onvif", "profiles", f"http://127.0.0.1:{sport}/onvif/device_service", "--user",
                                 "admin", "--password-file", slow_pw], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        sid, csrf = self.login()
        req = lambda p, b: self.request("POST", p, body=b, cookie=sid, csrf=csrf)
        r = req("/api/onvif/profiles", {"xaddr": xaddr, "user": "admin", "password": DEV_PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual([(p["token"], p["width"], p["height"], p["codec"]) for p in j["profiles"]],
                         [("main", 1920, 1080, "H264"), ("sub", 640, 360, "H264")])
        self.assertEqual(j["suggest"], {"main": f"rtsp://127.0.0.1:{self.sim_port}/cam/0",
                                        "sub": f"rtsp://127.0.0.1:{self.sim_port}/cam/0?sub"})
        self.assertEqual(j["profiles"][0]["fps"], 25)
        # every authenticated call passed the digest check despite the device's clock being an hour ahead
        ops = self.ops("onvif")
        self.assertTrue(ops and all(o["auth"] == "ok" for o in ops if o["op"] != "GetSystemDateAndTime"), ops)
        # a wrong password: a clear 403, from the API and the CLI
        r = req("/api/onvif/profiles", {"xaddr": xaddr, "user": "admin", "password": "wrong-password"})
        self.assert_json_error(r, 403)
        self.assertIn("not authorised", r.json()["error"])
        pwf = os.path.join(self.tmp, "dev.pw")
        with open(pwf, "w") as f:
            f.write("wrong-password\n")
        r = self.reel("onvif", "profiles", xaddr, "--user", "admin", "--password-file", pwf, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not authorised", r.stderr)
        with open(pwf, "w") as f:
            f.write(DEV_PASSWORD + "\n")
        r = self.reel("onvif", "profiles", xaddr, "--user", "admin", "--password-file", pwf)
        self.assertEqual(json.loads(r.stdout)["suggest"]["main"], f"rtsp://127.0.0.1:{self.sim_port}/cam/0")
        # hostile bodies
        closed = free_port()
        for bad, status in [({"xaddr": "file:///etc/passwd"}, 400), ({"xaddr": "gopher://127.0.0.1/"}, 400),
                            ({"xaddr": f"http://admin:{DEV_PASSWORD}@127.0.0.1:{dport}/"}, 400),
                            ({"xaddr": "http://127.0.0.1/" + "a" * 600}, 400), ({"xaddr": 5}, 400), ({}, 400),
                            ({"xaddr": xaddr, "user": "u" * 129}, 400), ({"xaddr": xaddr, "password": "p" * 129}, 400),
                            ({"xaddr": xaddr, "user": "a\nb"}, 400), ({"xaddr": "http:// 127.0.0.1/"}, 400),
                            ([1], 400), ("not json", 400),
                            ({"xaddr": f"http://127.0.0.1:{closed}/onvif/device_service"}, 422)]:
            self.assert_json_error(req("/api/onvif/profiles", bad), status)
        r = req("/api/onvif/profiles", {"xaddr": f"http://127.0.0.1:{closed}/onvif/device_service"})
        self.assertIn("cannot connect", r.json()["error"])   # said plainly, not hidden as an internal error
        self.assert_json_error(self.request("POST", "/api/onvif/profiles", cookie=sid, csrf=csrf,
                                            body='{"xaddr":"' + "x" * 20000 + '"}',
                                            headers={"Content-Type": "application/json"}), 413)
        for bad in [{"timeout_ms": 99}, {"timeout_ms": 5001}, {"timeout_ms": "1000"}, {"timeout_ms": 1.5}]:
            self.assert_json_error(req("/api/onvif/discover", bad), 400)
        r = req("/api/onvif/discover", {"timeout_ms": 200})
        self.assertEqual(r.status, 200, r.body)
        self.assertIsInstance(r.json()["devices"], list)
        # CSRF, no session, a viewer
        self.assert_json_error(self.request("POST", "/api/onvif/discover", body={}, cookie=sid), 403)
        self.assert_json_error(self.request("POST", "/api/onvif/profiles", body={"xaddr": xaddr}), 401)
        self.assertEqual(req("/api/users", {"name": "vic", "password": "vic-password-1"}).status, 201)
        vsid, vcsrf = self.login("vic", "vic-password-1")
        for p in ("/api/onvif/discover", "/api/onvif/profiles"):
            self.assert_json_error(self.request("POST", p, body={"xaddr": xaddr}, cookie=vsid, csrf=vcsrf), 403)
        out, errs = slow.communicate(timeout=60)
        self.assertEqual(slow.returncode, 1, out + errs)
        self.assertRegex(errs, r"no answer within \d+ ms|within 15000 ms")
        self.assertLess(time.monotonic() - slow_t0, 25)
        # the device password is nowhere: answers, the server's log, the audit log
        self.rec.stop()
        log = self.rec.output()
        self.assertIn("ONVIF profiles", log)
        for text in self.outputs + [log]:
            self.assertNotIn(DEV_PASSWORD, text)
        db = sqlite3.connect(os.path.join(self.data, "reel.db"))
        rows = db.execute("SELECT action, detail FROM audit WHERE action LIKE 'onvif.%'").fetchall()
        db.close()
        self.assertTrue(any(a == "onvif.profiles" for a, _ in rows), rows)
        self.assertFalse(any(DEV_PASSWORD in (d or "") for _, d in rows))

    def test_pullpoint_motion_events(self):
        # cam0: on at 2 s, off at 5 s; renew refused once (lifetime 9 s: renewed at ~6 s), which makes
        # Reel subscribe again; then on at 12 s, off at 14 s. cam1: on at 2 s and never off.
        _, sim_port = self.start_sim("h264", cameras=2)
        for i in range(2):
            self.reel("camera", "add", f"cam{i}", f"rtsp://127.0.0.1:{sim_port}/cam/{i}")
        _, p0 = self.start_onvif("onvif0", "--motion", "on@2,off@5,on@12,off@14", "--refuse-renew-once",
                                 "--term-s", "9")
        _, p1 = self.start_onvif("onvif1", "--motion", "on@2,off@4", "--never-off", "--topic", "cell",
                                 "--zero-hosts")   # its events address says 0.0.0.0: Reel uses 127.0.0.1
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=30)
        ids = dict(db.execute("SELECT name, id FROM camera").fetchall())
        for name, port, pw in (("cam0", p0, DEV_PASSWORD), ("cam1", p1, DEV_PASSWORD)):
            db.execute("INSERT INTO camera_events (camera_id, motion, onvif_xaddr, onvif_user, onvif_password) "
                       "VALUES (?, 'onvif', ?, 'admin', ?)",
                       (ids[name], f"http://127.0.0.1:{port}/onvif/device_service", pw))
        db.commit()
        db.close()
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--no-http", "--onvif-motion-max-s", "4"], "reel")

        def events():
            try:
                c = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=30)
                rows = c.execute("SELECT camera_id, kind, source, start90k, end90k FROM event WHERE source = 'onvif' "
                                 "ORDER BY id").fetchall()
                c.close()
            except sqlite3.OperationalError:
                return []   # the recorder is busy with the file (checkpoint): ask again
            return rows

        def done():
            ev = events()
            e0 = [e for e in ev if e[0] == ids["cam0"] and e[4]]
            e1 = [e for e in ev if e[0] == ids["cam1"] and e[4]]
            return (e0, e1) if len(e0) >= 2 and len(e1) >= 1 else None
        e0, e1 = wait_until(done, 45, step=0.5, what="the ONVIF motion events")
        for e in e0 + e1:
            self.assertEqual(e[1:3], ("motion", "onvif"))
        # durations of the camera's own on/off: 3 s and 2 s (pulls answer at once when a note is due)
        d0 = [(e[4] - e[3]) / 90000 for e in e0[:2]]
        self.assertTrue(1.5 <= d0[0] <= 6, d0)
        self.assertTrue(0.5 <= d0[1] <= 5, d0)
        self.assertGreaterEqual((e0[1][3] - e0[0][3]) / 90000, 5)
        ops = [o["op"] for o in self.ops("onvif0")]
        self.assertIn("renew-refused", ops)
        self.assertGreaterEqual(ops.count("CreatePullPointSubscription"), 2, ops)
        # cam1 never said off: ended by Reel 4 s after its "on" (give or take a pull)
        d1 = (e1[0][4] - e1[0][3]) / 90000
        self.assertTrue(3 <= d1 <= 12, d1)
        # the same events through `reel events` (ev-core's list, the API's JSON)
        r = self.reel("events", "--camera", "cam0", "--kind", "motion", "--json")
        listed = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        self.assertGreaterEqual(len(listed), 2, r.stdout)
        self.assertTrue(all(e["source"] == "onvif" and e["camera"] == "cam0" for e in listed), r.stdout)
        self.assertNotIn(DEV_PASSWORD, self.rec.output())
        self.assertIn("onvif: camera cam0: subscribed to events", self.rec.output())
        self.assertIn(f"onvif: camera cam1: subscribed to events at http://127.0.0.1:{p1}/onvif/subscription/",
                      self.rec.output())
        # events off for cam0: its worker stops (unsubscribes) within a poll
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=30)
        db.execute("UPDATE camera_events SET motion = 'off' WHERE camera_id = ?", (ids["cam0"],))
        db.commit()
        db.close()
        wait_until(lambda: "onvif: camera cam0: camera events off" in self.rec.output(), 20,
                   what="the worker to stop")
        wait_until(lambda: "Unsubscribe" in [o["op"] for o in self.ops("onvif0")], 10, what="an Unsubscribe")
        self.rec.stop()


if __name__ == "__main__":
    unittest.main()
