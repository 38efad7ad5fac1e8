# SPDX-License-Identifier: GPL-3.0-or-later
"""Proof (issue 14): each closed recording's BLAKE2b in the index (also after
a crash), `reel check --hash`, the site key, signed exports that still play,
and every kind of tampering caught by `reel verify` and `reel-verify`."""
import hashlib
import os
import random
import shutil
import signal
import struct
import subprocess
import time
import unittest

from harness import ReelTestCase, wait_until

REEL_VERIFY = os.environ.get("REEL_VERIFY", "build/src/proof/reel-verify")
PROOF_UUID = bytes.fromhex("7e315a2b8c444f0d9a61d3520e7bc914")


def blake2b_file(path, n=None):
    h = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as f:
        h.update(f.read() if n is None else f.read(n))
    return h.hexdigest()


def top_boxes(data):
    """[(type, offset, size)] of an MP4's top-level boxes."""
    out, off = [], 0
    while off + 8 <= len(data):
        size, typ = struct.unpack(">I4s", data[off:off + 8])
        if size == 1:
            size = struct.unpack(">Q", data[off + 8:off + 16])[0]
        elif size == 0:
            size = len(data) - off
        kind = typ.decode("latin-1")
        if kind == "uuid" and data[off + 8:off + 24] == PROOF_UUID:
            kind = "proof"
        out.append((kind, off, size))
        off += size
    return out


class ProofTest(ReelTestCase):
    def record(self, seconds, cameras=1):
        _, port = self.start_sim("h264", cameras=cameras)
        for i in range(cameras):
            self.reel("camera", "add", f"c{i}", f"rtsp://127.0.0.1:{port}/cam/{i}")
        rec = self.start_reel("--rotate-s", "2", "--no-http")
        wait_until(lambda: "camera c0: recording" in rec.output(), 30, what="recording")
        time.sleep(seconds)
        return rec

    def sample_path(self, rec_id, cam_id=1):
        return os.path.join(self.data, "storage", str(cam_id), f"{rec_id:016x}")

    def closed_hashed(self, cam="c0"):
        return [r for r in self.recordings(cam) if "open" not in r and "blake2b" in r]

    def test_recordings_hashed_checked_and_recovered(self):
        # two cameras: recordings close out of id order (one camera's may
        # close after a higher id of the other's was hashed)
        rec = self.record(5, cameras=2)
        # each closed recording gets the BLAKE2b-256 of its sample file
        wait_until(lambda: len(self.closed_hashed()) >= 2, 30, what="two hashed recordings")
        for r in self.closed_hashed():
            self.assertEqual(r["blake2b"], blake2b_file(self.sample_path(r["id"])), r)
        # a kill leaves an open recording; recovery at the next start closes
        # it (cut back to what was committed) and the hasher hashes it
        # the kill must land while c0 has an open recording; right at a
        # rotation (every 2 s) the next one may not be written yet, which a
        # loaded sanitizer run hit once, so wait for one and try up to 3 kills
        for attempt in range(3):
            wait_until(lambda: any("open" in r for r in self.recordings("c0")), 30, what="an open recording")
            rec.p.send_signal(signal.SIGKILL)
            rec.p.wait()
            opened = [r["id"] for r in self.recordings("c0") if "open" in r]
            if opened:
                break
            rec = self.start_reel("--rotate-s", "2", "--no-http", name=f"reel-retry{attempt}")
            wait_until(lambda: "camera c0: recording" in rec.output(), 30, what="recording again")
        self.assertTrue(opened, "an open recording at the kill")
        rec2 = self.start_reel("--rotate-s", "2", "--no-http", name="reel2")
        wait_until(lambda: any(r["id"] == opened[-1] and "blake2b" in r for r in self.recordings("c0")), 30,
                   what="the recovered recording hashed")
        got = [r for r in self.recordings("c0") if r["id"] == opened[-1]][0]
        self.assertEqual(got["blake2b"], blake2b_file(self.sample_path(got["id"])))
        time.sleep(2)
        self.assertEqual(rec2.stop(), 0)
        # a clean stop hashes the recordings it closed: nothing is left unhashed
        for cam in ("c0", "c1"):
            for r in self.recordings(cam):
                self.assertIn("blake2b", r, (cam, r))
                self.assertNotIn("open", r)
                self.assertEqual(r["blake2b"], blake2b_file(self.sample_path(r["id"], 1 if cam == "c0" else 2)))
        r = self.reel("check", "--hash")
        self.assertIn(" 0 problems", r.stdout)
        self.assertRegex(r.stdout, r"hashes: \d+ closed recordings match")
        # one flipped byte in a closed sample file: check --hash names it, one line
        victim = self.closed_hashed()[1]
        p = self.sample_path(victim["id"])
        with open(p, "r+b") as f:
            f.seek(int(victim["bytes"]) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x01]))
        r = self.reel("check", "--hash", check=False)
        self.assertEqual(r.returncode, 3, r.stdout)
        lines = [l for l in r.stdout.splitlines() if "HASH MISMATCH" in l]
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertIn(f"recording {victim['id']} (camera c0, ", lines[0])
        # scoped to the camera and a range that misses it: clean
        r = self.reel("check", "--hash", "--camera", "c0", "--from", "@1", "--to", "@2")
        self.assertIn(" 0 problems", r.stdout)
        r = self.reel("check", "--hash", "--camera", "c0", check=False)
        self.assertEqual(r.returncode, 3, r.stdout)

    def verify(self, *args, tool=None, data=True):
        cmd = [REEL_VERIFY, *args] if tool == "standalone" else \
            ["reel-bin", "-d", self.data if data else os.path.join(self.tmp, "nodata"), "verify", *args]
        if tool != "standalone":
            cmd[0] = os.environ.get("REEL", "build/src/reel/reel")
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def assert_fails(self, path, kind_words, pub=None, tools=("reel", "standalone")):
        pub = pub or os.path.join(self.data, "site.pub")
        for tool in tools:
            r = self.verify(path, "--pub", pub, tool=tool)
            self.assertEqual(r.returncode, 1, f"{tool} accepted {path}: {r.stdout}{r.stderr}")
            self.assertIn("NOT VERIFIED", r.stdout)
            self.assertTrue(any(w in r.stdout for w in kind_words), f"{path}: {r.stdout}")

    def test_signed_export_verifies_and_tampering_fails(self):
        rec = self.record(6)
        wait_until(lambda: len(self.closed_hashed()) >= 2, 30, what="two hashed recordings")
        recs = self.closed_hashed()
        self.assertEqual(rec.stop(), 0)
        a, b = os.path.join(self.tmp, "a.mp4"), os.path.join(self.tmp, "b.mp4")
        t0, t1, t2 = int(recs[0]["start90k"]), int(recs[1]["start90k"]), \
            int(recs[1]["start90k"]) + int(recs[1]["wall90k"])
        self.reel("export", "--camera", "c0", "--from", f"@{t0 / 90000:.3f}", "--to", f"@{t1 / 90000:.3f}",
                  "-o", a, "--reason", "case 42: break-in", "--by", "alice")
        self.reel("export", "--camera", "c0", "--from", f"@{t1 / 90000:.3f}", "--to", f"@{t2 / 90000:.3f}",
                  "-o", b)
        for f in (a, b):
            self.assertTrue(os.path.exists(f + ".sig.json"))
            self.assertEqual(os.stat(f + ".sig.json").st_mode & 0o777, 0o600)
        # untouched: verified by both tools, plays (decodes clean, ffprobe reads it)
        r = self.verify(a)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"{a}: verified", r.stdout)
        self.assertIn('"reason": "case 42: break-in"', r.stdout)
        self.assertIn('"exported_by": "alice"', r.stdout)
        self.assertIn(f'"id": {recs[0]["id"]}', r.stdout)
        self.assertIn(recs[0]["blake2b"], r.stdout)
        self.assertIn("match this site's index", r.stdout)
        r = self.verify(a, "--pub", os.path.join(self.data, "site.pub"), tool="standalone")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        key = self.reel("key", "show").stdout
        hexkey = key.split("site public key (Ed25519): ")[1].split()[0]
        fpr = key.split("fingerprint: ")[1].splitlines()[0]
        self.assertEqual(hexkey, open(os.path.join(self.data, "site.pub")).read().strip())
        r = self.verify(a, "--pub", hexkey, tool="standalone")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn(fpr, r.stdout)
        self.assert_decodes_clean(a)
        stream, dur = self.ffprobe_frames(a)
        self.assertGreater(int(stream["nb_read_frames"]), 0)
        # frames = the MP4's video samples; the edit list that trims the
        # range may hide one from a decoder's count
        import re
        frames = int(re.search(r'"frames": (\d+)', self.verify(a).stdout).group(1))
        self.assertIn(frames - int(stream["nb_read_frames"]), (0, 1))
        # no key: refused unless the embedded one is trusted, which is said
        r = self.verify(a, tool="standalone")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no public key", r.stdout)
        r = self.verify(a, "--trust-embedded-key", tool="standalone")
        self.assertEqual(r.returncode, 0)
        self.assertIn("trusted as told", r.stdout)

        data = open(a, "rb").read()
        boxes = top_boxes(data)
        self.assertEqual(boxes[-1][0], "proof", boxes)
        kinds = {k: (o, s) for k, o, s in boxes}
        work = os.path.join(self.tmp, "tamper")
        os.mkdir(work)

        def tampered(name, blob):
            p = os.path.join(work, name)
            with open(p, "wb") as f:
                f.write(blob)
            return p

        def flip(pos):
            d = bytearray(data)
            d[pos] ^= 0x01
            return bytes(d)

        # one flipped bit in mdat, moov, ftyp and every part of the manifest box
        po, ps = kinds["proof"]
        spots = {"mdat": kinds["mdat"][0] + kinds["mdat"][1] // 2, "mdat-last": kinds["mdat"][0] + kinds["mdat"][1] - 1,
                 "moov": kinds["moov"][0] + kinds["moov"][1] // 2, "ftyp": 9,
                 "box-size": po + 3, "box-uuid": po + 12, "box-magic": po + 24, "box-key": po + 40,
                 "box-signature": po + 100, "box-length": po + 24 + 100 + 13 + 7, "box-hash": po + 24 + 100 + 13 + 8 + 5,
                 "manifest-first": po + 24 + 100 + 53, "manifest-middle": po + (ps + 24 + 100 + 53) // 2,
                 "manifest-last": po + ps - 1}
        # (tests/unit/test_proof.c flips every byte of a small signed file)
        rnd = random.Random(14)
        for i in range(8):
            spots[f"random{i}"] = rnd.randrange(len(data))
        for name, pos in spots.items():
            self.assert_fails(tampered(f"flip-{name}.mp4", flip(pos)),
                              ["damaged", "hash mismatch", "bad signature", "missing box", "bad box", "another",
                               "wrong key"], tools=("standalone",) if name.startswith("random") else ("reel", "standalone"))
        # cuts: in mdat, the manifest box half gone, the whole box gone (no sidecar)
        self.assert_fails(tampered("cut-mdat.mp4", data[:kinds["mdat"][0] + 1000]), ["cut"])
        self.assert_fails(tampered("cut-box.mp4", data[:po + ps // 2]), ["cut"])
        self.assert_fails(tampered("cut-1.mp4", data[:-1]), ["cut"])
        self.assert_fails(tampered("no-box.mp4", data[:po]), ["missing box"])
        # splices: two exports joined; another export's manifest on this video;
        # part of another export's video in this one's mdat
        bdata = open(b, "rb").read()
        bboxes = top_boxes(bdata)
        bpo = [o for k, o, s in bboxes if k == "proof"][0]
        bmdat = [(o, s) for k, o, s in bboxes if k == "mdat"][0]
        self.assert_fails(tampered("joined.mp4", data + bdata), ["spliced"])
        self.assert_fails(tampered("joined-nobox.mp4", data[:po] + bdata), ["another file"])
        self.assert_fails(tampered("other-manifest.mp4", data[:po] + bdata[bpo:]), ["another file", "mismatch"])
        mo, ms = kinds["mdat"]
        n = min(ms, bmdat[1]) - 8 - 64
        spliced = data[:mo + 8 + 64] + bdata[bmdat[0] + 8 + 64:bmdat[0] + 8 + 64 + n // 2] + data[mo + 8 + 64 + n // 2:]
        self.assertEqual(len(spliced), len(data))
        self.assert_fails(tampered("mdat-from-b.mp4", spliced), ["hash mismatch"])
        # a re-mux (ffmpeg -c copy) plays but is not the signed file
        remux = os.path.join(work, "remux.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-i", a, "-c", "copy", remux], check=True, timeout=120)
        self.assert_decodes_clean(remux)
        self.assert_fails(remux, ["missing box", "mismatch", "another"])
        shutil.copy(a + ".sig.json", remux + ".sig.json")
        self.assert_fails(remux, ["another file", "mismatch"])
        # another site's key
        other = os.path.join(self.tmp, "other")
        subprocess.run([os.environ.get("REEL", "build/src/reel/reel"), "-d", other, "init"], check=True,
                       capture_output=True)
        self.assert_fails(a, ["wrong key"], pub=os.path.join(other, "site.pub"))
        # the sidecar: a file stripped of its box verifies against it; a
        # sidecar of another file does not
        stripped = tampered("stripped.mp4", data[:po])
        shutil.copy(a + ".sig.json", stripped + ".sig.json")
        r = self.verify(stripped, "--pub", os.path.join(self.data, "site.pub"), tool="standalone")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("came from the sidecar", r.stdout)
        r = self.verify(stripped, "--sidecar", b + ".sig.json", "--pub", os.path.join(self.data, "site.pub"),
                        tool="standalone")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("another file", r.stdout)
        # the untouched files still verify after all this
        self.assertEqual(self.verify(a).returncode, 0)
        self.assertEqual(self.verify(b).returncode, 0)
        # the index disagrees with the manifest about a source recording:
        # `reel verify` with the data directory says so (reel-verify has no index)
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data, "reel.db"))
        db.execute("UPDATE recording SET blake2b = ? WHERE id = ?", (bytes(32), recs[0]["id"]))
        db.commit()
        db.close()
        r = self.verify(a)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"index: MISMATCH: source recording {recs[0]['id']} has BLAKE2b 0000000000000000", r.stdout)
        self.assertEqual(self.verify(a, "--pub", os.path.join(self.data, "site.pub"), tool="standalone").returncode, 0)

    def test_hostile_files_refused_cleanly(self):
        """Files made to hurt a verifier: each is refused (exit 1) or an
        error (2), never a crash, never 'verified'."""
        pub = os.path.join(self.data, "site.pub")
        cases = {
            "empty": b"",
            "seven": b"\0\0\0\x08fty",
            "zero-size-box": struct.pack(">I4s", 0, b"mdat") + b"x" * 100,
            "tiny-size": struct.pack(">I4s", 3, b"ftyp") + b"x" * 100,
            "huge-64": struct.pack(">I4sQ", 1, b"mdat", 1 << 62) + b"x" * 100,
            "many-boxes": struct.pack(">I4s", 8, b"free") * 5000,
            "proof-box-short": struct.pack(">I4s", 8 + 16 + 10, b"uuid") + PROOF_UUID + b"RPF1" + b"\0" * 6,
            "proof-box-huge": struct.pack(">I4s", 8 + 16 + 200, b"uuid") + PROOF_UUID + b"RPF1" + b"\0" * 196,
            "two-proof-boxes": (struct.pack(">I4s", 8 + 16 + 4, b"uuid") + PROOF_UUID + b"RPF1") * 2,
        }
        for name, blob in cases.items():
            p = os.path.join(self.tmp, name + ".mp4")
            with open(p, "wb") as f:
                f.write(blob)
            for tool in ("reel", "standalone"):
                r = self.verify(p, "--pub", pub, tool=tool)
                self.assertIn(r.returncode, (1, 2), f"{name} {tool}: {r.stdout}{r.stderr}")
                self.assertNotIn(": verified", r.stdout)
        # sidecars: not base64, no box field, a directory, a link to nowhere
        p = os.path.join(self.tmp, "plain.mp4")
        with open(p, "wb") as f:
            f.write(struct.pack(">I4s", 16, b"ftyp") + b"isom\0\0\0\0")
        for name, text in (("bad-b64", '{"box": "@@@@"}'), ("no-box", '{"manifest": {}}'),
                           ("unterminated", '{"box": "AAAA'), ("huge", '{"box": "' + "A" * 4000000 + '"}')):
            sc = os.path.join(self.tmp, name + ".sig.json")
            with open(sc, "w") as f:
                f.write(text)
            r = self.verify(p, "--pub", pub, "--sidecar", sc, tool="standalone")
            self.assertEqual(r.returncode, 1, f"{name}: {r.stdout}{r.stderr}")
        os.symlink("/nonexistent", p + ".sig.json")
        r = self.verify(p, "--pub", pub, tool="standalone")
        self.assertIn(r.returncode, (1, 2))
        # bad keys on the command line
        for bad in ("zz", "A" * 64, "0" * 63, "/nonexistent/site.pub"):
            r = self.verify(p, "--pub", bad, tool="standalone")
            self.assertEqual(r.returncode, 2, bad)

    def test_site_key_made_for_existing_install(self):
        # an install from before keys (no site.key) gets its pair at its first start
        os.unlink(os.path.join(self.data, "site.key"))
        os.unlink(os.path.join(self.data, "site.pub"))
        rec = self.start_reel("--no-http")
        wait_until(lambda: "into" in rec.output(), 20, what="the recorder started")
        self.assertIn("made the site key pair", rec.output())
        self.assertEqual(rec.stop(), 0)
        st = os.stat(os.path.join(self.data, "site.key"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(len(open(os.path.join(self.data, "site.key")).read().strip()), 128)
        self.assertEqual(len(open(os.path.join(self.data, "site.pub")).read().strip()), 64)
        out = self.reel("key", "show").stdout
        self.assertRegex(out, r"fingerprint: ([0-9a-f]{4} ){7}[0-9a-f]{4}")
        # a second init or start keeps the pair
        before = open(os.path.join(self.data, "site.key")).read()
        self.reel("init")
        self.assertEqual(before, open(os.path.join(self.data, "site.key")).read())


if __name__ == "__main__":
    unittest.main()
