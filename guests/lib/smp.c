#include "lib/smp.h"

#include "core/acpi.h"
#include "core/acpi_madt.h"
#include "core/format.h"
#include "core/string.h"
#include "lib/boot_info.h"
#include "lib/cpu.h"
#include "lib/delay.h"
#include "lib/idt.h"
#include "lib/lapic.h"
#include "lib/layout.h"

#define MSR_EFER   0xc0000080u
#define EFER_LME   (1ull << 8)
#define EFER_NXE   (1ull << 11)
#define CR4_PAE    (1ull << 5)
#define TRAMPOLINE_DATA 0xe00u   /* smp_trampoline.asm: DATA */
#define I_CR3      0x80u
#define I_CR4      0x84u
#define I_CR0      0x88u
#define I_EFER     0x8cu
#define I_GDTR     0x90u
#define I_JMP32    0x98u
#define I_JMP64    0xa0u
#define I_STACK    0xa8u
#define I_CPU      0xb0u
#define I_ENTRY    0xb8u
#define PAGE_SIZE  0x1000u
#define RSDP_V2_LENGTH 36u  /* ACPI 6.4 5.2.5.3 */
#define LOW_MEMORY_END 0x100000u

/* SDM vol.3A 9.4.4.1 (and the MP spec, B.4): INIT, wait 10 ms, SIPI, wait 200 us,
 * SIPI. */
#define INIT_TO_SIPI_US   10000
#define SIPI_TO_SIPI_US   200
#define ONLINE_TIMEOUT_US 1000000
#define POLL_STEP_US      1000
/* After a self-INIT: the MP sequence's two SIPIs again every SIPI_ROUND_US while the AP
 * has not started, ONLINE_TIMEOUT_US in all. */
#define SIPI_ROUND_US     200000

extern const uint8_t smp_trampoline_start[], smp_trampoline_end[];
extern const uint8_t smp_trampoline_pm32[], smp_trampoline_lm64[];

/* The machine's CPUs, one area each: filled once by smp_init. */
static struct smp_cpu cpus[SMP_MAX_CPUS];
static unsigned nr_cpus;
static int census_status = 1;   /* 1: not yet; 0: done; -1: failed (census_reason) */
static char census_reason[PROBE_REASON_MAX];

static void put32(uint8_t *page, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(page + off) = v;
}

static void put64(uint8_t *page, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(page + off) = v;
}

/* A table at a physical address below 4 GiB (identity-mapped), checked. */
static const uint8_t *map_table(uint64_t phys, const char signature[4])
{
	if (phys < NULL_GUARD_SIZE || phys + ACPI_SDT_HEADER_SIZE > IDENTITY_MAP_END)
		return NULL;
	const uint8_t *t = (const uint8_t *)phys;
	uint32_t len = acpi_table_length(t);
	if (phys + len > IDENTITY_MAP_END)
		return NULL;
	return acpi_table_valid(t, len, signature) ? t : NULL;
}

static const uint8_t *find_madt(char *reason, size_t size)
{
	/* UEFI: the RSDP the configuration table gave (efi_main.c). Else the BIOS area
	 * (ACPI 6.4 5.2.5.1); the EBDA's first KiB, the other place, is found through
	 * page 0, which the guest leaves unmapped: QEMU's SeaBIOS and the Bochs BIOS put it
	 * in the BIOS area. */
	uint64_t rsdp = guest_boot_info.acpi_rsdp, readable = RSDP_V2_LENGTH;
	if (!rsdp) {
		rsdp = acpi_scan_rsdp((const uint8_t *)(uint64_t)ACPI_BIOS_AREA_BASE,
				      ACPI_BIOS_AREA_BASE, ACPI_BIOS_AREA_SIZE);
		readable = ACPI_BIOS_AREA_BASE + ACPI_BIOS_AREA_SIZE - rsdp;
	}
	if (!rsdp) {
		format_buf(reason, size, "no ACPI RSDP in the BIOS area E0000h-FFFFFh");
		return NULL;
	}
	if (rsdp < NULL_GUARD_SIZE || rsdp + RSDP_V2_LENGTH > IDENTITY_MAP_END) {
		format_buf(reason, size, "the RSDP at %#llx is out of the identity map",
			   (unsigned long long)rsdp);
		return NULL;
	}
	uint32_t rsdt;
	uint64_t xsdt = acpi_rsdp_xsdt((const uint8_t *)rsdp, readable, &rsdt);
	const uint8_t *sdt = xsdt ? map_table(xsdt, "XSDT") : NULL;
	unsigned entry_size = 8;
	if (!sdt) {
		sdt = map_table(rsdt, "RSDT");
		entry_size = 4;
	}
	if (!sdt) {
		format_buf(reason, size, "the RSDP at %#llx gives no valid RSDT/XSDT",
			   (unsigned long long)rsdp);
		return NULL;
	}
	for (unsigned i = 0; i < acpi_sdt_entries(sdt, entry_size); i++) {
		const uint8_t *madt = map_table(acpi_sdt_entry(sdt, entry_size, i), "APIC");
		if (madt)
			return madt;
	}
	format_buf(reason, size, "no valid MADT (APIC) table in the %s",
		   entry_size == 8 ? "XSDT" : "RSDT");
	return NULL;
}

static int census(char *reason, size_t size)
{
	if (!lapic_usable() && !lapic_x2apic()) {
		format_buf(reason, size, "no enabled local APIC (CPUID.1:EDX[9], IA32_APIC_BASE)");
		return -1;
	}
	const uint8_t *madt = find_madt(reason, size);
	if (!madt)
		return -1;
	struct acpi_cpu found[SMP_MAX_CPUS];
	struct acpi_madt_info info;
	if (acpi_madt_parse_cpus(madt, acpi_table_length(madt), found, SMP_MAX_CPUS, &info) < 0) {
		format_buf(reason, size, "the MADT's entry list is malformed");
		return -1;
	}
	uint32_t self = lapic_id();
	unsigned bsp = info.nr_cpus;
	for (unsigned i = 0; i < info.nr_cpus; i++)
		if (found[i].apic_id == self)
			bsp = i;
	if (bsp == info.nr_cpus) {
		format_buf(reason, size, "the boot CPU's APIC ID %u is not in the MADT (%u CPUs)",
			   self, info.nr_cpus);
		return -1;
	}
	/* The boot CPU first, then the others in MADT order. */
	nr_cpus = 0;
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < info.nr_cpus; i++) {
			if ((pass == 0) != (i == bsp))
				continue;
			struct smp_cpu *c = &cpus[nr_cpus];
			c->index = nr_cpus++;
			c->apic_id = found[i].apic_id;
			c->x2apic_entry = found[i].x2apic_entry;
		}
	cpus[0].online = 1;
	if (info.nr_listed > SMP_MAX_CPUS)
		diag("the MADT lists %u CPUs; the guest uses the first %u", info.nr_listed,
		     SMP_MAX_CPUS);
	return 0;
}

int smp_init(char *reason, size_t size)
{
	if (census_status > 0)
		census_status = census(census_reason, sizeof(census_reason));
	if (census_status < 0)
		strlcpy(reason, census_reason, size);
	return census_status;
}

unsigned smp_count(void)
{
	return census_status == 0 ? nr_cpus : 1;
}

struct smp_cpu *smp_cpu(unsigned index)
{
	return index < nr_cpus ? &cpus[index] : NULL;
}

struct smp_cpu *smp_this_cpu(void)
{
	uint32_t id = lapic_id();
	for (unsigned i = 0; i < nr_cpus; i++)
		if (cpus[i].apic_id == id)
			return &cpus[i];
	return NULL;
}

/* Why the trampoline cannot work here, or NULL. */
static const char *trampoline_unusable(void)
{
	uint64_t low = (uint64_t)SMP_TRAMPOLINE_VECTOR << 12;
	uint64_t high = ((uint64_t)SMP_TRAMPOLINE_VECTOR_ALT << 12) + PAGE_SIZE;
	if (!guest_boot_info.has_memory_map ||
	    !memory_usable_covers(guest_boot_info.memory_ranges, guest_boot_info.nr_memory_ranges,
				  low, high))
		return "the trampoline pages 10000h-11FFFh are not usable memory in the boot "
		       "memory map";
	if (read_cr3() >= IDENTITY_MAP_END || (uint64_t)boot_gdt >= IDENTITY_MAP_END)
		return "the page tables or the GDT lie above 4 GiB, out of the trampoline's reach";
	if ((uint64_t)(smp_trampoline_end - smp_trampoline_start) > TRAMPOLINE_DATA)
		return "the trampoline code overlaps its data block";
	return NULL;
}

enum probe_status smp_require(struct probe_run *run, unsigned n)
{
	char reason[PROBE_REASON_MAX];
	if (smp_init(reason, sizeof(reason)) < 0)
		return probe_skip(run, "needs %u+ CPUs and cannot count them: %s", n, reason);
	if (smp_count() < n)
		return probe_skip(run, "needs %u+ CPUs: the MADT lists %u", n, smp_count());
	const char *why = trampoline_unusable();
	if (why)
		return probe_skip(run, "%s", why);
	return PROBE_PASS;
}

void smp_trampoline_install(uint8_t vector, struct smp_cpu *cpu)
{
	uint8_t *page = (uint8_t *)((uint64_t)vector << 12);
	uint32_t base = (uint32_t)(uint64_t)page;
	size_t code = (size_t)(smp_trampoline_end - smp_trampoline_start);
	memcpy(page, smp_trampoline_start, code);
	memset(page + TRAMPOLINE_DATA, 0, PAGE_SIZE - TRAMPOLINE_DATA);
	put32(page, TRAMPOLINE_DATA + I_CR3, (uint32_t)read_cr3());
	put32(page, TRAMPOLINE_DATA + I_CR4, (uint32_t)CR4_PAE);
	put32(page, TRAMPOLINE_DATA + I_CR0, (uint32_t)read_cr0());
	put32(page, TRAMPOLINE_DATA + I_EFER, (uint32_t)(EFER_LME | (rdmsr(MSR_EFER) & EFER_NXE)));
	*(volatile uint16_t *)(page + TRAMPOLINE_DATA + I_GDTR) = SMP_GDT_ENTRIES * 8 - 1;
	put32(page, TRAMPOLINE_DATA + I_GDTR + 2, (uint32_t)(uint64_t)boot_gdt);
	put32(page, TRAMPOLINE_DATA + I_JMP32,
	      base + (uint32_t)(smp_trampoline_pm32 - smp_trampoline_start));
	*(volatile uint16_t *)(page + TRAMPOLINE_DATA + I_JMP32 + 4) = GDT_CODE32;
	put32(page, TRAMPOLINE_DATA + I_JMP64,
	      base + (uint32_t)(smp_trampoline_lm64 - smp_trampoline_start));
	*(volatile uint16_t *)(page + TRAMPOLINE_DATA + I_JMP64 + 4) = GDT_CODE64;
	put64(page, TRAMPOLINE_DATA + I_STACK, (uint64_t)&cpu->stack[SMP_STACK_SIZE]);
	put64(page, TRAMPOLINE_DATA + I_CPU, (uint64_t)cpu);
	put64(page, TRAMPOLINE_DATA + I_ENTRY, (uint64_t)smp_ap_main);
	__asm__ volatile("mfence" ::: "memory");
}

void smp_trampoline_entry_state(uint8_t vector, struct smp_entry_state *out)
{
	const volatile uint8_t *data = (const uint8_t *)((uint64_t)vector << 12) + TRAMPOLINE_DATA;
	uint8_t *dst = (uint8_t *)out;
	for (size_t i = 0; i < sizeof(*out); i++)
		dst[i] = data[i];
}

static bool is_online(void *arg)
{
	return ((struct smp_cpu *)arg)->online != 0;
}

bool smp_wait_online(unsigned index, uint64_t timeout_us)
{
	return delay_poll(is_online, &cpus[index], timeout_us, POLL_STEP_US);
}

static int send(uint32_t apic_id, uint32_t command, const char *what, char *reason,
		size_t size)
{
	if (lapic_send_ipi(apic_id, command))
		return 0;
	format_buf(reason, size, "the %s IPI to APIC ID %u stayed pending (ICR %#x)", what,
		   apic_id, lapic_read(LAPIC_ICR_LOW));
	return -1;
}

static int wait_started(unsigned index, uint8_t vector, struct smp_entry_state *entry,
			char *reason, size_t size)
{
	struct smp_cpu *c = &cpus[index];
	if (!smp_wait_online(index, ONLINE_TIMEOUT_US)) {
		struct smp_entry_state s;
		smp_trampoline_entry_state(vector, &s);
		format_buf(reason, size, "AP %u (APIC ID %u) did not reach long mode within "
			   "%u ms (trampoline entered %u times)", index, c->apic_id,
			   ONLINE_TIMEOUT_US / 1000, s.entries);
		return -1;
	}
	if (entry)
		smp_trampoline_entry_state(vector, entry);
	return 0;
}

int smp_start(unsigned index, uint8_t vector, struct smp_entry_state *entry, char *reason,
	      size_t size)
{
	if (index == 0 || index >= nr_cpus) {
		format_buf(reason, size, "no AP %u (%u CPUs)", index, nr_cpus);
		return -1;
	}
	struct smp_cpu *c = &cpus[index];
	c->online = 0;
	c->stop = 0;
	c->interrupts = 0;
	smp_trampoline_install(vector, c);
	if (send(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT, "INIT", reason, size) < 0)
		return -1;
	delay_us(INIT_TO_SIPI_US);
	/* The mailbox is emptied only now: an AP still in its loop would have run its last
	 * function again (done reset under its feet), and one the INIT stopped in the middle
	 * of a function would run it again after the restart (request != done). */
	c->done = c->request;
	if (send(c->apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | vector, "startup", reason, size) < 0)
		return -1;
	delay_us(SIPI_TO_SIPI_US);
	if (send(c->apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | vector, "second startup", reason,
		 size) < 0)
		return -1;
	return wait_started(index, vector, entry, reason, size);
}

int smp_sipi(unsigned index, uint8_t vector, struct smp_entry_state *entry, char *reason,
	     size_t size)
{
	struct smp_cpu *c = &cpus[index];
	c->online = 0;
	c->stop = 0;
	c->done = c->request; /* the AP waits for SIPI: its loop is gone */
	smp_trampoline_install(vector, c);
	if (send(c->apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | vector, "startup", reason, size) < 0)
		return -1;
	return wait_started(index, vector, entry, reason, size);
}

uint64_t smp_ap_init_self(void *arg)
{
	struct smp_cpu *self = arg;
	uint32_t id = lapic_id();
	self->self_init = SMP_SELF_INIT_SENT;
	__asm__ volatile("mfence" ::: "memory");
	lapic_send_ipi(id, ICR_INIT | ICR_LEVEL_ASSERT);
	while (!self->stop)
		cpu_relax();
	self->self_init = SMP_SELF_INIT_WENT_ON;
	return 1;
}

static bool self_init_sent(void *arg)
{
	return ((struct smp_cpu *)arg)->self_init != SMP_SELF_INIT_NONE;
}

static bool online_or_went_on(void *arg)
{
	struct smp_cpu *c = arg;
	return c->online || c->self_init == SMP_SELF_INIT_WENT_ON;
}

int smp_restart_after_self_init(unsigned index, uint8_t vector, struct smp_entry_state *entry,
				unsigned *sipis, char *reason, size_t size)
{
	unsigned sent = 0;
	if (sipis)
		*sipis = 0;
	if (index == 0 || index >= nr_cpus) {
		format_buf(reason, size, "no AP %u (%u CPUs)", index, nr_cpus);
		return -1;
	}
	struct smp_cpu *c = &cpus[index];
	if (!delay_poll(self_init_sent, c, ONLINE_TIMEOUT_US, POLL_STEP_US)) {
		c->stop = 1;
		format_buf(reason, size, "AP %u did not reach its INIT to itself within %u ms",
			   index, ONLINE_TIMEOUT_US / 1000);
		return -1;
	}
	delay_us(INIT_TO_SIPI_US);
	/* from here an AP the INIT left running returns and says so */
	c->stop = 1;
	c->online = 0;
	smp_trampoline_install(vector, c);
	/* the AP's loop is gone: the restarted one must not run smp_ap_init_self again */
	c->done = c->request;
	uint32_t sipi = ICR_STARTUP | ICR_LEVEL_ASSERT | vector;
	for (unsigned waited = 0; waited < ONLINE_TIMEOUT_US && !online_or_went_on(c);
	     waited += SIPI_ROUND_US) {
		if (send(c->apic_id, sipi, "startup", reason, size) < 0)
			return -1;
		delay_us(SIPI_TO_SIPI_US);
		if (send(c->apic_id, sipi, "second startup", reason, size) < 0)
			return -1;
		sent += 2;
		if (sipis)
			*sipis = sent;
		delay_poll(online_or_went_on, c, SIPI_ROUND_US, POLL_STEP_US);
	}
	if (c->self_init == SMP_SELF_INIT_WENT_ON) {
		format_buf(reason, size, "AP %u went on running after its INIT to its own APIC ID "
			   "%u", index, c->apic_id);
		return -1;
	}
	if (!c->online) {
		struct smp_entry_state s;
		smp_trampoline_entry_state(vector, &s);
		format_buf(reason, size, "AP %u (APIC ID %u) did not reach long mode within %u ms "
			   "of its INIT to itself and %u startup IPIs (trampoline entered %u "
			   "times)", index, c->apic_id, ONLINE_TIMEOUT_US / 1000, sent, s.entries);
		return -1;
	}
	c->stop = 0;
	if (entry)
		smp_trampoline_entry_state(vector, entry);
	return 0;
}

bool smp_post(unsigned index, smp_fn fn, void *arg)
{
	if (index == 0 || index >= nr_cpus || !cpus[index].online)
		return false;
	struct smp_cpu *c = &cpus[index];
	c->fn = fn;
	c->arg = arg;
	c->stop = 0;
	c->self_init = SMP_SELF_INIT_NONE;
	__asm__ volatile("mfence" ::: "memory");
	c->request = c->request + 1;
	return true;
}

static bool is_done(void *arg)
{
	struct smp_cpu *c = arg;
	return c->done == c->request;
}

bool smp_wait_result(unsigned index, uint64_t *result, uint64_t timeout_us)
{
	struct smp_cpu *c = &cpus[index];
	if (!delay_poll(is_done, c, timeout_us, POLL_STEP_US)) {
		c->stop = 1;
		return false;
	}
	if (result)
		*result = c->result;
	return true;
}

bool smp_call(unsigned index, smp_fn fn, void *arg, uint64_t *result, uint64_t timeout_us)
{
	return smp_post(index, fn, arg) && smp_wait_result(index, result, timeout_us);
}

void smp_interrupt_hook(uint64_t vector)
{
	struct smp_cpu *c = smp_this_cpu();
	if (c) {
		c->last_vector = (uint32_t)vector;
		c->interrupts = c->interrupts + 1;
	}
	lapic_eoi();
}

void smp_ap_main(struct smp_cpu *cpu)
{
	/* The boot GDT's descriptors with this CPU's own TSS in the TSS slot. */
	for (unsigned i = 0; i < GDT_TSS_INDEX; i++)
		cpu->gdt[i] = boot_gdt[i];
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gdtr = { sizeof(cpu->gdt) - 1, (uint64_t)cpu->gdt };
	__asm__ volatile("lgdt %0" ::"m"(gdtr) : "memory");
	tss_init_cpu(&cpu->tss, cpu->gdt);
	idt_load();
	lapic_enable();
	cpu->in_long_mode_apic_id = lapic_id();
	__asm__ volatile("mfence" ::: "memory");
	cpu->online = 1;
	for (;;) {
		uint32_t request = cpu->request;
		if (request == cpu->done) {
			cpu_relax();
			continue;
		}
		__asm__ volatile("mfence" ::: "memory");
		cpu->result = cpu->fn(cpu->arg);
		__asm__ volatile("mfence" ::: "memory");
		cpu->done = request;
	}
}
