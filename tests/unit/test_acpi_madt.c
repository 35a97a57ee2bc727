/* covers: src/core/acpi_madt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/acpi_madt.h"

static uint8_t table[512];
static size_t table_len;

static void fix_checksum(uint8_t *t, size_t len, size_t at)
{
	uint8_t sum = 0;
	t[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	t[at] = (uint8_t)-sum;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A MADT header (ACPI 6.4 5.2.12, Table 5.19) with the local APIC at 0xFEE00000,
 * PCAT_COMPAT; entries follow. */
static void madt_begin(void)
{
	memset(table, 0xcc, sizeof(table));
	memcpy(table, "APIC", 4);
	table[8] = 5; /* revision */
	memcpy(table + 10, "NESTBD", 6);
	put32(table + 36, 0xfee00000);
	put32(table + 40, 1);
	table_len = ACPI_MADT_HEADER_LENGTH;
}

static void madt_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t *e = table + table_len;
	e[0] = ACPI_MADT_LOCAL_APIC, e[1] = 8, e[2] = uid, e[3] = apic_id;
	put32(e + 4, flags);
	table_len += 8;
}

static void madt_x2apic(uint32_t x2apic_id, uint32_t flags, uint32_t uid)
{
	uint8_t *e = table + table_len;
	e[0] = ACPI_MADT_LOCAL_X2APIC, e[1] = 16, e[2] = e[3] = 0;
	put32(e + 4, x2apic_id), put32(e + 8, flags), put32(e + 12, uid);
	table_len += 16;
}

static void madt_other(uint8_t type, uint8_t len)
{
	uint8_t *e = table + table_len;
	memset(e, 0x11, len);
	e[0] = type, e[1] = len;
	table_len += len;
}

static void madt_end(void)
{
	put32(table + 4, (uint32_t)table_len);
	fix_checksum(table, table_len, 9);
}

static void test_table_valid(void **state)
{
	(void)state;
	madt_begin();
	madt_lapic(0, 0, ACPI_MADT_CPU_ENABLED);
	madt_end();
	assert_true(acpi_table_valid(table, table_len, "APIC"));
	assert_true(acpi_table_valid(table, sizeof(table), "APIC"));
	assert_false(acpi_table_valid(table, table_len, "FACP"));   /* signature */
	assert_false(acpi_table_valid(table, table_len - 1, "APIC")); /* cut short */
	assert_false(acpi_table_valid(table, 35, "APIC"));          /* no whole header */
	table[50] ^= 1;                                             /* checksum */
	assert_false(acpi_table_valid(table, table_len, "APIC"));
	table[50] ^= 1;
	put32(table + 4, 35);                                       /* length < header */
	fix_checksum(table, 35, 9);
	assert_false(acpi_table_valid(table, table_len, "APIC"));
	assert_int_equal(acpi_table_length(table), 35);
}

/* QEMU's and Bochs' MADT: one type 0 entry per CPU, I/O APIC and overrides between. */
static void test_local_apic_entries(void **state)
{
	(void)state;
	struct acpi_cpu cpus[8];
	struct acpi_madt_info info;
	madt_begin();
	madt_lapic(0, 0, ACPI_MADT_CPU_ENABLED);
	madt_other(1, 12); /* I/O APIC */
	madt_lapic(1, 1, ACPI_MADT_CPU_ENABLED);
	madt_lapic(2, 4, ACPI_MADT_CPU_ONLINE_CAPABLE);
	madt_lapic(3, 5, 0); /* neither enabled nor online capable: not a CPU to start */
	madt_other(2, 10); /* interrupt source override */
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 8, &info), 0);
	assert_int_equal(info.local_apic_address, 0xfee00000);
	assert_int_equal(info.madt_flags, 1);
	assert_int_equal(info.nr_cpus, 3);
	assert_int_equal(info.nr_listed, 3);
	assert_int_equal(cpus[0].apic_id, 0);
	assert_int_equal(cpus[1].apic_id, 1);
	assert_int_equal(cpus[1].uid, 1);
	assert_int_equal(cpus[2].apic_id, 4);
	assert_int_equal(cpus[2].flags, ACPI_MADT_CPU_ONLINE_CAPABLE);
	assert_false(cpus[2].x2apic_entry);
}

static void test_x2apic_entries_and_duplicates(void **state)
{
	(void)state;
	struct acpi_cpu cpus[8];
	struct acpi_madt_info info;
	madt_begin();
	madt_lapic(0, 0, ACPI_MADT_CPU_ENABLED);
	madt_x2apic(0, ACPI_MADT_CPU_ENABLED, 0);          /* the same CPU again */
	madt_x2apic(0x100, ACPI_MADT_CPU_ENABLED, 0x4321); /* beyond 8 bits */
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 8, &info), 0);
	assert_int_equal(info.nr_cpus, 2);
	assert_false(cpus[0].x2apic_entry);
	assert_int_equal(cpus[1].apic_id, 0x100);
	assert_int_equal(cpus[1].uid, 0x4321);
	assert_true(cpus[1].x2apic_entry);
}

static void test_more_cpus_than_room(void **state)
{
	(void)state;
	struct acpi_cpu cpus[2];
	struct acpi_madt_info info;
	madt_begin();
	for (uint8_t i = 0; i < 5; i++)
		madt_lapic(i, i, ACPI_MADT_CPU_ENABLED);
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 2, &info), 0);
	assert_int_equal(info.nr_cpus, 2);
	assert_int_equal(info.nr_listed, 5);
	assert_int_equal(cpus[1].apic_id, 1);
}

static void test_malformed_entries(void **state)
{
	(void)state;
	struct acpi_cpu cpus[8];
	struct acpi_madt_info info;
	/* an entry of length 0 would loop for ever */
	madt_begin();
	madt_lapic(0, 0, ACPI_MADT_CPU_ENABLED);
	madt_other(7, 2);
	table[table_len - 1] = 0;
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 8, &info), -1);
	/* an entry running past the table */
	madt_begin();
	madt_lapic(0, 0, ACPI_MADT_CPU_ENABLED);
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len - 1, cpus, 8, &info), -1);
	/* a type 0 entry shorter than 8 bytes, a type 9 shorter than 16 */
	madt_begin();
	madt_other(ACPI_MADT_LOCAL_APIC, 6);
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 8, &info), -1);
	madt_begin();
	madt_other(ACPI_MADT_LOCAL_X2APIC, 12);
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 8, &info), -1);
	/* one trailing byte */
	madt_begin();
	madt_lapic(0, 0, ACPI_MADT_CPU_ENABLED);
	table_len++;
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 8, &info), -1);
	/* shorter than the MADT header */
	assert_int_equal(acpi_madt_parse_cpus(table, 43, cpus, 8, &info), -1);
	/* no entries at all */
	madt_begin();
	madt_end();
	assert_int_equal(acpi_madt_parse_cpus(table, table_len, cpus, 8, &info), 0);
	assert_int_equal(info.nr_cpus, 0);
}

static uint8_t rsdp[36];

static void put_rsdp(uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "NESTBD", 6);
	rsdp[15] = revision;
	put32(rsdp + 16, rsdt);
	put32(rsdp + 20, 36);
	put32(rsdp + 24, (uint32_t)xsdt);
	put32(rsdp + 28, (uint32_t)(xsdt >> 32));
	fix_checksum(rsdp, 20, 8);
	fix_checksum(rsdp, 36, 32);
}

static void test_rsdp(void **state)
{
	(void)state;
	uint32_t rsdt;
	put_rsdp(0, 0x7fe0000, 0x123456789);
	assert_int_equal(acpi_rsdp_xsdt(rsdp, 20, &rsdt), 0); /* ACPI 1.0: RSDT only */
	assert_int_equal(rsdt, 0x7fe0000);
	put_rsdp(2, 0x7fe0000, 0x123456789);
	assert_int_equal(acpi_rsdp_xsdt(rsdp, 36, &rsdt), 0x123456789);
	assert_int_equal(rsdt, 0x7fe0000);
	assert_int_equal(acpi_rsdp_xsdt(rsdp, 20, &rsdt), 0); /* v2 part not readable */
	rsdp[30] ^= 1;                                         /* extended checksum */
	assert_int_equal(acpi_rsdp_xsdt(rsdp, 36, &rsdt), 0);
	assert_int_equal(rsdt, 0x7fe0000);
	rsdp[0] ^= 1;                                          /* v1 checksum */
	assert_int_equal(acpi_rsdp_xsdt(rsdp, 36, &rsdt), 0);
	assert_int_equal(rsdt, 0);
}

static void test_sdt_entries(void **state)
{
	(void)state;
	uint8_t sdt[36 + 3 * 8];
	memset(sdt, 0, sizeof(sdt));
	put32(sdt + 4, 36 + 3 * 4);
	put32(sdt + 36, 0x1000), put32(sdt + 40, 0x2000), put32(sdt + 44, 0x3000);
	assert_int_equal(acpi_sdt_entries(sdt, 4), 3);
	assert_int_equal(acpi_sdt_entry(sdt, 4, 2), 0x3000);
	put32(sdt + 4, 36 + 2 * 8);
	assert_int_equal(acpi_sdt_entries(sdt, 8), 2);
	assert_int_equal(acpi_sdt_entry(sdt, 8, 0), 0x200000001000ull); /* 0x1000, 0x2000 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_valid),
		cmocka_unit_test(test_local_apic_entries),
		cmocka_unit_test(test_x2apic_entries_and_duplicates),
		cmocka_unit_test(test_more_cpus_than_room),
		cmocka_unit_test(test_malformed_entries),
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_sdt_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
