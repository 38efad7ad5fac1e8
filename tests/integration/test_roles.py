# SPDX-License-Identifier: GPL-3.0-or-later
"""Who may see what (issue 14, ac-roles), against a real `reel run` and
reel-sim.

The role matrix: every route of src/api/routes.c (read from the source, so
that a route added later is covered without editing this file) x every role
(admin, operator, viewer, auditor) x a camera the user may see and one they
may not. The expectation is keyed by the route's ACCESS LEVEL, never by its
path: a level without a decided expectation fails the test. Allowed: neither
401 nor 403, and on a {camera} route not the unknown camera's 404. Not
allowed by role: 403 naming the missing right. Camera not allowed (levels
LIVE, PLAYBACK, EXPORT, LOCK): 404 with exactly the body an unknown camera
gets.

TOTP (RFC 6238): enrolment, sign-in with a code computed here (hmac), a
wrong code, a replayed code, the login limiter counting wrong codes, and
totp.required_admin limiting an administrator without a second factor to
enrolment."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import sqlite3
import struct
import time

from harness import REEL, wait_until
from test_http import HttpTest, PASSWORD, USER

ROUTES_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "api", "routes.c")

# CONTRACTS13.md's table: the roles allowed at each access level.
ALL = {"admin", "operator", "viewer", "auditor"}
ALLOWED = {
    "PUBLIC": ALL,
    "USER": ALL,
    "LIVE": {"admin", "operator", "viewer"},
    "PLAYBACK": {"admin", "operator", "viewer"},
    "EXPORT": {"admin", "operator"},
    "LOCK": {"admin", "operator"},
    "AUDIT": {"admin", "auditor"},
    "ADMIN": {"admin"},
}
CAMERA_CHECKED = {"LIVE", "PLAYBACK", "EXPORT", "LOCK"}


def read_routes():
    """(method, pattern, level) for every line of the routing table."""
    text = open(ROUTES_C).read()
    table = text[text.index("reel_api_routes[]"):]
    table = table[:table.index("};")]
    routes = []
    for m in re.finditer(r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*([A-Za-z_]+)\s*,', table):
        level = m.group(3).replace("REEL_ACCESS_", "")
        routes.append((m.group(1), m.group(2), level))
    return routes


def totp(secret_b32, step):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{code:06d}"


class RolesTest(HttpTest):
    def add_user(self, name, role, cameras=None):
        pw = os.path.join(self.tmp, f"{name}.pw")
        with open(pw, "w") as f:
            f.write(f"{name}-password-1\n")
        args = ["user", "add", name, "--password-file", pw, "--role", role]
        if cameras:
            args += ["--cameras", cameras]
        self.reel(*args)
        return self.reel("token", "add", f"t{name}", "--user", name).stdout.strip()

    def call(self, token, method, path, body=None):
        """Status and body; a streaming answer (live.mp4) is cut after its
        headers."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": "127.0.0.1", "Authorization": f"Bearer {token}"}
        if body is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        if r.getheader("Content-Type", "").startswith("application/json"):
            data = r.read()
        else:
            data = b""
        c.close()
        return r.status, data

    def test_role_matrix(self):
        routes = read_routes()
        self.assertGreater(len(routes), 20, "the routing table was not read")
        undecided = sorted({lvl for _, _, lvl in routes if lvl not in ALLOWED})
        self.assertEqual(undecided, [], f"access levels without an expected answer: {undecided}")
        self.start_recording()
        # a second camera on the same simulator; the users see only cam0
        self.reel("camera", "add", "hidden", f"rtsp://127.0.0.1:{self.sim_port}/cam/0")
        tokens = {
            "admin": self.reel("token", "add", "tadmin", "--user", USER).stdout.strip(),
            "operator": self.add_user("opr", "operator", "cam0"),
            "viewer": self.add_user("vwr", "viewer", "cam0"),
            "auditor": self.add_user("aud", "auditor"),
        }
        self.add_user("scratch", "viewer")
        # the recorder picks the new camera up on its own; wait for footage of cam0
        wait_until(lambda: self.call(tokens["viewer"], "GET", "/api/cameras")[0] == 200, 15)
        seen = json.loads(self.call(tokens["viewer"], "GET", "/api/cameras")[1])["cameras"]
        self.assertEqual([c["name"] for c in seen], ["cam0"])
        self.assertEqual(json.loads(self.call(tokens["auditor"], "GET", "/api/cameras")[1])["cameras"], [])
        admin_names = [c["name"] for c in json.loads(self.call(tokens["admin"], "GET", "/api/cameras")[1])["cameras"]]
        self.assertEqual(sorted(admin_names), ["cam0", "hidden"])

        spare = [0]

        def fresh_camera():
            spare[0] += 1
            name = f"spare{spare[0]}"
            st, b = self.call(tokens["admin"], "POST", "/api/cameras",
                              json.dumps({"name": name, "url": f"rtsp://127.0.0.1:{self.sim_port}/cam/0",
                                          "enabled": False}))
            self.assertEqual(st, 201, b)
            return name

        def path_for(pattern, camera):
            p = pattern.replace("{camera}", camera)
            p = p.replace("{user}", "scratch")
            return re.sub(r"\{[a-z_]+\}", "x1", p)

        checked = 0
        failures = []
        # the admin last, its DELETE routes last of all (they remove things)
        order = ["auditor", "viewer", "operator", "admin"]
        for role in order:
            rs = sorted(routes, key=lambda r: (r[0] == "DELETE", -len(r[1]))) if role == "admin" else routes
            for method, pattern, level in rs:
                if pattern == "/api/login" or pattern == "/api/logout":
                    continue  # public sign-in; logout with a token is a no-op, checked below
                has_cam = "{camera}" in pattern
                cams = ["allowed", "denied"] if has_cam else [None]
                for which in cams:
                    if which == "allowed":
                        cam = fresh_camera() if (role == "admin" and level == "ADMIN") else "cam0"
                    elif which == "denied":
                        cam = "hidden"
                    else:
                        cam = ""
                    path = path_for(pattern, cam)
                    body = "{}" if method in ("POST", "PATCH") else None
                    st, data = self.call(tokens[role], method, path, body)
                    checked += 1
                    what = f"{role} {method} {path} ({level}, camera {which}): {st} {data[:200]!r}"
                    role_ok = role in ALLOWED[level]
                    cam_visible = role == "admin" or which != "denied"
                    if not role_ok:
                        if st != 403 or (level != "PUBLIC" and f"{level.lower()} right".encode() not in data):
                            failures.append("want 403 naming the right: " + what)
                    elif has_cam and level in CAMERA_CHECKED and not cam_visible:
                        # exactly the unknown camera's answer
                        st2, data2 = self.call(tokens[role], method, path_for(pattern, "nosuchcam"), body)
                        if st != 404 or data.replace(b"hidden", b"X") != data2.replace(b"nosuchcam", b"X"):
                            failures.append(f"want the unknown camera's 404 ({st2} {data2!r}): " + what)
                    else:
                        if st in (401, 403) or (st == 404 and has_cam and f"no camera '{cam}'".encode() in data):
                            failures.append("want allowed: " + what)
        self.assertEqual(failures, [], "\n".join(failures))
        print(f"role matrix: {len(routes)} routes, {checked} requests checked")
        self.assertEqual(self.call(tokens["viewer"], "POST", "/api/logout", "{}")[0], 200)

    def test_users_api_roles_and_cameras(self):
        self.start_recording()
        self.reel("camera", "add", "back", f"rtsp://127.0.0.1:{self.sim_port}/cam/0")
        sid, csrf = self.login()
        req = lambda m, p, b=None: self.request(m, p, body=b, cookie=sid, csrf=csrf)
        r = req("POST", "/api/users", {"name": "olga", "password": "olga-password", "role": "operator",
                                      "cameras": ["back"]})
        self.assertEqual(r.status, 201, r.body)
        users = {u["name"]: u for u in req("GET", "/api/users").json()["users"]}
        self.assertEqual(users["olga"]["cameras"], ["back"])
        self.assertEqual(users["olga"]["totp"], False)
        self.assertIsNone(users[USER]["cameras"])
        self.assertEqual(req("PATCH", "/api/users/olga", {"cameras": "all"}).status, 200)
        self.assertEqual({u["name"]: u for u in req("GET", "/api/users").json()["users"]}["olga"]["cameras"], "all")
        self.assertEqual(req("PATCH", "/api/users/olga", {"role": "viewer", "cameras": []}).status, 200)
        u = {u["name"]: u for u in req("GET", "/api/users").json()["users"]}["olga"]
        self.assertEqual((u["role"], u["cameras"]), ("viewer", []))
        # hostile: unknown camera, over-long list, wrong types, names with paths
        for bad in [{"cameras": ["nosuch"]}, {"cameras": ["x"] * 1025}, {"cameras": "most"}, {"cameras": 3},
                    {"cameras": ["../etc"]}, {"cameras": ["a" * 64]}, {"cameras": [1]}]:
            self.assert_json_error(req("PATCH", "/api/users/olga", bad), 400)
        # the CLI: set, list
        self.reel("user", "set", "olga", "--cameras", "cam0,back")
        self.assertIn("cameras=back,cam0", self.reel("user", "list").stdout)
        r = self.reel("user", "set", "olga", "--cameras", "nosuch", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no camera 'nosuch'", r.stderr)
        r = self.reel("user", "set", USER, "--role", "viewer", check=False)  # USER and "admin" are admins
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.reel("user", "set", "admin", "--role", "viewer", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("last admin", r.stderr)

    # ---- TOTP ----

    def wait_step_start(self):
        """Sleeps into the first 15 s of a 30 s step, so that a few codes
        computed from the local clock stay in the server's window."""
        if time.time() % 30 > 15:
            time.sleep(30.5 - time.time() % 30)
        return int(time.time() // 30)

    def test_totp_login(self):
        self.start_recording()
        sid, csrf = self.login()
        req = lambda m, p, b=None, s=sid, c=csrf: self.request(m, p, body=b, cookie=s, csrf=c)
        r = req("POST", "/api/session/totp")
        self.assertEqual(r.status, 200, r.body)
        secret, uri = r.json()["secret"], r.json()["uri"]
        self.assertRegex(secret, r"^[A-Z2-7]{32}$")
        self.assertTrue(uri.startswith(f"otpauth://totp/Reel:{USER}?secret={secret}&issuer=Reel"), uri)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        # not active before it is confirmed: a password alone still signs in
        self.login()
        s = self.wait_step_start()
        self.assert_json_error(req("POST", "/api/session/totp/confirm", {"code": "000000" if totp(secret, s) != "000000"
                                                                         else "111111"}), 403)
        for bad in [{}, {"code": 123456}, {"code": "1" * 40}, "nope"]:
            self.assert_json_error(req("POST", "/api/session/totp/confirm", bad), 400)
        r = self.request("POST", "/api/session/totp/confirm", body='{"code":"' + "1" * 20000 + '"}', cookie=sid,
                         csrf=csrf, headers={"Content-Type": "application/json"})
        self.assert_json_error(r, 413)
        # CSRF is required for a session
        self.assert_json_error(self.request("POST", "/api/session/totp", cookie=sid), 403)
        r = req("POST", "/api/session/totp/confirm", {"code": totp(secret, s - 1)})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(req("GET", "/api/session").json()["totp"], True)
        self.assert_json_error(req("POST", "/api/session/totp"), 409)
        # sign-in: no code, a wrong code -> 401 saying a code is needed
        r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD})
        self.assert_json_error(r, 401)
        self.assertIs(r.json()["totp_required"], True)
        wrong = "123456" if totp(secret, s) != "123456" else "654321"
        r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD, "totp": wrong})
        self.assert_json_error(r, 401)
        self.assertIs(r.json()["totp_required"], True)
        # the right code, computed here
        r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD, "totp": totp(secret, s)})
        self.assertEqual(r.status, 200, r.body)
        # the same code again: refused (no reuse within its window)
        r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD, "totp": totp(secret, s)})
        self.assert_json_error(r, 401)
        # the audit log has each refused code as a failed sign-in
        def code_failures():
            con = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=10)
            try:
                return con.execute("SELECT COUNT(*) FROM audit WHERE action = 'login.failed' AND user = ? "
                                   "AND detail LIKE '%TOTP code%'", (USER,)).fetchone()[0] >= 3
            finally:
                con.close()
        wait_until(code_failures, 10, what="login.failed audit rows for the refused TOTP codes")
        # a wrong password with a right code is still a wrong password
        r = self.request("POST", "/api/login", body={"username": USER, "password": "wrong-pw", "totp": totp(secret, s + 1)})
        self.assert_json_error(r, 401)
        self.assertNotIn("totp_required", r.json())
        # the limiter counts code failures like wrong passwords: the replay,
        # the wrong password and three wrong codes are 5 failures since the
        # last success, and then even the right code must wait
        for i in range(3):
            c = f"00000{i}" if f"00000{i}" not in (totp(secret, s), totp(secret, s + 1)) else "999999"
            r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD, "totp": c})
            self.assert_json_error(r, 401)
        r = self.request("POST", "/api/login", body={"username": USER, "password": PASSWORD, "totp": totp(secret, s + 1)})
        self.assertEqual(r.status, 429, r.body)
        self.assertIn("TOTP code", self.rec.output())
        # removing it needs a code (the account's limiter does not apply here)
        self.assert_json_error(req("DELETE", "/api/session/totp", {"code": wrong}), 403)
        r = req("DELETE", "/api/session/totp", {"code": totp(secret, s + 1)})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(req("GET", "/api/session").json()["totp"], False)
        # stored in web_user; the database file is the owner's only
        db = os.path.join(self.data, "reel.db")
        self.assertEqual(os.stat(db).st_mode & 0o077, 0, oct(os.stat(db).st_mode))

    def test_totp_required_for_admins(self):
        self.start_recording()
        con = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=10)
        con.execute("INSERT OR REPLACE INTO setting (key, value) VALUES ('totp.required_admin', '1')")
        con.commit()
        con.close()
        tok = self.add_user("vic", "viewer", "cam0")
        sid, csrf = self.login()
        req = lambda m, p, b=None: self.request(m, p, body=b, cookie=sid, csrf=csrf)
        self.assertIs(req("GET", "/api/session").json()["totp_enrol_required"], True)
        r = req("GET", "/api/cameras")
        self.assert_json_error(r, 403)
        self.assertIn("TOTP", r.json()["error"])
        self.assert_json_error(req("GET", "/api/users"), 403)
        # other roles are not concerned
        self.assertEqual(self.call(tok, "GET", "/api/cameras")[0], 200)
        r = req("POST", "/api/session/totp")
        self.assertEqual(r.status, 200, r.body)
        secret = r.json()["secret"]
        s = self.wait_step_start()
        self.assertEqual(req("POST", "/api/session/totp/confirm", {"code": totp(secret, s)}).status, 200)
        self.assertEqual(req("GET", "/api/cameras").status, 200)
        self.assertIs(req("GET", "/api/session").json()["totp_enrol_required"], False)
        # an admin resets a lost phone (another admin: `reel init` made "admin")
        self.reel("user", "totp-reset", USER)
        self.assertIn("totp=off", self.reel("user", "list").stdout)
        self.assert_json_error(req("GET", "/api/cameras"), 403)
