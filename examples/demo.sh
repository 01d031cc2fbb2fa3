#!/usr/bin/env bash
# demo.sh — README command 1: install what is missing, build, and profile the
# bundled example service (examples/kvcache.c) with `fragtrace record`, then
# show the report (summary, churn, leaks, peak) and the same facts straight
# from the trace with SQL.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
ft_install_deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/bin/fragtrace record -o build/kvcache.db -- build/examples/kvcache 200000
build/bin/fragtrace report build/kvcache.db --top 5 --section summary,churn,leaks,peak
sqlite3 -box build/kvcache.db < examples/queries/top_sites.sql
