#!/usr/bin/env bash
# README command 2: set the machine up and run the whole suite: typecheck, unit, build, e2e, browser.
# Stops at the first failing step; always ends with the plain line "N passed, N failed".
# A skipped or todo test counts as a failure: in CI an e2e test never silently skips.
set -euo pipefail
cd "$(dirname "$0")/.."

PASSED=0
FAILED=0
SKIPPED=0
LOG_DIR=$(mktemp -d /tmp/staxa-test.XXXXXX)

summary() {
  local code=$?
  if [ "$code" -ne 0 ] && [ "$FAILED" -eq 0 ]; then FAILED=1; fi # a failed non-test step counts
  echo
  echo "logs: $LOG_DIR"
  if [ "$SKIPPED" -gt 0 ]; then echo "skipped: $SKIPPED (treated as failure)"; fi
  echo "$PASSED passed, $FAILED failed"
  if [ "$code" -eq 0 ] && [ "$FAILED" -gt 0 ]; then exit 1; fi
}
trap summary EXIT

step() { printf '\n==> %s\n' "$*"; }

has_tests() { [ -d "$1" ] && [ -n "$(find "$1" -name '*.test.ts' -o -name '*.test.js' | head -n1)" ]; }

# Repeats each failure's message at the end, where a CI log that keeps only its tail still shows it:
# the lines bun printed before each "(fail)" line, without the appliance's JSON request log.
failure_details() {
  echo
  echo "==> failure details"
  awk '/^\{"time"/ { next } { buf[n++ % 40] = $0 } /^\(fail\)/ { start = (n > 40 ? n - 40 : 0); for (i = start; i < n; i++) print buf[i % 40]; print "----"; n = 0 }' "$1"
}

# Runs `bun test` on one tier under a wall-clock limit, adds its counts, fails on fail/skip/todo.
run_tier() {
  local name=$1 limit=$2; shift 2
  local out="$LOG_DIR/$name.log" rc=0 pass fail skip todo
  step "bun test $* ($name)"
  timeout --kill-after=30 "$limit" bun test "$@" 2>&1 | tee "$out" || rc=$?
  pass=$(grep -E '^ *[0-9]+ pass$' "$out" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  fail=$(grep -E '^ *[0-9]+ fail$' "$out" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  skip=$(grep -E '^ *[0-9]+ skip$' "$out" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  todo=$(grep -E '^ *[0-9]+ todo$' "$out" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  PASSED=$((PASSED + pass))
  FAILED=$((FAILED + fail))
  SKIPPED=$((SKIPPED + skip + todo))
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "test.sh: $name tier exceeded ${limit}s and was stopped" >&2
    return 1
  fi
  if [ "$rc" -ne 0 ] || [ "$fail" -gt 0 ]; then
    failure_details "$out" >&2
    echo "test.sh: $name tier failed (exit $rc, $fail failed)" >&2
    return 1
  fi
  if [ "$((skip + todo))" -gt 0 ]; then
    echo "test.sh: $name tier skipped $((skip + todo)) test(s); skipping is a failure here" >&2
    FAILED=$((FAILED + skip + todo))
    return 1
  fi
  if [ "$pass" -eq 0 ]; then
    echo "test.sh: $name tier ran no test" >&2
    return 1
  fi
}

step "machine setup"
bash scripts/setup.sh --with-browser

if [ -f scripts/test-images.sh ]; then
  step "test images"
  bash scripts/test-images.sh
fi

# The npm registry answers the framework fixtures' installs need, recorded once per lockfile: the e2e tier then
# builds them against a local mirror and sends nothing to the registry (test/e2e/frameworks.test.ts).
step "npm mirror cache"
bun scripts/npm-cache.ts

step "typecheck"
bun x tsc --noEmit

if has_tests test/unit; then run_tier unit 900 test/unit; fi

step "build"
bun run build

if has_tests test/e2e; then run_tier e2e 3600 --timeout 900000 test/e2e; fi

if has_tests test/browser; then run_tier browser 1200 --timeout 120000 test/browser; fi
