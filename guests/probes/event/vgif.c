/* event/vgif-*: virtual GIF (CPUID 8000_000Ah EDX[16]; APM vol.2 "Virtual GIF (vGIF)"):
 * with V_GIF_ENABLE (VMCB offset 60h bit 25) the guest's unintercepted CLGI and STGI
 * clear and set V_GIF (bit 9) instead of the GIF, V_GIF = 0 holds virtual interrupts
 * (V_IRQ), and the #VMEXIT writes V_GIF back. SKIP where the CPU has no vGIF (QEMU's
 * EPYC, Bochs 2.7); on VMX. */
#include "lib/cpu.h"
#include "lib/mhv.h"
#include "lib/svm.h"

#define VINTR_V_GIF        (1ull << 9)
#define VINTR_V_GIF_ENABLE (1ull << 25)
#define VGIF_VECTOR 0x44
#define RFLAGS_IF 0x200ull

MHV_L2_ASM(l2_nop_nop_stgi, "nop\n\tnop\n\tstgi\n\tnop\n\tnop"); /* STGI at 2, after it 5 */
MHV_L2_ASM(l2_clgi_cpuid, "clgi\n\tcpuid");                     /* CPUID at 3 */

static enum probe_status start(struct probe_run *run, struct mhv_vm **vm)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_SVM, "vGIF is SVM's"));
	MHV_CHECK(mhv_require(run, MHV_FEATURE_VGIF));
	return mhv_intercept(run, *vm, MHV_INTERCEPT_VM_INSN, false);
}

/* V_GIF 0 at entry with a V_IRQ pending and RFLAGS.IF 1: the interrupt waits for L2's
 * STGI and comes right after it. */
static enum probe_status holds_virtual_interrupt(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	mhv_l2_call(vm, l2_nop_nop_stgi, NULL);
	vm->vmcb->vintr = (vm->vmcb->vintr & ~VINTR_V_GIF) | VINTR_V_GIF_ENABLE | SVM_VINTR_IRQ |
			  SVM_VINTR_IGN_TPR | (0xfull << SVM_VINTR_PRIO_SHIFT) |
			  ((uint64_t)VGIF_VECTOR << SVM_VINTR_VECTOR_SHIFT);
	mhv_set(vm, MHV_REG_RFLAGS, 2 | RFLAGS_IF);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("V_IRQ with V_GIF 0", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_L2_EVENT));
	EXPECT_EQ(run, "vector L2 received", VGIF_VECTOR, mhv_l2_event.vector);
	EXPECT_EQ(run, "return RIP L2 received (after STGI)", (uint64_t)l2_nop_nop_stgi + 5,
		  mhv_l2_event.rip);
	EXPECT_EQ(run, "V_GIF at the exit (set by L2's STGI)", VINTR_V_GIF,
		  vm->vmcb->vintr & VINTR_V_GIF);
	return PROBE_PASS;
}
PROBE("event/vgif-holds-virtual-interrupt", holds_virtual_interrupt);

/* L2's CLGI clears V_GIF, which the next #VMEXIT (an intercepted CPUID) writes back. */
static enum probe_status clgi_saved(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(start(run, &vm));
	MHV_CHECK(mhv_intercept(run, vm, MHV_INTERCEPT_CPUID, true));
	mhv_l2_call(vm, l2_clgi_cpuid, NULL);
	vm->vmcb->vintr |= VINTR_V_GIF_ENABLE | VINTR_V_GIF;
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("CPUID after CLGI", &e);
	MHV_CHECK(mhv_expect_kind(run, &e, MHV_EXIT_CPUID));
	EXPECT_EQ(run, "L2 RIP at the exit", (uint64_t)l2_clgi_cpuid + 3, e.rip);
	EXPECT_EQ(run, "V_GIF at the exit (cleared by L2's CLGI)", 0, vm->vmcb->vintr & VINTR_V_GIF);
	EXPECT_EQ(run, "V_GIF_ENABLE at the exit", VINTR_V_GIF_ENABLE,
		  vm->vmcb->vintr & VINTR_V_GIF_ENABLE);
	return PROBE_PASS;
}
PROBE("event/vgif-clgi-saved", clgi_saved);
