#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds Reel with AddressSanitizer + UndefinedBehaviorSanitizer in
# ./build-asan and runs the unit and fuzz-replay suites (with --all, the
# integration suite too) so that any leak, invalid access or undefined
# behaviour fails the test that caused it. Ends with "N passed, N failed".
#   scripts/sanitize.sh [--all] [meson test args...]
#   BUILD_DIR=/tmp/x scripts/sanitize.sh       another build directory
#   REEL_SANITIZE_BROWSER=1 scripts/sanitize.sh --all   the browser tests too
# Run scripts/setup.sh first on a fresh machine (same packages).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-asan}
suites=(--suite unit --suite fuzz)
if [[ "${1:-}" == "--all" ]]; then
  shift
  suites+=(--suite integration)
  # The browser tests check pages (JavaScript) more than C: the plain run
  # has them; under the sanitizers they would add ~5 minutes to CI for
  # server paths the integration tests already cover. REEL_SANITIZE_BROWSER=1
  # keeps them.
  [[ "${REEL_SANITIZE_BROWSER:-0}" == 1 ]] || suites+=(--no-suite browser)
  # reuse the plain build's clips when they exist (making them takes ~40 s)
  mkdir -p "$build"
  if [[ -d build/clips && ! -e "$build/clips" ]]; then ln -s "$(pwd)/build/clips" "$build/clips"; fi
  tests/data/make-clips.sh "$build/clips" || { echo "0 passed, 1 failed"; exit 1; }
fi
opts=(-Db_sanitize=address,undefined -Db_lundef=false)
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "${opts[@]}" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
else
  meson configure "$build" "${opts[@]}" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$build" >/dev/null || { ninja -C "$build" | tail -30; echo "0 passed, 1 failed"; exit 1; }

# Set here so that meson test does not substitute its own defaults: leaks
# are reported (and fail the test), the first error aborts.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# LD_PRELOAD shims (tests/faultfs) must load after the sanitizer runtime.
REEL_PRELOAD_FIRST="$(cc -print-file-name=libasan.so)"
export REEL_PRELOAD_FIRST
start=$(date +%s)
meson test -C "$build" --print-errorlogs --num-processes 2 "${suites[@]}" "$@"
rc=$?
echo "sanitize: meson test took $(( $(date +%s) - start )) s"
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $rc
