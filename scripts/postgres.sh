#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for developers and the tests: initdb and
# pg_ctl from Debian's postgresql package, listening on a free port of
# 127.0.0.1 only, trust authentication for loopback, no fsync (its data is
# disposable). As root the server runs as the `postgres` user (root may not
# run it); otherwise as you.
#
#   scripts/postgres.sh start   create (if needed) and start it; print the connection string
#   scripts/postgres.sh env     print `export WARDEN_TEST_POSTGRES=…` for a running cluster
#   scripts/postgres.sh down    stop the server, keep its data (the tests' outage)
#   scripts/postgres.sh up      start it again on the same port
#   scripts/postgres.sh stop    stop it and delete its data
#
# WARDEN_PG_DIR chooses the directory (default: one per checkout under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${WARDEN_PG_DIR:-/tmp/warden-pg-$(pwd | md5sum | cut -c1-8)}
data=$dir/data
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "postgres: no PostgreSQL server found; run scripts/setup.sh (Debian package postgresql)" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  id -u "$owner" >/dev/null 2>&1 || owner=nobody
  # From /, which every user may enter, whatever the checkout's permissions.
  as_owner() { (cd / && runuser -u "$owner" -- "$@"); }
else
  owner=$(id -un)
  as_owner() { "$@"; }
fi

url() { echo "postgresql://warden@127.0.0.1:$(cat "$dir/port")/postgres"; }
running() { [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }
server_up() { as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

create() {
  rm -rf "$dir"
  mkdir -p "$dir"
  chown "$owner" "$dir"
  chmod 700 "$dir"
  free_port >"$dir/port"
  as_owner "$bin/initdb" -D "$data" -U warden -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { echo "postgres: initdb failed; see $dir/initdb.log" >&2; exit 1; }
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $(cat "$dir/port")
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  cat >"$data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
}

case "${1:-}" in
  start)
    if running; then url; exit 0; fi
    # Anything left from a run that did not stop it is disposable too.
    create
    server_up || { echo "postgres: the server did not start; see $dir/server.log" >&2; exit 1; }
    url
    ;;
  env)
    running || { echo "postgres: not running; run scripts/postgres.sh start" >&2; exit 1; }
    echo "export WARDEN_TEST_POSTGRES='$(url)'"
    ;;
  down)
    running && as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    ;;
  up)
    running || server_up
    ;;
  stop)
    if running; then as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/postgres.sh start|env|down|up|stop" >&2
    exit 2
    ;;
esac
