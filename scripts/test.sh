#!/usr/bin/env bash
# Passes the test suite on a fresh Debian machine: installs the system packages the
# build needs when they are missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-packages.sh
ensure_packages

swift build --build-tests
swift test --skip-build "$@"
