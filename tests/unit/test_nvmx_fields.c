/* covers: src/nested/vmx/vmcs12_fields.c src/nested/vmx/nvmx_insn_info.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nested/vmx/nvmx_insn_info.h"
#include "nested/vmx/vmcs12_fields.h"
#include "vmx/vmcs.h"

static void test_supported_fields(void **state)
{
	(void)state;
	struct vmcs12_field f;
	assert_true(vmcs12_field_lookup(VMCS_GUEST_RIP, &f));
	assert_int_equal(f.width, VMCS_WIDTH_NATURAL);
	assert_false(f.read_only);
	assert_false(f.high);
	assert_true(vmcs12_field_lookup(VMCS_VPID, &f));
	assert_int_equal(f.width, VMCS_WIDTH_16);
	assert_true(vmcs12_field_lookup(VMCS_EXIT_REASON, &f));
	assert_true(f.read_only);
	assert_int_equal(f.width, VMCS_WIDTH_32);
	assert_true(vmcs12_field_lookup(VMCS_GUEST_PHYSICAL_ADDRESS, &f));
	assert_true(f.read_only);
	assert_true(vmcs12_field_lookup(VMCS_EXIT_QUALIFICATION, &f));
	assert_true(f.read_only);
	assert_true(vmcs12_field_lookup(VMCS_HOST_RIP, &f));
	assert_false(f.read_only);
}

static void test_unsupported_fields(void **state)
{
	(void)state;
	struct vmcs12_field f;
	assert_false(vmcs12_field_lookup(0x1000, &f));          /* bit 12 reserved */
	assert_int_equal(f.slot, -1);
	assert_false(vmcs12_field_lookup(0x10000 | VMCS_GUEST_RIP, &f)); /* bits 31:15 */
	assert_false(vmcs12_field_lookup(VMCS_GUEST_RIP | 1, &f));       /* high access of a natural field */
	assert_false(vmcs12_field_lookup(VMCS_VPID | 1, &f));
	assert_false(vmcs12_field_lookup(VMCS_POSTED_INTR_NOTIFICATION_VECTOR, &f)); /* not offered */
	assert_true(vmcs12_field_lookup(VMCS_VMREAD_BITMAP, &f));  /* VMCS shadowing is offered */
	assert_int_equal(f.width, VMCS_WIDTH_64);
	assert_true(vmcs12_field_lookup(VMCS_VMWRITE_BITMAP | 1, &f)); /* its high half */
	assert_true(vmcs12_field_lookup(VMCS_LINK_POINTER, &f));
	assert_true(vmcs12_field_lookup(VMCS_PREEMPTION_TIMER_VALUE, &f)); /* offered */
	assert_true(vmcs12_field_lookup(VMCS_PLE_GAP, &f));
	assert_true(vmcs12_field_lookup(VMCS_PLE_WINDOW, &f));
	assert_true(vmcs12_field_lookup(VMCS_VMFUNC_CONTROLS, &f));
	assert_true(vmcs12_field_lookup(VMCS_VIRTUAL_APIC_ADDR, &f));
	assert_true(vmcs12_field_lookup(VMCS_EOI_EXIT_BITMAP(3), &f));
	assert_true(vmcs12_field_lookup(VMCS_GUEST_INTR_STATUS, &f));
	assert_int_equal(f.width, VMCS_WIDTH_16);
}

static void test_slots_distinct(void **state)
{
	(void)state;
	struct vmcs12_field a, b;
	assert_true(vmcs12_field_lookup(VMCS_GUEST_CR0, &a));
	assert_true(vmcs12_field_lookup(VMCS_GUEST_CR4, &b));
	assert_int_not_equal(a.slot, b.slot);
	assert_true(a.slot >= 0 && a.slot < VMCS12_FIELD_COUNT);
	/* the high access of a 64-bit field shares its slot */
	assert_true(vmcs12_field_lookup(VMCS_TSC_OFFSET, &a));
	assert_true(vmcs12_field_lookup(VMCS_TSC_OFFSET | 1, &b));
	assert_int_equal(a.slot, b.slot);
	assert_true(b.high);
}

static void test_store_load_widths(void **state)
{
	(void)state;
	struct vmcs12_field f;
	assert_true(vmcs12_field_lookup(VMCS_VPID, &f));
	assert_int_equal(vmcs12_field_store(&f, 0, 0x123456789ull), 0x6789);
	assert_true(vmcs12_field_lookup(VMCS_PIN_BASED_CTLS, &f));
	assert_int_equal(vmcs12_field_store(&f, 0, 0x1ffffffffull), 0xffffffffull);
	assert_true(vmcs12_field_lookup(VMCS_TSC_OFFSET | 1, &f));
	uint64_t v = vmcs12_field_store(&f, 0x1111111122222222ull, 0xabcd);
	assert_int_equal(v, 0x0000abcd22222222ull);
	assert_int_equal(vmcs12_field_load(&f, v), 0xabcd);
	assert_true(vmcs12_field_lookup(VMCS_TSC_OFFSET, &f));
	assert_int_equal(vmcs12_field_load(&f, v), v);
}

static void test_every_slot_round_trips(void **state)
{
	(void)state;
	assert_true(vmcs12_field_count() <= VMCS12_FIELD_COUNT);
	for (unsigned i = 0; i < vmcs12_field_count(); i++) {
		struct vmcs12_field f;
		uint32_t enc = vmcs12_field_encoding(i);
		assert_true(vmcs12_field_lookup(enc, &f));
		assert_int_equal(f.slot, i);
		/* the neighbour encodings with the other type bits are distinct fields */
		assert_false(vmcs12_field_lookup(enc | 0x1000, &f));
	}
	assert_int_equal(vmcs12_field_encoding(vmcs12_field_count()), 0);
}

static void test_highest_index(void **state)
{
	(void)state;
	/* the VMX-preemption timer value 482Eh has index 17h, the highest nestbed supports */
	assert_int_equal(vmcs12_highest_index(), 0x17);
}

static void test_insn_info_vmread_register(void **state)
{
	(void)state;
	/* vmread %rax, %rbx: reg1 = RBX (3), reg2 = RAX (0), register form, 64-bit addresses */
	struct nvmx_insn_info in;
	nvmx_decode_insn_info((3u << 3) | (2u << 7) | (1u << 10) | (0u << 28), &in);
	assert_true(in.is_reg);
	assert_int_equal(in.reg1, 3);
	assert_int_equal(in.reg2, 0);
	assert_int_equal(in.addr_size, 2);
}

static void test_insn_info_memory_operand(void **state)
{
	(void)state;
	/* vmptrld 0x10(%rdi,%rcx,8) in DS: base RDI (7), index RCX (1), scale 3 */
	uint32_t info = 3u | (2u << 7) | (3u << 15) | (1u << 18) | (7u << 23);
	struct nvmx_insn_info in;
	nvmx_decode_insn_info(info, &in);
	assert_false(in.is_reg);
	assert_true(in.base_valid);
	assert_true(in.index_valid);
	assert_int_equal(in.segment, 3);
	uint64_t regs[16] = { 0 };
	regs[7] = 0x100000;
	regs[1] = 2;
	assert_int_equal(nvmx_operand_address(&in, regs, 0x10, 0x5000, true), 0x100020);
	/* outside 64-bit mode the segment base counts and addresses are 32-bit */
	assert_int_equal(nvmx_operand_address(&in, regs, 0x10, 0x5000, false), 0x105020);
	/* no base, no index (bits 22 and 27 set): displacement only; FS's base counts in 64-bit mode */
	nvmx_decode_insn_info((2u << 7) | (4u << 15) | (1u << 22) | (1u << 27), &in);
	assert_false(in.base_valid);
	assert_false(in.index_valid);
	assert_int_equal(nvmx_operand_address(&in, regs, 0x40, 0x7000, true), 0x7040);
	/* 32-bit address size wraps */
	nvmx_decode_insn_info((1u << 7) | (3u << 15) | (1u << 22) | (7u << 23), &in);
	regs[7] = 0xfffffff0ull;
	assert_int_equal(nvmx_operand_address(&in, regs, 0x20, 0, true), 0x10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supported_fields),
		cmocka_unit_test(test_unsupported_fields),
		cmocka_unit_test(test_slots_distinct),
		cmocka_unit_test(test_store_load_widths),
		cmocka_unit_test(test_every_slot_round_trips),
		cmocka_unit_test(test_highest_index),
		cmocka_unit_test(test_insn_info_vmread_register),
		cmocka_unit_test(test_insn_info_memory_operand),
	};
	return cmocka_run_group_tests_name("nvmx_fields", tests, NULL, NULL);
}
