#include "nested/svm/nsvm.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/cpuid_policy.h"
#include "core/cr0_write.h"
#include "core/guest_mem.h"
#include "core/machine.h"
#include "core/memory.h"
#include "core/platform.h"
#include "core/run.h"
#include "core/string.h"
#include "core/vmm.h"
#include "nested/nested.h"
#include "nested/npt_walk.h"
#include "nested/svm/vmcb12_check.h"

#define VECTOR_UD 6
#define VECTOR_GP 13
#define VECTOR_NMI 2
#define VECTOR_BP 3
#define VECTOR_OF 4
#define VM_CR_SVMDIS_BIT (1ull << 4)
#define SVM_EXIT_INVALID_64 0xffffffffffffffffull /* VMEXIT_INVALID, APM vol.2 appendix C */
#define RFLAGS_IF (1ull << 9)
#define PAGE_MASK 0xfffull
/* EFER bits: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE (APM vol.2 3.1.7). */
#define EFER_ALLOWED_12 0xfd01ull
#define LEGACY_CR3_BITS 0xffffffffull
#define SEG_ATTR_L (1u << 9) /* CS.L, APM vol.2 4.8.1 */
#define SHADOW_NPT_FLAGS (PTE_U)

static struct nsvm *nsvm_of(const struct vcpu *v)
{
	return v->nested_state;
}

static uint64_t phys_addr_mask(void)
{
	uint32_t width = cpuid(0x80000008u, 0).eax & 0xff; /* APM vol.3 E.4.7 */
	if (width < 36 || width > 52)
		width = 48;
	return ~((1ull << width) - 1);
}

static void inject(struct vcpu *v, uint8_t vector, bool has_error)
{
	struct event ev = { .type = EVENT_EXCEPTION, .vector = vector, .has_error_code = has_error };
	v->ops->inject(v, &ev);
}

/* ---- the state VMLOAD/VMSAVE move (APM vol.2 15.5.2) ---- */

static void copy_vmload_state(struct vmcb_save *dst, const struct vmcb_save *src)
{
	dst->fs = src->fs;
	dst->gs = src->gs;
	dst->tr = src->tr;
	dst->ldtr = src->ldtr;
	dst->kernel_gs_base = src->kernel_gs_base;
	dst->star = src->star;
	dst->lstar = src->lstar;
	dst->cstar = src->cstar;
	dst->sfmask = src->sfmask;
	dst->sysenter_cs = src->sysenter_cs;
	dst->sysenter_esp = src->sysenter_esp;
	dst->sysenter_eip = src->sysenter_eip;
}

/* ---- shadow NPT ---- */

static void shadow_drop(struct nsvm *n)
{
	paging_free_tables(&n->shadow);
	n->shadow_ncr3_12 = 0;
	n->flush_l2 = true;
}

static int shadow_ensure(struct nsvm *n)
{
	if (n->shadow.root)
		return 0;
	return paging_init(&n->shadow, &nestbed_frames, identity_frame_ptr);
}

static int read_l1_phys(void *ctx, uint64_t pa, uint64_t *value)
{
	(void)ctx;
	return guest_phys_read(pa, value, sizeof(*value));
}

static int walk_l1_npt(const struct vcpu *v, const struct nsvm *n, uint64_t gpa, bool write,
		       bool fetch, struct npt_walk_result *r)
{
	struct npt_walk_ctx c = { .root = n->vmcb12.control.n_cr3,
				  .nxe = (n->l1_state.efer & EFER_NXE) != 0,
				  .phys_addr_mask = phys_addr_mask(),
				  .read_phys = read_l1_phys };
	(void)v;
	return npt_walk(&c, gpa, write, fetch, r);
}

static bool np12(const struct nsvm *n)
{
	return (n->vmcb12.control.np_control & SVM_NP_ENABLE) != 0;
}

static int nsvm_l2_gpa_to_hpa(const struct vcpu *v, uint64_t gpa, uint64_t *hpa, uint64_t *page_end)
{
	const struct nsvm *n = nsvm_of(v);
	if (!np12(n)) {
		*hpa = gpa;
		*page_end = (gpa | PAGE_MASK) + 1;
		return 0;
	}
	struct npt_walk_result r;
	if (walk_l1_npt(v, n, gpa, false, false, &r))
		return -1;
	*hpa = r.pa;
	*page_end = (gpa | PAGE_MASK) + 1;
	return 0;
}

/* ---- entering L2 ---- */

static bool insn_checks(struct vcpu *v, uint64_t pa)
{
	if (!(v->state.efer & EFER_SVME)) {
		inject(v, VECTOR_UD, false); /* SVM instructions need EFER.SVME (APM 15.4) */
		return false;
	}
	if (v->state.cpl != 0 || (pa & PAGE_MASK) || (pa & phys_addr_mask())) {
		inject(v, VECTOR_GP, true);
		return false;
	}
	return true;
}

static void or_maps(uint64_t *dst, const uint64_t *a, const uint64_t *b, unsigned words)
{
	for (unsigned i = 0; i < words; i++)
		dst[i] = a[i] | b[i];
}

static void build_vmcb02(struct nsvm *n)
{
	const struct vmcb *v12 = &n->vmcb12;
	struct vmcb *v02 = n->vmcb02;
	struct vmcb_control *c = &v02->control;
	memset(c, 0, sizeof(*c));
	c->intercept_cr = v12->control.intercept_cr;
	c->intercept_dr = v12->control.intercept_dr;
	c->intercept_exceptions = v12->control.intercept_exceptions;
	/* nestbed's own needs for any guest: CPUID policy, its MSRs and the exit port, a
	 * machine-wide shutdown, and the instructions that would reach real SVM state. */
	c->intercept_misc1 = v12->control.intercept_misc1 | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_IOIO |
			     SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_INVLPGA |
			     SVM_INTERCEPT_INIT | SVM_INTERCEPT_NMI;
	c->intercept_misc2 = v12->control.intercept_misc2 | SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL |
			     SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI |
			     SVM_INTERCEPT_CLGI | SVM_INTERCEPT_SKINIT;
	c->intercept_misc3 = 0;
	/* permission maps: L1's ORed with nestbed's, 64 bits at a time */
	or_maps((uint64_t *)n->iopm02, (const uint64_t *)n->iopm12,
		phys_to_virt(n->vmcb01->control.iopm_base_pa), sizeof(n->iopm12) / 8);
	or_maps((uint64_t *)n->msrpm02, (const uint64_t *)n->msrpm12,
		phys_to_virt(n->vmcb01->control.msrpm_base_pa), sizeof(n->msrpm12) / 8);
	c->iopm_base_pa = n->iopm02_pa;
	c->msrpm_base_pa = n->msrpm02_pa;
	c->tsc_offset = n->vmcb01->control.tsc_offset + v12->control.tsc_offset;
	c->guest_asid = NSVM_L2_ASID;
	c->vintr = v12->control.vintr & ~VINTR_VGIF_BITS;
	/* vGIF: with V_GIF 0 a virtual interrupt waits (kept out of VMCB02 until L2's STGI) */
	n->l2_vgif = (v12->control.vintr & VINTR_V_GIF_ENABLE) != 0;
	n->l2_v_gif = (v12->control.vintr & VINTR_V_GIF) != 0;
	n->l2_virq_held = n->l2_vgif && !n->l2_v_gif && (c->vintr & VINTR_V_IRQ);
	if (n->l2_virq_held)
		c->vintr &= ~VINTR_V_IRQ;
	c->interrupt_shadow = v12->control.interrupt_shadow;
	c->eventinj = v12->control.eventinj;
	c->np_control = SVM_NP_ENABLE;
	c->n_cr3 = np12(n) ? n->shadow.root : n->vmcb01->control.n_cr3;

	bool flush = n->flush_l2 || v12->control.tlb_control ||
		     v12->control.guest_asid != n->last_asid12;
	c->tlb_control = flush ? SVM_TLB_CONTROL_FLUSH_ALL : 0;
	n->flush_l2 = false;
	n->last_asid12 = v12->control.guest_asid;

	/* A software interrupt injected with NRIPS returns to nRIP (APM 15.20): copy it, or,
	 * on a CPU without NRIPS, start L2 there so the pushed return address is the same. */
	c->next_rip = v12->control.next_rip;
	v02->save = v12->save;
	/* INT3's #BP and INTO's #OF injected as exceptions return to nRIP too (APM 15.20). */
	n->soft_rip_moved = svm_event_is_soft(v12->control.eventinj) && v12->control.next_rip &&
			    !n->host_nrips;
	n->vmrun_rip12 = v12->save.rip;
	if (n->soft_rip_moved)
		v02->save.rip = v12->control.next_rip;
	copy_vmload_state(&v02->save, &n->vmcb01->save); /* VMRUN leaves these as they are */
	/* Outside long mode CR3 is a 32-bit register (APM vol.2 3.1.2): bits 63:32 mean
	 * nothing to L2, so VMCB02 leaves them out. QEMU checks CR3's bits 63:52 at VMRUN
	 * against the host's long mode rather than the guest's, and would refuse the L2 of a
	 * legacy-mode VMCB12 with them set because nestbed runs in long mode. reflect() gives
	 * L1 its own value back while L2 has not changed CR3. */
	if (!(v12->save.efer & EFER_LME) || !(v12->save.cr0 & CR0_PG))
		v02->save.cr3 &= LEGACY_CR3_BITS;
	/* CS.L means nothing outside long mode (APM vol.2 4.8.1; 15.5.1 refuses it only with
	 * EFER.LME, CR0.PG, CR4.PAE and CS.D): Bochs 2.7 refuses the VMRUN of a legacy-mode
	 * guest with CS.L set, so VMCB02 leaves it out; reflect() gives L1 its value back
	 * while L2 has not loaded CS. */
	if (!(v12->save.efer & EFER_LME) || !(v12->save.cr0 & CR0_PG))
		v02->save.cs.attrib &= ~SEG_ATTR_L;
	if (!np12(n))
		v02->save.g_pat = n->vmcb01->save.g_pat;
}

static void vmexit_invalid(struct nsvm *n, const char *rule)
{
	kprintf("nestbed: nested: VMRUN of the VMCB at %#llx fails its checks: %s (VMEXIT_INVALID to L1)\n",
		(unsigned long long)n->vmcb12_pa, rule);
	n->vmcb12.control.exitcode = SVM_EXIT_INVALID_64;
	n->vmcb12.control.exitinfo1 = 0;
	n->vmcb12.control.exitinfo2 = 0;
	n->vmcb12.control.exitintinfo = 0;
	guest_phys_write(n->vmcb12_pa + __builtin_offsetof(struct vmcb, control.exitcode),
			 &n->vmcb12.control.exitcode, 4 * sizeof(uint64_t));
	n->gif = false; /* a #VMEXIT clears GIF (APM 15.17) */
	n->vmcb01->control.vintr |= VINTR_MASKING;
}

static void emulate_vmrun(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	uint64_t pa = v->state.gpr.rax;
	if (!insn_checks(v, pa))
		return;
	if (guest_phys_read(pa, &n->vmcb12, sizeof(n->vmcb12))) {
		inject(v, VECTOR_GP, true);
		return;
	}
	n->vmcb12_pa = pa;
	vcpu_skip_instruction(v, e); /* L1 resumes after VMRUN when L2 exits */

	struct nsvm_check_limits lim = { phys_addr_mask(), EFER_ALLOWED_12, n->cr4_allowed };
	const char *rule = nsvm_check_vmcb12(&n->vmcb12, &lim);
	if (rule) {
		vmexit_invalid(n, rule);
		return;
	}
	if (guest_phys_read(n->vmcb12.control.iopm_base_pa & ~PAGE_MASK, n->iopm12, sizeof(n->iopm12)) ||
	    guest_phys_read(n->vmcb12.control.msrpm_base_pa & ~PAGE_MASK, n->msrpm12, sizeof(n->msrpm12))) {
		vmexit_invalid(n, "the I/O or MSR permission map is not in L1's memory");
		return;
	}
	if (np12(n)) {
		if (n->vmcb12.control.tlb_control || n->shadow_ncr3_12 != n->vmcb12.control.n_cr3 ||
		    n->vmcb12.control.guest_asid != n->last_asid12)
			shadow_drop(n);
		if (shadow_ensure(n))
			guest_failure(v, "nested: out of memory for the shadow NPT");
		n->shadow_ncr3_12 = n->vmcb12.control.n_cr3;
	}

	/* L1's state stays in VMCB01 and here; L2 gets VMCB02. */
	n->l1_state = v->state;
	struct svm_vcpu *sv = v->backend;
	build_vmcb02(n);
	sv->vmcb = n->vmcb02;
	sv->vmcb_pa = n->vmcb02_pa;
	sv->host_if = (n->l1_state.rflags & RFLAGS_IF) != 0;
	svm_state_from_vmcb(v, sv);
	v->state.gpr.rax = n->vmcb02->save.rax;
	v->state.efer = n->vmcb12.save.efer;
	v->level = 2;
	n->in_l2 = true;
	n->gif = true;
}

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

static void switch_to_l1(struct vcpu *v, struct nsvm *n)
{
	struct svm_vcpu *sv = v->backend;
	/* FS, GS, TR, LDTR and the syscall MSRs stay in the CPU across #VMEXIT */
	copy_vmload_state(&n->vmcb01->save, &n->vmcb02->save);
	sv->vmcb = n->vmcb01;
	sv->vmcb_pa = n->vmcb01_pa;
	sv->host_if = false;
	/* #VMEXIT reloads RIP, RSP, RAX and the segment and control state from the host
	 * save area; every other general-purpose register keeps L2's value (APM 15.6). */
	struct gprs l2_gprs = v->state.gpr;
	v->state = n->l1_state;
	v->state.gpr = l2_gprs;
	v->state.gpr.rax = n->l1_state.gpr.rax;
	v->level = 1;
	n->in_l2 = false;
	n->gif = false;
	if (n->nmi_held_l2) /* held by L2's GIF 0: still pending, L1's after its STGI */
		n->nmi_pending_l1 = true;
	n->nmi_held_l2 = false;
	n->vmcb01->control.vintr |= VINTR_MASKING; /* GIF=0: hold physical interrupts */
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

static void reflect(struct vcpu *v, struct nsvm *n, uint64_t code, uint64_t info1, uint64_t info2,
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
	if (np12(n))
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
	/* VMCB12 lives in L1's memory (an L1-physical address), whatever level runs now */
	if (guest_phys_write(n->vmcb12_pa, v12, sizeof(*v12))) {
		/* L1 moved its VMCB out of its own memory meanwhile: nothing sane to do */
		guest_failure(v, "nested: cannot write the #VMEXIT into the VMCB at %#llx",
			      (unsigned long long)n->vmcb12_pa);
	}
	switch_to_l1(v, n);
}

/* Does L1 intercept this exit of its guest? (from VMCB12 and its permission maps) */
static bool l1_intercepts(const struct nsvm *n, const struct exit *e)
{
	const struct vmcb_control *c = &n->vmcb12.control;
	uint32_t code = (uint32_t)e->native_code;
	if (code <= 0x0f)
		return (c->intercept_cr >> code) & 1;
	if (code <= 0x1f)
		return (c->intercept_cr >> code) & 1;
	if (code <= 0x3f)
		return (c->intercept_dr >> (code - 0x20)) & 1;
	if (code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_EXCEPTION_BASE + 32)
		return (c->intercept_exceptions >> (code - SVM_EXIT_EXCEPTION_BASE)) & 1;
	if (code == SVM_EXIT_IOIO) {
		if (!(c->intercept_misc1 & SVM_INTERCEPT_IOIO))
			return false;
		for (unsigned p = e->u.io.port; p < (unsigned)e->u.io.port + e->u.io.size; p++)
			if ((n->iopm12[p / 8] >> (p % 8)) & 1)
				return true;
		return false;
	}
	if (code == SVM_EXIT_MSR) {
		if (!(c->intercept_misc1 & SVM_INTERCEPT_MSR))
			return false;
		uint32_t msr = e->u.msr, base;
		if (msr <= 0x1fff)
			base = 0;
		else if (msr >= 0xC0000000u && msr <= 0xC0001fffu)
			base = 0x800 * 8, msr -= 0xC0000000u;
		else if (msr >= 0xC0010000u && msr <= 0xC0011fffu)
			base = 0x1000 * 8, msr -= 0xC0010000u;
		else
			return true; /* outside the map: always intercepted */
		uint32_t bit = base + msr * 2 + (e->kind == EXIT_MSR_WRITE ? 1 : 0);
		return (n->msrpm12[bit / 8] >> (bit % 8)) & 1;
	}
	if (code >= 0x60 && code <= 0x7f)
		return (c->intercept_misc1 >> (code - 0x60)) & 1;
	if (code >= 0x80 && code <= 0x9f)
		return (c->intercept_misc2 >> (code - 0x80)) & 1;
	return false;
}

static bool l1_intercepts_ud(const struct nsvm *n)
{
	return (n->vmcb12.control.intercept_exceptions >> VECTOR_UD) & 1;
}

/* nestbed intercepts every CR0 write of an L2 that uses EFER.LME (svm_long_mode_entry.c);
 * when L1 asked only for the selective CR0-write intercept, it gets that exit for a MOV to
 * CR0 that changes a bit other than TS or MP, and for every LMSW, which treats the
 * selective intercept as a non-selective one (APM vol.2 15.9, table 15-7); CLTS never. */
#define SVM_INTERCEPT_CR0_SEL_WRITE_MISC1 (1u << (SVM_EXIT_CR0_SEL_WRITE - 0x60))
#define CR0_SELECTIVE_IGNORED (CR0_TS | CR0_MP)

static bool l1_wants_selective_cr0(struct vcpu *v, const struct nsvm *n, const struct exit *e)
{
	if ((uint32_t)e->native_code != SVM_EXIT_CR0_WRITE ||
	    !(n->vmcb12.control.intercept_misc1 & SVM_INTERCEPT_CR0_SEL_WRITE_MISC1))
		return false;
	struct insn insn;
	uint64_t value;
	if (guest_insn_decode(v, &insn) || insn.kind == INSN_KIND_CLTS)
		return false;
	if (insn.kind == INSN_KIND_LMSW)
		return true;
	svm_cr0_write_value(v, &value);
	return ((value ^ v->state.cr0) & ~CR0_SELECTIVE_IGNORED) != 0;
}

static bool nsvm_reflect_if_wanted(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	if (!n->in_l2 || e->kind == EXIT_TDP_FAULT)
		return false;
	uint64_t code = e->native_code;
	uint64_t info1 = e->info1, info2 = e->info2;
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
	if (!l1_intercepts(n, e)) {
		if ((uint32_t)code == SVM_EXIT_VMMCALL && l1_intercepts_ud(n)) {
			/* nestbed intercepts VMMCALL for itself; L1 does not, so on a CPU the
			 * instruction raises #UD in L2 (APM vol.3 VMMCALL), which L1 intercepts:
			 * the exception exit, with no error code (15.12) */
			code = SVM_EXIT_EXCEPTION_BASE + VECTOR_UD;
			info1 = info2 = 0;
		} else if (l1_wants_selective_cr0(v, n, e)) {
			code = SVM_EXIT_CR0_SEL_WRITE;
		} else {
			return false; /* nestbed's to handle for L2: a VMMCALL gets #UD there */
		}
	}
	uint64_t next_rip = 0;
	if (exit_has_next_rip((uint32_t)code)) {
		unsigned len = e->insn_len ? e->insn_len : guest_insn_length(v);
		next_rip = len ? n->vmcb02->save.rip + len : 0;
	}
	if ((uint32_t)code == SVM_EXIT_NMI)
		n->nmi_pending_l1 = true; /* the NMI itself: L1's after its STGI */
	reflect(v, n, code, info1, info2, next_rip);
	return true;
}

/* A posted INIT is due (the core's mailbox): held while L1's GIF is 0 (APM vol.2
 * 15.17.1), or, while L2 runs and L1 intercepts INIT, #VMEXIT 63h after which L1 runs
 * with GIF 0 until its STGI; otherwise the vCPU takes it now: L2's state, if any, is
 * gone with the reset, and L1 starts from INIT with GIF 1. */
static enum nested_init nsvm_init_signal(struct vcpu *v)
{
	struct nsvm *n = nsvm_of(v);
	if (n->in_l2 && !n->gif)
		return NESTED_INIT_HELD; /* L2 cleared GIF (15.17.1) */
	if (n->in_l2) {
		if (n->vmcb12.control.intercept_misc1 & SVM_INTERCEPT_INIT) {
			reflect(v, n, SVM_EXIT_INIT, 0, 0, 0);
			return NESTED_INIT_HELD;
		}
		switch_to_l1(v, n);
	} else if (!n->gif) {
		return NESTED_INIT_HELD;
	}
	n->gif = true;
	n->nmi_pending_l1 = false;
	n->vmcb01->control.vintr &= ~VINTR_MASKING;
	return NESTED_INIT_TAKE;
}

/* An NPF while L2 ran: L1's table decides (APM 15.25.6). */
static bool nsvm_tdp_fault(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	if (!n->in_l2 || !np12(n))
		return false; /* L2 addresses are L1's: nestbed's own business */
	uint64_t gpa = e->info2;
	bool write = (e->info1 & NPT_FAULT_WRITE) != 0, fetch = (e->info1 & NPT_FAULT_FETCH) != 0;
	struct npt_walk_result r;
	int rc = walk_l1_npt(v, n, gpa, write, fetch, &r);
	if (rc == -2)
		guest_failure(v, "nested: L1's nested page table for %#llx lies outside its memory",
			      (unsigned long long)gpa);
	if (rc == -1) {
		/* L1's fault: its error code, with the hardware's bits 32/33 (final address or
		 * guest page-table walk) */
		uint64_t info1 = r.fault | (e->info1 & (3ull << 32));
		e->native_code = SVM_EXIT_NPF;
		reflect(v, n, SVM_EXIT_NPF, info1, gpa, 0);
		trace_reflected(&v->trace, e);
		return true;
	}
	if (nestbed_owns_range(r.pa, 1))
		guest_failure(v, "nested: L1 maps its guest's %#llx onto %#llx, nestbed's memory: stopped",
			      (unsigned long long)gpa, (unsigned long long)r.pa);
	/* the xAPIC page stays read-only for L2 too: its INIT and startup IPIs are emulated
	 * like L1's (apic_emulation.c) */
	bool apic = v->apic_page && (r.pa & ~PAGE_MASK) == v->apic_page;
	uint64_t flags = SHADOW_NPT_FLAGS | (r.writable && !apic ? PTE_W : 0) | (r.executable ? 0 : PTE_NX);
	if (paging_set_4k(&n->shadow, gpa & ~PAGE_MASK, r.pa & ~PAGE_MASK, flags)) {
		/* out of frames: start the cache over (as a TLB flush would) */
		shadow_drop(n);
		if (shadow_ensure(n) || paging_set_4k(&n->shadow, gpa & ~PAGE_MASK, r.pa & ~PAGE_MASK, flags))
			guest_failure(v, "nested: out of memory for the shadow NPT");
		n->shadow_ncr3_12 = n->vmcb12.control.n_cr3;
		n->vmcb02->control.n_cr3 = n->shadow.root;
		n->vmcb02->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	}
	return true;
}

/* ---- the other SVM instructions in L1 ---- */

static void emulate_vmload_vmsave(struct vcpu *v, struct exit *e, bool load)
{
	struct nsvm *n = nsvm_of(v);
	uint64_t pa = v->state.gpr.rax;
	if (!insn_checks(v, pa))
		return;
	struct vmcb_save tmp;
	uint64_t off = __builtin_offsetof(struct vmcb, save);
	if (vcpu_phys_read(v, pa + off, &tmp, sizeof(tmp))) {
		inject(v, VECTOR_GP, true);
		return;
	}
	if (load) {
		copy_vmload_state(&n->vmcb01->save, &tmp);
	} else {
		copy_vmload_state(&tmp, &n->vmcb01->save);
		if (vcpu_phys_write(v, pa + off, &tmp, sizeof(tmp))) {
			inject(v, VECTOR_GP, true);
			return;
		}
	}
	vcpu_skip_instruction(v, e);
}

static void nsvm_emulate_vm_insn(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	switch ((uint32_t)e->native_code) {
	case SVM_EXIT_VMRUN:
		emulate_vmrun(v, e);
		return;
	case SVM_EXIT_VMLOAD:
		emulate_vmload_vmsave(v, e, true);
		return;
	case SVM_EXIT_VMSAVE:
		emulate_vmload_vmsave(v, e, false);
		return;
	case SVM_EXIT_CLGI:
	case SVM_EXIT_STGI:
		if (!(v->state.efer & EFER_SVME)) {
			inject(v, VECTOR_UD, false);
			return;
		}
		if (v->state.cpl) {
			inject(v, VECTOR_GP, true);
			return;
		}
		n->gif = (uint32_t)e->native_code == SVM_EXIT_STGI;
		if (n->gif)
			n->vmcb01->control.vintr &= ~VINTR_MASKING;
		else
			n->vmcb01->control.vintr |= VINTR_MASKING;
		vcpu_skip_instruction(v, e);
		if (n->gif && n->nmi_pending_l1) {
			struct event nmi = { .type = EVENT_NMI, .vector = VECTOR_NMI };
			v->ops->inject(v, &nmi);
			n->nmi_pending_l1 = false;
		}
		return;
	case SVM_EXIT_INVLPGA:
		if (!(v->state.efer & EFER_SVME)) {
			inject(v, VECTOR_UD, false);
			return;
		}
		shadow_drop(n); /* L2's translations for that ASID go */
		vcpu_skip_instruction(v, e);
		return;
	default: /* SKINIT is not offered */
		inject(v, VECTOR_UD, false);
		return;
	}
}

/* ---- SVM instructions L2 executes that L1 does not intercept ---- */

/* An exception for L2: the exit L1 intercepts (EXITINFO1 the error code, 15.12), else
 * delivered in L2. */
static void l2_exception(struct vcpu *v, struct nsvm *n, uint8_t vector, bool has_error)
{
	if ((n->vmcb12.control.intercept_exceptions >> vector) & 1) {
		reflect(v, n, SVM_EXIT_EXCEPTION_BASE + vector, 0, 0, 0);
		return;
	}
	inject(v, vector, has_error);
}

/* L2's GIF (APM vol.2 15.17): with it 0, physical interrupts and NMIs wait. nestbed runs
 * VMCB02 without the INTR intercept, with V_INTR_MASKING and its own IF clear, so an
 * interrupt stays pending in the APIC; an NMI (nestbed always intercepts it) is held
 * here until STGI. With GIF 1 again, VMCB02 is as VMRUN built it. */
static void l2_set_gif(struct vcpu *v, struct nsvm *n, bool gif)
{
	struct svm_vcpu *sv = v->backend;
	struct vmcb_control *c = &n->vmcb02->control;
	n->gif = gif;
	if (!gif) {
		c->intercept_misc1 &= ~SVM_INTERCEPT_INTR;
		c->vintr |= VINTR_MASKING;
		sv->host_if = false;
		return;
	}
	c->intercept_misc1 = (c->intercept_misc1 & ~SVM_INTERCEPT_INTR) |
			     (n->vmcb12.control.intercept_misc1 & SVM_INTERCEPT_INTR);
	c->vintr = (c->vintr & ~VINTR_MASKING) | (n->vmcb12.control.vintr & VINTR_MASKING);
	sv->host_if = (n->l1_state.rflags & RFLAGS_IF) != 0;
}

/* With vGIF enabled in VMCB12, L2's CLGI and STGI set V_GIF instead of the GIF; V_GIF 0
 * holds virtual interrupts (V_IRQ) only, not physical ones (APM vol.2 "Virtual GIF"). */
static void l2_set_vgif(struct nsvm *n, bool gif)
{
	struct vmcb_control *c = &n->vmcb02->control;
	n->l2_v_gif = gif;
	if (!gif && (c->vintr & VINTR_V_IRQ)) {
		c->vintr &= ~VINTR_V_IRQ;
		n->l2_virq_held = true;
	} else if (gif && n->l2_virq_held) {
		c->vintr |= VINTR_V_IRQ;
		n->l2_virq_held = false;
	}
}

/* VMLOAD and VMSAVE without virtual VMLOAD/VMSAVE (which nestbed does not offer): rAX
 * is a physical address of the host, which for L2's instruction is L1 (APM vol.2 15.5.2,
 * 15.33.1; KVM's CVE-2021-3656 fix): an L1-physical address that must be L1's memory,
 * never nestbed's. The state moves between that VMCB and L2's (VMCB02). */
static void l2_vmload_vmsave(struct vcpu *v, struct nsvm *n, bool load)
{
	uint64_t pa = v->state.gpr.rax;
	if (!(v->state.efer & EFER_LMA) || !v->state.cs_long)
		pa &= 0xffffffffull; /* EAX outside 64-bit mode */
	if ((pa & PAGE_MASK) || (pa & phys_addr_mask())) {
		l2_exception(v, n, VECTOR_GP, true);
		return;
	}
	struct vmcb_save tmp;
	uint64_t off = __builtin_offsetof(struct vmcb, save);
	if (guest_phys_read(pa + off, &tmp, sizeof(tmp))) {
		l2_exception(v, n, VECTOR_GP, true);
		return;
	}
	if (load) {
		copy_vmload_state(&n->vmcb02->save, &tmp);
	} else {
		copy_vmload_state(&tmp, &n->vmcb02->save);
		if (guest_phys_write(pa + off, &tmp, sizeof(tmp))) {
			l2_exception(v, n, VECTOR_GP, true);
			return;
		}
	}
}

static void nsvm_l2_vm_insn(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	uint32_t code = (uint32_t)e->native_code;
	/* #UD without EFER.SVME (L2's own: it may clear it), and for SKINIT, which nestbed
	 * does not offer (CPUID 8000_0001h ECX.SKINIT = 0) */
	if (!n->in_l2 || !(v->state.efer & EFER_SVME) || code == SVM_EXIT_SKINIT) {
		l2_exception(v, n, VECTOR_UD, false);
		return;
	}
	if (v->state.cpl != 0) {
		l2_exception(v, n, VECTOR_GP, true);
		return;
	}
	switch (code) {
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
		l2_vmload_vmsave(v, n, code == SVM_EXIT_VMLOAD);
		if (!n->in_l2 || (n->vmcb02->control.eventinj & SVM_EVENT_VALID))
			return; /* the #GP went to L1 or is on its way into L2 */
		break;
	case SVM_EXIT_CLGI:
	case SVM_EXIT_STGI:
		if (n->l2_vgif) {
			l2_set_vgif(n, code == SVM_EXIT_STGI);
			break;
		}
		l2_set_gif(v, n, code == SVM_EXIT_STGI);
		vcpu_skip_instruction(v, e);
		if (n->gif && n->nmi_held_l2) {
			/* the NMI GIF held: now L1's exit, or L2's NMI */
			n->nmi_held_l2 = false;
			if (n->vmcb12.control.intercept_misc1 & SVM_INTERCEPT_NMI) {
				n->nmi_pending_l1 = true;
				reflect(v, n, SVM_EXIT_NMI, 0, 0, 0);
			} else {
				struct event nmi = { .type = EVENT_NMI, .vector = VECTOR_NMI };
				v->ops->inject(v, &nmi);
			}
		}
		return;
	case SVM_EXIT_INVLPGA:
		/* L1's TLB entries for its guests are L2's in nestbed (one ASID) */
		n->vmcb02->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
		break;
	default: /* VMRUN: L1 always intercepts it (15.5.1) */
		l2_exception(v, n, VECTOR_UD, false);
		return;
	}
	vcpu_skip_instruction(v, e);
}

/* ---- MSRs and CPUID ---- */

static int nsvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct nsvm *n = nsvm_of(v);
	switch (msr) {
	case MSR_VM_HSAVE_PA:
		*value = n->hsave_pa;
		return 0;
	case MSR_VM_CR:
		*value = n->vm_cr;
		return 0;
	default:
		return 1;
	}
}

static int nsvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct nsvm *n = nsvm_of(v);
	switch (msr) {
	case MSR_VM_HSAVE_PA:
		if ((value & PAGE_MASK) || (value & phys_addr_mask()))
			return -1; /* APM 15.30.4: #GP for an unaligned or too wide address */
		n->hsave_pa = value;
		return 0;
	case MSR_VM_CR:
		if ((value & VM_CR_SVMDIS_BIT) && (v->state.efer & EFER_SVME))
			return -1;
		n->vm_cr = value & VM_CR_SVMDIS_BIT;
		return 0;
	default:
		return 1;
	}
}

static void nsvm_cpuid_policy(const struct machine *m, struct cpuid_policy *p)
{
	(void)m;
	p->expose_svm = true;
	p->svm_features = NSVM_OFFERED_FEATURES;
	p->svm_nasid = NSVM_OFFERED_ASIDS;
}

/* CPUID as L1 sees it (the machine's policy over the CPU's values). */
static struct cpuid_result l1_cpuid(const struct machine *m, uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_result r = { 0, 0, 0, 0 };
	if (leaf > cpuid(0, 0).eax)
		return r;
	struct cpuid_regs host = cpuid(leaf, subleaf);
	r = (struct cpuid_result){ host.eax, host.ebx, host.ecx, host.edx };
	cpuid_policy_apply(&m->cpuid_policy, leaf, subleaf, 0, &r);
	return r;
}

/* The CR4 bits VMCB12 may set: those of the CPU L1's CPUID describes, not a fixed mask
 * (which let through bits the CPU lacks and refuses in VMCB02). */
static uint64_t l1_cr4_allowed(const struct machine *m)
{
	struct cpuid_result l1 = l1_cpuid(m, 1, 0), l7 = l1_cpuid(m, 7, 0);
	struct nsvm_cr4_cpuid f = { l1.ecx, l7.ebx, l7.ecx, l7.edx };
	return nsvm_cr4_allowed(&f);
}

static int nsvm_vcpu_init(struct machine *m, struct vcpu *v)
{
	uint64_t pa = alloc_frames_zeroed((sizeof(struct nsvm) + FRAME_SIZE - 1) / FRAME_SIZE, FRAME_SIZE);
	if (!pa) {
		kprintf("nestbed: nested-svm: out of memory for a vCPU's state\n");
		return -1;
	}
	v->nested_state = phys_to_virt(pa);
	struct nsvm *n = nsvm_of(v);
	struct svm_vcpu *sv = v->backend;
	memset(n, 0, sizeof(*n));
	n->gif = true;
	n->host_nrips = sv->nrips;
	n->host_decode_assists = (m->caps.svm_caps.features & SVM_FEATURE_DECODE_ASSISTS) != 0;
	n->vmcb01 = sv->vmcb;
	n->vmcb01_pa = sv->vmcb_pa;
	n->vmcb02_pa = alloc_frames_zeroed(1, FRAME_SIZE);
	n->iopm02_pa = alloc_frames_zeroed(SVM_IOPM_PAGES, FRAME_SIZE);
	n->msrpm02_pa = alloc_frames_zeroed(SVM_MSRPM_PAGES, FRAME_SIZE);
	if (!n->vmcb02_pa || !n->iopm02_pa || !n->msrpm02_pa) {
		kprintf("nestbed: nested-svm: out of memory\n");
		return -1;
	}
	n->vmcb02 = phys_to_virt(n->vmcb02_pa);
	n->iopm02 = phys_to_virt(n->iopm02_pa);
	n->msrpm02 = phys_to_virt(n->msrpm02_pa);
	n->shadow.fa = &nestbed_frames;
	n->shadow.frame_ptr = identity_frame_ptr;
	n->flush_l2 = true;
	n->cr4_allowed = l1_cr4_allowed(m);
	return 0;
}

const struct nested_ops nested_svm_ops = {
	.name = "nested-svm",
	.backend = "svm",
	.vcpu_init = nsvm_vcpu_init,
	.cpuid_policy = nsvm_cpuid_policy,
	.emulate_vm_insn = nsvm_emulate_vm_insn,
	.l2_vm_insn = nsvm_l2_vm_insn,
	.reflect_if_wanted = nsvm_reflect_if_wanted,
	.init_signal = nsvm_init_signal,
	.tdp_fault = nsvm_tdp_fault,
	.msr_read = nsvm_msr_read,
	.msr_write = nsvm_msr_write,
	.l2_gpa_to_hpa = nsvm_l2_gpa_to_hpa,
	.efer_extra_bits = EFER_SVME,
};
NESTED_REGISTER(nested_svm_ops);
