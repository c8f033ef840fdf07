#!/usr/bin/env bash
# Passes the test suite on a fresh Debian machine: installs the system packages the
# build needs when they are missing, builds, runs every unit, property and integration
# test (real paynode processes over mutual TLS), the API conformance run (schemathesis
# against the served /openapi.yaml), then the simulator's CI block (200 swarm seeds with
# replay checks, every scenario, the seeds that once failed; every "sometimes" probe
# must fire), and a one-second smoke run of the benchmark suite (so `scripts/bench.sh`
# keeps working; its figures are not checked here: speed is measured, not asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-packages.sh
ensure_packages wrk etcd-server postgresql prometheus systemd  # systemd: systemd-analyze

echo "== swift-format (.swift-format: 120 columns); fix with: swift format --in-place --recursive Sources Tests Simulations Package.swift" >&2
swift format lint --strict --recursive Sources Tests Simulations Package.swift

# A module that imports a module of this package it does not list as a dependency in
# Package.swift fails to build (modules of other packages are not checked).
swift build --build-tests --explicit-target-dependency-import-check error
# One test at a time: the integration tests start real clusters on loopback ports they
# pick as free (two clusters at once can race for one), and their failover timing is in
# fractions of a second, which a machine shared by several clusters does not keep.
swift test --skip-build --no-parallel "$@"

echo "== deploy/prometheus alert rules (promtool)" >&2
promtool check rules deploy/prometheus/paynode-alerts.yml
promtool test rules deploy/prometheus/paynode-alerts.test.yml

echo "== deploy/paynode.service (systemd-analyze verify)" >&2
# verify refuses a unit whose ExecStart binary is missing, and /usr/local/bin/paynode is
# there only once installed: check a copy that runs the binary just built. Unknown keys and
# bad values are only warnings (exit 0), so any output fails the check too.
unit_dir=$(mktemp -d)
sed "s#^ExecStart=/usr/local/bin/paynode #ExecStart=$PWD/.build/debug/paynode #" deploy/paynode.service > "$unit_dir/paynode.service"
grep -q "^ExecStart=$PWD/.build/debug/paynode " "$unit_dir/paynode.service" ||
  { echo "deploy/paynode.service: ExecStart is not /usr/local/bin/paynode any more: update this check" >&2; exit 1; }
verify_out=$(systemd-analyze verify "$unit_dir/paynode.service" 2>&1) && [ -z "$verify_out" ] || {
  echo "$verify_out" >&2; echo "systemd-analyze verify: deploy/paynode.service has a problem (above)" >&2; exit 1; }
rm -rf "$unit_dir"

echo "== API conformance (schemathesis)" >&2
SCHEMATHESIS_SECONDS=${SCHEMATHESIS_SECONDS:-60} bash scripts/api-conformance.sh .build/debug/paynode

echo "== paysim CI block" >&2
swift build -c release --product paysim
paysim=.build/release/paysim
"$paysim" --seeds 1-200 --quiet --replay-every 10 --jobs 2 | tee /tmp/paysim-ci-block.txt
if grep -E '^probes:.* NO' /tmp/paysim-ci-block.txt >/dev/null; then
  echo "a sometimes-probe never fired in the CI seed block (see the probes line above)" >&2
  exit 1
fi
"$paysim" --scenarios Simulations/scenarios --quiet --jobs 2
# Seeds run two at a time print what they print one at a time.
"$paysim" --seeds 1-12 --no-speed | grep -v '^simulated ' > /tmp/paysim-jobs1.txt
"$paysim" --seeds 1-12 --no-speed --jobs 2 | grep -v '^simulated ' > /tmp/paysim-jobs2.txt
diff /tmp/paysim-jobs1.txt /tmp/paysim-jobs2.txt
echo "== README: quoted paysim output matches what paysim prints" >&2
PAYSIM="$paysim" bash scripts/readme-samples.sh --check
regressions=$(grep -v '^#' Simulations/seeds/regressions.txt | tr ' ' '\n' | grep -E '^[0-9]+$' | sed 's/^/--seed /' | tr '\n' ' ')
# shellcheck disable=SC2086
"$paysim" $regressions --quiet --jobs 2

echo "== benchmark suite, smoke run (debug build, tiny loads)" >&2
.build/debug/paybench suite --runs 1 --seconds 1 --lag-rates 200 --catch-up 2000 --paysim-seeds 2 > /tmp/paybench-smoke.md
cat /tmp/paybench-smoke.md
grep -q '^| catch-up of 2.\?000 payments' /tmp/paybench-smoke.md
