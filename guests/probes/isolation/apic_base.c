/* isolation/apic-base-move: the local APIC's register page cannot be moved onto
 * nestbed's memory. IA32_APIC_BASE (SDM vol.3A 11.4.4, APM vol.2 16.3.1) names the
 * physical page where the APIC's registers appear; a base on nestbed's memory would put
 * them over nestbed's own pages. For the first, a middle and the last page of each
 * range of nestbed's memory (NESTBED_HC_OWN_RANGE names them; the Multiboot memory map
 * must reserve each), WRMSR gets #GP(0), as a reserved value does, and the MSR reads
 * back unchanged; so does a base with reserved
 * bits; an L2 of the probe's mini hypervisor, whose WRMSR L1 lets through, gets #GP(0)
 * in L2 too, and on VT-x a VM-entry MSR-load area with that value fails the entry
 * (exit 34). nestbed's canary hypercall still answers afterwards. Moving the base to a
 * page of the guest's own free memory and back is allowed; while the APIC sits there, a
 * hypercall naming that page as its buffer is refused and the page unchanged. The APIC stays enabled
 * throughout (Bochs 2.7 ignores base writes once the xAPIC was disabled). SKIP bare:
 * the ranges are nestbed's. */
#include "core/string.h"
#include "lib/boot_info.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/exception.h"
#include "lib/memory_map.h"
#include "lib/mhv.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"
#include "lib/vmx.h"

#define MSR_IA32_APIC_BASE 0x1bu
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_ADDR 0x000ffffffffff000ull
#define CPUID_1_EDX_APIC (1u << 9)
#define PAGE_SIZE 4096ull
#define MAX_TARGETS 12

static uint8_t free_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

struct wrmsr_arg {
	uint64_t value;
};

static void do_wrmsr(void *arg)
{
	wrmsr(MSR_IA32_APIC_BASE, ((struct wrmsr_arg *)arg)->value);
}

static bool wrmsr_back(uint64_t value)
{
	struct exc_record r;
	struct wrmsr_arg a = { value };
	return !exc_try(&r, do_wrmsr, &a);
}

/* WRMSR inside exc_try: true and *r when it faulted. */
static bool try_wrmsr(uint64_t value, struct exc_record *r)
{
	struct wrmsr_arg a = { value };
	return exc_try(r, do_wrmsr, &a);
}

/* Does any usable range of the Multiboot memory map share a byte with [base, end)? */
static bool overlaps_usable(uint64_t base, uint64_t end)
{
	const struct guest_boot_info *b = &guest_boot_info;
	for (unsigned i = 0; i < b->nr_memory_ranges; i++)
		if (b->memory_ranges[i].type == MEMORY_USABLE && base < memory_range_end(&b->memory_ranges[i]) &&
		    b->memory_ranges[i].base < end)
			return true;
	return false;
}

/* The first, a middle and the last page of each range of nestbed's own memory, as
 * nestbed names them (NESTBED_HC_OWN_RANGE); each must be reserved in the memory map.
 * Returns the number of pages, or -1 with the reason in run. */
static int nestbed_pages(struct probe_run *run, uint64_t *pages, unsigned max)
{
	unsigned n = 0;
	for (uint64_t index = 0; index < max; index++) {
		struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_OWN_RANGE, index, 0, 0 };
		uint64_t vector;
		if (nestbed_hypercall(&r, &vector) != NESTBED_HC_ANSWERED) {
			probe_fail(run, "NESTBED_HC_OWN_RANGE %llu: expected an answer, observed none",
				   (unsigned long long)index);
			return -1;
		}
		if (r.rax == NESTBED_HC_ERROR)
			break;
		uint64_t base = r.rbx, end = r.rbx + r.rcx;
		if (r.rax != 0 || (base | end) & (PAGE_SIZE - 1) || end <= base) {
			probe_fail(run, "NESTBED_HC_OWN_RANGE %llu: expected RAX 0 and a page-aligned range, "
				   "observed RAX %#llx [%#llx-%#llx)", (unsigned long long)index,
				   (unsigned long long)r.rax, (unsigned long long)base, (unsigned long long)end);
			return -1;
		}
		if (overlaps_usable(base, end)) {
			probe_fail(run, "nestbed's range [%#llx-%#llx) is usable memory in the Multiboot map, "
				   "expected reserved", (unsigned long long)base, (unsigned long long)end);
			return -1;
		}
		uint64_t candidates[3] = { base, base + ((end - base) / 2 & ~(PAGE_SIZE - 1)), end - PAGE_SIZE };
		for (unsigned c = 0; c < 3 && n < max; c++)
			if (c == 0 || candidates[c] != candidates[c - 1])
				pages[n++] = candidates[c];
	}
	return (int)n;
}

static volatile uint64_t l2_apic_value;
extern const char isolation_l2_apic_wrmsr_at[];
MHV_L2_ASM(isolation_l2_apic_wrmsr,
	   "mov l2_apic_value(%rip), %rax\n\tmov %rax, %rdx\n\tshr $32, %rdx\n\tmov $0x1b, %ecx\n"
	   "isolation_l2_apic_wrmsr_at:\n\twrmsr");

MHV_L2_ASM(isolation_l2_nop, "nop");

/* VT-x: the VM-entry MSR-load area names IA32_APIC_BASE onto nestbed: the entry fails
 * with exit reason 34, qualification the entry's number (SDM vol.3C 26.4, 26.8). */
static enum probe_status entry_msr_load(struct probe_run *run, uint64_t value, uint64_t original)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	uint64_t *area = mhv_scratch_page(0);
	area[0] = MSR_IA32_APIC_BASE;
	area[1] = value;
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)area);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	mhv_l2_call(vm, isolation_l2_nop, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	uint64_t after = rdmsr(MSR_IA32_APIC_BASE);
	if (after != original)
		(void)wrmsr_back(original);
	mhv_diag_exit("VM-entry MSR-load of IA32_APIC_BASE onto nestbed", &e);
	EXPECT_EQ(run, "IA32_APIC_BASE after the VM-entry MSR-load onto nestbed", original, after);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_ENTRY_MSR));
	EXPECT_EQ(run, "exit qualification (the failing MSR-load entry)", 1, e.qualification);
	return PROBE_PASS;
}

/* An L2 whose WRMSR of IA32_APIC_BASE L1 does not intercept. */
static enum probe_status from_l2(struct probe_run *run, uint64_t value, uint64_t original)
{
	struct mhv_vm *vm;
	enum probe_status started = mhv_start(run, &vm, MHV_MODE_LONG, 0);
	if (started == PROBE_SKIP) {
		diag("no L2 case: %s", run->reason);
		run->reason[0] = 0;
		return PROBE_PASS;
	}
	if (started != PROBE_PASS)
		return started;
	l2_apic_value = value;
	mhv_l2_call(vm, isolation_l2_apic_wrmsr, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2 WRMSR IA32_APIC_BASE onto nestbed", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector in L2 for its WRMSR onto nestbed (#GP)", EXC_GP, mhv_l2_event.vector);
	EXPECT_EQ(run, "error code in L2", 0, mhv_l2_event.error_code);
	EXPECT_EQ(run, "RIP in L2 (the WRMSR)", (uint64_t)isolation_l2_apic_wrmsr_at, mhv_l2_event.rip);
	EXPECT_EQ(run, "IA32_APIC_BASE after L2's refused WRMSR", original, rdmsr(MSR_IA32_APIC_BASE));
	if (vm->vendor == MHV_VENDOR_VMX)
		return entry_msr_load(run, value, original);
	return PROBE_PASS;
}

static enum probe_status apic_base_move(struct probe_run *run)
{
	struct nestbed_hc_regs v = { NESTBED_HC_MAGIC | NESTBED_HC_VERSION, 0, 0, 0 };
	uint64_t vector = 0;
	enum nestbed_hc_outcome outcome = nestbed_hypercall(&v, &vector);
	if (outcome == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the hypercall raised vector %llu, expected an answer or #UD",
				  (unsigned long long)vector);
	if (outcome != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s", nestbed_hc_absent_reason(outcome));
	if (!(cpuid(1).edx & CPUID_1_EDX_APIC))
		return probe_skip(run, "no local APIC (CPUID.1:EDX[9] = 0)");
	uint64_t original = rdmsr(MSR_IA32_APIC_BASE);
	if (!(original & APIC_BASE_EN) || (original & APIC_BASE_EXTD))
		return probe_skip(run, "the APIC is not enabled in xAPIC mode (IA32_APIC_BASE %#llx)",
				  (unsigned long long)original);
	uint64_t flags = original & ~APIC_BASE_ADDR;

	uint64_t pages[MAX_TARGETS];
	int found = nestbed_pages(run, pages, MAX_TARGETS);
	if (found < 0)
		return PROBE_FAIL;
	if (found == 0)
		return probe_fail(run, "NESTBED_HC_OWN_RANGE: expected at least one range, observed none");
	unsigned n = (unsigned)found;
	struct exc_record r;
	for (unsigned i = 0; i < n; i++) {
		uint64_t value = pages[i] | flags;
		if (!try_wrmsr(value, &r)) {
			(void)try_wrmsr(original, &r);
			return probe_fail(run, "WRMSR IA32_APIC_BASE %#llx (onto nestbed's memory): "
					  "expected #GP(0), observed no exception",
					  (unsigned long long)value);
		}
		EXPECT_EQ(run, "vector for a base on nestbed's memory (#GP)", EXC_GP, r.vector);
		EXPECT_EQ(run, "error code", 0, r.error_code);
		EXPECT_EQ(run, "IA32_APIC_BASE after the refused WRMSR", original,
			  rdmsr(MSR_IA32_APIC_BASE));
	}
	diag("%u bases on nestbed's memory refused, from %#llx to %#llx", n,
	     (unsigned long long)pages[0], (unsigned long long)pages[n - 1]);

	/* reserved bits: 0-7, 9 (SDM vol.3A figure 11-5) */
	static const uint64_t reserved[] = { 1ull << 0, 1ull << 7, 1ull << 9 };
	for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (!try_wrmsr(original | reserved[i], &r)) {
			(void)try_wrmsr(original, &r);
			return probe_fail(run, "WRMSR IA32_APIC_BASE %#llx (reserved bit): expected "
					  "#GP(0), observed no exception",
					  (unsigned long long)(original | reserved[i]));
		}
		EXPECT_EQ(run, "vector for a reserved bit (#GP)", EXC_GP, r.vector);
		EXPECT_EQ(run, "IA32_APIC_BASE after the refused WRMSR", original,
			  rdmsr(MSR_IA32_APIC_BASE));
	}

	/* the guest's own free memory, and back (filled before: while the APIC is there, a
	 * store to the page may reach its registers) */
	memset(free_page, 0x5a, sizeof(free_page));
	uint64_t moved = (uint64_t)free_page | flags;
	if (try_wrmsr(moved, &r))
		return probe_fail(run, "WRMSR IA32_APIC_BASE %#llx (the guest's own free page): "
				  "expected no exception, observed %s error %#llx", (unsigned long long)moved,
				  exception_mnemonic(r.vector), (unsigned long long)r.error_code);
	uint64_t readback = rdmsr(MSR_IA32_APIC_BASE);
	/* nestbed must not write a hypercall's result where the APIC's registers are now */
	struct nestbed_hc_regs on_apic = { NESTBED_HC_MAGIC | NESTBED_HC_COUNTERS, (uint64_t)free_page,
					   PAGE_SIZE, 0 };
	enum nestbed_hc_outcome on_apic_outcome = nestbed_hypercall(&on_apic, &vector);
	bool back = !try_wrmsr(original, &r);
	EXPECT_EQ(run, "IA32_APIC_BASE after the move to the guest's free page", moved, readback);
	if (!back)
		return probe_fail(run, "WRMSR IA32_APIC_BASE %#llx (back to the original): expected "
				  "no exception, observed %s", (unsigned long long)original,
				  exception_mnemonic(r.vector));
	EXPECT_EQ(run, "IA32_APIC_BASE after the move back", original, rdmsr(MSR_IA32_APIC_BASE));
	if (on_apic_outcome != NESTBED_HC_ANSWERED || on_apic.rax != NESTBED_HC_ERROR)
		return probe_fail(run, "NESTBED_HC_COUNTERS into the page the APIC was moved to: expected "
				  "NESTBED_HC_ERROR, observed outcome %d RAX %#llx", (int)on_apic_outcome,
				  (unsigned long long)on_apic.rax);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (free_page[i] != 0x5a)
			return probe_fail(run, "the page the APIC was moved to: expected unchanged after the "
					  "refused hypercall, observed byte %#x = %#x", i, free_page[i]);

	/* nestbed still answers */
	static uint64_t masked[2] __attribute__((aligned(16)));
	struct nestbed_hc_regs c = { NESTBED_HC_MAGIC | NESTBED_HC_CANARY, (uint64_t)masked,
				     sizeof(masked), 0 };
	if (nestbed_hypercall(&c, &vector) != NESTBED_HC_ANSWERED)
		return probe_fail(run, "nestbed's canary hypercall: expected an answer, observed none");
	EXPECT_EQ(run, "RAX (status of NESTBED_HC_CANARY after the refused moves)", 0, c.rax);

	/* an L2 whose L1 lets its WRMSR through */
	return from_l2(run, pages[0] | flags, original);
}
PROBE("isolation/apic-base-move", apic_base_move);
