/* A few instructions at CPL 3, for probes that take a user process's view. The runtime
 * has no user mode of its own: for one run it loads a copy of the current GDT with a
 * DPL 3 64-bit code and data segment, points the TSS's RSP0 at a stack of its own for
 * the way back, and sets U on the paging-structure entries of the pages the code and
 * its stack lie in (SDM vol.3A 5.5, 7.7, 4.6; APM vol.2 4.7, 5.6); afterwards it puts
 * every one of them back. The code returns to CPL 0 only through an exception, which
 * exc_try catches. */
#ifndef GUEST_USER_MODE_H
#define GUEST_USER_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/exception.h"

struct user_regs {
	uint64_t rax, rbx, rcx, rdx;
};

/* Runs [code, code + size) at CPL 3 (64-bit, RFLAGS.IF = 0) with these registers and a
 * 4 KiB stack of its own, until it raises an exception: returns true and *record (the
 * vector, error code and RIP the CPU pushed). False with *why when user mode cannot be
 * set up here (CR4.SMEP or SMAP set, a page not mapped through 4-level paging). */
bool user_mode_run(const void *code, size_t size, const struct user_regs *regs,
		   struct exc_record *record, const char **why);

/* The selector user_mode_run gives CS (RPL 3), for a probe that checks it. */
uint16_t user_mode_code_selector(void);

#endif
