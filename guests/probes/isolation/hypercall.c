/* isolation/hypercall-*: nestbed's control interface (src/core/hypercall_abi.h) answers
 * the primary guest's kernel only. A user process (CPL 3) and an L2 get what the CPU
 * gives without nestbed, and whoever calls it, nestbed writes into a buffer only as the
 * caller's own CPL-0 code could: through its paging, honouring R/W and CR0.WP.
 *
 * - hypercall-cpl3: VMMCALL/VMCALL at CPL 3 with nestbed's magic names a kernel buffer:
 *   #UD (APM vol.3 VMMCALL: #UD unless intercepted, at any CPL; SDM vol.2B VMCALL: #UD
 *   outside VMX operation, #GP(0) at CPL > 0 in VMX root operation), the buffer
 *   unchanged. Architectural: asserted bare too.
 * - hypercall-from-l2: an L2 makes the hypercall. L1 intercepting it (SVM) or on VT-x
 *   (VMCALL always exits, SDM vol.3C 26.1.2): exit 0x81 / reason 18 at the instruction
 *   with length 3; SVM without the VMMCALL intercept: #UD in L2, as exit 46h when L1
 *   intercepts #UD, or delivered through L2's IDT. No buffer changes. Architectural:
 *   asserted bare too.
 * - hypercall-readonly-buffer: L1 at CPL 0 names buffers it mapped read-only (at the
 *   leaf or an upper level, or across a page boundary) or not at all:
 *   NESTBED_HC_ERROR, nothing written; a writable mapping, and a read-only one with
 *   CR0.WP = 0, are written (the CPU's own CPL-0 write would succeed). SKIP bare. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/mhv_backend.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"
#include "lib/user_mode.h"

#define PAGE_SIZE 4096
#define FILL 0xa5
#define HC_COUNTERS (NESTBED_HC_MAGIC | NESTBED_HC_COUNTERS)
#define HC_CANARY (NESTBED_HC_MAGIC | NESTBED_HC_CANARY)

/* A page that only nestbed could change; checked after every call. */
static bool page_is(const uint8_t *page, uint8_t fill, size_t *first_bad)
{
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (page[i] != fill) {
			*first_bad = i;
			return false;
		}
	return true;
}

#define EXPECT_PAGE_UNCHANGED(run, what, page)                                            \
	do {                                                                              \
		size_t bad_;                                                              \
		if (!page_is((page), FILL, &bad_))                                        \
			return probe_fail((run), "%s: expected the page at %#llx unchanged "  \
					  "(all %#x), observed byte %#zx = %#x", (what),      \
					  (unsigned long long)(uint64_t)(page), FILL, bad_,   \
					  (page)[bad_]);                                      \
	} while (0)

/* ---- isolation/hypercall-cpl3 ---- */

extern const char isolation_user_vmmcall[], isolation_user_vmcall[], isolation_user_end[];
__asm__(".pushsection .text\n\t.balign 64\n"
	"isolation_user_vmmcall:\n\tvmmcall\n\tud2\n"
	"isolation_user_vmcall:\n\tvmcall\n\tud2\n"
	"isolation_user_end:\n\t.popsection");

static uint8_t kernel_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void do_vmptrst(void *arg)
{
	__asm__ volatile("vmptrst %0" : "=m"(*(uint64_t *)arg)::"memory");
}

/* VMPTRST raises #UD outside VMX operation (SDM vol.3C 31.3). */
static bool in_vmx_operation(void)
{
	uint64_t pa;
	struct exc_record r;
	return !exc_try(&r, do_vmptrst, &pa);
}

static enum probe_status hypercall_cpl3(struct probe_run *run)
{
	bool intel = cpu_vendor() == CPU_VENDOR_INTEL;
	const char *code = intel ? isolation_user_vmcall : isolation_user_vmmcall;
	uint64_t want_vector = EXC_UD;
	if (intel && in_vmx_operation())
		want_vector = EXC_GP; /* VMCALL at CPL > 0 in VMX root operation */
	static const uint64_t functions[] = { HC_COUNTERS, HC_CANARY };
	for (unsigned i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
		memset(kernel_page, FILL, sizeof(kernel_page));
		struct user_regs regs = { functions[i], (uint64_t)kernel_page, PAGE_SIZE, 0 };
		struct exc_record r;
		const char *why = "";
		if (!user_mode_run(code, (size_t)(isolation_user_end - code), &regs, &r, &why))
			return probe_fail(run, "cannot run code at CPL 3: %s", why);
		diag("%s at CPL 3 (CS %#x), RAX %#llx RBX %#llx: %s error %#llx at %#llx",
		     intel ? "VMCALL" : "VMMCALL", user_mode_code_selector(),
		     (unsigned long long)functions[i], (unsigned long long)regs.rbx,
		     exception_mnemonic(r.vector), (unsigned long long)r.error_code,
		     (unsigned long long)r.rip);
		EXPECT_EQ(run, want_vector == EXC_UD ? "vector (#UD)" : "vector (#GP in VMX root operation)",
			  want_vector, r.vector);
		EXPECT_EQ(run, "error code", 0, r.error_code);
		EXPECT_EQ(run, "RIP of the exception (the hypercall instruction)", (uint64_t)code, r.rip);
		EXPECT_PAGE_UNCHANGED(run, "the kernel buffer the CPL-3 call named", kernel_page);
	}
	return PROBE_PASS;
}
PROBE("isolation/hypercall-cpl3", hypercall_cpl3);

/* ---- isolation/hypercall-from-l2 ---- */

static uint8_t l2_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* L2 asks nestbed for its counters into l2_page. */
extern const char isolation_l2_vmmcall_at[], isolation_l2_vmcall_at[], isolation_l2_ud_handler[];
MHV_L2_ASM(isolation_l2_vmmcall,
	   "movabs $0x4E45535442454401, %rax\n\tlea l2_page(%rip), %rbx\n\tmov $4096, %ecx\n"
	   "isolation_l2_vmmcall_at:\n\tvmmcall");
MHV_L2_ASM(isolation_l2_vmcall,
	   "movabs $0x4E45535442454401, %rax\n\tlea l2_page(%rip), %rbx\n\tmov $4096, %ecx\n"
	   "isolation_l2_vmcall_at:\n\tvmcall");
/* L2's #UD handler for the case without intercepts: stops at an intercepted HLT, the
 * exception frame on L2's stack. */
__asm__(".pushsection .text\n\t.balign 16\n"
	"isolation_l2_ud_handler:\n\thlt\n\tjmp isolation_l2_ud_handler\n\t.popsection");
_Static_assert(HC_COUNTERS == 0x4E45535442454401ull, "the L2 snippets' RAX");

static enum probe_status from_l2_intercepted(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	bool svm = vm->vendor == MHV_VENDOR_SVM;
	void (*code)(void *) = svm ? isolation_l2_vmmcall : isolation_l2_vmcall;
	const char *at = svm ? isolation_l2_vmmcall_at : isolation_l2_vmcall_at;
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HYPERCALL, true));
	memset(l2_page, FILL, sizeof(l2_page));
	mhv_l2_call(vm, code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2 hypercall, L1 intercepting it", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_HYPERCALL, (uint64_t)at, MHV_HYPERCALL_LEN));
	EXPECT_EQ(run, "L2's RAX at the exit (nestbed's magic, untouched)", HC_COUNTERS, e.rax);
	EXPECT_PAGE_UNCHANGED(run, "the buffer L2 named", l2_page);
	mhv_advance_rip(vm, MHV_HYPERCALL_LEN);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_PAGE_UNCHANGED(run, "the buffer L2 named", l2_page);
	return PROBE_PASS;
}

/* SVM, L1 intercepting #UD but not VMMCALL: exit 46h at the VMMCALL. */
static enum probe_status from_l2_ud_intercepted(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HYPERCALL, false));
	mhv_intercept_exception(vm, EXC_UD, true);
	memset(l2_page, FILL, sizeof(l2_page));
	mhv_l2_call(vm, isolation_l2_vmmcall, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2 VMMCALL, L1 intercepting #UD only", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM,
		    "SVM EXITCODE (46h: #UD, not 81h: VMMCALL is not intercepted)",
		  0x46, e.exitcode);
	EXPECT_EQ(run, "L2's RIP at the exit (the VMMCALL)", (uint64_t)isolation_l2_vmmcall_at, e.rip);
	EXPECT_EQ(run, "L2's RAX at the exit", HC_COUNTERS, e.rax);
	EXPECT_PAGE_UNCHANGED(run, "the buffer L2 named", l2_page);
	/* the "done" stub makes a VMMCALL too: intercept it again */
	mhv_intercept_exception(vm, EXC_UD, false);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HYPERCALL, true));
	mhv_advance_rip(vm, MHV_HYPERCALL_LEN);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_PAGE_UNCHANGED(run, "the buffer L2 named", l2_page);
	return PROBE_PASS;
}

/* SVM, neither VMMCALL nor #UD intercepted: #UD through L2's IDT. */
static enum probe_status from_l2_not_intercepted(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HYPERCALL, false));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
	struct mhv_idt_gate saved = mhv_l2_idt[EXC_UD];
	uint64_t handler = (uint64_t)isolation_l2_ud_handler;
	mhv_l2_idt[EXC_UD].low = (saved.low & 0x0000ffffffff0000ull) | (handler & 0xffff) |
				 (((handler >> 16) & 0xffff) << 48);
	mhv_l2_idt[EXC_UD].high = handler >> 32;
	memset(l2_page, FILL, sizeof(l2_page));
	mhv_l2_call(vm, isolation_l2_vmmcall, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_l2_idt[EXC_UD] = saved;
	mhv_diag_exit("L2 VMMCALL, no intercept", &e);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_HLT, handler, 1));
	/* L2's #UD frame: RIP (the VMMCALL: a fault), CS, RFLAGS, RSP, SS */
	const uint64_t *frame = (const uint64_t *)mhv_get(vm, MHV_REG_RSP);
	EXPECT_EQ(run, "RIP in L2's #UD frame (the VMMCALL)", (uint64_t)isolation_l2_vmmcall_at,
		  frame[0]);
	EXPECT_PAGE_UNCHANGED(run, "the buffer L2 named", l2_page);
	/* resume L2 past the VMMCALL, as its handler would, with the done stub's VMMCALL
	 * intercepted again */
	mhv_set(vm, MHV_REG_RSP, frame[3]); /* the RSP it pushed (64-bit delivery aligns) */
	mhv_set(vm, MHV_REG_RIP, (uint64_t)isolation_l2_vmmcall_at + MHV_HYPERCALL_LEN);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HYPERCALL, true));
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_PAGE_UNCHANGED(run, "the buffer L2 named", l2_page);
	return PROBE_PASS;
}

static enum probe_status hypercall_from_l2(struct probe_run *run)
{
	MHV_CHECK(from_l2_intercepted(run));
	if (mhv_vendor() != MHV_VENDOR_SVM) {
		diag("VT-x: VMCALL always exits in VMX non-root operation: no case without the intercept");
		return PROBE_PASS;
	}
	MHV_CHECK(from_l2_ud_intercepted(run));
	return from_l2_not_intercepted(run);
}
PROBE("isolation/hypercall-from-l2", hypercall_from_l2);

/* ---- isolation/hypercall-readonly-buffer ---- */

/* An alias of two pages at linear ALIAS_BASE (PML4 slot 1, unused by the runtime's
 * identity map), through tables of the probe's own. */
#define ALIAS_BASE 0x8000000000ull
#define PML4_SLOT 1
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define CR0_WP (1ull << 16)
static uint64_t alias_pdpt[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t alias_pd[512] __attribute__((aligned(PAGE_SIZE)));
static uint64_t alias_pt[512] __attribute__((aligned(PAGE_SIZE)));
static uint8_t alias_pages[2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static uint64_t *pml4_slot(void)
{
	return (uint64_t *)(read_cr3() & 0x000ffffffffff000ull) + PML4_SLOT;
}

static void write_cr0(uint64_t value)
{
	__asm__ volatile("mov %0, %%cr0" ::"r"(value) : "memory");
}

static void flush_tlb(void)
{
	__asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3" ::: "rax", "memory");
}

static void map_alias(uint64_t pd_flags, uint64_t pte0, uint64_t pte1)
{
	alias_pd[0] = (uint64_t)alias_pt | pd_flags;
	alias_pt[0] = pte0;
	alias_pt[1] = pte1;
	memset(alias_pages, FILL, sizeof(alias_pages));
	flush_tlb();
}

struct ro_case {
	const char *what;
	uint64_t pd_flags, pte0, pte1; /* pte: flags; the page is alias_pages[n] */
	uint64_t offset;               /* RBX = ALIAS_BASE + offset */
	bool wp;                       /* CR0.WP during the call */
	bool written;                  /* a CPU's own CPL-0 write would succeed */
};

static enum probe_status ro_run(struct probe_run *run, const struct ro_case *c, uint64_t function)
{
	uint64_t p0 = (uint64_t)alias_pages[0], p1 = (uint64_t)alias_pages[1];
	map_alias(c->pd_flags, c->pte0 ? p0 | c->pte0 : 0, c->pte1 ? p1 | c->pte1 : 0);
	uint64_t cr0 = read_cr0();
	if (!c->wp)
		write_cr0(cr0 & ~CR0_WP);
	struct nestbed_hc_regs r = { function, ALIAS_BASE + c->offset, 2 * PAGE_SIZE, 0 };
	uint64_t vector = 0;
	enum nestbed_hc_outcome outcome = nestbed_hypercall(&r, &vector);
	write_cr0(cr0);
	diag("%s (%s): RAX %#llx", c->what, function == HC_CANARY ? "canary" : "counters",
	     (unsigned long long)r.rax);
	if (outcome != NESTBED_HC_ANSWERED)
		return probe_fail(run, "%s: expected nestbed's answer, observed outcome %d (vector %llu)",
				  c->what, (int)outcome, (unsigned long long)vector);
	if (!c->written) {
		if (r.rax != NESTBED_HC_ERROR)
			return probe_fail(run, "%s: expected RAX NESTBED_HC_ERROR, observed %#llx",
					  c->what, (unsigned long long)r.rax);
		EXPECT_PAGE_UNCHANGED(run, c->what, alias_pages[0]);
		EXPECT_PAGE_UNCHANGED(run, c->what, alias_pages[1]);
		return PROBE_PASS;
	}
	uint64_t want = function == HC_CANARY ? 0 : sizeof(struct nestbed_hc_counters);
	if (r.rax != want)
		return probe_fail(run, "%s: expected RAX %#llx (written), observed %#llx", c->what,
				  (unsigned long long)want, (unsigned long long)r.rax);
	size_t bad;
	if (page_is(alias_pages[0], FILL, &bad))
		return probe_fail(run, "%s: expected nestbed's data at the start of the page, "
				  "observed the page unchanged", c->what);
	return PROBE_PASS;
}

static const struct ro_case ro_cases[] = {
	{ "read-only leaf, CR0.WP = 1", PTE_P | PTE_RW, PTE_P, 0, 0, true, false },
	{ "read-only page directory entry, writable leaf", PTE_P, PTE_P | PTE_RW, 0, 0, true, false },
	{ "writable page, then a read-only one", PTE_P | PTE_RW, PTE_P | PTE_RW, PTE_P,
	  PAGE_SIZE - 8, true, false },
	{ "not present", PTE_P | PTE_RW, 0, 0, 0, true, false },
	{ "writable leaf (control)", PTE_P | PTE_RW, PTE_P | PTE_RW, 0, 0, true, true },
	{ "read-only leaf, CR0.WP = 0 (a CPL-0 write succeeds)", PTE_P | PTE_RW, PTE_P, 0, 0,
	  false, true },
};

static enum probe_status hypercall_readonly_buffer(struct probe_run *run)
{
	struct nestbed_hc_regs v = { NESTBED_HC_MAGIC | NESTBED_HC_VERSION, 0, 0, 0 };
	uint64_t vector = 0;
	enum nestbed_hc_outcome outcome = nestbed_hypercall(&v, &vector);
	if (outcome == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the hypercall raised vector %llu, expected an answer or #UD",
				  (unsigned long long)vector);
	if (outcome != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s", nestbed_hc_absent_reason(outcome));
	if (!(read_cr0() & CR0_WP))
		return probe_fail(run, "expected the runtime to run with CR0.WP = 1");
	uint64_t *slot = pml4_slot();
	if (*slot & PTE_P)
		return probe_fail(run, "expected PML4 slot %d free for the alias, observed %#llx",
				  PML4_SLOT, (unsigned long long)*slot);
	memset(alias_pdpt, 0, sizeof(alias_pdpt));
	memset(alias_pd, 0, sizeof(alias_pd));
	memset(alias_pt, 0, sizeof(alias_pt));
	alias_pdpt[0] = (uint64_t)alias_pd | PTE_P | PTE_RW;
	*slot = (uint64_t)alias_pdpt | PTE_P | PTE_RW;
	enum probe_status status = PROBE_PASS;
	for (unsigned i = 0; i < sizeof(ro_cases) / sizeof(ro_cases[0]) && status == PROBE_PASS; i++) {
		status = ro_run(run, &ro_cases[i], HC_COUNTERS);
		if (status == PROBE_PASS)
			status = ro_run(run, &ro_cases[i], HC_CANARY);
	}
	*slot = 0;
	flush_tlb();
	return status;
}
PROBE("isolation/hypercall-readonly-buffer", hypercall_readonly_buffer);
