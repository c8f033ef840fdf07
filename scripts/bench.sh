#!/usr/bin/env bash
# The end-to-end benchmarks in one run: installs wrk and etcd when missing, builds the
# release binaries, and runs `paybench suite` (real nodes, wrk from its own process, a
# three-member etcd cluster as the consensus baseline), which prints one markdown table
# of medians on standard output and its progress on standard error. Takes about
# 15 minutes on 2 cores with the defaults; options go to `paybench suite`, e.g.
#   bash scripts/bench.sh --runs 1 --seconds 5 --catch-up 100000
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-packages.sh
ensure_packages wrk etcd-server postgresql

swift build -c release --product paynode >&2
swift build -c release --product paysim >&2
swift build -c release --product paybench >&2
exec .build/release/paybench suite "$@"
