"""results/report.html: its sections from results/*.json, bench.json and coverage.json, and
that it renders in headless Chromium (tables laid out, every chart a decoded image of
nonzero size)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import report_html

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_TIMEOUT = 180   # a cold start on a loaded 2-core machine takes ~30 s


def probe(name, status, known=False, reason=""):
    return {"number": 1, "name": name, "status": status, "reason": reason,
            "diagnostics": [], "todo": False, "known": known}


def record(platform, mode, probes):
    return {"platform": platform, "mode": mode, "verdict": "pass", "reason": "",
            "emulator": "Emu 1.0", "duration": 1.0, "probes": probes,
            "summary": {"passed": 0, "failed": 0, "skipped": 0}}


RECORDS = [
    record("bochs-vmx", "bare", [probe("cr/clts", "ok"), probe("event/mtf", "fail", True),
                                 probe("entry/svm-asid-zero", "skip")]),
    record("qemu-svm", "bare", [probe("cr/clts", "ok"), probe("entry/svm-asid-zero", "ok")]),
    record("qemu-svm", "nestbed", [probe("cr/clts", "fail", reason="expected 1, observed 2"),
                                   probe("entry/svm-asid-zero", "ok")]),
]
BENCH = {"date": "2026-12-07T12:02:19Z",
         "cost_per_exit_kind": {"qemu-svm": {"bare": {"cpuid": 645, "hlt": 670},
                                             "nestbed": {"cpuid": 28107, "hlt": 28133}}},
         "exit_multiplication": {
             "minimal_l1_cpuid_loop": {"qemu-svm": {"nestbed": {
                 "l0_exits": 20010, "l0_exits_per_reflected": 2.0, "reflected": 10001}}},
             "kvm_l1_whole_run": {"qemu-svm": {"npt1": {
                 "l0_exits": 164213, "l0_exits_per_reflected": 7.9,
                 "reflected": {"total": 20779, "cpuid": 10002}}}}}}


def fig(hit, total):
    return {"hit": hit, "total": total, "percent": round(100.0 * hit / total, 1) if total else None}


COVERAGE = {"format": "nestbed-coverage-l0/1", "nestbed": "v1", "date": "2026-12-07",
            "runs": {"scenarios": 10, "with_counters": 9, "without_counters": [], "not_run": []},
            "total": {"lines": fig(900, 1000), "branches": fig(50, 100), "functions": fig(9, 10)},
            "directories": {"src/nested/svm": {"lines": fig(87, 100), "branches": fig(3, 4),
                                               "functions": fig(1, 1)},
                            "src/nested/vmx": {"lines": fig(91, 100), "branches": fig(0, 0),
                                               "functions": fig(2, 2)}}}


def test_sections_from_the_results():
    text = report_html.report_html(RECORDS, BENCH, COVERAGE)
    assert text.count('<img id="chart-') == 4
    for chart in ("chart-matrix", "chart-cost-0", "chart-multiplication", "chart-coverage"):
        assert 'id="%s" class="chart" src="data:image/png;base64,' % chart in text
    # the figures are in tables too
    for cell in ("<td>28107</td>", "<td>43.6</td>", "<td>7.90</td>", "<td>20779</td>",
                 "<td>87.0% (87 of 100)</td>", "<td>-</td>"):
        assert cell in text, cell
    # outcomes: a known bug apart from a failure, with its reason
    assert '<td class="known" title="">✗ known</td>' in text
    assert '<td class="fail" title="expected 1, observed 2">✗</td>' in text
    assert "no coverage data" not in text


def test_missing_inputs_are_said_not_invented():
    text = report_html.report_html(RECORDS, None, None)
    assert text.count('<img id="chart-') == 1     # the matrix only
    assert "no coverage data" in text
    assert "No cost figures" in text and "No exit-multiplication figures" in text
    empty = report_html.report_html([], {}, {"directories": {}})
    assert "No results in results/*.json." in empty and "no coverage data" in empty


def test_report_command_writes_both(tmp_path):
    for r in RECORDS:
        (tmp_path / ("%s-%s.json" % (r["platform"], r["mode"]))).write_text(json.dumps(r))
    (tmp_path / "bench.json").write_text(json.dumps(BENCH))
    proc = subprocess.run([sys.executable, "-m", "harness", "report", "--out", str(tmp_path)],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert (tmp_path / "report.md").is_file()
    text = (tmp_path / "report.html").read_text()
    assert text.count('<img id="chart-') == 3 and "no coverage data" in text


# What the page looks like once Chromium has laid it out: every image, table and section
# heading, measured by Chromium (test-only: the report itself has no script).
CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var out = {
    imgs: Array.from(document.images).map(function (i) {
      var r = i.getBoundingClientRect();
      return {id: i.id, complete: i.complete, natural: [i.naturalWidth, i.naturalHeight],
              shown: [r.width, r.height]};
    }),
    tables: Array.from(document.querySelectorAll('table')).map(function (t) {
      var r = t.getBoundingClientRect();
      return {cls: t.className, rows: t.rows.length, shown: [r.width, r.height]};
    }),
    h2: Array.from(document.querySelectorAll('h2')).map(function (h) { return h.textContent; }),
    nocov: !!document.getElementById('no-coverage')
  };
  var pre = document.createElement('pre');
  pre.id = 'nestbed-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def chromium_layout(page: Path, tmp_path: Path) -> dict:
    exe = shutil.which("chromium")
    if not exe:
        pytest.skip("chromium is not installed (scripts/deps installs it)")
    probe_page = tmp_path / ("check-" + page.name)
    probe_page.write_text(page.read_text().replace("</body>", CHECK_SCRIPT + "</body>"))
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--user-data-dir=%s" % (tmp_path / "chromium-profile"), "--window-size=1200,900",
         "--virtual-time-budget=10000", "--dump-dom", probe_page.as_uri()],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=CHROMIUM_TIMEOUT)
    dom = proc.stdout.decode(errors="replace")
    start = dom.find('<pre id="nestbed-check">')
    assert proc.returncode == 0 and start >= 0, "chromium: status %d, no layout in %r" % (
        proc.returncode, dom[-300:])
    text = dom[start + len('<pre id="nestbed-check">'):dom.index("</pre>", start)]
    import html
    return json.loads(html.unescape(text))


def assert_rendered(layout: dict, charts: int):
    assert len(layout["imgs"]) == charts
    for img in layout["imgs"]:
        assert img["complete"], img
        assert img["natural"][0] > 100 and img["natural"][1] > 100, img   # decoded
        assert img["shown"][0] > 100 and img["shown"][1] > 50, img        # laid out
    for table in layout["tables"]:
        assert table["rows"] >= 2 and table["shown"][0] > 0 and table["shown"][1] > 0, table


def test_chromium_renders_every_chart_and_table(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    page = out / "report.html"
    page.write_text(report_html.report_html(RECORDS, BENCH, COVERAGE))
    layout = chromium_layout(page, tmp_path)
    assert_rendered(layout, 4)
    assert {"runs", "cost", "multiplication", "coverage", "matrix"} <= {
        t["cls"] for t in layout["tables"]}
    assert not layout["nocov"]


def test_chromium_renders_the_committed_report(tmp_path):
    """results/report.html as committed (regenerated by `make report`)."""
    page = ROOT / "results" / "report.html"
    if not page.is_file():
        pytest.fail("results/report.html is missing: run make report")
    layout = chromium_layout(page, tmp_path)
    have_coverage = (ROOT / "results" / "coverage.json").is_file()
    assert_rendered(layout, 4 if have_coverage else 3)
    assert layout["nocov"] != have_coverage
    assert layout["h2"][:4] == ["Probe matrix: VT-x vs AMD-V",
                                "Exit cost per kind: bare vs under nestbed",
                                "Exit multiplication per L1", "nestbed's coverage by directory"]
    matrix = [t for t in layout["tables"] if t["cls"] == "matrix"][0]
    assert matrix["rows"] > 200        # every probe of the suite
