#!/usr/bin/env bash
# Passes the test suite on a fresh Debian machine: installs the system packages the
# build needs when they are missing, builds, runs every unit and property test, then the
# simulator's CI block (200 swarm seeds with replay checks, every scenario, the seeds
# that once failed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-packages.sh
ensure_packages

swift build --build-tests
swift test --skip-build "$@"

echo "== paysim CI block" >&2
swift build -c release --product paysim
paysim=.build/release/paysim
"$paysim" --seeds 1-200 --quiet --replay-every 10
"$paysim" --scenarios Simulations/scenarios --quiet
regressions=$(grep -v '^#' Simulations/seeds/regressions.txt | tr ' ' '\n' | grep -E '^[0-9]+$' | sed 's/^/--seed /' | tr '\n' ' ')
# shellcheck disable=SC2086
"$paysim" $regressions --quiet
