/* covers: src/iommu/dmar.c src/iommu/vtd.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "iommu/dmar.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"

static uint8_t table[256];
static size_t used;
static struct dmar_info info;
static char err[128];

static void start(uint8_t haw_minus_1)
{
	memset(table, 0, sizeof(table));
	memcpy(table, "DMAR", 4);
	table[DMAR_HAW_OFFSET] = haw_minus_1;
	table[DMAR_FLAGS_OFFSET] = 1;   /* INTR_REMAP */
	used = DMAR_STRUCTS_OFFSET;
}

static void add(uint16_t type, uint16_t len, const uint8_t *body)
{
	memcpy(table + used, &type, 2);
	memcpy(table + used + 2, &len, 2);
	if (len > 4)
		memcpy(table + used + 4, body, len - 4u);
	used += len;
}

static void add_drhd(uint8_t flags, uint8_t size, uint16_t segment, uint64_t base,
		     uint16_t len)
{
	uint8_t b[60] = { 0 };
	b[0] = flags;
	b[1] = size;
	memcpy(b + 2, &segment, 2);
	memcpy(b + 4, &base, 8);
	add(DMAR_TYPE_DRHD, len, b);
}

static size_t finish(void)
{
	uint32_t len = (uint32_t)used;
	memcpy(table + 4, &len, 4);
	table[9] = 0;
	uint8_t s = 0;
	for (size_t i = 0; i < used; i++)
		s = (uint8_t)(s + table[i]);
	table[9] = (uint8_t)-s;
	return used;
}

/* QEMU's q35 with intel-iommu: one DRHD, INCLUDE_PCI_ALL, registers at 0xfed90000. */
static void test_one_unit(void **state)
{
	(void)state;
	start(38);
	add_drhd(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000, 16);
	size_t len = finish();
	assert_int_equal(dmar_parse(table, len, &info, err, sizeof(err)), 0);
	assert_int_equal(info.host_address_width, 39);
	assert_int_equal(info.flags, 1);
	assert_int_equal(info.nr_units, 1);
	assert_int_equal(info.units[0].reg_base, 0xfed90000);
	assert_int_equal(info.units[0].reg_size, 4096);
	assert_true(info.units[0].include_pci_all);
	assert_int_equal(info.nr_rmrr, 0);
}

static void test_units_scopes_and_rmrr(void **state)
{
	(void)state;
	start(45);
	add_drhd(0, 1, 0, 0xfed90000, 16 + 8);          /* one device scope entry */
	uint8_t rmrr[20] = { 0 };
	add(DMAR_TYPE_RMRR, 24, rmrr);
	add(7, 8, rmrr);                                 /* a type this parser skips */
	add_drhd(DMAR_DRHD_INCLUDE_PCI_ALL, 0, 1, 0xfed91000, 16);
	size_t len = finish();
	assert_int_equal(dmar_parse(table, len, &info, err, sizeof(err)), 0);
	assert_int_equal(info.nr_units, 2);
	assert_int_equal(info.units[0].reg_size, 8192);
	assert_false(info.units[0].include_pci_all);
	assert_int_equal(info.units[1].segment, 1);
	assert_int_equal(info.units[1].reg_base, 0xfed91000);
	assert_int_equal(info.nr_rmrr, 1);
}

static void expect_error(size_t len, const char *message)
{
	assert_int_equal(dmar_parse(table, len, &info, err, sizeof(err)), -1);
	assert_string_equal(err, message);
}

static void test_malformed(void **state)
{
	(void)state;
	start(38);
	add_drhd(1, 0, 0, 0xfed90000, 16);
	size_t len = finish();
	expect_error(40, "DMAR is 40 bytes, shorter than its 48-byte header");
	expect_error(len - 1, "DMAR length field 64, given 63 bytes");
	table[20] ^= 1;
	expect_error(len, "DMAR checksum is wrong (bytes sum to 0x1)");

	start(38);
	len = finish();
	expect_error(len, "DMAR lists no remapping unit (DRHD)");

	start(38);
	add_drhd(1, 0, 0, 0xfed90000, 16);
	memset(table + used, 0, 2);
	used += 2;
	len = finish();
	expect_error(len, "DMAR: 2 stray bytes at offset 64");

	start(38);
	add_drhd(1, 0, 0, 0xfed90000, 200);             /* runs past the end */
	used = DMAR_STRUCTS_OFFSET + 16;
	len = finish();
	expect_error(len, "DMAR: structure of type 0 at offset 48 has length 200 (16 bytes left)");

	start(38);
	add_drhd(1, 0, 0, 0xfed90000, 2);               /* a zero-progress length */
	used = DMAR_STRUCTS_OFFSET + 16;
	len = finish();
	expect_error(len, "DMAR: structure of type 0 at offset 48 has length 2 (16 bytes left)");

	start(38);
	add_drhd(1, 0, 0, 0xfed90000, 12);
	len = finish();
	expect_error(len, "DMAR: DRHD at offset 48 is 12 bytes, expected at least 16");

	start(38);
	add_drhd(1, 0, 0, 0xfed90800, 16);
	len = finish();
	expect_error(len, "DMAR: unit 0 has register base 0xfed90800");

	start(38);
	add_drhd(1, 0, 0, 0, 16);
	len = finish();
	expect_error(len, "DMAR: unit 0 has register base 0x0");

	memcpy(table, "IVRS", 4);
	expect_error(len, "not a DMAR table");
}

static void test_too_many_units(void **state)
{
	(void)state;
	start(38);
	for (unsigned i = 0; i <= DMAR_MAX_UNITS; i++)
		add_drhd(0, 0, 0, 0xfed00000 + i * 0x1000ull, 12 + 4);
	size_t len = finish();
	expect_error(len, "DMAR: more than 16 remapping units");
}

/* ---- vtd.c ---- */

static uint64_t cap_with(unsigned sagaw) { return (uint64_t)sagaw << VTD_CAP_SAGAW_SHIFT; }

static void test_levels(void **state)
{
	(void)state;
	/* QEMU 7.2 intel-iommu: aw-bits 39 gives SAGAW 010b, aw-bits 48 gives 110b */
	assert_int_equal(vtd_levels(cap_with(VTD_SAGAW_39), 4ull << 30), 3);
	assert_int_equal(vtd_levels(cap_with(VTD_SAGAW_39), 1ull << 39), 3);
	assert_int_equal(vtd_levels(cap_with(VTD_SAGAW_39), (1ull << 39) + 4096), 0);
	assert_int_equal(vtd_levels(cap_with(VTD_SAGAW_39 | VTD_SAGAW_48), 4ull << 30), 4);
	assert_int_equal(vtd_levels(cap_with(VTD_SAGAW_48), 1ull << 45), 4);
	assert_int_equal(vtd_levels(cap_with(1u << 3), 4ull << 30), 0);   /* 5-level only */
	assert_int_equal(vtd_levels(0, 4ull << 30), 0);
}

static void test_context_entry(void **state)
{
	(void)state;
	uint64_t e[2];
	vtd_context_entry(0x12345000, 3, e);
	assert_int_equal(e[0], 0x12345001);              /* present, TT 00, the table */
	assert_int_equal(e[1], 0x101);                   /* domain 1, AW 1 (39-bit) */
	vtd_context_entry(0xabcdef000, 4, e);
	assert_int_equal(e[0], 0xabcdef001);
	assert_int_equal(e[1], 0x102);                   /* AW 2 (48-bit) */
}

static void test_fault_decode(void **state)
{
	(void)state;
	struct vtd_fault f;
	/* QEMU's record of the AHCI (00:1f.2) writing to 0xea00000: reason 5 */
	uint64_t hi = VTD_FRCD_HI_F | 5ull << VTD_FRCD_HI_FR_SHIFT | 0x00fa;
	assert_true(vtd_fault_decode(0xea00000, hi, &f));
	assert_int_equal(f.address, 0xea00000);
	assert_int_equal(f.source, 0x00fa);            /* bus 0, dev 0x1f, fn 2 */
	assert_int_equal(f.reason, 5);
	assert_false(f.read);
	assert_true(vtd_fault_decode(0x12345678, hi | VTD_FRCD_HI_READ, &f));
	assert_int_equal(f.address, 0x12345000);
	assert_true(f.read);
	assert_false(vtd_fault_decode(0xea00000, hi & ~VTD_FRCD_HI_F, &f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_unit),
		cmocka_unit_test(test_units_scopes_and_rmrr),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many_units),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_context_entry),
		cmocka_unit_test(test_fault_decode),
	};
	return cmocka_run_group_tests_name("dmar", tests, NULL, NULL);
}
