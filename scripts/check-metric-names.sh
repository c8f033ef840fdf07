#!/usr/bin/env bash
# Keeps the dashboards and alert rules honest: every metric name a PromQL expression in
# deploy/grafana/*.json or deploy/prometheus/paynode-alerts.yml queries must be in a real
# /metrics scrape. Prints each missing name and exits 1 if there is one. With promtool on
# the PATH it also parses every dashboard expression (Grafana's variables filled in).
# Usage: bash scripts/check-metric-names.sh metrics.txt
#
# A family prints its HELP/TYPE lines only once it has a series: the request metrics after
# the first request, the per-peer ones (lag, links, amounts not yet at a peer) only with a
# peer configured, paynode_rpo_exposure_amount after a write no peer holds. So take the
# scrape from a node with a peer in its config, after traffic and a write
# (scripts/api-conformance.sh does).
set -euo pipefail
[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: $0 METRICS.txt" >&2; exit 2; }
metrics=$(realpath "$1")
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$metrics" "$tmp/dashboard-rules.yml" deploy/prometheus/paynode-alerts.yml deploy/grafana/*.json <<'PY'
import json, re, sys

metrics_path, rules_out, rules_path, *dashboards = sys.argv[1:]
IDENT = r"[a-zA-Z_:][a-zA-Z0-9_:]*"

# What the scrape has: each sample's name, and each family with a TYPE line; a histogram
# or summary family stands for its _bucket/_sum/_count series too.
exported = set()
for line in open(metrics_path):
    if line.startswith("# TYPE "):
        _, _, family, kind = line.split()[:4]
        exported.add(family)
        if kind in ("histogram", "summary"):
            exported |= {family + s for s in ("_bucket", "_sum", "_count")}
    elif line.strip() and not line.startswith("#"):
        exported.add(re.match(IDENT, line).group())
if not exported:
    sys.exit(f"{metrics_path}: no metrics in it")
# Families a node prints only once a region has been retired from its cluster.
exported |= {"paynode_retired_region", "paynode_retired_region_lost_entries"}
# Series Prometheus adds itself: per target, and its own alert series.
exported |= {"up", "scrape_duration_seconds", "scrape_samples_scraped",
             "scrape_samples_post_metric_relabeling", "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE"}

def rule_exprs(path):
    """The `expr:` values of a rules file: plain, quoted, or a | or > block. (No YAML
    parser in the standard library; this reads the layout promtool accepts and we use.)"""
    lines = open(path).read().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(?:- )?expr:\s*(.*)$", lines[i])
        i += 1
        if not m:
            continue
        indent, value = len(m.group(1)), m.group(2).strip()
        if value[:1] in ("|", ">"):
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            value = "\n".join(block)
        elif value[:1] in ("'", '"'):
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*$", "", value)
        yield value

def variable_query(q):
    """The PromQL in a Grafana query variable, if it names a metric."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q, re.S)  # label_values(selector, label)
    m = m or re.fullmatch(r"\s*query_result\((.*)\)\s*", q, re.S)
    return m.group(1) if m else None  # label_names(), label_values(label), metrics(re): none

def dashboard_exprs(node):
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str):
            yield node["expr"]
        if node.get("type") == "query" and "query" in node and "name" in node:  # a variable
            q = node["query"]
            q = q.get("query", "") if isinstance(q, dict) else q
            if variable_query(q) is not None:
                yield variable_query(q)
        for v in node.values():
            yield from dashboard_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_exprs(v)

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
            "offset", "bool", "inf", "nan"}

def metric_names(expr):
    e = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)  # strings
    e = re.sub(r"#[^\n]*", "", e)                 # comments
    e = re.sub(r"\{[^}]*\}", "", e)               # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)              # ranges, subqueries
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    e = re.sub(r"\$\{[^}]*\}|\$\w+", " ", e)      # Grafana variables
    names = set()
    # An identifier not inside a word or number (5m, 1e6), not called (a function or an
    # aggregation), not a keyword, is a metric name.
    for m in re.finditer(r"(?<![\w:.])(" + IDENT + r")(\s*\()?", e):
        if not m.group(2) and m.group(1) not in KEYWORDS:
            names.add(m.group(1))
    return names

uses = [(rules_path, e) for e in rule_exprs(rules_path)]
dash_exprs = [(d, e) for d in dashboards for e in dashboard_exprs(json.load(open(d)))]
uses += dash_exprs
missing, checked = {}, set()
for path, expr in uses:
    for name in metric_names(expr):
        checked.add(name)
        if name not in exported:
            missing.setdefault(name, path)
if not checked:
    sys.exit("no metric names found in any expression: is this script reading the files right?")
for name, path in sorted(missing.items()):
    print(f"missing from {metrics_path}: {name} (used in {path})")

# Every dashboard expression as a recording rule, for promtool to parse: $__rate_interval
# and friends become 1m, any other variable .* (they only stand in label matchers here).
with open(rules_out, "w") as f:
    f.write("groups:\n  - name: dashboard-expressions\n    rules:\n")
    for i, (_, e) in enumerate(dash_exprs):
        e = re.sub(r"\$\{?__(?:rate_)?interval\}?|\$\{?__range\}?", "1m", e)
        e = re.sub(r"\$\{?[A-Za-z_]\w*\}?", ".*", e)
        f.write(f"      - record: dashboard:expr{i}\n        expr: {json.dumps(e)}\n")
print(f"{len(checked)} metric names in {len(uses)} expressions; {len(missing)} missing from the scrape",
      file=sys.stderr)
sys.exit(1 if missing else 0)
PY

if command -v promtool >/dev/null; then
  out=$(promtool check rules "$tmp/dashboard-rules.yml" 2>&1) || {
    echo "$out" >&2; echo "a dashboard expression does not parse (above)" >&2; exit 1; }
fi
