/* covers: src/core/acpi.c src/core/acpi_madt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/acpi.h"

/* A fake physical memory at MEM_BASE: RSDP, RSDT, XSDT and three tables. */
#define MEM_BASE 0x100000u
#define RSDP 0x100000u
#define RSDT 0x101000u
#define XSDT 0x105000u
#define FACP 0x102000u
#define DMAR 0x103000u
#define APIC 0x104000u
static uint8_t mem[0x8000];

static uint8_t *map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys < MEM_BASE || phys + len > MEM_BASE + sizeof(mem))
		return NULL;
	return mem + (phys - MEM_BASE);
}

static uint8_t *at(uint64_t phys) { return mem + (phys - MEM_BASE); }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void put_table(uint64_t phys, const char *sig, uint32_t len)
{
	uint8_t *t = at(phys);
	memset(t, 0x33, len);
	memcpy(t, sig, 4);
	memcpy(t + 4, &len, 4);
	t[9] = 0;
	t[9] = (uint8_t)-sum(t, len);
}

static void put_root(uint64_t phys, const char *sig, unsigned size, const uint64_t *entries,
		     unsigned n)
{
	uint32_t len = 36 + n * size;
	uint8_t *t = at(phys);
	memset(t, 0, 36);
	memcpy(t, sig, 4);
	memcpy(t + 4, &len, 4);
	for (unsigned i = 0; i < n; i++)
		memcpy(t + 36 + i * size, &entries[i], size);
	t[9] = (uint8_t)-sum(t, len);
}

static void build(uint8_t revision)
{
	memset(mem, 0xee, sizeof(mem));
	uint8_t *r = at(RSDP);
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	r[15] = revision;
	uint32_t rsdt = RSDT, len = 36;
	uint64_t xsdt = XSDT;
	memcpy(r + 16, &rsdt, 4);
	r[8] = (uint8_t)-sum(r, 20);
	if (revision >= 2) {
		memcpy(r + 20, &len, 4);
		memcpy(r + 24, &xsdt, 8);
		r[32] = (uint8_t)-sum(r, 36);
	}
	put_table(FACP, "FACP", 64);
	put_table(DMAR, "DMAR", 80);
	put_table(APIC, "APIC", 72);
	const uint64_t e[3] = { FACP, DMAR, APIC };
	put_root(RSDT, "RSDT", 4, e, 3);
	put_root(XSDT, "XSDT", 8, e, 3);
}

static void test_finds_a_table(void **state)
{
	(void)state;
	build(2);
	uint32_t len = 0;
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), DMAR);
	assert_int_equal(len, 80);
	assert_int_equal(acpi_find_table(RSDP, "APIC", map, NULL, NULL), APIC);
	assert_int_equal(acpi_find_table(RSDP, "IVRS", map, NULL, &len), 0);
	assert_int_equal(acpi_find_table(0, "DMAR", map, NULL, &len), 0);
	build(0);   /* ACPI 1.0: the RSDT alone */
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), DMAR);
}

static void test_hides_from_both_roots(void **state)
{
	(void)state;
	build(2);
	assert_int_equal(acpi_hide_table(RSDP, "DMAR", map, NULL), 2);
	assert_int_equal(rd32(at(RSDT) + 4), 36 + 2 * 4);
	assert_int_equal(sum(at(RSDT), 36 + 2 * 4), 0);
	assert_int_equal(rd32(at(RSDT) + 36), FACP);
	assert_int_equal(rd32(at(RSDT) + 40), APIC);
	assert_int_equal(rd32(at(RSDT) + 44), 0);         /* the freed entry is zeroed */
	assert_int_equal(rd32(at(XSDT) + 4), 36 + 2 * 8);
	assert_int_equal(sum(at(XSDT), 36 + 2 * 8), 0);
	assert_int_equal(rd32(at(XSDT) + 36 + 8), APIC);
	assert_int_equal(rd32(at(XSDT) + 36 + 16), 0);
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, NULL), 0);
	assert_int_equal(acpi_find_table(RSDP, "APIC", map, NULL, NULL), APIC);
	assert_int_equal(acpi_find_table(RSDP, "FACP", map, NULL, NULL), FACP);
	/* the table itself is left where it was */
	assert_memory_equal(at(DMAR), "DMAR", 4);
	assert_int_equal(acpi_hide_table(RSDP, "DMAR", map, NULL), 0);   /* idempotent */
	assert_int_equal(rd32(at(RSDT) + 4), 36 + 2 * 4);
}

static void test_bad_tables_are_not_believed(void **state)
{
	(void)state;
	uint32_t len;
	build(2);
	at(DMAR)[20] ^= 1;                              /* the DMAR's checksum breaks */
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), 0);
	build(2);
	at(XSDT)[40] ^= 1;                              /* XSDT checksum: the RSDT serves */
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), DMAR);
	assert_int_equal(acpi_hide_table(RSDP, "DMAR", map, NULL), 1);
	assert_int_equal(rd32(at(XSDT) + 4), 36 + 3 * 8);  /* not touched */
	build(2);
	uint32_t huge = 0x7fffffff;                      /* a root length past memory */
	memcpy(at(RSDT) + 4, &huge, 4);
	memcpy(at(XSDT) + 4, &huge, 4);
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), 0);
	assert_int_equal(acpi_hide_table(RSDP, "DMAR", map, NULL), 0);
	build(2);
	uint64_t outside = 0x7fff0000;                   /* an entry outside memory */
	const uint64_t e[2] = { outside, DMAR };
	put_root(XSDT, "XSDT", 8, e, 2);
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), DMAR);
	at(RSDP)[0] = 'X';                               /* no RSDP signature check here, */
	at(RSDP)[8] = (uint8_t)(at(RSDP)[8] - ('X' - 'R'));  /* but the checksum holds */
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), DMAR);
	at(RSDP)[8] ^= 1;                                /* a bad RSDP checksum: nothing */
	assert_int_equal(acpi_find_table(RSDP, "DMAR", map, NULL, &len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_a_table),
		cmocka_unit_test(test_hides_from_both_roots),
		cmocka_unit_test(test_bad_tables_are_not_believed),
	};
	return cmocka_run_group_tests_name("acpi_tables", tests, NULL, NULL);
}
