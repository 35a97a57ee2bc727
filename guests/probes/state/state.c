/* state/...: what VM entry loads and VM exit saves. */
#include "lib/cpu.h"
#include "lib/mhv.h"

/* state/cr2-load: L2 starts with the CR2 L1 gave it (SVM: VMRUN loads CR2 from the
 * VMCB, APM vol.2 15.5.1; VMX does not switch CR2, the VMM does). */
MHV_L2_ASM(l2_read_cr2, "mov %cr2, %rax");

static enum probe_status cr2_load(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_set(vm, MHV_REG_CR2, 0x5555000);
	mhv_l2_call(vm, l2_read_cr2, NULL);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_EQ(run, "CR2 read by L2", 0x5555000, mhv_l2_result);
	return PROBE_PASS;
}
PROBE("state/cr2-load", cr2_load);

/* state/exit-saves-registers: at an exit the VMCB/VMCS holds L2's RIP, RSP and RFLAGS
 * (here CF and DF set), and the world switch keeps every general-purpose register. */
MHV_L2_ASM(l2_set_registers, "stc\n\tstd\n\tmov $0x1111, %ebx\n\tmov $0x2222, %ecx\n\t"
			     "mov $0x3333, %esi\n\tmov $0x4444, %ebp\n\tmov $0x8888, %r8d\n\t"
			     "mov $0xffff, %r15d\n\tmov $0, %eax\n\tcpuid_site:\n\tcpuid\n\tcld");

static enum probe_status exit_saves_registers(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
	mhv_l2_call(vm, l2_set_registers, NULL);
	uint64_t rsp = mhv_get(vm, MHV_REG_RSP);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("CPUID", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_CPUID));
	extern const char cpuid_site[];
	EXPECT_EQ(run, "L2 RIP", (uint64_t)cpuid_site, e.rip);
	EXPECT_EQ(run, "L2 RSP", rsp, e.rsp);
	EXPECT_EQ(run, "L2 RFLAGS (CF, DF, bit 1; IF and TF clear)", 0x403, e.rflags & 0x703);
	EXPECT_EQ(run, "L2 RBX", 0x1111, vm->regs.rbx);
	EXPECT_EQ(run, "L2 RCX", 0x2222, vm->regs.rcx);
	EXPECT_EQ(run, "L2 RSI", 0x3333, vm->regs.rsi);
	EXPECT_EQ(run, "L2 RBP", 0x4444, vm->regs.rbp);
	EXPECT_EQ(run, "L2 R8", 0x8888, vm->regs.r8);
	EXPECT_EQ(run, "L2 R15", 0xffff, vm->regs.r15);
	mhv_advance_rip(vm, 2);
	return mhv_run_expect_done(run, vm);
}
PROBE("state/exit-saves-registers", exit_saves_registers);

/* state/l2-c-function: L2 runs compiled C code (the runtime's own page tables, stack
 * and calls) and returns its result to L1. */
static const uint8_t message[] = "nestbed conformance: a C function as L2";

static uint64_t fnv1a(const uint8_t *data, unsigned len)
{
	uint64_t hash = 0xcbf29ce484222325ull;
	for (unsigned i = 0; i < len; i++) {
		hash ^= data[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

static uint64_t l2_hash_message(void *unused)
{
	(void)unused;
	return fnv1a(message, sizeof(message) - 1);
}

static enum probe_status l2_c_function(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_l2_call_value(vm, l2_hash_message, NULL);
	MHV_CHECK(mhv_run_expect_done(run, vm));
	EXPECT_EQ(run, "the L2 function's result (as computed by L1)",
		  fnv1a(message, sizeof(message) - 1), mhv_l2_result);
	return PROBE_PASS;
}
PROBE("state/l2-c-function", l2_c_function);
