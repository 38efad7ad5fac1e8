#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Installs what Reel needs from Debian 12's packages (only what is missing),
# then configures and builds it in ./build. Safe to run again.
#   scripts/setup.sh           build deps + runtime tools (ffmpeg for the demo clip)
#   scripts/setup.sh --test    also what the test suite needs (GStreamer RTSP server, ...)
#   BUILD_OPTS="-Db_sanitize=address,undefined -Db_lundef=false" scripts/setup.sh --test
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential meson ninja-build pkg-config libsqlite3-dev sqlite3 libssl-dev libcmocka-dev liburing-dev
      libmicrohttpd-dev libsodium-dev libjansson-dev ffmpeg
      libzip-dev   # several cameras exported as one zip (src/export)
      libavcodec-dev libavutil-dev libswscale-dev   # snapshots and the on-demand H.265 -> H.264 transcode (src/media)
      libavformat-dev   # the redacted export: demuxes the view MP4, muxes the re-encoded MP4 (src/media/redact.c)
      libxml2-dev   # ONVIF: the SOAP replies parsed (src/onvif)
      libcurl4-openssl-dev libmosquitto-dev)   # webhook deliveries and ONVIF's SOAP over HTTP; MQTT (src/notify, src/onvif)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(python3 python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools gstreamer1.0-plugins-base
         gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
         chromium fonts-dejavu-core nodejs   # browser test (tests/browser): Debian's chromium
         valgrind   # meson test --setup=valgrind (fuzz/meson.build)
         bindfs     # a FUSE passthrough hung with SIGSTOP (tests/integration/test_hung_disk.py)
         mosquitto mosquitto-clients   # a real MQTT broker and mosquitto_sub (tests/integration/test_alerts.py)
         iproute2   # `ip netns`: ONVIF discovery inside a network namespace (tests/integration/test_onvif.py)
         openssl)   # `openssl req` makes a certificate for --tls-cert (tests/integration/test_web_security.py)
  command -v npm >/dev/null || pkgs+=(npm)    # npm ships inside nodesource's nodejs
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f build/build.ninja ]]; then
  meson setup build ${BUILD_OPTS:-} >/dev/null
elif [[ -n "${BUILD_OPTS:-}" ]]; then
  meson configure build ${BUILD_OPTS} >/dev/null
fi
ninja -C build >/dev/null
echo "setup: built ./build/src/reel/reel and ./build/sim/reel-sim"
