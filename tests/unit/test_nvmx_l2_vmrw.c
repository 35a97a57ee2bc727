/* covers: src/nested/vmx/nvmx_l2_vmrw.c src/nested/vmx/vmcs12_fields.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/vmx/nvmx_l2_vmrw.h"
#include "vmx/vmcs.h"

/* L1's memory as the decision reads it: one 4 KiB bitmap at BITMAP_PA; everything
 * else is not L1's (nestbed's, or beyond its memory). */
#define BITMAP_PA 0x5000ull
#define SHADOW_PA 0x7000ull
static uint8_t bitmap[4096];
static unsigned reads;

static int read_byte(const void *ctx, uint64_t pa, uint8_t *byte)
{
	(void)ctx;
	reads++;
	if (pa < BITMAP_PA || pa >= BITMAP_PA + sizeof(bitmap))
		return -1;
	*byte = bitmap[pa - BITMAP_PA];
	return 0;
}

static void set_bit(uint32_t encoding)
{
	bitmap[encoding >> 3] |= (uint8_t)(1u << (encoding & 7));
}

static struct nvmx_l2_vmrw base(uint64_t encoding, bool write)
{
	memset(bitmap, 0, sizeof(bitmap));
	reads = 0;
	struct nvmx_l2_vmrw q = { .shadowing = true, .write = write, .long64 = true, .encoding = encoding,
				  .bitmap = BITMAP_PA, .cpl = 0, .link_pointer = SHADOW_PA, .vmwrite_any = true };
	return q;
}

static enum nvmx_l2_vmrw_outcome decide(const struct nvmx_l2_vmrw *q, struct vmcs12_field *f)
{
	return nvmx_l2_vmrw_decide(q, read_byte, NULL, f);
}

static void test_without_shadowing_every_access_exits(void **state)
{
	(void)state;
	struct vmcs12_field f;
	struct nvmx_l2_vmrw q = base(VMCS_GUEST_RIP, false);
	q.shadowing = false;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
	assert_int_equal(reads, 0); /* the bitmap is not consulted */
}

static void test_clear_bit_reads_the_shadow(void **state)
{
	(void)state;
	struct vmcs12_field f;
	struct nvmx_l2_vmrw q = base(VMCS_GUEST_SYSENTER_ESP, false);
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_ACCESS);
	assert_true(f.slot >= 0);
	assert_int_equal(f.width, VMCS_WIDTH_NATURAL);
	q = base(VMCS_GUEST_SYSENTER_ESP, true);
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_ACCESS);
}

static void test_set_bit_exits(void **state)
{
	(void)state;
	struct vmcs12_field f;
	struct nvmx_l2_vmrw q = base(VMCS_GUEST_SYSENTER_ESP, false);
	set_bit(VMCS_GUEST_SYSENTER_ESP);
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
	/* the neighbouring bit of the same byte does not */
	q.encoding = VMCS_GUEST_SYSENTER_ESP + 1;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_FAIL_UNSUPPORTED); /* 6825h: high access of a natural field */
	/* bit 7FFFh, the last one */
	q = base(0x7fff, false);
	set_bit(0x7fff);
	assert_true(nvmx_vmcs_bitmap_exits(BITMAP_PA, 0x7fff, read_byte, NULL));
	assert_false(nvmx_vmcs_bitmap_exits(BITMAP_PA, 0x7ffe, read_byte, NULL));
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
}

static void test_high_encoding_bits_exit(void **state)
{
	(void)state;
	struct vmcs12_field f;
	/* bits 63:15 in 64-bit mode: bit 15, bit 32 */
	struct nvmx_l2_vmrw q = base(0x8000ull | VMCS_GUEST_RIP, false);
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
	assert_int_equal(reads, 0);
	q = base((1ull << 32) | VMCS_GUEST_RIP, true);
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
	/* outside 64-bit mode only bits 31:15 count: bit 32 is not part of the operand */
	q.long64 = false;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_ACCESS);
	q.encoding = 0x80000000ull | VMCS_GUEST_RIP;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
}

static void test_bitmap_outside_l1_memory_exits(void **state)
{
	(void)state;
	struct vmcs12_field f;
	struct nvmx_l2_vmrw q = base(VMCS_GUEST_RIP, false);
	q.bitmap = 0x100000000ull; /* not L1's: all ones */
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
}

static void test_order_after_the_exit(void **state)
{
	(void)state;
	struct vmcs12_field f;
	/* CPL > 0: #GP(0), before the link pointer and the field */
	struct nvmx_l2_vmrw q = base(0x1000, false);
	q.cpl = 3;
	q.link_pointer = NVMX_LINK_POINTER_NONE;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_GP);
	/* no shadow VMCS: VMfailInvalid, before the field */
	q.cpl = 0;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_FAIL_INVALID);
	/* encoding 1000h (bit 12 reserved): VMfailValid 12 */
	q.link_pointer = SHADOW_PA;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_FAIL_UNSUPPORTED);
	assert_int_equal(f.slot, -1);
	/* a set bit exits even at CPL 3 with no shadow VMCS (the exit comes first) */
	q = base(VMCS_GUEST_RIP, false);
	set_bit(VMCS_GUEST_RIP);
	q.cpl = 3;
	q.link_pointer = NVMX_LINK_POINTER_NONE;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_EXIT);
}

static void test_vmwrite_read_only_field(void **state)
{
	(void)state;
	struct vmcs12_field f;
	struct nvmx_l2_vmrw q = base(VMCS_EXIT_REASON, true);
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_ACCESS);       /* IA32_VMX_MISC[29] = 1 */
	assert_true(f.read_only);
	q.vmwrite_any = false;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_FAIL_READ_ONLY); /* VMfailValid 13 */
	q.write = false;
	assert_int_equal(decide(&q, &f), NVMX_L2_VMRW_ACCESS);       /* VMREAD of it is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_shadowing_every_access_exits),
		cmocka_unit_test(test_clear_bit_reads_the_shadow),
		cmocka_unit_test(test_set_bit_exits),
		cmocka_unit_test(test_high_encoding_bits_exit),
		cmocka_unit_test(test_bitmap_outside_l1_memory_exits),
		cmocka_unit_test(test_order_after_the_exit),
		cmocka_unit_test(test_vmwrite_read_only_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
