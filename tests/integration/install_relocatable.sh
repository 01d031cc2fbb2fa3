#!/usr/bin/env bash
# install_relocatable.sh BUILD PROG — `cmake --install` into a prefix, move
# the prefix elsewhere, and record PROG with the moved CLI: P/bin/fragtrace
# and P/lib/libfragtrace.so must be there and find each other.
set -euo pipefail
build=$1 prog=$2
tmp=$(mktemp -d /tmp/ft-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/p1" >/dev/null
test -x "$tmp/p1/bin/fragtrace" || { echo "FAIL: no P/bin/fragtrace"; exit 1; }
test -f "$tmp/p1/lib/libfragtrace.so" || { echo "FAIL: no P/lib/libfragtrace.so"; exit 1; }
mv "$tmp/p1" "$tmp/moved"
"$tmp/moved/bin/fragtrace" record -q -o "$tmp/t.db" -- "$prog" >/dev/null
n=$(sqlite3 "$tmp/t.db" "SELECT count(*) FROM processes WHERE exe = '$(realpath "$prog")'")
[ "$n" = 1 ] || { echo "FAIL: expected 1 traced process of $prog, got $n"; exit 1; }
[ "$(stat -c %a "$tmp/t.db")" = 600 ] || { echo "FAIL: trace mode is not 0600"; exit 1; }
echo "1 passed, 0 failed"
