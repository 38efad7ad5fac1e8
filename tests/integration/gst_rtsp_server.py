#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A reference RTSP server built on GStreamer's gst-rtsp-server, so that Reel's
# client is also tested against an implementation that is not ours. Serves one
# MP4 clip (looping is not needed by the tests) at rtsp://127.0.0.1:PORT/MOUNT
# with shared media, TCP and UDP transports allowed, parameter sets sent
# in-band before every key frame (config-interval=-1).
#
# Run with Debian's /usr/bin/python3 (it has the gi bindings):
#   gst_rtsp_server.py --port P --clip FILE.mp4 --codec h264|h265 [--mount /cam] [--ready-file F]
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--clip", required=True, help="MP4 file with one H.264 or H.265 video track")
    ap.add_argument("--codec", choices=("h264", "h265"), required=True)
    ap.add_argument("--mount", default="/cam")
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--ready-file")
    a = ap.parse_args()

    if not os.path.isfile(a.clip):
        sys.exit(f"gst_rtsp_server: clip {a.clip} not found")
    if not a.mount.startswith("/"):
        sys.exit("gst_rtsp_server: --mount must start with /")

    Gst.init(None)
    loc = a.clip.replace("\\", "\\\\").replace('"', '\\"')
    launch = (f'( filesrc location="{loc}" ! qtdemux ! {a.codec}parse ! '
              f"rtp{a.codec}pay name=pay0 pt=96 config-interval=-1 )")

    server = GstRtspServer.RTSPServer()
    server.set_address(a.listen)
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
    server.get_mount_points().add_factory(a.mount, factory)
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
