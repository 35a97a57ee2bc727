#include "lib/deviations.h"

#include <stddef.h>

#include "core/string.h"
#include "lib/glob.h"

#define QEMU    (1u << PLATFORM_QEMU_TCG)
#define BOCHS   (1u << PLATFORM_BOCHS)
#define NESTBED (1u << PLATFORM_NESTBED) /* inherited from the emulator underneath */

static const struct {
	const char *glob;
	unsigned platforms;
	const char *note;
} deviations[] = {
	{ "intercept/invd*", QEMU | NESTBED, "QEMU ignores the INVD intercept" },
	{ "intercept/rdtscp*", QEMU | NESTBED, "QEMU ignores the RDTSCP intercept" },
	{ "intercept/xsetbv*", QEMU | NESTBED, "QEMU ignores the XSETBV intercept" },
	{ "intercept/icebp", QEMU | NESTBED, "QEMU ignores the ICEBP intercept" },
	{ "exception/bp", QEMU | NESTBED, "QEMU does not intercept #BP from INT3" },
	{ "exception/of", QEMU | NESTBED, "QEMU delivers INTO's #OF past its intercept" },
	{ "exception/df", QEMU | NESTBED, "QEMU never checks the #DF intercept" },
	{ "exception/ss", QEMU | NESTBED, "QEMU raises #GP, not #SS, for a non-canonical stack reference" },
	{ "exception/xm", QEMU | NESTBED, "QEMU never raises #XM" },
	{ "exception/ac", QEMU | NESTBED, "QEMU never raises #AC" },
	{ "intercept/task-switch", QEMU | NESTBED, "QEMU ignores the task-switch intercept" },
	{ "io/*address-size", QEMU | NESTBED, "QEMU leaves IOIO A16/A32/A64 clear" },
	{ "mode/*-out*", QEMU | NESTBED, "QEMU leaves IOIO A16/A32/A64 clear" },
	{ "tdp/bad-entry", QEMU | NESTBED, "QEMU reports P=0 for a reserved-bit NPF" },
	{ "inject/vectoring-info", QEMU | NESTBED,
	  "QEMU's #GP error code for a vector beyond the IDT limit" },
	{ "state/cr2-load", BOCHS | NESTBED, "Bochs' VMRUN does not load CR2" },
	{ "exception/pf-*", BOCHS | NESTBED, "Bochs' VMRUN does not load CR2" },
	{ "inject/page-fault", BOCHS | NESTBED, "Bochs' VMRUN does not load CR2" },
	{ "event/interrupt-window-open", BOCHS | NESTBED,
	  "Bochs misses V_IRQ pending at VMRUN" },
	{ "inject/soft-int-next-rip", BOCHS, "Bochs pushes RIP, not nRIP, for an injected INTn" },
	{ "tdp/fault-during-delivery-intn", BOCHS | NESTBED,
	  "Bochs' EXITINTINFO keeps an earlier event for an INTn" },
	{ "smp/init-exit", QEMU, "QEMU performs an intercepted INIT while GIF = 0" },
	{ "smp/init-exit", BOCHS, "Bochs keeps the INIT of an INIT VM exit pending" },
	{ "smp/ap-startup", BOCHS, "Bochs leaves EDX 0 after INIT" },
	{ "smp/self-init", BOCHS, "Bochs leaves EDX 0 after INIT" },
	{ "event/mtf-single-step", BOCHS | NESTBED, "Bochs' monitor trap flag never exits" },
	{ "event/mtf-after-injection", BOCHS | NESTBED, "Bochs' monitor trap flag never exits" },
	{ "event/mtf-priority", BOCHS | NESTBED, "Bochs' monitor trap flag never exits" },
	{ "intercept/rsm-outside-smm", QEMU | NESTBED, "QEMU checks the RSM intercept before #UD" },
	{ "intercept/svm-mwait-conditional", QEMU | NESTBED,
	  "QEMU ignores the MWAIT-if-armed intercept" },
	{ "intercept/vmx-pause-loop-after-entry", BOCHS | NESTBED,
	  "Bochs' PAUSE-loop timing ignores VM entry" },
};

const char *platform_name(enum platform_id id)
{
	switch (id) {
	case PLATFORM_QEMU_TCG: return "QEMU TCG";
	case PLATFORM_BOCHS: return "Bochs";
	case PLATFORM_NESTBED: return "nestbed";
	default: return "other";
	}
}

const char *deviation_note(enum platform_id platform, const char *probe)
{
	for (size_t i = 0; i < sizeof(deviations) / sizeof(deviations[0]); i++)
		if ((deviations[i].platforms & (1u << platform)) && glob_match(deviations[i].glob, probe))
			return deviations[i].note;
	return NULL;
}

#ifndef HOST_TEST
#include <stdbool.h>
#include <stdint.h>

#include "lib/cpu.h"
#include "lib/cpuid.h"

/* The ACPI RSDP's OEM ID (ACPI 6.4 5.2.5.3: "RSD PTR " on a 16-byte boundary in the
 * BIOS area E0000h-FFFFFh, OEMID at offset 9). Bochs' BIOS says "BOCHS " (so does
 * QEMU's, which its hypervisor signature identifies first). */
static bool rsdp_oem_is(const char *oem)
{
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		const char *p = (const char *)a;
		if (memcmp(p, "RSD PTR ", 8) == 0)
			return memcmp(p + 9, oem, 6) == 0;
	}
	return false;
}

enum platform_id platform_identify(void)
{
	char signature[13];
	cpuid_hypervisor_signature(signature);
	if (strcmp(signature, "TCGTCGTCGTCG") == 0)
		return PLATFORM_QEMU_TCG;
	if (strncmp(signature, "Nestbed", 7) == 0)
		return PLATFORM_NESTBED;
	if (!signature[0] && rsdp_oem_is("BOCHS "))
		return PLATFORM_BOCHS;
	return PLATFORM_OTHER;
}

#define FW_CFG_PORT_SELECTOR 0x510 /* QEMU docs/specs/fw_cfg.rst: selector (16-bit) */
#define FW_CFG_PORT_DATA     0x511 /* data, one byte a read */
#define FW_CFG_SIGNATURE     0x0000 /* "QEMU" */

static bool qemu_fw_cfg_present(void)
{
	__asm__ volatile("outw %0, %1" ::"a"((uint16_t)FW_CFG_SIGNATURE),
			 "Nd"((uint16_t)FW_CFG_PORT_SELECTOR));
	char sig[4];
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_PORT_DATA);
	return memcmp(sig, "QEMU", 4) == 0;
}

bool platform_cpu_is_bochs(void)
{
	enum platform_id id = platform_identify();
	if (id == PLATFORM_BOCHS)
		return true;
	return id == PLATFORM_NESTBED && rsdp_oem_is("BOCHS ") && !qemu_fw_cfg_present();
}
#endif
