/* L2's exits: reflected to L1 when VMCB12 intercepts them, as the #VMEXIT a CPU would
 * give it (APM vol.2 15.6: L2's state and the exit information into VMCB12, L1's state
 * back), or left to nestbed. */
#include "nested/svm/nsvm.h"

#include <stddef.h>

#include "core/console.h"
#include "core/cpu.h"
#include "core/cr0_write.h"
#include "core/guest_mem.h"
#include "core/platform.h"
#include "core/run.h"
#include "core/string.h"
#include "core/vmm.h"
#include "nested/svm/nsvm_reflect.h"

/* ---- leaving L2: the #VMEXIT L1 sees (APM vol.2 15.6) ---- */

/* nRIP is saved for instruction intercepts (APM vol.2 15.7.1): CR/DR accesses,
 * 0x65..0x7c (selective CR0 write, descriptor-table accesses, RDTSC ... MSR), and
 * 0x80..0x8e (VMRUN ... RDPRU), and for the exceptions instructions raise as traps
 * (#BP from INT3, #OF from INTO); not for other exceptions, interrupts, NPF or shutdown. */
#define SVM_EXIT_EXCEPTION_BP (SVM_EXIT_EXCEPTION_BASE + 3)
#define SVM_EXIT_EXCEPTION_OF (SVM_EXIT_EXCEPTION_BASE + 4)

static bool exit_has_next_rip(uint32_t code)
{
	return code <= 0x3f || code == SVM_EXIT_EXCEPTION_BP || code == SVM_EXIT_EXCEPTION_OF ||
	       (code >= 0x65 && code <= 0x7c) || (code >= 0x80 && code <= 0x8e);
}

void nsvm_switch_to_l1(struct vcpu *v, struct nsvm *n)
{
	struct svm_vcpu *sv = v->backend;
	/* FS, GS, TR, LDTR and the syscall MSRs stay in the CPU across #VMEXIT */
	nsvm_copy_vmload_state(&n->vmcb01->save, &n->vmcb02->save);
	sv->vmcb = n->vmcb01;
	sv->vmcb_pa = n->vmcb01_pa;
	sv->host_if = false;
	/* #VMEXIT reloads RIP, RSP, RAX and the segment and control state from the host
	 * save area; every other general-purpose register keeps L2's value (APM 15.6): L1's
	 * state from RSP on, and its RAX, without copying the registers twice. */
	memcpy(&v->state.rsp, &n->l1_state.rsp,
	       sizeof(v->state) - offsetof(struct vcpu_state, rsp));
	v->state.gpr.rax = n->l1_state.gpr.rax;
	v->level = 1;
	n->in_l2 = false;
	nsvm_l1_set_gif(n, false); /* GIF=0: hold physical interrupts and NMIs */
	if (n->nmi_held_l2) /* held by L2's GIF 0: still pending, L1's after its STGI */
		n->nmi_pending_l1 = true;
	n->nmi_held_l2 = false;
}

/* INT3 (CCh) and INTO (CEh) raise #BP and #OF, exceptions (type 3, APM vol.2 15.20),
 * where INT 3 and INT 4 (CDh ib) are software interrupts (type 4). */
#define OPCODE_INT3 0xcc
#define OPCODE_INTO 0xce

/* The event whose delivery L2's exit interrupted, as the APM types it (svm_event.c); a
 * CPU that types L2's own INT3 or INTO as a software interrupt (QEMU 7.2) is corrected
 * from the instruction at L2's RIP, where the delivery started. */
static uint64_t l2_event_in_flight(const struct vcpu *v, const struct nsvm *n)
{
	uint64_t ev = svm_event_normalize(n->vmcb02->control.exitintinfo);
	uint64_t id = ev & SVM_EVENT_ID_MASK, vector = ev & SVM_EVENT_VECTOR_MASK;
	bool injected = (n->vmcb12.control.eventinj & SVM_EVENT_VALID) &&
			(n->vmcb12.control.eventinj & SVM_EVENT_ID_MASK) == id;
	if (injected || id >> SVM_EVENT_TYPE_SHIFT != SVM_EVENT_TYPE_SOFT_INT ||
	    (vector != VECTOR_BP && vector != VECTOR_OF))
		return ev;
	uint8_t opcode;
	if (guest_linear_read(v, v->state.cs_base + v->state.rip, &opcode, 1) != 1 ||
	    opcode != (vector == VECTOR_BP ? OPCODE_INT3 : OPCODE_INTO))
		return ev;
	return (ev & ~SVM_EVENT_TYPE_MASK) | (SVM_EVENT_TYPE_EXCEPTION << SVM_EVENT_TYPE_SHIFT);
}

static void copy_segment(struct vmcb_segment *dst, const struct vmcb_segment *src)
{
	*dst = *src;
}

/* What #VMEXIT writes into the VMCB (APM vol.2 15.6): the guest state it saves, the exit
 * information, the interrupt state, EVENTINJ; nothing else of the page. */
static void write_vmcb12(struct nsvm *n)
{
	struct vmcb *live = n->vmcb12_live;
	const struct vmcb_save *s = &n->vmcb12.save;
	const struct vmcb_control *c = &n->vmcb12.control;
	copy_segment(&live->save.es, &s->es);
	copy_segment(&live->save.cs, &s->cs);
	copy_segment(&live->save.ss, &s->ss);
	copy_segment(&live->save.ds, &s->ds);
	copy_segment(&live->save.gdtr, &s->gdtr);
	copy_segment(&live->save.idtr, &s->idtr);
	live->save.cpl = s->cpl;
	live->save.efer = s->efer;
	live->save.cr4 = s->cr4;
	live->save.cr3 = s->cr3;
	live->save.cr0 = s->cr0;
	live->save.dr7 = s->dr7;
	live->save.dr6 = s->dr6;
	live->save.rflags = s->rflags;
	live->save.rip = s->rip;
	live->save.rsp = s->rsp;
	live->save.rax = s->rax;
	live->save.cr2 = s->cr2;
	live->save.g_pat = s->g_pat;
	live->control.vintr = c->vintr;
	live->control.interrupt_shadow = c->interrupt_shadow;
	live->control.exitcode = c->exitcode;
	live->control.exitinfo1 = c->exitinfo1;
	live->control.exitinfo2 = c->exitinfo2;
	live->control.exitintinfo = c->exitintinfo;
	live->control.eventinj = c->eventinj;
	live->control.next_rip = c->next_rip;
	live->control.insn_bytes_fetched = c->insn_bytes_fetched;
	for (unsigned i = 0; i < sizeof(c->insn_bytes); i++)
		live->control.insn_bytes[i] = c->insn_bytes[i];
}

void nsvm_reflect(struct vcpu *v, struct nsvm *n, uint64_t code, uint64_t info1, uint64_t info2,
		  uint64_t next_rip)
{
	struct vmcb *v12 = &n->vmcb12;
	const struct vmcb *v02 = n->vmcb02;
	struct vmcb_save *s = &v12->save;
	const struct vmcb_save *s02 = &v02->save;
	bool legacy_cs_kept = !(s02->efer & EFER_LMA) && s02->cs.selector == s->cs.selector &&
			      s02->cs.base == s->cs.base && s02->cs.limit == s->cs.limit &&
			      s02->cs.attrib == (s->cs.attrib & ~SEG_ATTR_L);
	s->es = s02->es;
	if (!legacy_cs_kept)
		s->cs = s02->cs;
	s->ss = s02->ss;
	s->ds = s02->ds;
	s->gdtr = s02->gdtr;
	s->idtr = s02->idtr;
	s->cpl = s02->cpl;
	s->efer = v->state.efer; /* as L2 wrote it: the CPU may hold LME back (svm_long_mode_entry.c) */
	s->cr0 = s02->cr0;
	s->cr2 = s02->cr2;
	bool legacy_cr3_kept = !(s02->efer & EFER_LMA) && s02->cr3 == (s->cr3 & LEGACY_CR3_BITS);
	s->cr3 = legacy_cr3_kept ? s->cr3 : s02->cr3;
	s->cr4 = s02->cr4;
	s->dr6 = s02->dr6;
	s->dr7 = s02->dr7;
	s->rflags = s02->rflags;
	s->rip = s02->rip;
	/* The event in flight, typed as the APM types it (svm_event.c). If it is the software
	 * event L1 injected and nestbed started L2 at its nRIP for a CPU without NRIPS
	 * (build_vmcb02), L1 gets back the RIP it gave: the CPU saves the RIP the delivery
	 * started from (APM 15.7.2), and L1 injects again with its own nRIP. */
	uint64_t in_flight = l2_event_in_flight(v, n);
	if (n->soft_rip_moved && svm_event_is_soft(in_flight) && s02->rip == v12->control.next_rip &&
	    (in_flight & SVM_EVENT_ID_MASK) == (svm_event_normalize(v12->control.eventinj) & SVM_EVENT_ID_MASK))
		s->rip = n->vmrun_rip12;
	s->rsp = s02->rsp;
	s->rax = s02->rax;
	if (nsvm_np12(n))
		s->g_pat = s02->g_pat;
	struct vmcb_control *c = &v12->control;
	nsvm_decode_assists(v, n, (uint32_t)code, &info1, c); /* while L2's state is current */
	c->exitcode = code;
	c->exitinfo1 = info1;
	c->exitinfo2 = info2;
	c->exitintinfo = in_flight;
	c->interrupt_shadow = v02->control.interrupt_shadow;
	c->vintr = (c->vintr & ~0x1ffull) | (v02->control.vintr & 0x1ffull); /* V_TPR, V_IRQ */
	if (n->l2_virq_held)
		c->vintr |= VINTR_V_IRQ; /* still pending: vGIF held it */
	if (n->l2_vgif) /* V_GIF as L2 left it */
		c->vintr = (c->vintr & ~VINTR_V_GIF) | (n->l2_v_gif ? VINTR_V_GIF : 0);
	c->eventinj = 0;
	c->next_rip = next_rip;
	/* VMCB12 lives in L1's memory (an L1-physical address, checked at VMRUN), whatever
	 * level runs now: the fields #VMEXIT writes */
	write_vmcb12(n);
	nsvm_switch_to_l1(v, n);
	/* A physical interrupt L1 intercepts is still pending in the APIC, and L1's GIF is 0
	 * now: with vGIF it waits for L1's STGI from here, as L1's own INTR exit at its
	 * first instruction would have decided (nsvm_l1_interrupt), without that exit. */
	if ((uint32_t)code == SVM_EXIT_INTR && n->l1_vgif)
		nsvm_l1_hold_interrupt(n);
}

/* The exit L1 gets for this exit of L2 (nsvm_reflect.c decides from VMCB12's intercepts
 * and L1's permission maps as they are now), or false. */
static bool exit_for_l1(struct vcpu *v, const struct nsvm *n, const struct exit *e, uint32_t *code)
{
	const struct vmcb_control *c12 = &n->vmcb12.control;
	struct nsvm_exit_controls c = { .intercept_cr = c12->intercept_cr,
					.intercept_dr = c12->intercept_dr,
					.intercept_exceptions = c12->intercept_exceptions,
					.intercept_misc1 = c12->intercept_misc1,
					.intercept_misc2 = c12->intercept_misc2,
					.iopm = n->iopm12,
					.msrpm = n->msrpm12 };
	struct nsvm_exit_event ev = { .code = (uint32_t)e->native_code };
	if (e->kind == EXIT_IO) {
		ev.port = e->u.io.port;
		ev.io_size = e->u.io.size;
	} else if (e->kind == EXIT_MSR_READ || e->kind == EXIT_MSR_WRITE) {
		ev.msr = e->u.msr;
		ev.msr_write = e->kind == EXIT_MSR_WRITE;
	}
	if (nsvm_needs_cr0_insn(&c, ev.code)) {
		struct insn insn;
		if (!guest_insn_decode(v, &insn)) {
			ev.cr0_insn = insn.kind == INSN_KIND_CLTS ? NSVM_CR0_INSN_CLTS :
				      insn.kind == INSN_KIND_LMSW ? NSVM_CR0_INSN_LMSW : NSVM_CR0_INSN_MOV;
			ev.cr0_old = v->state.cr0;
			if (ev.cr0_insn == NSVM_CR0_INSN_MOV)
				svm_cr0_write_value(v, &ev.cr0_new);
		}
	}
	return nsvm_exit_for_l1(&c, &ev, code);
}

bool nsvm_reflect_if_wanted(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	if (!n->in_l2 || e->kind == EXIT_TDP_FAULT)
		return false;
	uint64_t code = e->native_code;
	uint64_t info1 = e->info1, info2 = e->info2;
	if (n->xcr0.armed) {
		uint64_t xcr0 = nsvm_read_xcr0();
		if (nsvm_xcr0_changed_unseen(&n->xcr0, xcr0))
			kprintf("nestbed: nested: CPU %u: XCR0 went from %#llx to %#llx while L2 ran, with no "
				"XSETBV #VMEXIT though L1 intercepts XSETBV: the CPU ignored the intercept "
				"(APM vol.2 15.9); L1 no longer knows its guest's XCR0 (reported once)\n",
				v->id, (unsigned long long)n->xcr0.at_vmrun, (unsigned long long)xcr0);
	}
	if ((uint32_t)code == SVM_EXIT_INVALID) {
		/* nestbed's checks passed VMCB12 (nsvm_check_vmcb12) and the CPU refused the VMCB
		 * nestbed built from it: nestbed's bug, not L1's. What the CPU wrote into VMCB02
		 * on the failure is nestbed's own state; none of it may reach VMCB12. */
		kprintf("nestbed: nested: the CPU refused VMCB02 (VMEXIT_INVALID) built from the VMCB "
			"at %#llx that nestbed's checks passed: nestbed's bug, stopped\n",
			(unsigned long long)n->vmcb12_pa);
		if (v->ops->dump)
			v->ops->dump(v);
		platform_exit(EXIT_CODE_FATAL);
	}
	if ((uint32_t)code == SVM_EXIT_NMI && !n->gif) {
		/* L2 cleared its GIF: the NMI waits for its STGI (or the next #VMEXIT) */
		n->nmi_held_l2 = true;
		return true;
	}
	uint32_t code12;
	if (!exit_for_l1(v, n, e, &code12)) {
		/* a stale merged map's exit runs the instruction again; otherwise nestbed's to
		 * handle for L2: a VMMCALL gets #UD there */
		return nsvm_maps_retry(v, n, e);
	}
	if (code12 != (uint32_t)code) {
		/* VMMCALL's #UD: the exception exit, with no error code (15.12); or the
		 * selective CR0 write, with the CR0 write's information */
		if (code12 == SVM_EXIT_EXCEPTION_BASE + VECTOR_UD)
			info1 = info2 = 0;
		code = code12;
	}
	uint64_t next_rip = 0;
	if (exit_has_next_rip((uint32_t)code)) {
		unsigned len = e->insn_len ? e->insn_len : guest_insn_length(v);
		next_rip = len ? n->vmcb02->save.rip + len : 0;
	}
	if ((uint32_t)code == SVM_EXIT_NMI)
		n->nmi_pending_l1 = true; /* the NMI itself: L1's after its STGI */
	nsvm_reflect(v, n, code, info1, info2, next_rip);
	return true;
}
