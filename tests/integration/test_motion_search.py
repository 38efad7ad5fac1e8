# SPDX-License-Identifier: GPL-3.0-or-later
"""Motion search over the stored grid (issue 15), against a real `reel run`
and reel-sim: motion_minute rows written here (the format of
src/motion/grid.h, one corrupt row among them) are searched through
GET /api/cameras/{camera}/motion/search (region, min_cells, min_level,
seconds merged into moments across a minute's edge, limit and truncated),
summed by /motion/activity and read back by /motion/grid; and every bad
input, a camera the user may not see, a role without PLAYBACK and no
credentials are refused. Standard library only (http.client, sqlite3)."""
import json
import os
import sqlite3
import time
import urllib.parse

from harness import wait_until
from test_http import HttpTest, USER

M90K = 60 * 90000


def grid_blob(secs):
    """A minute's blob: secs = {second: {cell: level}}."""
    recs, allbits = b"", bytearray(32)
    for s in sorted(secs):
        bits = bytearray(32)
        for c in secs[s]:
            bits[c // 8] |= 1 << (c % 8)
            allbits[c // 8] |= 1 << (c % 8)
        recs += bytes([s]) + bytes(bits) + bytes(secs[s][c] for c in sorted(secs[s]))
    return bytes([1, len(secs)]) + bytes(allbits) + recs


def cell(x, y):
    return y * 16 + x


class MotionSearchTest(HttpTest):
    def get(self, token, path):
        return self.request("GET", path, headers={"Host": "127.0.0.1", "Authorization": f"Bearer {token}"})

    def add_viewer(self, name, role, cameras=None):
        pw = os.path.join(self.tmp, f"{name}.pw")
        with open(pw, "w") as f:
            f.write(f"{name}-password-1\n")
        args = ["user", "add", name, "--password-file", pw, "--role", role]
        if cameras:
            args += ["--cameras", cameras]
        self.reel(*args)
        return self.reel("token", "add", f"t{name}", "--user", name).stdout.strip()

    def write_rows(self):
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=30)
        cam = db.execute("SELECT id FROM camera WHERE name = 'cam0'").fetchone()[0]
        m0 = (int(time.time()) // 60 - 60) * M90K
        a, b = cell(1, 1), cell(2, 1)
        rows = [
            (m0, grid_blob({10: {a: 100}, 11: {a: 100}, 13: {a: 90}, 20: {a: 100, b: 50}, 30: {cell(15, 15): 5},
                            59: {a: 7}})),
            (m0 + M90K, grid_blob({0: {a: 200}})),
            (m0 + 2 * M90K, b"\x01\x02" + os.urandom(40)),   # corrupt: skipped
        ]
        with db:
            db.executemany("INSERT INTO motion_minute (camera_id, minute90k, data) VALUES (?, ?, ?)",
                           [(cam, m, d) for m, d in rows])
        db.close()
        return m0

    def test_search_activity_grid_and_refusals(self):
        self.start_recording()
        self.reel("camera", "add", "hidden", f"rtsp://127.0.0.1:{self.sim_port}/cam/0")
        admin = self.reel("token", "add", "tadmin", "--user", USER).stdout.strip()
        m0 = self.write_rows()
        region = bytearray(32)
        region[2] = 0x06                     # cells (1,1) and (2,1)
        reg = region.hex()
        base = f"/api/cameras/cam0/motion/search?from={m0}&to={m0 + 3 * M90K}&region={reg}"
        r = wait_until(lambda: (lambda x: x if x.status == 200 else None)(self.get(admin, base)), 15,
                       what="the search route")
        j = r.json()
        got = [(m["start90k"] - m0, m["end90k"] - m0, m["seconds"], m["peak_cells"]) for m in j["moments"]]
        S = 90000
        # 10, 11, 13 merge (13 starts 2 s after 11 ended... at most 2 s apart); 20 alone; 59 and the next minute's 0
        self.assertEqual(got, [(10 * S, 14 * S, 3, 1), (20 * S, 21 * S, 1, 2), (59 * S, 61 * S, 2, 1)])
        self.assertFalse(j["truncated"])
        self.assertEqual(j["minutes_scanned"], 2)
        self.assertIsInstance(j["took_ms"], int)
        self.assertTrue(j["moments"][0]["start"].endswith("Z"))
        # RFC 3339 bounds, min_cells, min_level, limit
        frm = urllib.parse.quote(j["moments"][1]["start"])
        r = self.get(admin, f"/api/cameras/cam0/motion/search?from={frm}&to={m0 + 3 * M90K}&region={reg}")
        self.assertEqual([m["start90k"] - m0 for m in r.json()["moments"]], [20 * S, 59 * S])
        r = self.get(admin, base + "&min_cells=2")
        self.assertEqual([(m["start90k"] - m0, m["peak_cells"]) for m in r.json()["moments"]], [(20 * S, 2)])
        r = self.get(admin, base + "&min_level=95")
        self.assertEqual([(m["start90k"] - m0, m["seconds"]) for m in r.json()["moments"]],
                         [(10 * S, 2), (20 * S, 1), (60 * S, 1)])
        r = self.get(admin, base + "&limit=1")
        self.assertEqual(len(r.json()["moments"]), 1)
        self.assertTrue(r.json()["truncated"])
        # no region: the whole picture (the corner cell at 30 s too)
        r = self.get(admin, f"/api/cameras/cam0/motion/search?from={m0}&to={m0 + 3 * M90K}")
        self.assertIn(30 * S, [m["start90k"] - m0 for m in r.json()["moments"]])
        # activity: 6 of the first minute's 60 seconds, 1 of the second's
        r = self.get(admin, f"/api/cameras/cam0/motion/activity?from={m0}&to={m0 + 2 * M90K}&buckets=2")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["levels"], [10, 2])
        self.assertEqual(r.json()["step90k"], M90K)
        # one second's grid
        r = self.get(admin, f"/api/cameras/cam0/motion/grid?at={m0 + 20 * S + 100}")
        cells = r.json()["cells"]
        self.assertEqual((cells[cell(1, 1)], cells[cell(2, 1)], sum(cells)), (100, 50, 150))
        self.assertEqual(r.json()["at90k"], m0 + 20 * S)

        # ---- refusals ----
        bad = [
            "region=" + reg[:-1], "region=" + "zz" * 32, "region=" + "00" * 32, "region=" + reg + "0",
            f"from={m0 + M90K}&to={m0}", f"from={m0 - 63 * 86400 * S}&to={m0}", "from=" + "9" * 100,
            "from=yesterday", "limit=0", "limit=10001", "limit=1x", "min_cells=0", "min_cells=257",
            "min_level=0", "min_level=256", "min_cells=-1",
        ]
        for q in bad:
            r = self.get(admin, f"/api/cameras/cam0/motion/search?{q}")
            self.assert_json_error(r, 400)
        self.assertEqual(self.get(admin, "/api/cameras/cam0/motion/search?from=" + "9" * 9000).status, 414)
        for q in ["buckets=0", "buckets=2001", f"from={m0}&to={m0}"]:
            self.assert_json_error(self.get(admin, f"/api/cameras/cam0/motion/activity?{q}"), 400)
        for q in ["", "at=never", "at=" + "1" * 100]:
            self.assert_json_error(self.get(admin, f"/api/cameras/cam0/motion/grid?{q}"), 400)
        unknown = self.get(admin, "/api/cameras/nosuch/motion/search")
        self.assert_json_error(unknown, 404)
        # a viewer of the other camera gets exactly the unknown camera's answer; an auditor 403; nobody 401
        other = self.add_viewer("vhidden", "viewer", "hidden")
        auditor = self.add_viewer("aud", "auditor")
        for route in ("search", "activity", "grid?at=0"):
            r = self.get(other, f"/api/cameras/cam0/motion/{route}")
            self.assertEqual(r.status, 404, r.body)
            self.assertEqual(r.json()["error"], "no camera 'cam0'")
            self.assert_json_error(self.get(auditor, f"/api/cameras/cam0/motion/{route}"), 403)
            self.assertEqual(self.request("GET", f"/api/cameras/cam0/motion/{route}",
                                          headers={"Host": "127.0.0.1"}).status, 401)
        # the hidden camera is the viewer's own: answered (no rows: no moments)
        r = self.get(other, "/api/cameras/hidden/motion/search")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["moments"], [])
        self.assertIn("corrupt motion_minute", self.rec.output())


if __name__ == "__main__":
    import unittest
    unittest.main()
