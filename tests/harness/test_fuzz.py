"""harness fuzz: the outcome lines, mutation names and outcome classes (no emulator)."""

from harness import fuzz


def test_line_format():
    line = "fuzz 0000000a m 00030a0a exit 00000000ffffffff 0000000000000000 0000000000000000"
    m = fuzz.LINE.match(line)
    assert m and int(m.group(1), 16) == 10
    assert m.group(2) == "00030a0a"


def test_describe_names_each_mutation_in_order():
    # one byte per mutation, the last made in the lowest byte
    names = fuzz.describe("0000150e").split("+")
    assert names[-2:] == ["rflags=random", "no-vmrun-intercept"]
    assert fuzz.MUTATIONS[0x14] == "long-mode"


def test_outcome_compares_low_32_bits_for_invalid():
    # QEMU writes VMEXIT_INVALID as 0x00000000ffffffff, Bochs as a 64-bit -1
    assert fuzz.outcome("00000000ffffffff") == fuzz.outcome("ffffffffffffffff") == "VMEXIT_INVALID"
    assert fuzz.outcome("0000000000000078") == "HLT"
    assert fuzz.outcome("000000000000007f") == "SHUTDOWN"
    assert fuzz.outcome("0000000000000072") == "0x72"


LONG_CR3_52 = ("fuzz 000000e7 m ffff0914 exit 0000000000000078 0000000000000000 0000000000000000"
               " vmcb 00001500 80000011 00000020 00100000")


def state(line):
    return fuzz.State(fuzz.LINE.match(line).groups()[1:])


def test_state_parses_the_vmcb_fields():
    s = state(LONG_CR3_52)
    assert s.long_mode and s.cr3_high == 0x00100000 and s.outcome() == "HLT"
    # lines without the fields (older images) still parse
    old = state("fuzz 00000001 m 00000007 exit 0000000000000078 0000000000000000 0000000000000000")
    assert not old.long_mode and old.cr3_high == 0


def test_describe_skips_unused_bytes():
    assert fuzz.describe("ffff0914") == "cr3[52]+long-mode"


def test_only_the_known_qemu_bug_is_explained():
    bare = state(LONG_CR3_52)
    nested = state(LONG_CR3_52.replace("exit 0000000000000078", "exit 00000000ffffffff"))
    assert fuzz.differs(bare, nested)
    assert "CR3[63:52]" in fuzz.explain("qemu-svm", bare, nested)
    assert "Bochs loads CR3" in fuzz.explain("bochs-svm", bare, nested)
    assert fuzz.explain("kvm", bare, nested) is None
    # the other way round (nestbed runs what bare refuses) is not that bug
    assert fuzz.explain("qemu-svm", nested, bare) is None
    # legacy mode: bits 63:52 of CR3 are not MBZ, nothing explains a difference there
    legacy = state(LONG_CR3_52.replace("vmcb 00001500", "vmcb 00001000"))
    assert fuzz.explain("qemu-svm", legacy, nested) is None


def test_invalid_info_fields_do_not_count():
    a = state(LONG_CR3_52.replace("exit 0000000000000078 0000000000000000",
                                  "exit 00000000ffffffff 0000000000000001"))
    b = state(LONG_CR3_52.replace("exit 0000000000000078", "exit ffffffffffffffff"))
    assert not fuzz.differs(a, b)
    c = state(LONG_CR3_52.replace("exit 0000000000000078 0000000000000000",
                                  "exit 0000000000000078 0000000000000001"))
    assert fuzz.differs(state(LONG_CR3_52), c)


def test_a_died_state_is_explained_only_by_its_reason():
    tf = state(LONG_CR3_52.replace("vmcb 00001500 80000011 00000020 00100000",
                                   "vmcb 00001000 00000011 00000000 00000000 00000102"))
    triple = fuzz.Died("bochs: exception(): 3rd (13) exception with no resolution")
    assert fuzz.differs(triple, tf) and triple.outcome() == "DIED"
    assert "single-step" in fuzz.explain("bochs-svm", triple, tf)
    assert fuzz.explain("qemu-svm", triple, tf) is None
    # without TF the same death is not that bug
    no_tf = state(LONG_CR3_52.replace("vmcb 00001500 80000011 00000020 00100000",
                                      "vmcb 00001000 00000011 00000000 00000000 00000002"))
    assert fuzz.explain("bochs-svm", triple, no_tf) is None
    panic = fuzz.Died("bochs: change_cpu_mode: EFER.LMA is set when CR0.PE=0 !")
    invalid = state(LONG_CR3_52.replace("exit 0000000000000078", "exit ffffffffffffffff"))
    assert "CR0.PE clear" in fuzz.explain("bochs-svm", panic, invalid)


# ---- the VT-x half (vmx_fuzz.asm, harness/fuzz_vmx.py)

from harness import fuzz_vmx

BOCHS_CAPS = ("fuzz-caps basic 01d8100000000004 pin 0000007f00000016 proc fff9fffe04006172 "
              "proc2 02977fff00000000 exit 107fffff00036dfb entry 0010ffff000011fb misc "
              "00000000600401e0 ept 00000f0106b34141 cpuid7 f1bf27eb00405fce")
NESTBED_CAPS = ("fuzz-caps basic 01d8100000000004 pin 0000007f00000016 proc ffd9fffe04006172 "
                "proc2 001118ee00000000 exit 007fefff00036dfb entry 0000d3ff000011fb misc "
                "0000000060040060 ept 00000f0106134140 cpuid7 f1bf27eb00405fce")
# fields: pin proc proc2 exit entry eptp activity intr-info cr0 cr4 rflags rip cs-ar ss-ar
# interruptibility pending-debug debugctl dr7 link msr-load-count errcode insn-len msr-load-2
VALID_FIELDS = ("00000016 060061f2 00000000 00036ffb 000013fb 000000000020a01e 00000000 00000000 "
                "0000000080000031 0000000000002020 0000000000000002 0000000000101eb2 0000a09b "
                "0000c093 00000000 0000000000000000 0000000000000000 0000000000000400 "
                "ffffffffffffffff 00000000 00000000 00000000 0000000000000174")


def vmx_state(result, fields=VALID_FIELDS, mutations="ffffff00", caps=BOCHS_CAPS, rule=None,
              **changes):
    values = fields.split()
    for name, value in changes.items():
        values[fuzz_vmx.FIELDS.index(name)] = value
    line = "fuzz 00000007 m %s result %s vmcs %s" % (mutations, result, " ".join(values))
    m = fuzz.VMX_FUZZER.line.match(line)
    assert m and int(m.group(1), 16) == 7
    s = fuzz.VMX_FUZZER.state(m.groups()[1:])
    s.caps = fuzz_vmx.parse_caps(caps)
    s.rule = rule
    return s


CPUID_EXIT = "exit 0000000a 0000000000000000"
INVALID_GUEST = "exit 80000021 0000000000000000"


def test_vmx_platform_picks_the_vmx_fuzzer():
    assert fuzz.fuzzer_for("bochs-vmx") is fuzz.VMX_FUZZER
    assert fuzz.fuzzer_for("bochs-svm") is fuzz.SVM_FUZZER
    assert fuzz.VMX_FUZZER.image.name == "vmx_fuzz.elf"


def test_vmx_mutation_names_match_the_asm_table():
    import re
    from harness import ROOT
    asm = (ROOT / "tests" / "emulator" / "nested" / "vmx_fuzz.asm").read_text()
    table = asm.split("\nmutations:\n", 1)[1].split("NR_MUTATIONS", 1)[0]
    entries = re.findall(r"\bm_(\w+)", table)
    assert len(entries) == len(fuzz_vmx.MUTATIONS)
    # spot checks, in order: the asm names and the harness names say the same thing
    assert entries[13] == "event_injection" and fuzz_vmx.MUTATIONS[13] == "event-injection"
    assert entries[44] == "preemption_timer" and fuzz_vmx.MUTATIONS[44] == "preemption-timer"
    assert entries[-1] == "host_efer_pat" and fuzz_vmx.MUTATIONS[-1] == "host-efer/pat"


def test_vmx_outcomes_name_error_reason_and_qualification():
    assert vmx_state("invalid").outcome() == "VMfailInvalid"
    assert vmx_state("valid 00000007").outcome() == "VMfailValid 7"
    assert vmx_state(CPUID_EXIT).outcome() == "exit 10 (CPUID)"
    link = vmx_state("exit 80000021 0000000000000004")
    assert link.outcome() == "entry failure 33 (invalid guest state), qualification 0x4"
    assert fuzz_vmx.differs(link, vmx_state(INVALID_GUEST))
    assert not fuzz_vmx.differs(vmx_state("valid 00000008"), vmx_state("valid 00000008"))
    assert fuzz_vmx.differs(vmx_state("valid 00000007"), vmx_state("valid 00000008"))


def test_vmx_same_exit_must_save_the_same_guest_state():
    after = " after 0000000000101f16 00000000 00000002 %s 00000000 0000000000209000"
    plain = vmx_state(CPUID_EXIT)
    a = fuzz.VMX_FUZZER.state(fuzz.VMX_FUZZER.line.match(
        "fuzz 00000007 m ffffff00 result %s vmcs %s%s" % (CPUID_EXIT, VALID_FIELDS,
                                                          after % "00000000")).groups()[1:])
    b = fuzz.VMX_FUZZER.state(fuzz.VMX_FUZZER.line.match(
        "fuzz 00000007 m ffffff00 result %s vmcs %s%s" % (CPUID_EXIT, VALID_FIELDS,
                                                          after % "00000008")).groups()[1:])
    assert a.after[3] == 0 and b.after[3] == 8 and a.after[5] == 0x209000
    assert a.fields == plain.fields           # the vmcs part parses the same with "after"
    assert fuzz_vmx.differs(a, b) and not fuzz_vmx.differs(a, a)
    assert "interruptibility 0x8" in fuzz_vmx.after_text(b)


def test_vmx_line_fields_caps_and_names():
    s = vmx_state(CPUID_EXIT)
    assert s.fields["cr0"] == 0x80000031 and s.fields["link"] == 2 ** 64 - 1
    assert s.fields["msr_load_2"] == 0x174 and s.caps["cpuid7"] == 0xf1bf27eb00405fce
    assert fuzz.VMX_FUZZER.describe("ff0d1014") == "event-injection+entry-msr-load+load-debug-controls"
    assert fuzz_vmx.MUTATIONS[0x2c] == "preemption-timer" and fuzz_vmx.MUTATIONS[0x2d] == "pae-guest"
    assert fuzz.VMX_FUZZER.state_line.match("fuzz-state 00000341 m ff0d110c")
    rule = fuzz.VMX_FUZZER.rule_line.match(
        "nestbed: nested-vmx: VMLAUNCH of the VMCS at 0x204000 fails: 26.3.1.4: guest RIP is "
        "not canonical in 64-bit mode (VM-entry failure, exit reason 33)")
    assert rule.group(1).startswith("26.3.1.4: guest RIP")


def test_vmx_a_feature_nestbed_does_not_offer():
    # EPT with A/D flags: Bochs offers them, nestbed does not (IA32_VMX_EPT_VPID_CAP[21])
    ad = dict(proc="860061f2", proc2="00000002", eptp="000000000020a05e")
    bare = vmx_state(CPUID_EXIT, **ad)
    nested = vmx_state("valid 00000007", caps=NESTBED_CAPS, **ad)
    assert "not a bug" in fuzz.explain("bochs-vmx", bare, nested)
    # without A/D both may run it: a VMfailValid 7 from nestbed is then not explained
    plain = dict(proc="860061f2", proc2="00000002")
    assert fuzz.explain("bochs-vmx", vmx_state(CPUID_EXIT, **plain),
                        vmx_state("valid 00000007", caps=NESTBED_CAPS, **plain)) is None
    # shutdown activity: Bochs supports it, nestbed offers HLT only
    assert "activity" in fuzz.explain(
        "bochs-vmx", vmx_state("exit 00000034 0000000000000000", activity="00000002"),
        vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, activity="00000002"))


def test_vmx_bochs_departures_need_their_rule_and_state():
    rip = "26.3.1.4: guest RIP is not canonical in 64-bit mode (VM-entry failure, exit reason 33)"
    bare = vmx_state(CPUID_EXIT, rip="0000800000000000")
    nested = vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule=rip, rip="0000800000000000")
    assert "canonical" in fuzz.explain("bochs-vmx", bare, nested)
    # a canonical RIP is not that bug, nor is another rule
    assert fuzz.explain("bochs-vmx", vmx_state(CPUID_EXIT),
                        vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule=rip)) is None
    assert fuzz.explain("bochs-vmx", bare, vmx_state(INVALID_GUEST, caps=NESTBED_CAPS,
                                                     rip="0000800000000000")) is None
    # the deliver-error-code rules: a software exception (type 6) with an error code
    ec = "26.2.1.3: deliver-error-code is 1 for an event without an error code"
    soft = dict(intr_info="80000e54")
    assert "IA32_VMX_BASIC[56]" in fuzz.explain(
        "bochs-vmx", vmx_state(CPUID_EXIT, **soft),
        vmx_state("valid 00000007", caps=NESTBED_CAPS, rule=ec, **soft))
    # a hardware exception with an error code in protected mode is free with [56]: no excuse
    hard = dict(intr_info="80000b0e")
    assert fuzz.explain("bochs-vmx", vmx_state(CPUID_EXIT, **hard),
                        vmx_state("valid 00000007", caps=NESTBED_CAPS, rule=ec, **hard)) is None
    # IA32_DEBUGCTL bit 2 is reserved only without bus-lock detection (CPUID.(7,0):ECX[24])
    dbg = "26.3.1.1: guest IA32_DEBUGCTL sets reserved bits (load debug controls is 1)"
    bit2 = dict(debugctl="0000000000000004")
    nested = vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule=dbg, **bit2)
    assert "DEBUGCTL" in fuzz.explain("bochs-vmx", vmx_state(CPUID_EXIT, **bit2), nested)
    with_bld = BOCHS_CAPS.replace("00405fce", "01405fce")
    assert fuzz.explain("bochs-vmx", vmx_state(CPUID_EXIT, caps=with_bld, **bit2), nested) is None
    # IA32_SMM_MONITOR_CTL as the second VM-entry MSR-load entry
    smm = dict(msr_load_count="00000002", msr_load_2="000000000000009b")
    assert "SMM_MONITOR_CTL" in fuzz.explain(
        "bochs-vmx", vmx_state(CPUID_EXIT, **smm),
        vmx_state("exit 80000022 0000000000000002", caps=NESTBED_CAPS, **smm))
    assert fuzz.explain("bochs-vmx", vmx_state(CPUID_EXIT),
                        vmx_state("exit 80000022 0000000000000002", caps=NESTBED_CAPS,
                                  msr_load_count="00000002")) is None


def test_vmx_pending_bs_needs_halt_or_a_shadow():
    bs = "26.3.1.5: pending debug exceptions BS is 1 with RFLAGS.TF=0 or BTF=1 and blocking by STI/MOV SS or HLT"
    hlt = dict(activity="00000001", pending_dbg="0000000000004000")
    assert "BS (bit 14)" in fuzz.explain(
        "bochs-vmx", vmx_state("exit 00000034 0000000000000000", **hlt),
        vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule=bs, **hlt))
    active = dict(pending_dbg="0000000000004000")
    assert fuzz.explain("bochs-vmx", vmx_state(CPUID_EXIT, **active),
                        vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule=bs, **active)) is None


def test_vmx_ia32e_without_paging_explains_bochs_dying():
    pg = "26.3.1.1: IA-32e mode guest is 1 and guest CR0.PG is 0 (VM-entry failure, exit reason 33)"
    died = fuzz.Died("bochs: change_cpu_mode: EFER.LMA is set when CR0.PE=0 !")
    died.caps = fuzz_vmx.parse_caps(BOCHS_CAPS)
    real = dict(proc="860061f2", proc2="00000082", cr0="0000000000000030")
    nested = vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule=pg, **real)
    assert "CR0.PG" in fuzz.explain("bochs-vmx", died, nested)
    assert fuzz.explain("bochs-vmx", died, vmx_state(INVALID_GUEST, caps=NESTBED_CAPS,
                                                     rule=pg)) is None


def test_vmx_check_order_is_open_only_where_it_can_be():
    bare = vmx_state("exit 80000021 0000000000000004", link="0000000000204000")
    pending = "26.3.1.5: guest pending debug exceptions set reserved bits (11:4, 13, 15, 63:17)"
    assert "any order" in fuzz.explain(
        "bochs-vmx", bare, vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule=pending,
                                     link="0000000000204000"))
    pdpte = vmx_state("exit 80000021 0000000000000002", caps=NESTBED_CAPS,
                      rule="26.3.1.6: a present PDPTE CR3 references sets reserved bits",
                      link="0000000000204000")
    assert "any order" in fuzz.explain("bochs-vmx", bare, pdpte)
    # nestbed passing a link pointer Bochs refuses (qualification 2 with another link) is not
    other = vmx_state("exit 80000021 0000000000000002", caps=NESTBED_CAPS,
                      rule="26.3.1.6: a present PDPTE CR3 references sets reserved bits",
                      link="0000000000211000")
    assert fuzz.explain("bochs-vmx", vmx_state("exit 80000021 0000000000000004",
                                               link="0000000000211000"), other) is None
    # a register-state rule from nestbed is checked before the link pointer by both
    cr4 = vmx_state(INVALID_GUEST, caps=NESTBED_CAPS, rule="26.3.1.1: guest CR4 does not have")
    assert fuzz.explain("bochs-vmx", bare, cr4) is None


def test_bochs_cs_l_outside_long_mode_is_explained_for_bochs_only():
    # state 10 of seed 1: "cs.l" on a 32-bit protected-mode L2 (Bochs refuses, QEMU runs)
    line = ("fuzz 0000000a m ffffff0c exit %s 0000000000000000 0000000000000000 "
            "vmcb 00001000 00000011 00000000 00000000 00000002")
    bare = state(line % "ffffffffffffffff")
    nested = state(line % "0000000000000078")
    assert fuzz.differs(bare, nested)
    assert "CS.L" in fuzz.explain("bochs-svm", bare, nested)
    assert fuzz.explain("qemu-svm", bare, nested) is None
    # the other way round, or in long mode, it is not that
    assert fuzz.explain("bochs-svm", nested, bare) is None
    long_bare = state((line % "ffffffffffffffff").replace("vmcb 00001000 00000011",
                                                          "vmcb 00001500 80000011"))
    assert fuzz.explain("bochs-svm", long_bare, nested) is None
