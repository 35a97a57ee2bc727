/* isolation/l0-version, isolation/l0-canary: nestbed (L0) answers its control
 * interface (src/core/hypercall_abi.h), and none of its memory is visible to its
 * guest: nestbed hands out its canary XOR a key, the probe scans every usable byte of
 * the Multiboot memory map for the unmasked canary without ever storing it, and
 * proves that the scanner works by planting the canary once in its own memory. Both
 * SKIP when no nestbed answers (bare on a platform). */
#include "core/string.h"
#include "lib/boot_info.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/layout.h"
#include "lib/memory_map.h"
#include "lib/nestbed_hc.h"
#include "lib/probe.h"

static enum probe_status call_or_skip(struct probe_run *run, struct nestbed_hc_regs *regs)
{
	uint64_t vector = 0;
	enum nestbed_hc_outcome outcome = nestbed_hypercall(regs, &vector);
	if (outcome == NESTBED_HC_OTHER_FAULT)
		return probe_fail(run, "the hypercall raised vector %llu, expected an answer or #UD",
				  (unsigned long long)vector);
	if (outcome != NESTBED_HC_ANSWERED)
		return probe_skip(run, "%s", nestbed_hc_absent_reason(outcome));
	return PROBE_PASS;
}

static enum probe_status l0_version(struct probe_run *run)
{
	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_VERSION, 0, 0, 0 };
	enum probe_status s = call_or_skip(run, &r);
	if (s != PROBE_PASS)
		return s;
	diag("NESTBED_HC_VERSION: RAX %#llx RBX %#llx RCX %#llx RDX %#llx (L1 exits so far)",
	     (unsigned long long)r.rax, (unsigned long long)r.rbx, (unsigned long long)r.rcx,
	     (unsigned long long)r.rdx);
	EXPECT_EQ(run, "RAX (status)", 0, r.rax);
	EXPECT_EQ(run, "RBX (ABI version)", NESTBED_HC_ABI_VERSION, r.rbx);
	uint64_t vendor = cpu_vendor() == CPU_VENDOR_INTEL ? NESTBED_HC_VENDOR_VMX
							   : NESTBED_HC_VENDOR_SVM;
	EXPECT_EQ(run, "RCX (vendor: 1 VMX, 2 SVM, as CPUID says)", vendor, r.rcx);
	if (r.rdx == 0)
		return probe_fail(run, "RDX (L1 exits so far): expected > 0 (this call is one), "
				  "observed 0");
	return PROBE_PASS;
}
PROBE("isolation/l0-version", l0_version);

/* The identity map leaves two 4 KiB pages out (page 0 and the boot stack's guard
 * page); the scan maps them for itself. Walks CR3 to their page-table entries. */
static uint64_t *low_pte(uint64_t address)
{
	const uint64_t mask = 0x000ffffffffff000ull;
	uint64_t *pml4 = (uint64_t *)(read_cr3() & mask);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & mask);
	uint64_t *pd = (uint64_t *)(pdpt[0] & mask);
	uint64_t *pt = (uint64_t *)(pd[0] & mask);
	return &pt[(address >> 12) & 511];
}

static void set_low_page(uint64_t address, uint64_t pte)
{
	*low_pte(address) = pte;
	__asm__ volatile("invlpg (%0)" ::"r"(address) : "memory");
}

/* Finds the 16-byte aligned blocks in [start, end) whose two words XOR key equal the
 * masked canary; records up to max of them. The unmasked canary exists only in
 * registers (the compiler may fold the XOR the other way, still in registers). */
static unsigned scan(uint64_t start, uint64_t end, uint64_t key, uint64_t m0, uint64_t m1,
		     uint64_t *found, unsigned max, unsigned count)
{
	for (const volatile uint64_t *p = (const volatile uint64_t *)start;
	     (uint64_t)p < end; p += 2) {
		if ((p[0] ^ key) == m0 && (p[1] ^ key) == m1) {
			if (count < max)
				found[count] = (uint64_t)p;
			count++;
		}
	}
	return count;
}

#define MAX_FOUND 8
static uint64_t control_block[2] __attribute__((aligned(16)));

static enum probe_status l0_canary(struct probe_run *run)
{
	static uint64_t masked[2] __attribute__((aligned(16)));
	struct nestbed_hc_regs r = { NESTBED_HC_MAGIC | NESTBED_HC_CANARY, (uint64_t)masked,
				     sizeof(masked), 0 };
	enum probe_status s = call_or_skip(run, &r);
	if (s != PROBE_PASS)
		return s;
	EXPECT_EQ(run, "RAX (status of NESTBED_HC_CANARY)", 0, r.rax);
	uint64_t key = r.rdx, m0 = masked[0], m1 = masked[1];
	if (key == 0 || (m0 ^ key) == 0)
		return probe_fail(run, "expected a non-zero key and canary, observed key %#llx",
				  (unsigned long long)key);

	const struct guest_boot_info *boot = &guest_boot_info;
	if (!boot->has_memory_map)
		return probe_fail(run, "expected a Multiboot memory map to scan, observed none");

	/* The positive control: the canary, computed in registers, in one block of ours. */
	__asm__ volatile("mov %1, %%rax\n\txor %3, %%rax\n\tmov %%rax, (%0)\n\t"
			 "mov %2, %%rax\n\txor %3, %%rax\n\tmov %%rax, 8(%0)"
			 ::"r"(control_block), "r"(m0), "r"(m1), "r"(key)
			 : "rax", "memory");

	uint64_t found[MAX_FOUND];
	unsigned count = 0;
	uint64_t scanned = 0, skipped = 0;
	uint64_t guard = (uint64_t)boot_stack_guard;
	uint64_t saved_page0 = *low_pte(0), saved_guard = *low_pte(guard);
	set_low_page(0, 0 | 3);        /* present, writable */
	set_low_page(guard, guard | 3);
	for (unsigned i = 0; i < boot->nr_memory_ranges; i++) {
		const struct memory_range *range = &boot->memory_ranges[i];
		if (range->type != MEMORY_USABLE)
			continue;
		uint64_t start = (range->base + 15) & ~15ull;
		uint64_t end = memory_range_end(range) & ~15ull;
		if (end > IDENTITY_MAP_END) {
			skipped += end - (start > IDENTITY_MAP_END ? start : IDENTITY_MAP_END);
			end = IDENTITY_MAP_END;
		}
		if (start >= end)
			continue;
		count = scan(start, end, key, m0, m1, found, MAX_FOUND, count);
		scanned += end - start;
	}
	set_low_page(guard, saved_guard);
	set_low_page(0, saved_page0);
	control_block[0] = control_block[1] = 0;

	diag("scanned %llu KiB of usable memory (%llu KiB above 4 GiB not scanned): %u match(es)",
	     (unsigned long long)(scanned >> 10), (unsigned long long)(skipped >> 10), count);
	for (unsigned i = 0; i < count && i < MAX_FOUND; i++)
		if (found[i] != (uint64_t)control_block)
			return probe_fail(run, "nestbed's canary is visible to the guest at %#llx "
					  "(%u match(es) in all)", (unsigned long long)found[i], count);
	if (count == 0)
		return probe_fail(run, "positive control: expected the scanner to find the canary "
				  "planted at %#llx, observed no match",
				  (unsigned long long)(uint64_t)control_block);
	if (count != 1)
		return probe_fail(run, "expected exactly 1 match (the control at %#llx), observed %u",
				  (unsigned long long)(uint64_t)control_block, count);
	if (skipped)
		return probe_fail(run, "%llu KiB of usable memory lie above the 4 GiB the guest "
				  "maps and were not scanned", (unsigned long long)(skipped >> 10));
	return PROBE_PASS;
}
PROBE("isolation/l0-canary", l0_canary);
