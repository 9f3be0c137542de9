#!/usr/bin/env bash
# Builds Sandi and runs every test (unit, store contract on memory, SQLite and PostgreSQL, HTTP,
# real binary, several nodes on one PostgreSQL, the dashboard in headless Chromium).
# Usage: scripts/test.sh [extra `swift test` arguments, e.g. --filter SandiCoreTests]
# PostgreSQL: a throw-away server is started on a loopback port (scripts/postgres.sh) unless
# SANDI_TEST_DATABASE_URL names one already running.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
log=$(mktemp)
pgdir=""
cleanup() {
  rm -f "$log"
  if [[ -n "$pgdir" ]]; then scripts/postgres.sh stop "$pgdir"; fi
}
trap cleanup EXIT
if [[ -z "${SANDI_TEST_DATABASE_URL:-}" ]]; then
  eval "$(scripts/postgres.sh start)"
  pgdir="$SANDI_TEST_PGDATA"
  echo "PostgreSQL for the tests: $SANDI_TEST_DATABASE_URL"
fi
set +e
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The assistant's language data: schema, placeholders, keywords against the test phrases.
if [[ $# -eq 0 ]] && ! python3 scripts/check-assistant-data.py >/dev/null; then
  python3 scripts/check-assistant-data.py | grep FAIL
  [[ $status -eq 0 ]] && status=1
fi
# The HTTP API suites once more, on PostgreSQL instead of SQLite (unless a filter was given).
if [[ $# -eq 0 ]]; then
  echo "HTTP API suites on PostgreSQL:"
  SANDI_TEST_STORAGE=postgres swift test --skip-build --filter 'APITests|RestartTests|WebhookTests' 2>&1 | tee -a "$log"
  pg_status=${PIPESTATUS[0]}
  [[ $status -eq 0 ]] && status=$pg_status
  # The dashboard in headless Chromium against the real binary (scripts/browser-test.py).
  echo "Dashboard in headless Chromium:"
  if python3 scripts/browser-test.py .build/debug/sandi "${SANDI_SCREENSHOTS:-$(mktemp -d)}" 2>&1 | tee -a "$log"; then
    browser=1
  else
    browser=0
    [[ $status -eq 0 ]] && status=1
  fi
fi
set -e

# One plain closing line with the Swift Testing totals (both passes).
total=0
while read -r n; do total=$((total + n)); done < <(grep -E '^[^ ]+ Test run with [0-9]+ tests?' "$log" | sed -E 's/^[^ ]+ Test run with ([0-9]+) tests?.*/\1/')
failed=$(grep -E '^[^ ]+ Test .* failed after' "$log" | grep -cv ' Test run with ' || true)
# The browser test counts as one test.
if [[ -n "${browser:-}" ]]; then
  total=$((total + 1))
  [[ $browser -eq 0 ]] && failed=$((failed + 1))
fi
if [[ $total -gt 0 ]]; then
  echo "tests: $((total - failed)) passed, ${failed} failed"
fi
exit "$status"
