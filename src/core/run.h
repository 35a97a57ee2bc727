/* The vendor-neutral run loop: load the guest, enter it, dispatch every exit. */
#ifndef NESTBED_RUN_H
#define NESTBED_RUN_H

#include "core/machine.h"
#include "core/vcpu.h"
#include "core/x86.h"

#define EXIT_CODE_GUEST_FAILURE 3 /* the guest crashed, hung itself or touched nestbed */

_Noreturn void run_primary_guest(struct machine *m);

/* Advances RIP by len bytes, past an instruction the guest executed (an STI or MOV SS
 * shadow ends with it). */
static inline void vcpu_advance_rip(struct vcpu *v, unsigned len)
{
	uint64_t rip = v->state.rip + len;
	/* outside 64-bit code RIP is EIP (APM vol.2 2.5.3) */
	if (!(v->state.efer & EFER_LMA) || !v->state.cs_long)
		rip &= 0xffffffffull;
	v->state.rip = rip;
	v->insn_skipped = true;
}

/* Advances RIP past the exiting instruction whose length the CPU did not give: decodes
 * it (a failure to find it ends the run). */
void vcpu_skip_decoded(struct vcpu *v, const struct exit *e);

/* Advances RIP past the exiting instruction (decoding it when the CPU gave no length).
 * Inlined into the handlers: with a known length, an add and a store. */
static inline void vcpu_skip_instruction(struct vcpu *v, const struct exit *e)
{
	unsigned len = e->insn_len;
	if (!len) {
		vcpu_skip_decoded(v, e);
		return;
	}
	vcpu_advance_rip(v, len);
}

/* Ends the run: prints the stats line, then the exit protocol with `code`. */
_Noreturn void run_end(struct vcpu *v, int code);

/* Ends the run because of the guest: one-line reason, the guest's registers, the
 * recent exits and the backend's dump, then EXIT_CODE_GUEST_FAILURE. */
_Noreturn void guest_failure(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void print_stats(const struct vcpu *v);

/* One handler per neutral exit kind (exit_handlers.c). */
typedef void (*exit_handler_fn)(struct vcpu *v, struct exit *e);
extern const exit_handler_fn exit_handlers[EXIT_KIND_COUNT];
/* What the handlers keep machine-wide, set on the boot CPU before any guest runs. */
struct machine;
void exit_handlers_init(struct machine *m);

#endif
