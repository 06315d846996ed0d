#!/usr/bin/env bash
# Sets up Warden and runs it on its embedded default: `warden serve` with
# SQLite in ./var, the default policies, and a demo tenant whose key is
# printed with a curl line that runs Python through it. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
warden=.build/release/warden
state=${WARDEN_STATE_DIR:-./var}
port=${WARDEN_HTTP_PORT:-8080}

"$warden" serve --state-dir "$state" --port "$port" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon' INT TERM
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  kill -0 $daemon 2>/dev/null || { echo "run: warden serve exited; see the log above" >&2; exit 1; }
  sleep 0.1
done

"$warden" tenant show demo --state-dir "$state" >/dev/null 2>&1 || "$warden" tenant create demo --state-dir "$state" >/dev/null
key=$("$warden" key issue demo --state-dir "$state" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
cat <<MSG

Warden is serving on http://127.0.0.1:$port with a demo tenant. Try:

  curl -s -H 'Authorization: Bearer $key' \\
       -d '{"language": "python", "code": "import platform; print(\"hello from\", platform.node())"}' \\
       http://127.0.0.1:$port/v1/exec

Operators: $warden tenant list --state-dir $state   ($warden --help for more)
MSG
wait $daemon
