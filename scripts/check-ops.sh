#!/usr/bin/env bash
# Checks the ready-made operations files in docs/ops/:
#   - promtool (Prometheus's rule checker): installed from Debian's `prometheus` package when missing and run as
#     root; anyone else is told to install it;
#   - docs/ops/alerts.yml is valid (`promtool check rules`) and its unit tests pass (`promtool test rules
#     docs/ops/alerts.test.yml`);
#   - every alert has `for`, a severity of page or ticket, a summary and a description that names the runbook;
#   - docs/ops/grafana-dashboard.json parses, and every panel has a title and a query;
#   - every metric the alerts, their tests and the dashboard query is listed in docs/observability.md (histograms
#     listed by their base name are used as <name>_bucket, _sum or _count; counters are listed as exported).
# Prints one line per check and exits non-zero if any failed. Needs no build of the hub.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
ok() { echo "check-ops: ok    $*"; }
fail() { echo "check-ops: FAIL  $*"; failed=1; }

# (a) promtool
if ! command -v promtool >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "check-ops: promtool not found; installing Debian's prometheus package (apt-get)"
        start=$(date +%s)
        apt_log=$(mktemp)
        install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }
        # The package lists may be missing or stale on a fresh machine: update them only when the install fails.
        if ! { install || { apt-get update -qq && install; }; } >"$apt_log" 2>&1; then
            cat "$apt_log" >&2
            rm -f "$apt_log"
            echo "check-ops: FAIL  could not install prometheus (for promtool) with apt-get; see the output above" >&2
            exit 1
        fi
        rm -f "$apt_log"
        echo "check-ops: installed prometheus in $(( $(date +%s) - start )) s"
    else
        echo "check-ops: FAIL  promtool is not on PATH, and installing it needs root:" >&2
        echo "check-ops:       run \`sudo apt-get install --no-install-recommends prometheus\` (Debian/Ubuntu)," >&2
        echo "check-ops:       or put promtool from a Prometheus release (prometheus.io/download) on PATH" >&2
        exit 1
    fi
fi
command -v promtool >/dev/null 2>&1 || { echo "check-ops: FAIL  promtool is still not on PATH after installing prometheus" >&2; exit 1; }
ok "promtool: $(promtool --version 2>&1 | head -n 1)"

# (b) the rules are valid
out=$(promtool check rules docs/ops/alerts.yml 2>&1) && status=0 || status=$?
if [ "$status" = 0 ]; then
    ok "promtool check rules docs/ops/alerts.yml: $(echo "$out" | grep -o '[0-9]* rules found' || echo valid)"
else
    echo "$out"
    fail "promtool check rules docs/ops/alerts.yml"
fi

# (c) the rules' unit tests pass
out=$(promtool test rules docs/ops/alerts.test.yml 2>&1) && status=0 || status=$?
if [ "$status" = 0 ]; then
    ok "promtool test rules docs/ops/alerts.test.yml: $(grep -c -- '- interval:' docs/ops/alerts.test.yml) test groups pass"
else
    echo "$out"
    fail "promtool test rules docs/ops/alerts.test.yml"
fi

# (d) the alerts' labels and annotations, the dashboard, and the metric names against docs/observability.md
python3 - docs/ops/alerts.yml docs/ops/alerts.test.yml docs/ops/grafana-dashboard.json docs/observability.md <<'PY' || failed=1
import json
import re
import sys

alerts_path, tests_path, dashboard_path, doc_path = sys.argv[1:5]
failed = False


def result(good, what, problems=()):
    global failed
    if good:
        print(f"check-ops: ok    {what}")
    else:
        failed = True
        print(f"check-ops: FAIL  {what}")
        for problem in problems:
            print(f"check-ops:         {problem}")


def yaml_values(text, key):
    """The values of `key:` in a YAML file, as plain text: inline (quoted or not) or a block scalar (| or >).
    Enough for the rule and test files here; no YAML library is needed."""
    values = []
    lines = text.splitlines()
    i = 0
    pattern = re.compile(r"^(\s*)(?:- )?" + re.escape(key) + r":\s*(.*)$")
    while i < len(lines):
        match = pattern.match(lines[i])
        i += 1
        if not match:
            continue
        indent, value = len(match.group(1)), match.group(2).strip()
        if re.fullmatch(r"[|>][-+]?", value):
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i].strip())
                i += 1
            values.append("\n".join(block))
        else:
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values.append(value)
    return values


# ---- alerts: every rule says how urgent it is, what happened and where the runbook is
alerts_text = open(alerts_path, encoding="utf-8").read()
blocks = re.split(r"\n(?=[ \t]*- alert:)", alerts_text)[1:]
problems = []
for block in blocks:
    name = re.search(r"- alert:\s*(\S+)", block).group(1)
    if not re.search(r"^\s*for:\s*\S+", block, re.M):
        problems.append(f"{name}: no `for`")
    if not re.search(r"^\s*severity:\s*(page|ticket)\s*$", block, re.M):
        problems.append(f"{name}: severity is not page or ticket")
    for annotation in ("summary", "description"):
        if not re.search(rf"^\s*{annotation}:", block, re.M):
            problems.append(f"{name}: no {annotation}")
    if "docs/observability.md" not in "".join(yaml_values(block, "description")):
        problems.append(f"{name}: the description does not point to docs/observability.md")
    if re.search(r"\{\{[^}]*\$(?!labels\.|value\b)[^}]*\}\}", block):
        problems.append(f"{name}: a template uses something other than $labels.<name> or $value")
result(blocks and not problems, f"alerts: {len(blocks)} rules have for, severity page|ticket, summary and a runbook",
       problems)

# ---- dashboard: parses, every panel has a title and a query
exprs = {alerts_path: yaml_values(alerts_text, "expr")}
tests_text = open(tests_path, encoding="utf-8").read()
exprs[tests_path] = yaml_values(tests_text, "expr") + yaml_values(tests_text, "series")
problems = []
panels = []
try:
    dashboard = json.load(open(dashboard_path, encoding="utf-8"))
except (OSError, ValueError) as error:
    dashboard = None
    problems.append(f"does not parse: {error}")
if dashboard is not None:
    if dashboard.get("uid") != "tillwire-ops" or dashboard.get("title") != "Tillwire operations":
        problems.append("uid is not tillwire-ops or title is not Tillwire operations")
    variables = dashboard.get("templating", {}).get("list", [])
    if not any(v.get("name") == "datasource" and v.get("type") == "datasource" and v.get("query") == "prometheus"
               for v in variables):
        problems.append("no `datasource` variable of type datasource, query prometheus")

    def walk(items):
        for panel in items:
            yield panel
            yield from walk(panel.get("panels", []))

    ids = set()
    dashboard_exprs = []
    for panel in walk(dashboard.get("panels", [])):
        title = (panel.get("title") or "").strip()
        label = f"panel {panel.get('id')} ({title or 'untitled'})"
        if panel.get("id") in ids:
            problems.append(f"{label}: id used twice")
        ids.add(panel.get("id"))
        if panel.get("type") == "row":
            continue
        panels.append(panel)
        if not title:
            problems.append(f"{label}: no title")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{label}: no targets")
        for target in targets:
            if not (target.get("expr") or "").strip():
                problems.append(f"{label}: target {target.get('refId')} has no expr")
            dashboard_exprs.append(target.get("expr") or "")
            source = target.get("datasource") or panel.get("datasource") or {}
            if source.get("uid") != "${datasource}":
                problems.append(f"{label}: queries a data source other than ${{datasource}}")
        if "gridPos" not in panel:
            problems.append(f"{label}: no gridPos")
    exprs[dashboard_path] = dashboard_exprs
result(dashboard is not None and not problems,
       f"dashboard: {dashboard_path} parses; {len(panels)} panels each have a title and a query", problems)

# ---- metric names: every one used is listed in docs/observability.md
listed = {}  # name -> its type column ("counter", "gauge", "histogram (seconds)", ...)
for line in open(doc_path, encoding="utf-8"):
    match = re.match(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*([^|]*)\|", line)
    if match:
        listed.setdefault(match.group(1), match.group(2).strip().lower())


def is_histogram(name):
    return listed.get(name, "").startswith("histogram")


used = {}  # name -> files that use it
name_pattern = re.compile(r"(?<![A-Za-z0-9_:])(?:tillwire|hb|http_server)_[a-z_]+")
for path, texts in exprs.items():
    for text in texts:
        for name in name_pattern.findall(text):
            used.setdefault(name, set()).add(path)

problems = []
for name in sorted(used):
    where = ", ".join(sorted(used[name]))
    base, suffix = re.match(r"^(.*?)(_bucket|_sum|_count|_total)?$", name).groups()
    if name in listed:
        if is_histogram(name):
            problems.append(f"{name} ({where}): a histogram, exported only as {name}_bucket, _sum and _count")
    elif suffix in ("_bucket", "_sum", "_count") and base in listed:
        if not is_histogram(base):
            problems.append(f"{name} ({where}): {base} is a {listed[base]}, not a histogram")
    elif suffix == "_total" and base in listed:
        problems.append(f"{name} ({where}): listed as {base}; the hub exports it without _total")
    elif suffix in ("_bucket", "_sum", "_count"):
        problems.append(f"{name} ({where}): histogram {base} is not listed in {doc_path}")
    else:
        problems.append(f"{name} ({where}): not listed in {doc_path}")
result(used and not problems,
       f"metric names: {len(used)} used in the alerts, their tests and the dashboard; "
       + (f"all listed in {doc_path}" if not problems else f"{len(problems)} wrong or not listed in {doc_path}"),
       problems)

sys.exit(1 if failed else 0)
PY

if [ "$failed" != 0 ]; then
    echo "check-ops: failed"
    exit 1
fi
echo "check-ops: all checks passed"
