# SPDX-License-Identifier: GPL-3.0-or-later
"""Event retention against the real recorder (issue 15; docs/motion.md
"Event retention"): a camera keeping 3.6 s of footage and an hour of the
footage around its events (camera_events.event_retain_seconds, rolls of
1 s; the event and the settings written into reel.db here, as the detector
and the motion route would) keeps the recordings around the event while
retention deletes those before and after it; the motion grid rows older
than the remaining footage go with it, a current one stays."""
import os
import sqlite3
import time

from harness import wait_until
from test_locks import CLIP_1080P, LocksTest

M90K = 60 * 90000


class EventRetentionTest(LocksTest):
    def test_event_footage_outlives_the_rest(self):
        port = self.sim(CLIP_1080P, 1)
        self.reel("camera", "add", "a", f"rtsp://127.0.0.1:{port}/cam/0", "--retain-hours", "0.001")
        t0 = time.time()
        now_min = int(t0 * 90000) // M90K * M90K
        blob = bytes([1, 1]) + bytes([1] + [0] * 31) + bytes([7, 1] + [0] * 31) + bytes([9])
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=30)
        with db:
            cam = db.execute("SELECT id FROM camera WHERE name = 'a'").fetchone()[0]
            db.execute("INSERT INTO camera_events (camera_id, motion, event_retain_seconds, pre_roll_s, post_roll_s) "
                       "VALUES (?, 'off', 3600, 1, 1)", (cam,))
            db.executemany("INSERT INTO motion_minute (camera_id, minute90k, data) VALUES (?, ?, ?)",
                           [(cam, now_min - 10 * M90K, blob), (cam, now_min + M90K, blob)])
        db.close()
        self.run_reel()
        # the event: the second around now, once footage is being recorded (retention keeps 3.6 s anyway)
        wait_until(lambda: self.recs("a"), 30, 0.2, "the first recording")
        t = time.time()
        ea, eb = int((t - 0.5) * 90000), int((t + 0.5) * 90000)
        wa, wb = ea - 90000, eb + 90000                               # widened by the rolls
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=30)
        with db:
            db.execute("INSERT INTO event (camera_id, kind, source, start90k, end90k) VALUES (?, 'motion', 'motion', ?, ?)",
                       (cam, ea, eb))
        db.close()

        def deleted_after_event():
            for line in self.reel("gaps", "--camera", "a").stdout.splitlines():
                if "deleted by retention" in line:
                    return line
            return None

        # footage from after the event older than 3.6 s must go: wait for a deletion range past wb
        def done():
            recs = self.recs("a")
            kept = [r for r in recs if self.overlaps(r, wa, wb)]
            later = [r for r in recs if int(r["start90k"]) >= wb]
            return kept and later and int(later[0]["start90k"]) > wb + 2 * 90000 and deleted_after_event()
        wait_until(done, 40, 0.5, "retention to delete the footage after the event")
        time.sleep(2)   # a few more passes: the event's footage stays
        recs = self.recs("a")
        kept = [r for r in recs if self.overlaps(r, wa, wb)]
        self.assertTrue(kept, self.reel("gaps", "--camera", "a").stdout)
        old = time.time() * 90000 - 3.6 * 90000 - 3 * 90000     # older than the camera's 3.6 s, with margin
        for r in recs:
            end = int(r["start90k"]) + int(r["wall90k"])
            if end < old:
                self.assertTrue(self.overlaps(r, wa, wb), f"{r} outlived 3.6 s without an event")
        # the grid: the minute long before any footage went, the current one stays
        db = sqlite3.connect(os.path.join(self.data, "reel.db"), timeout=30)
        minutes = [m for (m,) in db.execute("SELECT minute90k FROM motion_minute ORDER BY minute90k")]
        db.close()
        self.assertEqual(minutes, [now_min + M90K])
        self.assertEqual(self.rec.stop(), 0, self.dump_logs())


if __name__ == "__main__":
    import unittest
    unittest.main()
