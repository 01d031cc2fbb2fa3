#!/usr/bin/env bash
# run.sh — the recorder benchmark, measured side by side in one run:
#   1. churn: 2 threads x 1M iterations of random malloc/free/realloc/calloc
#      (tests/bench/churn.c); the program's own elapsed time, uninstrumented,
#      under fragtrace, under heaptrack (when installed);
#   2. the Debian sqlite3 CLI on a 200k-row script: wall time of the same;
#   both also in production mode (byte sampling, FRAGTRACE_SAMPLE_BYTES=524288);
#   3. trace growth in sampled mode: churn run for GROWTH_SECONDS under
#      `fragtrace record --keep-spill`, the raw spill and the trace per minute.
# Prints ratios, the median of REPS runs each, and fragtrace's trace size.
# redis-server under the recorder (throughput and p99): tests/bench/redis.sh.
# usage: tests/bench/run.sh [BUILD_DIR=build] [REPS=5] [GROWTH_SECONDS=30]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
REPS=${2:-5}
GROWTH_S=${3:-30}
SAMPLE_BYTES=524288
FT=$B/bin/fragtrace
SHIM=$(realpath "$B/lib/libfragtrace.so")
CHURN=$B/bench/churn
CHURN_ABS=$(realpath "$CHURN")
TMP=$(mktemp -d /tmp/ftbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
bash tests/bench/sqlite_workload.sh "$TMP/work.sql"
have_heaptrack=0
command -v heaptrack >/dev/null && have_heaptrack=1

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
churn_time() { "$@" | sed -n 's/^elapsed_s=//p'; }
wall() { local t0; t0=$(now); "$@" >/dev/null 2>&1; awk -v a="$t0" -v b="$(now)" 'BEGIN{print b-a}'; }

declare -A R
for i in $(seq "$REPS"); do
  R[churn_base]+="$(churn_time "$CHURN" 2 1000000) "
  rm -rf "$TMP/sp"; mkdir "$TMP/sp"
  R[churn_ft]+="$(churn_time env FRAGTRACE_SPILL_DIR=$TMP/sp LD_PRELOAD=$SHIM "$CHURN" 2 1000000) "
  rm -rf "$TMP/sp"; mkdir "$TMP/sp"
  R[churn_fts]+="$(churn_time env FRAGTRACE_SAMPLE_BYTES=$SAMPLE_BYTES FRAGTRACE_SPILL_DIR=$TMP/sp \
                   LD_PRELOAD=$SHIM "$CHURN" 2 1000000) "
  t0=$(now); "$FT" record -q -o "$TMP/churn.db" -- "$CHURN" 2 1000000 >/dev/null
  R[churn_ft_total]+="$(awk -v a="$t0" -v b="$(now)" 'BEGIN{print b-a}') "
  if [ $have_heaptrack = 1 ]; then
    R[churn_ht]+="$(cd "$TMP" && heaptrack -o "$TMP/ht" "$CHURN_ABS" 2 1000000 2>/dev/null | sed -n 's/^elapsed_s=//p') "
    rm -f "$TMP"/ht*
  fi
  rm -f "$TMP/sq.db"; R[sql_base]+="$(wall env sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
  rm -f "$TMP/sq.db"; rm -rf "$TMP/sp"; mkdir "$TMP/sp"
  # `env` puts the shim on sqlite3 alone: a prefix on the shell function
  # `wall` would trace the `date` processes that take its time stamps too.
  R[sql_ft]+="$(wall env FRAGTRACE_SPILL_DIR=$TMP/sp LD_PRELOAD=$SHIM sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
  rm -f "$TMP/sq.db"; rm -rf "$TMP/sp"; mkdir "$TMP/sp"
  R[sql_fts]+="$(wall env FRAGTRACE_SAMPLE_BYTES=$SAMPLE_BYTES FRAGTRACE_SPILL_DIR=$TMP/sp LD_PRELOAD=$SHIM \
                 sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
  rm -f "$TMP/sq.db"
  R[sql_ft_total]+="$(wall "$FT" record -q -o "$TMP/sqlite.db" -- sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
  if [ $have_heaptrack = 1 ]; then
    rm -f "$TMP/sq.db"
    R[sql_ht]+="$(cd "$TMP" && wall heaptrack -o "$TMP/ht" sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
    rm -f "$TMP"/ht*
  fi
done

m() { echo "${R[$1]:-}" | tr ' ' '\n' | grep . | median; }

# Trace growth in sampled mode: churn processes sized to run about GROWTH_S
# and GROWTH_S/5 seconds at the sampled speed just measured (only when the
# shim samples: in full mode that would be gigabytes). The growth is the
# difference of the two over the difference of their run times, so the
# fixed part (schema, one 64 KiB page per table, stacks, symbols) is not
# counted as growth.
FRAGTRACE_SAMPLE_BYTES=$SAMPLE_BYTES "$FT" record -q -o "$TMP/probe.db" -- "$CHURN" 1 1000 >/dev/null
# growth_run SECONDS: "elapsed spill_bytes trace_bytes rows" of one run.
growth_run() {
  local iters
  iters=$(awk -v g="$1" -v t="$(m churn_fts)" 'BEGIN{printf "%d", g / t * 1000000}')
  rm -rf "$TMP"/growth.db*
  FRAGTRACE_SAMPLE_BYTES=$SAMPLE_BYTES "$FT" record -q --keep-spill -o "$TMP/growth.db" -- "$CHURN" 2 "$iters" >"$TMP/growth.out"
  echo "$(sed -n 's/^elapsed_s=//p' "$TMP/growth.out")" \
       "$(find "$TMP" -path "$TMP/growth.db.spill.*" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')" \
       "$(stat -c %s "$TMP/growth.db")" "$(sqlite3 "$TMP/growth.db" "SELECT count(*) FROM allocation_rows")"
}
if [ "$(sqlite3 "$TMP/probe.db" "SELECT sample_bytes FROM processes LIMIT 1" 2>/dev/null || true)" = $SAMPLE_BYTES ]; then
  read -r s_el s_sp s_tr s_rows < <(growth_run "$(awk -v g="$GROWTH_S" 'BEGIN{print g / 5}')")
  read -r l_el l_sp l_tr l_rows < <(growth_run "$GROWTH_S")
  growth=$(awk -v a="$s_el" -v b="$l_el" -v sa="$s_sp" -v sb="$l_sp" -v ta="$s_tr" -v tb="$l_tr" -v ra="$s_rows" -v rb="$l_rows" 'BEGIN {
    d = b - a
    printf "churn 2 threads for %.1f s and %.1f s: raw spill %.3f MB/min, trace %.3f MB/min, %.0f allocation rows/min " \
           "(the %.1f s run: spill %.2f MB, trace %.2f MB, %d rows)", a, b, (sb - sa) * 60 / d / 1e6, (tb - ta) * 60 / d / 1e6,
           (rb - ra) * 60 / d, b, sb / 1e6, tb / 1e6, rb }')
else
  growth="not measured: this shim ignores FRAGTRACE_SAMPLE_BYTES"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "") print "n/a"; else printf "%.2fx", a/b }'; }
allocs=$(sqlite3 "$TMP/churn.db" "SELECT count(*) FROM allocation_rows")
size=$(stat -c %s "$TMP/churn.db")
sq_allocs=$(sqlite3 "$TMP/sqlite.db" "SELECT count(*) FROM allocation_rows")
sq_size=$(stat -c %s "$TMP/sqlite.db")

echo "fragtrace recorder benchmark, median of $REPS runs ($(nproc) cores, $(date -u +%F))"
printf '%-44s %10s %10s\n' "measure" "seconds" "ratio"
printf '%-44s %10.3f %10s\n' "churn 2x1M: uninstrumented (program's own time)" "$(m churn_base)" "1.00x"
printf '%-44s %10.3f %10s\n' "churn 2x1M: fragtrace (program's own time)" "$(m churn_ft)" "$(ratio "$(m churn_ft)" "$(m churn_base)")"
[ $have_heaptrack = 1 ] && printf '%-44s %10.3f %10s\n' "churn 2x1M: heaptrack (program's own time)" "$(m churn_ht)" "$(ratio "$(m churn_ht)" "$(m churn_base)")"
printf '%-44s %10.3f %10s\n' "churn 2x1M: fragtrace sampled 512 KiB" "$(m churn_fts)" "$(ratio "$(m churn_fts)" "$(m churn_base)")"
printf '%-44s %10.3f %10s\n' "churn 2x1M: fragtrace record, incl. import" "$(m churn_ft_total)" "$(ratio "$(m churn_ft_total)" "$(m churn_base)")"
printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: uninstrumented (wall)" "$(m sql_base)" "1.00x"
printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: fragtrace (wall)" "$(m sql_ft)" "$(ratio "$(m sql_ft)" "$(m sql_base)")"
[ $have_heaptrack = 1 ] && printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: heaptrack (wall)" "$(m sql_ht)" "$(ratio "$(m sql_ht)" "$(m sql_base)")"
printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: fragtrace sampled 512 KiB" "$(m sql_fts)" "$(ratio "$(m sql_fts)" "$(m sql_base)")"
printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: fragtrace record, incl. import" "$(m sql_ft_total)" "$(ratio "$(m sql_ft_total)" "$(m sql_base)")"
echo "trace size: churn $allocs allocations in $size bytes = $(awk -v s="$size" -v n="$allocs" 'BEGIN{printf "%.1f", s/n}') bytes/allocation;" \
     "sqlite3 $sq_allocs allocations in $sq_size bytes = $(awk -v s="$sq_size" -v n="$sq_allocs" 'BEGIN{printf "%.1f", s/n}') bytes/allocation"
echo "trace growth in sampled mode (512 KiB): $growth"
