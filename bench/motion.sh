#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The motion search over a month (issue 15): a data directory with 16
# cameras (not recording: their URLs go nowhere), 31 days of motion grid
# rows each (bench/motion_bench.c: ~10 % of seconds with motion, in bursts),
# then the search and activity functions timed over 31 days for one camera
# (5 runs each: the first reads from disk after dropping nothing, so it is
# warm-ish; see bench/README.md), and the same through `reel run`'s HTTP
# route with curl. Usage: bench/motion.sh [BUILD_DIR] [DAYS]
set -eu
build=${1:-build}
days=${2:-31}
reel="$build/src/reel/reel"
tool="$build/bench/reel-bench-motion"
dir=$(mktemp -d /tmp/reel-bench-motion-XXXXXX)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
pid=
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$reel" -d "$dir" init >/dev/null
i=0
while [ $i -lt 16 ]; do
    "$reel" -d "$dir" camera add "cam$i" "rtsp://127.0.0.1:9/cam$i" --disabled >/dev/null
    i=$((i + 1))
done
"$tool" fill "$dir" "$days"
echo "reel.db: $(du -m "$dir/reel.db" | cut -f1) MB"
door=00000000000000000000f00ff00ff00ff00f0000000000000000000000000000
"$tool" search "$dir" cam7 "$days" "$door"
"$tool" search "$dir" cam7 "$days" ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
"$tool" search "$dir" cam7 "$days" "$door" 6
"$tool" activity "$dir" cam7 "$days" 2000
# the route: reel run, a token, curl
"$reel" -d "$dir" user add bench --password-file /dev/stdin --role admin >/dev/null <<PW
bench-password-1
PW
token=$("$reel" -d "$dir" token add tbench --user bench)
"$reel" -d "$dir" run --http 127.0.0.1:0 >"$dir/run.log" 2>&1 &
pid=$!
port=
for _ in $(seq 50); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$dir/run.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.2
done
now=$(date +%s)
from=$((now - days * 86400))
for q in "region=$door" "region=$door&min_cells=6" ""; do
    for _ in 1 2 3; do
        curl -s -o "$dir/out.json" -w "route search ${q:-whole picture}: %{time_total} s, " -H "Authorization: Bearer $token" \
            "http://127.0.0.1:$port/api/cameras/cam7/motion/search?from=$from&to=$now&limit=10000&$q"
        python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(len(j['moments']), 'moments, truncated', j['truncated'], ', took_ms', j['took_ms'], ', minutes', j['minutes_scanned'])" "$dir/out.json"
    done
done
curl -s -o /dev/null -w "route activity (2000 buckets): %{time_total} s\n" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/cameras/cam7/motion/activity?from=$from&to=$now&buckets=2000"
