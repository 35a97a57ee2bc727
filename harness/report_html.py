"""results/report.html: the comparison of results/report.md with charts, one self-contained
file (charts are PNG data URIs drawn by Debian's python3-matplotlib, no scripts, no links
to fetch). Made from what results/ holds, never from figures of its own:

- the VT-x vs AMD-V probe matrix: pass, fail, known platform bug, skip per platform and
  mode (results/<platform>-<mode>.json), as a chart and as a table probe by probe;
- exit cost per kind, bare vs under nestbed (results/bench.json cost_per_exit_kind);
- exit multiplication per L1 (bench.json exit_multiplication: L0 exits per exit L1 sees);
- nestbed's own coverage by directory (results/coverage.json from `make coverage-l0`),
  or "no coverage data" when there is none.
Every chart has a table of the same figures next to it (alt text for the numbers).
"""

import base64
import html
import io
import json
from pathlib import Path
from typing import List, Optional

from . import HarnessError
from .results import load_results, vendor_of

# one colour per outcome, the same in the chart and the table
COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "known": "#ef8f00", "skip": "#9e9e9e"}
MODE_ORDER = {"bare": 0, "nestbed": 1}
VENDOR_ORDER = {"VT-x": 0, "AMD-V": 1}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise HarnessError("results/report.html needs Debian's python3-matplotlib "
                           "(scripts/deps installs it)")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    # the same bytes from the same figures: no hash salt in the PNG, fixed fonts
    matplotlib.rcParams["svg.hashsalt"] = "nestbed"
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    return plt


def _png(fig, plt) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight",
                metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _img(uri: str, alt: str, chart_id: str) -> str:
    return '<figure><img id="%s" class="chart" src="%s" alt="%s"></figure>' % (
        _e(chart_id), uri, _e(alt))


def _table(head: List[str], rows: List[List[str]], cls: str = "") -> str:
    out = ['<table%s>' % (' class="%s"' % cls if cls else ""),
           "<thead><tr>" + "".join("<th>%s</th>" % _e(h) for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(c if c.startswith("<td") else "<td>%s</td>" % _e(c)
                                    for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _sorted_records(records: List[dict]) -> List[dict]:
    return sorted(records, key=lambda r: (MODE_ORDER.get(r["mode"], 2),
                                          VENDOR_ORDER.get(vendor_of(r["platform"]), 2),
                                          r["platform"]))


def outcome(probe: dict) -> str:
    if probe["status"] == "fail":
        return "known" if probe.get("known") else "fail"
    return {"ok": "pass", "skip": "skip"}.get(probe["status"], probe["status"])


def outcome_counts(record: dict) -> dict:
    counts = {k: 0 for k in COLOURS}
    for p in record["probes"]:
        o = outcome(p)
        if o in counts:
            counts[o] += 1
    return counts


# ---------------------------------------------------------------- the probe matrix

def matrix_section(records: List[dict], plt) -> str:
    if not records:
        return "<h2>Probe matrix</h2><p class=\"none\">No results in results/*.json.</p>"
    records = _sorted_records(records)
    labels = ["%s %s (%s)" % (vendor_of(r["platform"]), r["mode"], r["platform"])
              for r in records]
    counts = [outcome_counts(r) for r in records]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(records) + 1.2))
    left = [0] * len(records)
    ys = list(range(len(records)))[::-1]
    for key in ("pass", "fail", "known", "skip"):
        values = [c[key] for c in counts]
        ax.barh(ys, values, left=left, color=COLOURS[key], label=key)
        left = [l + v for l, v in zip(left, values)]
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_xlabel("probes")
    ax.set_title("Probe outcomes per platform and mode")
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.08), frameon=False)
    chart = _img(_png(fig, plt), "stacked bars: pass, fail, known platform bug and skip "
                 "counts per platform and mode (figures in the table below)", "chart-matrix")
    runs = _table(["platform", "vendor", "mode", "verdict", "pass", "fail",
                   "known platform bug", "skip", "emulator"],
                  [[r["platform"], vendor_of(r["platform"]), r["mode"], r["verdict"],
                    str(c["pass"]), str(c["fail"]), str(c["known"]), str(c["skip"]),
                    r.get("emulator") or "-"] for r, c in zip(records, counts)], "runs")
    return ("<h2>Probe matrix: VT-x vs AMD-V</h2>\n"
            "<p>Each probe's outcome on each platform, bare (the platform's own VT-x or AMD-V) "
            "and under nestbed (the probe is nestbed's L1). <em>known</em>: a documented "
            "emulator departure from the manual (tests/emulator/known-failures/). Probe by "
            "probe at the end of the page.</p>\n" + chart + "\n" + runs)


def probe_table_section(records: List[dict]) -> str:
    if not records:
        return ""
    records = _sorted_records(records)
    index = [{p["name"]: p for p in r["probes"]} for r in records]
    names = sorted({n for i in index for n in i})
    head = ["probe"] + ["%s %s (%s)" % (vendor_of(r["platform"]), r["mode"], r["platform"])
                        for r in records]
    rows = []
    mark = {"pass": "✓", "fail": "✗", "known": "✗ known", "skip": "–"}
    for name in names:
        row = [name]
        for i in index:
            p = i.get(name)
            if p is None:
                row.append('<td class="absent"></td>')
                continue
            o = outcome(p)
            title = p.get("reason") or ""
            row.append('<td class="%s" title="%s">%s</td>' % (_e(o), _e(title), _e(mark.get(o, o))))
        rows.append(row)
    return ("<h2>Probe by probe</h2>\n<p>✓ pass, ✗ fail, ✗ known: a documented emulator "
            "bug, – skip (not applicable or missing on the platform); hover a cell for the "
            "probe's reason.</p>\n" + _table(head, rows, "matrix"))


# ---------------------------------------------------------------- exit cost per kind

def cost_section(bench: Optional[dict], plt) -> str:
    title = "<h2>Exit cost per kind: bare vs under nestbed</h2>\n"
    cost = (bench or {}).get("cost_per_exit_kind") or {}
    if not cost:
        return title + '<p class="none">No cost figures (results/bench.json has no ' \
                       'cost_per_exit_kind: run <code>make bench</code>).</p>'
    parts = [title, "<p>TSC ticks per exit round trip of the cost/ probes (QEMU under "
             "<code>-icount shift=0</code>: instructions retired, the same at every run). "
             "Each cost/ probe is a small L1 that runs an L2 and handles its exits: bare, the "
             "platform's own AMD-V or VT-x makes the round trip; under nestbed, each L2 exit "
             "goes through nestbed, which reflects it to the probe and takes its next VMRUN. "
             "From results/bench.json (%s).</p>" % _e((bench or {}).get("date", "undated"))]
    for n, (platform, modes) in enumerate(sorted(cost.items())):
        kinds = sorted(set(modes.get("bare", {})) | set(modes.get("nestbed", {})))
        bare = [modes.get("bare", {}).get(k) for k in kinds]
        nested = [modes.get("nestbed", {}).get(k) for k in kinds]
        fig, ax = plt.subplots(figsize=(8, 3.6))
        xs = list(range(len(kinds)))
        ax.bar([x - 0.2 for x in xs], [b or 0 for b in bare], 0.4, label="bare",
               color="#1565c0")
        ax.bar([x + 0.2 for x in xs], [v or 0 for v in nested], 0.4, label="under nestbed",
               color="#ad1457")
        ax.set_yscale("log")
        ax.set_xticks(xs)
        ax.set_xticklabels(kinds)
        ax.set_ylabel("ticks per round trip (log)")
        ax.set_title("%s: cost per exit kind" % platform, pad=24)
        ax.legend(frameon=False, ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
        parts.append(_img(_png(fig, plt), "bars: ticks per exit round trip per kind on %s, "
                          "bare and under nestbed (figures in the table below)" % platform,
                          "chart-cost-%d" % n))
        rows = []
        for k, b, v in zip(kinds, bare, nested):
            ratio = "%.1f" % (v / b) if b and v else "-"
            rows.append([k, "-" if b is None else str(b), "-" if v is None else str(v), ratio])
        parts.append(_table(["kind", "bare", "under nestbed", "ratio"], rows, "cost"))
    return "\n".join(parts)


# ---------------------------------------------------------------- exit multiplication

def multiplication_rows(bench: Optional[dict]) -> List[tuple]:
    """(label, l0 exits per reflected exit, l0 exits, reflected) per L1 measured."""
    mult = (bench or {}).get("exit_multiplication") or {}
    rows = []
    for platform, fig in sorted((mult.get("minimal_l1_cpuid_loop") or {}).items()):
        n = (fig or {}).get("nestbed") or {}
        if n.get("l0_exits_per_reflected") is not None:
            rows.append(("minimal L1 (CPUID loop), %s" % platform, n["l0_exits_per_reflected"],
                         n.get("l0_exits"), n.get("reflected")))
    for platform, variants in sorted((mult.get("kvm_l1_whole_run") or {}).items()):
        for variant, fig in sorted((variants or {}).items()):
            if (fig or {}).get("l0_exits_per_reflected") is None:
                continue
            reflected = fig.get("reflected")
            if isinstance(reflected, dict):
                reflected = reflected.get("total")
            rows.append(("Linux KVM (%s), %s" % (variant, platform), fig["l0_exits_per_reflected"],
                         fig.get("l0_exits"), reflected))
    return rows


def multiplication_section(bench: Optional[dict], plt) -> str:
    title = "<h2>Exit multiplication per L1</h2>\n"
    rows = multiplication_rows(bench)
    if not rows:
        return title + '<p class="none">No exit-multiplication figures (results/bench.json ' \
                       'has no exit_multiplication: run <code>make bench</code>).</p>'
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r[1] for r in rows], color="#6a1b9a")
    ax.axvline(2.0, color="#000000", linestyle="--", linewidth=1, label="floor: 2")
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xlabel("L0 exits per exit L1 sees")
    ax.set_title("Exit multiplication (nestbed's exits per reflected L2 exit)")
    ax.legend(frameon=False, loc="lower right")
    chart = _img(_png(fig, plt), "bars: L0 exits per reflected exit for each L1 (figures in "
                 "the table below)", "chart-multiplication")
    table = _table(["L1", "L0 exits per reflected exit", "L0 exits", "reflected"],
                   [[r[0], "%.2f" % r[1], "-" if r[2] is None else str(r[2]),
                     "-" if r[3] is None else str(r[3])] for r in rows], "multiplication")
    return (title + "<p>Every exit L1 sees costs nestbed at least two: the L2 exit it reflects "
            "and L1's next VMRUN/VMRESUME. Above 2 is what L1 does in between (VMREAD/VMWRITE "
            "without shadowing, VMLOAD/VMSAVE, interrupts, nested page faults). From "
            "results/bench.json.</p>\n" + chart + "\n" + table)


# ---------------------------------------------------------------- coverage

def _pct(fig) -> Optional[float]:
    if isinstance(fig, dict):
        return fig.get("percent")
    return None


def coverage_section(coverage: Optional[dict], plt) -> str:
    title = "<h2>nestbed's coverage by directory</h2>\n"
    dirs = (coverage or {}).get("directories") or {}
    if not dirs:
        return title + '<p class="none" id="no-coverage">no coverage data (results/coverage.json ' \
                       'is missing or empty: <code>make coverage-l0</code> writes it)</p>'
    names = sorted(dirs)
    lines = [_pct(dirs[d].get("lines")) for d in names]
    branches = [_pct(dirs[d].get("branches")) for d in names]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.2))
    ys = list(range(len(names)))[::-1]
    ax.barh([y + 0.2 for y in ys], [v or 0 for v in lines], 0.4, label="lines", color="#00838f")
    ax.barh([y - 0.2 for y in ys], [v or 0 for v in branches], 0.4, label="branches",
            color="#9e9d24")
    ax.set_yticks(ys)
    ax.set_yticklabels(names)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% covered")
    ax.set_title("nestbed under its suite (make coverage-l0)")
    ax.legend(frameon=False, loc="lower right")
    chart = _img(_png(fig, plt), "bars: line and branch coverage per directory (figures in "
                 "the table below)", "chart-coverage")

    def cell(fig):
        if not isinstance(fig, dict) or fig.get("total") in (None, 0):
            return "-"
        return "%s%% (%s of %s)" % (fig.get("percent"), fig.get("hit"), fig.get("total"))

    rows = [[d, cell(dirs[d].get("lines")), cell(dirs[d].get("branches")),
             cell(dirs[d].get("functions"))] for d in names]
    total = coverage.get("total") or {}
    if total:
        rows.append(["total", cell(total.get("lines")), cell(total.get("branches")),
                     cell(total.get("functions"))])
    runs = coverage.get("runs") or {}
    note = "<p>From results/coverage.json (%s, %s; %s of %s scenarios handed out counters).</p>" % (
        _e(coverage.get("nestbed", "?")), _e(coverage.get("date", "undated")),
        _e(runs.get("with_counters", "?")), _e(runs.get("scenarios", "?")))
    return title + note + "\n" + chart + "\n" + _table(
        ["directory", "lines", "branches", "functions"], rows, "coverage")


# ---------------------------------------------------------------- the page

STYLE = """
body { font-family: sans-serif; margin: 1.5em; max-width: 72em; color: #212121; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #bdbdbd; padding: 0.15em 0.5em; text-align: left; }
th { background: #eeeeee; }
td.pass { background: #c8e6c9; } td.fail { background: #ffcdd2; font-weight: bold; }
td.known { background: #ffe0b2; } td.skip { background: #f5f5f5; color: #757575; }
img.chart { max-width: 100%; height: auto; }
p.none { font-style: italic; color: #616161; }
"""


def _load_json(path: Path) -> Optional[dict]:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def report_html(records: List[dict], bench: Optional[dict], coverage: Optional[dict]) -> str:
    plt = _pyplot()
    sections = [matrix_section(records, plt), cost_section(bench, plt),
                multiplication_section(bench, plt), coverage_section(coverage, plt),
                probe_table_section(records)]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>nestbed: conformance, cost and coverage</title>\n<style>%s</style>\n"
            "</head>\n<body>\n<h1>nestbed: conformance, cost and coverage</h1>\n"
            "<p>Generated by <code>python3 -m harness report</code> (<code>make report</code>, "
            "and at the end of <code>harness suite</code>) from results/*.json; the same "
            "comparison in text is results/report.md.</p>\n%s\n</body>\n</html>\n") % (
                STYLE, "\n".join("<section>\n%s\n</section>" % s for s in sections))


def write_html_report(out_dir: Path, records: Optional[List[dict]] = None) -> Path:
    records = load_results(out_dir) if records is None else records
    text = report_html(records, _load_json(out_dir / "bench.json"),
                       _load_json(out_dir / "coverage.json"))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(text)
    return path
