# SPDX-License-Identifier: GPL-3.0-or-later
"""The admin routes of the web page's Cameras, Storage and Users tabs
(docs/api.md): users added, reset, re-roled, signed out and removed through
the real server (the last administrator kept; every bad input refused; a
viewer gets 403), and the storage directories with their file system's
size, Reel's use, cameras and forecast while reel-sim records."""
import os
import shutil

from harness import wait_until
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
