#!/usr/bin/env bash
# redis.sh — a real service under the recorder, measured side by side in one
# run: Debian's redis-server driven by redis-benchmark (SET and GET, N
# requests each, 50 clients, random keys, loopback only), uninstrumented,
# under `fragtrace record` in full mode, under `fragtrace record` with byte
# sampling (FRAGTRACE_SAMPLE_BYTES=524288, production mode) and under
# heaptrack (when installed). Prints the median of REPS runs of each:
# throughput (requests/s) and p99 latency as redis-benchmark --csv reports
# them, and the ratios against the uninstrumented server. The modes take
# turns within every rep, so a change of the machine's load hits them alike.
# Only the benchmark is timed: the recorder's import after the server exits
# is not (run.sh prices that on churn).
#
# usage: tests/bench/redis.sh [BUILD_DIR=build] [REPS=5] [REQUESTS=200000]
# environment: KEYS (keyspace, default 100000), SIZE (value bytes, 256),
#   CLIENTS (50), MODES (a subset of "base full sampled heaptrack"; base is
#   always run), PIN=1 to pin redis-server to CPU 0 and redis-benchmark to
#   CPU 1 (the recorder's writer thread then shares CPU 0 with the server).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
REPS=${2:-5}
N=${3:-200000}
KEYS=${KEYS:-100000}
SIZE=${SIZE:-256}
CLIENTS=${CLIENTS:-50}
SAMPLE_BYTES=524288
FT=$(realpath "$B/bin/fragtrace")
for c in redis-server redis-cli redis-benchmark; do
  command -v $c >/dev/null || { echo "redis.sh: $c is not installed (apt-get install redis-server redis-tools)" >&2; exit 2; }
done
[ -x "$FT" ] || { echo "redis.sh: no $FT (build first)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/ftredis.XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
have_heaptrack=0
command -v heaptrack >/dev/null && have_heaptrack=1
PIN_S=() PIN_B=()
if [ "${PIN:-0}" = 1 ]; then PIN_S=(taskset -c 0) PIN_B=(taskset -c 1); fi
if [ -z "${MODES:-}" ]; then
  MODES="base full sampled"
  [ $have_heaptrack = 1 ] && MODES="$MODES heaptrack"
fi
case " $MODES " in *" base "*) ;; *) MODES="base $MODES" ;; esac

# A loopback port nothing listens on (bash's /dev/tcp connects if one does),
# below Linux's ephemeral range (32768..60999), where the benchmark's own
# client sockets would get in the way.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((10000 + RANDOM % 22000))
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
  done
  echo "redis.sh: no free port" >&2; exit 1
}

# run_mode MODE REP: start the server in MODE, benchmark it, stop it; append
# "SET_rps SET_p99 GET_rps GET_p99" to $TMP/MODE.
run_mode() {
  local mode=$1 rep=$2 port dir args try
  for try in 1 2 3; do
    port=$(free_port)
    dir=$TMP/data-$mode; rm -rf "$dir"; mkdir "$dir"
    args=(redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no)
    case $mode in
      base) "${PIN_S[@]}" "${args[@]}" >"$TMP/$mode.log" 2>&1 & ;;
      full) "${PIN_S[@]}" "$FT" record -q -o "$TMP/full.db" -- "${args[@]}" >"$TMP/$mode.log" 2>&1 & ;;
      sampled) FRAGTRACE_SAMPLE_BYTES=$SAMPLE_BYTES "${PIN_S[@]}" "$FT" record -q -o "$TMP/sampled.db" -- "${args[@]}" \
                 >"$TMP/$mode.log" 2>&1 & ;;
      heaptrack) (cd "$TMP" && exec "${PIN_S[@]}" heaptrack -o "$TMP/ht" "${args[@]}") >"$TMP/$mode.log" 2>&1 & ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 400); do
      [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.05
    done
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
    kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    # Another program took the port between the probe and the bind: again.
    grep -q 'Address already in use' "$TMP/$mode.log" && [ $try -lt 3 ] && continue
    echo "redis.sh: $mode server did not start:" >&2; cat "$TMP/$mode.log" >&2; exit 1
  done
  "${PIN_B[@]}" redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -n "$N" -r "$KEYS" -d "$SIZE" -c "$CLIENTS" --csv \
    >"$TMP/csv" 2>"$TMP/csv.err"
  # Every request answered: the server counted N calls of each.
  local calls
  calls=$(redis-cli -h 127.0.0.1 -p "$port" info commandstats | tr -d '\r' |
          sed -n 's/^cmdstat_\(set\|get\):calls=\([0-9]*\),.*/\2/p' | tr '\n' ' ')
  [ "$calls" = "$N $N " ] || { echo "redis.sh: $mode rep $rep: SET/GET calls '$calls', expected $N each" >&2; exit 1; }
  redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$SERVER_PID" || { echo "redis.sh: $mode server exited with $?:" >&2; tail -5 "$TMP/$mode.log" >&2; exit 1; }
  SERVER_PID=
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  awk -F'"' '$2 == "SET" { s = $4 " " $14 } $2 == "GET" { g = $4 " " $14 } END { print s, g }' "$TMP/csv" >>"$TMP/$mode"
  rm -f "$TMP"/ht*
}

for rep in $(seq "$REPS"); do
  for mode in $MODES; do run_mode "$mode" "$rep"; done
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# m MODE COLUMN: median of a column (1 SET rps, 2 SET p99, 3 GET rps, 4 GET p99).
m() { awk -v c="$2" '{print $c}' "$TMP/$1" | median; }
row() {
  local mode=$1 label=$2
  awk -v label="$label" -v sr="$(m "$mode" 1)" -v sp="$(m "$mode" 2)" -v gr="$(m "$mode" 3)" -v gp="$(m "$mode" 4)" \
      -v bsr="$(m base 1)" -v bsp="$(m base 2)" -v bgr="$(m base 3)" -v bgp="$(m base 4)" 'BEGIN {
    printf "%-30s %10.0f %7.1f%% %8.3f %+7.1f%% %10.0f %7.1f%% %8.3f %+7.1f%%\n", label,
      sr, 100 * sr / bsr, sp, 100 * (sp - bsp) / bsp, gr, 100 * gr / bgr, gp, 100 * (gp - bgp) / bgp }'
}
sampled_note=
if [ -f "$TMP/sampled.db" ] && ! sqlite3 "$TMP/sampled.db" "SELECT sample_bytes FROM processes LIMIT 1" 2>/dev/null | grep -qx $SAMPLE_BYTES; then
  sampled_note=" (NOT sampled: this shim ignores FRAGTRACE_SAMPLE_BYTES)"
fi
echo "redis-benchmark SET and GET, $N requests each, $CLIENTS clients, $KEYS keys, $SIZE-byte values;" \
     "median of $REPS runs ($(nproc) cores, $(date -u +%F)${PIN:+, PIN=$PIN})"
printf '%-30s %10s %8s %8s %8s %10s %8s %8s %8s\n' "server" "SET req/s" "ratio" "p99 ms" "p99 +" "GET req/s" "ratio" \
       "p99 ms" "p99 +"
row base "uninstrumented"
[ -s "$TMP/full" ] && row full "fragtrace full"
[ -s "$TMP/sampled" ] && row sampled "fragtrace sampled 512 KiB"
[ -s "$TMP/heaptrack" ] && row heaptrack "heaptrack"
for db in full sampled; do
  [ -f "$TMP/$db.db" ] || continue
  sqlite3 "$TMP/$db.db" "SELECT '$db-mode trace of the last run: ' || (SELECT count(*) FROM allocation_rows) ||
    ' allocation rows, ' || (SELECT sum(events_dropped) FROM processes) || ' events dropped, ' ||
    $(stat -c %s "$TMP/$db.db") || ' bytes'"
done
[ -n "$sampled_note" ] && echo "note: sampled mode$sampled_note"
exit 0
