# SPDX-License-Identifier: GPL-3.0-or-later
"""Audio recording end to end: GStreamer's RTSP server sends H.264 video and
an audio stream (PCMU, PCMA, AAC, Opus, or hostile garbage) in one session;
the recorder, with the camera's audio on, records the audio as the run of the
"<camera>~audio" row next to the video. Checked with the store (`reel
recordings`, `reel frames`): frame counts, sizes and durations as the encoder
sent them. With audio off (the default) no audio track is even set up."""
import glob
import os
import sqlite3
import subprocess
import time
import unittest

from harness import GST_SERVER, SYS_PYTHON, ReelTestCase, clip, clip_frames, free_port, wait_file


class AudioTest(ReelTestCase):
    SECONDS = 6.0

    def start_gst_audio(self, audio, port=None, name="gst"):
        port = port or free_port()
        ready = os.path.join(self.tmp, f"{name}.ready")
        self.req_log = os.path.join(self.tmp, "gst-requests.log")
        self.gst = self.start([SYS_PYTHON, GST_SERVER, "--port", str(port), "--clip", clip("h264", "mp4"),
                               "--codec", "h264", "--mount", "/cam", "--ready-file", ready,
                               *(["--audio", audio] if audio else []), "--log-requests", self.req_log], name)
        wait_file(ready, 30)
        return port

    def setups(self):
        with open(self.req_log) as f:
            return [line.split()[1] for line in f if line.startswith("SETUP ")]

    def record(self, audio, audio_on=True, udp=False):
        port = self.start_gst_audio(audio)
        self.reel("camera", "add", "c0", f"rtsp://127.0.0.1:{port}/cam", *(["--udp"] if udp else []))
        if audio_on:
            out = self.reel("camera", "set", "c0", "--audio", "on").stdout
            self.assertIn("(audio)", out)
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "3", "--no-http")
        time.sleep(self.SECONDS)
        self.assertEqual(rec.stop(), 0, rec.output())
        return rec.output()

    def check_video(self):
        stored = self.frames("c0")
        try:
            self.assert_frames_match_clip(stored, clip_frames("h264", clip("h264")), 100, dur_tolerance=1)
        except AssertionError as e:
            raise AssertionError(f"video: {e}\n{self.dump_logs()}")
        return stored

    def check_audio(self, frame_dur, per_s, size=None, first_dur_free=False):
        video = self.check_video()
        recs = self.recordings("c0~audio")
        self.assertGreaterEqual(len(recs), 1, "no audio recording\n" + self.dump_logs())
        frames = self.frames("c0~audio")
        self.assertEqual(sum(int(r["frames"]) for r in recs), len(frames))
        self.assertTrue(all(f[4] for f in frames), "every audio frame is a key frame")
        durs = [f[2] for f in frames[:-1]]
        check = durs[1:] if first_dur_free else durs
        self.assertTrue(all(d == frame_dur for d in check),
                        f"audio frame durations {sorted(set(check))}, expected {frame_dur}")
        media_s = sum(durs) / 90000
        # the frame count matches the duration: per_s frames a second
        self.assertAlmostEqual(len(frames), media_s * per_s + 1, delta=2)
        self.assertGreater(media_s, self.SECONDS - 3, "too little audio recorded")
        if size:
            self.assertTrue(all(f[3] == size for f in frames), f"sizes {sorted(set(f[3] for f in frames))}")
        else:
            self.assertTrue(all(0 < f[3] < 2048 for f in frames))
        # audio and video start together in wall time (within a second)
        self.assertLess(abs(frames[0][1] - video[0][1]), 90000)
        self.assertEqual(len(self.setups()), 2, "video and audio set up")
        r = self.reel("check")
        self.assertIn(" 0 problems", r.stdout)
        return frames, media_s

    def check_export(self, codec_name, rate, channels):
        """`reel export` carries the recorded audio (the MP4 side's): the
        audio track decodes cleanly and lasts as long as the video."""
        video = self.frames("c0")
        out = os.path.join(self.tmp, "export.mp4")
        t0, t1 = video[0][1] / 90000, (video[-1][1] + video[-1][2]) / 90000
        self.reel("export", "--camera", "c0", "--from", "@%.3f" % t0, "--to", "@%.3f" % t1, "-o", out)
        r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                            "stream=codec_name,sample_rate,channels,duration", "-of", "csv=p=0", out],
                           capture_output=True, text=True, timeout=60)
        got = r.stdout.strip().split(",")
        self.assertEqual(got[:3], [codec_name, str(rate), str(channels)], r.stdout + r.stderr)
        self.assertAlmostEqual(float(got[3]), t1 - t0, delta=0.5)
        r = subprocess.run(["ffmpeg", "-v", "error", "-i", out, "-f", "null", "-"], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual((r.returncode, r.stderr), (0, ""), "the export does not decode cleanly")

    def stored_bytes(self, camera):
        """The sample files of a camera's recordings, end to end, in order."""
        out = b""
        for r in self.recordings(camera):
            paths = glob.glob(os.path.join(self.data, "storage", "*", "%016x" % r["id"]))
            self.assertEqual(len(paths), 1, f"sample file of recording {r['id']}")
            with open(paths[0], "rb") as f:
                out += f.read()
        return out

    def assert_g711_is_the_encoders(self, enc):
        """The stored samples are exactly what GStreamer's encoder makes of
        the same sine (440 Hz at 8 kHz: it repeats every 200 samples), with
        none lost, doubled or reordered."""
        ref_path = os.path.join(self.tmp, "ref.g711")
        subprocess.run(["gst-launch-1.0", "-q", "audiotestsrc", "num-buffers=10", "samplesperbuffer=160", "!",
                        "audio/x-raw,rate=8000,channels=1", "!", enc, "!", "filesink", f"location={ref_path}"],
                       check=True, timeout=60)
        with open(ref_path, "rb") as f:
            ref = f.read()
        self.assertEqual(ref[:200], ref[200:400], "the reference sine repeats every 200 samples")
        got = self.stored_bytes("c0~audio")
        self.assertEqual(len(got), sum(f[3] for f in self.frames("c0~audio")))
        offs = [o for o in range(200) if ref[o:o + 200] == got[:200]]
        self.assertTrue(offs, "the stored samples are not the encoder's")
        o = offs[0]
        bad = sum(1 for i, b in enumerate(got) if b != ref[(o + i) % 200])
        self.assertEqual(bad, 0, f"{bad} of {len(got)} stored samples differ from the encoder's")

    def test_audio_pcmu(self):
        log = self.record("pcmu")
        self.assertIn("recording audio (PCMU, 8000 Hz, 1 channel) as c0~audio", log)
        frames, media_s = self.check_audio(1800, 50, size=160)
        total = sum(f[3] for f in frames)
        self.assertAlmostEqual(total, 8000 * (media_s + 0.02), delta=8000 * 0.05)
        self.assert_g711_is_the_encoders("mulawenc")
        self.check_export("pcm_mulaw", 8000, 1)

    def test_audio_pcma(self):
        log = self.record("pcma")
        self.assertIn("recording audio (PCMA, 8000 Hz, 1 channel)", log)
        frames, media_s = self.check_audio(1800, 50, size=160)
        self.assertAlmostEqual(sum(f[3] for f in frames), 8000 * (media_s + 0.02), delta=8000 * 0.05)
        self.assert_g711_is_the_encoders("alawenc")
        self.check_export("pcm_alaw", 8000, 1)

    def test_audio_aac(self):
        log = self.record("aac")
        self.assertIn("recording audio (AAC, 16000 Hz, 1 channel)", log)
        frames, _ = self.check_audio(5760, 16000 / 1024)   # 1024 samples at 16 kHz = 5760 ticks
        # the stored AUs are raw AAC frames: with an ADTS header each (AAC-LC,
        # 16 kHz = index 8, mono) ffmpeg decodes every one of them cleanly
        data = self.stored_bytes("c0~audio")
        adts, at = b"", 0
        for f in frames:
            n = f[3] + 7
            adts += bytes([0xff, 0xf1, (1 << 6) | (8 << 2), (1 << 6) | (n >> 11), (n >> 3) & 0xff,
                           ((n & 7) << 5) | 0x1f, 0xfc]) + data[at:at + f[3]]
            at += f[3]
        self.assertEqual(at, len(data))
        path = os.path.join(self.tmp, "audio.aac")
        with open(path, "wb") as f:
            f.write(adts)
        r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((r.returncode, r.stderr), (0, ""), "stored AAC does not decode cleanly")
        r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "a:0", "-show_entries",
                            "stream=nb_read_frames,sample_rate,channels", "-of", "csv=p=0", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout.strip(), f"16000,1,{len(frames)}")
        self.check_export("aac", 16000, 1)

    def test_audio_opus(self):
        log = self.record("opus")
        self.assertIn("recording audio (Opus, 48000 Hz, 2 channels)", log)
        # the encoder's first packet may be short (its lookahead)
        self.check_audio(1800, 50, first_dur_free=True)
        self.check_export("opus", 48000, 2)

    def test_audio_off_by_default(self):
        log = self.record("pcmu", audio_on=False)
        self.check_video()
        self.assertEqual(len(self.setups()), 1, f"only the video is set up: {self.setups()}")
        self.assertNotIn("audio", log)
        self.assertNotIn("c0~audio", self.reel("camera", "list").stdout)
        r = self.reel("recordings", "--camera", "c0~audio", check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_audio_garbage_never_stops_video(self):
        self.record("garbage")
        self.check_video()
        self.assertEqual(len(self.setups()), 2)
        # whatever survived of the audio is stored consistently
        r = self.reel("check")
        self.assertIn(" 0 problems", r.stdout)

    def test_audio_over_udp_not_recorded(self):
        """Audio is recorded over RTSP/TCP only: a UDP camera records its
        video, sets up no audio, and says why once."""
        log = self.record("pcmu", udp=True)
        self.check_video()
        self.assertEqual(len(self.setups()), 1)
        self.assertEqual(log.count("camera c0: audio not recorded: audio is recorded over RTSP/TCP only"), 1, log)
        self.assertEqual(self.frames("c0~audio"), [])

    def test_audio_on_camera_without_audio(self):
        """Audio on, but the camera's SDP has no audio: video as before, one
        log line."""
        log = self.record(None)
        self.check_video()
        self.assertEqual(len(self.setups()), 1)
        self.assertEqual(log.count("camera c0: audio not recorded: the SDP has no audio stream; "
                                   "recording video only"), 1, log)
        self.assertEqual(self.frames("c0~audio"), [])

    def test_audio_storage_failure_spares_video(self):
        """The audio row's storage dir is unusable (its identity file is gone):
        the audio is not recorded, with a log line; the video goes on."""
        disk = os.path.join(self.tmp, "disk")
        self.reel("storage", "add", disk)
        dir_id = [line.split()[0] for line in self.reel("storage", "list").stdout.splitlines()
                  if disk in line.split()][0]
        port = self.start_gst_audio("pcmu")
        self.reel("camera", "add", "c0", f"rtsp://127.0.0.1:{port}/cam")
        self.reel("camera", "set", "c0", "--audio", "on")
        # no CLI option sets a stream row's storage yet: straight in the database
        db = sqlite3.connect(os.path.join(self.data, "reel.db"))
        with db:
            db.execute("UPDATE camera SET dir_id = ? WHERE name = 'c0~audio'", (int(dir_id),))
        db.close()
        os.rename(disk, disk + ".away")   # the disk "fails to mount"
        os.mkdir(disk)
        rec = self.start_reel("--checkpoint-ms", "500", "--rotate-s", "3", "--no-http")
        time.sleep(self.SECONDS)
        self.assertEqual(rec.stop(), 0, rec.output())
        log = rec.output()
        self.assertEqual(log.count("camera c0: cannot record audio:"), 1, log)
        self.assertIn("video goes on", log)
        self.check_video()
        self.assertEqual(self.frames("c0~audio"), [])
        self.assertEqual(os.listdir(disk), [], "it recorded into the empty mount point")

    def test_audio_turned_on_and_off_while_recording(self):
        """`camera set --audio on|off` applies to the running recorder: the
        camera reconnects with (then without) its audio."""
        port = self.start_gst_audio("pcmu")
        self.reel("camera", "add", "c0", f"rtsp://127.0.0.1:{port}/cam")
        rec = self.start_reel("--checkpoint-ms", "500", "--no-http")
        time.sleep(3)
        self.assertEqual(len(self.setups()), 1)
        self.reel("camera", "set", "c0", "--audio", "on")
        time.sleep(4)
        self.assertEqual(len(self.setups()), 3, "reconnected with the audio set up")
        self.assertRegex(self.reel("status").stdout, r"c0~audio\s+with camera")
        self.reel("camera", "set", "c0", "--audio", "off")
        time.sleep(2)
        n_audio = len(self.frames("c0~audio"))
        time.sleep(2)
        self.assertEqual(rec.stop(), 0, rec.output())
        self.assertEqual(len(self.setups()), 4, "reconnected without the audio")
        self.assertGreater(n_audio, 100, self.dump_logs())
        self.assertLessEqual(len(self.frames("c0~audio")), n_audio + 5, "audio went on after --audio off")
        self.assertGreaterEqual(len({r["run"] for r in self.recordings("c0")}), 3, "a video run per connection")
        self.assertGreater(len(self.frames("c0")), 200)

    def test_audio_restarts_with_video(self):
        """The camera goes away and comes back: the audio run ends with the
        video run and a new one starts with the next video run."""
        port = self.start_gst_audio("pcmu")
        self.reel("camera", "add", "c0", f"rtsp://127.0.0.1:{port}/cam")
        self.reel("camera", "set", "c0", "--audio", "on")
        rec = self.start_reel("--checkpoint-ms", "500", "--backoff-max-s", "1", "--no-http")
        time.sleep(4)
        self.gst.kill()
        time.sleep(1.5)
        self.start_gst_audio("pcmu", port=port, name="gst2")
        time.sleep(5)
        self.assertEqual(rec.stop(), 0, rec.output())
        vruns = sorted({int(r["run"]) for r in self.recordings("c0")})
        arecs = self.recordings("c0~audio")
        aruns = sorted({int(r["run"]) for r in arecs})
        self.assertGreaterEqual(len(vruns), 2, self.dump_logs())
        self.assertEqual(len(aruns), len(vruns), f"audio runs {aruns}, video runs {vruns}")
        for run in aruns:
            n = sum(int(r["frames"]) for r in arecs if int(r["run"]) == run)
            self.assertGreater(n, 50, f"audio run {run} has {n} frames")
        # each audio run starts within a second of its video run
        vstart = {}
        for r in self.recordings("c0"):
            vstart.setdefault(int(r["run"]), int(r["start90k"]))
        astart = {}
        for r in arecs:
            astart.setdefault(int(r["run"]), int(r["start90k"]))
        for (_, v), (_, a) in zip(sorted(vstart.items()), sorted(astart.items())):
            self.assertLess(abs(a - v), 90000)
        self.assertEqual(len(self.setups()), 4, "video and audio set up on each connection")


if __name__ == "__main__":
    unittest.main()
