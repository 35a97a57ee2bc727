/* DecodeAssists for L1 on any CPU (APM vol.2 15.33): the #VMEXIT nestbed reflects gets
 * the EXITINFO1 values and instruction bytes a CPU with the feature would give. Where
 * the CPU has it, its values stand; where it has not (QEMU TCG, Bochs' AMD models),
 * nestbed decodes L2's instruction at its RIP, as it does for nRIP. */
#include "nested/svm/nsvm.h"

#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/guest_walk.h"
#include "core/machine.h"
#include "core/string.h"
#include "nested/svm/decode_assists.h"
#include "core/x86.h"

/* Exit codes with a DecodeAssists EXITINFO1 (APM vol.2 appendix C, 15.33). */
#define SVM_EXIT_LAST_DR 0x3f      /* 00h-0Fh CR reads, 10h-1Fh CR writes, 20h-3Fh DRs */
#define SVM_EXIT_SWINT 0x75
#define SVM_EXIT_INVLPG 0x79

static enum insn_mode mode_of(const struct vcpu_state *s)
{
	return insn_mode_of(s->cr0 & CR0_PE, s->rflags & RFLAGS_VM, s->efer & EFER_LMA, s->cs_long,
			    s->cs_db);
}

/* Up to 15 bytes from CS:RIP, fewer where a page is not readable or the CS limit ends
 * them (15.33.4). A fault whose I/D bit was not reported (no NX) but whose instruction
 * is not all readable was the fetch itself: no bytes then either. */
static void fetch_insn_bytes(const struct vcpu *v, const struct vmcb_save *s02,
			     struct vmcb_control *c12)
{
	const struct vcpu_state *s = &v->state;
	uint8_t bytes[INSN_MAX_LENGTH];
	bool long64 = (s->efer & EFER_LMA) && s->cs_long;
	unsigned want = da_insn_bytes_within_cs(long64, s02->cs.limit, s->rip);
	size_t got = guest_linear_read(v, s->cs_base + s->rip, bytes, want);
	struct insn insn;
	enum insn_vendor vendor = machine.caps.vendor == CPU_VENDOR_AMD ? INSN_VENDOR_AMD : INSN_VENDOR_INTEL;
	if (insn_decode(bytes, got, mode_of(s), vendor, &insn) == INSN_ERR_TRUNCATED)
		got = 0;
	c12->insn_bytes_fetched = (uint8_t)got;
	memcpy(c12->insn_bytes, bytes, got);
}

/* s: VMCB02's save area; FS and GS are in VMCB01's while L2 runs (state_vmcb_pa) */
static void cpu_of(struct vcpu *v, const struct vmcb_save *s, const struct vmcb_save *s01,
		   struct da_cpu *c)
{
	for (unsigned i = 0; i < 16; i++)
		c->gpr[i] = *vcpu_gpr(&v->state, i);
	c->rip = v->state.rip;
	c->seg_base[DA_SEG_ES] = s->es.base;
	c->seg_base[DA_SEG_CS] = s->cs.base;
	c->seg_base[DA_SEG_SS] = s->ss.base;
	c->seg_base[DA_SEG_DS] = s->ds.base;
	c->seg_base[DA_SEG_FS] = s01->fs.base;
	c->seg_base[DA_SEG_GS] = s01->gs.base;
	c->long64 = (v->state.efer & EFER_LMA) && v->state.cs_long;
}

static bool has_da_info1(uint32_t code, uint64_t info1)
{
	if (code == SVM_EXIT_IOIO)
		return (info1 & SVM_IOIO_STRING) != 0; /* IN and OUT have no segment: 0 stands */
	return code <= SVM_EXIT_LAST_DR || code == SVM_EXIT_CR0_SEL_WRITE || code == SVM_EXIT_SWINT ||
	       code == SVM_EXIT_INVLPG; /* not INVLPGA: its address is in rAX (15.33.3) */
}

void nsvm_decode_assists(struct vcpu *v, const struct nsvm *n, uint32_t code, uint64_t *info1,
			 struct vmcb_control *c12)
{
	bool bytes = da_exit_has_insn_bytes(code, *info1);
	c12->insn_bytes_fetched = 0; /* every other intercept clears the count (15.33.4) */
	if (n->host_decode_assists) {
		/* the CPU's own values: EXITINFO1 is as it gave it; the bytes are in VMCB02 */
		if (bytes) {
			c12->insn_bytes_fetched = n->vmcb02->control.insn_bytes_fetched;
			memcpy(c12->insn_bytes, n->vmcb02->control.insn_bytes, sizeof(c12->insn_bytes));
		}
		return;
	}
	if (bytes) {
		fetch_insn_bytes(v, &n->vmcb02->save, c12);
		return;
	}
	if (!has_da_info1(code, *info1))
		return;
	struct insn insn;
	if (guest_insn_decode(v, &insn))
		return; /* reason printed; L1 gets EXITINFO1 as the CPU gave it */
	struct da_cpu cpu;
	uint64_t linear;
	switch (code) {
	case SVM_EXIT_SWINT:
		*info1 = da_intn_info1(&insn);
		return;
	case SVM_EXIT_INVLPG:
		cpu_of(v, &n->vmcb02->save, &n->vmcb01->save, &cpu);
		if (insn.kind == INSN_KIND_INVLPG && !da_modrm_linear(&insn, &cpu, &linear))
			*info1 = linear;
		return;
	case SVM_EXIT_IOIO:
		*info1 = (*info1 & ~DA_IOIO_SEG_MASK) | da_ioio_seg_bits(&insn);
		return;
	default: /* CR and DR accesses, the selective CR0 write */
		*info1 = da_cr_dr_info1(&insn);
		return;
	}
}
