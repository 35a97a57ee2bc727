"""The VT-x half of `harness fuzz`: the outcome lines of tests/emulator/nested/vmx_fuzz.asm,
its mutation names, how two outcomes compare, and the disagreements that are explained
(harness/fuzz.py runs it and holds the generic part)."""

import re

# fuzz <i> m <mutations> result invalid | valid <error> | exit <reason> <qualification>
#   [vmcs <pin> <proc> <proc2> <exit> <entry> <eptp> <activity> <intr-info> <cr0> <cr4> <rflags>
#    <rip> <cs-ar> <ss-ar> <interruptibility> <pending-debug> <debugctl> <dr7> <link>
#    <entry-msr-load-count> <entry-error-code> <entry-insn-len> <msr-load-2>]
#   [after <rip> <idt-vectoring-info> <exit-insn-len> <interruptibility> <activity> <rsp>]
#   (after a VM exit, not after a failed entry)
LINE = re.compile(r"^fuzz ([0-9a-f]{8}) m ([0-9a-f]{8}) result "
                  r"(invalid|valid ([0-9a-f]{8})|exit ([0-9a-f]{8}) ([0-9a-f]{16}))"
                  r"(?: vmcs ((?:[0-9a-f]+ ?)+?))?"
                  r"(?: after ([0-9a-f]{16}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})"
                  r" ([0-9a-f]{16}))?$")
# before each VMLAUNCH (a state that ends the machine leaves only this); nestbed's report
# of a failed VM entry follows it
STATE = re.compile(r"^fuzz-state ([0-9a-f]{8}) m ([0-9a-f]{8})$")
NESTBED_RULE = re.compile(r"^nestbed: nested-vmx: VM(?:LAUNCH|RESUME) of the VMCS at \S+ fails: (.*)$")
CAPS = re.compile(r"^fuzz-caps((?: [a-z0-9]+ [0-9a-f]{16})+)")
FIELDS = ("pin", "proc", "proc2", "exit", "entry", "eptp", "activity", "intr_info",
          "cr0", "cr4", "rflags", "rip", "cs_ar", "ss_ar", "interruptibility", "pending_dbg",
          "debugctl", "dr7", "link", "msr_load_count", "entry_error_code", "entry_insn_len",
          "msr_load_2")

# The mutation table of vmx_fuzz.asm, in order.
MUTATIONS = ["pin.bit", "proc.bit", "proc2.bit", "exit.bit", "entry.bit", "cr3-target-count",
             "io-bitmap-address", "msr-bitmap", "tpr-shadow", "nmi-controls", "vpid", "eptp",
             "unrestricted-guest", "event-injection", "exit-msr-store", "exit-msr-load",
             "entry-msr-load", "ia32e-mode-guest", "load-efer", "load-pat", "load-debug-controls",
             "host-cr0", "host-cr4", "host-cr3", "host-selector", "host-base", "host-rip/size",
             "host-sysenter", "guest-cr0", "guest-cr4", "guest-cr3", "segment-ar",
             "segment-limit", "segment-base", "selector", "gdtr/idtr", "guest-rip", "rflags",
             "activity-state", "interruptibility", "pending-debug", "link-pointer",
             "guest-sysenter", "tr-type", "preemption-timer", "pae-guest", "host-efer/pat"]

EXIT_NAMES = {0: "exception or NMI", 1: "external interrupt", 2: "triple fault", 10: "CPUID",
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
        # what the VM exit saved: compared too (an exit that differs there is not the same)
        self.after = tuple(int(x, 16) for x in groups[6:12]) if groups[6] else None
        self.kind = "invalid" if kind == "invalid" else "valid" if kind.startswith("valid") else "exit"
        self.error = int(error, 16) if error else None
        self.reason = int(reason, 16) if reason else None
        self.qualification = int(qualification, 16) if qualification else None
        self._outcome = outcome_text(kind, error, reason, qualification)
        values = [int(x, 16) for x in fields.split()] if fields else []
        self.fields = dict(zip(FIELDS, values))
        self.caps = {}
        self.rule = None                # nestbed's report of the failed check, if any

    def outcome(self) -> str:
        return self._outcome


def parse_caps(text: str):
    m = CAPS.match(text)
    if not m:
        return None
    words = m.group(1).split()
    return {words[i]: int(words[i + 1], 16) for i in range(0, len(words), 2)}


AFTER_NAMES = ("guest RIP", "IDT-vectoring information", "VM-exit instruction length",
               "interruptibility", "activity state", "guest RSP")


def after_text(state) -> str:
    after = getattr(state, "after", None)
    if not after:
        return ""
    return ", ".join("%s %#x" % pair for pair in zip(AFTER_NAMES, after))


def differs(bare, nested) -> bool:
    # the outcome text holds the VM-instruction error, exit reason and qualification;
    # after the same exit, the guest state it saved must match too
    if bare.outcome() != nested.outcome():
        return True
    return getattr(bare, "after", None) != getattr(nested, "after", None)


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
    # a control (or EPTP feature) Bochs offers and nestbed does not: VMfailValid 7, the
    # first check; whatever bare did (nestbed's line has the fields: it never dies)
    return (controls_allowed(nested, bare.caps) and not controls_allowed(nested, nested.caps)
            and nested.outcome() == "VMfailValid %d" % ERROR_INVALID_CONTROL)


def nestbed_offers_less_activity(bare, nested) -> bool:
    return (activity_supported(nested, bare.caps) and not activity_supported(nested, nested.caps)
            and getattr(nested, "reason", None) == INVALID_GUEST_STATE
            and nested.qualification == 0)


ENTRY_IA32E_GUEST = 1 << 9             # SDM 24.8.1
CR0_PE, CR0_PG = 1 << 0, 1 << 31
PROC2_UNRESTRICTED = 1 << 7
INTR_VALID, INTR_ERROR_CODE = 1 << 31, 1 << 11   # SDM 24.8.3
INTR_TYPE_HW_EXCEPTION = 3
BASIC_NO_ERRCODE_CHECK = 1 << 56        # IA32_VMX_BASIC[56], SDM A.1
# IA32_DEBUGCTL's defined bits (SDM vol.4 table 2-2): 1:0 and 15:6; bit 2 (bus-lock
# detection) only where CPUID.(EAX=7,ECX=0):ECX[24] enumerates it
DEBUGCTL_DEFINED = 0xffc3
DEBUGCTL_BUS_LOCK = 1 << 2
CPUID7_ECX_BUS_LOCK = 1 << 24           # the caps line's cpuid7 is EBX:ECX
MSR_IA32_SMM_MONITOR_CTL = 0x9b
CURRENT_VMCS = 0x204000                 # vmx_l1_setup.inc's VMCS, the current one
QUAL_PDPTE, QUAL_LINK_POINTER = 2, 4    # SDM 26.8
ACTIVITY_HLT = 1                        # SDM 24.4.2
INTERRUPTIBILITY_STI_MOV_SS = 3         # SDM 24.4.2 Table 24-3: bits 0, 1


def _failed_by(nested, rule_prefix: str) -> bool:
    return bool(nested.rule) and nested.rule.startswith(rule_prefix)


def _entry_failure(state, qualification=None) -> bool:
    return (getattr(state, "reason", None) == INVALID_GUEST_STATE and
            (qualification is None or state.qualification == qualification))


def bochs_skips_error_code_rule(bare, nested) -> bool:
    info, f = nested.fields.get("intr_info", 0), nested.fields
    unrestricted = f.get("proc", 0) & PROC_SECONDARY and f.get("proc2", 0) & PROC2_UNRESTRICTED
    real_mode = unrestricted and not f.get("cr0", 0) & CR0_PE
    not_hw_exception = (info >> 8) & 7 != INTR_TYPE_HW_EXCEPTION
    return (_failed_by(nested, "26.2.1.3: deliver-error-code is 1")
            and nested.outcome() == "VMfailValid %d" % ERROR_INVALID_CONTROL
            and bare.outcome() != nested.outcome()
            and bare.caps.get("basic", 0) & BASIC_NO_ERRCODE_CHECK != 0
            and info & INTR_VALID and info & INTR_ERROR_CODE and (not_hw_exception or real_mode))


def bochs_ia32e_without_paging(bare, nested) -> bool:
    f = nested.fields
    return (_failed_by(nested, "26.3.1.1: IA-32e mode guest is 1 and guest CR0.PG is 0")
            and _entry_failure(nested, 0) and f.get("entry", 0) & ENTRY_IA32E_GUEST
            and not f.get("cr0", 0) & CR0_PG and not _entry_failure(bare, 0))


def bochs_skips_rip_canonical(bare, nested) -> bool:
    rip = nested.fields.get("rip", 0)
    canonical = (rip >> 47) in (0, (1 << 17) - 1)
    return (_failed_by(nested, "26.3.1.4: guest RIP is not canonical") and not canonical
            and _entry_failure(nested, 0) and not _entry_failure(bare, 0))


def bochs_skips_debugctl(bare, nested) -> bool:
    defined = DEBUGCTL_DEFINED
    if bare.caps.get("cpuid7", 0) & CPUID7_ECX_BUS_LOCK:
        defined |= DEBUGCTL_BUS_LOCK
    return (_failed_by(nested, "26.3.1.1: guest IA32_DEBUGCTL sets reserved bits")
            and nested.fields.get("debugctl", 0) & ~defined != 0
            and _entry_failure(nested, 0) and not _entry_failure(bare, 0))


def bochs_loads_smm_monitor_ctl(bare, nested) -> bool:
    # the fuzzer varies the second entry of the VM-entry MSR-load area
    msr = nested.fields.get("msr_load_2", 0)
    return (msr == MSR_IA32_SMM_MONITOR_CTL and nested.fields.get("msr_load_count", 0) >= 2
            and nested.outcome() == "entry failure 34 (MSR loading), qualification 0x2"
            and bare.outcome() != nested.outcome())


def bochs_injects_into_hlt(bare, nested) -> bool:
    info = nested.fields.get("intr_info", 0)
    return (_failed_by(nested, "26.3.1.5: the injected event is one the guest activity state blocks")
            and nested.fields.get("activity") == ACTIVITY_HLT and info & INTR_VALID
            and _entry_failure(nested, 0) and not _entry_failure(bare, 0))


def bochs_skips_pending_bs(bare, nested) -> bool:
    f = nested.fields
    halted_or_shadowed = (f.get("activity") == ACTIVITY_HLT or
                          f.get("interruptibility", 0) & INTERRUPTIBILITY_STI_MOV_SS)
    return (_failed_by(nested, "26.3.1.5: pending debug exceptions BS is") and halted_or_shadowed
            and _entry_failure(nested, 0) and not _entry_failure(bare, 0))


def checks_in_another_order(bare, nested) -> bool:
    # Bochs checks the VMCS link pointer before the rest of the non-register state;
    # nestbed after it, and the link pointer = current VMCS rule after the PDPTEs
    if not (_entry_failure(bare, QUAL_LINK_POINTER) and _entry_failure(nested)):
        return False
    return ((nested.qualification == 0 and _failed_by(nested, "26.3.1.5"))
            or (nested.qualification == QUAL_PDPTE and nested.fields.get("link") == CURRENT_VMCS))


# (platform, predicate(bare, nested), explanation): disagreements that are explained.
EXPLAINED = [
    ("bochs-vmx", nestbed_offers_less_controls,
     "not a bug: the state uses a VM-execution/exit/entry control or an EPTP feature "
     "that Bochs offers and nestbed does not offer its L1 (src/nested/vmx/nvmx_caps.c: "
     "e.g. PML, EPT A/D flags, virtualize x2APIC mode, posted interrupts); an L1 under nestbed gets "
     "VMfailValid 7 for it (SDM 26.2.1.1 with A.3-A.5, A.10)"),
    ("bochs-vmx", nestbed_offers_less_activity,
     "not a bug: the guest activity state is one Bochs supports and nestbed does not "
     "offer (IA32_VMX_MISC[8:6]: nestbed offers HLT only); an L1 under nestbed gets the "
     "VM-entry failure for it (SDM 26.3.1.5, A.6)"),
    ("bochs-vmx", checks_in_another_order,
     "the SDM leaves it open: the state breaks the VMCS link-pointer rules and another "
     "guest-state rule; guest-state checks may be performed in any order and different "
     "processors may give different exit qualifications (SDM 26.8); Bochs checks the link "
     "pointer first (qualification 4), nestbed the rest of 26.3.1.5 first (0) and the "
     "link pointer = current VMCS rule after the PDPTEs (2)"),
    ("bochs-vmx", bochs_skips_error_code_rule,
     "Bochs bug: with IA32_VMX_BASIC[56] = 1 Bochs skips every deliver-error-code rule, "
     "but [56] lifts only the vector rule: the bit must still be 0 for an event that is "
     "not a hardware exception and for CR0.PE = 0 under unrestricted guest (SDM 26.2.1.3); "
     "nestbed applies it (VMfailValid 7)"),
    ("bochs-vmx", bochs_ia32e_without_paging,
     "Bochs bug: with unrestricted guest Bochs accepts IA-32e mode guest = 1 with guest "
     "CR0.PG = 0 (SDM 26.3.1.1: IA-32e mode guest needs CR0.PG = 1 and CR4.PAE = 1) and "
     "then panics ('EFER.LMA is set when CR0.PE=0') or runs the state; nestbed refuses it "
     "(exit 33)"),
    ("bochs-vmx", bochs_skips_rip_canonical,
     "Bochs bug: Bochs does not check that guest RIP is canonical for a 64-bit guest "
     "(SDM 26.3.1.4: bits 63:N identical with IA-32e mode guest and CS.L = 1); the L2 "
     "then takes a #GP (CPUID exit through its IDT); nestbed refuses it (exit 33)"),
    ("bochs-vmx", bochs_skips_debugctl,
     "Bochs bug: Bochs does not check guest IA32_DEBUGCTL for reserved bits with load "
     "debug controls = 1 (SDM 26.3.1.1; bits 63:16 and 5:3 are reserved, and bit 2 "
     "without bus-lock detection, CPUID.(7,0):ECX[24], which Bochs' tigerlake lacks); "
     "nestbed refuses it (exit 33)"),
    ("bochs-vmx", bochs_injects_into_hlt,
     "Bochs bug: Bochs injects any event into a guest entered in the HLT activity state; "
     "only external interrupts, NMIs, #DB, #MC and a pending MTF VM exit may be injected "
     "there (SDM 26.3.1.5, event blocking by activity state); nestbed refuses the rest "
     "(exit 33)"),
    ("bochs-vmx", bochs_skips_pending_bs,
     "Bochs bug: Bochs checks only the reserved bits of the pending debug exceptions; with "
     "blocking by STI/MOV SS or the HLT activity state, BS (bit 14) must equal RFLAGS.TF "
     "and not IA32_DEBUGCTL.BTF (SDM 26.3.1.5); nestbed refuses it (exit 33)"),
    ("bochs-vmx", bochs_loads_smm_monitor_ctl,
     "Bochs bug: Bochs loads IA32_SMM_MONITOR_CTL (9BH) from the VM-entry MSR-load area "
     "outside SMM (SDM 26.4: an MSR that can be written only in SMM fails the entry, exit "
     "34 with the entry's number); nestbed fails it"),
]
