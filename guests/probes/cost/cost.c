/* cost/<exit kind>: what one round trip L2 -> L1 -> L2 costs, in TSC ticks, per exit
 * kind (issue 5). L2 executes the instruction COST_ROUND_TRIPS times in a loop; L1
 * intercepts it every time, checks that the exit is the expected kind at the expected
 * instruction, and resumes L2 past it. L1 reads its TSC around the whole loop and reports
 *
 *     # cost <name>: <N> round trips, <ticks> ticks, <ticks/N> ticks per round trip
 *
 * (parsed by harness/bench.py). Under QEMU with -icount shift=0 the TSC counts retired
 * instructions, so the figure repeats exactly; elsewhere it is wall-clock-like. The probe
 * passes when all N exits came as expected; the figure itself is not judged. */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define COST_ROUND_TRIPS 1000
#define COST_PORT        0xe0
#define COST_MSR         0x174u /* IA32_SYSENTER_CS: in both vendors' MSR bitmaps */

/* Each loop: set-up, then `cost_<name>_at:` the instruction under test, then the count
 * down in ESI (no instruction under test touches it; L1 changes no register). The labels
 * are local to this file's assembly, which the C below refers to. */
#define STR_(x) #x
#define STR(x) STR_(x)

#define LOOP(setup, label, insn) \
	"mov $" STR(COST_ROUND_TRIPS) ", %esi\n\t" setup "\n1:\n" label ":\n\t" insn "\n\tdec %esi\n\tjnz 1b"

MHV_L2_ASM(l2_cpuid_loop, LOOP("xor %eax, %eax\n\txor %ecx, %ecx", "cost_cpuid_at", "cpuid"));
MHV_L2_ASM(l2_rdmsr_loop, LOOP("mov $0x174, %ecx", "cost_rdmsr_at", "rdmsr"));
MHV_L2_ASM(l2_out_loop, LOOP("xor %eax, %eax", "cost_out_at", "out %al, $0xe0"));
MHV_L2_ASM(l2_hlt_loop, LOOP("", "cost_hlt_at", "hlt"));
MHV_L2_ASM(l2_vmmcall_loop, LOOP("mov $0x1234, %eax", "cost_vmmcall_at", "vmmcall"));
MHV_L2_ASM(l2_vmcall_loop, LOOP("mov $0x1234, %eax", "cost_vmcall_at", "vmcall"));
extern const char cost_cpuid_at[], cost_rdmsr_at[], cost_out_at[], cost_hlt_at[];
extern const char cost_vmmcall_at[], cost_vmcall_at[];

struct cost_case {
	const char *name;           /* in the diagnostic line */
	void (*svm_code)(void *), (*vmx_code)(void *);
	const char *svm_at, *vmx_at; /* the instruction under test in the loop */
	unsigned len;
	enum mhv_exit_kind kind;
};

static const struct cost_case cases[] = {
	{ "cpuid", l2_cpuid_loop, l2_cpuid_loop, cost_cpuid_at, cost_cpuid_at, 2, MHV_EXIT_CPUID },
	{ "rdmsr", l2_rdmsr_loop, l2_rdmsr_loop, cost_rdmsr_at, cost_rdmsr_at, 2, MHV_EXIT_MSR_READ },
	{ "io-out", l2_out_loop, l2_out_loop, cost_out_at, cost_out_at, 2, MHV_EXIT_IO },
	{ "hlt", l2_hlt_loop, l2_hlt_loop, cost_hlt_at, cost_hlt_at, 1, MHV_EXIT_HLT },
	{ "hypercall", l2_vmmcall_loop, l2_vmcall_loop, cost_vmmcall_at, cost_vmcall_at, 3,
	  MHV_EXIT_HYPERCALL },
};

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* The exit beyond its kind and instruction: the port and direction, the MSR, the
 * hypercall's RAX. */
static enum probe_status expect_details(struct probe_run *run, struct mhv_vm *vm,
					const struct cost_case *c, const struct mhv_exit *e)
{
	switch (c->kind) {
	case MHV_EXIT_IO:
		EXPECT_EQ(run, "I/O exit port", COST_PORT, e->io.port);
		EXPECT_EQ(run, "I/O exit direction (1 IN)", 0, e->io.in);
		EXPECT_EQ(run, "I/O exit size", 1, e->io.size);
		break;
	case MHV_EXIT_MSR_READ:
		EXPECT_EQ(run, "L2 ECX at the RDMSR exit", COST_MSR, (uint32_t)vm->regs.rcx);
		break;
	case MHV_EXIT_HYPERCALL:
		EXPECT_EQ(run, "L2 RAX at the hypercall exit", 0x1234, e->rax);
		break;
	default:
		break;
	}
	return PROBE_PASS;
}

static enum probe_status run_case(struct probe_run *run, const struct cost_case *c)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	switch (c->kind) {
	case MHV_EXIT_CPUID:
		MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
		break;
	case MHV_EXIT_HLT:
		MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HLT, true));
		break;
	case MHV_EXIT_HYPERCALL:
		MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_HYPERCALL, true));
		break;
	case MHV_EXIT_IO:
		mhv_intercept_io(vm, COST_PORT, true);
		break;
	case MHV_EXIT_MSR_READ:
		if (!mhv_intercept_msr(vm, COST_MSR, true, false))
			return probe_fail(run, "MSR %#x should be in the %s MSR bitmap", COST_MSR,
					  mhv_vendor_name(vm->vendor));
		break;
	default:
		return probe_fail(run, "no set-up for exit kind %s", mhv_exit_kind_name(c->kind));
	}
	bool svm = vm->vendor == MHV_VENDOR_SVM;
	void (*code)(void *) = svm ? c->svm_code : c->vmx_code;
	uint64_t at = (uint64_t)(svm ? c->svm_at : c->vmx_at);
	mhv_l2_call(vm, code, NULL);

	struct mhv_exit e;
	unsigned i;
	uint64_t start = tsc();
	for (i = 0; i < COST_ROUND_TRIPS; i++) {
		mhv_run(vm, &e);
		enum probe_status status = mhv_expect_insn(run, &e, c->kind, at, c->len);
		if (status == PROBE_PASS)
			status = expect_details(run, vm, c, &e);
		if (status != PROBE_PASS) {
			char reason[PROBE_REASON_MAX];
			unsigned n = 0;
			while (n + 1 < sizeof(reason) && run->reason[n]) {
				reason[n] = run->reason[n];
				n++;
			}
			reason[n] = 0;
			mhv_diag_exit(c->name, &e);
			return probe_fail(run, "round trip %u of %u: %s", i + 1, COST_ROUND_TRIPS,
					  reason);
		}
		mhv_advance_rip(vm, c->len);
	}
	uint64_t ticks = tsc() - start;
	MHV_CHECK(mhv_run_expect_done(run, vm));
	diag("cost %s: %u round trips, %llu ticks, %llu ticks per round trip", c->name,
	     COST_ROUND_TRIPS, (unsigned long long)ticks,
	     (unsigned long long)(ticks / COST_ROUND_TRIPS));
	return PROBE_PASS;
}

#define COST_PROBE(fn, index, name)                                   \
	static enum probe_status fn(struct probe_run *run)            \
	{                                                             \
		return run_case(run, &cases[index]);                  \
	}                                                             \
	PROBE(name, fn)

COST_PROBE(cost_cpuid, 0, "cost/cpuid");
COST_PROBE(cost_rdmsr, 1, "cost/rdmsr");
COST_PROBE(cost_io_out, 2, "cost/io-out");
COST_PROBE(cost_hlt, 3, "cost/hlt");
COST_PROBE(cost_hypercall, 4, "cost/hypercall");
