# SPDX-License-Identifier: GPL-3.0-or-later
"""Who saw what (issue 14): the audit log's hash chain against tampering
with reel.db directly (sqlite3): an edited, a removed, a reordered entry
and a cut tail each named by `reel audit verify` in one line with exit 1,
and a wholesale rewrite (every hash recomputed here, in Python, from the
documented encoding) caught by a head written down earlier; then through a
real `reel run` + reel-sim: sign-ins (also failed, never the password),
sign-outs, live views (start, end), playback merged into one row per
viewing session, camera and settings changes with old and new values,
the reason policy (X-Reel-Reason / ?reason=), retention's summary, the
auditor API (list, paging, CSV, head, verify), the disclosure log, and
every new route's role check and hostile inputs."""
import hashlib
import json
import os
import re
import socket
import sqlite3
import struct
import time

from harness import wait_until
from test_http import HttpTest, PASSWORD, USER


def entry_hash(row):
    """docs/accountability.md: BLAKE2b-256 over a tag, id and time as 8
    big-endian bytes, each text as a 4-byte big-endian length and its bytes,
    then the previous hash."""
    rid, ts, user, via, addr, action, camera, detail, prev = row
    h = hashlib.blake2b(digest_size=32)
    h.update(b"reel-audit-1\0")
    h.update(struct.pack(">qq", rid, ts))
    for t in (user, via, addr, action, camera, detail):
        b = t.encode()
        h.update(struct.pack(">I", len(b)) + b)
    h.update(prev)
    return h.digest()


class AuditTest(HttpTest):
    def db(self):
        return sqlite3.connect(os.path.join(self.data, "reel.db"), isolation_level=None)

    def verify(self, *args):
        r = self.reel("audit", "verify", *args, check=False)
        lines = r.stderr.strip().splitlines()
        return r.returncode, (lines[0] if r.returncode else r.stdout.strip()), len(lines)

    def assert_bad(self, want, *args):
        rc, line, n = self.verify(*args)
        self.assertEqual(rc, 1, line)
        self.assertEqual(n, 1, "one clear line")
        self.assertRegex(line, want)

    def test_chain_tampering_detected(self):
        # changes made with the CLI: each one row by "cli:<unix user>"
        pw = os.path.join(self.tmp, "ann.pw")
        with open(pw, "w") as f:
            f.write("ann-password-1\n")
        self.reel("user", "add", "ann", "--password-file", pw, "--role", "viewer")
        self.reel("token", "add", "t1", "--user", "ann")
        for i in range(3):
            self.reel("camera", "add", f"c{i}", f"rtsp://127.0.0.1:9/cam/{i}")
        self.reel("camera", "disable", "c1")
        self.reel("camera", "remove", "c2")
        rows = self.db().execute("SELECT id, user, via, action FROM audit ORDER BY id").fetchall()
        self.assertEqual([r[3] for r in rows], ["user.add", "user.add", "token.add", "camera.add", "camera.add",
                                                "camera.add", "camera.disable", "camera.delete"])
        self.assertTrue(all(r[1].startswith("cli:") and r[2] == "cli" for r in rows), rows)
        self.assertNotIn("ann-password-1", json.dumps(self.db().execute("SELECT * FROM audit").fetchall(),
                                                      default=str))
        rc, line, _ = self.verify()
        self.assertEqual(rc, 0, line)
        self.assertIn("8 entries, chain intact", line)
        head = self.reel("audit", "head").stdout.strip()
        self.assertRegex(head, r"^8:[0-9a-f]{64}$")
        db = self.db()
        # the hashes are what the documented encoding gives
        full = db.execute("SELECT id, ts_ns, user, via, addr, action, camera, detail, prev, hash FROM audit "
                          "ORDER BY id").fetchall()
        prev = bytes(32)
        for r in full:
            self.assertEqual(r[8], prev)
            self.assertEqual(entry_hash(r[:9]), r[9])
            prev = r[9]

        # an edited entry
        db.execute("UPDATE audit SET detail = '{\"name\":\"mallory\",\"role\":\"admin\"}' WHERE id = 2")
        self.assert_bad(r"^reel: audit log NOT intact: entry 2 was changed")
        db.execute("UPDATE audit SET detail = ? WHERE id = 2", (full[1][7],))
        self.assertEqual(self.verify()[0], 0)
        # a removed one
        db.execute("DELETE FROM audit WHERE id = 5")
        self.assert_bad(r"entry 5 was removed")
        db.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)", full[4])
        self.assertEqual(self.verify()[0], 0)
        # two swapped
        db.execute("UPDATE audit SET id = -4 WHERE id = 4")
        db.execute("UPDATE audit SET id = 4 WHERE id = 6")
        db.execute("UPDATE audit SET id = 6 WHERE id = -4")
        self.assert_bad(r"entry 4 is out of order: it was written as entry 6")
        db.execute("UPDATE audit SET id = -4 WHERE id = 4")
        db.execute("UPDATE audit SET id = 4 WHERE id = 6")
        db.execute("UPDATE audit SET id = 6 WHERE id = -4")
        self.assertEqual(self.verify("--head", head)[0], 0)
        # the tail cut: SQLite's sequence remembers; a careful cut is caught by the head
        db.execute("DELETE FROM audit WHERE id > 6")
        self.assert_bad(r"truncated: entries 7 to 8 were removed")
        db.execute("UPDATE sqlite_sequence SET seq = 6 WHERE name = 'audit'")
        self.assertEqual(self.verify()[0], 0)
        self.assert_bad(r"truncated: entry 8 of the head written down is gone", "--head", head)
        for r in full[6:]:
            db.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?)", r)
        self.assertEqual(self.verify("--head", head)[0], 0)
        # a wholesale rewrite: entry 3 changed and every hash from there recomputed
        rows = [list(r) for r in full]
        rows[2][7] = '{"name":"t1","user":"someone-else","days":90}'
        prev = rows[1][9]
        for r in rows[2:]:
            r[8] = prev
            r[9] = entry_hash(r[:9])
            prev = r[9]
            db.execute("UPDATE audit SET detail = ?, prev = ?, hash = ? WHERE id = ?", (r[7], r[8], r[9], r[0]))
        rc, line, _ = self.verify()
        self.assertEqual(rc, 0, "a rewritten chain is consistent in itself: " + line)
        self.assert_bad(r"entry 8 does not match the head written down: the log was rewritten", "--head", head)
        # a malformed head is a usage error
        self.assertEqual(self.reel("audit", "verify", "--head", "8:zz", check=False).returncode, 2)
        # list and CSV
        out = self.reel("audit", "list", "--action", "camera.").stdout
        self.assertEqual(len(out.strip().splitlines()), 5, out)
        csv = self.reel("audit", "list", "--csv", "--user", rows[0][2]).stdout
        self.assertTrue(csv.startswith("id,time,user,via,address,action,camera,detail,hash\n"), csv)  # text mode: CRLF read as LF
        self.assertEqual(len(csv.splitlines()), 1 + 8)

    # ---- through the server ----

    def call(self, method, path, sid=None, csrf=None, body=None, headers=None):
        return self.request(method, path, headers=headers, body=body, cookie=sid, csrf=csrf)

    def entries(self, sid, query=""):
        r = self.call("GET", "/api/audit" + query, sid)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["entries"]

    def add_role_user(self, name, role, cameras=None):
        pw = os.path.join(self.tmp, f"{name}.pw")
        with open(pw, "w") as f:
            f.write(f"{name}-password-1\n")
        args = ["user", "add", name, "--password-file", pw, "--role", role]
        if cameras:
            args += ["--cameras", cameras]
        self.reel(*args)
        return self.login(name, f"{name}-password-1")

    def view(self, sid, start, end, headers=None):
        return self.call("GET", f"/api/cameras/cam0/view.mp4?start={start:.3f}&end={end:.3f}", sid, headers=headers)

    def test_events_reasons_and_auditor_api(self):
        self.start_recording()
        sid, csrf = self.login()
        vsid, vcsrf = self.add_role_user("vwr", "viewer", "cam0")
        asid, acsrf = self.add_role_user("aud", "auditor")
        osid, ocsrf = self.add_role_user("opr", "operator", "cam0")
        self.assertEqual(self.call("POST", "/api/login", body={"username": USER, "password": "wrong-Secret-77"})
                         .status, 401)
        # footage: a few seconds
        wait_until(lambda: self.call("GET", "/api/cameras/cam0/spans", sid).status == 200 and
                   self.call("GET", "/api/cameras/cam0/spans", sid).json().get("spans"), 30, step=0.5,
                   what="footage")
        time.sleep(4)
        now = time.time()
        # playback: several requests of adjacent ranges -> one session
        ok = 0
        for k in range(3):
            r = self.view(sid, now - 4 + k, now - 3 + k)
            if r.status == 200:
                ok += 1
        self.assertGreater(ok, 0)

        # settings: defaults, validation, each change audited with old and new
        r = self.call("GET", "/api/settings", sid)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["settings"], {"export.reason": "required", "live.reason": "optional",
                                                "playback.reason": "optional", "totp.required_admin": False,
                                                "retention.max_days": 0, "storage.full_percent": 95})
        for bad in [{}, {"nope": 1}, {"live.reason": "sometimes"}, {"retention.max_days": -1},
                    {"retention.max_days": 99999}, {"totp.required_admin": 2}, [1], "x",
                    {"live.reason": "required", "k" * 300: 1}]:
            self.assert_json_error(self.call("PATCH", "/api/settings", sid, csrf, bad), 400)
        self.assert_json_error(self.call("PATCH", "/api/settings", sid, csrf, body="{" + " " * 20000 + "}",
                                         headers={"Content-Type": "application/json"}), 413)
        for who in ((vsid, vcsrf), (asid, acsrf), (osid, ocsrf)):
            self.assert_json_error(self.call("PATCH", "/api/settings", who[0], who[1], {"live.reason": "optional"}),
                                   403)
            self.assert_json_error(self.call("GET", "/api/settings", who[0]), 403)
        r = self.call("PATCH", "/api/settings", sid, csrf, {"live.reason": "required", "playback.reason": "required",
                                                             "retention.max_days": 30})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["settings"]["retention.max_days"], 30)
        s = self.call("GET", "/api/session", sid).json()
        self.assertEqual((s["export_reason_required"], s["live_reason_required"], s["playback_reason_required"]),
                         (True, True, True))
        changes = self.entries(sid, "?action=settings.change")
        self.assertEqual(sorted((e["detail"]["key"], e["detail"]["old"], e["detail"]["new"]) for e in changes),
                         [("live.reason", "optional", "required"), ("playback.reason", "optional", "required"),
                          ("retention.max_days", 0, 30)])

        # a reason is required now: the viewer's first request without one is refused
        now = time.time()
        r = self.view(vsid, now - 4, now - 3)
        self.assert_json_error(r, 400)
        self.assertEqual(r.json()["error"], "a reason is required")
        self.assert_json_error(self.view(vsid, now - 4, now - 3, {"X-Reel-Reason": "x" * 600}), 400)
        self.assert_json_error(self.view(vsid, now - 4, now - 3, {"X-Reel-Reason": "bad\x01"}), 400)
        self.assertEqual(self.view(vsid, now - 4, now - 3, {"X-Reel-Reason": "incident 42"}).status, 200)
        self.assertEqual(self.view(vsid, now - 3, now - 2).status, 200)   # the same session: remembered
        # live: the reason in the query; a view opened and closed
        s_, head, _ = self.open_live(vsid, "")
        self.assertIn(" 400 ", head.split("\r\n")[0])
        s_.close()
        s_, head, _ = self.open_live(vsid, "?reason=" + "patrol%20check")
        self.assertIn(" 200 ", head.split("\r\n")[0])
        time.sleep(1.5)
        s_.close()
        wait_until(lambda: self.entries(sid, "?action=live.end&user=vwr"), 15, step=0.3, what="live.end")
        start = self.entries(sid, "?action=live.start&user=vwr")[0]
        end = self.entries(sid, "?action=live.end&user=vwr")[0]
        self.assertEqual((start["camera"], start["detail"]["reason"]), ("cam0", "patrol check"))
        self.assertGreater(end["detail"]["seconds"], 1.0)
        self.assertGreater(end["detail"]["bytes"], 0)

        # a camera change: old and new
        r = self.call("PATCH", "/api/cameras/cam0", sid, csrf, {"retain_seconds": 7 * 86400})
        self.assertIn(r.status, (200, 202), r.body)
        e = self.entries(sid, "?action=camera.change")[0]
        self.assertEqual((e["camera"], e["detail"]["old"]["retain_seconds"], e["detail"]["new"]["retain_seconds"]),
                         ("cam0", 0, 7 * 86400))
        self.assertEqual(e["user"], USER)
        self.assertEqual(e["via"], "session")
        self.assertEqual(e["address"], "127.0.0.1")

        # sign-ins: the failed one with its address, no password anywhere
        failed = self.entries(sid, "?action=login.failed")
        self.assertEqual([(e["user"], e["address"]) for e in failed], [(USER, "127.0.0.1")])
        logins = self.entries(sid, "?action=login")
        self.assertGreaterEqual(len(logins), 4)
        dump = self.db().execute("SELECT group_concat(detail || user || action, ' ') FROM audit").fetchone()[0]
        for secret in (PASSWORD, "wrong-Secret-77", "vwr-password-1"):
            self.assertNotIn(secret, dump)

        # the auditor's API: roles, filters, paging, hostile parameters
        for path in ("/api/audit", "/api/audit.csv", "/api/audit/head", "/api/audit/verify", "/api/disclosures"):
            for who in (vsid, osid):
                self.assert_json_error(self.call("GET", path, who), 403)
            self.assertEqual(self.call("GET", path, asid).status, 200, path)
        self.assert_json_error(self.call("GET", "/api/audit"), 401)
        page = self.call("GET", "/api/audit?limit=2", asid).json()
        self.assertEqual(len(page["entries"]), 2)
        self.assertTrue(page["more"])
        nxt = self.call("GET", f"/api/audit?limit=2&before={page['next_before']}", asid).json()
        self.assertLess(nxt["entries"][0]["id"], page["entries"][1]["id"] + 1)
        for bad in ("limit=0", "limit=1001", "limit=x", "before=-1", "start=yesterdayish", "end=%ZZ",
                    "user=" + "u" * 200, "action=" + "a" * 100, "camera=" + "c" * 100):
            self.assert_json_error(self.call("GET", "/api/audit?" + bad, asid), 400)
        self.assertEqual(self.entries(asid, "?user=nobody"), [])
        self.assertEqual(self.entries(asid, "?start=2000-01-01T00:00:00Z&end=2000-01-02T00:00:00Z"), [])
        r = self.call("GET", "/api/audit.csv?action=login", asid)
        self.assertEqual(r.header("Content-Type"), "text/csv; charset=utf-8")
        self.assertIn("attachment", r.header("Content-Disposition"))
        lines = r.body.decode().split("\r\n")
        self.assertEqual(lines[0], "id,time,user,via,address,action,camera,detail,hash")
        self.assertEqual(len([x for x in lines[1:] if x]), len(self.entries(asid, "?action=login")))
        head = self.call("GET", "/api/audit/head", asid).json()
        self.assertRegex(head["head"], r"^\d+:[0-9a-f]{64}$")
        v = self.call("GET", "/api/audit/verify?head=" + head["head"], asid).json()
        self.assertTrue(v["ok"], v)
        self.assert_json_error(self.call("GET", "/api/audit/verify?head=1:abc", asid), 400)

        # disclosures: operators record, auditors read
        good = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "recipient": "Police, case 2026/114",
                "reason": "request under section 35", "export_id": "0123456789abcdef",
                "export_hash": "ab" * 32}
        for bad in [dict(good, date="2026-02-30"), dict(good, date="2999-01-01"), dict(good, date="yesterday"),
                    dict(good, recipient=""), dict(good, recipient="r" * 201), dict(good, reason="x\ny"),
                    dict(good, export_id="xyz"), dict(good, export_hash="00"), dict(good, extra=1),
                    {k: v for k, v in good.items() if not k.startswith("export")}, [good], "no"]:
            self.assert_json_error(self.call("POST", "/api/disclosures", osid, ocsrf, bad), 400)
        for who in ((vsid, vcsrf), (asid, acsrf)):
            self.assert_json_error(self.call("POST", "/api/disclosures", who[0], who[1], good), 403)
        self.assert_json_error(self.call("POST", "/api/disclosures", osid, None, good), 403)   # CSRF
        r = self.call("POST", "/api/disclosures", osid, ocsrf, good)
        self.assertEqual(r.status, 201, r.body)
        d = self.call("GET", "/api/disclosures", asid).json()["disclosures"]
        self.assertEqual([(x["user"], x["recipient"], x["export_hash"]) for x in d],
                         [("opr", good["recipient"], good["export_hash"])])
        a = self.entries(asid, "?action=disclosure.add")[0]
        self.assertEqual((a["id"], a["detail"]["recipient"]), (d[0]["audit_id"], good["recipient"]))
        self.assert_json_error(self.call("GET", "/api/disclosures?limit=5000", asid), 400)

        # retention: one summary row for the run that deleted footage
        self.reel("camera", "set", "cam0", "--retain-bytes", "1")
        row = wait_until(lambda: self.entries(asid, "?action=retention.delete"), 30, step=0.5, what="retention row")
        det = row[0]["detail"]["cameras"][0]
        self.assertEqual(det["camera"], "cam0")
        self.assertGreater(det["recordings"], 0)
        self.assertGreater(det["bytes"], 0)
        self.assertEqual((row[0]["user"], row[0]["via"]), ("reel", "recorder"))

        # sign out; stop: the playback sessions are written as one row each
        self.assertEqual(self.call("POST", "/api/logout", vsid, vcsrf).status, 200)
        self.rec.stop()
        rows = self.db().execute("SELECT user, camera, detail FROM audit WHERE action = 'playback' ORDER BY id") \
            .fetchall()
        by_user = {u: json.loads(d) for u, c, d in rows}
        self.assertEqual(sorted(u for u, _, _ in rows), sorted([USER, "vwr"]), rows)
        self.assertEqual(by_user[USER]["requests"], ok)
        self.assertEqual(len(by_user[USER]["ranges"]), 1, by_user[USER])   # adjacent ranges joined
        self.assertEqual((by_user["vwr"]["requests"], by_user["vwr"]["reason"]), (2, "incident 42"))
        self.assertEqual(self.db().execute("SELECT COUNT(*) FROM audit WHERE action = 'logout' AND user = 'vwr'")
                         .fetchone()[0], 1)
        rc, line, _ = self.verify()
        self.assertEqual(rc, 0, line)

    def open_live(self, sid, query):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=15)
        s.sendall(f"GET /api/cameras/cam0/live.mp4{query} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                  f"Cookie: reel_session={sid}\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        head, _, body = buf.partition(b"\r\n\r\n")
        return s, head.decode("latin-1"), body
