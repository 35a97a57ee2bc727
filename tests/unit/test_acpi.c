/* covers: src/core/acpi.c src/core/acpi_madt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/acpi.h"

/* ACPI 6.4, 5.2.5.3: the first 20 bytes (ACPI 1.0) sum to zero; revision 2 adds a
 * 36-byte structure with an extended checksum over all of it. */
#define RSDP_V1_LENGTH 20
#define RSDP_V2_LENGTH 36

static _Alignas(16) uint8_t area[ACPI_BIOS_AREA_SIZE];

static void reset(void)
{
	/* Filler that never forms a signature. */
	for (size_t i = 0; i < sizeof(area); i++)
		area[i] = (uint8_t)(0x5a ^ (i * 13));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Writes an RSDP at `off`; `v1_delta` is added to its checksum (0: valid). */
static void put_rsdp(size_t off, uint8_t revision, uint8_t v1_delta)
{
	uint8_t *r = area + off;
	memcpy(r, "RSD PTR ", 8);
	r[8] = 0;                      /* checksum */
	memcpy(r + 9, "NESTBD", 6);    /* OEM ID */
	r[15] = revision;
	r[16] = 0x00; r[17] = 0x10; r[18] = 0xFE; r[19] = 0x7F; /* RSDT 0x7FFE1000 */
	r[8] = (uint8_t)(-sum(r, RSDP_V1_LENGTH) + v1_delta);
	if (revision >= 2) {
		r[20] = RSDP_V2_LENGTH; r[21] = 0; r[22] = 0; r[23] = 0;
		memset(r + 24, 0, 8);
		r[24] = 0x20; r[25] = 0x10; r[26] = 0xFE; r[27] = 0x7F; /* XSDT */
		r[32] = 0;
		r[33] = r[34] = r[35] = 0;
		r[32] = (uint8_t)-sum(r, RSDP_V2_LENGTH);
	}
}

static void test_finds_valid_rsdp(void **state)
{
	(void)state;
	reset();
	put_rsdp(0xF6A0, 0, 0); /* 0xE0000 + 0xF6A0 = 0xEF6A0 */
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)),
			 ACPI_BIOS_AREA_BASE + 0xF6A0);
	reset();
	put_rsdp(0, 0, 0);
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), ACPI_BIOS_AREA_BASE);
	reset();
	put_rsdp(0x1FFE0, 0, 0); /* last 16-byte slot with room for 20 bytes: 0x1FFE0 */
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)),
			 ACPI_BIOS_AREA_BASE + 0x1FFE0);
}

static void test_finds_revision_2(void **state)
{
	(void)state;
	reset();
	put_rsdp(0x100, 2, 0);
	assert_int_equal(sum(area + 0x100, RSDP_V2_LENGTH), 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, 1024), 0x9FC00 + 0x100);
}

static void test_bad_checksum(void **state)
{
	(void)state;
	for (unsigned delta = 1; delta < 256; delta += 37) {
		reset();
		put_rsdp(0x40, 0, (uint8_t)delta);
		assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), 0);
	}
	/* A corrupted byte inside the 20 checksummed bytes. */
	reset();
	put_rsdp(0x40, 0, 0);
	area[0x40 + 19] ^= 1;
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), 0);
}

static void test_bytes_after_v1_part_do_not_matter(void **state)
{
	(void)state;
	reset();
	put_rsdp(0x40, 0, 0);
	area[0x40 + RSDP_V1_LENGTH] ^= 0xFF;
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)),
			 ACPI_BIOS_AREA_BASE + 0x40);
}

static void test_skips_bad_candidate(void **state)
{
	(void)state;
	reset();
	put_rsdp(0x40, 0, 1);  /* signature, bad checksum */
	put_rsdp(0x800, 0, 0); /* the real one */
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)),
			 ACPI_BIOS_AREA_BASE + 0x800);
}

static void test_first_valid_wins(void **state)
{
	(void)state;
	reset();
	put_rsdp(0x800, 0, 0);
	put_rsdp(0x1000, 2, 0);
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)),
			 ACPI_BIOS_AREA_BASE + 0x800);
}

static void test_alignment(void **state)
{
	(void)state;
	/* Only 16-byte boundaries are looked at. */
	static const size_t offsets[] = { 0x41, 0x44, 0x48, 0x4C, 0x4F };
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		reset();
		put_rsdp(offsets[i], 0, 0);
		assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), 0);
	}
	/* The boundaries are counted from the start of the scanned memory. */
	reset();
	put_rsdp(0x50, 0, 0);
	assert_int_equal(acpi_scan_rsdp(area + 0x10, ACPI_BIOS_AREA_BASE + 0x10, 0x1000),
			 ACPI_BIOS_AREA_BASE + 0x50);
}

static void test_signature_must_match_exactly(void **state)
{
	(void)state;
	reset();
	put_rsdp(0x40, 0, 0);
	area[0x40 + 7] = 0;     /* "RSD PTR\0" */
	area[0x40 + 8] += ' ';  /* keep the sum at zero */
	assert_int_equal(sum(area + 0x40, RSDP_V1_LENGTH), 0);
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), 0);
	reset();
	put_rsdp(0x40, 0, 0);
	area[0x40] = 'r';
	area[0x40 + 8] += 'R' - 'r';
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), 0);
}

static void test_scan_length(void **state)
{
	(void)state;
	/* The EBDA's first KiB: an RSDP that would run past it is not read. */
	reset();
	put_rsdp(ACPI_EBDA_SCAN_SIZE - 16, 0, 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, ACPI_EBDA_SCAN_SIZE), 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, ACPI_EBDA_SCAN_SIZE + 4),
			 0x9FC00 + ACPI_EBDA_SCAN_SIZE - 16);
	reset();
	put_rsdp(ACPI_EBDA_SCAN_SIZE - 32, 0, 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, ACPI_EBDA_SCAN_SIZE),
			 0x9FC00 + ACPI_EBDA_SCAN_SIZE - 32);
	/* Beyond the scanned length. */
	reset();
	put_rsdp(ACPI_EBDA_SCAN_SIZE, 0, 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, ACPI_EBDA_SCAN_SIZE), 0);
	/* Too short to hold one. */
	reset();
	put_rsdp(0, 0, 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, RSDP_V1_LENGTH), 0x9FC00);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, RSDP_V1_LENGTH - 1), 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x9FC00, 0), 0);
}

static void test_nothing_there(void **state)
{
	(void)state;
	reset();
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), 0);
	memset(area, 0, sizeof(area)); /* all zeros sum to zero but have no signature */
	assert_int_equal(acpi_scan_rsdp(area, ACPI_BIOS_AREA_BASE, sizeof(area)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_valid_rsdp),
		cmocka_unit_test(test_finds_revision_2),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_bytes_after_v1_part_do_not_matter),
		cmocka_unit_test(test_skips_bad_candidate),
		cmocka_unit_test(test_first_valid_wins),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_signature_must_match_exactly),
		cmocka_unit_test(test_scan_length),
		cmocka_unit_test(test_nothing_there),
	};
	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
