/* isolation/iommu-hidden: where nestbed owns an IOMMU, the guest's ACPI view does not
 * list it: neither the RSDT nor the XSDT names a DMAR (VT-d) or IVRS (AMD-Vi) table, both still have valid
 * checksums, and the tables beside it (FACP, APIC) are still listed. The walk here is
 * the probe's own (not nestbed's src/core/acpi.c), so a shared mistake cannot hide. The
 * units' registers are unmapped for the guest as well: touching them is an access to
 * nestbed's memory, which ends the run (README), so no probe does. SKIPs bare and where
 * nestbed has no IOMMU. */
#include "core/string.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"

#define BIOS_AREA 0xe0000ull          /* ACPI 6.4 5.2.5.1: the RSDP lies on a 16-byte */
#define BIOS_AREA_END 0x100000ull     /* boundary here or in the EBDA's first KiB */

static uint8_t sum(const volatile uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static uint64_t scan_rsdp(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + 20 <= end; a += 16) {
		const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)a;
		if (memcmp((const void *)p, "RSD PTR ", 8) == 0 && sum(p, 20) == 0)
			return a;
	}
	return 0;
}

static uint32_t rd32(uint64_t a) { return *(const volatile uint32_t *)(uintptr_t)a; }
static uint64_t rd64(uint64_t a) { return *(const volatile uint64_t *)(uintptr_t)a; }

/* Checks one root table: valid, no DMAR or IVRS, FACP and APIC present. */
static enum probe_status check_root(struct probe_run *run, const char *name, uint64_t root,
				    unsigned size)
{
	if (!root || root >= 0x100000000ull)
		return probe_fail(run, "%s at %#llx: expected a table below 4 GiB", name,
				  (unsigned long long)root);
	uint32_t len = rd32(root + 4);
	if (memcmp((const void *)(uintptr_t)root, name, 4) != 0 || len < 36 || len > 0x10000)
		return probe_fail(run, "%s at %#llx: bad signature or length %u", name,
				  (unsigned long long)root, len);
	if (sum((const volatile uint8_t *)(uintptr_t)root, len) != 0)
		return probe_fail(run, "%s at %#llx: checksum wrong after nestbed's edit", name,
				  (unsigned long long)root);
	bool facp = false, apic = false;
	uint32_t n = (len - 36) / size;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t = size == 8 ? rd64(root + 36 + 8ull * i) : rd32(root + 36 + 4ull * i);
		if (!t || t >= 0x100000000ull)
			continue;
		const char *sig = (const char *)(uintptr_t)t;
		if (memcmp(sig, "DMAR", 4) == 0 || memcmp(sig, "IVRS", 4) == 0)
			return probe_fail(run, "%s entry %u names the %.4s at %#llx: nestbed's IOMMU "
					  "is visible to the guest", name, i, sig, (unsigned long long)t);
		facp = facp || memcmp(sig, "FACP", 4) == 0;
		apic = apic || memcmp(sig, "APIC", 4) == 0;
	}
	diag("%s at %#llx: %u entries, no DMAR or IVRS, FACP %s, APIC %s", name,
	     (unsigned long long)root, n, facp ? "listed" : "missing", apic ? "listed" : "missing");
	if (!facp || !apic)
		return probe_fail(run, "%s: expected FACP and APIC still listed beside the hidden "
				  "IOMMU table, observed FACP %d APIC %d", name, facp, apic);
	return PROBE_PASS;
}

static enum probe_status iommu_hidden(struct probe_run *run)
{
	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_IOMMU, 0, 0, 0 };
	uint64_t vector = 0;
	enum nestbed_hc_outcome outcome = nestbed_hypercall(&r, &vector);
	if (outcome == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the hypercall raised vector %llu, expected an answer or #UD",
				  (unsigned long long)vector);
	if (outcome != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s", nestbed_hc_absent_reason(outcome));
	EXPECT_EQ(run, "RAX (status of NESTBED_HC_IOMMU)", 0, r.rax);
	if (r.rbx == 0)
		return probe_skip(run, "no IOMMU: DMA is not isolated (nestbed found none to program)");
	if (r.rbx & NESTBED_HC_IOMMU_VIRTUAL)
		return probe_skip(run, "nestbed offers the guest its IOMMU as a virtual one (option "
				  "viommu): the table stays visible (isolation/viommu-dma)");

	/* The BIOS area only: the EBDA pointer lives in page 0, which the guest leaves
	 * unmapped (QEMU's and Bochs' BIOSes put the RSDP at 0xF0000 and above). */
	uint64_t rsdp = scan_rsdp(BIOS_AREA, BIOS_AREA_END);
	if (!rsdp)
		return probe_fail(run, "nestbed has an IOMMU, but the guest finds no ACPI RSDP");
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)rsdp;
	enum probe_status s = check_root(run, "RSDT", rd32(rsdp + 16), 4);
	if (s != PROBE_PASS || p[15] < 2)
		return s;
	return check_root(run, "XSDT", rd64(rsdp + 24), 8);
}
PROBE("isolation/iommu-hidden", iommu_hidden);
