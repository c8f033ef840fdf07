#!/usr/bin/env bash
# The one-command local cluster: installs what is missing, builds paynode, and runs
# `paynode demo` (three regions on loopback with fresh certificates, a few payments
# written, endpoints and a working curl printed; Ctrl-C stops all three). Any arguments
# go to `paynode demo`, e.g. `bash scripts/demo.sh --api-port 18101 --peer-port 19101`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-packages.sh
ensure_packages
echo "building paynode (the first build fetches and compiles SwiftNIO, Hummingbird and friends: a few minutes)" >&2
swift build --product paynode >&2
exec .build/debug/paynode demo "$@"
