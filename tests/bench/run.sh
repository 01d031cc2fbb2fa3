#!/usr/bin/env bash
# run.sh — the recorder benchmark, measured side by side in one run:
#   1. churn: 2 threads x 1M iterations of random malloc/free/realloc/calloc
#      (tests/bench/churn.c); the program's own elapsed time, uninstrumented,
#      under fragtrace, under heaptrack (when installed);
#   2. the Debian sqlite3 CLI on a 200k-row script: wall time of the same.
# Prints ratios, the median of REPS runs each, and fragtrace's trace size.
# usage: tests/bench/run.sh [BUILD_DIR=build] [REPS=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
REPS=${2:-5}
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
  R[churn_ft]+="$(FRAGTRACE_SPILL_DIR=$TMP/sp LD_PRELOAD=$SHIM churn_time "$CHURN" 2 1000000) "
  t0=$(now); "$FT" record -q -o "$TMP/churn.db" -- "$CHURN" 2 1000000 >/dev/null
  R[churn_ft_total]+="$(awk -v a="$t0" -v b="$(now)" 'BEGIN{print b-a}') "
  if [ $have_heaptrack = 1 ]; then
    R[churn_ht]+="$(cd "$TMP" && heaptrack -o "$TMP/ht" "$CHURN_ABS" 2 1000000 2>/dev/null | sed -n 's/^elapsed_s=//p') "
    rm -f "$TMP"/ht*
  fi
  rm -f "$TMP/sq.db"; R[sql_base]+="$(wall sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
  rm -f "$TMP/sq.db"; rm -rf "$TMP/sp"; mkdir "$TMP/sp"
  R[sql_ft]+="$(FRAGTRACE_SPILL_DIR=$TMP/sp LD_PRELOAD=$SHIM wall sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
  rm -f "$TMP/sq.db"
  R[sql_ft_total]+="$(wall "$FT" record -q -o "$TMP/sqlite.db" -- sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
  if [ $have_heaptrack = 1 ]; then
    rm -f "$TMP/sq.db"
    R[sql_ht]+="$(cd "$TMP" && wall heaptrack -o "$TMP/ht" sqlite3 "$TMP/sq.db" -init "$TMP/work.sql" .quit) "
    rm -f "$TMP"/ht*
  fi
done

m() { echo "${R[$1]:-}" | tr ' ' '\n' | grep . | median; }
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
printf '%-44s %10.3f %10s\n' "churn 2x1M: fragtrace record, incl. import" "$(m churn_ft_total)" "$(ratio "$(m churn_ft_total)" "$(m churn_base)")"
printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: uninstrumented (wall)" "$(m sql_base)" "1.00x"
printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: fragtrace (wall)" "$(m sql_ft)" "$(ratio "$(m sql_ft)" "$(m sql_base)")"
[ $have_heaptrack = 1 ] && printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: heaptrack (wall)" "$(m sql_ht)" "$(ratio "$(m sql_ht)" "$(m sql_base)")"
printf '%-44s %10.3f %10s\n' "sqlite3 200k rows: fragtrace record, incl. import" "$(m sql_ft_total)" "$(ratio "$(m sql_ft_total)" "$(m sql_base)")"
echo "trace size: churn $allocs allocations in $size bytes = $(awk -v s="$size" -v n="$allocs" 'BEGIN{printf "%.1f", s/n}') bytes/allocation;" \
     "sqlite3 $sq_allocs allocations in $sq_size bytes = $(awk -v s="$sq_size" -v n="$sq_allocs" 'BEGIN{printf "%.1f", s/n}') bytes/allocation"
