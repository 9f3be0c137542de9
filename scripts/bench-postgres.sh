#!/usr/bin/env bash
# The hot-path benchmark (`sandi bench`: trivial endpoint, start, check in one run) on the
# embedded SQLite, on PostgreSQL with one node, and on PostgreSQL with two nodes sharing the load,
# on a throw-away PostgreSQL with durable settings. Prints each report and the database's share
# of the CPU time Sandi and PostgreSQL used during the run.
# Usage: scripts/bench-postgres.sh [sandi binary (.build/release/sandi)] [seconds per phase (5)] [rounds (3)]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/sandi}
seconds=${2:-5}
rounds=${3:-3}
[[ -x "$bin" ]] || { echo "no $bin: swift build -c release --product sandi" >&2; exit 1; }

work=$(mktemp -d /tmp/sandi-bench.XXXXXX)
eval "$(scripts/postgres.sh start --durable)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/postgres.sh stop "$SANDI_TEST_PGDATA"
  rm -rf "$work"
}
trap cleanup EXIT
export SANDI_CODE_KEYS="k1:$(head -c 32 /dev/urandom | base64)" SANDI_DEMO_TENANT=false SANDI_LOG_LEVEL=warning

# CPU ticks (user + system) of a process and of its ended children.
ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
postmaster=$(head -n 1 "$SANDI_TEST_PGDATA/data/postmaster.pid")
pg_ticks() {
  local sum; sum=$(ticks "$postmaster")
  for c in $(pgrep -P "$postmaster"); do sum=$((sum + $(ticks "$c"))); done
  echo "$sum"
}
sandi_ticks() { local sum=0; for p in "$@"; do sum=$((sum + $(ticks "$p"))); done; echo "$sum"; }

wait_up() { for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/health/live" >/dev/null && return; sleep 0.1; done; echo "node on $1 did not start" >&2; exit 1; }

run() {  # run NAME NODES DATABASE_URL(or empty)
  local name=$1 nodes=$2 url=$3 urls=() node_pids=()
  local data="$work/$name"
  mkdir -p "$data"
  if [[ -n "$url" ]]; then
    export SANDI_DATABASE_URL="$url"
    "$bin" migrate --apply >/dev/null
  else
    unset SANDI_DATABASE_URL
  fi
  SANDI_DATA_DIR="$data/admin" "$bin" tenant create bench >/dev/null
  local key; key=$(SANDI_DATA_DIR="$data/admin" "$bin" key create --tenant bench)
  for n in $(seq 1 "$nodes"); do
    local port=$((18400 + RANDOM % 1000))
    if [[ -n "$url" ]]; then dir="$data/node$n"; else dir="$data/admin"; fi
    SANDI_DATA_DIR="$dir" "$bin" serve --port "$port" >"$data/node$n.log" 2>&1 &
    node_pids+=($!); pids+=($!)
    wait_up "$port"
    urls+=(--url "http://127.0.0.1:$port")
  done
  local pg0 s0; pg0=$(pg_ticks); s0=$(sandi_ticks "${node_pids[@]}")
  echo "== $name"
  "$bin" bench "${urls[@]}" --api-key "$key" --seconds "$seconds" --rounds "$rounds" | grep -v '^round'
  local pg1 s1; pg1=$(pg_ticks); s1=$(sandi_ticks "${node_pids[@]}")
  local pg=$((pg1 - pg0)) sa=$((s1 - s0))
  if [[ -n "$url" ]]; then
    awk -v pg="$pg" -v sa="$sa" 'BEGIN { printf "CPU during the run: PostgreSQL %.1f s, Sandi nodes %.1f s: database share %.0f%%\n", pg/100, sa/100, 100*pg/(pg+sa) }'
  else
    awk -v sa="$sa" 'BEGIN { printf "CPU during the run: Sandi (with SQLite inside) %.1f s\n", sa/100 }'
  fi
  for p in "${node_pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
  echo
}

base="$SANDI_TEST_DATABASE_URL"
run sqlite 1 ""
run postgres-1-node 1 "$base&schema=bench_one"
run postgres-2-nodes 2 "$base&schema=bench_two"
