#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs Reel's benchmarks (see bench/README.md): builds Reel (release-like
# debugoptimized build, as shipped), makes the test clips, then runs the
# recording benchmark (Reel vs ffmpeg vs GStreamer, scaling sweep) and the
# playback benchmark. Results go to stdout as Markdown tables and to
# BUILD/bench-results.json.
#
#   bench/run.sh [--build DIR] [-n 1,16,64,256,512] [-t SECONDS] [--peer-max N]
#                [--recorders reel,ffmpeg,gst] [--no-playback] [--hours H]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=$top/build
ns=1,16,64,256,512
secs=30
peer_max=64
recorders=reel,ffmpeg,gst
playback=1
hours=25
while [ $# -gt 0 ]; do
    case $1 in
        --build) build=$2; shift 2 ;;
        -n) ns=$2; shift 2 ;;
        -t) secs=$2; shift 2 ;;
        --peer-max) peer_max=$2; shift 2 ;;
        --recorders) recorders=$2; shift 2 ;;
        --no-playback) playback=0; shift ;;
        --hours) hours=$2; shift 2 ;;
        -h|--help) sed -n '3,12p' "$0"; exit 0 ;;
        *) echo "$0: unknown option $1" >&2; exit 2 ;;
    esac
done

for p in meson ninja ffmpeg ffprobe gst-launch-1.0 python3 cc; do
    command -v $p >/dev/null || { echo "$0: $p not found (scripts/setup.sh --test installs it)" >&2; exit 1; }
done

[ -f "$build/build.ninja" ] || meson setup "$build" "$top" >/dev/null
nice ninja -C "$build" >/dev/null
"$top/tests/data/make-clips.sh" "$build/clips"

# reel-bench-fill is built by bench/meson.build when the top meson.build has
# subdir('bench'); otherwise build it here from the store's static libraries.
fill=$build/bench/reel-bench-fill
if [ ! -x "$fill" ]; then
    mkdir -p "$build/bench"
    cc -std=gnu17 -O2 -D_GNU_SOURCE -I"$top/src" "$here/fill.c" -o "$fill" \
        "$build/src/store/libreel_store.a" "$build/src/codec/libreel_codec.a" \
        "$build/src/base/libreel_base.a" $(pkg-config --libs sqlite3 libcrypto) -lpthread -lm
fi

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
     "kernel $(uname -r), data on $(df -T /tmp | awk 'NR==2 {print $1, $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/bench.py" --build "$build" -n "$ns" -t "$secs" --peer-max "$peer_max" \
    --recorders "$recorders" --json "$build/bench-results.json"
if [ "$playback" = 1 ]; then
    echo
    rc=0
    python3 "$here/playback.py" --build "$build" --fill "$fill" --hours "$hours" || rc=$?
    [ $rc = 77 ] && echo "(playback benchmark skipped: this reel serves no HTTP yet)"
    [ $rc = 0 ] || [ $rc = 77 ] || exit $rc
fi
