/* Register access by encoding number: see vcpu.h. */
#include "core/vcpu.h"

#include <stddef.h>

uint64_t *vcpu_gpr(struct vcpu_state *st, unsigned index)
{
	struct gprs *g = &st->gpr;
	switch (index) {
	case 0: return &g->rax;
	case 1: return &g->rcx;
	case 2: return &g->rdx;
	case 3: return &g->rbx;
	case 4: return &st->rsp;
	case 5: return &g->rbp;
	case 6: return &g->rsi;
	case 7: return &g->rdi;
	case 8: return &g->r8;
	case 9: return &g->r9;
	case 10: return &g->r10;
	case 11: return &g->r11;
	case 12: return &g->r12;
	case 13: return &g->r13;
	case 14: return &g->r14;
	case 15: return &g->r15;
	default: return NULL;
	}
}
