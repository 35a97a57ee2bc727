"""The smp/ part of `harness suite`: the smp/ probes SKIP with one CPU ("needs 2+ CPUs"), so
the suite boots them again with two CPUs, selecting only them, and writes
results/<platform>-<mode>-smp.json (harness/results.py merges it into the 1-CPU record).

On bochs-vmx under nestbed each smp/ probe gets a boot of its own: Bochs 2.7's VT-x never
consumes an INIT that reached a CPU in guest mode (SDM 25.2: the INIT VM exit does), so an
AP the guest already ran cannot be INITed again there, and smp/init-exit ends its boot with
nestbed's "delivers the same INIT as an exit at every entry" failure line
(tests/emulator/scenarios.py, SMP_NESTBED_SCENARIOS, runs the same boots). Pure.
"""

from typing import List

PART = "smp"
CPUS = 2
SELECTION = "smp/*"
# guests/probes/smp*: every smp/ probe of the conformance guest
PROBES = ("smp/ap-guest-mode", "smp/ap-startup", "smp/init-exit", "smp/ipi",
          "smp/map-change-other-cpu", "smp/nested-l2-on-ap", "smp/probe-on-ap",
          "smp/self-init", "smp/wait-for-sipi")


def boots(platform: str, mode: str) -> List[List[str]]:
    """The guest command lines (probe selections) of the smp part, one per boot."""
    if platform == "bochs-vmx" and mode == "nestbed":
        return [[probe] for probe in PROBES]
    return [[SELECTION]]
