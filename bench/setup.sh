#!/usr/bin/env bash
# Installs the benchmark peers and builds the C load clients. Idempotent: installs only what is
# missing and recompiles a client only when its source is newer than its binary.
#
#   Debian packages: python3-uvloop, python3-aiohttp, python3-websockets (Python peers for
#   /usr/bin/python3), wrk (HTTP load), gcc (C load clients).
#   npm devDependencies (effection, ws, async-mutex, p-queue, ...): `npm install`.
#   C clients: every bench/**/client*.c and bench/harness/*.c compiles to
#   bench/.build/<dir under bench>/<name> (bench/echo/client.c -> bench/.build/echo/client).
set -euo pipefail
cd "$(dirname "$0")/.."

wanted=(python3-uvloop python3-aiohttp python3-websockets python3-asyncpg wrk gcc)
packages=()
for pkg in "${wanted[@]}"; do
  if ! dpkg -s "$pkg" >/dev/null 2>&1; then packages+=("$pkg"); fi
done
if [ "${#packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench/setup.sh: missing ${packages[*]}; run as root or: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi

# devDependencies only (the peers are devDependencies in package.json).
if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi

built=0
while IFS= read -r -d '' src; do
  rel="${src#bench/}"
  out="bench/.build/${rel%.c}"
  if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
    mkdir -p "$(dirname "$out")"
    gcc -O2 -Wall -o "$out" "$src"
    built=$((built + 1))
  fi
done < <(find bench -path bench/.build -prune -o -type f \( -name 'client*.c' -o -path 'bench/harness/*.c' \) -print0)
echo "bench/setup.sh: peers installed, ${built} C program(s) rebuilt into bench/.build/"
