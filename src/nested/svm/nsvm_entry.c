/* VMRUN in L1: VMCB12 read and checked as the APM does (a failed check is VMEXIT_INVALID
 * to L1), merged into VMCB02 (APM vol.2 15.5), and L2 run. */
#include "nested/svm/nsvm.h"

#include <stddef.h>

#include "core/console.h"
#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/memory.h"
#include "core/run.h"
#include "core/string.h"
#include "core/vmm.h"
#include "nested/svm/vmcb12_check.h"
#include "nested/svm/vmcb12_clean.h"

#define SVM_EXIT_INVALID_64 0xffffffffffffffffull /* VMEXIT_INVALID, APM vol.2 appendix C */
/* EFER bits: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE (APM vol.2 3.1.7). */
#define EFER_ALLOWED_12 0xfd01ull
/* VMCB12 as VMRUN reads it: the control area's defined fields (VMCB12_CONTROL_BYTES)
 * and the state save area's fields VMRUN loads (vmcb12_clean.c), not the whole page; the
 * page is L1's memory (checked once here), so #VMEXIT writes its fields in place
 * (nsvm_reflect). */

/* ---- entering L2 ---- */

/* VMCB02's control area: every field VMRUN reads that depends on VMCB12 or changes
 * between entries (vGIF, the INTR, HLT and CR intercepts, TLB control, N_CR3) is written
 * here at every VMRUN; nestbed's constants (the merged maps' addresses, L2's ASID, nested
 * paging on, vector 5 clear) once (nsvm_vmcb02_init); the rest of the area (reserved,
 * AVIC, GHCB, VIRT_EXT, the clean field) is zero from the allocation and nothing writes
 * it, so no memset of the area: VMCB02's clean field stays 0, so the CPU reloads every
 * group (APM 15.15.3). What the CPU writes at #VMEXIT (EXITCODE ... EXITINTINFO, the
 * instruction bytes) VMRUN does not read. L1's DR and exception intercepts and pause
 * filter (group I) are written again only when L1 did not keep that group: only this
 * function writes them in VMCB02, last at the VMRUN whose values the group keeps. */
void nsvm_vmcb02_init(struct nsvm *n)
{
	struct vmcb_control *c = &n->vmcb02->control;
	c->intercept_misc3 = 0;
	/* permission maps: merged by nsvm_maps_for_vmrun (L1's with nestbed's) */
	c->iopm_base_pa = n->iopm02_pa;
	c->msrpm_base_pa = n->msrpm02_pa;
	c->guest_asid = NSVM_L2_ASID;
	c->np_control = SVM_NP_ENABLE;
}

static void build_vmcb02_control(struct nsvm *n)
{
	const struct vmcb_control *c12 = &n->vmcb12.control;
	struct vmcb_control *c = &n->vmcb02->control;
	if (!(n->clean_keep & VMCB_CLEAN_I)) {
		c->intercept_dr = c12->intercept_dr;
		c->intercept_exceptions = c12->intercept_exceptions;
		/* nestbed never intercepts PAUSE: the PAUSE intercept and the filter are L1's
		 * (APM 15.14.4), offered where the CPU has them; each VMRUN reloads the
		 * counter from the VMCB, so the value stays L1's. */
		c->pause_filter_count = (n->host_pause_filter & SVM_FEATURE_PAUSE_FILTER) ?
						c12->pause_filter_count : 0;
		c->pause_filter_threshold = (n->host_pause_filter & SVM_FEATURE_PAUSE_FILTER_THRESHOLD) ?
						    c12->pause_filter_threshold : 0;
	}
	/* svm_long_mode_intercepts adds the CR0-write intercept to VMCB02: from L1's again */
	c->intercept_cr = c12->intercept_cr;
	/* nestbed's own needs for any guest: CPUID policy, its MSRs and the exit port, a
	 * machine-wide shutdown, and the instructions that would reach real SVM state. */
	c->intercept_misc1 = c12->intercept_misc1 | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_IOIO |
			     SVM_INTERCEPT_MSR | SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_INVLPGA |
			     SVM_INTERCEPT_INIT | SVM_INTERCEPT_NMI;
	c->intercept_misc2 = c12->intercept_misc2 | SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL |
			     SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI |
			     SVM_INTERCEPT_CLGI | SVM_INTERCEPT_SKINIT;
	c->tsc_offset = n->vmcb01->control.tsc_offset + c12->tsc_offset;
	c->vintr = c12->vintr & ~VINTR_VGIF_BITS;
	/* vGIF: with V_GIF 0 a virtual interrupt waits (kept out of VMCB02 until L2's STGI) */
	n->l2_vgif = (c12->vintr & VINTR_V_GIF_ENABLE) != 0;
	n->l2_v_gif = (c12->vintr & VINTR_V_GIF) != 0;
	n->l2_virq_held = n->l2_vgif && !n->l2_v_gif && (c->vintr & VINTR_V_IRQ);
	if (n->l2_virq_held)
		c->vintr &= ~VINTR_V_IRQ;
	c->interrupt_shadow = c12->interrupt_shadow;
	c->eventinj = c12->eventinj;
	c->n_cr3 = nsvm_np12(n) ? n->shadow.root : n->vmcb01->control.n_cr3;

	bool flush = n->flush_l2 || c12->tlb_control || c12->guest_asid != n->last_asid12;
	c->tlb_control = flush ? SVM_TLB_CONTROL_FLUSH_ALL : 0;
	n->flush_l2 = false;
	n->last_asid12 = c12->guest_asid;

	/* A software interrupt injected with NRIPS returns to nRIP (APM 15.20): copy it, or,
	 * on a CPU without NRIPS, start L2 there so the pushed return address is the same. */
	c->next_rip = c12->next_rip;
}

/* VMCB02's save area: read_vmcb12 put the fields VMRUN loads there (the groups L1 marked
 * clean, n->clean_keep, are there as the last #VMEXIT left them, with the adjustments
 * below made again); what is nestbed's view of them is set here. */
static void build_vmcb02(struct nsvm *n)
{
	const struct vmcb *v12 = &n->vmcb12;
	struct vmcb *v02 = n->vmcb02;
	build_vmcb02_control(n);
	/* EFER: VMCB02's is the CPU's view of L2's (svm_efer_for_cpu), VMCB12's L2's own:
	 * always copied. */
	v02->save.efer = v12->save.efer;
	/* INT3's #BP and INTO's #OF injected as exceptions return to nRIP too (APM 15.20). */
	n->soft_rip_moved = (v12->control.eventinj & SVM_EVENT_VALID) &&
			    svm_event_is_soft(v12->control.eventinj) && v12->control.next_rip &&
			    !n->host_nrips;
	n->vmrun_rip12 = v12->save.rip;
	if (n->soft_rip_moved)
		v02->save.rip = v12->control.next_rip;
	/* FS, GS, TR, LDTR and the syscall MSRs: VMRUN leaves them in the CPU, and the world
	 * switch loads and saves them in VMCB01 while L2 runs too (svm_vcpu.state_vmcb_pa):
	 * VMCB02's copy of them is never used, so not copied */
	/* Outside long mode CR3 is a 32-bit register (APM vol.2 3.1.2): bits 63:32 mean
	 * nothing to L2, so VMCB02 leaves them out. QEMU checks CR3's bits 63:52 at VMRUN
	 * against the host's long mode rather than the guest's, and would refuse the L2 of a
	 * legacy-mode VMCB12 with them set because nestbed runs in long mode. reflect() gives
	 * L1 its own value back while L2 has not changed CR3.
	 * CS.L means nothing outside long mode (APM vol.2 4.8.1; 15.5.1 refuses it only with
	 * EFER.LME, CR0.PG, CR4.PAE and CS.D): Bochs 2.7 refuses the VMRUN of a legacy-mode
	 * guest with CS.L set, so VMCB02 leaves it out; reflect() gives L1 its value back
	 * while L2 has not loaded CS. */
	if (!(v12->save.efer & EFER_LME) || !(v12->save.cr0 & CR0_PG)) {
		v02->save.cr3 &= LEGACY_CR3_BITS;
		v02->save.cs.attrib &= ~SEG_ATTR_L;
	}
	if (!nsvm_np12(n))
		v02->save.g_pat = n->vmcb01->save.g_pat;
}

static void vmexit_invalid(struct nsvm *n, const char *rule)
{
	kprintf("nestbed: nested: VMRUN of the VMCB at %#llx fails its checks: %s (VMEXIT_INVALID to L1)\n",
		(unsigned long long)n->vmcb12_pa, rule);
	n->clean_valid = false; /* what was read is unchecked: the next VMRUN reads it all */
	n->vmcb12.control.exitcode = SVM_EXIT_INVALID_64;
	n->vmcb12.control.exitinfo1 = 0;
	n->vmcb12.control.exitinfo2 = 0;
	n->vmcb12.control.exitintinfo = 0;
	guest_phys_write(n->vmcb12_pa + __builtin_offsetof(struct vmcb, control.exitcode),
			 &n->vmcb12.control.exitcode, 4 * sizeof(uint64_t));
	nsvm_l1_set_gif(n, false); /* a #VMEXIT clears GIF (APM 15.17) */
}

/* VMCB12 into n->vmcb12 and VMCB02's save area: the page checked to be L1's (nestbed's
 * ranges and the end of the identity map are whole pages, so one read of its clean field
 * checks the page; the VMCB12 of this vCPU's last successful VMRUN was checked then, and
 * the guest's memory map is fixed from boot on), then the fields VMRUN loads, each read once from the page, but for a
 * VMRUN of the VMCB12 this vCPU last ran, the groups L1 marked clean: their values are
 * the ones nestbed read, checked and wrote back last time (APM 15.15.3 lets the CPU keep
 * its cached copy). Nothing is kept that nestbed did not check: the checks, the maps and
 * the NPT root all see n->vmcb12 after this; a VMRUN that fails them clears clean_valid,
 * so the next one reads everything again (VMCB02 is not run meanwhile). */
static int read_vmcb12(struct nsvm *n, uint64_t pa)
{
	uint32_t clean;
	const struct vmcb *live = phys_to_virt(pa);
	bool same = n->clean_valid && n->clean_vmcb12_pa == pa;
	if (same)
		clean = *(const volatile uint32_t *)((const uint8_t *)live +
						     __builtin_offsetof(struct vmcb, control.clean_bits));
	else if (guest_phys_read(pa + __builtin_offsetof(struct vmcb, control.clean_bits), &clean,
				 sizeof(clean)))
		return -1;
	uint32_t keep = same ? clean & VMCB12_CLEAN_HONOURED : 0;
	n->clean_keep = keep;
	vmcb12_clean_load(&n->vmcb12, &n->vmcb02->save, live, clean, keep);
	n->vmcb12_live = (struct vmcb *)live;
	/* the reflection decision's vectors (nsvm_reflect.h), in exit-code order */
	const struct vmcb_control *c12 = &n->vmcb12.control;
	n->l1_exits.intercept_cr = c12->intercept_cr;
	n->l1_exits.intercept_dr = c12->intercept_dr;
	n->l1_exits.intercept_exceptions = c12->intercept_exceptions;
	n->l1_exits.intercept_misc1 = c12->intercept_misc1;
	n->l1_exits.intercept_misc2 = c12->intercept_misc2;
	return 0;
}

void nsvm_vmrun(struct vcpu *v, struct exit *e)
{
	struct nsvm *n = nsvm_of(v);
	uint64_t pa = v->state.gpr.rax;
	if (!nsvm_insn_checks(v, pa))
		return;
	if (read_vmcb12(n, pa)) {
		nsvm_inject_exception(v, VECTOR_GP, true);
		return;
	}
	n->vmcb12_pa = pa;
	n->clean_valid = false; /* until this VMRUN's checks pass */
	vcpu_skip_instruction(v, e); /* L1 resumes after VMRUN when L2 exits */

	struct nsvm_check_limits lim = { n->phys_addr_mask, EFER_ALLOWED_12, n->cr4_allowed };
	const char *rule = nsvm_check_vmcb12(&n->vmcb12, &lim);
	if (rule) {
		vmexit_invalid(n, rule);
		return;
	}
	if (nsvm_maps_for_vmrun(v, n)) {
		vmexit_invalid(n, "the I/O or MSR permission map is not in L1's memory");
		return;
	}
	if (nsvm_np12(n)) {
		if (n->vmcb12.control.tlb_control || n->shadow_ncr3_12 != n->vmcb12.control.n_cr3 ||
		    n->vmcb12.control.guest_asid != n->last_asid12)
			nsvm_shadow_drop(n);
		if (nsvm_shadow_ensure(n))
			guest_failure(v, "nested: out of memory for the shadow NPT");
		n->shadow_ncr3_12 = n->vmcb12.control.n_cr3;
	}

	/* n->vmcb12 is checked: a VMRUN of the same VMCB12 may keep its clean groups */
	n->clean_valid = true;
	n->clean_vmcb12_pa = pa;

	/* L1's state stays in VMCB01 and here; L2 gets VMCB02. */
	/* what #VMEXIT gives back (nsvm_switch_to_l1): RAX and the state from RSP on */
	n->l1_state.gpr.rax = v->state.gpr.rax;
	memcpy(&n->l1_state.rsp, &v->state.rsp, sizeof(v->state) - offsetof(struct vcpu_state, rsp));
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
	uint32_t misc2 = n->vmcb12.control.intercept_misc2;
	if ((misc2 & NSVM_INTERCEPT_XSETBV) || n->xcr0.armed) /* else it stays disarmed */
		nsvm_xcr0_arm(&n->xcr0, n->host_xsave, misc2,
			      n->host_xsave && (misc2 & NSVM_INTERCEPT_XSETBV) ? nsvm_read_xcr0() : 0);
}
