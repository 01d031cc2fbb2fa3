#!/usr/bin/env bash
# deps.sh — install what fragtrace needs to build and test, if it is missing
# (Debian 12; run as root or with sudo available). Sourced by the README's
# two commands, so a fresh machine needs nothing else.
ft_install_deps() {
  local pkgs=(build-essential cmake pkg-config libunwind-dev libsqlite3-dev libcmocka-dev
              libdw-dev libelf-dev sqlite3 python3 python3-jsonschema zlib1g-dev valgrind golang-go
              redis-server redis-tools chromium firefox-esr "$@")
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
