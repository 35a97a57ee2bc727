/* covers: src/nested/vmx/nvmx_l1_cpuid.c src/nested/vmx/nvmx_caps.c */
/* The VT-x offer follows L1's CPUID (issue 12 item 6): IA32_VMX_CR4_FIXED1 allows a CR4
 * bit only with its CPUID feature (SDM vol.3A 2.5, vol.3D A.8), MAXPHYADDR is L1's
 * CPUID.80000008H:EAX[7:0] (vol.3A 4.1.4), SGX/RTM/bus-lock detection from leaf 7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/vmx/nvmx_l1_cpuid.h"

#define CR4_VME (1ull << 0)
#define CR4_PVI (1ull << 1)
#define CR4_PAE (1ull << 5)
#define CR4_PCE (1ull << 8)
#define CR4_UMIP (1ull << 11)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)
#define CR4_CET (1ull << 23)
#define CR4_LAM_SUP (1ull << 28)

/* A CPUID with exactly the features behind Bochs 2.7 tigerlake's IA32_VMX_CR4_FIXED1
 * (0xf72fff: CR4 bits 11:0, VMXE, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP, PKE, CET). */
#define TL_LEAF1_EDX ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 6) | (1u << 7) | \
		      (1u << 13) | (1u << 24) | (1u << 25))
#define TL_LEAF1_ECX ((1u << 5) | (1u << 17) | (1u << 26))
#define TL_LEAF7_EBX ((1u << 0) | (1u << 7) | (1u << 20))
#define TL_LEAF7_ECX ((1u << 2) | (1u << 3) | (1u << 7))
#define TL_CR4_FIXED0 0x2000ull
#define TL_CR4_FIXED1 0xf72fffull

static struct nvmx_l1_cpuid tigerlake(void)
{
	return (struct nvmx_l1_cpuid){
		.leaf1_ecx = TL_LEAF1_ECX, .leaf1_edx = TL_LEAF1_EDX,
		.leaf7_ebx = TL_LEAF7_EBX, .leaf7_ecx = TL_LEAF7_ECX,
		.has_80000008 = true, .leaf80000008_eax = 0x3027,
	};
}

static void test_each_bit_follows_its_feature(void **state)
{
	(void)state;
	struct nvmx_l1_cpuid none = { 0 };
	/* nothing but PCE without any feature */
	assert_int_equal(nvmx_cr4_allowed_by_cpuid(&none), CR4_PCE);
	struct { uint32_t *reg; uint32_t bit; uint64_t cr4; } cases[] = {
		{ &none.leaf1_edx, 1u << 1, CR4_VME | CR4_PVI },
		{ &none.leaf1_edx, 1u << 4, 1ull << 2 },   /* TSC: TSD */
		{ &none.leaf1_edx, 1u << 2, 1ull << 3 },   /* DE */
		{ &none.leaf1_edx, 1u << 3, 1ull << 4 },   /* PSE */
		{ &none.leaf1_edx, 1u << 6, CR4_PAE },
		{ &none.leaf1_edx, 1u << 7, 1ull << 6 },   /* MCE */
		{ &none.leaf1_edx, 1u << 13, 1ull << 7 },  /* PGE */
		{ &none.leaf1_edx, 1u << 24, 1ull << 9 },  /* FXSR: OSFXSR */
		{ &none.leaf1_edx, 1u << 25, 1ull << 10 }, /* SSE: OSXMMEXCPT */
		{ &none.leaf7_ecx, 1u << 2, CR4_UMIP },
		{ &none.leaf7_ecx, 1u << 16, CR4_LA57 },
		{ &none.leaf1_ecx, 1u << 5, CR4_VMXE },
		{ &none.leaf1_ecx, 1u << 6, CR4_SMXE },
		{ &none.leaf7_ebx, 1u << 0, CR4_FSGSBASE },
		{ &none.leaf1_ecx, 1u << 17, 1ull << 17 }, /* PCID: PCIDE */
		{ &none.leaf1_ecx, 1u << 26, 1ull << 18 }, /* XSAVE: OSXSAVE */
		{ &none.leaf7_ecx, 1u << 23, 1ull << 19 }, /* KL */
		{ &none.leaf7_ebx, 1u << 7, CR4_SMEP },
		{ &none.leaf7_ebx, 1u << 20, CR4_SMAP },
		{ &none.leaf7_ecx, 1u << 3, CR4_PKE },
		{ &none.leaf7_ecx, 1u << 7, CR4_CET },     /* CET_SS */
		{ &none.leaf7_edx, 1u << 20, CR4_CET },    /* CET_IBT */
		{ &none.leaf7_ecx, 1u << 31, 1ull << 24 }, /* PKS */
		{ &none.leaf7_edx, 1u << 5, 1ull << 25 },  /* UINTR */
		{ &none.leaf7_1_eax, 1u << 26, CR4_LAM_SUP },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		*cases[i].reg = cases[i].bit;
		assert_int_equal(nvmx_cr4_allowed_by_cpuid(&none), CR4_PCE | cases[i].cr4);
		*cases[i].reg = 0;
	}
	/* OSXSAVE and OSPKE (CPUID bits that mirror CR4) allow nothing */
	none.leaf1_ecx = 1u << 27;
	none.leaf7_ecx = 1u << 4;
	assert_int_equal(nvmx_cr4_allowed_by_cpuid(&none), CR4_PCE);
}

static void test_tigerlake_offer_unchanged(void **state)
{
	(void)state;
	/* the features behind each FIXED1 bit: exactly FIXED1 is allowed */
	struct nvmx_l1_cpuid c = tigerlake();
	assert_int_equal(nvmx_cr4_allowed_by_cpuid(&c), TL_CR4_FIXED1);
}

static struct nvmx_offer offer(void)
{
	struct vmx_caps hw;
	memset(&hw, 0, sizeof(hw));
	hw.basic = 0x1d8100000000004ull;
	hw.cr0_fixed0 = 0x80000021ull;
	hw.cr0_fixed1 = 0xffffffffull;
	hw.cr4_fixed0 = TL_CR4_FIXED0;
	hw.cr4_fixed1 = TL_CR4_FIXED1;
	struct nvmx_offer o;
	nvmx_offer_build(&hw, 48, 0x16, &o);
	return o;
}

static void test_offer_narrowed(void **state)
{
	(void)state;
	struct nvmx_offer o = offer();
	struct nvmx_l1_cpuid c = tigerlake();
	c.leaf7_ebx &= ~((1u << 7) | (1u << 20)); /* no SMEP, no SMAP */
	c.leaf7_ecx &= ~(1u << 2);                /* no UMIP */
	c.leaf1_ecx &= ~(1u << 5);                /* even without VMX: FIXED0 stays allowed */
	nvmx_offer_follow_cpuid(&o, &c);
	uint64_t expected = TL_CR4_FIXED1 & ~(CR4_SMEP | CR4_SMAP | CR4_UMIP);
	assert_int_equal(o.caps.cr4_fixed1, expected);
	uint64_t v;
	assert_int_equal(nvmx_offer_read(&o, MSR_IA32_VMX_CR4_FIXED1, &v), 0);
	assert_int_equal(v, expected);
	assert_int_equal(nvmx_offer_read(&o, MSR_IA32_VMX_CR4_FIXED0, &v), 0);
	assert_int_equal(v, TL_CR4_FIXED0);
	assert_true(o.caps.cr4_fixed1 & CR4_VMXE);
	/* a bit the CPU does not allow stays disallowed whatever CPUID says */
	c.leaf7_ecx = 1u << 16; /* LA57 */
	o = offer();
	nvmx_offer_follow_cpuid(&o, &c);
	assert_int_equal(o.caps.cr4_fixed1 & CR4_LA57, 0);
}

static void test_maxphyaddr(void **state)
{
	(void)state;
	struct nvmx_l1_cpuid c = tigerlake();
	assert_int_equal(nvmx_maxphyaddr_by_cpuid(&c), 39);
	c.leaf80000008_eax = 0x3024;
	assert_int_equal(nvmx_maxphyaddr_by_cpuid(&c), 36);
	c.leaf80000008_eax = 0x40;
	assert_int_equal(nvmx_maxphyaddr_by_cpuid(&c), 52);
	c.leaf80000008_eax = 0x10;
	assert_int_equal(nvmx_maxphyaddr_by_cpuid(&c), 32);
	c.has_80000008 = false;
	assert_int_equal(nvmx_maxphyaddr_by_cpuid(&c), 36); /* PAE */
	c.leaf1_edx &= ~(1u << 6);
	assert_int_equal(nvmx_maxphyaddr_by_cpuid(&c), 32);
	struct nvmx_offer o = offer();
	c = tigerlake();
	c.leaf80000008_eax = 0x3024;
	nvmx_offer_follow_cpuid(&o, &c);
	assert_int_equal(o.caps.maxphyaddr, 36);
}

static void test_leaf7_flags(void **state)
{
	(void)state;
	struct nvmx_offer o = offer();
	struct nvmx_l1_cpuid c = tigerlake();
	c.leaf7_ebx |= (1u << 2) | (1u << 11);
	c.leaf7_ecx |= 1u << 24;
	nvmx_offer_follow_cpuid(&o, &c);
	assert_true(o.caps.sgx && o.caps.rtm && o.caps.bus_lock_detect);
	c = tigerlake();
	c.leaf7_ebx &= ~((1u << 2) | (1u << 11));
	nvmx_offer_follow_cpuid(&o, &c);
	assert_false(o.caps.sgx || o.caps.rtm || o.caps.bus_lock_detect);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_bit_follows_its_feature),
		cmocka_unit_test(test_tigerlake_offer_unchanged),
		cmocka_unit_test(test_offer_narrowed),
		cmocka_unit_test(test_maxphyaddr),
		cmocka_unit_test(test_leaf7_flags),
	};
	return cmocka_run_group_tests_name("nvmx_l1_cpuid", tests, NULL, NULL);
}
