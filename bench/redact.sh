#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The cost of a redacted export of one minute of 1080p (issue 14): makes a
# 60 s 1080p30 H.264 MP4 from the 1080p test clip (tests/data/make-clips.sh;
# the 10 s clip 6 times over, stream copy), then runs reel-redact-bench
# (bench/redact_bench.c: two blurred boxes moving through 3 key points and a
# black fill, one thread as in the server) and prints its JSON line with the
# load average. Usage: bench/redact.sh [BUILD_DIR]   (default ./build)
set -eu
build=${1:-build}
clips="$build/clips"
sh "$(dirname "$0")/../tests/data/make-clips.sh" "$clips"
in="$build/bench-redact-in.mp4"
out="$build/bench-redact-out.mp4"
if [ ! -s "$in" ]; then
    es="$build/bench-redact-in.264"
    for _ in 1 2 3 4 5 6; do cat "$clips/h264-1080p.264"; done > "$es"
    ffmpeg -nostdin -hide_banner -loglevel error -y -framerate 30 -i "$es" -c copy -movflags +faststart "$in"
    rm -f "$es"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$build/bench/reel-redact-bench" "$in" "$out"
ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height,nb_frames -of csv=p=0 "$out"
