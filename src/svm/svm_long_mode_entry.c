/* EFER.LME while paging is off, and the CR0 writes that follow from keeping it from the
 * CPU.
 *
 * Why: QEMU's AMD-V (TCG) breaks a long-mode host at #VMEXIT from a guest whose
 * EFER.LME is 1 while CR0.PG is 0: the host resumes running its 64-bit code as 32-bit
 * code (seen with the VMCB fuzzer, tests/emulator/nested/svm_fuzz.asm). APM vol.2 15.6
 * says #VMEXIT reloads the host's EFER, CR0 and CS from the host save area whatever the
 * guest's mode was. EFER.LME has no effect until CR0.PG turns paging on (APM vol.2
 * 14.6.1: LMA follows PG when LME is set), so running the guest with LME clear while its
 * paging is off is invisible to it, provided nestbed
 *   - answers the guest's EFER reads with what it wrote (EFER accesses are nestbed's
 *     already: svm_backend.c intercepts them), and
 *   - sees every CR0 write while the guest's LME is 1, to turn long mode on or off
 *     itself: that is this file.
 * It costs nothing on hardware that does not need it except CR0-write exits of guests
 * that set EFER.LME, which write CR0 rarely once they run. */
#include "svm/svm.h"

#include "core/cpu.h"
#include "core/cr0_write.h"
#include "core/guest_mem.h"
#include "core/run.h"

int svm_cr0_write_value(struct vcpu *v, uint64_t *value)
{
	struct vcpu_state *st = &v->state;
	struct insn insn;
	if (guest_insn_decode(v, &insn))
		guest_failure(v, "svm: CR0 write exit at an instruction nestbed cannot decode");
	bool code64 = (st->efer & EFER_LMA) && st->cs_long;
	switch (insn.kind) {
	case INSN_KIND_MOV_TO_CR: {
		uint64_t *reg = vcpu_gpr(st, insn.rm);
		if (insn.reg != 0 || !reg)
			guest_failure(v, "svm: CR0 write exit at a MOV to CR%u", insn.reg);
		*value = code64 ? *reg : *reg & 0xffffffffull;
		return 0;
	}
	case INSN_KIND_CLTS:
		*value = st->cr0 & ~CR0_TS;
		return 0;
	case INSN_KIND_LMSW: {
		uint64_t *reg = vcpu_gpr(st, insn.rm);
		if (insn.mod != 3 || !reg) /* the memory form would need an operand fetch */
			guest_failure(v, "svm: LMSW with a memory operand is not emulated");
		*value = cr0_lmsw_value(st->cr0, (uint16_t)*reg);
		return 0;
	}
	default:
		guest_failure(v, "svm: CR0 write exit at a %s instruction", insn_kind_name(insn.kind));
	}
}

int svm_cr_access(struct vcpu *v, const struct exit *e)
{
	(void)e; /* no decode assists on every CPU: the instruction tells */
	struct svm_vcpu *sv = v->backend;
	struct vcpu_state *st = &v->state;
	uint64_t value;
	svm_cr0_write_value(v, &value);
	struct cr0_write_view view = { .cr0 = st->cr0, .cr4 = st->cr4, .efer = st->efer,
				       .cs_l = st->cs_long };
	struct cr0_write_effect effect;
	if (cr0_write(&view, value, &effect))
		return -1; /* #GP(0), from the state the guest believes in */
	st->cr0 = value;
	st->efer = effect.efer;
	sv->vmcb->save.cr0 = value;
	/* sync_to_vmcb writes EFER (LME now visible to the CPU when PG is on) */
	if (effect.flush_tlb)
		sv->vmcb->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	return 0;
}
