#!/usr/bin/env bash
# Builds Sandi and runs every test (unit, store contract on memory and SQLite, HTTP, real binary).
# Usage: scripts/test.sh [extra `swift test` arguments, e.g. --filter SandiCoreTests]
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line with the Swift Testing totals.
summary=$(grep -E '^[^ ]+ Test run with [0-9]+ tests?' "$log" | tail -n 1 || true)
total=$(sed -E 's/^[^ ]+ Test run with ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(grep -cE '^[^ ]+ Test .* failed after' "$log" || true)
if [[ -n "$summary" ]]; then
  echo "tests: $((total - failed)) passed, ${failed} failed"
fi
exit "$status"
