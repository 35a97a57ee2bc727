"""Result files: results/<platform>-<mode>.json, results/<platform>-<mode>.junit.xml and
the cross-platform report results/report.md.

A run may have parts booted apart from the 1-CPU run: the smp/ probes SKIP with one CPU, so
`harness suite` boots them again with two CPUs and writes results/<platform>-<mode>-smp.json
(its record has "part": "smp" and "cpus": 2). load_results() merges a part into the record of
its platform and mode: the part's probes replace the 1-CPU run's entries of the same name
(their SKIPs), so the report and the exit table (harness/exits.py) read one record per
platform and mode, while the files keep what each boot printed.

JSON layout (one boot of one image on one platform in one mode):
    {"platform": "qemu-svm", "mode": "bare", "image": "...", "args": [...],
     "emulator": "QEMU emulator version 7.2.22 ...", "command": "...",
     "duration": 1.23, "verdict": "pass|fail|skip|error", "reason": "...",
     "exit_code": 0, "emulator_status": 1, "timed_out": false,
     "summary": {"passed": n, "failed": n, "skipped": n, "todo": n, "planned": n},
     "probes": [{"number": 1, "name": "svm/intercept/cpuid", "status": "ok|fail|skip",
                 "reason": "...", "diagnostics": [...], "exits": ["svm:0x72", ...],
                 "todo": false}, ...],
     "diagnostics": [...]}      (the stream's own "# ..." lines, not a probe's)

A probe's "diagnostics" and "exits" come from the YAML block after its test line
(guests/lib/tap.h); "exits" are the exit codes it asserted (harness/exits.py).
"""

import glob
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional

from .runner import RunResult
from .tap import FAIL, OK, SKIP, TapResult

SCHEMA = 1


def result_stem(platform: str, mode: str, part: str = "") -> str:
    return "%s-%s" % (platform, mode) + ("-" + part if part else "")


def _stem(record: dict) -> str:
    return result_stem(record["platform"], record["mode"], record.get("part", ""))


def _exits(test) -> List[str]:
    exits = test.yaml.get("exits", [])
    return [exits] if isinstance(exits, str) else list(exits)


def probes(tap: TapResult, known=frozenset()) -> List[dict]:
    return [{"number": t.number, "name": t.name, "status": t.status, "reason": t.reason,
             "diagnostics": list(t.diagnostics), "exits": _exits(t),
             "todo": t.directive == "TODO",
             "known": t.status == "fail" and t.name in known}
            for t in tap.tests]


def to_dict(result: RunResult, known=frozenset()) -> dict:
    tap = result.tap
    return {
        "schema": SCHEMA,
        "platform": result.platform,
        "mode": result.mode,
        "image": result.image,
        "args": list(result.args),
        "emulator": result.emulator,
        "command": result.command,
        "duration": result.duration,
        "verdict": result.verdict,
        "reason": result.reason,
        "exit_code": result.exit_code,
        "emulator_status": result.status,
        "timed_out": result.timed_out,
        "summary": {"passed": len(tap.passed), "failed": len(tap.failed),
                    "skipped": len(tap.skipped), "todo": len(tap.todo),
                    "planned": tap.plan, "bail_out": tap.bail_out,
                    "problems": list(tap.problems)},
        "probes": probes(tap, known),
        "diagnostics": list(tap.diagnostics),
    }


def skipped_dict(platform: str, mode: str, reason: str, image: str = "") -> dict:
    """The record of a platform that could not run here."""
    return {"schema": SCHEMA, "platform": platform, "mode": mode, "image": image,
            "args": [], "emulator": "", "command": "", "duration": 0.0,
            "verdict": "skip", "reason": reason, "exit_code": None,
            "emulator_status": None, "timed_out": False,
            "summary": {"passed": 0, "failed": 0, "skipped": 0, "todo": 0,
                        "planned": None, "bail_out": None, "problems": []},
            "probes": []}


def write_json(record: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (_stem(record) + ".json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


def junit_tree(record: dict) -> ET.ElementTree:
    """JUnit XML: one testsuite per platform/mode, one testcase per probe, plus a
    testcase "run" that fails when the boot itself failed (timeout, crash, exit code)."""
    suite_name = _stem(record)
    cases = []
    failures = skipped = errors = 0
    for probe in record["probes"]:
        area, _, what = probe["name"].rpartition("/")
        case = ET.Element("testcase", classname="%s.%s" % (
            suite_name, area.replace("/", ".") if area else "tap"),
            name=what or "#%d" % probe["number"], time="0")
        message = probe["reason"]
        if probe["status"] == FAIL:
            failures += 1
            el = ET.SubElement(case, "failure", message=message or "not ok")
            el.text = "\n".join(probe["diagnostics"])
        elif probe["status"] == SKIP:
            skipped += 1
            ET.SubElement(case, "skipped", message=message)
        cases.append(case)

    run_case = ET.Element("testcase", classname=suite_name, name="run",
                          time="%.3f" % (record["duration"] or 0))
    if record["verdict"] == "skip":
        skipped += 1
        ET.SubElement(run_case, "skipped", message=record["reason"])
    elif record["verdict"] != "pass":
        errors += 1
        el = ET.SubElement(run_case, "error", message=record["reason"])
        el.text = record["command"]
    cases.append(run_case)

    suite = ET.Element("testsuite", name=suite_name, tests=str(len(cases)),
                       failures=str(failures), errors=str(errors), skipped=str(skipped),
                       time="%.3f" % (record["duration"] or 0))
    props = ET.SubElement(suite, "properties")
    for key in ("platform", "mode", "emulator", "image"):
        ET.SubElement(props, "property", name=key, value=str(record.get(key) or ""))
    suite.extend(cases)
    root = ET.Element("testsuites", name="nestbed", tests=suite.get("tests"),
                      failures=suite.get("failures"), errors=suite.get("errors"),
                      skipped=suite.get("skipped"))
    root.append(suite)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(record: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (_stem(record) + ".junit.xml")
    junit_tree(record).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_results(record: dict, out_dir: Path) -> List[Path]:
    return [write_json(record, out_dir), write_junit(record, out_dir)]


_VERDICT_RANK = {"skip": 0, "pass": 1, "fail": 2, "error": 3}


def _worst(verdicts: List[str]) -> str:
    return max(verdicts, key=lambda v: _VERDICT_RANK.get(v, 3))


def _summary(probes: List[dict], problems=()) -> dict:
    return {"passed": sum(1 for p in probes if p["status"] == OK),
            "failed": sum(1 for p in probes if p["status"] == FAIL),
            "skipped": sum(1 for p in probes if p["status"] == SKIP),
            "todo": sum(1 for p in probes if p.get("todo")),
            "planned": None, "bail_out": None, "problems": list(problems)}


def _unfinished(name: str, record: dict, cpus: int, known=frozenset()) -> dict:
    """The entry of a probe a boot selected alone but that never printed its TAP line
    because the boot failed first: a failure with the boot's reason, not the 1-CPU SKIP."""
    return {"number": 0, "name": name, "status": FAIL, "cpus": cpus,
            "reason": "its boot failed before its TAP line: " + record["reason"],
            "diagnostics": [], "exits": [], "todo": False, "known": name in known,
            "boot_failed": True}


def combine_boots(records: List[dict], part: str, cpus: int, known=frozenset()) -> dict:
    """One record of a part from several boots of one platform and mode (each boot
    selecting some probes): the probes in boot order, the worst verdict, the failing boots'
    reasons, the durations summed, the commands one per line. A probe a failed boot
    selected alone but never reported is a failure (_unfinished), known when the platform's
    known-failures list names it."""
    first = records[0]
    probes = []
    for r in records:
        probes += [dict(p, cpus=cpus) for p in r["probes"]]
        probes += [_unfinished(name, r, cpus, known) for name in r.get("args", [])
                   if "*" not in name and "/" in name and r["verdict"] in ("fail", "error")
                   and name not in {p["name"] for p in r["probes"]}]
    for number, p in enumerate(probes, 1):
        p["number"] = number
    verdict = _worst([r["verdict"] for r in records])
    reasons = ["%s: %s" % (" ".join(r.get("args", [])) or "boot", r["reason"])
               for r in records if r["verdict"] not in ("pass", "skip") and r["reason"]]
    if verdict == "skip":
        reasons = [records[0]["reason"]]
    return dict(first, part=part, cpus=cpus, probes=probes, verdict=verdict,
                reason="; ".join(reasons) if len(records) > 1 else first["reason"],
                duration=round(sum(r["duration"] or 0 for r in records), 3),
                command="\n".join(r["command"] for r in records if r["command"]),
                args=[a for r in records for a in r.get("args", [])],
                boots=len(records),
                summary=_summary(probes, [x for r in records
                                          for x in r["summary"].get("problems", [])]),
                diagnostics=[d for r in records for d in r.get("diagnostics", [])])


def merge_parts(records: List[dict]) -> List[dict]:
    """The records with each part ("part": "smp") merged into the record of its platform and
    mode: a part's probe replaces the base's probe of the same name, else is appended; the
    verdict is the worse of the two, the summary counts the merged probes, "parts" lists
    the merged parts' own verdicts. A part without a base record stays on its own."""
    bases = {(r["platform"], r["mode"]): r for r in records if not r.get("part")}
    merged = {key: dict(r, probes=list(r["probes"]), parts=list(r.get("parts", [])))
              for key, r in bases.items()}
    alone = []
    for part in (r for r in records if r.get("part")):
        key = (part["platform"], part["mode"])
        if key not in merged:
            alone.append(part)
            continue
        base = merged[key]
        mine = {p["name"]: p for p in part["probes"]}
        probes = [mine.pop(p["name"], p) for p in base["probes"]]
        probes += [p for p in part["probes"] if p["name"] in mine]
        skipped = base["verdict"] == "skip" and not base["probes"]
        base.update(
            probes=probes,
            verdict=part["verdict"] if skipped else _worst([base["verdict"], part["verdict"]]),
            reason="; ".join(x for x in (base["reason"], part["reason"] and
                                         "%s part: %s" % (part["part"], part["reason"])) if x),
            duration=round((base["duration"] or 0) + (part["duration"] or 0), 3),
            summary=_summary(probes, base["summary"].get("problems", [])
                             + part["summary"].get("problems", [])))
        base["parts"].append({"part": part["part"], "cpus": part.get("cpus"),
                              "verdict": part["verdict"], "reason": part["reason"],
                              "boots": part.get("boots", 1)})
    return [merged[(r["platform"], r["mode"])] for r in records if not r.get("part")] + alone


def load_records(out_dir: Path) -> List[dict]:
    """The results files as written, parts on their own."""
    records = []
    for path in sorted(glob.glob(str(out_dir / "*.json"))):
        try:
            with open(path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and "platform" in record and "probes" in record:
            records.append(record)
    return records


def load_results(out_dir: Path) -> List[dict]:
    """The results of out_dir, one record per platform and mode, parts merged."""
    return merge_parts(load_records(out_dir))


_MARK = {OK: "ok", FAIL: "FAIL", SKIP: "skip"}


def vendor_of(platform: str) -> str:
    return "VT-x" if "vmx" in platform else "AMD-V" if "svm" in platform else platform


def _cell(probe: Optional[dict]) -> str:
    if probe is None:
        return ""
    if probe["status"] == "fail" and probe.get("known"):
        return "✗ (known)"
    return _MARK.get(probe["status"], probe["status"])


def report_markdown(records: List[dict]) -> str:
    """The comparison: the runs, then probe by probe a VT-x column and AMD-V columns (bare,
    then under nestbed), where the platforms disagree, and every failure with its expected
    and observed values (known platform bugs marked, with the manual's rule in
    tests/emulator/known-failures/ and guests/README.md)."""
    order = {"VT-x": 0, "AMD-V": 1}
    records = sorted(records, key=lambda r: (r["mode"] != "bare", order.get(vendor_of(r["platform"]), 2),
                                             r["platform"]))
    lines = ["# nestbed conformance results", "",
             "Generated by `python3 -m harness suite` (and `report`) from results/*.json.", "",
             "| platform | vendor | mode | verdict | passed | failed | of them known platform bugs | skipped | duration | emulator |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        s = r["summary"]
        known = sum(1 for p in r["probes"] if p["status"] == "fail" and p.get("known"))
        verdict = r["verdict"] + (": " + r["reason"] if r["reason"] else "")
        lines.append("| %s | %s | %s | %s | %d | %d | %d | %d | %.1f s | %s |" % (
            r["platform"], vendor_of(r["platform"]), r["mode"],
            verdict.replace("|", "\\|")[:160], s["passed"], s["failed"], known, s["skipped"],
            r["duration"] or 0, r["emulator"] or "-"))
    index = {(r["platform"], r["mode"]): {p["name"]: p for p in r["probes"]} for r in records}
    names = sorted({p["name"] for r in records for p in r["probes"]})
    for mode in ("bare", "nestbed"):
        cols = [(r["platform"], r["mode"]) for r in records if r["mode"] == mode]
        if not cols or not names:
            continue
        title = ("The platforms' own VT-x and AMD-V (bare)" if mode == "bare" else
                 "Under nestbed (the guest is nestbed's L1)")
        lines += ["", "## " + title, "",
                  "✓ pass, ✗ fail, – skip (not applicable or missing); (known): a documented "
                  "emulator departure from the manual.", "",
                  "| probe | " + " | ".join("%s (%s)" % (vendor_of(p), p) for p, _ in cols) + " |",
                  "|---|" + "---|" * len(cols)]
        for name in names:
            lines.append("| %s | %s |" % (name, " | ".join(_cell(index[c].get(name)) for c in cols)))
    # disagreements: same vendor, different outcome (bare); bare vs nestbed on one platform
    diffs = []
    amd_bare = [(r["platform"], "bare") for r in records if r["mode"] == "bare" and vendor_of(r["platform"]) == "AMD-V"]
    for name in names:
        runs = [(c, index[c].get(name)) for c in amd_bare if index[c].get(name)]
        statuses = {p["status"] for _, p in runs if p["status"] != "skip"}
        if len(statuses) > 1:
            diffs.append("| %s | %s |" % (name, "; ".join("%s: %s%s" % (c[0], p["status"],
                         " (" + p["reason"] + ")" if p["status"] == "fail" and p["reason"] else "")
                         for c, p in runs)))
    for r in records:
        if r["mode"] != "nestbed" or (r["platform"], "bare") not in index:
            continue
        bare = index[(r["platform"], "bare")]
        for name, p in sorted(index[(r["platform"], "nestbed")].items()):
            b = bare.get(name)
            if b and b["status"] == "pass" and p["status"] == "fail":
                diffs.append("| %s | %s: passes bare, fails under nestbed (%s) |" % (
                    name, r["platform"], p["reason"]))
    lines += ["", "## Where the platforms differ", ""]
    if diffs:
        lines += ["| probe | outcomes |", "|---|---|"] + [d.replace("\n", " ") for d in diffs]
    else:
        lines.append("No AMD-V platform disagrees with another, and no probe that passes bare fails under nestbed.")
    lines += ["", "## Failures, with expected and observed values", ""]
    fails = [(r, p) for r in records for p in r["probes"] if p["status"] == "fail"]
    if fails:
        lines += ["| platform | mode | probe | known platform bug | expected / observed |", "|---|---|---|---|---|"]
        for r, p in fails:
            lines.append("| %s | %s | %s | %s | %s |" % (r["platform"], r["mode"], p["name"],
                         "yes" if p.get("known") else "**no**",
                         (p["reason"] or "").replace("|", "\\|")))
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, records: Optional[List[dict]] = None) -> Path:
    """Writes out_dir/report.md from the JSON results in out_dir (or the given ones)."""
    records = load_results(out_dir) if records is None else records
    path = out_dir / "report.md"
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(report_markdown(records))
    return path
