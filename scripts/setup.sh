#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks, then builds Warden (release).
# Idempotent: when nothing is missing it only runs an incremental build.
#   scripts/setup.sh            install + release build
#   scripts/setup.sh --no-build install only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  build-essential pkg-config libseccomp-dev libcap-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev
  # the tests decode screenshots (zlib)
  zlib1g-dev
  # the PostgreSQL store's tests and benchmark run a throwaway server (scripts/postgres.sh)
  postgresql
  # runtimes the jail runs, and tools the tests use
  python3 python3-yaml python3-seccomp nodejs procps util-linux iproute2 curl e2fsprogs
  # the tenants' headless browser (browser.* calls) and fonts for its pages
  chromium-headless-shell fonts-dejavu-core fonts-liberation
  # peers for the benchmarks (scripts/bench/browser.py makes its own venv for Playwright, from PyPI)
  bubblewrap libnl-route-3-200 python3-venv
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run this script as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  else
    echo "setup: no Swift toolchain found; install Swift 6.3 (swift.org) and put it on PATH" >&2
    exit 1
  fi
fi

if [ "${1:-}" != "--no-build" ]; then
  swift build -c release --product warden
  swift build -c release --product warden-worker
fi
