#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A reference RTSP server built on GStreamer's gst-rtsp-server, so that Reel's
# client is also tested against an implementation that is not ours. Serves one
# MP4 clip (looping is not needed by the tests) at rtsp://127.0.0.1:PORT/MOUNT
# with shared media, TCP and UDP transports allowed, parameter sets sent
# in-band before every key frame (config-interval=-1).
#
# With --audio it serves an audio stream next to the video (a sine from
# audiotestsrc): pcmu, pcma (8 kHz mono, 20 ms packets), aac (voaacenc,
# 16 kHz mono, mpeg4-generic AAC-hbr), opus (48 kHz, 20 ms), or garbage
# (mpeg4-generic AAC-hbr in the SDP, random bytes as payloads, many of them
# with impossible AU headers). --log-requests F appends "METHOD URL" for every
# request the server receives (to count the SETUPs).
#
# Run with Debian's /usr/bin/python3 (it has the gi bindings):
#   gst_rtsp_server.py --port P --clip FILE.mp4 --codec h264|h265 [--mount /cam] [--ready-file F]
#                      [--audio pcmu|pcma|aac|opus|garbage] [--log-requests F]
import argparse
import os
import random
import signal
import struct
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def garble_audio(_factory, media):
    """Replaces the audio payloader's output: RTP header kept, payload random
    (so AU headers claim sizes and counts the data cannot back)."""
    pay = media.get_element().get_by_name("pay1")
    rng = random.Random(7)
    pushing = [False]

    def probe(pad, info):
        if pushing[0]:
            return Gst.PadProbeReturn.OK   # our own buffer, pushed below
        buf = info.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        if not ok:
            return Gst.PadProbeReturn.OK
        data = bytes(m.data)
        buf.unmap(m)
        if len(data) <= 12:
            return Gst.PadProbeReturn.OK
        n = rng.choice((1, 2, 3, 50, 400, len(data) - 12))
        junk = bytes(rng.getrandbits(8) for _ in range(n))
        if rng.random() < 0.3:   # an AU-headers-length far larger than the packet
            junk = struct.pack(">H", 0xfff0) + junk
        out = Gst.Buffer.new_wrapped(data[:12] + junk)
        out.pts, out.dts, out.duration = buf.pts, buf.dts, buf.duration
        pushing[0] = True
        try:
            pad.push(out)   # goes out instead of the original
        finally:
            pushing[0] = False
        return Gst.PadProbeReturn.DROP

    pay.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, probe)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clip", required=True, help="MP4 file with one H.264 or H.265 video track")
    ap.add_argument("--codec", choices=("h264", "h265"), required=True)
    ap.add_argument("--mount", default="/cam")
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--ready-file")
    ap.add_argument("--audio", choices=("pcmu", "pcma", "aac", "opus", "garbage"))
    ap.add_argument("--log-requests")
    a = ap.parse_args()

    if not os.path.isfile(a.clip):
        sys.exit(f"gst_rtsp_server: clip {a.clip} not found")
    if not a.mount.startswith("/"):
        sys.exit("gst_rtsp_server: --mount must start with /")

    Gst.init(None)
    loc = a.clip.replace("\\", "\\\\").replace('"', '\\"')
    audio = {
        "pcmu": "audiotestsrc is-live=true samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1 ! "
                "mulawenc ! rtppcmupay name=pay1 pt=0 min-ptime=20000000 max-ptime=20000000",
        "pcma": "audiotestsrc is-live=true samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1 ! "
                "alawenc ! rtppcmapay name=pay1 pt=8 min-ptime=20000000 max-ptime=20000000",
        "aac": "audiotestsrc is-live=true ! audio/x-raw,rate=16000,channels=1 ! voaacenc ! "
               "rtpmp4gpay name=pay1 pt=97",
        "opus": "audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! "
                "opusenc frame-size=20 ! rtpopuspay name=pay1 pt=111",
        # random bytes framed as AAC: rtpmp4gpay writes sound AU headers, the
        # probe below then overwrites most packets' payloads with junk
        "garbage": "audiotestsrc is-live=true ! audio/x-raw,rate=16000,channels=1 ! voaacenc ! "
                   "rtpmp4gpay name=pay1 pt=97",
    }.get(a.audio, "")
    launch = (f'( filesrc location="{loc}" ! qtdemux ! {a.codec}parse ! '
              f"rtp{a.codec}pay name=pay0 pt=96 config-interval=-1 {audio} )")

    server = GstRtspServer.RTSPServer()
    server.set_address(a.listen)
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
    server.get_mount_points().add_factory(a.mount, factory)
    if a.audio == "garbage":
        factory.connect("media-configure", garble_audio)
    if a.log_requests:
        log_path = a.log_requests

        def on_client(_server, client):
            def on_req(_client, ctx, method):
                with open(log_path, "a") as f:
                    f.write(f"{method} {ctx.uri.get_request_uri() if ctx.uri else '-'}\n")
            for sig, m in (("pre-setup-request", "SETUP"), ("pre-play-request", "PLAY"),
                           ("pre-describe-request", "DESCRIBE")):
                client.connect(sig, lambda c, ctx, m=m: on_req(c, ctx, m) or GstRtsp.RTSPStatusCode.OK)
        server.connect("client-connected", on_client)
    if server.attach(None) == 0:
        sys.exit(f"gst_rtsp_server: cannot listen on {a.listen}:{a.port}")

    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    if a.ready_file:
        tmp = a.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{server.get_bound_port()}\n")
        os.rename(tmp, a.ready_file)
    loop.run()


if __name__ == "__main__":
    main()
