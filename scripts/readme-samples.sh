#!/usr/bin/env bash
# The output the README quotes, made by the programs themselves so it cannot drift:
# the paysim table of every scenario (without its speed column, which depends on the
# machine; every other figure is deterministic). With --check (CI), fails when the README
# differs from what the programs print now; without it, rewrites the README's block.
set -euo pipefail
cd "$(dirname "$0")/.."
paysim=${PAYSIM:-.build/release/paysim}
[ -x "$paysim" ] || swift build -c release --product paysim >&2
begin='<!-- paysim-scenarios:begin (scripts/readme-samples.sh writes this block) -->'
end='<!-- paysim-scenarios:end -->'
status=0
output=$("$paysim" --scenarios Simulations/scenarios --no-speed 2>/tmp/readme-samples.err) || status=$?
table=$(grep '^|' <<<"$output" || true)
if [ "$status" = 1 ] || [ -z "$table" ]; then
  echo "paysim printed no table (exit $status)" >&2
  exit 1
fi
block=$(printf '%s\n```\n%s\n```\n%s' "$begin" "$table" "$end")
python3 - "$block" "$begin" "$end" "${1:-}" <<'PY'
import sys
block, begin, end, mode = sys.argv[1:5]
text = open("README.md").read()
start, stop = text.index(begin), text.index(end) + len(end)
new = text[:start] + block + text[stop:]
if mode == "--check":
    if new != text:
        print("README.md quotes paysim output that differs from what paysim prints now; run bash scripts/readme-samples.sh", file=sys.stderr)
        print(block, file=sys.stderr)
        sys.exit(1)
else:
    open("README.md", "w").write(new)
PY
