#include "core/guest_msr.h"

#include "core/apic_base.h"
#include "core/console.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/msr_safe.h"
#include "core/vmm.h"

int guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	if (msr == MSR_IA32_APIC_BASE) {
		enum apic_base_verdict verdict = apic_base_check(value, machine.caps.maxphyaddr,
								 machine.caps.x2apic, nestbed_owns_range);
		if (verdict == APIC_BASE_ON_NESTBED)
			kprintf("nestbed: vCPU %u (L%u) wrote IA32_APIC_BASE %#llx, which puts its APIC on "
				"nestbed's memory: #GP\n", v->id, v->level, (unsigned long long)value);
		if (verdict != APIC_BASE_OK)
			return -1;
	}
	if (wrmsr_safe(msr, value))
		return -1;
	if (msr == MSR_IA32_APIC_BASE && v->ops && v->ops->apic_base_changed)
		v->ops->apic_base_changed(v);
	return 0;
}

bool cpu_apic_page_overlaps(uint64_t pa, uint64_t len)
{
	uint64_t base;
	if (rdmsr_safe(MSR_IA32_APIC_BASE, &base) || !(base & APIC_BASE_EN) || (base & APIC_BASE_EXTD))
		return false;
	uint64_t page = base & APIC_BASE_PAGE_MASK;
	if (machine.caps.maxphyaddr < 64)
		page &= (1ull << machine.caps.maxphyaddr) - 1;
	return pa < page + APIC_MMIO_SIZE && page < pa + len;
}
