#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs Reel's browser test (browser-test.mjs): installs playwright-core from
# package-lock.json with `npm ci` when node_modules is missing or older than
# the lock file (no browser download: the test drives Debian's chromium),
# then runs the test with node. Exit 0 when all cases pass, 77 (meson: skip)
# when node, npm or chromium is missing, 1 otherwise. The last line is
# "N passed, N failed".
#   tests/browser/run.sh [--screenshot docs/img/web.png]
#   tests/browser/run.sh --audio     runs audio-test.mjs (view.mp4 with audio) instead
#   tests/browser/run.sh --admin [--screenshots docs/img]   runs admin-test.mjs (the admin pages)
#   tests/browser/run.sh --live [--screenshots docs/img]   runs live-test.mjs (the live grid)
#   tests/browser/run.sh --redact [--screenshots docs/img]   runs redact-test.mjs (the redaction editor)
#   tests/browser/run.sh --locks [--screenshots docs/img]  runs locks-test.mjs (evidence locks)
#   tests/browser/run.sh --roles [--screenshots docs/img]  runs roles-test.mjs (roles, camera lists, TOTP)
#   tests/browser/run.sh --proof     runs ac-proof-test.mjs (a signed export plays)
#   tests/browser/run.sh --audit [--screenshots docs/img]  runs audit-test.mjs (the auditor's page)
#   tests/browser/run.sh --timeline [--screenshots docs/img]   runs timeline-test.mjs (the timeline page)
#   tests/browser/run.sh --events [--screenshots docs/screenshots]   runs events-test.mjs (#/events, live)
#   tests/browser/run.sh --motion [--screenshots docs/screenshots]   runs motion-test.mjs (zones, masks, search)
#   tests/browser/run.sh --alerts [--screenshots docs/img]   runs alerts-test.mjs (webhooks on #/alerts)
# Meson sets REEL, REEL_SIM and REEL_CLIPS (REEL_MP4_AUDIO_FIXTURE for
# --audio); without them it uses ./build.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool not found (scripts/setup.sh --test installs it)"
        echo "0 passed, 0 failed"
        exit 77
    fi
done
if [ ! -x "${REEL_CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "SKIP: ${REEL_CHROMIUM:-/usr/bin/chromium} not found (apt-get install chromium)"
    echo "0 passed, 0 failed"
    exit 77
fi
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
    # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing
    # anyway; this makes sure no dependency ever does.
    if ! (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error); then
        echo "npm ci failed in $here"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
script=browser-test.mjs
if [ "${1:-}" = --audio ]; then
    script=audio-test.mjs
    shift
elif [ "${1:-}" = --admin ]; then
    script=admin-test.mjs
    shift
elif [ "${1:-}" = --live ]; then
    script=live-test.mjs
    shift
elif [ "${1:-}" = --redact ]; then
    script=redact-test.mjs
    shift
elif [ "${1:-}" = --locks ]; then
    script=locks-test.mjs
    shift
elif [ "${1:-}" = --roles ]; then
    script=roles-test.mjs
    shift
elif [ "${1:-}" = --proof ]; then
    script=ac-proof-test.mjs
    shift
elif [ "${1:-}" = --audit ]; then
    script=audit-test.mjs
    shift
elif [ "${1:-}" = --timeline ]; then
    script=timeline-test.mjs
    shift
elif [ "${1:-}" = --events ]; then
    script=events-test.mjs
    shift
elif [ "${1:-}" = --motion ]; then
    script=motion-test.mjs
    shift
elif [ "${1:-}" = --alerts ]; then
    script=alerts-test.mjs
    shift
fi
exec node "$here/$script" "$@"
