#!/usr/bin/env bash
# Sets up Warden and runs its main job on the embedded default: a jailed
# Python program with the default seccomp profile and cgroup limits.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .build/release/warden jail run --memory 256M --pids 64 --time 10s -- \
  /usr/bin/python3 -c 'import os, platform; print(f"hello from a jail: uid={os.getuid()} pid={os.getpid()} host={platform.node()}")'
