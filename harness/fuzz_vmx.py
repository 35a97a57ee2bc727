"""The VT-x half of `harness fuzz`: the outcome lines of tests/emulator/nested/vmx_fuzz.asm,
its mutation names, how two outcomes compare, and the disagreements that are explained
(harness/fuzz.py runs it and holds the generic part)."""

import re

# fuzz <i> m <mutations> result invalid | valid <error> | exit <reason> <qualification>
#   [vmcs <pin> <proc> <proc2> <exit> <entry> <eptp> <activity> <intr-info> <cr0> <cr4> <rflags>
#    <rip> <cs-ar> <ss-ar> <interruptibility> <pending-debug>]
LINE = re.compile(r"^fuzz ([0-9a-f]{8}) m ([0-9a-f]{8}) result "
                  r"(invalid|valid ([0-9a-f]{8})|exit ([0-9a-f]{8}) ([0-9a-f]{16}))"
                  r"(?: vmcs ((?:[0-9a-f]+ ?)+))?")
CAPS = re.compile(r"^fuzz-caps((?: [a-z0-9]+ [0-9a-f]{16})+)")
FIELDS = ("pin", "proc", "proc2", "exit", "entry", "eptp", "activity", "intr_info",
          "cr0", "cr4", "rflags", "rip", "cs_ar", "ss_ar", "interruptibility", "pending_dbg")

# The mutation table of vmx_fuzz.asm, in order.
MUTATIONS = ["pin.bit", "proc.bit", "proc2.bit", "exit.bit", "entry.bit", "cr3-target-count",
             "io-bitmap-address", "msr-bitmap", "tpr-shadow", "nmi-controls", "vpid", "eptp",
             "unrestricted-guest", "event-injection", "exit-msr-store", "exit-msr-load",
             "entry-msr-load", "ia32e-mode-guest", "load-efer", "load-pat", "load-debug-controls",
             "host-cr0", "host-cr4", "host-cr3", "host-selector", "host-base", "host-rip/size",
             "host-sysenter", "guest-cr0", "guest-cr4", "guest-cr3", "segment-ar",
             "segment-limit", "segment-base", "selector", "gdtr/idtr", "guest-rip", "rflags",
             "activity-state", "interruptibility", "pending-debug", "link-pointer",
             "guest-sysenter", "tr-type", "preemption-timer"]

EXIT_NAMES = {0: "exception or NMI", 1: "external interrupt", 2: "triple fault",
              7: "interrupt window", 8: "NMI window", 12: "HLT", 33: "invalid guest state",
              34: "MSR loading", 37: "monitor trap flag", 41: "machine-check event",
              52: "VMX-preemption timer"}
ENTRY_FAILURE = 1 << 31                 # exit reason bit 31 (SDM 24.9.1)
INVALID_GUEST_STATE = ENTRY_FAILURE | 33
ERROR_INVALID_CONTROL = 7               # VMfailValid numbers (SDM 30.4)

# Capability bits (SDM appendix A)
PROC_SECONDARY = 1 << 31
PROC2_EPT = 1 << 1
EPTP_AD = 1 << 6
EPT_CAP_WALK_4, EPT_CAP_UC, EPT_CAP_WB, EPT_CAP_AD = 1 << 6, 1 << 8, 1 << 14, 1 << 21
MISC_ACTIVITY_SHIFT = 5                 # IA32_VMX_MISC bits 8:6: HLT, shutdown, wait-for-SIPI


def outcome_text(kind: str, error: str, reason: str, qualification: str) -> str:
    if kind == "invalid":
        return "VMfailInvalid"
    if kind.startswith("valid"):
        return "VMfailValid %d" % int(error, 16)
    code = int(reason, 16)
    basic = code & 0xffff
    name = "%s %d (%s)" % ("entry failure" if code & ENTRY_FAILURE else "exit", basic,
                           EXIT_NAMES.get(basic, "?"))
    qual = int(qualification, 16)
    return name + (", qualification %#x" % qual if qual else "")


class State:
    """One vmx_fuzz line: the mutations, the outcome, and the VMCS fields VMLAUNCH was
    given (`fields`, by FIELDS' names); `caps` is set to the run's capabilities."""

    def __init__(self, groups):
        self.mutations = groups[0]
        kind, error, reason, qualification, fields = groups[1:6]
        self.kind = "invalid" if kind == "invalid" else "valid" if kind.startswith("valid") else "exit"
        self.error = int(error, 16) if error else None
        self.reason = int(reason, 16) if reason else None
        self.qualification = int(qualification, 16) if qualification else None
        self._outcome = outcome_text(kind, error, reason, qualification)
        values = [int(x, 16) for x in fields.split()] if fields else []
        self.fields = dict(zip(FIELDS, values))
        self.caps = {}

    def outcome(self) -> str:
        return self._outcome


def parse_caps(text: str):
    m = CAPS.match(text)
    if not m:
        return None
    words = m.group(1).split()
    return {words[i]: int(words[i + 1], 16) for i in range(0, len(words), 2)}


def differs(bare, nested) -> bool:
    # the outcome text holds the VM-instruction error, exit reason and qualification
    return bare.outcome() != nested.outcome()


# ---- what a run's capabilities allow

def _within(value: int, cap: int) -> bool:
    allowed0, allowed1 = cap & 0xffffffff, cap >> 32
    return value & allowed0 == allowed0 and value & ~allowed1 == 0


def controls_allowed(state, caps) -> bool:
    """The state's controls (and EPTP) are within these capability MSRs (SDM 26.2.1.1,
    A.3-A.5, A.10)."""
    f = state.fields
    if not f or not caps:
        return True
    for name in ("pin", "proc", "exit", "entry"):
        if not _within(f[name], caps.get(name, 0)):
            return False
    if f["proc"] & PROC_SECONDARY:
        if not _within(f["proc2"], caps.get("proc2", 0)):
            return False
        if f["proc2"] & PROC2_EPT:
            ept, eptp = caps.get("ept", 0), f["eptp"]
            if eptp & EPTP_AD and not ept & EPT_CAP_AD:
                return False
            if (eptp & 7, ept & EPT_CAP_UC != 0) == (0, False) or \
               (eptp & 7, ept & EPT_CAP_WB != 0) == (6, False):
                return False
            if (eptp >> 3) & 7 == 3 and not ept & EPT_CAP_WALK_4:
                return False
    return True


def activity_supported(state, caps) -> bool:
    activity = state.fields.get("activity", 0)
    if activity == 0 or activity > 3:
        return True
    return bool(caps.get("misc", 0) >> (MISC_ACTIVITY_SHIFT + activity) & 1)


def nestbed_offers_less_controls(bare, nested) -> bool:
    # a control (or EPTP feature) Bochs offers and nestbed does not: VMfailValid 7
    return (bare.outcome() != "DIED" and controls_allowed(bare, bare.caps)
            and not controls_allowed(nested, nested.caps)
            and nested.outcome() == "VMfailValid %d" % ERROR_INVALID_CONTROL)


def nestbed_offers_less_activity(bare, nested) -> bool:
    return (activity_supported(bare, bare.caps) and not activity_supported(nested, nested.caps)
            and getattr(nested, "reason", None) == INVALID_GUEST_STATE
            and nested.qualification == 0)


# (platform, predicate(bare, nested), explanation): disagreements that are explained.
EXPLAINED = [
    ("bochs-vmx", nestbed_offers_less_controls,
     "not a bug: the state uses a VM-execution/exit/entry control or an EPTP feature "
     "that Bochs offers and nestbed does not offer its L1 (src/nested/vmx/nvmx_caps.c: "
     "e.g. TPR shadow, APIC virtualization, PML, EPT A/D flags); an L1 under nestbed gets "
     "VMfailValid 7 for it (SDM 26.2.1.1 with A.3-A.5, A.10)"),
    ("bochs-vmx", nestbed_offers_less_activity,
     "not a bug: the guest activity state is one Bochs supports and nestbed does not "
     "offer (IA32_VMX_MISC[8:6]: nestbed offers HLT only); an L1 under nestbed gets the "
     "VM-entry failure for it (SDM 26.3.1.5, A.6)"),
]
