/* SMM and its exits, L2's side.
 *
 * intercept/rsm-outside-smm: RSM outside SMM raises #UD (SDM vol.2B and APM vol.3, RSM).
 * VMX: RSM exits (reason 17) only in SMM under the dual-monitor treatment (SDM vol.3C
 * 26.1.2), so L2 takes #UD. SVM: with the RSM intercept set, #UD still comes first:
 * instruction intercepts are checked after simple exceptions such as #UD (APM vol.2
 * 15.9, "Instruction Intercepts"). Either way L2's IDT handler runs with #UD at RSM.
 *
 * event/smi: L2 writes the APM control port (B2h, the chipset's software SMI, not
 * intercepted in the I/O bitmap). SVM with the SMI intercept: #VMEXIT 62h at an
 * instruction boundary after the OUT (APM vol.2 15.13.3; the SMI stays pending until
 * L1's STGI and then runs the firmware's handler, GIF 15.17). VMX: the default
 * treatment of SMIs has no VM exit: SMM saves and restores L2's state and L2 runs on
 * (SDM vol.3C 33.14.1); exit reasons 5 and 6 exist only under the dual-monitor
 * treatment, which needs an SMM monitor no firmware here installs. SKIP where the
 * chipset would raise no SMI for the write: PIIX4 power management (00:01.3) with
 * APMC_EN (config 5Bh bit 1) clear, ICH9 LPC (00:1F.0) without GBL_SMI_EN and APMC_EN
 * in SMI_EN (PMBASE + 30h bits 0 and 5), or another chipset (OVMF leaves them off). */
#include "lib/cpu.h"
#include "lib/exception.h"
#include "lib/mhv.h"
#include "lib/pci.h"
#include "lib/svm.h"

MHV_L2_ASM(l2_rsm, "rsm");                                        /* 2 */

static enum probe_status rsm_outside_smm(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	if (vm->vendor == MHV_VENDOR_SVM)
		vm->vmcb->intercept_misc1 |= SVM_INTERCEPT_RSM;
	mhv_l2_call(vm, l2_rsm, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("RSM outside SMM", &e);
	if (e.kind != MHV_EXIT_L2_EVENT)
		return probe_fail(run, "RSM outside SMM: expected #UD in L2, observed %s "
				  "(SVM EXITCODE %#llx, VMX reason %u)", mhv_exit_kind_name(e.kind),
				  (unsigned long long)e.exitcode, e.reason);
	EXPECT_EQ(run, "vector delivered in L2", EXC_UD, mhv_l2_event.vector);
	EXPECT_EQ(run, "RIP of the #UD", (uint64_t)l2_rsm, mhv_l2_event.rip);
	return PROBE_PASS;
}
PROBE("intercept/rsm-outside-smm", rsm_outside_smm);

#define APM_CNT 0xb2
/* A command no firmware handler acts on (SeaBIOS: C0h-C1h and ACPI's F0h/F1h); then a
 * bounded loop, in which the SMI (asynchronous: QEMU takes it at its next translation
 * block) must arrive. */
MHV_L2_ASM(l2_smi, "xor %eax, %eax\n\tout %al, $0xb2\n\t"         /* 2, 2 */
		   "mov $1000000, %ecx\n1:\n\tdec %ecx\n\tjnz 1b\n\t"  /* 5, 2, 2 */
		   "l2_smi_end:");

#define PIIX4_PM_ID  0x71138086u
#define PIIX4_DEVACTB 0x58          /* byte 5Bh: bit 1 APMC_EN (PIIX4 datasheet 11.2) */
#define ICH9_LPC_ID  0x29188086u
#define ICH9_PMBASE  0x40
#define ICH9_SMI_EN  0x30           /* GBL_SMI_EN bit 0, APMC_EN bit 5 (ICH9 13.8.3.12) */
#define ICH9_SMI_EN_NEEDED 0x21u
#define ICH9_PMBASE_MASK 0xff80u    /* PMBASE bits 15:7 (ICH9 13.1.16) */
#define PIIX4_APMC_EN 0x02u         /* DEVACTB byte 5Bh bit 1 */

static const char *apmc_smi_off(void)
{
	if (pci_read32(0, 1, 3, 0) == PIIX4_PM_ID)
		return (pci_read32(0, 1, 3, PIIX4_DEVACTB) >> 24) & PIIX4_APMC_EN ? NULL
			: "the firmware left APMC SMIs off (PIIX4 PM config 5Bh bit 1 clear)";
	if (pci_read32(0, 0x1f, 0, 0) == ICH9_LPC_ID) {
		uint16_t pmbase = pci_read32(0, 0x1f, 0, ICH9_PMBASE) & ICH9_PMBASE_MASK;
		uint32_t smi_en;
		__asm__ volatile("inl %1, %0" : "=a"(smi_en) : "Nd"((uint16_t)(pmbase + ICH9_SMI_EN)));
		return (smi_en & ICH9_SMI_EN_NEEDED) == ICH9_SMI_EN_NEEDED ? NULL
			: "the firmware left APMC SMIs off (ICH9 SMI_EN bits 0 and 5 not both set)";
	}
	return "no PIIX4 or ICH9 power management function to raise an SMI from";
}

static enum probe_status smi(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	const char *off = apmc_smi_off();
	if (off)
		return probe_skip(run, "%s", off);
	if (vm->vendor == MHV_VENDOR_VMX) {
		mhv_l2_call(vm, l2_smi, NULL);
		return mhv_run_expect_done(run, vm);
	}
	vm->vmcb->intercept_misc1 |= SVM_INTERCEPT_SMI;
	mhv_exit_asserted(MHV_VENDOR_SVM, SVM_EXIT_SMI);
	mhv_l2_call(vm, l2_smi, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("SMI raised by L2 (OUT to B2h)", &e);
	EXPECT_EXIT(run, MHV_VENDOR_SVM, "SVM EXITCODE", SVM_EXIT_SMI, e.exitcode);
	extern const char l2_smi_end[];
	uint64_t after_out = (uint64_t)l2_smi + 4, end = (uint64_t)l2_smi_end;
	if (e.rip < after_out || e.rip >= end)
		return probe_fail(run, "L2 RIP at the SMI exit: expected an instruction boundary "
				  "in [%#llx, %#llx) (after the OUT, in L2's loop), observed %#llx",
				  (unsigned long long)after_out, (unsigned long long)end,
				  (unsigned long long)e.rip);
	MHV_CHECK(mhv_expect_no_vectoring(run, &e));
	/* L1 runs with GIF = 0 until mhv's STGI; the SMI is taken then, and L2 goes on. */
	vm->vmcb->intercept_misc1 &= ~SVM_INTERCEPT_SMI;
	return mhv_run_expect_done(run, vm);
}
PROBE("event/smi", smi);
