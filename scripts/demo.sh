#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The quick start: installs what is missing, builds, makes the demo clip, and
# starts Reel recording one simulated camera into ./reel-data until Ctrl-C.
#   scripts/demo.sh [--cameras N] [--codec h264|h265]
set -euo pipefail
cd "$(dirname "$0")/.."
cameras=1 codec=h264 port=${REEL_DEMO_PORT:-8554}
while (( $# )); do
  case "$1" in
    --cameras) cameras=$2; shift 2 ;;
    --codec) codec=$2; shift 2 ;;
    *) echo "usage: scripts/demo.sh [--cameras N] [--codec h264|h265]" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
clips=build/clips
tests/data/make-clips.sh "$clips"
ext=$([[ $codec == h265 ]] && echo 265 || echo 264)
reel=build/src/reel/reel
data=${REEL_DIR:-reel-data}

build/sim/reel-sim --clip "$clips/$codec.$ext" --codec "$codec" --cameras "$cameras" \
  --listen 127.0.0.1 --port "$port" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
$reel -d "$data" init
for ((i = 0; i < cameras; i++)); do
  $reel -d "$data" camera list | grep -q "^demo$i " ||
    $reel -d "$data" camera add "demo$i" "rtsp://127.0.0.1:$port/cam/$i" --retain-hours 24
done
echo "demo: recording $cameras simulated camera(s) into $data; Ctrl-C stops."
echo "      web page: http://127.0.0.1:8080/ (user admin; password in $data/initial-admin-password)"
echo "      in another shell: $reel -d $data status"
$reel -d "$data" run
