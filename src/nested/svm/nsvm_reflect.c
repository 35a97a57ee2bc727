/* "Does L1 want this exit" for nested AMD-V (nsvm_reflect.h). */
#include "nested/svm/nsvm_reflect.h"

#include "svm/vmcb.h"
#include "core/x86.h"

#define SVM_EXIT_DR_BASE 0x20
#define SVM_EXIT_MISC1_BASE 0x60   /* 0x60-0x7f: intercept vector 3, bit by bit */
#define SVM_EXIT_MISC2_BASE 0x80   /* 0x80-0x9f: intercept vector 4 */
/* The selective CR0 write ignores TS and MP, treats every LMSW as a change and never
 * fires for CLTS (APM vol.2 15.9, table 15-7). */
#define CR0_SELECTIVE_IGNORED (CR0_TS | CR0_MP)
/* MSRPM: 2 bits per MSR (read, write) in three ranges of 8K MSRs (APM vol.2 15.11) */
#define MSRPM_RANGE_MSRS 0x2000u
#define MSRPM_RANGE_BYTES 0x800u
#define MSR_RANGE1_BASE 0xC0000000u
#define MSR_RANGE2_BASE 0xC0010000u

/* L1 may write its maps while another CPU reads them (nsvm_maps.c) */
static bool map_bit(const uint8_t *map, uint32_t bit)
{
	return (__atomic_load_n(&map[bit / 8], __ATOMIC_RELAXED) >> (bit % 8)) & 1;
}

bool nsvm_iopm_exits(const uint8_t *iopm, uint16_t port, unsigned size)
{
	for (unsigned p = port; p < (unsigned)port + size; p++)
		if (map_bit(iopm, p)) /* the map has a bit for 10000h+ (15.10.1) */
			return true;
	return false;
}

int64_t nsvm_msrpm_bit(uint32_t msr, bool write)
{
	uint32_t range;
	if (msr < MSRPM_RANGE_MSRS)
		range = 0;
	else if (msr - MSR_RANGE1_BASE < MSRPM_RANGE_MSRS)
		range = 1, msr -= MSR_RANGE1_BASE;
	else if (msr - MSR_RANGE2_BASE < MSRPM_RANGE_MSRS)
		range = 2, msr -= MSR_RANGE2_BASE;
	else
		return -1;
	return (int64_t)range * MSRPM_RANGE_BYTES * 8 + msr * 2 + (write ? 1 : 0);
}

bool nsvm_msrpm_exits(const uint8_t *msrpm, uint32_t msr, bool write)
{
	int64_t bit = nsvm_msrpm_bit(msr, write);
	return bit < 0 || map_bit(msrpm, (uint32_t)bit); /* outside the ranges: always */
}

_Static_assert(__builtin_offsetof(struct nsvm_exit_controls, vec[1]) ==
		       __builtin_offsetof(struct nsvm_exit_controls, intercept_dr) &&
	       __builtin_offsetof(struct nsvm_exit_controls, vec[4]) ==
		       __builtin_offsetof(struct nsvm_exit_controls, intercept_misc2),
	       "the intercept vectors in exit-code order");
_Static_assert(SVM_EXIT_EXCEPTION_BASE == 2 * 32 && SVM_EXIT_MISC1_BASE == 3 * 32 &&
	       SVM_EXIT_MISC2_BASE == 4 * 32 && SVM_EXIT_DR_BASE == 32,
	       "exit codes follow the intercept vectors (APM vol.2 appendix C)");

bool nsvm_l1_wants_exit(const struct nsvm_exit_controls *c, const struct nsvm_exit_event *e)
{
	uint32_t code = e->code;
	if (!nsvm_intercepted(c, code))
		return false;
	/* IOIO's and MSR's bits enable the maps (15.10.1, 15.11), read as they are now */
	if (code == SVM_EXIT_IOIO)
		return c->iopm && nsvm_iopm_exits(c->iopm, e->port, e->io_size);
	if (code == SVM_EXIT_MSR)
		return c->msrpm && nsvm_msrpm_exits(c->msrpm, e->msr, e->msr_write);
	return true;
}


/* nestbed intercepts every CR0 write of an L2 that uses EFER.LME (svm_long_mode_entry.c);
 * when L1 asked only for the selective CR0-write intercept, it gets that exit for a MOV to
 * CR0 that changes a bit other than TS or MP, and for every LMSW; CLTS never. */
static bool selective_cr0_wanted(const struct nsvm_exit_controls *c, const struct nsvm_exit_event *e)
{
	if (!nsvm_needs_cr0_insn(c, e->code))
		return false;
	switch (e->cr0_insn) {
	case NSVM_CR0_INSN_LMSW:
		return true;
	case NSVM_CR0_INSN_MOV:
		return ((e->cr0_new ^ e->cr0_old) & ~CR0_SELECTIVE_IGNORED) != 0;
	default:
		return false;
	}
}

bool nsvm_exit_for_l1(const struct nsvm_exit_controls *c, const struct nsvm_exit_event *e,
		      uint32_t *code)
{
	if (nsvm_l1_wants_exit(c, e)) {
		*code = e->code;
		return true;
	}
	/* nestbed intercepts VMMCALL for itself; L1 does not, so on a CPU the instruction
	 * raises #UD in L2 (APM vol.3 VMMCALL), which L1 may intercept */
	if (e->code == SVM_EXIT_VMMCALL && ((c->intercept_exceptions >> VECTOR_UD) & 1)) {
		*code = SVM_EXIT_EXCEPTION_BASE + VECTOR_UD;
		return true;
	}
	if (selective_cr0_wanted(c, e)) {
		*code = SVM_EXIT_CR0_SEL_WRITE;
		return true;
	}
	return false;
}
