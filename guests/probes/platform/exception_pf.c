/* platform/exception-pf: a read of a non-present page raises #PF (vector 14) with
 * error code 0 (not present, read, supervisor) and CR2 = the address read. */
#include "lib/exception.h"
#include "lib/layout.h"
#include "lib/probe.h"

/* Above the 4 GiB identity map, so not present; deliberately not page-aligned so that
 * CR2 must hold the exact byte address. */
#define UNMAPPED_ADDRESS (IDENTITY_MAP_END + 0x12345678ull)

/* Reads the qword at the address in its argument; the load carries a label. */
void read_qword_at(void *address);
extern const char read_qword_at_site[];
__asm__(".pushsection .text\n"
	".globl read_qword_at\n"
	".type read_qword_at, @function\n"
	"read_qword_at:\n"
	".globl read_qword_at_site\n"
	"read_qword_at_site:\n"
	"\tmovq (%rdi), %rax\n"
	"\tret\n"
	".size read_qword_at, . - read_qword_at\n"
	".popsection");

static enum probe_status exception_pf_probe(struct probe_run *run)
{
	struct exc_record fault;
	if (!exc_try(&fault, read_qword_at, (void *)UNMAPPED_ADDRESS))
		return probe_fail(run, "expected #PF reading %#llx, observed no exception",
				  UNMAPPED_ADDRESS);
	diag("caught %s (vector %llu) at rip %#llx, error code %#llx, cr2 %#llx",
	     exception_mnemonic(fault.vector), (unsigned long long)fault.vector,
	     (unsigned long long)fault.rip, (unsigned long long)fault.error_code,
	     (unsigned long long)fault.cr2);
	EXPECT_EQ(run, "vector", EXC_PF, fault.vector);
	EXPECT_EQ(run, "error code", 0, fault.error_code);
	EXPECT_EQ(run, "cr2", UNMAPPED_ADDRESS, fault.cr2);
	EXPECT_EQ(run, "faulting rip", (uint64_t)read_qword_at_site, fault.rip);
	return PROBE_PASS;
}
PROBE("platform/exception-pf", exception_pf_probe);
