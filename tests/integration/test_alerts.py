# SPDX-License-Identifier: GPL-3.0-or-later
"""Alerts (issue 15, docs/alerts.md) against the real recorder: a webhook
receiver (http.server in this process) that fails with 500 and then
recovers gets the camera.offline event of a stopped reel-sim, signed with
HMAC-SHA256 (checked here with Python's hmac), retried with the same
delivery id, kept in reel.db across a restart of `reel run`; a real
mosquitto broker on a free port and mosquitto_sub see availability, the
Home Assistant discovery configs, the camera's status going offline and the
events topic; hostile input to the webhook routes."""
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time

from harness import REEL, free_port, wait_until
from test_http import HttpTest


class Receiver:
    """A webhook endpoint: answers 500 while .fail is set, else 200."""

    def __init__(self):
        self.got = []
        self.fail = True
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    status = 500 if outer.fail else 200
                    outer.got.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.th = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.th.start()

    def snapshot(self):
        with self.lock:
            return list(self.got)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def lower(h):
    return {k.lower(): v for k, v in h.items()}


class AlertsTest(HttpTest):
    def call(self, method, path, sid=None, csrf=None, body=None, headers=None):
        return self.request(method, path, headers=headers, body=body, cookie=sid, csrf=csrf)

    def run_reel(self, name="reel"):
        self.rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", "--rotate-s", "2",
                               "--checkpoint-ms", "300", "--backoff-max-s", "1"], name)
        m = wait_until(lambda: re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/", self.rec.output()), 15,
                       what="the http server to listen")
        self.port = int(m.group(1))

    def outbox(self):
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=10)
        try:
            return db.execute("SELECT id, webhook_id, attempts, body FROM webhook_outbox ORDER BY id").fetchall()
        finally:
            db.close()

    def check_signature(self, headers, body, secret):
        h = lower(headers)
        ts = h["x-reel-timestamp"]
        self.assertTrue(ts.isdigit(), h)
        self.assertLess(abs(int(ts) - time.time()), 300)
        want = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        self.assertEqual(h["x-reel-signature"], want)
        self.assertEqual(h["content-type"], "application/json")

    def test_webhook_signed_retried_kept_across_restart(self):
        rcv = Receiver()
        self.addCleanup(rcv.close)
        sim, _ = self.start_sim("h264")
        port = _
        self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{port}/cam/0")
        self.run_reel()
        sid, csrf = self.login()
        r = self.call("POST", "/api/webhooks", sid, csrf, {"name": "door", "url": f"http://127.0.0.1:{rcv.port}/hook",
                                                           "kinds": ["camera.offline"]})
        self.assertEqual(r.status, 201, r.body)
        secret = r.json()["secret"]
        wid = r.json()["webhook"]["id"]
        self.assertEqual(len(secret), 64)
        # the camera records, then its camera goes away: a camera.offline event
        wait_until(lambda: "recording" in json.dumps(self.call("GET", "/api/cameras", sid).json()), 30, step=0.3,
                   what="cam0 to record")
        sim.stop()
        # the receiver fails: the first note is tried again (same delivery id, same body, a fresh signature)
        def retried():
            seen = {}
            for h, body, _ in rcv.snapshot():
                seen.setdefault(lower(h)["x-reel-delivery"], []).append(body)
            return [(d, b) for d, b in seen.items() if len(b) >= 2]

        wait_until(retried, 30, step=0.2, what="a retried delivery")
        got = rcv.snapshot()
        for h, body, _ in got:
            self.check_signature(h, body, secret)
            self.assertEqual(lower(h)["x-reel-event"], "camera.offline")
        first = got[0]
        did = lower(first[0])["x-reel-delivery"]
        bodies = {b for h, b, _ in got if lower(h)["x-reel-delivery"] == did}
        self.assertEqual(len(bodies), 1)
        note = json.loads(first[1])
        self.assertEqual(note["type"], "start")
        self.assertEqual(note["event"]["kind"], "camera.offline")
        self.assertEqual(note["event"]["camera"], "cam0")
        ids = {did}
        # pending in the API, then reel run stops with it undelivered
        r = self.call("GET", f"/api/webhooks/{wid}/deliveries", sid)
        self.assertEqual(r.status, 200, r.body)
        self.assertGreaterEqual(r.json()["pending"], 1)
        self.assertTrue(r.json()["deliveries"][0]["last_error"].startswith("HTTP 500"), r.body)
        self.assertEqual(self.rec.stop(), 0, self.dump_logs())   # a clean exit (leaks fail it under ASan)
        rows = self.outbox()
        self.assertTrue(any(str(row[0]) in ids and row[2] >= 2 for row in rows), rows)
        n_before = len(rcv.snapshot())
        # the receiver recovers; the next run delivers the same note
        rcv.fail = False
        self.run_reel("reel2")
        delivered = wait_until(lambda: [g for g in rcv.snapshot()[n_before:] if g[2] == 200 and
                                        lower(g[0])["x-reel-delivery"] in ids], 40, step=0.2,
                               what="the delivery after the restart")
        h, body, _ = delivered[0]
        self.check_signature(h, body, secret)
        self.assertEqual(json.loads(body), note)
        wait_until(lambda: not any(str(row[0]) in ids for row in self.outbox()), 10, step=0.2,
                   what="the delivered row to leave the outbox")
        # a test delivery reaches it too (kinds do not apply)
        sid, csrf = self.login()
        r = self.call("POST", f"/api/webhooks/{wid}/test", sid, csrf)
        self.assertEqual(r.status, 202, r.body)
        test = wait_until(lambda: [g for g in rcv.snapshot() if lower(g[0])["x-reel-event"] == "test"], 15, step=0.2,
                          what="the test delivery")
        self.check_signature(test[0][0], test[0][1], secret)
        self.assertEqual(self.rec.stop(), 0, self.dump_logs())

    def test_mqtt_discovery_status_and_events(self):
        if not shutil.which("mosquitto") and not os.path.exists("/usr/sbin/mosquitto"):
            self.skipTest("mosquitto is not installed")
        broker = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        bport = free_port()
        conf = os.path.join(self.tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {bport} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.start([broker, "-c", conf], "mosquitto")
        sub_log = os.path.join(self.tmp, "sub.txt")

        def lines():
            with open(sub_log, errors="replace") as f:
                return f.read().splitlines()

        def start_sub():
            out = open(sub_log, "a")
            p = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(bport), "-v", "-t", "reel/#",
                                  "-t", "homeassistant/#"], stdout=out, stderr=subprocess.STDOUT)
            self.addCleanup(lambda: (p.kill(), p.wait(), out.close()))
            return p

        wait_until(lambda: subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(bport), "-t", "x", "-m",
                                           "1"], capture_output=True).returncode == 0, 15, step=0.2,
                   what="the broker to listen")
        start_sub()
        sim, port = self.start_sim("h264")
        self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{port}/cam/0")
        self.run_reel()
        sid, csrf = self.login()
        # settings: bad values refused, the password never shown
        for bad in [{"mqtt.url": "http://x"}, {"mqtt.url": "mqtt://h:99999"}, {"mqtt.prefix": "a/#"},
                    {"mqtt.prefix": ""}, {"mqtt.discovery_prefix": "+"}, {"mqtt.user": "a\nb"},
                    {"mqtt.password": "p" * 300}, {"webhook.expire_hours": 0}, {"webhook.expire_hours": 721},
                    {"mqtt.url": 5}]:
            self.assert_json_error(self.call("PATCH", "/api/settings", sid, csrf, bad), 400)
        r = self.call("PATCH", "/api/settings", sid, csrf, {"mqtt.url": f"mqtt://127.0.0.1:{bport}",
                                                             "mqtt.password": "broker-S3cret"})
        self.assertEqual(r.status, 200, r.body)
        s = r.json()["settings"]
        self.assertEqual((s["mqtt.password"], s["mqtt.password_set"], s["mqtt.prefix"]), ("", True, "reel"))
        self.assertNotIn("broker-S3cret", r.body.decode())
        self.assertNotIn("broker-S3cret", self.call("GET", "/api/settings", sid).body.decode())
        audit = self.call("GET", "/api/audit", sid).body.decode()
        self.assertNotIn("broker-S3cret", audit)
        wait_until(lambda: "reel/availability online" in lines(), 20, step=0.2, what="availability online")
        st = wait_until(lambda: (lambda m: m if m["state"] == "connected" and m["cameras"] == 1 else None)(
            self.call("GET", "/api/alerts/status", sid).json()["mqtt"]), 10, step=0.2, what="the status: connected")
        self.assertEqual(st["broker"], f"127.0.0.1:{bport}")
        cfgs = {}

        def discovery():
            for ln in lines():
                topic, _, payload = ln.partition(" ")
                if topic.startswith("homeassistant/binary_sensor/reel_cam0/") and payload.startswith("{"):
                    cfgs[topic] = json.loads(payload)
            return len(cfgs) == 2

        wait_until(discovery, 15, step=0.2, what="the discovery configs")
        m = cfgs["homeassistant/binary_sensor/reel_cam0/motion/config"]
        c = cfgs["homeassistant/binary_sensor/reel_cam0/connectivity/config"]
        for d, cls, state in ((m, "motion", "reel/cam0/motion"), (c, "connectivity", "reel/cam0/status")):
            for k in ("name", "unique_id", "state_topic", "device_class", "availability_topic", "device"):
                self.assertIn(k, d)
            self.assertEqual(d["device_class"], cls)
            self.assertEqual(d["state_topic"], state)
            self.assertEqual(d["availability_topic"], "reel/availability")
            self.assertEqual(d["device"]["manufacturer"], "Reel")
            self.assertIn("reel_cam0", d["device"]["identifiers"])
        self.assertNotEqual(m["unique_id"], c["unique_id"])
        wait_until(lambda: "reel/cam0/motion OFF" in lines(), 10, step=0.2, what="motion OFF")
        # a camera added while running is announced; removed, its discovery configs are cleared (empty, retained)
        self.reel("camera", "add", "cam1", f"rtsp://127.0.0.1:{port}/cam/9")
        wait_until(lambda: any(ln.startswith("homeassistant/binary_sensor/reel_cam1/motion/config {")
                               for ln in lines()), 15, step=0.2, what="cam1's discovery")
        self.reel("camera", "remove", "cam1")
        wait_until(lambda: any(ln.rstrip() in ("homeassistant/binary_sensor/reel_cam1/connectivity/config",
                                               "homeassistant/binary_sensor/reel_cam1/connectivity/config (null)")
                               for ln in lines()), 15, step=0.2, what="cam1's discovery cleared")
        wait_until(lambda: "reel/cam0/status online" in lines(), 30, step=0.2, what="cam0 online")
        # the camera goes away: status offline (retained) and the event on reel/events
        n = len(lines())
        sim.stop()
        wait_until(lambda: "reel/cam0/status offline" in lines()[n:], 30, step=0.2, what="cam0 offline")

        def offline_event():
            for ln in lines():
                topic, _, payload = ln.partition(" ")
                if topic == "reel/events":
                    j = json.loads(payload)
                    if j["event"]["kind"] == "camera.offline" and j["event"]["camera"] == "cam0":
                        return j
            return None

        j = wait_until(offline_event, 20, step=0.2, what="the camera.offline event on reel/events")
        self.assertEqual(j["type"], "start")
        # a late subscriber sees the retained state
        r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(bport), "-v", "-t", "reel/cam0/status",
                            "-C", "1", "-W", "10"], capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), "reel/cam0/status offline")
        # reel run stops: availability offline
        n = len(lines())
        self.assertEqual(self.rec.stop(), 0, self.dump_logs())
        wait_until(lambda: "reel/availability offline" in lines()[n:], 15, step=0.2, what="availability offline")

    def test_webhook_routes_hostile(self):
        self.run_reel()
        sid, csrf = self.login()
        pw = os.path.join(self.tmp, "vwr.pw")
        with open(pw, "w") as f:
            f.write("vwr-password-1\n")
        self.reel("user", "add", "vwr", "--password-file", pw, "--role", "viewer")
        vsid, vcsrf = self.login("vwr", "vwr-password-1")
        good = {"name": "a", "url": "http://127.0.0.1:9/x", "kinds": ["motion", "disk.full"],
                "secret": "s3cret-s3cret-s3cret"}
        # roles and CSRF
        self.assert_json_error(self.call("GET", "/api/webhooks", vsid), 403)
        self.assert_json_error(self.call("POST", "/api/webhooks", vsid, vcsrf, good), 403)
        self.assert_json_error(self.call("POST", "/api/webhooks", sid, None, good), 403)
        self.assertEqual(self.call("GET", "/api/webhooks").status, 401)
        self.assert_json_error(self.call("GET", "/api/alerts/status", vsid), 403)
        self.assertEqual(self.call("GET", "/api/alerts/status", sid).json()["mqtt"]["state"], "off")
        bads = [{}, [1], "x", dict(good, url="ftp://127.0.0.1/x"), dict(good, url="file:///etc/passwd"),
                dict(good, url="http://"), dict(good, url="http://a b/"), dict(good, url="http://h/" + "a" * 1100),
                dict(good, url="javascript:alert(1)"), dict(good, name=""), dict(good, name="n" * 64),
                dict(good, name="a\nb"), dict(good, kinds=[]), dict(good, kinds=["person"]),
                dict(good, kinds=["*", "motion"]), dict(good, kinds=["motion"] * 17), dict(good, kinds="motion"),
                dict(good, secret="short"), dict(good, secret="x" * 200), dict(good, secret=5),
                dict(good, enabled="yes"), dict(good, extra=1), {"name": "a", "url": "http://h/"}]
        for bad in bads:
            self.assert_json_error(self.call("POST", "/api/webhooks", sid, csrf, bad), 400)
        self.assert_json_error(self.call("POST", "/api/webhooks", sid, csrf, body="{" + " " * 20000 + "}",
                                         headers={"Content-Type": "application/json"}), 413)
        r = self.call("POST", "/api/webhooks", sid, csrf, good)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["secret"], good["secret"])
        wid = r.json()["webhook"]["id"]
        self.assertEqual(r.json()["webhook"]["kinds"], ["motion", "disk.full"])
        self.assert_json_error(self.call("POST", "/api/webhooks", sid, csrf, good), 409)
        # the secret is never shown again
        for path in ("/api/webhooks", f"/api/webhooks/{wid}/deliveries"):
            r = self.call("GET", path, sid)
            self.assertEqual(r.status, 200, r.body)
            self.assertNotIn(good["secret"], r.body.decode())
        r = self.call("PATCH", f"/api/webhooks/{wid}", sid, csrf, {"enabled": False, "kinds": ["*"],
                                                                  "secret": "another-secret-0123"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["webhook"]["enabled"], r.json()["webhook"]["kinds"]), (False, ["*"]))
        self.assertNotIn("another-secret", r.body.decode())
        for bad in [{}, {"url": "gopher://x/"}, {"id": 5}, {"name": ""}]:
            self.assert_json_error(self.call("PATCH", f"/api/webhooks/{wid}", sid, csrf, bad), 400)
        for path in ("/api/webhooks/999", "/api/webhooks/0", "/api/webhooks/-1", "/api/webhooks/abc",
                     "/api/webhooks/" + "9" * 30):
            self.assert_json_error(self.call("DELETE", path, sid, csrf), 404)
            self.assert_json_error(self.call("PATCH", path, sid, csrf, {"enabled": True}), 404)
            self.assert_json_error(self.call("POST", path + "/test", sid, csrf), 404)
        self.assert_json_error(self.call("DELETE", f"/api/webhooks/{wid}", vsid, vcsrf), 403)
        self.assert_json_error(self.call("POST", f"/api/webhooks/{wid}/test", vsid, vcsrf), 403)
        self.assertEqual(self.call("DELETE", f"/api/webhooks/{wid}", sid, csrf).status, 200)
        self.assert_json_error(self.call("DELETE", f"/api/webhooks/{wid}", sid, csrf), 404)
        # a receiver that is down costs one attempt per backoff, not one per waiting note
        # (queued while paused, so that all five wait before the first attempt)
        dead = {"name": "dead", "url": f"http://127.0.0.1:{free_port()}/", "kinds": ["*"], "enabled": False}
        r = self.call("POST", "/api/webhooks", sid, csrf, dead)
        self.assertEqual(r.status, 201, r.body)
        did = r.json()["webhook"]["id"]
        for _ in range(5):
            self.assertEqual(self.call("POST", f"/api/webhooks/{did}/test", sid, csrf).status, 202)
        self.assertEqual(self.call("PATCH", f"/api/webhooks/{did}", sid, csrf, {"enabled": True}).status, 200)
        rows = wait_until(lambda: (lambda d: d if d and d[0]["attempts"] >= 2 else None)(
            self.call("GET", f"/api/webhooks/{did}/deliveries", sid).json()["deliveries"]), 20, step=0.2,
            what="two failed attempts at the dead receiver")
        self.assertEqual(len(rows), 5)
        self.assertEqual([d["attempts"] for d in rows[1:]], [0, 0, 0, 0], rows)
        self.assertTrue(rows[0]["last_error"], rows)
        self.assertEqual(self.call("DELETE", f"/api/webhooks/{did}", sid, csrf).status, 200)
        # the cap on webhooks
        for i in range(32):
            r = self.call("POST", "/api/webhooks", sid, csrf, dict(good, name=f"h{i}"))
            self.assertEqual(r.status, 201, r.body)
        self.assert_json_error(self.call("POST", "/api/webhooks", sid, csrf, dict(good, name="h32")), 409)
        # audited, without secrets
        r = self.call("GET", "/api/audit", sid)
        self.assertEqual(r.status, 200, r.body)
        actions = [e["action"] for e in r.json()["entries"]]
        for a in ("webhook.add", "webhook.change", "webhook.delete"):
            self.assertIn(a, actions)
        self.assertNotIn(good["secret"], r.body.decode())
        self.assertNotIn("another-secret", r.body.decode())
        add = next(e for e in r.json()["entries"] if e["action"] == "webhook.add")
        self.assertEqual(add["detail"]["url"], "http://127.0.0.1:9")   # the path (a token, for chat hooks) left out
        self.assertEqual(self.rec.stop(), 0, self.dump_logs())
