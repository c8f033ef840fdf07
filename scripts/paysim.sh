#!/usr/bin/env bash
# Builds the simulator (release) and runs it. With no arguments: 20 swarm seeds, every
# scenario file, and an HTML report of the first run. Any arguments go to paysim itself,
# e.g. `bash scripts/paysim.sh --seed 42 --report /tmp/seed42.html`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-packages.sh
ensure_packages
swift build -c release --product paysim >&2
if [ $# -eq 0 ]; then
  .build/release/paysim --seeds 1-20 --report paysim-report.html
  .build/release/paysim --scenarios Simulations/scenarios
else
  .build/release/paysim "$@"
fi
