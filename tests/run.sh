#!/usr/bin/env bash
# run.sh — README command 2 (and what .ci/run calls): install what is missing,
# build, and run the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
ft_install_deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2 --timeout 600
