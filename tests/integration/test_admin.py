# SPDX-License-Identifier: GPL-3.0-or-later
"""The admin routes of the web page's Cameras, Storage and Users tabs
(docs/api.md): users added, reset, re-roled, signed out and removed through
the real server (the last administrator kept; every bad input refused; a
viewer gets 403), and the storage directories with their file system's
size, Reel's use, cameras and forecast while reel-sim records."""
import base64
import os
import shutil
import threading
import time

from harness import GST_SERVER, SYS_PYTHON, clip, free_port, wait_file, wait_until
from test_http import HttpTest, PASSWORD, USER


class AdminTest(HttpTest):
    def test_users_api(self):
        self.start_recording()
        sid, csrf = self.login()
        req = lambda m, p, b=None: self.request(m, p, body=b, cookie=sid, csrf=csrf)
        r = req("GET", "/api/users")
        self.assertEqual(r.status, 200, r.body)
        # `reel init` made "admin": two admins, so one may go
        self.assertEqual(sorted((u["name"], u["role"]) for u in r.json()["users"]),
                         sorted([("admin", "admin"), (USER, "admin")]))
        self.assertEqual(req("DELETE", "/api/users/admin").status, 200)
        r = req("GET", "/api/users")
        self.assertEqual([(u["name"], u["role"]) for u in r.json()["users"]], [(USER, "admin")])
        self.assertEqual(r.json()["users"][0]["sessions"], 1)
        # add: viewer by default, every bad input refused
        r = req("POST", "/api/users", {"name": "ann", "password": "ann-password-1"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["role"], "viewer")
        for bad in [{"name": "ann", "password": "ann-password-1"},                     # 409 duplicate
                    {"name": "bob", "password": "short"},
                    {"name": "bob", "password": "x" * 1025},
                    {"name": "bob/../x", "password": "long-enough-pw"},
                    {"name": "b" * 64, "password": "long-enough-pw"},
                    {"name": "bob\nINFO forged", "password": "long-enough-pw"},
                    {"name": "bob", "password": "long-enough-pw", "role": "root"},
                    {"name": "bob", "password": "long-enough-pw", "extra": 1},
                    {"name": "bob", "password": 12345678},
                    {"name": "bob"},
                    [1, 2], "not json", {"name": "bob", "name ": 1, "password": "long-enough-pw"}]:
            r = req("POST", "/api/users", bad)
            self.assert_json_error(r, 409 if bad == {"name": "ann", "password": "ann-password-1"} else 400)
        r = self.request("POST", "/api/users", body='{"name":"bob","name":"eve","password":"long-enough-pw"}',
                         cookie=sid, csrf=csrf, headers={"Content-Type": "application/json"})
        self.assert_json_error(r, 400)
        r = self.request("POST", "/api/users", body='{"name":"bob","password":"' + "p" * 20000 + '"}',
                         cookie=sid, csrf=csrf, headers={"Content-Type": "application/json"})
        self.assert_json_error(r, 413)
        # CSRF is required for a session
        self.assert_json_error(self.request("POST", "/api/users", body={"name": "eve", "password": "long-enough-pw"},
                                            cookie=sid), 403)
        names = [u["name"] for u in req("GET", "/api/users").json()["users"]]
        self.assertEqual(sorted(names), sorted([USER, "ann"]))
        # a viewer may not manage users
        asid, acsrf = self.login("ann", "ann-password-1")
        for m, p, b in [("GET", "/api/users", None), ("POST", "/api/users", {"name": "x1", "password": "pppppppp1"}),
                        ("PATCH", f"/api/users/{USER}", {"role": "viewer"}), ("DELETE", f"/api/users/{USER}", None),
                        ("DELETE", f"/api/users/{USER}/sessions", None), ("GET", "/api/storage", None)]:
            self.assert_json_error(self.request(m, p, body=b, cookie=asid, csrf=acsrf), 403)
        # the last admin can be neither demoted nor removed
        self.assert_json_error(req("PATCH", f"/api/users/{USER}", {"role": "viewer"}), 409)
        self.assert_json_error(req("DELETE", f"/api/users/{USER}"), 409)
        # patch: bad inputs
        for bad in [{}, {"name": "z"}, {"role": "god"}, {"password": "short"}, {"password": None, "role": None}]:
            self.assert_json_error(req("PATCH", "/api/users/ann", bad), 400)
        self.assert_json_error(req("PATCH", "/api/users/nobody", {"role": "viewer"}), 404)
        # end ann's sessions: her session is gone
        r = req("DELETE", "/api/users/ann/sessions")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["ended"], 1)
        self.assert_json_error(self.request("GET", "/api/cameras", cookie=asid), 401)
        # reset her password: the old one fails, the new one works
        self.assertEqual(req("PATCH", "/api/users/ann", {"password": "new-ann-password"}).status, 200)
        self.assertEqual(self.request("POST", "/api/login", body={"username": "ann", "password": "ann-password-1"})
                         .status, 401)
        self.login("ann", "new-ann-password")
        # promote: now two admins, so the first may be demoted, then ann is the last one
        self.assertEqual(req("PATCH", "/api/users/ann", {"role": "admin"}).status, 200)
        self.assertEqual(req("PATCH", f"/api/users/{USER}", {"role": "operator"}).status, 200)
        asid, acsrf = self.login("ann", "new-ann-password")
        self.assert_json_error(self.request("DELETE", "/api/users/ann", cookie=asid, csrf=acsrf), 409)
        self.assertEqual(self.request("DELETE", f"/api/users/{USER}", cookie=asid, csrf=acsrf).status, 200)
        self.assert_json_error(self.request("DELETE", f"/api/users/{USER}", cookie=asid, csrf=acsrf), 404)
        users = self.request("GET", "/api/users", cookie=asid).json()["users"]
        self.assertEqual([(u["name"], u["role"]) for u in users], [("ann", "admin")])
        log = self.rec.output()
        for secret in ("ann-password-1", "new-ann-password"):
            self.assertNotIn(secret, log)
            for o in self.outputs:
                self.assertNotIn(secret, o)
        self.assertNotIn("\nINFO forged", log)

    def test_storage_api(self):
        self.start_recording()
        sid, csrf = self.login()
        r = self.request("GET", "/api/storage", cookie=sid)
        self.assertEqual(r.status, 200, r.body)
        dirs = r.json()
        self.assertEqual(len(dirs), 1)
        d = dirs[0]
        st = shutil.disk_usage(d["path"])
        self.assertEqual(d["path"], os.path.join(os.path.realpath(self.data), "storage"))
        self.assertEqual(d["size_bytes"], st.total)
        self.assertLess(abs(d["free_bytes"] - st.free) / st.total, 0.05)
        self.assertEqual(d["cameras"], ["cam0"])
        self.assertEqual(d["state"], "ok")
        self.assertIn("write_errors", d)
        # recording: Reel's use grows; with a bitrate measured the forecast appears
        wait_until(lambda: self.request("GET", "/api/storage", cookie=sid).json()[0]["used_bytes"] > 0, 20,
                   step=0.5, what="Reel's use above 0")
        # retention of 1 day: the forecast is at most 1 day
        r = self.request("PATCH", "/api/cameras/cam0", body={"retain_seconds": 86400}, cookie=sid, csrf=csrf)
        self.assertIn(r.status, (200, 202), r.body)
        d = wait_until(lambda: (lambda x: x if x["forecast_days"] is not None else None)(
            self.request("GET", "/api/storage", cookie=sid).json()[0]), 20, step=0.5, what="a forecast")
        self.assertGreater(d["forecast_days"], 0)
        self.assertLessEqual(d["forecast_days"], 1.0)
        self.assertGreater(d["streams"][0]["bitrate_bps"], 0)
        # retention by size: 1 MB at the sim's bitrate keeps well under a day
        r = self.request("PATCH", "/api/cameras/cam0", body={"retain_bytes": 1000000, "retain_seconds": 0},
                         cookie=sid, csrf=csrf)
        self.assertIn(r.status, (200, 202), r.body)
        d = self.request("GET", "/api/storage", cookie=sid).json()[0]
        rate = d["streams"][0]["bitrate_bps"] / 8
        self.assertAlmostEqual(d["forecast_days"], round(1000000 / rate / 86400, 1), delta=0.11)
        # a directory whose disk went away: unusable with a reason, the others still answer
        os.rename(d["path"], d["path"] + ".gone")
        try:
            d = self.request("GET", "/api/storage", cookie=sid).json()[0]
            self.assertEqual(d["state"], "unusable")
            self.assertTrue(d["reason"])
        finally:
            os.rename(d["path"] + ".gone", d["path"])

    def test_camera_test_route(self):
        """POST /api/cameras/test against reel-sim: a good H.264 and an H.265
        camera answer codec, size, fps, bitrate and a JPEG snapshot; a wrong
        password, a refused login, a closed port, a silent server and a
        redirect elsewhere each answer their reason within the deadline;
        bad bodies 400; a second test while one runs 503."""
        self.start_recording()          # cam0 on self.sim_port (H.264), the recorder running
        sid, csrf = self.login()
        t = lambda b: self.request("POST", "/api/cameras/test", body=b, cookie=sid, csrf=csrf)
        url = f"rtsp://127.0.0.1:{self.sim_port}/cam/0"
        t0 = time.time()
        r = t({"url": url})
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertTrue(j["ok"], j)
        self.assertEqual(j["codec"], "h264")
        self.assertTrue(j["codec_string"].startswith("avc1."))
        self.assertGreater(j["width"], 0)
        self.assertGreater(j["height"], 0)
        self.assertAlmostEqual(j["fps"], 30, delta=3)
        self.assertGreater(j["bitrate_bps"], 10000)
        self.assertIsNone(j["audio"])
        self.assertTrue(j["snapshot"].startswith("data:image/jpeg;base64,"), j["snapshot"][:40])
        self.assertEqual(base64.b64decode(j["snapshot"].split(",", 1)[1])[:3], b"\xff\xd8\xff")
        self.assertLess(time.time() - t0, 10)
        # an existing camera by name; the recorder keeps recording it meanwhile
        r = t({"camera": "cam0"})
        self.assertTrue(r.json()["ok"], r.body)
        # H.265
        _, p265 = self.start_sim("h265", name="sim265")
        j = t({"url": f"rtsp://127.0.0.1:{p265}/cam/0", "udp": True}).json()
        self.assertTrue(j["ok"], j)
        self.assertEqual(j["codec"], "h265")
        self.assertTrue(j["snapshot"].startswith("data:image/jpeg;base64,"))
        # credentials: right, wrong, refused
        _, pauth = self.start_sim("h264", extra=["--user", "admin", "--password", "cam-pw-123", "--auth", "digest"],
                                  name="simauth")
        aurl = f"rtsp://127.0.0.1:{pauth}/cam/0"
        self.assertTrue(t({"url": aurl, "user": "admin", "password": "cam-pw-123"}).json()["ok"])
        j = t({"url": aurl, "user": "admin", "password": "wrong-pw"}).json()
        self.assertEqual((j["ok"], j["reason"]), (False, "auth"), j)
        _, pref = self.start_sim("h264", extra=["--fault", "refuse-auth", "--user", "a", "--password", "b",
                                                "--auth", "digest"], name="simrefuse")
        j = t({"url": f"rtsp://127.0.0.1:{pref}/cam/0", "user": "a", "password": "b"}).json()
        self.assertEqual((j["ok"], j["reason"]), (False, "auth"), j)
        # a closed port
        j = t({"url": f"rtsp://127.0.0.1:{free_port()}/cam/0"}).json()
        self.assertEqual((j["ok"], j["reason"]), (False, "refused"), j)
        # a redirect to another host
        _, pred = self.start_sim("h264", extra=["--fault", "redirect=rtsp://192.0.2.1:554/x"], name="simred")
        j = t({"url": f"rtsp://127.0.0.1:{pred}/cam/0"}).json()
        self.assertEqual((j["ok"], j["reason"]), (False, "redirect"), j)
        # a silent server: timeout within the deadline; meanwhile a second test is 503
        _, psil = self.start_sim("h264", extra=["--fault", "silent"], name="simsilent")
        res = {}
        th = threading.Thread(target=lambda: res.update(r=t({"url": f"rtsp://127.0.0.1:{psil}/cam/0"})))
        t0 = time.time()
        th.start()
        time.sleep(1.0)
        busy = t({"url": url})
        th.join()
        self.assertEqual(busy.status, 503, busy.body)
        self.assertTrue(busy.header("Retry-After"))
        j = res["r"].json()
        self.assertEqual((j["ok"], j["reason"]), (False, "timeout"), j)
        self.assertLess(time.time() - t0, 14)
        # bad bodies
        for bad in [{}, {"url": "http://x/"}, {"url": "rtsp://u:p@127.0.0.1/x"}, {"url": "rtsp://127.0.0.1/x\n"},
                    {"url": url, "password": "x" * 300}, {"url": url, "udp": "yes"}, {"camera": "../x"},
                    {"camera": "cam0", "url": url}, {"url": url, "bogus": 1}, "nope", [url]]:
            self.assert_json_error(t(bad), 400)
        self.assert_json_error(t({"camera": "nosuch"}), 404)
        self.assert_json_error(self.request("POST", "/api/cameras/test", body={"url": url}, cookie=sid), 403)
        log = self.rec.output()
        self.assertNotIn("cam-pw-123", log)
        self.assertNotIn("wrong-pw", log)
        # the recorder's own camera kept recording throughout
        st = self.request("GET", "/api/cameras", cookie=sid).json()
        cams = st["cameras"] if isinstance(st, dict) else st
        self.assertEqual([c["state"] for c in cams if c["name"] == "cam0"], ["recording"])

    def test_camera_test_reports_audio(self):
        """A camera that sends AAC next to H.264 (GStreamer's RTSP server):
        the test reports the audio codec (reel-sim, without audio, reports null
        in test_camera_test_route)."""
        self.start_recording()
        sid, csrf = self.login()
        port = free_port()
        ready = os.path.join(self.tmp, "gst.ready")
        self.start([SYS_PYTHON, GST_SERVER, "--port", str(port), "--clip", clip("h264", "mp4"), "--codec", "h264",
                    "--mount", "/cam", "--ready-file", ready, "--audio", "aac"], "gst")
        wait_file(ready, 30)
        r = self.request("POST", "/api/cameras/test", body={"url": f"rtsp://127.0.0.1:{port}/cam"}, cookie=sid,
                         csrf=csrf)
        j = r.json()
        self.assertTrue(j["ok"], j)
        self.assertEqual(j["audio"], "aac")
        self.assertEqual(j["codec"], "h264")
