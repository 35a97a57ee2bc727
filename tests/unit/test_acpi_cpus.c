/* covers: src/core/acpi.c src/core/acpi_madt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/acpi.h"

/* A small physical memory with an RSDP, an RSDT or XSDT and a MADT (ACPI 6.4 5.2.5,
 * 5.2.7, 5.2.8, 5.2.12). */
#define MEM_SIZE 0x4000u
#define RSDP_AT 0x100u
#define ROOT_AT 0x1000u
#define MADT_AT 0x2000u
#define OTHER_AT 0x3000u

static uint8_t mem[MEM_SIZE];

static uint8_t *map_mem(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys > MEM_SIZE || len > MEM_SIZE - phys)
		return NULL;
	return mem + phys;
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static void checksum(uint8_t *p, uint32_t len, uint32_t at)
{
	uint8_t s = 0;
	p[at] = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)-s;
}

static void header(uint8_t *t, const char *sig, uint32_t len)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = 1;
}

/* The MADT: header, local APIC address, flags, then `n` entries given as bytes. */
static uint32_t madt_len;
static void madt_begin(void)
{
	memset(mem + MADT_AT, 0, 0x1000);
	madt_len = 44;
}
static void madt_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t *e = mem + MADT_AT + madt_len;
	e[0] = 0; e[1] = 8; e[2] = uid; e[3] = apic_id;
	put32(e + 4, flags);
	madt_len += 8;
}
static void madt_x2apic(uint32_t x2apic_id, uint32_t flags)
{
	uint8_t *e = mem + MADT_AT + madt_len;
	e[0] = 9; e[1] = 16;
	put32(e + 4, x2apic_id);
	put32(e + 8, flags);
	madt_len += 16;
}
static void madt_ioapic(void)
{
	uint8_t *e = mem + MADT_AT + madt_len;
	e[0] = 1; e[1] = 12;
	madt_len += 12;
}
static void madt_end(void)
{
	header(mem + MADT_AT, "APIC", madt_len);
	checksum(mem + MADT_AT, madt_len, 9);
}

/* An unrelated table first, then the MADT; XSDT (8-byte entries) or RSDT. */
static void root(int xsdt)
{
	header(mem + OTHER_AT, "FACP", 36);
	checksum(mem + OTHER_AT, 36, 9);
	uint32_t len = 36 + 2 * (xsdt ? 8 : 4);
	uint8_t *t = mem + ROOT_AT;
	header(t, xsdt ? "XSDT" : "RSDT", len);
	if (xsdt) {
		put64(t + 36, OTHER_AT);
		put64(t + 44, MADT_AT);
	} else {
		put32(t + 36, OTHER_AT);
		put32(t + 40, MADT_AT);
	}
	checksum(t, len, 9);
	uint8_t *r = mem + RSDP_AT;
	memcpy(r, "RSD PTR ", 8);
	r[15] = xsdt ? 2 : 0;
	put32(r + 16, xsdt ? 0 : ROOT_AT);
	put32(r + 20, 36);
	put64(r + 24, xsdt ? ROOT_AT : 0);
	checksum(r, 20, 8);
	checksum(r, 36, 32);
}

static int parse(uint32_t *ids, const char **why)
{
	return acpi_find_cpus(map_mem, NULL, RSDP_AT, ids, ACPI_MAX_CPUS, why);
}

static void rsdt_lapics_enabled_only(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	madt_begin();
	madt_lapic(0, 0, 1);
	madt_ioapic();
	madt_lapic(1, 2, 1);
	madt_lapic(2, 4, 0); /* disabled: not started */
	madt_lapic(3, 6, 2); /* online capable only (hot-plug): not started yet */
	madt_end();
	root(0);
	uint32_t ids[ACPI_MAX_CPUS];
	const char *why = "";
	assert_int_equal(parse(ids, &why), 2);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 2);
}

static void xsdt_x2apic_entries_and_duplicates(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	madt_begin();
	madt_lapic(0, 1, 1);
	madt_x2apic(1, 1);     /* the same CPU listed twice (firmwares do): once */
	madt_x2apic(300, 1);   /* beyond 8 bits: x2APIC only */
	madt_end();
	root(1);
	uint32_t ids[ACPI_MAX_CPUS];
	const char *why = "";
	assert_int_equal(parse(ids, &why), 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 300);
}

static void bad_checksum_refused(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	madt_begin();
	madt_lapic(0, 0, 1);
	madt_end();
	root(0);
	mem[MADT_AT + 50] ^= 1;
	uint32_t ids[ACPI_MAX_CPUS];
	const char *why = "";
	assert_int_equal(parse(ids, &why), -1);
	assert_string_equal(why, "no valid MADT (APIC table)");
}

static void truncated_entry_is_malformed(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	madt_begin();
	madt_lapic(0, 0, 1);
	uint8_t *e = mem + MADT_AT + madt_len;
	e[0] = 0; e[1] = 0; /* length 0: would loop forever */
	madt_len += 8;
	madt_end();
	root(0);
	uint32_t ids[ACPI_MAX_CPUS];
	const char *why = "";
	assert_int_equal(parse(ids, &why), -1);
	assert_string_equal(why, "the MADT's entry list is malformed");
}

static void table_length_beyond_memory_refused(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	madt_begin();
	madt_lapic(0, 0, 1);
	madt_end();
	root(0);
	put32(mem + ROOT_AT + 4, 0xfffffff0u); /* an RSDT that claims 4 GiB */
	uint32_t ids[ACPI_MAX_CPUS];
	const char *why = "";
	assert_int_equal(parse(ids, &why), -1);
	assert_string_equal(why, "no valid MADT (APIC table)");
}

static void no_rsdp(void **state)
{
	(void)state;
	uint32_t ids[ACPI_MAX_CPUS];
	const char *why = "";
	assert_int_equal(acpi_find_cpus(map_mem, NULL, 0, ids, ACPI_MAX_CPUS, &why), -1);
	assert_string_equal(why, "no valid MADT (APIC table)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rsdt_lapics_enabled_only),
		cmocka_unit_test(xsdt_x2apic_entries_and_duplicates),
		cmocka_unit_test(bad_checksum_refused),
		cmocka_unit_test(truncated_entry_is_malformed),
		cmocka_unit_test(table_length_beyond_memory_refused),
		cmocka_unit_test(no_rsdp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
