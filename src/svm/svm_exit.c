/* SVM exit decoding: EXITCODE/EXITINFO into the neutral struct exit (APM vol.2 15.7,
 * appendix C). One table of designated initialisers, as ACRN does. */
#include "svm/svm.h"

#include "core/string.h"

static const enum exit_kind exit_kind_of_code[] = {
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

/* Instructions with a fixed encoding needing no prefixes; used only to check the
 * decoder's answer is plausible is not needed: the decoder is the authority. */

void svm_decode_exit(const struct vmcb *vmcb, bool nrips, struct exit *e)
{
	const struct vmcb_control *c = &vmcb->control;
	/* one initialiser (a few stores), not a memset: this runs at every exit */
	*e = (struct exit){
		.native_code = c->exitcode,
		.info1 = c->exitinfo1,
		.info2 = c->exitinfo2,
		.intr_info = (uint32_t)c->exitintinfo,
		.error_code = (c->exitintinfo & SVM_EVENT_VALID) && (c->exitintinfo & SVM_EVENT_ERROR_VALID) ?
				      (uint32_t)(c->exitintinfo >> 32) : 0,
	};
	uint32_t code = (uint32_t)c->exitcode;

	if (code == SVM_EXIT_INVALID) {
		e->kind = EXIT_INVALID_STATE;
		return;
	}
	if (code == SVM_EXIT_NPF) {
		e->kind = EXIT_TDP_FAULT;
		e->u.tdp.gpa = c->exitinfo2;
		e->u.tdp.present = c->exitinfo1 & SVM_NPF_PRESENT;
		e->u.tdp.write = c->exitinfo1 & SVM_NPF_WRITE;
		e->u.tdp.fetch = c->exitinfo1 & SVM_NPF_FETCH;
		e->u.tdp.read = !e->u.tdp.write && !e->u.tdp.fetch;
		return;
	}
	if (code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_EXCEPTION_BASE + 32) {
		e->kind = EXIT_EXCEPTION;
		e->u.exception.vector = (uint8_t)(code - SVM_EXIT_EXCEPTION_BASE);
		e->u.exception.error_code = (uint32_t)c->exitinfo1;
		return;
	}
	e->kind = code < sizeof(exit_kind_of_code) / sizeof(exit_kind_of_code[0]) ?
			  exit_kind_of_code[code] : EXIT_UNKNOWN;
	if (e->kind == EXIT_UNKNOWN)
		e->kind = EXIT_OTHER;

	switch (code) {
	case SVM_EXIT_MSR:
		e->kind = c->exitinfo1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->u.msr = (uint32_t)vmcb->save.rax; /* overwritten by the caller with RCX */
		break;
	case SVM_EXIT_IOIO: {
		uint32_t info = (uint32_t)c->exitinfo1;
		uint32_t sizes = (info >> SVM_IOIO_SIZE_SHIFT) & 7;
		e->u.io.port = (uint16_t)(info >> SVM_IOIO_PORT_SHIFT);
		e->u.io.size = sizes & 4 ? 4 : sizes & 2 ? 2 : 1;
		e->u.io.in = info & SVM_IOIO_IN;
		e->u.io.string = info & SVM_IOIO_STRING;
		e->u.io.rep = info & SVM_IOIO_REP;
		/* EXITINFO2 holds the next RIP for IOIO even without NRIPS (APM 15.10.2). */
		if (c->exitinfo2 > vmcb->save.rip && c->exitinfo2 - vmcb->save.rip <= 15)
			e->insn_len = (uint8_t)(c->exitinfo2 - vmcb->save.rip);
		return;
	}
	default:
		break;
	}
	if (nrips && c->next_rip > vmcb->save.rip && c->next_rip - vmcb->save.rip <= 15)
		e->insn_len = (uint8_t)(c->next_rip - vmcb->save.rip);
}
