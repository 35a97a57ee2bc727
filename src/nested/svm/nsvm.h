/* Nested AMD-V: L1 runs its guests (L2) in VMCBs (VMCB12) that nestbed checks and merges
 * into a VMCB of its own (VMCB02). APM vol.2 chapter 15. */
#ifndef NESTBED_NSVM_H
#define NESTBED_NSVM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/paging.h"
#include "core/vcpu.h"
#include "nested/map_track.h"
#include "nested/svm/nsvm_reflect.h"
#include "nested/svm/nsvm_xcr0.h"
#include "svm/svm.h"
#include "core/x86.h"

#define NSVM_L2_ASID 2             /* nestbed's ASID for every L2 (1 is L1's) */
#define NSVM_OFFERED_ASIDS 16      /* CPUID 8000_000Ah EBX as L1 sees it */
/* CPUID 8000_000Ah EDX as L1 sees it: nested paging, next-RIP saving and decode assists,
 * the last two provided even where the CPU lacks them, by decoding L2's instruction
 * (APM vol.3 E.4.9), and virtual GIF for L1's guests, emulated (APM vol.2, section
 * "Virtual GIF (vGIF)": V_GIF_ENABLE in VMCB12), and VMCB clean bits (15.15.3; nestbed's
 * own cache of VMCB12, whatever the CPU has: vmcb12_clean.h). */
#define NSVM_OFFERED_FEATURES (SVM_FEATURE_NP | SVM_FEATURE_NRIPS | SVM_FEATURE_DECODE_ASSISTS | \
			       SVM_FEATURE_VGIF | SVM_FEATURE_VMCB_CLEAN)
/* Offered where the CPU has them: VMCB02 takes L1's pause filter fields as they are. */
#define NSVM_OFFERED_IF_HOST (SVM_FEATURE_PAUSE_FILTER | SVM_FEATURE_PAUSE_FILTER_THRESHOLD)
#define VINTR_MASKING (1ull << 24)  /* V_INTR_MASKING, APM vol.2 15.21.1 */
#define VINTR_V_IRQ (1ull << 8)    /* APM vol.2 15.21.4 */
#define VINTR_V_GIF (1ull << 9)    /* virtual GIF and its enable (APM vol.2 vGIF) */
#define VINTR_V_GIF_ENABLE (1ull << 25)
#define VINTR_VGIF_BITS (VINTR_V_GIF | VINTR_V_GIF_ENABLE)
#define NSVM_OWN_WORDS 64           /* nonzero 64-bit words of nestbed's own IOPM/MSRPM */
#define LEGACY_CR3_BITS 0xffffffffull /* CR3 outside long mode: 32 bits (APM vol.2 3.1.2) */

struct nsvm {
	/* The GIF: L2's while L2 runs; L1's otherwise, unless l1_vgif (then V_GIF in VMCB01
	 * is L1's: nsvm_l1_gif) */
	bool gif;
	/* L1 runs with the CPU's virtual GIF (nsvm_gif.c, l1_gif.h): its CLGI/STGI exit only
	 * when nestbed needs to see them; l1_intr_direct and l1_gif_held as l1_gif.h says */
	bool l1_vgif, l1_intr_direct, l1_gif_held;
	/* When direct delivery ends (l1_gif.h): l1_intr_direct_fresh, direct since the last
	 * entry; l1_direct_short, end it once the interrupt is in (L1 runs guests: its CLGI
	 * would exit next); l1_gif_used, L1's GIF went to 0 since direct last ended early. */
	bool l1_intr_direct_fresh, l1_direct_short, l1_gif_used;
	/* An NMI L1 intercepted for its L2: nestbed took the physical one, and L1 gets it
	 * once its GIF is 1 again (APM vol.2 15.17.1 holds it pending meanwhile). */
	bool nmi_pending_l1;
	bool in_l2;
	/* An NMI that came while L2 ran with its GIF 0 (its own CLGI): delivered at L2's STGI,
	 * or L1's after a #VMEXIT */
	bool nmi_held_l2;
	/* vGIF for L2 (VMCB12 V_GIF_ENABLE), emulated: L2's CLGI/STGI set l2_v_gif; with it 0
	 * a pending V_IRQ is kept out of VMCB02 (l2_virq_held) so the CPU does not take it */
	bool l2_vgif, l2_v_gif, l2_virq_held;
	uint64_t hsave_pa;       /* VM_HSAVE_PA as L1 wrote it */
	uint64_t vm_cr;
	uint64_t vmcb12_pa;
	struct vmcb *vmcb12_live; /* L1's VMCB12 page as nestbed reaches it (checked at VMRUN) */
	struct vmcb *vmcb01, *vmcb02;
	uint64_t vmcb01_pa, vmcb02_pa;
	uint8_t *iopm02, *msrpm02;
	uint64_t iopm02_pa, msrpm02_pa;
	struct vcpu_state l1_state; /* L1's registers while L2 runs (RIP past VMRUN) */
	struct vmcb vmcb12;      /* L1's VMCB as read at VMRUN (control intercepts used to reflect) */
	/* VMCB clean bits (vmcb12_clean.h): vmcb12 holds the checked values of the VMCB12 at
	 * clean_vmcb12_pa, as the last VMRUN took them and #VMEXIT wrote them back */
	bool clean_valid;
	uint64_t clean_vmcb12_pa;
	uint32_t clean_keep;     /* the groups this VMRUN kept (VMCB12_CLEAN_HONOURED bits) */
	/* What the reflection decision reads (nsvm_reflect.h): VMCB12's intercept vectors as
	 * the last VMRUN took them, and L1's permission maps where they live (nsvm_maps.c:
	 * checked to be its memory at the merge; NULL when L1 does not use one). */
	struct nsvm_exit_controls l1_exits;
	/* The permission maps (nsvm_maps.c): the merge's cache, nestbed's own words, and a
	 * TLB flush another CPU asked for after changing this vCPU's NPT. */
	struct map_cache maps;
	volatile uint32_t tdp_sync;
	struct map_word own_io[NSVM_OWN_WORDS], own_msr[NSVM_OWN_WORDS];
	unsigned nr_own_io, nr_own_msr;
	/* the shadow NPT: L2-physical -> host-physical, a cache of L1's NPT composed with
	 * nestbed's; dropped whenever L1 asks for a TLB flush */
	struct tdp shadow;       /* x86-64 format (core/paging.h) */
	uint64_t shadow_ncr3_12; /* the L1 table it caches */
	uint32_t last_asid12;
	bool flush_l2;
	/* build_vmcb02 started L2 at VMCB12's next_rip (a software event injected on a CPU
	 * without NRIPS); vmrun_rip12 is the RIP VMCB12 gave */
	bool soft_rip_moved;
	uint64_t cr4_allowed;    /* CR4 bits of the CPU L1's CPUID describes */
	uint64_t phys_addr_mask; /* bits above MAXPHYADDR (nsvm_phys_addr_mask), read once */
	uint64_t vmrun_rip12;
	bool host_nrips;         /* the CPU saves nRIP itself */
	bool host_decode_assists; /* the CPU fills the DecodeAssists fields itself */
	uint32_t host_pause_filter; /* SVM_FEATURE_PAUSE_FILTER(_THRESHOLD) of the CPU */
	bool host_xsave;         /* nestbed runs with CR4.OSXSAVE: XCR0 can be read */
	struct nsvm_xcr0_watch xcr0; /* XCR0 behind L1's XSETBV intercept (nsvm_xcr0.h) */
};

static inline struct nsvm *nsvm_of(const struct vcpu *v)
{
	return v->nested_state;
}

/* L1 uses nested paging for L2 (VMCB12 NP_ENABLE). */
static inline bool nsvm_np12(const struct nsvm *n)
{
	return (n->vmcb12.control.np_control & SVM_NP_ENABLE) != 0;
}

/* nsvm.c: the physical-address bits above the CPU's width (CPUID 8000_0008h); an
 * exception for the running level, through the backend. */
uint64_t nsvm_phys_addr_mask(void);
void nsvm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error);

/* nsvm_entry.c: VMRUN in L1; VMCB02's constant fields, once. */
void nsvm_vmrun(struct vcpu *v, struct exit *e);
void nsvm_vmcb02_init(struct nsvm *n);

/* nsvm_exit.c: the #VMEXIT of L2 into L1 with this exit code and information (L2's state
 * and the exit into VMCB12, L1's state back); the switch back to L1 alone (INIT); an exit
 * while L2 ran: reflected when L1 wants it (nested_ops.reflect_if_wanted). */
void nsvm_reflect(struct vcpu *v, struct nsvm *n, uint64_t code, uint64_t info1, uint64_t info2,
		  uint64_t next_rip);
void nsvm_switch_to_l1(struct vcpu *v, struct nsvm *n);
bool nsvm_reflect_if_wanted(struct vcpu *v, struct exit *e);

/* nsvm_npt.c: the shadow NPT (dropped, or made to exist), an L2 address for nestbed, an
 * NPF at either level (nested_ops.tdp_fault). */
void nsvm_shadow_drop(struct nsvm *n);
int nsvm_shadow_ensure(struct nsvm *n);
int nsvm_l2_gpa_to_hpa(const struct vcpu *v, uint64_t gpa, uint64_t *hpa, uint64_t *page_end);
bool nsvm_tdp_fault(struct vcpu *v, struct exit *e);

/* nsvm_insn.c: the state VMLOAD/VMSAVE move (APM vol.2 15.5.2); the checks every SVM
 * instruction of L1 makes (#UD without EFER.SVME, #GP at CPL > 0 or for a bad address:
 * false when it raised one); the SVM instructions of L1 and those of L2 that L1 does not
 * intercept. */
void nsvm_copy_vmload_state(struct vmcb_save *dst, const struct vmcb_save *src);
bool nsvm_insn_checks(struct vcpu *v, uint64_t pa);
void nsvm_emulate_vm_insn(struct vcpu *v, struct exit *e);
void nsvm_l2_vm_insn(struct vcpu *v, struct exit *e);

/* XCR0 (XGETBV with ECX = 0, SDM vol.2 XGETBV; needs CR4.OSXSAVE, n->host_xsave). */
static inline uint64_t nsvm_read_xcr0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
	return ((uint64_t)hi << 32) | lo;
}

/* DecodeAssists for the #VMEXIT L1 is about to get (decode_assists_l2.c): EXITINFO1
 * (*info1, the value the exit has so far) and the instruction bytes in *c12, from the
 * CPU's own values when it has the feature, else from L2's instruction at its RIP. */
void nsvm_decode_assists(struct vcpu *v, const struct nsvm *n, uint32_t code, uint64_t *info1,
			 struct vmcb_control *c12);

/* Permission maps (nsvm_maps.c, after nested/map_track.h). */
struct machine;
int nsvm_maps_init(struct machine *m, struct vcpu *v);
/* At VMRUN: VMCB02's maps match VMCB12's (merged again only when L1 named other maps or
 * wrote one): 0, or -1 when a map L1 uses is not in its memory. */
int nsvm_maps_for_vmrun(struct vcpu *v, struct nsvm *n);
/* An I/O or MSR exit L1 does not want, caused by a stale merge: merged again, and the
 * instruction runs again (true). */
bool nsvm_maps_retry(struct vcpu *v, struct nsvm *n, const struct exit *e);
/* A write fault at L1-physical l1_gpa in L1's NPT: true when it was a tracked map page's
 * (or a stale read-only translation of one); nsvm_maps_tracked_write: for a write through
 * L2's shadow NPT to a tracked page. */
bool nsvm_maps_write_fault(struct vcpu *v, uint64_t l1_gpa);
bool nsvm_maps_tracked_write(struct vcpu *v, uint64_t l1_gpa);
void nsvm_maps_before_entry(struct vcpu *v);
/* L1's NPT changed: the TLB and L2's shadow NPT let go of it before the next entry. */
void nsvm_shadow_flush(struct nsvm *n);

/* L1's GIF (nsvm_gif.c): emulated (CLGI/STGI always intercepted, V_INTR_MASKING holds
 * physical interrupts while it is 0) or, where the CPU has vGIF, V_GIF in VMCB01. */
bool nsvm_l1_gif(const struct nsvm *n);
/* As L1's CLGI/STGI, a #VMEXIT (0) or INIT (1) set it. */
void nsvm_l1_set_gif(struct nsvm *n, bool gif);
/* An INTR or NMI exit while L1 ran: true when taken here (held until L1's STGI, or INTR
 * given back to L1 directly); false: the core delivers it as usual. */
bool nsvm_l1_interrupt(struct vcpu *v, const struct exit *e);
/* Before an entry into L1: VMCB01's CLGI, STGI and INTR intercepts as l1_gif.h says. */
void nsvm_l1_gif_before_entry(struct vcpu *v, struct nsvm *n);
/* With vGIF: a physical interrupt waits for L1's STGI (L1's GIF is 0). */
void nsvm_l1_hold_interrupt(struct nsvm *n);

#endif
