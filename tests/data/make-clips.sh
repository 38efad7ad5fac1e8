#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Makes the test clips used by the simulator, the integration tests and the
# benchmark: Annex-B H.264/H.265 elementary streams (no B-frames, GOP 2 s,
# parameter sets repeated before every IDR) plus MP4 copies of the small
# clips for GStreamer. Usage: make-clips.sh OUTDIR. Idempotent: files that
# already exist are kept. Quiet on success, loud on failure.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
command -v ffmpeg >/dev/null || { echo "$0: ffmpeg not found" >&2; exit 1; }

ff() {
    ffmpeg -nostdin -hide_banner -loglevel error -y "$@"
}

# testsrc2 with a frame counter and a running timestamp burnt in (drawtext
# needs a font; fall back to plain testsrc2, which already moves, without it).
src() { # WIDTH HEIGHT
    font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
    if [ -f "$font" ] && ffmpeg -hide_banner -filters 2>/dev/null | grep -q ' drawtext '; then
        echo "testsrc2=size=$1x$2:rate=30:duration=10,drawtext=fontfile=$font:text='%{n} %{pts\\:hms}':fontsize=$(($2 / 10)):fontcolor=white:box=1:boxcolor=black@0.6:x=10:y=10"
    else
        echo "testsrc2=size=$1x$2:rate=30:duration=10"
    fi
}

# mk FILE ENCODER-ARGS... ; writes to a temp name, renames when complete.
mk() {
    f=$1; shift
    [ -s "$out/$f" ] && return 0
    tmp="$out/.$f.tmp"
    ext=${f##*.}
    case $ext in 264) fmt=h264 ;; 265) fmt=hevc ;; mp4) fmt=mp4 ;; *) fmt=$ext ;; esac
    if ! ff "$@" -f "$fmt" "$tmp"; then
        rm -f "$tmp"
        echo "$0: failed to make $out/$f" >&2
        exit 1
    fi
    mv "$tmp" "$out/$f"
}

x264='-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0 -bf 0 -x264-params repeat-headers=1'
x265='-c:v libx265 -preset veryfast -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0'
x265p='bframes=0:open-gop=0:repeat-headers=1:scenecut=0:log-level=error'

# shellcheck disable=SC2086
mk h264.264 -f lavfi -i "$(src 640 360)" $x264 -b:v 800k
# shellcheck disable=SC2086
mk h265.265 -f lavfi -i "$(src 640 360)" $x265 -x265-params "$x265p" -b:v 600k
# a second resolution, for the parameter-set change test (reel-sim --clip2)
# shellcheck disable=SC2086
mk h264-small.264 -f lavfi -i "$(src 320 180)" $x264 -b:v 300k
# shellcheck disable=SC2086
mk h264-1080p.264 -f lavfi -i "$(src 1920 1080)" $x264 -b:v 4M -maxrate 4M -bufsize 4M
# shellcheck disable=SC2086
mk h265-1080p.265 -f lavfi -i "$(src 1920 1080)" $x265 -x265-params "$x265p:vbv-maxrate=4000:vbv-bufsize=4000" -b:v 4M

# fine detail everywhere (a moving 4-pixel wave pattern over testsrc2) for the redaction test: a blurred
# box must lose its high-frequency energy, which a flat area never had
# shellcheck disable=SC2086
mk h264-detail.264 -f lavfi -i "testsrc2=size=320x180:rate=30,geq=lum='clip(p(X,Y)*0.5+64+60*sin((X+T*20)*1.6)*cos(Y*1.4),0,255)':cb='p(X,Y)':cr='p(X,Y)',trim=duration=10" $x264 -b:v 2M
mk h264.mp4 -framerate 30 -i "$out/h264.264" -c copy -movflags +faststart
mk h265.mp4 -framerate 30 -i "$out/h265.265" -c copy -tag:v hvc1 -movflags +faststart

# Motion (issue 15): 640x360, 10 fps, 20 s loops of a still textured scene, GOP 2 s.
#   motion.264: a 64x64 white box circling (1 turn a second) in the left half from 4 s to 7 s and in
#               the right half from 12 s to 15 s (the truth of tests/integration/test_motion.py); light
#               camera noise throughout
#   light.264:  the same scene without motion; the light goes on (+0.2 brightness, one frame) at 7 s
#               and off at 14 s: no motion
#   noise.264:  the same scene, no motion, strong camera noise
still="color=c=gray:s=640x360:r=10:d=20,geq=lum='110+50*sin(X/23)*cos(Y/17)+20*sin((X+Y)/41)':cb=128:cr=128"
box="color=c=white:s=64x64:r=10:d=20"
x264m='-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 20 -keyint_min 20 -sc_threshold 0 -bf 0 -x264-params repeat-headers=1 -r 10'
# shellcheck disable=SC2086
mk motion.264 -f lavfi -i "$still" -f lavfi -i "$box" -f lavfi -i "$box" -filter_complex \
  "[0][1]overlay=x='130+60*cos(2*PI*t)':y='150+40*sin(2*PI*t)':enable='between(t,4,7)'[a];[a][2]overlay=x='450+60*cos(2*PI*t)':y='150+40*sin(2*PI*t)':enable='between(t,12,15)',noise=alls=4:allf=t" \
  $x264m -b:v 500k
# shellcheck disable=SC2086
mk light.264 -f lavfi -i "$still" -vf "eq=brightness='if(between(t,7,14),0.2,0)':eval=frame,noise=alls=4:allf=t" \
  $x264m -b:v 500k
# shellcheck disable=SC2086
mk noise.264 -f lavfi -i "$still" -vf "noise=alls=14:allf=t" $x264m -b:v 500k
