# SPDX-License-Identifier: GPL-3.0-or-later
"""The web server's defences of issue 11 against a real `reel run`:

- the Host check against DNS rebinding (421 for a name the server does not
  know, before any authentication; IP literals, localhost and --http-host
  names pass; the reverse-proxy setup with --secure-cookie still works);
- built-in TLS (`reel run --tls`): a self-signed certificate made once in
  the data directory (key 0600) whose fingerprint in the log is the served
  certificate's, reused after a restart; login over HTTPS with HSTS and a
  `__Host-` Secure cookie; the user's own certificate (made by `openssl
  req`) served; a bad certificate or key file is one clear error line and a
  non-zero exit;
- `reel export` creates its file 0600, as a new file, and refuses a
  symbolic link as output;
- a 500 answer names no path of the data directory (the detail is in the
  log under the reference the answer gives).
Standard library only (http.client, ssl), plus the openssl command."""
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import time
import unittest

from harness import REEL, ReelTestCase, wait_until

USER, PASSWORD = "tester", "correct horse battery"
CSP = "default-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def unverified_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx



def unsigned(mp4):
    """The MP4 without its last top-level box when that is the signature's
    uuid box (src/proof: a signed export is the MP4 plus that box)."""
    off, last = 0, None
    while off + 8 <= len(mp4):
        size = int.from_bytes(mp4[off:off + 4], "big")
        if size < 8:
            break
        last = off
        off += size
    if last is not None and mp4[last + 4:last + 8] == b"uuid":
        return mp4[:last]
    return mp4

class WebSecurityTest(ReelTestCase):

    def setUp(self):
        super().setUp()
        self.add_user()

    def add_user(self):
        pw = os.path.join(self.tmp, "user.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        self.reel("user", "add", USER, "--password-file", pw)

    # ---- helpers ----

    def run_reel(self, *args, name="reel"):
        """reel run with the web server on a free port; (proc, port, scheme)."""
        rec = self.start([REEL, "-d", self.data, "-v", "run", "--http", "127.0.0.1:0", *args], name)
        m = wait_until(lambda: re.search(r"http: listening on (https?)://127\.0\.0\.1:(\d+)/", rec.output()), 20,
                       what="the http server to listen")
        return rec, int(m.group(2)), m.group(1)

    def request(self, port, method, path, headers=None, body=None, tls=False):
        if tls:
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=unverified_context())
        else:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = r.getheaders()
        c.close()
        return r.status, {k.lower(): v for k, v in hdrs}, data

    def raw(self, port, text):
        """Sends text as is; the status code of the answer."""
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.sendall(text)
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        self.assertTrue(m, data[:200])
        return int(m.group(1)), data

    def served_fingerprint(self, port):
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            with unverified_context().wrap_socket(s) as t:
                der = t.getpeercert(binary_form=True)
        return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())

    def logged_fingerprint(self, rec):
        m = wait_until(lambda: re.findall(r"SHA-256 fingerprint ([0-9A-F:]{95})", rec.output()), 10,
                       what="the fingerprint in the log")
        return m[-1]

    def record(self, seconds=5):
        """A camera recorded for a few seconds by reel run --no-http (stopped)."""
        _, port = self.start_sim("h264")
        self.reel("camera", "add", "cam0", f"rtsp://127.0.0.1:{port}/cam/0")
        rec = self.start_reel("--no-http", "--rotate-s", "2", "--checkpoint-ms", "300")
        wait_until(lambda: len(self.frames("cam0")) >= 60, 30, step=0.5, what="60 frames recorded")
        time.sleep(max(0, seconds - 2))
        self.assertEqual(rec.stop(), 0)
        return self.frames("cam0")

    # ---- the Host header ----

    def test_host_header(self):
        rec, port, _ = self.run_reel("--http-host", "nvr.example.org")
        # a page of evil.example whose name now points at 127.0.0.1
        for method, path in [("GET", "/"), ("GET", "/api/health"), ("GET", "/api/cameras"),
                             ("POST", "/api/login")]:
            st, h, body = self.request(port, method, path, headers={"Host": "evil.example"},
                                       body={"username": USER, "password": PASSWORD} if method == "POST" else None)
            self.assertEqual(st, 421, f"{method} {path}: {body[:200]}")
            self.assertIn("--http-host evil.example", json.loads(body)["error"])
            self.assertNotIn("set-cookie", h)
        st, _, _ = self.request(port, "GET", "/api/health", headers={"Host": f"evil.example:{port}"})
        self.assertEqual(st, 421)
        # HTTP/1.1 without Host
        st, _ = self.raw(port, b"GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertEqual(st, 400)
        # the normal flow: by IP address, localhost and the configured name
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "NVR.example.org", f"[::1]:{port}"):
            st, h, body = self.request(port, "POST", "/api/login", headers={"Host": host},
                                       body={"username": USER, "password": PASSWORD})
            self.assertEqual(st, 200, f"{host}: {body[:200]}")
            sid = re.match(r"reel_session=([0-9a-f]{64});", h["set-cookie"]).group(1)
            csrf = json.loads(body)["csrf_token"]
            st, _, body = self.request(port, "GET", "/api/cameras",
                                       headers={"Host": host, "Cookie": f"reel_session={sid}"})
            self.assertEqual(st, 200, body)
            st, _, body = self.request(port, "POST", "/api/logout",
                                       headers={"Host": host, "Cookie": f"reel_session={sid}", "X-CSRF-Token": csrf,
                                                "Origin": f"http://{host}"})
            self.assertEqual(st, 200, body)
        # one warning names the refused name and the option
        log = rec.output()
        self.assertIn("refused a request for Host 'evil.example'", log)
        self.assertEqual(log.count("refused a request for Host"), 1, "more than one line a minute")

    def test_reverse_proxy_still_works(self):
        # nginx with `proxy_set_header Host $host` and reel run --secure-cookie --http-host NAME
        _, port, scheme = self.run_reel("--secure-cookie", "--http-host", "nvr.example.org")
        self.assertEqual(scheme, "http")
        host = "nvr.example.org"
        st, h, body = self.request(port, "POST", "/api/login", headers={"Host": host, "X-Forwarded-Proto": "https"},
                                   body={"username": USER, "password": PASSWORD})
        self.assertEqual(st, 200, body)
        attrs = [a.strip() for a in h["set-cookie"].split(";")]
        self.assertTrue(attrs[0].startswith("reel_session="), attrs)
        self.assertIn("Secure", attrs)
        self.assertNotIn("strict-transport-security", h)  # the proxy's business
        sid = attrs[0].split("=", 1)[1]
        csrf = json.loads(body)["csrf_token"]
        st, _, body = self.request(port, "POST", "/api/logout",
                                   headers={"Host": host, "Cookie": f"reel_session={sid}", "X-CSRF-Token": csrf,
                                            "Origin": f"https://{host}"})
        self.assertEqual(st, 200, body)
        self.assertEqual(h["content-security-policy"], CSP)

    # ---- built-in TLS ----

    def tls_login(self, port):
        st, h, body = self.request(port, "POST", "/api/login", body={"username": USER, "password": PASSWORD}, tls=True)
        self.assertEqual(st, 200, body)
        return h, body

    def test_tls_self_signed(self):
        rec, port, scheme = self.run_reel("--tls", "--http-host", "nvr.example.org")
        self.assertEqual(scheme, "https")
        fp = self.logged_fingerprint(rec)
        self.assertIn("(made now)", rec.output())
        self.assertEqual(self.served_fingerprint(port), fp)
        key = os.path.join(self.data, "tls-key.pem")
        self.assertEqual(stat.S_IMODE(os.lstat(key).st_mode), 0o600)
        self.assertTrue(stat.S_ISREG(os.lstat(key).st_mode))
        # the certificate names localhost, the loopback addresses and the --http-host name
        text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", os.path.join(self.data, "tls-cert.pem")],
                              capture_output=True, text=True, check=True).stdout
        for san in ("DNS:localhost", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", "DNS:nvr.example.org"):
            self.assertIn(san, text)
        self.assertIn("ASN1 OID: prime256v1", text)
        # login over HTTPS: HSTS, a __Host- cookie with Secure, Path=/ and no Domain
        h, body = self.tls_login(port)
        self.assertEqual(h.get("strict-transport-security"), "max-age=31536000")
        self.assertEqual(h.get("content-security-policy"), CSP)
        attrs = [a.strip() for a in h["set-cookie"].split(";")]
        m = re.match(r"__Host-reel_session=([0-9a-f]{64})$", attrs[0])
        self.assertTrue(m, attrs)
        self.assertIn("Secure", attrs)
        self.assertIn("Path=/", attrs)
        self.assertIn("HttpOnly", attrs)
        self.assertFalse(any(a.lower().startswith("domain") for a in attrs), attrs)
        sid, csrf = m.group(1), json.loads(body)["csrf_token"]
        st, _, body = self.request(port, "GET", "/api/session", headers={"Cookie": f"__Host-reel_session={sid}"},
                                   tls=True)
        self.assertEqual(st, 200, body)
        # the plain name is not read when TLS is on
        st, _, _ = self.request(port, "GET", "/api/session", headers={"Cookie": f"reel_session={sid}"}, tls=True)
        self.assertEqual(st, 401)
        # no HSTS for localhost (it would bind every port of the name)
        st, h, _ = self.request(port, "GET", "/api/health", headers={"Host": f"localhost:{port}"}, tls=True)
        self.assertEqual(st, 200)
        self.assertNotIn("strict-transport-security", h)
        # the Host check holds over TLS too
        st, _, _ = self.request(port, "GET", "/api/health", headers={"Host": "evil.example"}, tls=True)
        self.assertEqual(st, 421)
        # plain HTTP to the TLS port gets no answer in clear
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try:
                data = s.recv(100)
            except (ConnectionResetError, socket.timeout):
                data = b""
            self.assertFalse(data.startswith(b"HTTP/1.1 200"), data)
        st, _, body = self.request(port, "POST", "/api/logout",
                                   headers={"Cookie": f"__Host-reel_session={sid}", "X-CSRF-Token": csrf}, tls=True)
        self.assertEqual(st, 200, body)
        self.assertEqual(rec.stop(), 0)
        # a restart reuses the pair
        rec2, port2, _ = self.run_reel("--tls", name="reel2")
        self.assertEqual(self.logged_fingerprint(rec2), fp)
        self.assertIn("made at the first start", rec2.output())
        self.assertEqual(self.served_fingerprint(port2), fp)
        self.tls_login(port2)

    def openssl_pair(self, name):
        cert, key = os.path.join(self.tmp, f"{name}.crt"), os.path.join(self.tmp, f"{name}.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "30", "-subj", f"/CN={name}.example",
                        "-addext", f"subjectAltName=DNS:{name}.example"],
                       check=True, capture_output=True, timeout=60)
        return cert, key

    def test_tls_user_certificate(self):
        cert, key = self.openssl_pair("mine")
        want = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert],
                              capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
        rec, port, scheme = self.run_reel("--tls-cert", cert, "--tls-key", key)
        self.assertEqual(scheme, "https")
        self.assertEqual(self.logged_fingerprint(rec), want)
        self.assertEqual(self.served_fingerprint(port), want)
        h, _ = self.tls_login(port)
        self.assertTrue(h["set-cookie"].startswith("__Host-reel_session="))
        self.assertFalse(os.path.exists(os.path.join(self.data, "tls-key.pem")))
        self.assertEqual(rec.stop(), 0)
        # bad files: one clear line, a non-zero exit, nothing started
        other_cert, other_key = self.openssl_pair("other")
        garbage = os.path.join(self.tmp, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        cases = [
            (["--tls-cert", garbage, "--tls-key", key], r"--tls: TLS certificate .*garbage\.pem: no PEM certificate"),
            (["--tls-cert", cert, "--tls-key", other_key], r"--tls: TLS key .*other\.key does not belong to the "
                                                           r"certificate in TLS certificate .*mine\.crt"),
            (["--tls-cert", cert, "--tls-key", os.path.join(self.tmp, "missing.key")],
             r"--tls: .*missing\.key: No such file or directory"),
            (["--tls-cert", cert], r"--tls-cert and --tls-key go together"),
        ]
        for args, pattern in cases:
            r = subprocess.run([REEL, "-d", self.data, "run", "--http", "127.0.0.1:0", *args],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertRegex(r.stderr, pattern, args)
            self.assertNotIn("listening", r.stderr + r.stdout)

    # ---- exports ----

    def test_export_mode_and_symlinks(self):
        frames = self.record()
        f0, f1 = frames[0][1], frames[-1][1]
        span = ["--camera", "cam0", "--from", f"@{f0 / 90000:.3f}", "--to", f"@{(f0 + f1) / 2 / 90000:.3f}"]
        old = os.umask(0o022)
        try:
            out = os.path.join(self.tmp, "out.mp4")
            self.reel("export", *span, "-o", out)
            st = os.lstat(out)
            self.assertTrue(stat.S_ISREG(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            # onto a symbolic link: refused, its target untouched, the link kept
            victim = os.path.join(self.tmp, "victim.txt")
            with open(victim, "w") as f:
                f.write("keep me\n")
            link = os.path.join(self.tmp, "link.mp4")
            os.symlink(victim, link)
            r = self.reel("export", *span, "-o", link, check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("symbolic link", r.stderr)
            self.assertTrue(os.path.islink(link))
            # a link planted where the partial file is written is not followed
            out2 = os.path.join(self.tmp, "out2.mp4")
            os.symlink(victim, out2 + ".partial")
            self.reel("export", *span, "-o", out2)
            with open(victim) as f:
                self.assertEqual(f.read(), "keep me\n")
            st2 = os.lstat(out2)
            self.assertTrue(stat.S_ISREG(st2.st_mode))
            self.assertEqual(stat.S_IMODE(st2.st_mode), 0o600)
            self.assertFalse(os.path.lexists(out2 + ".partial"))
            with open(out, "rb") as a, open(out2, "rb") as b:
                # the same MP4; each ends with its own signed manifest (a
                # top-level uuid box: issue 14), which names its own time
                self.assertEqual(unsigned(a.read()), unsigned(b.read()))
        finally:
            os.umask(old)

    # ---- 500 answers ----

    def test_500_names_no_path(self):
        # a data directory whose path has a space: the old scrubbing kept
        # what came after it
        self.data = os.path.join(self.tmp, "my data")
        self.reel("init")
        self.add_user()
        frames = self.record()
        # a sample file cut short under a recording
        storage = os.path.join(self.data, "storage")
        samples = [os.path.join(d, n) for d, _, names in os.walk(storage) for n in names
                   if n != "reel-storage-id" and os.path.getsize(os.path.join(d, n)) > 1000]
        self.assertTrue(samples, list(os.walk(storage)))
        for p in samples:
            with open(p, "r+b") as f:
                f.truncate(100)
        rec, port, _ = self.run_reel()
        st, h, body = self.request(port, "POST", "/api/login", body={"username": USER, "password": PASSWORD})
        sid = re.match(r"reel_session=([0-9a-f]{64});", h["set-cookie"]).group(1)
        f0, f1 = frames[0][1], frames[-1][1]
        path = f"/api/cameras/cam0/view.mp4?start={f0 / 90000:.3f}&end={f1 / 90000:.3f}"
        st, h, body = self.request(port, "GET", path, headers={"Cookie": f"reel_session={sid}"})
        self.assertEqual(st, 500, body[:300])
        text = body.decode()
        err = json.loads(text)
        self.assertNotIn("/", text)
        for part in ("my data", "storage", self.tmp, os.path.basename(self.tmp)):
            self.assertNotIn(part, text)
        ref = err["reference"]
        self.assertRegex(ref, r"^[0-9a-f]{8}$")
        self.assertIn(ref, err["error"])
        # the log has the detail under the reference
        line = wait_until(lambda: [l for l in rec.output().splitlines() if ref in l], 5, what="the logged 500")[0]
        self.assertIn("500", line)
        self.assertIn("sample file", line)


if __name__ == "__main__":
    unittest.main()
