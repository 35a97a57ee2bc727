/* L1's GIF on a CPU with virtual GIF (APM vol.2 15.33, "Virtual GIF"): nestbed runs L1
 * with V_GIF_ENABLE in VMCB01, so L1's CLGI and STGI set V_GIF without an exit. V_GIF
 * gates only virtual interrupts: a physical INTR or NMI would reach L1 whatever V_GIF
 * is, where the APM holds them while GIF is 0 (15.17, table 15-10). So nestbed watches
 * for them: NMIs are always intercepted; INTR is intercepted while L1 may have cleared
 * V_GIF. Pure logic: which of VMCB01's CLGI, STGI and INTR intercepts are needed. */
#ifndef NESTBED_NSVM_L1_GIF_H
#define NESTBED_NSVM_L1_GIF_H

#include <stdbool.h>
#include <stdint.h>

/* What nestbed knows of L1 at its next entry (not while L2 runs). */
struct l1_gif_state {
	bool svme;         /* L1's EFER.SVME: without it CLGI/STGI raise #UD (APM 15.4) */
	bool v_gif;        /* V_GIF in VMCB01: L1's GIF */
	/* INTR goes to L1 directly (not intercepted): V_GIF is known to be 1 and stays so,
	 * because L1's CLGI exits. Set when an INTR exit finds V_GIF 1 or at an STGI exit;
	 * cleared by the CLGI exit (then INTR is intercepted and CLGI no longer). */
	bool intr_direct;
	/* an interrupt or NMI waits for L1's STGI (V_INTR_MASKING holds physical interrupts
	 * meanwhile: nestbed's own RFLAGS.IF is 0 around VMRUN, APM 15.21.1) */
	bool held;
	bool event_waits;  /* an NMI or INIT for L1 waits for its GIF */
	/* When direct delivery may end before L1's next CLGI. It is there to let one
	 * interrupt in; an L1 that runs guests (end_early: its last direct period ended at
	 * a CLGI exit) has it end at the first entry after the one that began it (fresh)
	 * that finds no interrupt left in the APIC for L1 (interrupt_pending, read only
	 * then: IRR above PPR). Then INTR is intercepted again and that CLGI need not exit:
	 * KVM's loop saves one CLGI exit per timer tick. An idle L1 (its CLGI does not come)
	 * keeps direct delivery: no INTR exit per interrupt. Without SVME, CLGI exits anyway
	 * (the #UD), so direct delivery stays. */
	bool fresh;
	bool end_early;
	bool interrupt_pending;
};

struct l1_gif_intercepts {
	bool clgi, stgi, intr;
	bool direct;       /* INTR stays direct (the new intr_direct) */
};

struct l1_gif_intercepts l1_gif_intercepts(const struct l1_gif_state *s);

#endif
