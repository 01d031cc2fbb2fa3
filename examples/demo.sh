#!/usr/bin/env bash
# demo.sh — README command 1: install what is missing, build, and profile the
# bundled example service (examples/kvcache.c) with `fragtrace record`, then
# show its top allocation sites and leaks straight from the trace with SQL.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
ft_install_deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/bin/fragtrace record -o build/kvcache.db -- build/examples/kvcache 200000
sqlite3 -box build/kvcache.db < examples/queries/top_sites.sql
