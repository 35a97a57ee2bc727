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
