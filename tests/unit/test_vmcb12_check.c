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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
