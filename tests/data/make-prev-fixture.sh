#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Makes the upgrade fixture: a small data directory written by the previous
# release of Reel (commit 68dd335, schema version 1), for
# tests/integration/test_upgrade.py, which opens it with the current Reel,
# upgrades it and checks it. Outputs, in OUTDIR:
#   prev-68dd335.tar.xz     the data directory (reel.db, storage/), as data/
#   prev-68dd335.framemd5   what the old `reel export` of the whole range
#                           decodes to (ffmpeg -f framemd5)
#   prev-68dd335.range      the export's --from and --to (unix seconds)
#
# How it was made (this is the script that made the committed files):
#   git -C /work/main worktree add /work/wt/prev 68dd335
#   cd /work/wt/prev && meson setup build && meson compile -C build reel reel-sim
#   tests/data/make-prev-fixture.sh /work/wt/prev/build tests/data
#
# What it does: a 320x180 H.264 clip at 100 kbit/s (GOP 1 s, no B-frames)
# served by the old reel-sim; `reel init` (which creates the admin account),
# one camera, `reel user add alice`, `reel token add script --user alice`;
# `reel run --no-http --rotate-s 2` for about 6 s, stopped with SIGTERM (a
# clean stop: every recording closed, the WAL checkpointed away); `reel
# check` must be clean; `reel export` of the whole range. The data directory
# is made under a fixed path (/tmp/reel-prev-fixture/data): reel.db holds the
# storage directory's absolute path, which the test rewrites to where it
# unpacks the archive.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 PREV_BUILD_DIR OUTDIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
out=$(cd "$2" && pwd)
reel=$build/src/reel/reel
sim=$build/sim/reel-sim
name=prev-68dd335
work=/tmp/reel-prev-fixture
data=$work/data

rm -rf "$work"
mkdir -p "$work"
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=320x180:rate=30:duration=10 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 -bf 0 \
    -x264-params repeat-headers=1 -b:v 100k -f h264 "$work/clip.264"

"$sim" --clip "$work/clip.264" --codec h264 --cameras 1 --listen 127.0.0.1 --port 0 \
    --ready-file "$work/sim.ready" >"$work/sim.log" 2>&1 &
simpid=$!
i=0
while [ ! -s "$work/sim.ready" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "$0: reel-sim did not start" >&2; kill $simpid; exit 1; }
    sleep 0.1
done
port=$(cat "$work/sim.ready")

"$reel" -d "$data" init
"$reel" -d "$data" camera add cam0 "rtsp://127.0.0.1:$port/cam/0"
printf 'alice-password-1\n' >"$work/pw"
"$reel" -d "$data" user add alice --password-file "$work/pw"
"$reel" -d "$data" token add script --user alice >/dev/null

"$reel" -d "$data" run --no-http --rotate-s 2 >"$work/run.log" 2>&1 &
runpid=$!
sleep 6.5
kill -TERM $runpid
wait $runpid
kill -TERM $simpid
wait $simpid || true
# a clean stop leaves everything in reel.db (the last writer checkpoints the
# WAL away); the read-only commands below may leave an empty WAL and -shm,
# which are not archived
rm -f "$data/reel.lock"
[ ! -s "$data/reel.db-wal" ] || { echo "$0: reel.db-wal not empty: not a clean stop" >&2; exit 1; }
tar -C "$work" --owner=0 --group=0 --numeric-owner --sort=name -cJf "$out/$name.tar.xz" data/reel.db data/storage

"$reel" -d "$data" check
"$reel" -d "$data" recordings --camera cam0
# the whole range, in whole seconds: from the first start to past the last end
range=$("$reel" -d "$data" recordings --camera cam0 | awk '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      s = v["start90k"] + 0; e = s + v["wall90k"];
      if (min == "" || s < min) min = s; if (e > max) max = e }
    END { printf "%d %d\n", int(min / 90000), int(max / 90000) + 2 }')
from=${range% *}
to=${range#* }
"$reel" -d "$data" export --camera cam0 --from "@$from" --to "@$to" -o "$work/export.mp4"
ffmpeg -nostdin -v error -i "$work/export.mp4" -f framemd5 - >"$out/$name.framemd5"
echo "$from $to" >"$out/$name.range"
ls -l "$out/$name.tar.xz" "$out/$name.framemd5"
