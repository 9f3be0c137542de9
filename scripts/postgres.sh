#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL server for the tests, on a loopback port, in a temporary
# directory. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
#
#   eval "$(scripts/postgres.sh start)"   # exports SANDI_TEST_DATABASE_URL and SANDI_TEST_PGDATA
#   eval "$(scripts/postgres.sh start --durable)"   # fsync and synchronous commit on (benchmarks)
#   scripts/postgres.sh stop "$SANDI_TEST_PGDATA"
set -euo pipefail

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$found" ]] && echo "$found"
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  # Tests trade durability for speed (a throw-away cluster); benchmarks keep PostgreSQL's defaults.
  speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [[ "${2:-}" == "--durable" ]] && speed=""
  initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
  if [[ -z "$initdb" || -z "$pg_ctl" ]]; then
    echo "PostgreSQL server binaries not found (apt-get install -y postgresql), or set SANDI_TEST_DATABASE_URL" >&2
    exit 1
  fi
  dir=$(mktemp -d /tmp/sandi-pg.XXXXXX)
  [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$initdb" -D "$dir/data" -U sandi --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    as_owner "$initdb" -D "$dir/data" -U sandi --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
  as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c shared_buffers=128MB $speed" >/dev/null
  as_owner "$(dirname "$pg_ctl")/createdb" -h 127.0.0.1 -p "$port" -U sandi sandi 2>/dev/null ||
    as_owner psql -h 127.0.0.1 -p "$port" -U sandi -d postgres -c "CREATE DATABASE sandi" >/dev/null
  echo "export SANDI_TEST_DATABASE_URL='postgres://sandi@127.0.0.1:$port/sandi?sslmode=disable'"
  echo "export SANDI_TEST_PGDATA='$dir'"
  ;;
stop)
  dir="${2:?data directory}"
  pg_ctl=$(find_bin pg_ctl)
  as_owner "$pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop DIR" >&2
  exit 2
  ;;
esac
