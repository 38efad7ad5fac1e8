# SPDX-License-Identifier: GPL-3.0-or-later
"""Upgrade from the previous release: a data directory written by Reel at
commit 68dd335 (schema version 1; tests/data/prev-68dd335.tar.xz, made by
tests/data/make-prev-fixture.sh) is opened by this Reel. A reading command
refuses it and says what to run; `reel check` upgrades it (user_version
becomes the current version) and finds it clean; `reel export` of the whole
range decodes to the same frames the old binary's export did (ffmpeg
framemd5, committed next to the fixture); the accounts survive (users listed,
as admins); `reel run` starts on it and stops cleanly.
"""
import os
import signal
import sqlite3
import subprocess
import tarfile
import tempfile
import shutil
import time
import unittest

from harness import REEL, ReelTestCase

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
FIXTURE = "prev-68dd335"
MADE_AT = "/tmp/reel-prev-fixture/data"   # where make-prev-fixture.sh made it
CURRENT_VERSION = 4


def framemd5s(path):
    """The decoded frames' MD5s, in order (ffmpeg's framemd5 without its
    header and timestamps)."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "framemd5", "-"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return md5_column(out)


def md5_column(text):
    return [line.split(",")[-1].strip() for line in text.splitlines() if line and not line.startswith("#")]


def user_version(data):
    with sqlite3.connect(os.path.join(data, "reel.db")) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


class UpgradeTest(ReelTestCase):
    def setUp(self):
        # not ReelTestCase.setUp: the data dir comes from the fixture
        self.tmp = tempfile.mkdtemp(prefix="reel-it-")
        self.data = os.path.join(self.tmp, "data")
        self.procs = []
        with tarfile.open(os.path.join(DATA, FIXTURE + ".tar.xz")) as t:
            t.extractall(self.tmp)
        # reel.db names its storage directory by absolute path: point it at
        # the unpacked copy (the only change made to the old database)
        with sqlite3.connect(os.path.join(self.data, "reel.db")) as db:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 1)
            db.execute("UPDATE storage_dir SET path = replace(path, ?, ?)", (MADE_AT, self.data))
        db.close()

    def test_previous_release_fixture(self):
        # a reader refuses the old schema, says what to do, changes nothing
        r = self.reel("recordings", "--camera", "cam0", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"is schema version 1, this Reel needs {CURRENT_VERSION}", r.stderr)
        self.assertIn("reel check", r.stderr)
        self.assertEqual(user_version(self.data), 1)

        # check upgrades it and finds it clean
        r = self.reel("check")
        self.assertIn("checked 3 recordings, 3 files", r.stdout)
        self.assertIn(": 0 problems", r.stdout)
        self.assertEqual(user_version(self.data), CURRENT_VERSION)
        with sqlite3.connect(os.path.join(self.data, "reel.db")) as db:
            roles = db.execute("SELECT name, role FROM web_user ORDER BY name").fetchall()
            enabled = db.execute("SELECT name, enabled FROM camera").fetchall()
        db.close()
        self.assertEqual(roles, [("admin", "admin"), ("alice", "admin")])
        self.assertEqual(enabled, [("cam0", 1)])
        r = self.reel("check", "--hash")
        self.assertIn(": 0 problems", r.stdout)
        # issue 14: recordings closed before the upgrade are marked, not hashed now
        self.assertIn("0 closed recordings match the BLAKE2b stored at close, 0 not hashed yet, "
                      "3 closed before Reel hashed recordings", r.stdout)

        # the whole range exports to the same decoded frames as the old export
        with open(os.path.join(DATA, FIXTURE + ".range")) as f:
            frm, to = f.read().split()
        out = os.path.join(self.tmp, "export.mp4")
        self.reel("export", "--camera", "cam0", "--from", "@" + frm, "--to", "@" + to, "-o", out)
        with open(os.path.join(DATA, FIXTURE + ".framemd5")) as f:
            want = md5_column(f.read())
        self.assertGreater(len(want), 100)
        got = framemd5s(out)
        self.assertEqual(len(got), len(want), "frame count differs from the old release's export")
        self.assertEqual(got, want, "decoded frames differ from the old release's export")

        # the accounts survived
        r = self.reel("user", "list")
        self.assertIn("alice", r.stdout)
        self.assertIn("admin", r.stdout)
        r = self.reel("token", "list")
        self.assertIn("script", r.stdout)
        # version 3: the token kept with no expiry of its own (the server's
        # maximum lifetime still ends it), names unique per user
        with sqlite3.connect(os.path.join(self.data, "reel.db")) as db:
            self.assertEqual(db.execute("SELECT expires_ns FROM web_token WHERE name = 'script'").fetchall(), [(0,)])
            uniq = [i for i in db.execute("PRAGMA index_list(web_token)").fetchall() if i[2]]
            cols = sorted(tuple(c[2] for c in db.execute(f"PRAGMA index_info('{i[1]}')").fetchall()) for i in uniq)
        db.close()
        self.assertEqual(cols, [("hash",), ("user_id", "name")])

        # the recorder starts on it (the camera's address is long gone: an
        # outage, not an error) and stops cleanly
        p = self.start([REEL, "-d", self.data, "run", "--http", "127.0.0.1:0", "--rotate-s", "2"], "reel")
        time.sleep(2.5)
        self.assertIsNone(p.p.poll(), "reel run exited:\n" + p.output())
        self.assertEqual(p.stop(signal.SIGTERM), 0, p.output())
        log = p.output()
        self.assertNotIn("database", log, log)
        self.assertNotIn("cannot open", log, log)
        self.assertEqual(user_version(self.data), CURRENT_VERSION)
        r = self.reel("check")
        self.assertIn(": 0 problems", r.stdout)
        # issue 14: the install got its site key pair (at its first signed export here)
        self.assertEqual(os.stat(os.path.join(self.data, "site.key")).st_mode & 0o777, 0o600)


if __name__ == "__main__":
    unittest.main()
