#include "lib/user_mode.h"

#include "core/string.h"
#include "lib/cpu.h"

#define PTE_P (1ull << 0)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_LA57 (1ull << 12)
#define PAGE 4096ull

/* SDM vol.3A 3.4.5: a 64-bit code segment (L = 1) and a data segment, DPL 3. */
#define DESC_USER_CODE64 0x00affa000000ffffull
#define DESC_USER_DATA 0x00cff2000000ffffull
#define GDT_MAX 32
#define RFLAGS_FIXED (1ull << 1)
#define TSS_RSP0_OFFSET 4 /* SDM vol.3A 8.7, Figure 8-11 */

struct descriptor_table {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint64_t user_gdt[GDT_MAX] __attribute__((aligned(16)));
static uint8_t user_stack[PAGE] __attribute__((aligned(4096)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));
static uint16_t code_selector;

/* Entries changed for one run, restored in reverse order. */
#define SAVED_MAX 16
struct saved {
	uint64_t *entry[SAVED_MAX];
	uint64_t value[SAVED_MAX];
	unsigned count;
};

static bool save(struct saved *s, uint64_t *entry)
{
	for (unsigned i = 0; i < s->count; i++)
		if (s->entry[i] == entry)
			return true;
	if (s->count == SAVED_MAX)
		return false;
	s->entry[s->count] = entry;
	s->value[s->count++] = *entry;
	*entry |= PTE_US;
	return true;
}

/* U on every level down to the leaf that maps the page (the runtime's page tables are
 * identity mapped, 4-level). */
static bool make_user(struct saved *s, uint64_t address)
{
	uint64_t table = read_cr3() & PTE_ADDR;
	for (int level = 4; level >= 1; level--) {
		uint64_t *entry = (uint64_t *)table + ((address >> (12 + 9 * (level - 1))) & 511);
		if (!(*entry & PTE_P) || !save(s, entry))
			return false;
		if (level == 1 || (*entry & PTE_PS))
			return true;
		table = *entry & PTE_ADDR;
	}
	return false;
}

static void flush_tlb(void)
{
	__asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3" ::: "rax", "memory");
}

struct entry_frame {
	uint64_t rip, cs, rflags, rsp, ss, rax, rbx, rcx, rdx;
};

static void enter(void *arg)
{
	__asm__ volatile("pushq 32(%0)\n\t"
			 "pushq 24(%0)\n\t"
			 "pushq 16(%0)\n\t"
			 "pushq 8(%0)\n\t"
			 "pushq 0(%0)\n\t"
			 "mov 40(%0), %%rax\n\t"
			 "mov 48(%0), %%rbx\n\t"
			 "mov 56(%0), %%rcx\n\t"
			 "mov 64(%0), %%rdx\n\t"
			 "iretq" ::"S"(arg)
			 : "memory");
	__builtin_unreachable();
}

uint16_t user_mode_code_selector(void)
{
	return code_selector;
}

bool user_mode_run(const void *code, size_t size, const struct user_regs *regs,
		   struct exc_record *record, const char **why)
{
	if (read_cr4() & (CR4_SMEP | CR4_SMAP)) {
		*why = "CR4.SMEP or CR4.SMAP is set: the runtime's own pages would become user pages";
		return false;
	}
	if (read_cr4() & CR4_LA57) {
		*why = "5-level paging is on";
		return false;
	}
	struct descriptor_table old_gdt, new_gdt;
	uint16_t tr, ds, es, fs, gs;
	__asm__ volatile("sgdt %0" : "=m"(old_gdt));
	__asm__ volatile("str %0" : "=r"(tr));
	__asm__ volatile("mov %%ds, %0\n\tmov %%es, %1\n\tmov %%fs, %2\n\tmov %%gs, %3"
			 : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
	/* The descriptors in use: the selectors loaded now and the TSS's two slots (the
	 * limit itself may be FFFFH: a VMX exit sets it so, SDM vol.3C 27.5.2). */
	uint16_t cs, ss;
	__asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
	const uint16_t selectors[] = { cs, ss, ds, es, fs, gs };
	unsigned entries = tr / 8u + 2;
	for (unsigned i = 0; i < sizeof(selectors) / sizeof(selectors[0]); i++)
		if (selectors[i] / 8u + 1 > entries)
			entries = selectors[i] / 8u + 1;
	if (!tr || entries > (old_gdt.limit + 1u) / 8 || entries + 2 > GDT_MAX) {
		*why = "no TSS is loaded, or the descriptors in use lie beyond the GDT's limit or "
		       "too far to copy";
		return false;
	}
	memcpy(user_gdt, (const void *)old_gdt.base, entries * 8);
	user_gdt[entries] = DESC_USER_DATA;
	user_gdt[entries + 1] = DESC_USER_CODE64;
	uint16_t data_selector = (uint16_t)(entries * 8 | 3);
	code_selector = (uint16_t)((entries + 1) * 8 | 3);
	new_gdt.limit = (uint16_t)((entries + 2) * 8 - 1);
	new_gdt.base = (uint64_t)user_gdt;

	/* The TSS (a 16-byte system descriptor at TR): its base, then RSP0. */
	const uint64_t *tss_desc = (const uint64_t *)old_gdt.base + tr / 8;
	uint64_t tss_base = ((tss_desc[0] >> 16) & 0xffffff) | (((tss_desc[0] >> 56) & 0xff) << 24) |
			    (tss_desc[1] << 32);
	uint64_t *rsp0 = (uint64_t *)(tss_base + TSS_RSP0_OFFSET); /* unaligned: packed TSS */
	uint64_t old_rsp0;
	memcpy(&old_rsp0, rsp0, sizeof(old_rsp0));
	uint64_t new_rsp0 = (uint64_t)&kernel_stack[sizeof(kernel_stack)];

	struct saved saved = { .count = 0 };
	bool mapped = true;
	for (uint64_t page = (uint64_t)code & ~(PAGE - 1); page < (uint64_t)code + size; page += PAGE)
		mapped = mapped && make_user(&saved, page);
	mapped = mapped && make_user(&saved, (uint64_t)user_stack);
	bool raised = false;
	if (mapped) {
		flush_tlb();
		memcpy(rsp0, &new_rsp0, sizeof(new_rsp0));
		__asm__ volatile("lgdt %0" ::"m"(new_gdt) : "memory");
		struct entry_frame frame = {
			.rip = (uint64_t)code, .cs = code_selector, .rflags = RFLAGS_FIXED,
			.rsp = (uint64_t)&user_stack[sizeof(user_stack)], .ss = data_selector,
			.rax = regs->rax, .rbx = regs->rbx, .rcx = regs->rcx, .rdx = regs->rdx,
		};
		raised = exc_try(record, enter, &frame);
		__asm__ volatile("lgdt %0" ::"m"(old_gdt) : "memory");
		__asm__ volatile("mov %0, %%ds\n\tmov %1, %%es\n\tmov %2, %%fs\n\tmov %3, %%gs"
				 ::"r"(ds), "r"(es), "r"(fs), "r"(gs) : "memory");
		memcpy(rsp0, &old_rsp0, sizeof(old_rsp0));
	}
	while (saved.count) {
		saved.count--;
		*saved.entry[saved.count] = saved.value[saved.count];
	}
	flush_tlb();
	if (!mapped) {
		*why = "a page of the code or its stack is not mapped through the runtime's 4-level tables";
		return false;
	}
	if (!raised) {
		*why = "the code at CPL 3 returned without an exception (impossible by construction)";
		return false;
	}
	return true;
}
