#!/usr/bin/env bash
# sampler.sh — what the recorder's sampler thread costs at the default
# intervals (README "Benchmarks"; issue 4 asks for < 1 % of one core).
# Runs an idle program (sleep) with libfragtrace.so preloaded for SECONDS,
# finds the sampler thread by its name (ft-sampler) and reads its CPU time
# from /proc/PID/task/TID/stat (utime + stime, clock ticks) and schedstat
# (ns on CPU, finer), as a share of one core over the same wall time.
# Extra FRAGTRACE_* settings may be passed in the environment (e.g.
# FRAGTRACE_SYS_SAMPLE_MS=100 to price a faster rate).
# usage: tests/bench/sampler.sh [BUILD_DIR=build] [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
SECS=${2:-10}
SHIM=$(realpath "$B/lib/libfragtrace.so")
TMP=$(mktemp -d /tmp/ftsampler.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

LD_PRELOAD=$SHIM FRAGTRACE_OUTPUT=$TMP/idle.db sleep $((SECS + 5)) &
PID=$!
t0=$(date +%s.%N)
TID=
for _ in $(seq 100); do
  for t in /proc/$PID/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = ft-sampler ] && TID=${t##*/}
  done
  [ -n "$TID" ] && break
  sleep 0.01
done
[ -n "$TID" ] || { echo "no ft-sampler thread in pid $PID" >&2; kill $PID; exit 1; }
sleep "$SECS"
# Fields after the ")" of comm: utime is field 14, stime 15 of the whole line.
read -r ut st < <(sed 's/.*) //' "/proc/$PID/task/$TID/stat" | awk '{print $12, $13}')
read -r run_ns _ < "/proc/$PID/task/$TID/schedstat"
t1=$(date +%s.%N)
kill $PID 2>/dev/null || true
wait $PID 2>/dev/null || true
HZ=$(getconf CLK_TCK)
awk -v ut="$ut" -v st="$st" -v hz="$HZ" -v ns="$run_ns" -v a="$t0" -v b="$t1" -v u="$(id -u)" 'BEGIN {
  wall = b - a
  printf "sampler thread over %.1f s idle (default intervals%s):\n", wall, u == 0 ? ", root: pagetypeinfo and slabinfo read" : ""
  printf "  utime+stime  %d ticks = %.3f s = %.3f %% of one core\n", ut + st, (ut + st) / hz, 100 * (ut + st) / hz / wall
  printf "  schedstat    %.1f ms on CPU = %.3f %% of one core\n", ns / 1e6, 100 * ns / 1e9 / wall
}'
