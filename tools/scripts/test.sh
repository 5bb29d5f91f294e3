#!/usr/bin/env bash
# The README's test command: installs what the suite needs, then runs every check —
# lint (with the dependency boundaries), typecheck, build, and every test (unit and
# integration, against real docker-registry, skopeo, containerd, ...) in one Vitest run.
# Ends with one summary line: "tests: N passed, N failed, N skipped".
source "$(dirname "$0")/common.sh"

# Debian first: npm ci compiles node-pty with node-gyp (g++, make, python3).
ensure_debian_packages
ensure_npm_packages

step "lint, typecheck, build"
npx nx run-many -t lint typecheck build --output-style=static

step "tests"
mkdir -p tmp
results=tmp/vitest-results.json
rm -f "$results"
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
status=$?
set -e
if [ ! -f "$results" ]; then
  echo "tests: the runner wrote no results (exit $status)"
  exit 1
fi
node tools/scripts/summarize-tests.mjs "$results"
exit "$status"
