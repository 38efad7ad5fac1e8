# SPDX-License-Identifier: GPL-3.0-or-later
"""Live view (issue 12, docs/live.md): GET /api/cameras/{camera}/live.mp4
streams fragmented MP4 from the hub: the first bytes (init segment and a
key frame from the GOP cache) arrive at once, the stream decodes, each
fragment's prft wall time is close to now, a stalled reader does not slow
recording, the viewer caps answer 503, and the errors are 401/404/409."""
import http.client
import json
import os
import re
import socket
import struct
import subprocess
import time

from harness import CLIPS, REEL_SIM, ReelTestCase, free_port, wait_file, wait_until
from live_http import LiveHttpMixin

NTP_UNIX = 2208988800
STALL_S = 20
FIRST_BYTES_S = float(os.environ.get("REEL_LIVE_FIRST_S", "0.5"))


def boxes(data):
    """[(type, payload)] of the top-level boxes in data (complete ones only)."""
    out, off = [], 0
    while off + 8 <= len(data):
        size, typ = struct.unpack(">I4s", data[off:off + 8])
        if size < 8 or off + size > len(data):
            break
        out.append((typ.decode("latin-1"), data[off + 8:off + size]))
        off += size
    return out, off


class LiveTest(LiveHttpMixin, ReelTestCase):
    def run_reel(self, *extra, cameras=("cam",), codec="h264", clipname=None):
        if clipname:                         # another clip than the codec's default
            self.sim_port = free_port()
            ready = os.path.join(self.tmp, "sim.ready")
            sim = self.start([REEL_SIM, "--clip", os.path.join(CLIPS, clipname), "--codec", codec, "--cameras",
                              str(len(cameras)), "--listen", "127.0.0.1", "--port", str(self.sim_port),
                              "--ready-file", ready], "sim")
            wait_file(ready)
        else:
            sim, self.sim_port = self.start_sim(codec, cameras=len(cameras))
        self.add_user()
        for i, name in enumerate(cameras):
            self.reel("camera", "add", name, f"rtsp://127.0.0.1:{self.sim_port}/cam/{i}")
        rec = self.run_http(*extra)
        for name in cameras:
            wait_until(lambda: self.cam_state(name) == "recording", 20, step=0.2, what=f"{name} recording")
        return sim, rec

    def cam_state(self, name):
        st, _, body = self.get(f"/api/cameras")
        if st != 200:
            return None
        for c in json.loads(body)["cameras"]:
            if c["name"] == name:
                return c.get("state") or c.get("streams", {}).get("main", {}).get("state")
        return None

    def get(self, path, cookie=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", path, headers={"Cookie": f"reel_session={self.sid}"} if cookie else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def open_live(self, name="cam", query=""):
        return self.open_live_socket(name, query, 10)

    def frame_count(self, data):
        path = os.path.join(self.tmp, f"live-{time.time_ns()}.mp4")
        with open(path, "wb") as f:
            f.write(data)
        r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                            "stream=nb_read_frames,codec_name", "-of", "json", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(r.stdout)["streams"][0]
        return int(st["nb_read_frames"]), st["codec_name"]

    def check_stream(self, codec):
        self.run_reel(codec=codec)
        time.sleep(1.5)                      # a GOP in the cache
        t0 = time.time()
        s, head, body = self.open_live()
        self.assertIn(" 200 ", head.splitlines()[0], head)
        self.assertRegex(head, r"(?i)content-type: video/mp4")
        self.assertRegex(head, r"(?i)cache-control: no-store")
        # the first bytes: init segment and a whole first fragment (a key frame)
        s.settimeout(5)
        while True:
            bx, _ = boxes(body)
            if [t for t, _ in bx][:5] == ["ftyp", "moov", "prft", "moof", "mdat"]:
                break
            d = s.recv(65536)
            self.assertTrue(d, "stream ended early")
            body += d
        first = time.time() - t0
        print(f"live.mp4 {codec}: init + first fragment after {first * 1000:.0f} ms")
        self.assertLess(first, FIRST_BYTES_S)
        trun = bx[3][1]
        # moof: mfhd, traf(tfhd, tfdt, trun); the first sample's flags: a sync sample
        self.assertIn(b"trun", trun)
        i = trun.index(b"trun")
        flags = struct.unpack(">I", trun[i + 4 + 4 + 4 + 4 + 4 + 4:i + 4 + 4 + 4 + 4 + 4 + 4 + 4])[0]
        self.assertEqual(flags, 0x02000000, "the first fragment is a key frame")
        seconds = 4.0
        body = self.read_for(s, body, seconds)
        s.close()
        n, name = self.frame_count(body)
        self.assertEqual(name, {"h264": "h264", "h265": "hevc"}[codec])
        bx, _ = boxes(body)
        frags = sum(1 for t, _ in bx if t == "moof")
        print(f"live.mp4 {codec}: {frags} fragments, {n} frames decoded in {seconds} s")
        self.assertGreaterEqual(n, frags - 1)
        self.assertGreater(frags, 30 * seconds * 0.6)
        # prft: the NTP wall time of arrival, close to now when read
        delays = []
        for t, p in bx:
            if t == "prft":
                ntp = struct.unpack(">Q", p[8:16])[0]
                wall = (ntp >> 32) - NTP_UNIX + (ntp & 0xffffffff) / 2**32
                delays.append(time.time() - wall)
        self.assertTrue(delays)
        self.assertLess(abs(delays[-1]), seconds + 1.0)

    def test_h264_instant_start_decodes(self):
        self.check_stream("h264")

    def test_h265_instant_start_decodes(self):
        self.check_stream("h265")

    def test_errors_caps_and_camera_restart(self):
        sim, rec = self.run_reel("--live-viewers-max", "2", "--backoff-max-s", "1", cameras=("cam", "off"))
        self.reel("camera", "disable", "off")
        st, _, body = self.get("/api/cameras/cam/live.mp4", cookie=False)
        self.assertEqual(st, 401, body)
        st, _, body = self.get("/api/cameras/nope/live.mp4")
        self.assertEqual(st, 404, body)
        st, _, body = self.get("/api/cameras/cam/live.mp4?stream=sub")
        self.assertEqual(st, 404, body)                  # no sub-stream
        st, _, body = self.get("/api/cameras/off/live.mp4")
        self.assertEqual(st, 409, body)
        self.assertEqual(json.loads(body)["reason"], "disabled")
        # the cap in all: 2 viewers, the third gets 503 with Retry-After
        a, head_a, _ = self.open_live()
        b, head_b, _ = self.open_live()
        self.assertIn(" 200 ", head_a.splitlines()[0])
        self.assertIn(" 200 ", head_b.splitlines()[0])
        st, hdr, body = self.get("/api/cameras/cam/live.mp4")
        self.assertEqual(st, 503, body)
        self.assertIn("Retry-After", hdr)
        self.assertIn("error", json.loads(body))
        b.close()
        # the slot is given back once the server notices the closed viewer
        wait_until(lambda: self.get("/api/cameras/off/live.mp4")[0] == 409 and
                   (lambda c: (c[0].close(), " 200 " in c[1].splitlines()[0])[1])(self.open_live()), 10,
                   step=0.3, what="a viewer's slot back")
        # ?stream=h264 of an H.264 camera: its main stream (200 once a closed viewer's slot is back)
        wait_until(lambda: (lambda c: (c[0].close(), " 200 " in c[1].splitlines()[0])[1])(
            self.open_live(query="?stream=h264")), 10, step=0.3, what="stream=h264 of an H.264 camera")
        # the camera goes away: the open stream ends; offline gives 409; back: a new request works
        sim.kill()
        t0 = time.time()
        a.settimeout(1)
        ended = False
        while time.time() - t0 < 15 and not ended:
            try:
                ended = a.recv(65536) == b""
            except socket.timeout:
                pass
        a.close()
        self.assertTrue(ended, "the live stream ends when the camera stops")
        print(f"live.mp4: stream ended {time.time() - t0:.2f} s after the camera went away")
        st, _, body = self.get("/api/cameras/cam/live.mp4")
        self.assertEqual(st, 409, body)
        self.assertEqual(json.loads(body)["reason"], "offline")
        self.start_sim("h264", cameras=2, port=self.sim_port, name="sim2")
        wait_until(lambda: self.cam_state("cam") == "recording", 30, step=0.3, what="cam recording again")
        c, head, body = self.open_live()
        self.assertIn(" 200 ", head.splitlines()[0])
        body = self.read_for(c, body, 1.5)
        c.close()
        self.assertEqual([t for t, _ in boxes(body)[0]][:2], ["ftyp", "moov"])
        # the recorder stops cleanly with a viewer connected (its waiting response is resumed and ended)
        c, head, _ = self.open_live()
        self.assertIn(" 200 ", head.splitlines()[0])
        time.sleep(0.5)
        rec.stop()
        c.close()
        self.assertEqual(rec.p.returncode, 0, rec.output()[-3000:])
        self.assertNotRegex(rec.output(), r"Sanitizer|runtime error")

    def test_steady_delay_and_stalled_reader(self):
        _, rec = self.run_reel(clipname="h264-1080p.264")   # 4 Mbit/s: a stall overflows the viewer's queue
        time.sleep(1.0)
        # a reader that stalls past the request deadline (10 s) with a small receive buffer, long
        # enough for the socket buffers and its hub queue (4 MiB) to fill
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", self.port))
        stalled.sendall(f"GET /api/cameras/cam/live.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Cookie: reel_session={self.sid}\r\n\r\n".encode())
        t_stall = time.time()
        # meanwhile a steady reader: prft wall times within 500 ms of arrival
        s, head, body = self.open_live()
        t_open = time.time()
        s.settimeout(5)
        delays = []
        buf = body
        while time.time() - t_open < 4:
            d = s.recv(65536)
            self.assertTrue(d)
            buf += d
            bx, used = boxes(buf)
            now = time.time()
            for t, p in bx:
                if t == "prft" and now - t_open > 1.0:     # past the cached GOP
                    ntp = struct.unpack(">Q", p[8:16])[0]
                    delays.append(now - ((ntp >> 32) - NTP_UNIX + (ntp & 0xffffffff) / 2**32))
            buf = buf[used:]
        s.close()
        self.assertGreater(len(delays), 30)
        delays.sort()
        print(f"live.mp4: prft delay median {delays[len(delays) // 2] * 1000:.0f} ms, "
              f"max {delays[-1] * 1000:.0f} ms over {len(delays)} fragments")
        self.assertLess(delays[len(delays) // 2], 0.5)
        time.sleep(max(0.0, t_stall + STALL_S - time.time()))
        # the stalled reader was not cut by the request deadline and resumes at a key frame
        stalled.settimeout(5)
        got = b""
        t_read = time.time()
        while time.time() - t_read < 3:
            try:
                d = stalled.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            got += d
        stalled.close()
        self.assertGreater(len(got), 100000, "the stalled reader's stream goes on")
        self.assertRegex(got[:4096], rb"^HTTP/1\.1 200 ")
        # the hub dropped the stalled viewer's queue (to the next key frame) rather than hold it all
        m = wait_until(lambda: re.search(r"live: cam: viewer gone after \d+ fragments, ([1-9]\d*) access units skipped",
                                         rec.output()), 10, what="the stalled viewer's skipped access units")
        print(f"stalled viewer: {m.group(1)} access units skipped")
        # recording did not slow: no gap in the stored frames over the whole time
        time.sleep(1.0)
        frames = self.frames("cam")
        walls = sorted(f[1] for f in frames)
        gaps = [(b - a) / 90000 for a, b in zip(walls, walls[1:])]
        span = (walls[-1] - walls[0]) / 90000
        print(f"recording meanwhile: {len(walls)} frames over {span:.1f} s, largest gap {max(gaps) * 1000:.0f} ms")
        self.assertLess(max(gaps), 0.5)
        self.assertGreater(len(walls), span * 30 * 0.9)
