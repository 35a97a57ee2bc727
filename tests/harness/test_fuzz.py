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
