/* event/vmx-...: the exits of VMX APIC virtualization (SDM vol.3C chapter 30), each with a
 * virtual-APIC page and an APIC-access page of the probe's own (scratch pages: no real
 * APIC is touched; without EPT the APIC-access address is the physical address L2's
 * linear address maps to, 30.4):
 * - tpr-below-threshold (reason 43): with "use TPR shadow", a MOV to CR8 that takes
 *   VTPR[7:4] below TPR threshold[3:0] is a trap-like exit after the instruction
 *   (30.3, 30.1.2), VTPR updated;
 * - apic-access (44): with "virtualize APIC accesses" and no TPR shadow, a read and a
 *   write of the APIC-access page are fault-like exits with the page offset and the
 *   access type (0 linear read, 1 linear write) in the qualification (30.4.1, 28.2.1
 *   Table 28-6), nothing written;
 * - virtual-eoi (45): with virtual-interrupt delivery, a write to EOI (offset B0h) clears
 *   the highest VISR bit (SVI), and the vector's EOI-exit bitmap bit makes it a trap-like
 *   exit with the vector as qualification (30.1.4, 30.1.2 "EOI virtualization");
 * - apic-write (56): with APIC-register virtualization, a write to SVR (F0h) goes to the
 *   virtual-APIC page, then a trap-like APIC-write exit with the offset as qualification
 *   (30.4.3.2, 30.4.3.3).
 * SKIP on SVM (AVIC has other exits) and where the CPU lacks the control. */
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/lapic.h"
#include "lib/mhv.h"
#include "lib/msr.h"
#include "lib/vmx.h"

#define VMX_EXIT_VIRTUALIZED_EOI 45 /* SDM vol.3D appendix C */
#define VMX_EXIT_APIC_WRITE      56
#define PROC2_VIRT_APIC_ACCESSES (1u << 0)  /* vol.3C 25.6.2 Table 25-7 */
#define PROC2_APIC_REG_VIRT      (1u << 8)
#define PROC2_VIRT_INTR_DELIVERY (1u << 9)
#define VMCS_APIC_ACCESS_ADDR    0x2014     /* vol.3D B.2.1 */
#define VMCS_EOI_EXIT_BITMAP0    0x201c     /* vectors 0-63; 1 for 64-127, ... */
#define VMCS_GUEST_INTR_STATUS   0x0810     /* RVI 7:0, SVI 15:8 (vol.3C 25.4.2) */
/* Virtual-APIC page offsets, vol.3C 30.1.1. */
#define VAPIC_TPR 0x080
#define VAPIC_SVR 0x0f0
#define VAPIC_ISR 0x100
#define VAPIC_EOI 0x0b0
#define APIC_ACCESS_WRITE (1ull << 12) /* qualification access type 1 (Table 28-6) */

static uint64_t allowed1(uint32_t basic_msr, uint32_t true_msr)
{
	bool true_ctls = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS;
	return rdmsr(true_ctls ? true_msr : basic_msr) >> 32;
}

/* Starts a VMX VM with the controls needed (secondary ones in proc2, pin-based in pin),
 * the virtual-APIC page at scratch page 2 and the APIC-access page at scratch page 3. */
static enum probe_status apicv_start(struct probe_run *run, struct mhv_vm **vm, bool tpr_shadow,
				     uint32_t proc2, uint32_t pin, uint32_t reason)
{
	MHV_START(run, *vm, MHV_MODE_LONG, 0);
	MHV_CHECK(mhv_require_vendor(run, MHV_VENDOR_VMX, "VMX APIC virtualization"));
	mhv_exit_asserted(MHV_VENDOR_VMX, reason);
	uint64_t proc_ok = allowed1(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	uint64_t pin_ok = allowed1(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	uint64_t proc2_ok = (proc_ok & PROC_SECONDARY) ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32 : 0;
	if (tpr_shadow && !(proc_ok & PROC_TPR_SHADOW))
		return probe_skip(run, "no 'use TPR shadow' (IA32_VMX_PROCBASED_CTLS allowed-1 %#llx)",
				  (unsigned long long)proc_ok);
	if ((proc2_ok & proc2) != proc2)
		return probe_skip(run, "secondary controls %#x not all supported "
				  "(IA32_VMX_PROCBASED_CTLS2 allowed-1 %#llx)", proc2,
				  (unsigned long long)proc2_ok);
	if ((pin_ok & pin) != pin)
		return probe_skip(run, "pin-based controls %#x not supported (allowed-1 %#llx)", pin,
				  (unsigned long long)pin_ok);
	uint64_t proc = vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)(PROC_CR8_LOAD_EXITING |
								  PROC_CR8_STORE_EXITING);
	if (tpr_shadow)
		proc |= PROC_TPR_SHADOW;
	vmwrite(VMCS_PROC_CONTROLS, proc);
	if (proc2)
		vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | proc2);
	vmwrite(VMCS_PIN_CONTROLS, vmread(VMCS_PIN_CONTROLS) | pin);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, (uint64_t)mhv_scratch_page(2));
	vmwrite(VMCS_APIC_ACCESS_ADDR, (uint64_t)mhv_scratch_page(3));
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	return PROBE_PASS;
}

static uint32_t *vapic(unsigned offset)
{
	return (uint32_t *)((uint8_t *)mhv_scratch_page(2) + offset);
}

static enum probe_status expect_trap(struct probe_run *run, const struct mhv_exit *e,
				     uint32_t reason, uint64_t qual, uint64_t rip)
{
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", reason, e->reason);
	EXPECT_EQ(run, "VMX exit qualification", qual, e->qualification);
	EXPECT_EQ(run, "L2 RIP at the exit (after the instruction: trap-like)", rip, e->rip);
	return mhv_expect_no_vectoring(run, e);
}

/* VTPR 50h, threshold 4: MOV CR8 with 2 makes VTPR 20h, class 2 < 4. */
MHV_L2_ASM(l2_cr8, "mov $2, %eax\n\tmov %rax, %cr8\n\tnop");             /* 5, 4 */

static enum probe_status tpr_below_threshold(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(apicv_start(run, &vm, true, 0, 0, VMX_EXIT_TPR_BELOW));
	*vapic(VAPIC_TPR) = 0x50;
	vmwrite(VMCS_TPR_THRESHOLD, 4);
	mhv_l2_call(vm, l2_cr8, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("MOV CR8 below the TPR threshold", &e);
	MHV_CHECK(expect_trap(run, &e, VMX_EXIT_TPR_BELOW, 0, (uint64_t)l2_cr8 + 9));
	EXPECT_EQ(run, "VTPR (virtual-APIC page 80h) after MOV CR8, 2", 0x20, *vapic(VAPIC_TPR));
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	return mhv_run_expect_done(run, vm);
}
PROBE("event/vmx-tpr-below-threshold", tpr_below_threshold);

MHV_L2_ASM(l2_apic_rw, "mov 0x30(%rdi), %eax\n\tmovl $0x1234, 0x80(%rdi)");  /* 3, 10 */

static enum probe_status apic_access(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(apicv_start(run, &vm, false, PROC2_VIRT_APIC_ACCESSES, 0, VMX_EXIT_APIC_ACCESS));
	uint32_t *page = mhv_scratch_page(3);
	mhv_l2_call(vm, l2_apic_rw, page);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("read of the APIC-access page at 30h", &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", VMX_EXIT_APIC_ACCESS, e.reason);
	EXPECT_EQ(run, "VMX exit qualification (offset 30h, linear read)", 0x30, e.qualification);
	EXPECT_EQ(run, "L2 RIP at the exit (the read: fault-like)", (uint64_t)l2_apic_rw, e.rip);
	MHV_CHECK(mhv_expect_no_vectoring(run, &e));
	mhv_advance_rip(vm, 3);
	mhv_run(vm, &e);
	mhv_diag_exit("write of the APIC-access page at 80h", &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", VMX_EXIT_APIC_ACCESS, e.reason);
	EXPECT_EQ(run, "VMX exit qualification (offset 80h, linear write)",
		  APIC_ACCESS_WRITE | 0x80, e.qualification);
	EXPECT_EQ(run, "L2 RIP at the exit (the write)", (uint64_t)l2_apic_rw + 3, e.rip);
	EXPECT_EQ(run, "APIC-access page at 80h (the write did not happen)", 0, page[0x80 / 4]);
	mhv_advance_rip(vm, 10);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_VIRT_APIC_ACCESSES);
	return mhv_run_expect_done(run, vm);
}
PROBE("event/vmx-apic-access", apic_access);

#define EOI_VECTOR 0x31
MHV_L2_ASM(l2_eoi, "movl $0, 0xb0(%rdi)\n\tnop");                          /* 10 */

static enum probe_status virtual_eoi(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(apicv_start(run, &vm, true, PROC2_VIRT_APIC_ACCESSES | PROC2_VIRT_INTR_DELIVERY,
			      PIN_EXTINT_EXITING, VMX_EXIT_VIRTUALIZED_EOI));
	*vapic(VAPIC_ISR + 0x10 * (EOI_VECTOR / 32)) = 1u << (EOI_VECTOR % 32);
	vmwrite(VMCS_GUEST_INTR_STATUS, EOI_VECTOR << 8); /* SVI = 31h, RVI = 0 */
	for (unsigned i = 0; i < 4; i++)
		vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, i == EOI_VECTOR / 64 ? 1ull << (EOI_VECTOR % 64) : 0);
	mhv_l2_call(vm, l2_eoi, mhv_scratch_page(3));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("EOI write with the vector's EOI-exit bit", &e);
	MHV_CHECK(expect_trap(run, &e, VMX_EXIT_VIRTUALIZED_EOI, EOI_VECTOR, (uint64_t)l2_eoi + 10));
	EXPECT_EQ(run, "VISR word of vector 31h after the EOI", 0,
		  *vapic(VAPIC_ISR + 0x10 * (EOI_VECTOR / 32)));
	EXPECT_EQ(run, "guest interrupt status after the EOI (SVI 0)", 0,
		  vmread(VMCS_GUEST_INTR_STATUS));
	return mhv_run_expect_done(run, vm);
}
PROBE("event/vmx-virtual-eoi", virtual_eoi);

MHV_L2_ASM(l2_svr, "movl $0x1ff, 0xf0(%rdi)\n\tnop");                      /* 10 */

static enum probe_status apic_write(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(apicv_start(run, &vm, true, PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REG_VIRT, 0,
			      VMX_EXIT_APIC_WRITE));
	mhv_l2_call(vm, l2_svr, mhv_scratch_page(3));
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("SVR write with APIC-register virtualization", &e);
	MHV_CHECK(expect_trap(run, &e, VMX_EXIT_APIC_WRITE, VAPIC_SVR, (uint64_t)l2_svr + 10));
	EXPECT_EQ(run, "virtual-APIC page SVR (F0h) after the write", 0x1ff, *vapic(VAPIC_SVR));
	EXPECT_EQ(run, "APIC-access page at F0h (untouched)", 0,
		  ((uint32_t *)mhv_scratch_page(3))[VAPIC_SVR / 4]);
	return mhv_run_expect_done(run, vm);
}
PROBE("event/vmx-apic-write", apic_write);

/* The same with the local APIC's own page as the APIC-access page (what a hypervisor
 * that maps its guest's APIC at the real base does): L2's read and write of it are
 * APIC-access exits, and the write reaches no APIC register (30.4: the access is to the
 * APIC-access page, whatever memory lies behind it). Offset 380h, the timer's initial
 * count: a write that reached the APIC would start its timer. */
#define LAPIC_TIMER_INITIAL 0x380
MHV_L2_ASM(l2_apic_timer_rw, "mov 0x380(%rdi), %eax\n\tmovl $0x12345678, 0x380(%rdi)"); /* 6, 10 */

static enum probe_status apic_access_on_apic(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_CHECK(apicv_start(run, &vm, false, PROC2_VIRT_APIC_ACCESSES, 0, VMX_EXIT_APIC_ACCESS));
	if (!lapic_usable())
		return probe_skip(run, "no xAPIC usable (CPUID.1:EDX.APIC, IA32_APIC_BASE)");
	uint64_t apic = lapic_base();
	uint32_t initial = lapic_read(LAPIC_TIMER_INITIAL);
	vmwrite(VMCS_APIC_ACCESS_ADDR, apic);
	mhv_l2_call(vm, l2_apic_timer_rw, (void *)apic);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("read of the APIC's page (the APIC-access page) at 380h", &e);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", VMX_EXIT_APIC_ACCESS, e.reason);
	EXPECT_EQ(run, "VMX exit qualification (offset 380h, linear read)", 0x380, e.qualification);
	EXPECT_EQ(run, "L2 RIP at the exit (the read)", (uint64_t)l2_apic_timer_rw, e.rip);
	mhv_advance_rip(vm, 6);
	mhv_run(vm, &e);
	mhv_diag_exit("write of the APIC's page (the APIC-access page) at 380h", &e);
	uint32_t after = lapic_read(LAPIC_TIMER_INITIAL);
	EXPECT_EXIT(run, MHV_VENDOR_VMX, "VMX exit reason", VMX_EXIT_APIC_ACCESS, e.reason);
	EXPECT_EQ(run, "VMX exit qualification (offset 380h, linear write)",
		  APIC_ACCESS_WRITE | 0x380, e.qualification);
	EXPECT_EQ(run, "L2 RIP at the exit (the write)", (uint64_t)l2_apic_timer_rw + 6, e.rip);
	EXPECT_EQ(run, "APIC timer initial count (the write reached no register)", initial, after);
	mhv_advance_rip(vm, 10);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_VIRT_APIC_ACCESSES);
	return mhv_run_expect_done(run, vm);
}
PROBE("event/vmx-apic-access-apic-page", apic_access_on_apic);
