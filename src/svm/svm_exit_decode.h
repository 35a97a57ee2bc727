/* SVM exit decoding, inlined into the exit path (svm_backend.c svm_vcpu_run): EXITCODE
 * and EXITINFO into the neutral struct exit (APM vol.2 15.7, appendix C), read once from
 * the VMCB. Every field of struct exit a consumer reads is stored here, field by field
 * (no whole-structure initialiser: that is a 64-byte REP STOS at every exit); the union
 * member of the kind only. svm_exit.c keeps the out-of-line svm_decode_exit. */
#ifndef NESTBED_SVM_EXIT_DECODE_H
#define NESTBED_SVM_EXIT_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "svm/vmcb.h"

/* exit_kind by EXITCODE below this bound (svm_exit.c); EXIT_UNKNOWN where unnamed */
#define SVM_EXIT_KIND_TABLE_SIZE (SVM_EXIT_XSETBV + 1)
extern const uint8_t svm_exit_kind_of_code[SVM_EXIT_KIND_TABLE_SIZE];

#define SVM_INSN_MAX_LENGTH 15 /* APM vol.3 1.1: no instruction is longer */

/* The instruction's length from a next RIP the CPU reported, 0 if it is not plausible. */
static inline uint8_t svm_len_from_next_rip(uint64_t next, uint64_t rip)
{
	uint64_t len = next - rip;
	return len - 1 < SVM_INSN_MAX_LENGTH ? (uint8_t)len : 0;
}

/* rcx: the guest's RCX (the MSR number of an MSR exit, APM vol.2 15.11). */
static inline void svm_exit_decode(const struct vmcb *vmcb, bool nrips, uint64_t rcx,
				   struct exit *e)
{
	const struct vmcb_control *c = &vmcb->control;
	uint64_t code64 = c->exitcode, info1 = c->exitinfo1, info2 = c->exitinfo2;
	uint64_t intinfo = c->exitintinfo;
	uint32_t code = (uint32_t)code64;
	e->native_code = code64;
	e->info1 = info1;
	e->info2 = info2;
	e->intr_info = (uint32_t)intinfo;
	e->error_code = (intinfo & (SVM_EVENT_VALID | SVM_EVENT_ERROR_VALID)) ==
					(SVM_EVENT_VALID | SVM_EVENT_ERROR_VALID) ?
				(uint32_t)(intinfo >> 32) : 0;
	e->insn_len = 0;
	if (code < SVM_EXIT_KIND_TABLE_SIZE) {
		enum exit_kind kind = (enum exit_kind)svm_exit_kind_of_code[code];
		e->kind = kind;
		switch (kind) {
		case EXIT_MSR_READ: /* EXITINFO1 picks read (0) or write (1) */
			e->kind = info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
			e->u.msr = (uint32_t)rcx;
			break;
		case EXIT_IO: {
			uint32_t info = (uint32_t)info1;
			/* SZ8, SZ16, SZ32: one bit each, set alone (APM vol.2 figure 15-2), so
			 * the field is the size in bytes; anything else is taken as a byte */
			uint32_t sizes = (info >> SVM_IOIO_SIZE_SHIFT) & 7;
			e->u.io.port = (uint16_t)(info >> SVM_IOIO_PORT_SHIFT);
			e->u.io.size = (uint8_t)(sizes == 2 || sizes == 4 ? sizes : 1);
			e->u.io.in = info & SVM_IOIO_IN;
			e->u.io.string = info & SVM_IOIO_STRING;
			e->u.io.rep = info & SVM_IOIO_REP;
			/* EXITINFO2 holds the next RIP for IOIO even without NRIPS (APM vol.2
			 * 15.10.2): no decode for IN/OUT */
			e->insn_len = svm_len_from_next_rip(info2, vmcb->save.rip);
			return;
		}
		case EXIT_UNKNOWN:
			if (code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_EXCEPTION_BASE + 32) {
				e->kind = EXIT_EXCEPTION;
				e->u.exception.vector = (uint8_t)(code - SVM_EXIT_EXCEPTION_BASE);
				e->u.exception.has_error_code = false;
				e->u.exception.error_code = (uint32_t)info1;
				return;
			}
			e->kind = EXIT_OTHER;
			break;
		default:
			break;
		}
	} else if (code == SVM_EXIT_NPF) {
		e->kind = EXIT_TDP_FAULT;
		e->u.tdp.gpa = info2;
		e->u.tdp.present = info1 & SVM_NPF_PRESENT;
		e->u.tdp.write = info1 & SVM_NPF_WRITE;
		e->u.tdp.fetch = info1 & SVM_NPF_FETCH;
		e->u.tdp.read = !e->u.tdp.write && !e->u.tdp.fetch;
		return;
	} else if (code == SVM_EXIT_INVALID) {
		e->kind = EXIT_INVALID_STATE;
		return;
	} else {
		e->kind = EXIT_OTHER;
	}
	if (nrips)
		e->insn_len = svm_len_from_next_rip(c->next_rip, vmcb->save.rip);
}

#endif
