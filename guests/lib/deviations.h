/* Known deviations of the test platforms from the manuals (guests/README.md, "Where the
 * emulators disagree on AMD-V"). A probe asserts what the manual says, so a platform
 * with a documented deviation fails it. With the option deviations=todo, such a failure
 * is reported as TAP "not ok ... # TODO <platform deviation>: <reason>" (still not ok,
 * but not counted as a failure), so that a run can be green while the deviation stays
 * visible. Pure: also compiled for the host tests. */
#ifndef GUEST_DEVIATIONS_H
#define GUEST_DEVIATIONS_H

#include <stdbool.h>

enum platform_id {
	PLATFORM_OTHER,   /* real hardware, or an unknown hypervisor */
	PLATFORM_QEMU_TCG,/* CPUID.40000000h signature "TCGTCGTCGTCG" */
	PLATFORM_BOCHS,   /* no hypervisor, ACPI RSDP OEM ID "BOCHS " */
	PLATFORM_NESTBED, /* nestbed as L0 (signature "NestbedL0Hv") on an unknown platform */
};

/* From what the guest can see (hypervisor signature, the RSDP's OEM ID). */
enum platform_id platform_identify(void);
const char *platform_name(enum platform_id id);
/* Bochs is the CPU, bare or under a hypervisor that hides its own signature (nestbed):
 * the RSDP's OEM ID is "BOCHS " and there is no QEMU fw_cfg (QEMU's SeaBIOS writes the
 * same OEM ID). For a probe that would kill the emulator where Bochs departs from the
 * manual, and must SKIP there instead. */
bool platform_cpu_is_bochs(void);
/* The note for a documented deviation of probe on this platform, or NULL. */
const char *deviation_note(enum platform_id platform, const char *probe);

#endif
