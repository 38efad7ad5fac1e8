#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs libFuzzer targets for a while, two at a time (nice'd), each with its
# dictionary on a working corpus WORKDIR/<target>/corpus that persists from
# run to run and starts from the seeds in git (fuzz/corpus/<target>/, which
# only holds seeds and crash regressions, so that git stays small). Prints
# one line per target: executions, libFuzzer's last status line (cov, ft,
# corpus), crash files. Crash inputs are left in WORKDIR/<target>/ (crash-*,
# leak-*, timeout-*, oom-*): fix the bug, then copy the input into
# fuzz/corpus/<target>/ as a regression.
#   fuzz/run-fuzzers.sh BUILDDIR SECONDS [TARGET...]     (default: all)
#   BUILDDIR from: CC=clang meson setup BUILDDIR -Dfuzzing=true
#   WORKDIR (default /tmp/reel-fuzz-work), JOBS (default 2), FUZZ_FLAGS (more
#   libFuzzer flags, e.g. -len_control=0 for slow targets such as recovery)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: $0 BUILDDIR SECONDS [TARGET...]}
secs=${2:?usage: $0 BUILDDIR SECONDS [TARGET...]}
shift 2
targets=("$@")
if (( ${#targets[@]} == 0 )); then
  targets=(rtsp_msg rtsp_client rtsp_auth rtsp_transport rtsp_url sdp rtp depack_h264 depack_h265
           codec index mp4 http_parse json camera_body recovery)
fi
work=${WORKDIR:-/tmp/reel-fuzz-work}
mkdir -p "$work"

run_one() {
  local t=$1 bin="$build/fuzz/fuzz-$1" w="$work/$1"
  [[ -x $bin ]] || { echo "$t: $bin not built" >&2; return 1; }
  mkdir -p "$w/corpus"
  cp fuzz/corpus/"$t"/* "$w/corpus/"
  local dict=()
  [[ -f fuzz/$t.dict ]] && dict=(-dict="fuzz/$t.dict")
  local maxlen=4096
  [[ $t == depack_* || $t == rtsp_client || $t == mp4 || $t == json || $t == camera_body || $t == recovery ]] && maxlen=16384
  nice -n 10 "$bin" "${dict[@]}" -max_total_time="$secs" -max_len=$maxlen -timeout=10 \
    -rss_limit_mb=1024 -print_final_stats=1 ${FUZZ_FLAGS:-} -artifact_prefix="$w/" "$w/corpus" >"$w/log" 2>&1 || true
  local last execs crashes
  last=$(grep -E '^#[0-9]+' "$w/log" | tail -1)
  execs=$(grep -E 'stat::number_of_executed_units' "$w/log" | awk '{print $2}')
  crashes=$(find "$w" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  echo "$t: ${secs}s execs=${execs:-?} last=[$last] crash_files=$crashes work_corpus=$(ls "$w/corpus" | wc -l)"
}
export -f run_one
export build secs work FUZZ_FLAGS
printf '%s\n' "${targets[@]}" | xargs -P "${JOBS:-2}" -I{} bash -c 'run_one {}'
