#include "lib/lapic.h"

#include "lib/cpu.h"

#define MSR_IA32_APIC_BASE   0x1bu
#define APIC_BASE_ENABLE     (1ull << 11)
#define APIC_BASE_X2APIC     (1ull << 10)
#define APIC_BASE_ADDR_MASK  0x000ffffffffff000ull
#define CPUID_1_EDX_APIC     (1u << 9)
#define SVR_ENABLE           (1u << 8)
#define ICR_SHORTHAND_SELF   (1u << 18)
#define ICR_DELIVERY_PENDING (1u << 12)

bool lapic_usable(void)
{
	if (!(cpuid(1).edx & CPUID_1_EDX_APIC))
		return false;
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	return (base & APIC_BASE_ENABLE) && !(base & APIC_BASE_X2APIC);
}

uint64_t lapic_base(void)
{
	return rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
}

uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(lapic_base() + reg);
}

void lapic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(lapic_base() + reg) = value;
}

void lapic_enable(void)
{
	uint32_t svr = lapic_read(LAPIC_SVR);
	if (!(svr & SVR_ENABLE))
		lapic_write(LAPIC_SVR, svr | SVR_ENABLE | 0xff);
}

void lapic_self_ipi(uint8_t vector)
{
	lapic_write(LAPIC_ICR_HIGH, 0);
	lapic_write(LAPIC_ICR_LOW, ICR_SHORTHAND_SELF | vector);
	for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING); i++)
		cpu_relax();
}

#define MSR_X2APIC_ID  0x802u /* 11.12.1, Table 11-6 */
#define MSR_X2APIC_EOI 0x80bu
#define MSR_X2APIC_ICR 0x830u
#define ICR_SEND_POLLS 1000000

void lapic_eoi(void)
{
	if (lapic_x2apic())
		wrmsr(MSR_X2APIC_EOI, 0);
	else
		lapic_write(LAPIC_EOI, 0);
}

bool lapic_x2apic(void)
{
	return (rdmsr(MSR_IA32_APIC_BASE) & (APIC_BASE_ENABLE | APIC_BASE_X2APIC)) ==
	       (APIC_BASE_ENABLE | APIC_BASE_X2APIC);
}

uint32_t lapic_id(void)
{
	if (lapic_x2apic())
		return (uint32_t)rdmsr(MSR_X2APIC_ID);
	return lapic_read(LAPIC_ID) >> 24;
}

bool lapic_send_ipi(uint32_t apic_id, uint32_t command)
{
	if (lapic_x2apic()) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)apic_id << 32 | command);
		return true;
	}
	lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
	lapic_write(LAPIC_ICR_LOW, command);
	for (int i = 0; i < ICR_SEND_POLLS; i++) {
		if (!(lapic_read(LAPIC_ICR_LOW) & ICR_BUSY))
			return true;
		cpu_relax();
	}
	return false;
}
