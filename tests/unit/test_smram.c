/* covers: src/core/smram.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/smram.h"

static void test_chipset(void **state)
{
	(void)state;
	assert_int_equal(smram_chipset_of(0x8086, 0x1237), SMRAM_CHIPSET_I440FX);
	assert_int_equal(smram_chipset_of(0x8086, 0x29c0), SMRAM_CHIPSET_Q35);
	assert_int_equal(smram_chipset_of(0x8086, 0x7190), SMRAM_CHIPSET_UNKNOWN);
	assert_int_equal(smram_chipset_of(0x1022, 0x1237), SMRAM_CHIPSET_UNKNOWN);
	assert_int_equal(smram_chipset_of(0xffff, 0xffff), SMRAM_CHIPSET_UNKNOWN);
	assert_int_equal(smram_register(SMRAM_CHIPSET_I440FX), 0x72);
	assert_int_equal(smram_register(SMRAM_CHIPSET_Q35), 0x9d);
	assert_int_equal(smram_register(SMRAM_CHIPSET_UNKNOWN), 0);
	assert_string_equal(smram_chipset_name(SMRAM_CHIPSET_Q35), "q35");
}

static void test_lock(void **state)
{
	(void)state;
	/* SeaBIOS leaves 0x0a (G_SMRAME, C_BASE_SEG 010b); an open register is closed */
	assert_int_equal(smram_lock_value(0x0a), 0x1a);
	assert_int_equal(smram_lock_value(0x4a), 0x1a);
	assert_int_equal(smram_lock_value(0x1a), 0x1a);
	assert_int_equal(smram_lock_value(0x2a), 0x3a);
}

static void test_locked_write(void **state)
{
	(void)state;
	const enum smram_chipset fx = SMRAM_CHIPSET_I440FX, q35 = SMRAM_CHIPSET_Q35;
	/* opening fails, unlocking fails, G_SMRAME and the base segment stay */
	assert_int_equal(smram_locked_write(fx, 0x72, 0x1a, 0x4a), 0x1a);
	assert_int_equal(smram_locked_write(fx, 0x72, 0x1a, 0x00), 0x1a);
	assert_int_equal(smram_locked_write(fx, 0x72, 0x1a, 0x45), 0x1a);
	assert_int_equal(smram_locked_write(fx, 0x72, 0x12, 0x0a), 0x12);
	/* D_CLS is kept too (the guest is not the SMI handler) */
	assert_int_equal(smram_locked_write(fx, 0x72, 0x1a, 0x6a), 0x1a);
	assert_int_equal(smram_locked_write(fx, 0x72, 0x1a, 0x3a), 0x1a);
	assert_int_equal(smram_locked_write(fx, 0x72, 0x3a, 0x1a), 0x3a);
	/* a register found open is read back closed and locked */
	assert_int_equal(smram_locked_write(fx, 0x72, 0x4a, 0x4a), 0x1a);
	/* the PAM registers (BIOS shadow) keep their value: 59h-5Fh on i440FX */
	assert_int_equal(smram_locked_write(fx, 0x59, 0x10, 0x30), 0x10);
	assert_int_equal(smram_locked_write(fx, 0x5f, 0x11, 0x33), 0x11);
	assert_int_equal(smram_locked_write(fx, 0x60, 0x11, 0x33), 0x33);
	assert_int_equal(smram_locked_write(fx, 0x58, 0x11, 0x33), 0x33);
	assert_int_equal(smram_locked_write(fx, 0x90, 0x10, 0x30), 0x30);
	/* and 90h-96h on Q35 */
	assert_int_equal(smram_locked_write(q35, 0x90, 0x10, 0x30), 0x10);
	assert_int_equal(smram_locked_write(q35, 0x96, 0x11, 0x33), 0x11);
	assert_int_equal(smram_locked_write(q35, 0x97, 0x11, 0x33), 0x33);
	assert_int_equal(smram_locked_write(q35, 0x59, 0x10, 0x30), 0x30);
	/* other registers take the write */
	assert_int_equal(smram_locked_write(fx, 0x4f, 0x30, 0x11), 0x11);
	assert_int_equal(smram_locked_write(fx, 0x9d, 0x1a, 0x4a), 0x4a);
	/* Q35: 9Dh like 72h, ESMRAMC read-only, 72h an ordinary byte */
	assert_int_equal(smram_locked_write(q35, 0x9d, 0x1a, 0x4a), 0x1a);
	assert_int_equal(smram_locked_write(q35, 0x9e, 0x38, 0x00), 0x38);
	assert_int_equal(smram_locked_write(q35, 0x72, 0x00, 0x4a), 0x4a);
	assert_int_equal(smram_locked_write(SMRAM_CHIPSET_UNKNOWN, 0x72, 0x1a, 0x4a), 0x4a);
}

static void test_cfg1_decode(void **state)
{
	(void)state;
	const uint32_t smram_dword = PCI_CFG_ENABLE | 0x70;
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword, 0xcfc, 2), 0x72);
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword, 0xcfe, 0), 0x72);
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword, 0xcfd, 1), 0x72);
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword, 0xcff, 0), 0x73);
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword, 0xcff, 1), -1); /* past 0xCFF */
	assert_int_equal(pci_cfg1_host_bridge_byte(PCI_CFG_ENABLE | 0x9c, 0xcfc, 1), 0x9d);
	assert_int_equal(pci_cfg1_host_bridge_byte(0x70, 0xcfe, 0), -1);        /* disabled */
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword | (1u << 11), 0xcfe, 0), -1); /* 00:01.0 */
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword | (1u << 8), 0xcfe, 0), -1);  /* 00:00.1 */
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword | (1u << 16), 0xcfe, 0), -1); /* bus 1 */
	/* reserved bits 30:24 and 1:0 do not hide the host bridge */
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword | 0x7f000003u, 0xcfe, 0), 0x72);
	assert_int_equal(pci_cfg1_host_bridge_byte(smram_dword, 0xcf8, 0), -1);
}

static void test_ports(void **state)
{
	(void)state;
	assert_true(smram_pci_port(0xcf8, 4));
	assert_true(smram_pci_port(0xcfc, 1));
	assert_true(smram_pci_port(0xcff, 1));
	assert_true(smram_pci_port(0xcf6, 4)); /* straddles into CONFIG_ADDRESS */
	assert_false(smram_pci_port(0xcf4, 4));
	assert_false(smram_pci_port(0xd00, 2));
	assert_false(smram_pci_port(0xb2, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chipset),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_locked_write),
		cmocka_unit_test(test_cfg1_decode),
		cmocka_unit_test(test_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
