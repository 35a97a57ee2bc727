/* covers: src/nested/svm/vmcb12_check.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/svm/vmcb12_check.h"

#define PHYS_MASK (~((1ull << 48) - 1)) /* MAXPHYADDR 48 */
#define EFER_ALLOWED 0xfd01ull
#define CR4_ALLOWED 0x3f77fffull
#define SVME (1ull << 12)
#define LME (1ull << 8)
#define PE 1ull
#define PG (1ull << 31)
#define NW (1ull << 29)
#define CD (1ull << 30)
#define PAE (1ull << 5)
#define CS_L (1u << 9)
#define CS_D (1u << 10)

static struct vmcb vmcb;
static const struct nsvm_check_limits lim = { PHYS_MASK, EFER_ALLOWED, CR4_ALLOWED };

/* A valid 32-bit protected-mode guest, as the nested smoke test gives it. */
static void valid(void)
{
	memset(&vmcb, 0, sizeof(vmcb));
	vmcb.save.efer = SVME;
	vmcb.save.cr0 = PE;
	vmcb.save.cs.attrib = 0xc9b;
	vmcb.control.intercept_misc2 = SVM_INTERCEPT_VMRUN;
	vmcb.control.guest_asid = 1;
	vmcb.control.iopm_base_pa = 0x10000;
	vmcb.control.msrpm_base_pa = 0x20000;
}

static void expect(const char *fragment)
{
	const char *rule = nsvm_check_vmcb12(&vmcb, &lim);
	assert_non_null(rule);
	assert_non_null(strstr(rule, fragment));
}

static void test_valid_states(void **state)
{
	(void)state;
	valid();
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	/* long mode, 64-bit code */
	vmcb.save.efer |= LME;
	vmcb.save.cr0 |= PG;
	vmcb.save.cr4 = PAE;
	vmcb.save.cs.attrib = 0xa9b;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	/* LME with paging off is legacy mode, legal; a legacy CR3 has no MBZ bits above 31 */
	valid();
	vmcb.save.efer |= LME;
	vmcb.save.cr3 = 1ull << 52;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	/* any nonzero ASID, however large */
	valid();
	vmcb.control.guest_asid = 0xffffffffu;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	/* a software interrupt, an NMI and an external interrupt may be injected */
	vmcb.control.eventinj = SVM_EVENT_VALID | (4u << SVM_EVENT_TYPE_SHIFT) | 0x80;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	vmcb.control.eventinj = SVM_EVENT_VALID | (2u << SVM_EVENT_TYPE_SHIFT) | 2;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	vmcb.control.eventinj = SVM_EVENT_VALID | 0x20;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
}

static void test_each_rule(void **state)
{
	(void)state;
	valid(); vmcb.save.efer &= ~SVME;                 expect("SVME");
	valid(); vmcb.save.cr0 |= NW;                     expect("CR0.CD is zero and CR0.NW");
	valid(); vmcb.save.cr0 |= NW | CD;                assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	valid(); vmcb.save.cr0 |= 1ull << 32;             expect("CR0[63:32]");
	valid(); vmcb.save.efer |= LME; vmcb.save.cr0 |= PG; vmcb.save.cr4 = PAE;
	vmcb.save.cr3 = 1ull << 52;                       expect("CR3");
	valid(); vmcb.save.cr4 = 1ull << 30;              expect("CR4");
	valid(); vmcb.save.dr6 = 1ull << 32;              expect("DR6");
	valid(); vmcb.save.dr7 = 1ull << 32;              expect("DR7");
	valid(); vmcb.save.efer |= 1ull << 16;            expect("EFER has must-be-zero");
	valid(); vmcb.save.efer |= LME; vmcb.save.cr0 |= PG;  expect("CR4.PAE is zero");
	valid(); vmcb.save.efer |= LME; vmcb.save.cr0 = PG; vmcb.save.cr4 = PAE;
	expect("CR0.PE is zero");
	valid(); vmcb.save.efer |= LME; vmcb.save.cr0 |= PG; vmcb.save.cr4 = PAE;
	vmcb.save.cs.attrib = 0xa9b | CS_L | CS_D;        expect("CS.L and CS.D");
	valid(); vmcb.control.intercept_misc2 = 0;        expect("VMRUN intercept");
	valid(); vmcb.control.msrpm_base_pa = 1ull << 48; expect("MSR permission map");
	/* the map's last byte counts: 2 pages below the limit still cross it */
	valid(); vmcb.control.msrpm_base_pa = (1ull << 48) - 4096; expect("MSR permission map");
	valid(); vmcb.control.iopm_base_pa = (1ull << 48) - 8192; expect("I/O permission map");
	valid(); vmcb.control.guest_asid = 0;             expect("ASID is zero");
}

/* CR4 follows L1's CPUID (APM vol.2 3.1.3): bits 0-10 always, each later bit with its
 * feature; 15 and 19 (KL, no AMD CPU has it) never. */
static void test_cr4_from_cpuid(void **state)
{
	(void)state;
	struct nsvm_cr4_cpuid none = { 0, 0, 0, 0 };
	assert_int_equal(nsvm_cr4_allowed(&none), 0x7ff);
	/* QEMU's EPYC: XSAVE (1.ECX[26]), FSGSBASE, SMEP, SMAP; no PCID, PKU, LA57, UMIP */
	struct nsvm_cr4_cpuid epyc = { 1u << 26, (1u << 0) | (1u << 7) | (1u << 20), 0, 0 };
	assert_int_equal(nsvm_cr4_allowed(&epyc), 0x7ff | (1u << 18) | (1u << 16) | (1u << 20) | (1u << 21));
	/* every feature: the old fixed mask, bits 15 and 19 still out */
	struct nsvm_cr4_cpuid all = { (1u << 5) | (1u << 6) | (1u << 17) | (1u << 26),
				      (1u << 0) | (1u << 7) | (1u << 20),
				      (1u << 2) | (1u << 3) | (1u << 7) | (1u << 16) | (1u << 31),
				      (1u << 5) };
	assert_int_equal(nsvm_cr4_allowed(&all), 0x3f77fff);
	/* CET from IBT alone too */
	struct nsvm_cr4_cpuid ibt = { 0, 0, 0, 1u << 20 };
	assert_int_equal(nsvm_cr4_allowed(&ibt), 0x7ff | (1u << 23));

	/* the check uses it: PCIDE without PCID is refused, with it accepted */
	struct nsvm_check_limits epyc_lim = { PHYS_MASK, EFER_ALLOWED, nsvm_cr4_allowed(&epyc) };
	valid(); vmcb.save.cr4 = 1ull << 17;
	assert_non_null(strstr(nsvm_check_vmcb12(&vmcb, &epyc_lim), "CR4"));
	vmcb.save.cr4 = 1ull << 18;
	assert_null(nsvm_check_vmcb12(&vmcb, &epyc_lim));
	vmcb.save.cr4 = 1ull << 22; /* PKE without PKU */
	assert_non_null(nsvm_check_vmcb12(&vmcb, &epyc_lim));
}

/* CR3 by the mode L2 enters (APM vol.2 3.1.2). */
static void test_cr3_by_mode(void **state)
{
	(void)state;
	/* long mode: nothing above MAXPHYADDR (48 here), bits 63:52 MBZ */
	valid(); vmcb.save.efer |= LME; vmcb.save.cr0 |= PG; vmcb.save.cr4 = PAE;
	vmcb.save.cs.attrib = 0xa9b;
	vmcb.save.cr3 = (1ull << 48) - 4096;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	vmcb.save.cr3 = 1ull << 48;                       expect("physical address width");
	vmcb.save.cr3 = 1ull << 63;                       expect("CR3");
	/* PAE and plain legacy paging: CR3 is 32 bits, VMCB bits 63:32 are not looked at */
	valid(); vmcb.save.cr0 |= PG; vmcb.save.cr4 = PAE;
	vmcb.save.cr3 = (1ull << 52) | (1ull << 48) | 0xfffff000;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	valid(); vmcb.save.cr0 |= PG; vmcb.save.cr3 = 0xffffffffffffffffull;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	/* EFER.LME with paging off is not long mode yet */
	valid(); vmcb.save.efer |= LME; vmcb.save.cr3 = 1ull << 48;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
}

static void test_event_injection(void **state)
{
	(void)state;
	valid(); vmcb.control.eventinj = SVM_EVENT_VALID | (3u << SVM_EVENT_TYPE_SHIFT) | 2;
	expect("vector 2");
	valid(); vmcb.control.eventinj = SVM_EVENT_VALID | (3u << SVM_EVENT_TYPE_SHIFT) | 32;
	expect("above 31");
	valid(); vmcb.control.eventinj = SVM_EVENT_VALID | (3u << SVM_EVENT_TYPE_SHIFT) | 14;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
	for (unsigned type = 5; type <= 7; type++) {
		valid(); vmcb.control.eventinj = SVM_EVENT_VALID | ((uint64_t)type << SVM_EVENT_TYPE_SHIFT);
		expect("reserved event type");
	}
	valid(); vmcb.control.eventinj = SVM_EVENT_VALID | (1u << SVM_EVENT_TYPE_SHIFT);
	expect("reserved event type");
	/* not valid: the rest of the field is not looked at */
	valid(); vmcb.control.eventinj = 7u << SVM_EVENT_TYPE_SHIFT;
	assert_null(nsvm_check_vmcb12(&vmcb, &lim));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_states),
		cmocka_unit_test(test_each_rule),
		cmocka_unit_test(test_event_injection),
		cmocka_unit_test(test_cr4_from_cpuid),
		cmocka_unit_test(test_cr3_by_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
