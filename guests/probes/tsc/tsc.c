/* tsc/...: L2's time-stamp counter with a TSC offset and no RDTSC/RDTSCP intercept:
 * L2 reads the host TSC plus the offset (SVM TSC_OFFSET, APM vol.2 15.30.4; VMX "use
 * TSC offsetting", SDM vol.3C 26.3), and RDTSCP's ECX is IA32_TSC_AUX. */
#include "lib/cpu.h"
#include "lib/mhv.h"

#define OFFSET (1ull << 40)
#define MSR_TSC_AUX 0xc0000103u

MHV_L2_ASM(l2_rdtsc, "rdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax");
MHV_L2_ASM(l2_rdtscp, "rdtscp\n\tshl $32, %rdx\n\tor %rdx, %rax\n\tmov %ecx, %ebx");

static uint64_t read_tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static enum probe_status offset_probe(struct probe_run *run, void (*code)(void *), bool rdtscp)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (rdtscp)
		MHV_CHECK(mhv_require(run, MHV_FEATURE_RDTSCP));
	uint64_t saved_aux = 0;
	if (rdtscp) {
		saved_aux = rdmsr(MSR_TSC_AUX);
		wrmsr(MSR_TSC_AUX, 0x5a);
	}
	mhv_set_tsc_offset(vm, OFFSET);
	mhv_l2_call(vm, code, NULL);
	uint64_t before = read_tsc();
	struct mhv_exit e;
	mhv_run(vm, &e);
	uint64_t after = read_tsc();
	if (rdtscp)
		wrmsr(MSR_TSC_AUX, saved_aux);
	MHV_CHECK(mhv_expect_done(run, &e));
	uint64_t l2 = mhv_l2_result;
	diag("L1 TSC %#llx .. %#llx, L2 read %#llx (offset %#llx)", (unsigned long long)before,
	     (unsigned long long)after, (unsigned long long)l2, (unsigned long long)OFFSET);
	if (l2 < before + OFFSET || l2 > after + OFFSET)
		return probe_fail(run, "L2's TSC: expected in [%#llx, %#llx] (L1's TSC + offset), "
				  "observed %#llx", (unsigned long long)(before + OFFSET),
				  (unsigned long long)(after + OFFSET), (unsigned long long)l2);
	if (rdtscp)
		EXPECT_EQ(run, "RDTSCP's ECX (IA32_TSC_AUX)", 0x5a, (uint32_t)vm->regs.rbx);
	return PROBE_PASS;
}

static enum probe_status rdtsc_offset(struct probe_run *run)
{
	return offset_probe(run, l2_rdtsc, false);
}
PROBE("tsc/offset-rdtsc", rdtsc_offset);

static enum probe_status rdtscp_offset(struct probe_run *run)
{
	return offset_probe(run, l2_rdtscp, true);
}
PROBE("tsc/offset-rdtscp", rdtscp_offset);
