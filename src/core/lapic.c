#include "core/lapic.h"

#include "core/cpu.h"
#include "core/memory.h"

#define CPUID_1_EBX_APIC_ID_SHIFT 24    /* SDM vol.2A CPUID leaf 1: initial APIC ID */
#define SEND_PENDING_SPINS 1000000
/* PIT: SDM-independent PC facts (Intel 8254 data sheet; IBM PC/AT port 61h). */
#define PIT_HZ 1193182u
#define PIT_CHANNEL2 0x42
#define PIT_COMMAND 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xB0     /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_61 0x61
#define PORT_61_GATE2 0x01
#define PORT_61_SPEAKER 0x02
#define PORT_61_OUT2 0x20
#define PIT_MAX_CHUNK_US 50000u          /* 50 ms: fits the 16-bit count */
#define PIT_SPIN_LIMIT 10000000          /* a PIT that never counts must not hang boot */

bool lapic_x2apic_mode(void)
{
	return (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) != 0;
}

static uint64_t lapic_base(void)
{
	return rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
}

uint32_t lapic_mmio_read(uint64_t apic_base, uint32_t offset)
{
	return *(volatile uint32_t *)phys_to_virt(apic_base + offset);
}

void lapic_mmio_write(uint64_t apic_base, uint32_t offset, uint32_t value)
{
	*(volatile uint32_t *)phys_to_virt(apic_base + offset) = value;
}

#define APIC_REG_PPR 0xA0u            /* SDM vol.3 table 11-1 */
#define APIC_REG_IRR 0x200u           /* eight 32-bit words, 16 bytes apart */
#define APIC_IRR_WORDS 8
#define APIC_REG_STRIDE 0x10u
#define MSR_X2APIC_BASE 0x800u        /* x2APIC MSR = 800h + offset / 16 (11.12.1.2) */
#define APIC_PRIORITY_CLASS 0xf0u

static uint32_t lapic_reg(bool x2apic, uint64_t base, uint32_t offset)
{
	return x2apic ? (uint32_t)rdmsr(MSR_X2APIC_BASE + offset / APIC_REG_STRIDE)
		      : lapic_mmio_read(base, offset);
}

bool lapic_interrupt_pending(void)
{
	bool x2apic = lapic_x2apic_mode();
	uint64_t base = x2apic ? 0 : lapic_base();
	uint32_t ppr = lapic_reg(x2apic, base, APIC_REG_PPR);
	for (int i = APIC_IRR_WORDS - 1; i >= 0; i--) {
		uint32_t irr = lapic_reg(x2apic, base, APIC_REG_IRR + (uint32_t)i * APIC_REG_STRIDE);
		if (irr) {
			uint32_t vector = (uint32_t)i * 32 + 31 - (uint32_t)__builtin_clz(irr);
			return (vector & APIC_PRIORITY_CLASS) > (ppr & APIC_PRIORITY_CLASS);
		}
	}
	return false;
}

uint32_t lapic_id(void)
{
	if (lapic_x2apic_mode())
		return (uint32_t)rdmsr(MSR_X2APIC_APICID);
	return cpuid(1, 0).ebx >> CPUID_1_EBX_APIC_ID_SHIFT;
}

int lapic_send(const struct icr *icr)
{
	uint32_t low = icr_encode_low(icr);
	if (lapic_x2apic_mode()) {
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)icr->dest << 32) | low);
		return 0;
	}
	uint64_t base = lapic_base();
	lapic_mmio_write(base, APIC_REG_ICR_HIGH, icr->dest << XAPIC_DEST_SHIFT);
	lapic_mmio_write(base, APIC_REG_ICR_LOW, low);
	for (int i = 0; i < SEND_PENDING_SPINS; i++)
		if (!(lapic_mmio_read(base, APIC_REG_ICR_LOW) & ICR_DELIVERY_PENDING))
			return 0;
	return -1;
}

void pit_delay_us(uint32_t us)
{
	while (us) {
		uint32_t chunk = us < PIT_MAX_CHUNK_US ? us : PIT_MAX_CHUNK_US;
		uint32_t count = (uint32_t)((uint64_t)chunk * PIT_HZ / 1000000u);
		if (count < 1)
			count = 1;
		outb(PORT_61, (uint8_t)((inb(PORT_61) & ~PORT_61_SPEAKER) | PORT_61_GATE2));
		outb(PIT_COMMAND, PIT_CMD_CH2_LOHI_MODE0);
		outb(PIT_CHANNEL2, (uint8_t)count);
		outb(PIT_CHANNEL2, (uint8_t)(count >> 8));
		for (int i = 0; i < PIT_SPIN_LIMIT; i++)
			if (inb(PORT_61) & PORT_61_OUT2)
				break;
		us -= chunk;
	}
}
