/* Does L1 want this exit of its guest? VMCB12's intercepts decide, as the CPU would decide
 * for L1 (APM vol.2 15.7-15.13, table B-1): the CR and DR read/write vectors, the exception
 * vector, intercept vectors 3 and 4, the I/O permission map at each IN/OUT (15.10.1) and the
 * MSR permission map at each RDMSR/WRMSR (15.11), and the selective CR0 write (15.9). Where
 * L1 does not intercept an exit nestbed takes for itself, the exit L1 gets instead (L2's
 * VMMCALL raises #UD, 15.12 and APM vol.3 VMMCALL). Pure, host-tested. */
#ifndef NESTBED_NSVM_REFLECT_H
#define NESTBED_NSVM_REFLECT_H

#include <stdbool.h>
#include <stdint.h>

/* The VMCB12 intercepts the decision reads. */
/* Exit codes 00h-9Fh are one bit each of the five intercept vectors in VMCB order (APM
 * vol.2 appendix B table B-1, appendix C): code c is bit c % 32 of vector c / 32, so
 * whether L1 intercepts an exit is one lookup (vec), the permission maps aside. */
#define NSVM_INTERCEPT_VECTORS 5
#define NSVM_INTERCEPT_CODES (NSVM_INTERCEPT_VECTORS * 32)
struct nsvm_exit_controls {
	union {
		struct {
			uint32_t intercept_cr;         /* 00h-1Fh: reads [15:0], writes [31:16] */
			uint32_t intercept_dr;         /* 20h-3Fh */
			uint32_t intercept_exceptions; /* 40h-5Fh */
			uint32_t intercept_misc1;      /* 60h-7Fh */
			uint32_t intercept_misc2;      /* 80h-9Fh */
		};
		uint32_t vec[NSVM_INTERCEPT_VECTORS];
	};
	/* L1's maps where they live, read as they are at the exit (NULL when L1 does not use
	 * one): IOPM 12 KiB, MSRPM 8 KiB */
	const uint8_t *iopm;
	const uint8_t *msrpm;
};

/* How L2 wrote CR0, for the selective CR0-write intercept (nsvm_needs_cr0_insn). */
enum nsvm_cr0_insn {
	NSVM_CR0_INSN_UNKNOWN, /* not decoded: no selective exit */
	NSVM_CR0_INSN_MOV,
	NSVM_CR0_INSN_LMSW,
	NSVM_CR0_INSN_CLTS,
};

/* What the exit says. */
struct nsvm_exit_event {
	uint32_t code;                 /* EXITCODE (APM vol.2 appendix C) */
	uint16_t port;                 /* IOIO: the first port and the access size in bytes */
	unsigned io_size;
	uint32_t msr;                  /* MSR: ECX, and WRMSR (EXITINFO1 1) or RDMSR */
	bool msr_write;
	/* A CR0 write (exit 0x10), filled only when nsvm_needs_cr0_insn says so: the
	 * instruction, CR0 before it and the value a MOV writes. */
	enum nsvm_cr0_insn cr0_insn;
	uint64_t cr0_old, cr0_new;
};

/* The IOPM bits of an access of size bytes from port (the map has bits for 10000h and
 * up, 15.10.1); the MSRPM bit of msr's read or write, or -1 outside the map's three
 * ranges (15.11); whether L1's MSRPM asks for the access (true outside the ranges). */
bool nsvm_iopm_exits(const uint8_t *iopm, uint16_t port, unsigned size);
int64_t nsvm_msrpm_bit(uint32_t msr, bool write);
bool nsvm_msrpm_exits(const uint8_t *msrpm, uint32_t msr, bool write);

/* VMCB12's intercept bit for this exit code (0 above 9Fh). */
static inline bool nsvm_intercepted(const struct nsvm_exit_controls *c, uint32_t code)
{
	return code < NSVM_INTERCEPT_CODES && ((c->vec[code / 32] >> (code % 32)) & 1);
}

/* The exits whose decision reads more than that bit (nsvm_exit_for_l1): IOIO and MSR
 * (L1's maps), a CR0 write (the selective intercept), VMMCALL (#UD when L1 does not
 * intercept it). For every other code, nsvm_exit_for_l1 is nsvm_intercepted with the
 * code unchanged. */
#define NSVM_EXIT_VMMCALL 0x81u
#define NSVM_EXIT_IOIO 0x7bu
#define NSVM_EXIT_MSR 0x7cu
static inline bool nsvm_exit_needs_event(uint32_t code)
{
	return code == NSVM_EXIT_IOIO || code == NSVM_EXIT_MSR || code == 0x10u /* CR0 write */ ||
	       code == NSVM_EXIT_VMMCALL;
}

/* L1 intercepts this exit by its own bits and maps. */
bool nsvm_l1_wants_exit(const struct nsvm_exit_controls *c, const struct nsvm_exit_event *e);

/* The exit L1 gets for this exit of L2: true and *code (e->code, or the exit the CPU would
 * have given L1 instead: #UD for a VMMCALL, the selective CR0 write), false when L1 does
 * not want it (nestbed handles it for L2). */
bool nsvm_exit_for_l1(const struct nsvm_exit_controls *c, const struct nsvm_exit_event *e,
		      uint32_t *code);

/* A CR0-write exit that only the selective intercept may give L1: the caller decodes the
 * instruction into e->cr0_* before nsvm_exit_for_l1. */
#define NSVM_EXIT_CR0_WRITE 0x10u     /* appendix C */
#define NSVM_EXIT_CR0_SEL_WRITE 0x65u
/* vector 3 (misc1) bit 5: the selective CR0 write (exit 65h) */
#define NSVM_INTERCEPT_CR0_SEL_WRITE (1u << (NSVM_EXIT_CR0_SEL_WRITE - 0x60u))
#define NSVM_INTERCEPT_CR0_WRITE (1u << 16) /* vector 0 bit 16: CR0 writes (exit 10h) */
static inline bool nsvm_needs_cr0_insn(const struct nsvm_exit_controls *c, uint32_t code)
{
	return code == NSVM_EXIT_CR0_WRITE && !(c->intercept_cr & NSVM_INTERCEPT_CR0_WRITE) &&
	       (c->intercept_misc1 & NSVM_INTERCEPT_CR0_SEL_WRITE);
}

#endif
