#include "core/ap_boot.h"

#include "core/acpi.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/lapic.h"
#include "core/memmap.h"
#include "core/memory.h"
#include "core/paging.h"
#include "core/pcpu.h"
#include "core/platform.h"
#include "core/string.h"
#include "core/x86.h"

/* MP startup (SDM vol.3 9.4.4.1, the universal algorithm): INIT, 10 ms, SIPI, 200 us,
 * SIPI; then the AP has its time to reach nestbed's code. */
#define INIT_TO_SIPI_US 10000
#define SIPI_TO_SIPI_US 200
#define AP_ONLINE_WAIT_US 1000000
#define AP_ONLINE_POLL_US 1000
#define TRAMPOLINE_PAGES 2           /* the code, then the PML4 copy */
#define TRAMPOLINE_SEARCH_START 0x1000ull
#define TRAMPOLINE_SEARCH_END 0x9F000ull /* below the EBDA: a SIPI vector names a page < 1 MiB */

extern const uint8_t ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];

struct ap_trampoline_params {
	uint64_t low_cr3, efer, cr3, stack, arg, entry;
};

static uint8_t *map_phys(void *ctx, uint64_t phys, uint64_t len)
{
	const struct boot_info *bi = ctx;
	/* ACPI tables live in memory the map lists (ACPI, reserved or usable) below the
	 * identity map's end; nothing else is read. */
	if (phys + len < phys || phys + len > memmap_identity_end(bi->ranges, bi->nr_ranges))
		return NULL;
	return phys_to_virt(phys);
}

void smp_discover(struct machine *m)
{
	uint32_t ids[ACPI_MAX_CPUS];
	const char *why = "";
	int n = acpi_find_cpus(map_phys, m->bi, m->bi->rsdp_phys, ids, ACPI_MAX_CPUS, &why);
	uint32_t self = lapic_id();
	/* Without a MADT there is one CPU; a MADT nestbed cannot read whole would leave CPUs
	 * it does not know of for the guest to start outside nestbed. */
	if (n < 0 && !strcmp(why, "the MADT's entry list is malformed"))
		fatal("cpus: %s: cannot know every CPU", why);
	if (n < 0) {
		kprintf("nestbed: cpus: %s: running on the boot CPU only\n", why);
		n = 1;
		ids[0] = self;
	}
	uint64_t frames = (sizeof(struct pcpu) * (uint64_t)n + FRAME_SIZE - 1) / FRAME_SIZE;
	uint64_t pa = alloc_frames_zeroed(frames, FRAME_SIZE);
	if (!pa)
		fatal("no memory for %d CPUs' state", n);
	m->cpus = phys_to_virt(pa);
	/* The boot CPU is cpus[0], the others in MADT order. */
	unsigned k = 1;
	bool self_found = false;
	for (int i = 0; i < n; i++) {
		if (ids[i] == self && !self_found) {
			self_found = true;
			continue;
		}
		if (k < (unsigned)n)
			m->cpus[k++].apic_id = ids[i];
	}
	if (!self_found)
		fatal("cpus: the boot CPU (APIC ID %u) is not in the MADT", self);
	m->cpus[0].apic_id = self;
	m->nr_cpus = (unsigned)n;
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		m->cpus[i].index = i;
		m->cpus[i].apic_ldr = APIC_LDR_RESET;
		m->cpus[i].apic_dfr = APIC_DFR_RESET;
	}
	kprintf("nestbed: cpus: %u (APIC IDs", m->nr_cpus);
	for (unsigned i = 0; i < m->nr_cpus; i++)
		kprintf(" %u", m->cpus[i].apic_id);
	kprintf(", boot CPU %u)\n", self);
}

static uint64_t find_trampoline_page(const struct boot_info *bi)
{
	uint64_t size = TRAMPOLINE_PAGES * FRAME_SIZE;
	for (uint64_t a = TRAMPOLINE_SEARCH_START; a + size <= TRAMPOLINE_SEARCH_END; a += FRAME_SIZE)
		if (memmap_is_usable(bi->ranges, bi->nr_ranges, a, size))
			return a;
	return 0;
}

static int send(uint32_t apic_id, enum icr_delivery mode, uint8_t vector)
{
	struct icr icr = { .vector = vector, .delivery = mode, .assert = true,
			   .level_trigger = mode == ICR_INIT, .dest = apic_id };
	return lapic_send(&icr);
}

void smp_start_aps(struct machine *m, void (*ap_entry)(struct pcpu *c))
{
	if (m->nr_cpus < 2)
		return;
	uint64_t page = find_trampoline_page(m->bi);
	if (!page)
		fatal("cpus: no free memory below 1 MiB for the AP trampoline");
	size_t code = (size_t)(ap_trampoline_end - ap_trampoline_start);
	uint8_t *low = phys_to_virt(page);
	/* The page is the guest's later: keep what was there (the guest is not loaded yet,
	 * but the firmware's data may be). */
	uint64_t saved_frames = alloc_frames_zeroed(TRAMPOLINE_PAGES, FRAME_SIZE);
	if (!saved_frames)
		fatal("cpus: no memory to save the trampoline page");
	memcpy(phys_to_virt(saved_frames), low, TRAMPOLINE_PAGES * FRAME_SIZE);
	memcpy(low, ap_trampoline_start, code);
	memcpy(low + FRAME_SIZE, phys_to_virt(read_cr3() & PTE_ADDR_MASK), FRAME_SIZE);
	struct ap_trampoline_params *p =
		(struct ap_trampoline_params *)(low + (ap_trampoline_params - ap_trampoline_start));
	p->low_cr3 = page + FRAME_SIZE;
	p->efer = EFER_LME | (rdmsr(MSR_EFER) & (EFER_NXE | EFER_SCE));
	p->cr3 = read_cr3();
	p->entry = (uint64_t)(uintptr_t)ap_entry;
	uint8_t vector = (uint8_t)(page >> SIPI_VECTOR_SHIFT);

	for (unsigned i = 1; i < m->nr_cpus; i++) {
		struct pcpu *c = &m->cpus[i];
		uint64_t stack = alloc_frames_zeroed(PCPU_STACK_SIZE / FRAME_SIZE, FRAME_SIZE);
		if (!stack)
			fatal("cpus: no memory for CPU %u's stack", i);
		c->stack_top = stack + PCPU_STACK_SIZE;
		p->stack = c->stack_top;
		p->arg = (uint64_t)(uintptr_t)c;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (send(c->apic_id, ICR_INIT, 0))
			fatal("cpus: the INIT IPI to APIC ID %u stayed pending", c->apic_id);
		pit_delay_us(INIT_TO_SIPI_US);
		for (int sipi = 0; sipi < 2 && !c->online; sipi++) {
			if (send(c->apic_id, ICR_STARTUP, vector))
				fatal("cpus: the startup IPI to APIC ID %u stayed pending", c->apic_id);
			pit_delay_us(SIPI_TO_SIPI_US);
		}
		for (unsigned waited = 0; !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) &&
					  waited < AP_ONLINE_WAIT_US; waited += AP_ONLINE_POLL_US)
			pit_delay_us(AP_ONLINE_POLL_US);
		if (!c->online)
			fatal("cpus: CPU %u (APIC ID %u) did not come up: it would run outside nestbed",
			      i, c->apic_id);
	}
	memcpy(low, phys_to_virt(saved_frames), TRAMPOLINE_PAGES * FRAME_SIZE);
	frame_free_range(&nestbed_frames, saved_frames, TRAMPOLINE_PAGES);
	kprintf("nestbed: cpus: %u APs started (trampoline at %#llx)\n", m->nr_cpus - 1,
		(unsigned long long)page);
}
