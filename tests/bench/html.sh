#!/usr/bin/env bash
# html.sh — what `fragtrace report --format html` costs on a big trace
# (issue 6: the page of a 10-million-allocation trace stays under 5 MB and
# renders in under 2 s). Measured in one run:
#   the trace: `fragtrace record -- BUILD/bench/churn 2 5000000` (2 threads x
#     5M iterations, 10M allocations: tests/bench/run.sh's churn, bigger), or
#     the TRACE given;
#   the page: its size, and the wall time of `fragtrace report TRACE --format
#     html -o PAGE` (median of REPS);
#   Chromium, browser start excluded: the page loaded REPS times in one
#     headless Chromium over the DevTools protocol (tests/tools/html_check.py
#     --timing; the page itself has no script): DOMContentLoaded, the load
#     event and the first contentful paint as the browser measured them from
#     navigation start, medians;
#   Chromium, whole runs: `html_check.py` (chromium --dump-dom: start, load,
#     layout, DOM serialised, exit) on the page minus the same on an empty
#     page, median of REPS interleaved pairs;
#   Firefox (when installed): `firefox --headless --screenshot` of the page
#     minus that of an empty page, median of REPS interleaved pairs.
# usage: tests/bench/html.sh [BUILD_DIR=build] [TRACE] [REPS=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
TRACE=${2:-}
REPS=${3:-5}
FT=$B/bin/fragtrace
CHECK=tests/tools/html_check.py
TMP=$(mktemp -d /tmp/fthtml.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.4f", b-a}'; }
first_of() { command -v "$@" 2>/dev/null | head -1 || true; }

if [ -z "$TRACE" ]; then
  TRACE=$TMP/churn10m.db
  echo "recording $B/bench/churn 2 5000000 (10M allocations) ..." >&2
  "$FT" record -q -o "$TRACE" -- "$B/bench/churn" 2 5000000 >/dev/null
fi
PAGE=$TMP/report.html
EMPTY=$TMP/empty.html
printf '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>empty</title></head><body></body></html>\n' >"$EMPTY"

report_s=""
for i in $(seq "$REPS"); do
  t0=$(now)
  "$FT" report "$TRACE" --format html -o "$PAGE"
  report_s+="$(since "$t0") "
done
rows=$(sqlite3 "$TRACE" "SELECT count(*) FROM allocation_rows" 2>/dev/null || echo "?")
stacks=$(sqlite3 "$TRACE" "SELECT count(*) FROM stacks" 2>/dev/null || echo "?")

CHROMIUM=${FT_CHROMIUM:-$(first_of chromium chromium-browser google-chrome)}
FIREFOX=${FT_FIREFOX:-$(first_of firefox-esr firefox)}
dcl=nan load=nan fcp=nan nodes=? dom_page="" dom_empty="" dom_diff="" ff_page="" ff_empty="" ff_diff=""
if [ -n "$CHROMIUM" ]; then
  python3 "$CHECK" --timing "$CHROMIUM" "$PAGE" "$TMP/cdp" "$REPS" >"$TMP/timing.out"
  if grep -q '^console: ' "$TMP/timing.out"; then echo "html.sh: the page logged to the console:" >&2; cat "$TMP/timing.out" >&2; fi
  dcl=$(awk '/^timing:/ {print $2}' "$TMP/timing.out" | median)
  load=$(awk '/^timing:/ {print $3}' "$TMP/timing.out" | median)
  fcp=$(awk '/^timing:/ {print $4}' "$TMP/timing.out" | median)
  nodes=$(awk '/^timing:/ {n = $5} END {print n}' "$TMP/timing.out")
  for i in $(seq "$REPS"); do
    e=$(python3 "$CHECK" "$CHROMIUM" "$EMPTY" "$TMP/chk" | sed -n 's/^seconds: //p')
    p=$(python3 "$CHECK" "$CHROMIUM" "$PAGE" "$TMP/chk" | sed -n 's/^seconds: //p')
    dom_empty+="$e "
    dom_page+="$p "
    dom_diff+="$(awk -v a="$e" -v b="$p" 'BEGIN{print b-a}') "
  done
fi
if [ -n "$FIREFOX" ]; then
  for i in $(seq "$REPS"); do
    e=$(python3 "$CHECK" --firefox "$FIREFOX" "$EMPTY" "$TMP/ff" "$TMP/e.png" | sed -n 's/^seconds: //p')
    p=$(python3 "$CHECK" --firefox "$FIREFOX" "$PAGE" "$TMP/ff" "$TMP/p.png" | sed -n 's/^seconds: //p')
    ff_empty+="$e "
    ff_page+="$p "
    ff_diff+="$(awk -v a="$e" -v b="$p" 'BEGIN{print b-a}') "
  done
fi

m() { echo "$1" | tr ' ' '\n' | grep . | median; }
row() { printf '  %-52s %s\n' "$1" "$2"; }
echo
echo "HTML report of $TRACE: $rows allocation rows, $stacks stacks; medians of $REPS"
row "trace size" "$(stat -c %s "$TRACE" | awk '{printf "%.1f MB", $1 / 1e6}')"
row "page size" "$(stat -c %s "$PAGE" | awk '{printf "%.1f KB (%d bytes)", $1 / 1e3, $1}')"
row "fragtrace report --format html, wall" "$(m "$report_s") s"
if [ -n "$CHROMIUM" ]; then
  row "chromium: DOMContentLoaded from navigation start" "$dcl ms"
  row "chromium: load event from navigation start" "$load ms"
  row "chromium: first contentful paint" "$fcp ms"
  row "chromium: elements in the DOM" "$nodes"
  row "chromium --dump-dom run: page / empty page" "$(m "$dom_page") s / $(m "$dom_empty") s"
  row "chromium --dump-dom run: page minus empty page" "$(m "$dom_diff") s"
else
  row "chromium" "not installed: skipped"
fi
if [ -n "$FIREFOX" ]; then
  row "firefox --screenshot run: page / empty page" "$(m "$ff_page") s / $(m "$ff_empty") s"
  row "firefox --screenshot run: page minus empty page" "$(m "$ff_diff") s"
else
  row "firefox" "not installed: skipped"
fi
