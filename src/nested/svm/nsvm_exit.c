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
#include "nested/svm/decode_assists.h"
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
	/* FS, GS, TR, LDTR and the syscall MSRs stay in the CPU across #VMEXIT: they are in
	 * VMCB01 already (svm_vcpu.state_vmcb_pa), as L2 left them */
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

/* One VMCB02 field into L1's VMCB12 page (what #VMEXIT writes) and, where nestbed reads
 * it again (the checks at the next VMRUN, the legacy CS and CR3 rules here), into its
 * copy n->vmcb12 too: read once, stored where it goes. */
#define SAVE_OUT(field)                                 \
	do {                                            \
		__typeof__(s02->field) t_ = s02->field; \
		ls->field = t_;                         \
	} while (0)
#define SAVE_OUT2(field)                                \
	do {                                            \
		__typeof__(s02->field) t_ = s02->field; \
		ls->field = t_;                         \
		s->field = t_;                          \
	} while (0)

/* #VMEXIT of L2 into L1 (APM vol.2 15.6): VMCB12 gets what the CPU writes there, the
 * guest state it saves (ES, CS, SS, DS, GDTR, IDTR, CPL, EFER, CR0, CR2, CR3, CR4, DR6,
 * DR7, RFLAGS, RIP, RSP, RAX, and G_PAT with nested paging), the exit information, the
 * interrupt state, EVENTINJ cleared, nRIP and the instruction bytes (15.7, 15.33.4):
 * each written once into L1's page from VMCB02, nothing else of the page. n->vmcb12
 * keeps the control area and the save fields nestbed reads again (CS, EFER, CR0, CR3,
 * CR4, DR6, DR7: the next VMRUN's checks for the groups L1 marks clean, and the legacy
 * rules below); the others of a clean group are in VMCB02, where the next VMRUN finds
 * them. */
void nsvm_reflect(struct vcpu *v, struct nsvm *n, uint64_t code, uint64_t info1, uint64_t info2,
		  uint64_t next_rip)
{
	struct vmcb *v12 = &n->vmcb12;
	struct vmcb *live = n->vmcb12_live;
	const struct vmcb *v02 = n->vmcb02;
	struct vmcb_save *s = &v12->save, *ls = &live->save;
	const struct vmcb_save *s02 = &v02->save;
	bool legacy = !(s02->efer & EFER_LMA);
	if (legacy && s02->cs.selector == s->cs.selector && s02->cs.base == s->cs.base &&
	    s02->cs.limit == s->cs.limit && s02->cs.attrib == (s->cs.attrib & ~SEG_ATTR_L))
		ls->cs = s->cs; /* L2 kept L1's CS: L1 gets its CS.L back (build_vmcb02) */
	else
		SAVE_OUT2(cs);
	if (legacy && s02->cr3 == (s->cr3 & LEGACY_CR3_BITS))
		ls->cr3 = s->cr3; /* and its CR3 bits 63:32 */
	else
		SAVE_OUT2(cr3);
	SAVE_OUT(es);
	SAVE_OUT(ss);
	SAVE_OUT(ds);
	SAVE_OUT(gdtr);
	SAVE_OUT(idtr);
	SAVE_OUT(cpl);
	/* EFER as L2 wrote it: the CPU may hold LME back (svm_long_mode_entry.c) */
	ls->efer = s->efer = v->state.efer;
	SAVE_OUT2(cr0);
	SAVE_OUT(cr2);
	SAVE_OUT2(cr4);
	SAVE_OUT2(dr6);
	SAVE_OUT2(dr7);
	SAVE_OUT(rflags);
	SAVE_OUT(rsp);
	SAVE_OUT(rax);
	if (nsvm_np12(n))
		SAVE_OUT(g_pat);
	/* The event in flight, typed as the APM types it (svm_event.c). If it is the software
	 * event L1 injected and nestbed started L2 at its nRIP for a CPU without NRIPS
	 * (build_vmcb02), L1 gets back the RIP it gave: the CPU saves the RIP the delivery
	 * started from (APM 15.7.2), and L1 injects again with its own nRIP. */
	uint64_t in_flight = (v02->control.exitintinfo & SVM_EVENT_VALID) ? l2_event_in_flight(v, n) : 0;
	uint64_t rip = s02->rip;
	if (in_flight && n->soft_rip_moved && svm_event_is_soft(in_flight) && rip == v12->control.next_rip &&
	    (in_flight & SVM_EVENT_ID_MASK) == (svm_event_normalize(v12->control.eventinj) & SVM_EVENT_ID_MASK))
		rip = n->vmrun_rip12;
	ls->rip = rip;

	struct vmcb_control *c = &v12->control, *lc = &live->control;
	if (da_exit_may_assist((uint32_t)code))
		nsvm_decode_assists(v, n, (uint32_t)code, &info1, lc); /* while L2's state is current */
	else
		lc->insn_bytes_fetched = 0; /* the intercepts without bytes clear the count (15.33.4) */
	c->exitcode = lc->exitcode = code;
	c->exitinfo1 = lc->exitinfo1 = info1;
	c->exitinfo2 = lc->exitinfo2 = info2;
	c->exitintinfo = lc->exitintinfo = in_flight;
	c->interrupt_shadow = lc->interrupt_shadow = v02->control.interrupt_shadow;
	uint64_t vintr = (c->vintr & ~0x1ffull) | (v02->control.vintr & 0x1ffull); /* V_TPR, V_IRQ */
	if (n->l2_virq_held)
		vintr |= VINTR_V_IRQ; /* still pending: vGIF held it */
	if (n->l2_vgif) /* V_GIF as L2 left it */
		vintr = (vintr & ~VINTR_V_GIF) | (n->l2_v_gif ? VINTR_V_GIF : 0);
	c->vintr = lc->vintr = vintr;
	c->eventinj = lc->eventinj = 0;
	c->next_rip = lc->next_rip = next_rip;
	nsvm_switch_to_l1(v, n);
	/* A physical interrupt L1 intercepts is still pending in the APIC, and L1's GIF is 0
	 * now: with vGIF it waits for L1's STGI from here, as L1's own INTR exit at its
	 * first instruction would have decided (nsvm_l1_interrupt), without that exit. */
	if ((uint32_t)code == SVM_EXIT_INTR && n->l1_vgif)
		nsvm_l1_hold_interrupt(n);
}

/* The exit L1 gets for this exit of L2 (nsvm_reflect.c decides from VMCB12's intercepts
 * and L1's permission maps as they are now), or false. */
static __attribute__((noinline)) bool exit_for_l1(struct vcpu *v, const struct nsvm *n,
						  const struct exit *e, uint32_t *code)
{
	const struct nsvm_exit_controls *c = &n->l1_exits;
	struct nsvm_exit_event ev = { .code = (uint32_t)e->native_code };
	if (e->kind == EXIT_IO) {
		ev.port = e->u.io.port;
		ev.io_size = e->u.io.size;
	} else if (e->kind == EXIT_MSR_READ || e->kind == EXIT_MSR_WRITE) {
		ev.msr = e->u.msr;
		ev.msr_write = e->kind == EXIT_MSR_WRITE;
	}
	if (nsvm_needs_cr0_insn(c, ev.code)) {
		struct insn insn;
		if (!guest_insn_decode(v, &insn)) {
			ev.cr0_insn = insn.kind == INSN_KIND_CLTS ? NSVM_CR0_INSN_CLTS :
				      insn.kind == INSN_KIND_LMSW ? NSVM_CR0_INSN_LMSW : NSVM_CR0_INSN_MOV;
			ev.cr0_old = v->state.cr0;
			if (ev.cr0_insn == NSVM_CR0_INSN_MOV)
				svm_cr0_write_value(v, &ev.cr0_new);
		}
	}
	return nsvm_exit_for_l1(c, &ev, code);
}

static __attribute__((noinline)) void xcr0_check(struct vcpu *v, struct nsvm *n)
{
	uint64_t xcr0 = nsvm_read_xcr0();
	if (nsvm_xcr0_changed_unseen(&n->xcr0, xcr0))
		kprintf("nestbed: nested: CPU %u: XCR0 went from %#llx to %#llx while L2 ran, with no "
			"XSETBV #VMEXIT though L1 intercepts XSETBV: the CPU ignored the intercept "
			"(APM vol.2 15.9); L1 no longer knows its guest's XCR0 (reported once)\n",
			v->id, (unsigned long long)n->xcr0.at_vmrun, (unsigned long long)xcr0);
}

/* nestbed's checks passed VMCB12 (nsvm_check_vmcb12) and the CPU refused the VMCB
 * nestbed built from it: nestbed's bug, not L1's. What the CPU wrote into VMCB02 on the
 * failure is nestbed's own state; none of it may reach VMCB12. */
static __attribute__((noinline, noreturn)) void vmcb02_refused(struct vcpu *v, const struct nsvm *n)
{
	kprintf("nestbed: nested: the CPU refused VMCB02 (VMEXIT_INVALID) built from the VMCB "
		"at %#llx that nestbed's checks passed: nestbed's bug, stopped\n",
		(unsigned long long)n->vmcb12_pa);
	if (v->ops->dump)
		v->ops->dump(v);
	platform_exit(EXIT_CODE_FATAL);
}

bool nsvm_reflect_if_wanted(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	if (!n->in_l2 || e->kind == EXIT_TDP_FAULT)
		return false;
	uint64_t code = e->native_code;
	uint64_t info1 = e->info1, info2 = e->info2;
	if (n->xcr0.armed)
		xcr0_check(v, n);
	if ((uint32_t)code == SVM_EXIT_INVALID)
		vmcb02_refused(v, n);
	if ((uint32_t)code == SVM_EXIT_NMI && !n->gif) {
		/* L2 cleared its GIF: the NMI waits for its STGI (or the next #VMEXIT) */
		n->nmi_held_l2 = true;
		return true;
	}
	uint32_t code12 = (uint32_t)code;
	bool wanted = nsvm_exit_needs_event(code12) ? exit_for_l1(v, n, e, &code12)
						    : nsvm_intercepted(&n->l1_exits, code12);
	if (!wanted) {
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
