/* SVM exit decoding: EXITCODE/EXITINFO into the neutral struct exit (APM vol.2 15.7,
 * appendix C). One table of designated initialisers, as ACRN does; the decoder itself is
 * inlined into the exit path (svm_exit_decode.h). */
#include "svm/svm.h"
#include "svm/svm_exit_decode.h"

_Static_assert(EXIT_KIND_COUNT <= 256, "svm_exit_kind_of_code holds a kind in a byte");

const uint8_t svm_exit_kind_of_code[SVM_EXIT_KIND_TABLE_SIZE] = {
	[SVM_EXIT_CR0_WRITE] = EXIT_CR_ACCESS,
	[SVM_EXIT_INTR] = EXIT_INTR,
	[SVM_EXIT_NMI] = EXIT_NMI,
	[SVM_EXIT_INIT] = EXIT_INIT,
	[SVM_EXIT_CPUID] = EXIT_CPUID,
	[SVM_EXIT_HLT] = EXIT_HLT,
	[SVM_EXIT_INVLPGA] = EXIT_VM_INSN,
	[SVM_EXIT_IOIO] = EXIT_IO,
	[SVM_EXIT_MSR] = EXIT_MSR_READ, /* EXITINFO1 picks read or write */
	[SVM_EXIT_SHUTDOWN] = EXIT_SHUTDOWN,
	[SVM_EXIT_VMRUN] = EXIT_VM_INSN,
	[SVM_EXIT_VMMCALL] = EXIT_HYPERCALL,
	[SVM_EXIT_VMLOAD] = EXIT_VM_INSN,
	[SVM_EXIT_VMSAVE] = EXIT_VM_INSN,
	[SVM_EXIT_STGI] = EXIT_VM_INSN,
	[SVM_EXIT_CLGI] = EXIT_VM_INSN,
	[SVM_EXIT_SKINIT] = EXIT_VM_INSN,
	[SVM_EXIT_XSETBV] = EXIT_XSETBV,
};

void svm_decode_exit(const struct vmcb *vmcb, bool nrips, struct exit *e)
{
	/* without the guest's RCX: an MSR exit's number is the caller's to fill in */
	svm_exit_decode(vmcb, nrips, 0, e);
}
