"""The exit catalogue's reach: every VMX basic exit reason (Intel SDM vol.3D appendix C,
"VMX Basic Exit Reasons") and every SVM exit code (AMD APM vol.2 appendix C, "SVM
Intercept Exit Codes"), the probes that assert each, and their results per platform.

Which probe asserts which exit is not a hand-kept list: the conformance guest names, in
each probe's YAML block, the exits it asserted (`exits: ["svm:0x72"]`, guests/lib/tap.h;
the mini-hypervisor's expectations and EXPECT_EXIT record them), and results/*.json keep
them per probe ("exits"). A probe that SKIPs where the exit cannot be raised names it
before it skips. So the table is built from the results files alone:

    python3 -m harness coverage-of-exits [--out DIR]

writes DIR/exit-coverage.md and DIR/exit-coverage.json. Pure: no I/O but write_coverage().
"""

import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

# SDM vol.3D appendix C, Table C-1 (the numbers 35, 38, 42 and 71 are not used).
VMX_REASONS: Dict[int, str] = {
    0: "Exception or non-maskable interrupt (NMI)",
    1: "External interrupt",
    2: "Triple fault",
    3: "INIT signal",
    4: "Start-up IPI (SIPI)",
    5: "I/O system-management interrupt (SMI)",
    6: "Other SMI",
    7: "Interrupt window",
    8: "NMI window",
    9: "Task switch",
    10: "CPUID",
    11: "GETSEC",
    12: "HLT",
    13: "INVD",
    14: "INVLPG",
    15: "RDPMC",
    16: "RDTSC",
    17: "RSM",
    18: "VMCALL",
    19: "VMCLEAR",
    20: "VMLAUNCH",
    21: "VMPTRLD",
    22: "VMPTRST",
    23: "VMREAD",
    24: "VMRESUME",
    25: "VMWRITE",
    26: "VMXOFF",
    27: "VMXON",
    28: "Control-register accesses",
    29: "MOV DR",
    30: "I/O instruction",
    31: "RDMSR",
    32: "WRMSR",
    33: "VM-entry failure due to invalid guest state",
    34: "VM-entry failure due to MSR loading",
    36: "MWAIT",
    37: "Monitor trap flag",
    39: "MONITOR",
    40: "PAUSE",
    41: "VM-entry failure due to machine-check event",
    43: "TPR below threshold",
    44: "APIC access",
    45: "Virtualized EOI",
    46: "Access to GDTR or IDTR",
    47: "Access to LDTR or TR",
    48: "EPT violation",
    49: "EPT misconfiguration",
    50: "INVEPT",
    51: "RDTSCP",
    52: "VMX-preemption timer expired",
    53: "INVVPID",
    54: "WBINVD or WBNOINVD",
    55: "XSETBV",
    56: "APIC write",
    57: "RDRAND",
    58: "INVPCID",
    59: "VMFUNC",
    60: "ENCLS",
    61: "RDSEED",
    62: "Page-modification log full",
    63: "XSAVES",
    64: "XRSTORS",
    65: "PCONFIG",
    66: "SPP-related event",
    67: "UMWAIT",
    68: "TPAUSE",
    69: "LOADIWKEY",
    70: "ENCLV",
    72: "ENQCMD PASID translation failure",
    73: "ENQCMDS PASID translation failure",
    74: "Bus lock",
    75: "Instruction timeout",
    76: "SEAMCALL",
    77: "TDCALL",
}

_VECTORS = {0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM",
            8: "#DF", 9: "coprocessor segment overrun", 10: "#TS", 11: "#NP", 12: "#SS",
            13: "#GP", 14: "#PF", 16: "#MF", 17: "#AC", 18: "#MC", 19: "#XM", 20: "#VE",
            21: "#CP", 28: "#HV", 29: "#VC", 30: "#SX"}

# Why no CPU raises a code the appendix defines: registers and vectors that do not exist.
_CRS = {0, 2, 3, 4, 8}          # CR1, CR5-CR7, CR9-CR15 do not exist (#UD)
_DRS = set(range(8))             # DR8-DR15 do not exist (#UD)


def _svm_codes() -> Dict[int, Tuple[str, str]]:
    """APM vol.2 appendix C, Table C-1: code -> (name, why no CPU raises it, or "")."""
    codes: Dict[int, Tuple[str, str]] = {}
    for n in range(16):
        why = "" if n in _CRS else "CR%d does not exist" % n
        codes[0x00 + n] = ("VMEXIT_CR%d_READ" % n, why)
        codes[0x10 + n] = ("VMEXIT_CR%d_WRITE" % n, why)
        why = "" if n in _DRS else "DR%d does not exist" % n
        codes[0x20 + n] = ("VMEXIT_DR%d_READ" % n, why)
        codes[0x30 + n] = ("VMEXIT_DR%d_WRITE" % n, why)
    for v in range(32):
        name = "VMEXIT_EXCP%d" % v
        if v in _VECTORS:
            name += " (%s)" % _VECTORS[v]
        why = ""
        if v == 2:
            why = "an NMI exits as VMEXIT_NMI (61h), not through the exception intercepts"
        elif v == 9:
            why = "no CPU since the 486 raises vector 9"
        elif v == 20:
            why = "#VE is Intel's (EPT); AMD CPUs never raise vector 20"
        elif v not in _VECTORS:
            why = "vector %d is reserved" % v
        codes[0x40 + v] = (name, why)
    names = ["INTR", "NMI", "SMI", "INIT", "VINTR", "CR0_SEL_WRITE", "IDTR_READ",
             "GDTR_READ", "LDTR_READ", "TR_READ", "IDTR_WRITE", "GDTR_WRITE", "LDTR_WRITE",
             "TR_WRITE", "RDTSC", "RDPMC", "PUSHF", "POPF", "CPUID", "RSM", "IRET", "SWINT",
             "INVD", "PAUSE", "HLT", "INVLPG", "INVLPGA", "IOIO", "MSR", "TASK_SWITCH",
             "FERR_FREEZE", "SHUTDOWN", "VMRUN", "VMMCALL", "VMLOAD", "VMSAVE", "STGI", "CLGI",
             "SKINIT", "RDTSCP", "ICEBP", "WBINVD", "MONITOR", "MWAIT", "MWAIT_CONDITIONAL",
             "XSETBV", "RDPRU", "EFER_WRITE_TRAP"]
    for i, name in enumerate(names):
        codes[0x60 + i] = ("VMEXIT_" + name, "")
    for n in range(16):
        codes[0x90 + n] = ("VMEXIT_CR%d_WRITE_TRAP" % n,
                           "" if n in _CRS else "CR%d does not exist" % n)
    for i, name in enumerate(["INVLPGB", "INVLPGB_ILLEGAL", "INVPCID", "MCOMMIT", "TLBSYNC",
                              "BUSLOCK"]):
        codes[0xa0 + i] = ("VMEXIT_" + name, "")
    codes[0x400] = ("VMEXIT_NPF", "")
    codes[0x401] = ("AVIC_INCOMPLETE_IPI", "")
    codes[0x402] = ("AVIC_NOACCEL", "")
    codes[0x403] = ("VMEXIT_VMGEXIT", "")
    codes[0xffffffff] = ("VMEXIT_INVALID", "")
    codes[0xfffffffe] = ("VMEXIT_BUSY", "")
    codes[0xfffffffd] = ("VMEXIT_IDLE_REQUIRED", "")
    codes[0xfffffffc] = ("VMEXIT_INVALID_PMC", "")
    return codes


SVM_CODES = _svm_codes()

VENDORS = ("vmx", "svm")


def exit_key(vendor: str, code: int) -> str:
    """The form the guest prints: "vmx:10", "svm:0x72"."""
    return "%s:%s" % (vendor, ("%#x" % code) if vendor == "svm" else "%d" % code)


def parse_exit(text: str) -> Optional[Tuple[str, int]]:
    """"svm:0x72" -> ("svm", 0x72); None for anything else."""
    vendor, sep, code = text.partition(":")
    if not sep or vendor not in VENDORS:
        return None
    try:
        value = int(code, 0)
    except ValueError:
        return None
    return vendor, value


def catalogue() -> List[dict]:
    """Every exit of both appendices: vendor, code, key, name, raisable ("" or why not)."""
    rows = [{"vendor": "vmx", "code": c, "key": exit_key("vmx", c), "name": n, "why_not": ""}
            for c, n in sorted(VMX_REASONS.items())]
    rows += [{"vendor": "svm", "code": c, "key": exit_key("svm", c), "name": n, "why_not": w}
             for c, (n, w) in sorted(SVM_CODES.items())]
    return rows


def run_label(record: dict) -> str:
    return "%s %s" % (record["platform"], record["mode"])


def _vendor_of_platform(platform: str) -> Optional[str]:
    return "vmx" if "vmx" in platform else "svm" if "svm" in platform else None


def coverage(records: List[dict]) -> dict:
    """The table from results records (results/<platform>-<mode>.json):
    {"runs": [labels], "rows": [{..., "probes": {probe: {run label: status}}}],
     "unknown": [exit keys probes named that the appendices do not have],
     "totals": {vendor: {"exits", "raisable", "asserted", "passing"}}}.
    A status is ok, fail, known (a listed emulator departure), skip or todo."""
    rows = catalogue()
    by_key = {row["key"]: row for row in rows}
    for row in rows:
        row["probes"] = {}
    unknown = set()
    runs = []
    for record in sorted(records, key=lambda r: (r["platform"], r["mode"])):
        label = run_label(record)
        runs.append(label)
        for probe in record.get("probes", []):
            for text in probe.get("exits", []):
                parsed = parse_exit(text)
                key = exit_key(*parsed) if parsed else text
                row = by_key.get(key)
                if row is None:
                    unknown.add(text)
                    continue
                status = probe["status"]
                if status == "fail" and probe.get("known"):
                    status = "known"
                elif probe.get("todo"):
                    status = "todo"
                row["probes"].setdefault(probe["name"], {})[label] = status
    totals = {}
    for vendor in VENDORS:
        mine = [r for r in rows if r["vendor"] == vendor]
        raisable = [r for r in mine if not r["why_not"]]
        totals[vendor] = {
            "exits": len(mine),
            "raisable": len(raisable),
            "asserted": sum(1 for r in raisable if r["probes"]),
            "passing": sum(1 for r in raisable
                           if any("ok" in s.values() for s in r["probes"].values())),
        }
    return {"runs": runs, "rows": rows, "unknown": sorted(unknown), "totals": totals}


def _cell(statuses: Dict[str, int]) -> str:
    order = ("ok", "fail", "known", "todo", "skip")
    return ", ".join("%d %s" % (statuses[s], s) for s in order if statuses.get(s))


def markdown(table: dict) -> str:
    lines = ["# Exit coverage", "",
             "Every VMX basic exit reason (Intel SDM vol.3D appendix C) and every SVM exit "
             "code (AMD APM vol.2 appendix C), the conformance probes that assert it (each "
             "probe names the exits it asserted in its TAP YAML block: guests/lib/tap.h) and "
             "their results per platform and mode, from results/*.json. Written by "
             "`python3 -m harness coverage-of-exits`; `known` is a failure listed as an "
             "emulator's departure from the manual (tests/emulator/known-failures/).", ""]
    for vendor in VENDORS:
        t = table["totals"][vendor]
        lines.append("- %s: %d of the %d exits a CPU can raise are asserted by a probe, %d "
                     "pass on some platform (%d codes in the appendix)."
                     % ("VT-x" if vendor == "vmx" else "AMD-V", t["asserted"], t["raisable"],
                        t["passing"], t["exits"]))
    if table["unknown"]:
        lines.append("- Exits probes named that the appendices do not have: %s."
                     % ", ".join(table["unknown"]))
    for vendor in VENDORS:
        runs = [r for r in table["runs"] if _vendor_of_platform(r.split()[0]) == vendor]
        lines += ["", "## %s" % ("VT-x: VMX basic exit reasons" if vendor == "vmx"
                                 else "AMD-V: SVM exit codes"), ""]
        lines.append("| exit | name | probes | " + " | ".join(runs) + " |")
        lines.append("|---|---|---|" + "---|" * len(runs))
        for row in table["rows"]:
            if row["vendor"] != vendor:
                continue
            code = "%d" % row["code"] if vendor == "vmx" else "%Xh" % row["code"]
            name = row["name"]
            if row["why_not"]:
                name += " (never raised: %s)" % row["why_not"]
            probes = ", ".join("`%s`" % p for p in sorted(row["probes"]))
            cells = []
            for run in runs:
                counts: Dict[str, int] = {}
                for statuses in row["probes"].values():
                    if run in statuses:
                        counts[statuses[run]] = counts.get(statuses[run], 0) + 1
                cells.append(_cell(counts))
            lines.append("| %s | %s | %s | %s |" % (code, name, probes or "-",
                                                    " | ".join(cells)))
    return "\n".join(lines) + "\n"


def write_coverage(out_dir: Path, records: List[dict]) -> Tuple[Path, Path]:
    table = coverage(records)
    md = out_dir / "exit-coverage.md"
    js = out_dir / "exit-coverage.json"
    md.write_text(markdown(table))
    js.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return md, js
