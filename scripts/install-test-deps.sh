#!/usr/bin/env bash
# System packages the tests talk to (real peers). Idempotent: installs only what is missing.
set -euo pipefail
packages=()
missing() { ! dpkg -s "$1" >/dev/null 2>&1; }
wanted=(curl openssl postgresql python3 python3-aiohttp python3-websockets redis-server)
for pkg in "${wanted[@]}"; do
  if missing "$pkg"; then packages+=("$pkg"); fi
done
if [ "${#packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: missing ${packages[*]}; run as root or: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi
