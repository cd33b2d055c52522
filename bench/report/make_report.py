#!/usr/bin/python3
"""The benchmark report: turns etcdgrpc-bench's --results_json file into one self-contained HTML
page (inline SVG charts, no scripts, no external assets). ./dev bench --report DIR runs it.

    make_report.py RESULTS_JSON INDEX_HTML [--git-commit TEXT]
"""
import argparse
import html
import json
import subprocess
import sys
from pathlib import Path

# Our lines, the raw-stub baselines, the Go peer; any other peer name gets the last colour.
PEER_COLOURS = {"etcd-grpc": "#1f6fb4", "grpc-raw-stub": "#8c8c8c", "go-clientv3": "#00a29a"}
OTHER_COLOUR = "#c8782a"
PEER_LABELS = {"etcd-grpc": "etcd-grpc (ours)", "grpc-raw-stub": "raw gRPC stub",
               "go-clientv3": "Go clientv3"}
PANELS = [("client_cpu_us_per_op", "client CPU µs / op"), ("p50_us", "p50 latency µs"),
          ("p99_us", "p99 latency µs")]
BAR_W, BAR_GAP, PANEL_GAP, PANEL_H, TOP, BOTTOM, LEFT = 34, 10, 40, 160, 34, 90, 10


def esc(value):
    return html.escape(str(value), quote=True)


def number(value, digits=2):
    if value is None or (isinstance(value, (int, float)) and value < 0):
        return "n/a"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def colour(line):
    return PEER_COLOURS.get(line.get("peer"), OTHER_COLOUR)


def chart(scenario, lines):
    """One SVG: a panel per figure of PANELS, a bar per line, the value above each bar."""
    panel_w = len(lines) * (BAR_W + BAR_GAP) + BAR_GAP
    width = LEFT + len(PANELS) * panel_w + (len(PANELS) - 1) * PANEL_GAP + LEFT
    height = TOP + PANEL_H + BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for p, (key, title) in enumerate(PANELS):
        x0 = LEFT + p * (panel_w + PANEL_GAP)
        values = [line.get(key) for line in lines]
        top = max([v for v in values if isinstance(v, (int, float)) and v > 0], default=0)
        parts.append(f'<text x="{x0 + panel_w / 2}" y="14" class="panel-title">{esc(title)}</text>')
        base = TOP + PANEL_H
        parts.append(f'<line x1="{x0}" y1="{base}" x2="{x0 + panel_w}" y2="{base}" class="axis"/>')
        for i, (line, value) in enumerate(zip(lines, values)):
            x = x0 + BAR_GAP + i * (BAR_W + BAR_GAP)
            known = isinstance(value, (int, float)) and value >= 0 and top > 0
            h = PANEL_H * value / top if known else 0
            parts.append(f'<rect x="{x}" y="{base - h:.1f}" width="{BAR_W}" height="{h:.1f}" '
                         f'fill="{colour(line)}"><title>{esc(line["workload"])}: '
                         f'{esc(number(value))}</title></rect>')
            parts.append(f'<text x="{x + BAR_W / 2}" y="{base - h - 4:.1f}" class="value">'
                         f'{esc(number(value, 1) if known else "n/a")}</text>')
            parts.append(f'<text x="{x + BAR_W / 2}" y="{base + 12}" class="peer" '
                         f'transform="rotate(30 {x + BAR_W / 2} {base + 12})">'
                         f'{esc(short_label(scenario, line))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def short_label(scenario, line):
    peer, workload = line.get("peer", ""), line["workload"]
    if peer == "grpc-raw-stub" and workload.endswith("_stub_same_wire"):
        return "stub, our wire"
    if peer == "grpc-raw-stub":
        return "raw stub"
    if peer == "go-clientv3":
        return "Go"
    if peer == "etcd-grpc" and workload == scenario:
        return "ours"
    if peer == "etcd-grpc" and workload == scenario + "_metrics_on":
        return "ours, metrics on"
    return workload


def ratios(lines, line):
    """Ours against the raw stub and the Go peer of the same workload: (cpu vs raw, cpu vs Go,
    ops/s vs Go)."""
    if line.get("peer") != "etcd-grpc":
        return None, None, None
    by_name = {l["workload"]: l for l in lines}
    # With metrics on, against the same baselines as without.
    workload = line["workload"].removesuffix("_metrics_on")
    raw = by_name.get(workload + "_raw_stub")
    go = by_name.get(workload + "_go_clientv3")

    def ratio(a, b):
        return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0 \
            and b > 0 else None
    cpu = line.get("client_cpu_us_per_op")
    return (ratio(cpu, raw and raw.get("client_cpu_us_per_op")),
            ratio(cpu, go and go.get("client_cpu_us_per_op")),
            ratio(line.get("ops_per_s"), go and go.get("ops_per_s")))


def legend():
    items = [f'<span class="swatch" style="background:{c}"></span>{esc(PEER_LABELS[p])}'
             for p, c in PEER_COLOURS.items()]
    items.append(f'<span class="swatch" style="background:{OTHER_COLOUR}"></span>other')
    return '<p class="legend">' + " ".join(items) + "</p>"


def scenario_section(index, result):
    lines = result.get("lines", [])
    name = result["scenario"] + (f" (round {result['round'] + 1})" if result.get("round") else "")
    out = [f'<section class="scenario" id="scenario-{index}"><h2>{esc(name)}</h2>']
    if result.get("error"):
        out.append(f'<p class="error">failed: {esc(result["error"])}</p>')
    if not lines:
        out.append('<p class="error">no figures</p></section>')
        return "".join(out)
    out.append(chart(result["scenario"], lines))
    out.append('<table class="small"><tr><th>workload</th><th>peer</th><th>ops/s</th>'
               '<th>threads</th><th>RSS MB</th></tr>')
    for line in lines:
        out.append(f'<tr><td>{esc(line["workload"])}</td><td>{esc(line["peer"])}</td>'
                   f'<td>{number(line.get("ops_per_s"))}</td><td>{number(line.get("threads"))}'
                   f'</td><td>{number(line.get("rss_mb"), 1)}</td></tr>')
    out.append("</table></section>")
    return "".join(out)


def figures_table(results):
    head = ["scenario", "workload", "peer", "ops", "ops/s", "CPU µs/op", "p50 µs", "p99 µs",
            "RSS MB", "threads", "CPU ÷ raw", "CPU ÷ Go", "ops/s ÷ Go", "extra"]
    out = ['<table class="figures"><tr>' + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    for result in results:
        lines = result.get("lines", [])
        for line in lines:
            vs_raw, vs_go, speed_vs_go = ratios(lines, line)
            extra = " ".join(f"{k}={v}" for k, v in line.get("extra", {}).items())
            cells = [result["scenario"], line["workload"], line["peer"], number(line.get("ops")),
                     number(line.get("ops_per_s")), number(line.get("client_cpu_us_per_op")),
                     number(line.get("p50_us"), 1), number(line.get("p99_us"), 1),
                     number(line.get("rss_mb"), 1), number(line.get("threads")),
                     number(vs_raw) if vs_raw else "", number(vs_go) if vs_go else "",
                     number(speed_vs_go) if speed_vs_go else "", extra]
            out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def go_version(results):
    for result in results:
        for line in result.get("lines", []):
            if line.get("peer") == "go-clientv3" and "go" in line.get("extra", {}):
                return line["extra"]["go"]
    return "not run"


def git_commit():
    root = Path(__file__).resolve().parents[2]
    try:
        return subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin: 0 0 6px; }
.scenario { display: inline-block; vertical-align: top; margin: 0 24px 24px 0; padding: 12px;
            border: 1px solid #ddd; border-radius: 6px; }
.chart text { font: 11px system-ui, sans-serif; fill: #222; }
.chart .panel-title { text-anchor: middle; font-weight: 600; }
.chart .value { text-anchor: middle; }
.chart .peer { text-anchor: start; }
.chart .axis { stroke: #555; }
table { border-collapse: collapse; margin: 8px 0; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
td:nth-child(-n+3), th { text-align: left; }
.small td:nth-child(2) { text-align: left; }
.error { color: #b00020; font-weight: 600; }
.swatch { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dt { font-weight: 600; }
"""


def page(results_doc, commit):
    results = results_doc.get("scenarios", [])
    machine = results_doc.get("machine", {})
    versions = dict(results_doc.get("versions", {}))
    about = [("CPU", machine.get("cpu_model")), ("cores", machine.get("cores")),
             ("kernel", machine.get("kernel")), ("etcd", versions.get("etcd") or "unknown"),
             ("gRPC", versions.get("grpc")), ("protobuf", versions.get("protobuf")),
             ("compiler", versions.get("compiler")), ("Go (peer)", go_version(results)),
             ("git commit", commit), ("started", results_doc.get("started_at")),
             ("scale", results_doc.get("scale")), ("etcd endpoints",
                                                   ", ".join(results_doc.get("endpoints", [])))]
    failed = [r["scenario"] for r in results if r.get("error")]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>etcd-grpc benchmark report</title>", f"<style>{STYLE}</style></head><body>",
           "<h1>etcd-grpc benchmark report</h1>",
           "<p>From <code>etcdgrpc-bench</code> (bench/README.md): client CPU per operation "
           "(<code>getrusage</code> of the measuring process), p50 and p99 latency; ours beside "
           "the raw gRPC stub and Go's clientv3, interleaved in blocks against the same etcd. "
           "Compare within a run: absolute figures swing between machines.</p>",
           '<dl class="machine">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>"
                                            for k, v in about) + "</dl>"]
    if failed:
        out.append(f'<p class="error">failed scenarios: {esc(", ".join(failed))}</p>')
    out.append(legend())
    out.extend(scenario_section(i, r) for i, r in enumerate(results))
    out.append("<h2>All figures</h2>")
    out.append(figures_table(results))
    out.append("</body></html>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_json")
    parser.add_argument("index_html")
    parser.add_argument("--git-commit", help="the commit to show (default: git describe here)")
    args = parser.parse_args()
    try:
        with open(args.results_json, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as error:
        print(f"make_report: cannot read {args.results_json}: {error}", file=sys.stderr)
        return 1
    if doc.get("format") != "etcdgrpc-bench-results/1":
        print(f"make_report: {args.results_json} is not an etcdgrpc-bench results file",
              file=sys.stderr)
        return 1
    Path(args.index_html).parent.mkdir(parents=True, exist_ok=True)
    Path(args.index_html).write_text(page(doc, args.git_commit or git_commit()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
