#!/usr/bin/env bash
# Runs every test: installs what is missing, builds once, runs the suite.
# As root the jail tests use real cgroups and per-tenant id ranges, and the
# rootless path is exercised as an unprivileged user through setpriv.
# The store tests run on SQLite and on a throwaway PostgreSQL cluster
# (scripts/postgres.sh), which is stopped however the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

if [ ! -f ../shared/conformance/opa/run.py ]; then
  echo "test: ../shared (the conformance data) must sit beside the repository" >&2
  exit 1
fi

swift build --build-tests
mkdir -p var
trap 'scripts/postgres.sh stop' EXIT
WARDEN_TEST_POSTGRES=$(scripts/postgres.sh start)
export WARDEN_TEST_POSTGRES
swift test --skip-build 2>&1 | tee var/test.log
