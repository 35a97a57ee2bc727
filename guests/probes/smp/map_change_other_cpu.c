/* smp/map-change-other-cpu: L1 on the boot CPU runs an L2 that executes IN from port E0h
 * in a loop, not intercepted; L1 on the AP sets the port's bit in the I/O permission map
 * meanwhile. The CPU consults the map at each IN (APM vol.2 15.10.1), so one of L2's next
 * INs exits to L1 (SVM exit 7Bh at the loop's IN), long before the loop's 10 million
 * INs run out. AMD-V only: on VT-x software must not change an I/O bitmap while a CPU
 * runs with it (SDM vol.3C 25.11.4), so there is nothing to assert. Needs 2 CPUs. */
#include "lib/mhv.h"
#include "lib/smp.h"

#define PORT 0xe0
#define IN_OFFSET 11 /* movl $1, (%rdi) is 6 bytes, mov $imm32, %ecx 5 */
#define IN_LENGTH 2

struct loop_flags {
	volatile uint32_t running; /* set by L2 as its loop starts */
	volatile uint32_t stop;    /* set by L1 after the exit */
};

static struct loop_flags flags;
static struct mhv_vm *shared_vm;

MHV_L2_ASM(l2_in_loop, "movl $1, (%rdi)\n\tmov $10000000, %ecx\n"
		       "1:\n\tin $0xe0, %al\n\tcmpl $0, 4(%rdi)\n\tjne 2f\n\tdec %ecx\n\tjnz 1b\n2:");

/* The AP: once L2 loops, the bit goes into L1's map (plain memory writes). */
static uint64_t ap_set_bit(void *arg)
{
	(void)arg;
	for (uint64_t spins = 0; !flags.running; spins++)
		if (spins > (1ull << 32))
			return 1;
	mhv_intercept_io(shared_vm, PORT, true);
	return 0;
}

static enum probe_status map_change_other_cpu(struct probe_run *run)
{
	enum probe_status status = smp_require(run, 2);
	if (status != PROBE_PASS)
		return status;
	MHV_CHECK(mhv_prepare(run));
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM,
				     "VT-x leaves a bitmap changed while in use undefined (SDM 25.11.4)"));
	char why[PROBE_REASON_MAX];
	if (smp_start(1, SMP_TRAMPOLINE_VECTOR, NULL, why, sizeof(why)) < 0)
		return probe_fail(run, "%s", why);
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	shared_vm = vm;
	flags.running = flags.stop = 0;
	mhv_intercept_io(vm, PORT, false);
	if (!smp_post(1, ap_set_bit, NULL))
		return probe_fail(run, "the AP is not online");
	mhv_l2_call(vm, l2_in_loop, (void *)&flags);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("L2's IN loop", &e);
	uint64_t ap_result = 1;
	bool ap_done = smp_wait_result(1, &ap_result, 5000000);
	MHV_CHECK(mhv_expect_insn(run, &e, MHV_EXIT_IO, (uint64_t)l2_in_loop + IN_OFFSET, IN_LENGTH));
	if (!ap_done || ap_result)
		return probe_fail(run, "the AP did not set the bit (it never saw L2's loop start)");
	flags.stop = 1;
	mhv_advance_rip(vm, IN_LENGTH);
	return mhv_run_expect_done(run, vm);
}
PROBE("smp/map-change-other-cpu", map_change_other_cpu);
