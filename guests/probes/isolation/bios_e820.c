/* isolation/bios-e820: the memory map a guest gets from the BIOS in real mode (INT 15h
 * E820h, ACPI 6.4 15.1; what Xen asks by default) is the one its Multiboot loader gave
 * it. Under nestbed both come from nestbed, and nestbed's own ranges are reserved in
 * both: a guest that trusted the BIOS used to be told nestbed's memory was usable RAM.
 * The probe leaves long mode for real mode (lib/realmode.h), walks E820h with the
 * continuation in EBX (24-byte buffer: ACPI 3.0 attributes, an entry without the
 * "enabled" bit is ignored), and compares it entry by entry with the Multiboot map: as
 * they are under nestbed (one list makes both), sorted and merged bare (a loader may
 * merge or reorder the BIOS's entries). IVT[15h] must point into the BIOS ROM area or
 * into conventional memory that both maps reserve and the BDA's base-memory size leaves
 * out (under nestbed, its hook's pages); anywhere else there is no BIOS handler to call
 * (UEFI): SKIP. Under nestbed E801h and
 * 88h agree with the usable memory that runs on from 1 MiB (E801h: KiB up to 16 MiB,
 * 64 KiB blocks above; 88h: KiB, at most 63 MiB). */
#include "core/string.h"
#include "lib/boot_info.h"
#include "lib/cpu.h"
#include "lib/memory_map.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"
#include "lib/realmode.h"

#define E820_FUNCTION 0xE820u
#define E820_SMAP 0x534D4150u
#define E820_ENTRY_MIN 20u
#define E820_ENTRY_ACPI3 24u
#define E820_ATTR_ENABLED 1u
#define E801_FUNCTION 0xE801u
#define FN_88 0x8800u
#define INT15 0x15
#define IVT_INT15 (INT15 * 4)
#define BDA_BASE_MEMORY 0x413 /* BIOS data area: base memory in KiB */
#define BIOS_AREA_START 0xA0000ull /* video memory and ROMs up to 1 MiB */
#define LOW_1M 0x100000ull
#define KIB 1024ull
#define MIB (1024ull * KIB)
#define MAX_88_KIB (63ull * 1024)
#define MAX_ENTRIES GUEST_MAX_MEMORY_RANGES

struct e820_entry {
	uint64_t base, length;
	uint32_t type, attributes;
} __attribute__((packed));

static bool under_nestbed(void)
{
	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_VERSION, 0, 0, 0 };
	uint64_t vector = 0;
	return nestbed_hypercall(&r, &vector) == NESTBED_HC_ANSWERED && r.rax == 0;
}

/* IVT[15h] as segment:offset -> linear, and the BDA's base-memory size (KiB). Page 0 is
 * not mapped (the NULL guard): read through a temporary mapping of its page-table entry,
 * as isolation/l0-canary does. */
static uint64_t int15_handler(uint16_t *base_kib)
{
	const uint64_t mask = 0x000ffffffffff000ull;
	uint64_t *pml4 = (uint64_t *)(read_cr3() & mask);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & mask);
	uint64_t *pd = (uint64_t *)(pdpt[0] & mask);
	uint64_t *pt = (uint64_t *)(pd[0] & mask);
	uint64_t saved = pt[0];
	pt[0] = 0 | 1; /* present, read-only */
	__asm__ volatile("invlpg (%0)" ::"r"(0ull) : "memory");
	uint64_t address = IVT_INT15;
	__asm__("" : "+r"(address)); /* a real address, not a constant to fold */
	uint32_t vector = *(volatile uint32_t *)(uintptr_t)address;
	address = BDA_BASE_MEMORY;
	__asm__("" : "+r"(address));
	*base_kib = *(volatile uint16_t *)(uintptr_t)address;
	pt[0] = saved;
	__asm__ volatile("invlpg (%0)" ::"r"(0ull) : "memory");
	return ((uint64_t)(vector >> 16) << 4) + (vector & 0xffffu);
}

static const struct memory_range *range_at(const struct memory_range *m, unsigned n, uint64_t a)
{
	for (unsigned i = 0; i < n; i++)
		if (m[i].base <= a && a < memory_range_end(&m[i]))
			return &m[i];
	return NULL;
}

static void print_map(const char *what, const struct memory_range *m, unsigned n)
{
	diag("%s: %u entries", what, n);
	for (unsigned i = 0; i < n; i++)
		diag("  [%#llx-%#llx) %s", (unsigned long long)m[i].base,
		     (unsigned long long)memory_range_end(&m[i]), memory_type_name(m[i].type));
}

static struct memory_range bios_map[MAX_ENTRIES], loader_map[MAX_ENTRIES];

static enum probe_status compare(struct probe_run *run, const char *how,
				 const struct memory_range *a, unsigned na,
				 const struct memory_range *b, unsigned nb)
{
	unsigned i = memory_map_first_difference(a, na, b, nb);
	if (i == na && na == nb)
		return PROBE_PASS;
	print_map("INT 15h E820h", a, na);
	print_map("Multiboot", b, nb);
	if (i == na || i == nb)
		return probe_fail(run, "%s: E820h gave %u entries, Multiboot %u", how, na, nb);
	return probe_fail(run, "%s: entry %u: E820h [%#llx, +%#llx) type %u, Multiboot [%#llx, "
			  "+%#llx) type %u", how, i, (unsigned long long)a[i].base,
			  (unsigned long long)a[i].length, a[i].type, (unsigned long long)b[i].base,
			  (unsigned long long)b[i].length, b[i].type);
}

static enum probe_status check_e801_88(struct probe_run *run, const struct memory_range *m,
				       unsigned n)
{
	uint64_t end = MIB + memory_usable_run(m, n, MIB);
	if (end > 4096 * MIB)
		end = 4096 * MIB;
	uint64_t low = ((end < 16 * MIB ? end : 16 * MIB) - MIB) / KIB;
	uint64_t high = end > 16 * MIB ? (end - 16 * MIB) / (64 * KIB) : 0;
	struct realmode_regs r = { .eax = E801_FUNCTION };
	if (realmode_int(INT15, &r))
		return probe_fail(run, "could not leave or re-enter VMX operation around INT 15h");
	diag("E801h: CF %u AX %#x BX %#x CX %#x DX %#x", r.eflags & REALMODE_EFLAGS_CF,
	     r.eax & 0xffff, r.ebx & 0xffff, r.ecx & 0xffff, r.edx & 0xffff);
	EXPECT_EQ(run, "E801h CF", 0, r.eflags & REALMODE_EFLAGS_CF);
	EXPECT_EQ(run, "E801h AX (KiB from 1 to 16 MiB)", low, r.eax & 0xffff);
	EXPECT_EQ(run, "E801h CX (= AX)", low, r.ecx & 0xffff);
	EXPECT_EQ(run, "E801h BX (64 KiB blocks above 16 MiB)", high > 0xffff ? 0xffff : high,
		  r.ebx & 0xffff);
	EXPECT_EQ(run, "E801h DX (= BX)", high > 0xffff ? 0xffff : high, r.edx & 0xffff);
	uint64_t kib = (end - MIB) / KIB;
	r = (struct realmode_regs){ .eax = FN_88 };
	if (realmode_int(INT15, &r))
		return probe_fail(run, "could not leave or re-enter VMX operation around INT 15h");
	diag("88h: CF %u AX %#x", r.eflags & REALMODE_EFLAGS_CF, r.eax & 0xffff);
	EXPECT_EQ(run, "88h CF", 0, r.eflags & REALMODE_EFLAGS_CF);
	EXPECT_EQ(run, "88h AX (KiB above 1 MiB)", kib > MAX_88_KIB ? MAX_88_KIB : kib,
		  r.eax & 0xffff);
	return PROBE_PASS;
}

static enum probe_status bios_e820(struct probe_run *run)
{
	const struct guest_boot_info *boot = &guest_boot_info;
	if (boot->protocol != GUEST_BOOT_MULTIBOOT)
		return probe_skip(run, "booted by UEFI: there is no BIOS INT 15h to ask");
	if (!boot->has_memory_map || boot->memory_map_truncated)
		return probe_skip(run, "the loader gave no complete Multiboot memory map to compare "
				  "with");
	if (!memory_usable_covers(boot->memory_ranges, boot->nr_memory_ranges, REALMODE_BASE,
				  REALMODE_END))
		return probe_skip(run, "[%#x, %#x), where the real-mode code runs, is not usable "
				  "memory in the Multiboot map", REALMODE_BASE, REALMODE_END);
	bool nestbed = under_nestbed();
	/* A BIOS's INT 15h handler lies in its ROM (0xA0000-0xFFFFF) or in conventional
	 * memory the map reserves (a hook: memdisk, nestbed). Anything else is no BIOS
	 * handler (UEFI without a CSM leaves the IVT to chance): nothing to call. */
	uint16_t base_kib;
	uint64_t handler = int15_handler(&base_kib);
	const struct memory_range *at = range_at(boot->memory_ranges, boot->nr_memory_ranges,
						 handler);
	diag("IVT[15h] -> %#llx (%s), BDA base memory %u KiB", (unsigned long long)handler,
	     at ? memory_type_name(at->type) : "in no range", base_kib);
	bool in_rom = handler >= BIOS_AREA_START && handler < LOW_1M;
	bool hooked = handler >= 0x400 && handler < BIOS_AREA_START && at &&
		      at->type != MEMORY_USABLE;
	if (!in_rom && !hooked)
		return probe_skip(run, "IVT[15h] points to %#llx, neither BIOS ROM nor reserved "
				  "memory: no BIOS INT 15h handler to call (UEFI?)",
				  (unsigned long long)handler);
	if (hooked && base_kib * KIB > handler)
		return probe_fail(run, "IVT[15h] points to %#llx, below the BDA's top of base "
				  "memory (%u KiB): a guest may overwrite its BIOS's memory services",
				  (unsigned long long)handler, base_kib);

	unsigned n = 0, calls = 0;
	uint32_t continuation = 0, min_size = E820_ENTRY_ACPI3;
	struct e820_entry *buffer = (struct e820_entry *)(uintptr_t)REALMODE_BUFFER;
	do {
		if (calls++ == MAX_ENTRIES)
			return probe_fail(run, "E820h gave more than %u entries", MAX_ENTRIES);
		memset(buffer, 0xa5, sizeof(*buffer));
		struct realmode_regs r = { .eax = E820_FUNCTION, .ebx = continuation,
					   .ecx = E820_ENTRY_ACPI3, .edx = E820_SMAP,
					   .es = REALMODE_SEGMENT, .edi = REALMODE_BUFFER_OFFSET };
		if (realmode_int(INT15, &r))
			return probe_fail(run, "could not leave or re-enter VMX operation around "
					  "INT 15h");
		if (r.eflags & REALMODE_EFLAGS_CF) {
			if (n == 0 && !nestbed)
				return probe_skip(run, "the BIOS has no INT 15h E820h (CF set, AH %#x)",
						  (r.eax >> 8) & 0xff);
			if (n == 0 || nestbed) /* nestbed ends the walk with EBX = 0, never CF */
				return probe_fail(run, "E820h call %u (EBX %#x): CF set, AH %#x", calls,
						  continuation, (r.eax >> 8) & 0xff);
			break; /* some BIOSes end the walk with CF (ACPI 6.4 15.1) */
		}
		EXPECT_EQ(run, "E820h EAX ('SMAP')", E820_SMAP, r.eax);
		if (r.ecx < E820_ENTRY_MIN || r.ecx > E820_ENTRY_ACPI3)
			return probe_fail(run, "E820h ECX (bytes returned): expected 20..24, observed %u",
					  r.ecx);
		min_size = r.ecx < min_size ? r.ecx : min_size;
		EXPECT_EQ(run, "E820h ES (unchanged)", REALMODE_SEGMENT, r.es);
		EXPECT_EQ(run, "E820h DI (unchanged)", REALMODE_BUFFER_OFFSET, r.edi & 0xffff);
		if (r.ecx < E820_ENTRY_ACPI3 || (buffer->attributes & E820_ATTR_ENABLED))
			bios_map[n++] = (struct memory_range){ buffer->base, buffer->length,
							       buffer->type };
		continuation = r.ebx;
	} while (continuation);

	unsigned nl = boot->nr_memory_ranges;
	memcpy(loader_map, boot->memory_ranges, nl * sizeof(loader_map[0]));
	enum probe_status s;
	if (nestbed) {
		s = compare(run, "under nestbed, entry by entry", bios_map, n, loader_map, nl);
		if (s != PROBE_PASS)
			return s;
	}
	unsigned nb = memory_map_normalize(bios_map, n);
	nl = memory_map_normalize(loader_map, nl);
	s = compare(run, "sorted and merged", bios_map, nb, loader_map, nl);
	if (s != PROBE_PASS)
		return s;
	diag("E820h: %u entries (%u sorted and merged), as the Multiboot map", n, nb);

	const struct memory_range *in_bios = range_at(bios_map, nb, handler);
	if (in_bios && in_bios->type == MEMORY_USABLE)
		return probe_fail(run, "IVT[15h] points to %#llx, usable memory by E820h: a "
				  "guest may overwrite its BIOS's memory services",
				  (unsigned long long)handler);
	if (nestbed) {
		/* nestbed answers a 24-byte buffer with ACPI 3.0 entries */
		EXPECT_EQ(run, "E820h ECX under nestbed, smallest", E820_ENTRY_ACPI3, min_size);
		return check_e801_88(run, loader_map, nl);
	}
	return PROBE_PASS;
}
PROBE("isolation/bios-e820", bios_e820);
