/* covers: src/core/guest_image.c src/core/format.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/guest_image.h"

/* ---- image builders ---- */

#define IMG_MAX 0x10000
#define ELF_MB_OFFSET 0x400 /* where ELF images carry their Multiboot header */
#define PT_LOAD 1
#define PT_NOTE 4

static uint8_t img[IMG_MAX];
static size_t img_size;
static struct guest_image g;
static char err[256];

static void put32(size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		img[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void put16(size_t off, uint16_t v)
{
	img[off] = (uint8_t)v;
	img[off + 1] = (uint8_t)(v >> 8);
}

static void reset(size_t size)
{
	/* Non-zero filler that is neither a magic nor a valid checksum. */
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(0x11 + i % 7);
	img_size = size;
}

/* magic, flags, checksum (valid unless bad_checksum). */
static void put_mb_header(size_t off, uint32_t flags, bool bad_checksum)
{
	put32(off, MB1_HEADER_MAGIC);
	put32(off + 4, flags);
	put32(off + 8, (uint32_t)-(MB1_HEADER_MAGIC + flags) + (bad_checksum ? 1 : 0));
}

static void put_address_fields(size_t off, uint32_t header_addr, uint32_t load_addr,
			       uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	put32(off + 12, header_addr);
	put32(off + 16, load_addr);
	put32(off + 20, load_end);
	put32(off + 24, bss_end);
	put32(off + 28, entry);
}

/* A classic a.out-kludge kernel: header at `hdr`, loaded at 1 MiB from file offset 0. */
static void aout_image(size_t size, size_t hdr, uint32_t load_end, uint32_t bss_end,
		       uint32_t entry)
{
	reset(size);
	put_mb_header(hdr, MB1_FLAG_ADDRESSES | MB1_FLAG_MEMORY_INFO, false);
	put_address_fields(hdr, 0x100000 + (uint32_t)hdr, 0x100000, load_end, bss_end, entry);
}

struct phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz;
};

static void elf_header(uint8_t class, uint32_t entry, uint16_t phnum, uint16_t phentsize)
{
	img[0] = 0x7f;
	img[1] = 'E';
	img[2] = 'L';
	img[3] = 'F';
	img[4] = class;
	img[5] = 1; /* ELFDATA2LSB */
	img[6] = 1; /* EV_CURRENT */
	memset(img + 7, 0, 9);
	put16(16, 2); /* ET_EXEC */
	put16(18, 3); /* EM_386 */
	put32(20, 1);
	put32(24, entry);
	put32(28, 52); /* e_phoff */
	put32(32, 0);  /* e_shoff */
	put32(36, 0);
	put16(40, 52);
	put16(42, phentsize);
	put16(44, phnum);
	put16(46, 0);
	put16(48, 0);
	put16(50, 0);
}

/* An ELF32 Multiboot kernel: header at ELF_MB_OFFSET, no address fields. */
static void elf_image_stride(size_t size, uint32_t entry, const struct phdr *ph, uint16_t n,
			     uint16_t phentsize)
{
	reset(size);
	elf_header(1, entry, n, phentsize);
	for (uint16_t i = 0; i < n; i++) {
		size_t p = 52 + (size_t)i * phentsize;
		memset(img + p, 0, phentsize);
		put32(p + 0, ph[i].type);
		put32(p + 4, ph[i].offset);
		put32(p + 8, ph[i].vaddr);
		put32(p + 12, ph[i].paddr);
		put32(p + 16, ph[i].filesz);
		put32(p + 20, ph[i].memsz);
		put32(p + 24, 7);
		put32(p + 28, 0x1000);
	}
	put_mb_header(ELF_MB_OFFSET, MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO, false);
}

static void elf_image(size_t size, uint32_t entry, const struct phdr *ph, uint16_t n)
{
	elf_image_stride(size, entry, ph, n, 32);
}

static int parse(void)
{
	memset(&g, 0x5a, sizeof(g));
	memset(err, 0, sizeof(err));
	return guest_image_parse(img, img_size, &g, err, sizeof(err));
}

static void expect_error(const char *message)
{
	struct guest_image untouched;
	memset(&untouched, 0x5a, sizeof(untouched));
	assert_int_equal(parse(), -1);
	assert_string_equal(err, message);
	/* *out is filled only on success. */
	assert_memory_equal(&g, &untouched, sizeof(g));
}

static void expect_error_containing(const char *fragment)
{
	assert_int_equal(parse(), -1);
	if (!strstr(err, fragment))
		fail_msg("error \"%s\" lacks \"%s\"", err, fragment);
}

static void expect_segment(uint32_t i, uint64_t file_offset, uint64_t file_size, uint64_t phys,
			   uint64_t mem_size)
{
	assert_true(i < g.nr_segments);
	assert_int_equal(g.segments[i].file_offset, file_offset);
	assert_int_equal(g.segments[i].file_size, file_size);
	assert_int_equal(g.segments[i].phys, phys);
	assert_int_equal(g.segments[i].mem_size, mem_size);
}

/* The reason for an unrecognised file names the kinds tried; match its two ends so the
 * list may grow. */
static void expect_not_recognised(void)
{
	struct guest_image untouched;
	memset(&untouched, 0x5a, sizeof(untouched));
	expect_error_containing("not a Multiboot kernel (no header in the first 8192 bytes)");
	if (!strstr(err, "nor a Linux bzImage"))
		fail_msg("error \"%s\" lacks \"nor a Linux bzImage\"", err);
	assert_memory_equal(&g, &untouched, sizeof(g));
}

/* ---- kind names ---- */

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(guest_kind_name(GUEST_MULTIBOOT_AOUT), "multiboot (address fields)");
	assert_string_equal(guest_kind_name(GUEST_MULTIBOOT_ELF32), "multiboot (ELF32)");
	assert_string_equal(guest_kind_name(GUEST_LINUX_BZIMAGE), "linux bzImage");
	assert_string_equal(guest_kind_name((enum guest_kind)0), "unknown");
	assert_string_equal(guest_kind_name((enum guest_kind)99), "unknown");
}

/* ---- address fields (a.out kludge) ---- */

static void test_aout_basic(void **state)
{
	(void)state;
	aout_image(0x3000, 0x40, 0x102000, 0x105000, 0x100100);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_MULTIBOOT_AOUT);
	assert_int_equal(g.mb_flags, MB1_FLAG_ADDRESSES | MB1_FLAG_MEMORY_INFO);
	assert_int_equal(g.entry, 0x100100);
	assert_int_equal(g.nr_segments, 1);
	expect_segment(0, 0, 0x2000, 0x100000, 0x5000);
	assert_int_equal(g.phys_lowest, 0x100000);
	assert_int_equal(g.phys_highest, 0x105000);
}

static void test_aout_load_range_starts_inside_file(void **state)
{
	(void)state;
	/* A 4 KiB prefix (e.g. a boot sector) before the loaded part. */
	reset(0x5000);
	put_mb_header(0x1040, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x1040, 0x200040, 0x200000, 0x203000, 0, 0x200040 + 32);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.mb_flags, MB1_FLAG_ADDRESSES);
	expect_segment(0, 0x1000, 0x3000, 0x200000, 0x3000);
	assert_int_equal(g.phys_lowest, 0x200000);
	assert_int_equal(g.phys_highest, 0x203000);
	assert_int_equal(g.entry, 0x200060);
}

static void test_aout_zero_load_end_and_bss_end(void **state)
{
	(void)state;
	/* load_end_addr 0: the rest of the file; bss_end_addr 0: no bss. */
	reset(0x2345);
	put_mb_header(0x1040, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x1040, 0x100040, 0x100000, 0, 0, 0x100000);
	assert_int_equal(parse(), 0);
	expect_segment(0, 0x1000, 0x1345, 0x100000, 0x1345);
	assert_int_equal(g.phys_highest, 0x101345);
}

static void test_aout_bss_equal_to_load_end(void **state)
{
	(void)state;
	aout_image(0x3000, 0x40, 0x102000, 0x102000, 0x100000);
	assert_int_equal(parse(), 0);
	expect_segment(0, 0, 0x2000, 0x100000, 0x2000);
}

static void test_aout_entry_bounds(void **state)
{
	(void)state;
	/* In the bss and at its last byte: fine. */
	aout_image(0x3000, 0x40, 0x102000, 0x105000, 0x104000);
	assert_int_equal(parse(), 0);
	aout_image(0x3000, 0x40, 0x102000, 0x105000, 0x104FFF);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.entry, 0x104FFF);
	/* Just past the end, just below the start, far away. */
	aout_image(0x3000, 0x40, 0x102000, 0x105000, 0x105000);
	expect_error("Multiboot entry 0x105000 outside the loaded range [0x100000, 0x105000)");
	aout_image(0x3000, 0x40, 0x102000, 0x105000, 0xFFFFF);
	expect_error("Multiboot entry 0xfffff outside the loaded range [0x100000, 0x105000)");
	aout_image(0x3000, 0x40, 0x102000, 0, 0x102000); /* no bss: ends at load_end */
	expect_error("Multiboot entry 0x102000 outside the loaded range [0x100000, 0x102000)");
	aout_image(0x3000, 0x40, 0x102000, 0x105000, 0xFFFFFFF0);
	expect_error_containing("Multiboot entry 0xfffffff0 outside the loaded range");
}

static void test_aout_bss_end_below_load_end(void **state)
{
	(void)state;
	aout_image(0x3000, 0x40, 0x102000, 0x101000, 0x100000);
	expect_error("Multiboot bss_end_addr 0x101000 is below the load end 0x102000");
	aout_image(0x3000, 0x40, 0x102000, 0x101FFF, 0x100000);
	expect_error_containing("bss_end_addr 0x101fff is below the load end");
}

static void test_aout_load_end_not_above_load_addr(void **state)
{
	(void)state;
	aout_image(0x3000, 0x40, 0x100000, 0, 0x100000);
	expect_error("Multiboot load_end_addr 0x100000 is not above load_addr 0x100000");
	aout_image(0x3000, 0x40, 0xFF000, 0, 0x100000);
	expect_error("Multiboot load_end_addr 0xff000 is not above load_addr 0x100000");
}

static void test_aout_truncated_file(void **state)
{
	(void)state;
	/* The load range wants 0x3000 bytes from offset 0x1000 in a 0x3000-byte file. */
	reset(0x3000);
	put_mb_header(0x1040, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x1040, 0x100040, 0x100000, 0x103000, 0, 0x100000);
	expect_error("image truncated: load range needs 12288 bytes from offset 0x1000, file has 12288");
	/* One byte short, then exactly enough. */
	aout_image(0x1FFF, 0x40, 0x102000, 0, 0x100000);
	expect_error_containing("image truncated: load range needs 8192 bytes");
	expect_error_containing("file has 8191");
	aout_image(0x2000, 0x40, 0x102000, 0, 0x100000);
	assert_int_equal(parse(), 0);
}

static void test_aout_inconsistent_addresses(void **state)
{
	(void)state;
	/* header_addr below load_addr. */
	aout_image(0x3000, 0x40, 0x102000, 0, 0x100000);
	put32(0x40 + 12, 0xFF000);
	expect_error("Multiboot address fields inconsistent: header_addr 0xff000, load_addr 0x100000, header at file offset 0x40");
	/* The header would sit before the start of the file. */
	aout_image(0x3000, 0x40, 0x102000, 0, 0x100000);
	put32(0x40 + 12, 0x100044);
	expect_error("Multiboot address fields inconsistent: header_addr 0x100044, load_addr 0x100000, header at file offset 0x40");
	/* header_addr - load_addr == offset exactly: loads from file offset 0. */
	aout_image(0x3000, 0x40, 0x102000, 0, 0x100000);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.segments[0].file_offset, 0);
}

static void test_aout_header_truncated(void **state)
{
	(void)state;
	/* The 12-byte header fits, the 20 bytes of address fields do not. */
	reset(0x60 - 1);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES, false);
	expect_error("Multiboot header truncated (address fields past the end)");
	reset(0x4C);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES, false);
	expect_error("Multiboot header truncated (address fields past the end)");
	/* Exactly 32 bytes of header at the end of the file. */
	reset(0x60);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x40, 0x100040, 0x100000, 0, 0, 0x100000);
	assert_int_equal(parse(), 0);
	expect_segment(0, 0, 0x60, 0x100000, 0x60);
}

static void test_aout_for_64bit_elf(void **state)
{
	(void)state;
	/* 64-bit kernels are loaded by their address fields; the ELF is not looked at. */
	reset(0x3000);
	elf_header(2, 0x100000, 0, 56);
	put_mb_header(ELF_MB_OFFSET, MB1_FLAG_ADDRESSES | MB1_FLAG_PAGE_ALIGN, false);
	put_address_fields(ELF_MB_OFFSET, 0x100000 + ELF_MB_OFFSET, 0x100000, 0, 0x110000,
			   0x100000 + ELF_MB_OFFSET + 32);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_MULTIBOOT_AOUT);
	expect_segment(0, 0, 0x3000, 0x100000, 0x10000);
}

/* ---- header search ---- */

static void test_header_bad_checksum(void **state)
{
	(void)state;
	aout_image(0x3000, 0x40, 0x102000, 0, 0x100000);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES | MB1_FLAG_MEMORY_INFO, true);
	expect_not_recognised();
	/* Only the magic, no checksum at all. */
	reset(0x1000);
	put32(0x40, MB1_HEADER_MAGIC);
	expect_not_recognised();
}

static void test_header_skips_bad_candidate(void **state)
{
	(void)state;
	/* A magic with a bad checksum first, the real header later. */
	aout_image(0x3000, 0x80, 0x102000, 0, 0x100000);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES | 0x8 /* would be refused */, true);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.mb_flags, MB1_FLAG_ADDRESSES | MB1_FLAG_MEMORY_INFO);
}

static void test_header_first_valid_wins(void **state)
{
	(void)state;
	/* Two valid headers: the first one is used (and here it is unacceptable). */
	aout_image(0x3000, 0x80, 0x102000, 0, 0x100000);
	put_mb_header(0x40, 0x8, false);
	expect_error("Multiboot header requires features nestbed does not offer (flags 0x8)");
}

static void test_header_alignment(void **state)
{
	(void)state;
	/* The header is 32-bit aligned: one at offset 0x42 is not found. */
	reset(0x3000);
	put_mb_header(0x42, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x42, 0x100042, 0x100000, 0, 0, 0x100000);
	expect_not_recognised();
}

static void test_header_at_start_of_file(void **state)
{
	(void)state;
	aout_image(0x2000, 0, 0, 0, 0x100000);
	assert_int_equal(parse(), 0);
	expect_segment(0, 0, 0x2000, 0x100000, 0x2000);
}

static void test_header_search_limit(void **state)
{
	(void)state;
	/* The last position whose 12 bytes end at 8192. */
	aout_image(0x4000, MB1_SEARCH_LIMIT - 12, 0, 0, 0x100000);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_MULTIBOOT_AOUT);
	/* Straddling 8 KiB: the checksum lies past the limit. */
	aout_image(0x4000, MB1_SEARCH_LIMIT - 8, 0, 0, 0x100000);
	expect_not_recognised();
	/* Entirely past 8 KiB. */
	aout_image(0x4000, MB1_SEARCH_LIMIT, 0, 0, 0x100000);
	expect_not_recognised();
	aout_image(0x4000, MB1_SEARCH_LIMIT + 0x100, 0, 0, 0x100000);
	expect_not_recognised();
}

static void test_header_in_tiny_files(void **state)
{
	(void)state;
	/* Shorter than a header. */
	reset(11);
	put_mb_header(0, 0, false);
	expect_not_recognised();
	/* Just a header without address fields: not an ELF either. */
	reset(12);
	put_mb_header(0, 0, false);
	expect_error("Multiboot header without address fields, and not an ELF file");
	reset(1);
	expect_not_recognised();
}

static void test_empty_file(void **state)
{
	(void)state;
	reset(0);
	expect_error("empty file");
}

static void test_garbage(void **state)
{
	(void)state;
	reset(IMG_MAX);
	expect_not_recognised();
	reset(0x1000);
	memset(img, 0, 0x1000);
	expect_not_recognised();
}

/* ---- required flags ---- */

static void test_required_flags(void **state)
{
	(void)state;
	/* Bits 0-2 are offered. */
	aout_image(0x3000, 0x40, 0x102000, 0, 0x100000);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES | MB1_SUPPORTED_REQUIRED, false);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.mb_flags, MB1_FLAG_ADDRESSES | 0x7);
	/* Optional bits above 16 are ignored. */
	put_mb_header(0x40, MB1_FLAG_ADDRESSES | 0x80020000u, false);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.mb_flags, MB1_FLAG_ADDRESSES | 0x80020000u);
	/* Required bits 3-15 are refused, and only those are named. */
	put_mb_header(0x40, MB1_FLAG_ADDRESSES | 0x3 | 0x8, false);
	expect_error("Multiboot header requires features nestbed does not offer (flags 0x8)");
	put_mb_header(0x40, MB1_FLAG_ADDRESSES | 0x1 | 0x8000 | 0x10 | 0x40000, false);
	expect_error("Multiboot header requires features nestbed does not offer (flags 0x8010)");
	put_mb_header(0x40, 0xFFFFFFFFu, false);
	expect_error("Multiboot header requires features nestbed does not offer (flags 0xfff8)");
}

static void test_required_flags_checked_first(void **state)
{
	(void)state;
	/* The flags are refused before the (also broken) address fields are read. */
	reset(0x4C);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES | 0x100, false);
	expect_error("Multiboot header requires features nestbed does not offer (flags 0x100)");
}

/* ---- ELF32 ---- */

static void test_elf32_segments(void **state)
{
	(void)state;
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 },
		{ PT_NOTE, 0x2000, 0, 0, 0x9000, 0x10 }, /* not loaded: never checked */
		{ PT_LOAD, 0x2000, 0x300000, 0x300000, 0x800, 0x4000 },
		{ PT_LOAD, 0x2800, 0x400000, 0x400000, 0, 0 },  /* empty: skipped */
		{ PT_LOAD, 0x2800, 0x200000, 0x200000, 0x100, 0x100 },
	};
	elf_image(0x3000, 0x10000C, ph, 5);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_MULTIBOOT_ELF32);
	assert_int_equal(g.mb_flags, MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO);
	assert_int_equal(g.entry, 0x10000C);
	assert_int_equal(g.nr_segments, 3);
	expect_segment(0, 0x1000, 0x1000, 0x100000, 0x1000);
	expect_segment(1, 0x2000, 0x800, 0x300000, 0x4000);
	expect_segment(2, 0x2800, 0x100, 0x200000, 0x100);
	assert_int_equal(g.phys_lowest, 0x100000);
	assert_int_equal(g.phys_highest, 0x304000);
}

static void test_elf32_lowest_not_first(void **state)
{
	(void)state;
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x800000, 0x800000, 0x1000, 0x1000 },
		{ PT_LOAD, 0x2000, 0x100000, 0x100000, 0x1000, 0x2000 },
	};
	elf_image(0x3000, 0x100000, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.phys_lowest, 0x100000);
	assert_int_equal(g.phys_highest, 0x801000);
}

static void test_elf32_bss_only_segment(void **state)
{
	(void)state;
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x100, 0x100 },
		{ PT_LOAD, 0, 0x110000, 0x110000, 0, 0x8000 },
	};
	/* The entry may lie in zero-filled memory. */
	elf_image(0x2000, 0x117FFF, ph, 2);
	assert_int_equal(parse(), 0);
	expect_segment(1, 0, 0, 0x110000, 0x8000);
	assert_int_equal(g.phys_highest, 0x118000);
}

static void test_elf32_segment_at_end_of_file(void **state)
{
	(void)state;
	const struct phdr ph[] = { { PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 } };
	elf_image(0x2000, 0x100000, ph, 1);
	assert_int_equal(parse(), 0);
	elf_image(0x1FFF, 0x100000, ph, 1);
	expect_error("ELF segment 0: file range [0x1000, +0x1000) outside the file or larger than in memory");
}

static void test_elf32_filesz_above_memsz(void **state)
{
	(void)state;
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x100, 0x100 },
		{ PT_LOAD, 0x2000, 0x200000, 0x200000, 0x800, 0x7FF },
	};
	elf_image(0x3000, 0x100000, ph, 2);
	expect_error("ELF segment 1: file range [0x2000, +0x800) outside the file or larger than in memory");
}

static void test_elf32_offset_overflow(void **state)
{
	(void)state;
	/* offset + filesz wraps in 32 bits: still outside the file. */
	const struct phdr ph[] = {
		{ PT_LOAD, 0xFFFFF000, 0x100000, 0x100000, 0x2000, 0x2000 },
	};
	elf_image(0x3000, 0x100000, ph, 1);
	expect_error("ELF segment 0: file range [0xfffff000, +0x2000) outside the file or larger than in memory");
}

static void test_elf32_entry_outside(void **state)
{
	(void)state;
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 },
		{ PT_LOAD, 0x2000, 0x300000, 0x300000, 0x1000, 0x1000 },
	};
	elf_image(0x3000, 0x200000, ph, 2); /* between the two */
	expect_error("ELF entry 0x200000 lies in no loadable segment");
	elf_image(0x3000, 0x101000, ph, 2); /* one past the first */
	expect_error("ELF entry 0x101000 lies in no loadable segment");
	elf_image(0x3000, 0xFFFFF, ph, 2);
	expect_error("ELF entry 0xfffff lies in no loadable segment");
	elf_image(0x3000, 0x300FFF, ph, 2);
	assert_int_equal(parse(), 0);
}

static void test_elf32_no_loadable_segment(void **state)
{
	(void)state;
	const struct phdr ph[] = {
		{ PT_NOTE, 0x1000, 0, 0, 0x10, 0x10 },
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0, 0 },
	};
	elf_image(0x3000, 0x100000, ph, 2);
	expect_error("ELF has no loadable segment");
	elf_image(0x3000, 0x100000, ph, 0);
	expect_error("ELF has no loadable segment");
}

static void test_elf32_segment_limit(void **state)
{
	(void)state;
	struct phdr ph[GUEST_MAX_SEGMENTS + 1];
	for (uint32_t i = 0; i < GUEST_MAX_SEGMENTS + 1; i++)
		ph[i] = (struct phdr){ PT_LOAD, 0x1000 + i * 0x100, 0, 0x100000 + i * 0x1000, 0x100, 0x1000 };
	elf_image(0x3000, 0x100000, ph, GUEST_MAX_SEGMENTS);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.nr_segments, GUEST_MAX_SEGMENTS);
	expect_segment(GUEST_MAX_SEGMENTS - 1, 0x1000 + 15 * 0x100, 0x100, 0x10F000, 0x1000);
	assert_int_equal(g.phys_highest, 0x110000);
	elf_image(0x3000, 0x100000, ph, GUEST_MAX_SEGMENTS + 1);
	expect_error("ELF has more than 16 loadable segments");
	/* Empty segments do not count. */
	ph[3].memsz = 0;
	ph[3].filesz = 0;
	elf_image(0x3000, 0x100000, ph, GUEST_MAX_SEGMENTS + 1);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.nr_segments, GUEST_MAX_SEGMENTS);
}

static void test_elf32_wide_program_headers(void **state)
{
	(void)state;
	/* e_phentsize above 32: entries are stepped by it. */
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 },
		{ PT_LOAD, 0x2000, 0x200000, 0x200000, 0x1000, 0x1000 },
	};
	elf_image_stride(0x3000, 0x200010, ph, 2, 48);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.nr_segments, 2);
	expect_segment(1, 0x2000, 0x1000, 0x200000, 0x1000);
}

static void test_elf32_program_headers_outside(void **state)
{
	(void)state;
	const struct phdr ph[] = { { PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 } };
	elf_image(0x3000, 0x100000, ph, 1);
	put32(28, 0x3000 - 16); /* e_phoff: the table runs past the end */
	expect_error("ELF program headers lie outside the file");
	elf_image(0x3000, 0x100000, ph, 1);
	put32(28, 0xFFFFFFF0); /* and one that would wrap in 32 bits */
	expect_error("ELF program headers lie outside the file");
	elf_image(0x3000, 0x100000, ph, 1);
	put16(44, 0xFFFF); /* e_phnum far too large */
	expect_error("ELF program headers lie outside the file");
	elf_image(0x3000, 0x100000, ph, 1);
	put16(42, 16); /* e_phentsize smaller than an Elf32_Phdr */
	expect_error("ELF program headers lie outside the file");
	/* A table that ends exactly at the end of the file is fine. */
	elf_image(0x3000, 0x100000, ph, 1);
	memcpy(img + 0x3000 - 32, img + 52, 32);
	put32(28, 0x3000 - 32);
	assert_int_equal(parse(), 0);
}

static void test_elf32_not_i386(void **state)
{
	(void)state;
	static const char msg[] = "ELF is not a little-endian i386 executable";
	const struct phdr ph[] = { { PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 } };
	elf_image(0x3000, 0x100000, ph, 1);
	img[5] = 2; /* big endian */
	expect_error(msg);
	elf_image(0x3000, 0x100000, ph, 1);
	img[4] = 0; /* ELFCLASSNONE */
	expect_error(msg);
	elf_image(0x3000, 0x100000, ph, 1);
	img[4] = 3;
	expect_error(msg);
	elf_image(0x3000, 0x100000, ph, 1);
	put16(18, 62); /* EM_X86_64 */
	expect_error(msg);
	elf_image(0x3000, 0x100000, ph, 1);
	put16(16, 3); /* ET_DYN */
	expect_error(msg);
	elf_image(0x3000, 0x100000, ph, 1);
	put16(16, 1); /* ET_REL */
	expect_error(msg);
}

static void test_elf64_without_address_fields(void **state)
{
	(void)state;
	reset(0x3000);
	elf_header(2, 0x100000, 0, 56);
	put_mb_header(ELF_MB_OFFSET, MB1_FLAG_PAGE_ALIGN, false);
	expect_error("64-bit ELF without Multiboot address fields (flags bit 16): a Multiboot 1 loader cannot load it");
}

static void test_not_elf_without_address_fields(void **state)
{
	(void)state;
	reset(0x3000);
	put_mb_header(0x40, MB1_FLAG_MEMORY_INFO, false);
	expect_error("Multiboot header without address fields, and not an ELF file");
	/* An ELF magic but the file is shorter than an ELF header. */
	reset(51);
	elf_header(1, 0, 0, 32);
	put_mb_header(0x20, 0, false);
	expect_error("Multiboot header without address fields, and not an ELF file");
	reset(0x3000);
	elf_header(1, 0, 0, 32);
	img[0] = 0x7e;
	put_mb_header(ELF_MB_OFFSET, 0, false);
	expect_error("Multiboot header without address fields, and not an ELF file");
}

/* Was a bug (src/core/guest_image.c, parse_elf32): e_entry is a virtual address, but it is
 * compared with the segments' physical ranges and used as is. A higher-half kernel
 * (p_vaddr 0xC0100000, p_paddr 0x100000, e_entry 0xC010000C) is rejected with "ELF entry
 * 0xc010000c lies in no loadable segment", while GRUB 2 (grub-core/loader/
 * multiboot_elfxx.c: payload_eip = e_entry - p_vaddr + p_paddr of the segment whose
 * [p_vaddr, p_vaddr + p_memsz) holds e_entry) and QEMU's -kernel (elf_ops.h adjusts the
 * entry the same way) boot it. Expected: success, entry 0x10000C. */
static void test_fixed_elf32_higher_half_entry(void **state)
{
	(void)state;
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0xC0100000, 0x100000, 0x1000, 0x2000 },
	};
	elf_image(0x3000, 0xC010000C, ph, 1);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.entry, 0x10000C);
	expect_segment(0, 0x1000, 0x1000, 0x100000, 0x2000);
}

static void test_elf32_higher_half_mixed_segments(void **state)
{
	(void)state;
	/* The usual higher-half layout: a low identity-linked .boot, the rest at 3 GiB. */
	const struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x100, 0x100 },
		{ PT_LOAD, 0x2000, 0xC0101000, 0x101000, 0x800, 0x3000 },
	};
	/* Entry in the identity-mapped part: unchanged. */
	elf_image(0x3000, 0x100010, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.entry, 0x100010);
	assert_int_equal(g.phys_lowest, 0x100000);
	assert_int_equal(g.phys_highest, 0x104000);
	/* Entry in the high part, also in its zero-filled tail: its physical alias. */
	elf_image(0x3000, 0xC0101020, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.entry, 0x101020);
	elf_image(0x3000, 0xC0103FFF, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.entry, 0x103FFF);
	/* Past the high segment in virtual space: in no segment. */
	elf_image(0x3000, 0xC0104000, ph, 2);
	expect_error("ELF entry 0xc0104000 lies in no loadable segment");
	/* The physical alias given directly is accepted as well. */
	elf_image(0x3000, 0x101020, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.entry, 0x101020);
}

/* ---- Linux bzImage ---- */

static void put_hdrs(void)
{
	put32(LINUX_SETUP_HEADER_MAGIC_OFFSET, LINUX_SETUP_HEADER_MAGIC);
}

static void test_bzimage(void **state)
{
	(void)state;
	reset(0x8000);
	put_hdrs();
	assert_int_equal(memcmp(img + 0x202, "HdrS", 4), 0);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_LINUX_BZIMAGE);
	assert_int_equal(g.nr_segments, 0);
	assert_int_equal(g.entry, 0);
	assert_int_equal(g.mb_flags, 0);
	/* The smallest file this accepts. */
	reset(LINUX_SETUP_HEADER_MAGIC_OFFSET + 5);
	put_hdrs();
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_LINUX_BZIMAGE);
}

static void test_bzimage_magic_elsewhere(void **state)
{
	(void)state;
	reset(0x8000);
	put32(0x200, LINUX_SETUP_HEADER_MAGIC);
	expect_not_recognised();
	reset(0x8000);
	put32(0x204, LINUX_SETUP_HEADER_MAGIC);
	expect_not_recognised();
	reset(0x8000);
	memcpy(img + 0x202, "hdrs", 4);
	expect_not_recognised();
	/* Cut off inside the magic. */
	reset(0x204);
	put_hdrs();
	expect_not_recognised();
}

static void test_multiboot_takes_precedence_over_bzimage(void **state)
{
	(void)state;
	aout_image(0x3000, 0x1000, 0, 0, 0x100000);
	put_hdrs();
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_MULTIBOOT_AOUT);
	/* A broken Multiboot header is reported, not passed over to the bzImage path. */
	aout_image(0x3000, 0x1000, 0x100000, 0, 0x100000);
	put_hdrs();
	expect_error_containing("load_end_addr");
}

/* ---- the error buffer ---- */

static void test_error_truncated_to_buffer(void **state)
{
	(void)state;
	char small[10];
	memset(small, 'x', sizeof(small));
	reset(0);
	assert_int_equal(guest_image_parse(img, 0, &g, small, sizeof(small)), -1);
	assert_string_equal(small, "empty fil");
	memset(small, 'x', sizeof(small));
	reset(0x100);
	assert_int_equal(guest_image_parse(img, img_size, &g, small, sizeof(small)), -1);
	assert_string_equal(small, "not a Mul");
}


/* ---- PVH ELF64 (Linux vmlinux) ---- */

static void put64(size_t off, uint64_t v)
{
	put32(off, (uint32_t)v);
	put32(off + 4, (uint32_t)(v >> 32));
}

/* ELF64 header + two program headers (PT_LOAD, PT_NOTE) + a note list at 0x200. */
static void pvh_image(uint32_t note_type, const char *note_name, uint64_t entry)
{
	reset(0x3000);
	memset(img, 0, 0x400);
	img[0] = 0x7f; img[1] = 'E'; img[2] = 'L'; img[3] = 'F';
	img[4] = 2; /* ELFCLASS64 */
	img[5] = 1; /* little endian */
	img[6] = 1;
	put16(16, 2);  /* ET_EXEC */
	put16(18, 62); /* EM_X86_64 */
	put64(24, 0xffffffff81000000ull);
	put64(32, 64); /* e_phoff */
	put16(54, 56); /* e_phentsize */
	put16(56, 2);  /* e_phnum */
	/* PT_LOAD: file 0x1000 size 0x1000 -> paddr 16 MiB, memsz 0x3000 */
	put32(64, PT_LOAD);
	put64(64 + 8, 0x1000);
	put64(64 + 16, 0xffffffff81000000ull);
	put64(64 + 24, 0x1000000);
	put64(64 + 32, 0x1000);
	put64(64 + 40, 0x3000);
	/* PT_NOTE: file 0x200, two notes */
	put32(120, PT_NOTE);
	put64(120 + 8, 0x200);
	put64(120 + 32, 0x2c);
	/* note 1: "GNU" type 3, 4 bytes (a build-id-like distraction) */
	put32(0x200, 4); put32(0x204, 4); put32(0x208, 3);
	memcpy(img + 0x20c, "GNU", 4);
	put32(0x210, 0xdeadbeef);
	/* note 2: name, type, 4-byte entry */
	put32(0x214, (uint32_t)strlen(note_name) + 1); put32(0x218, 4); put32(0x21c, note_type);
	memcpy(img + 0x220, note_name, strlen(note_name) + 1);
	put32(0x224, (uint32_t)entry);
}

static void test_pvh_elf64(void **state)
{
	(void)state;
	pvh_image(18, "Xen", 0x1000850);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_PVH_ELF64);
	assert_int_equal(g.entry, 0x1000850);
	assert_int_equal(g.nr_segments, 1);
	expect_segment(0, 0x1000, 0x1000, 0x1000000, 0x3000);
	assert_string_equal(guest_kind_name(GUEST_PVH_ELF64), "PVH ELF64");
}

static void test_elf64_without_pvh_note(void **state)
{
	(void)state;
	pvh_image(17, "Xen", 0x1000850); /* another Xen note type */
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
	pvh_image(18, "Xe", 0x1000850);   /* another owner */
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
	pvh_image(18, "Xen", 0x1000850);
	put16(18, 3);                     /* EM_386 in an ELF64 */
	expect_error("ELF64 is not a little-endian x86-64 file");
}

static void test_pvh_segment_outside_file(void **state)
{
	(void)state;
	pvh_image(18, "Xen", 0x1000850);
	put64(64 + 32, 0x5000); /* filesz past the end of the 0x3000-byte file */
	expect_error("ELF segment 0: file range outside the file");
}


/* ---- overflow, overlap, truncation: every format ---- */

struct phdr64 {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

#define PVH_NOTE_AT 0x800
#define PVH_ENTRY 0x1000010ull

/* A PVH ELF64 with the given program headers followed by a PT_NOTE holding the PVH entry
 * note at PVH_NOTE_AT (program headers from offset 64). */
static void pvh_image_ph(size_t size, uint64_t entry, const struct phdr64 *ph, uint16_t n)
{
	reset(size);
	memset(img, 0, PVH_NOTE_AT + 0x20);
	img[0] = 0x7f; img[1] = 'E'; img[2] = 'L'; img[3] = 'F';
	img[4] = 2;
	img[5] = 1;
	img[6] = 1;
	put16(16, 2);
	put16(18, 62);
	put64(32, 64);
	put16(54, 56);
	put16(56, (uint16_t)(n + 1));
	for (uint16_t i = 0; i <= n; i++) {
		size_t at = 64 + (size_t)i * 56;
		struct phdr64 note = { PT_NOTE, PVH_NOTE_AT, 0, 0x14, 0x14 };
		const struct phdr64 *p = i < n ? &ph[i] : &note;
		put32(at, p->type);
		put64(at + 8, p->offset);
		put64(at + 16, p->paddr); /* vaddr: unused */
		put64(at + 24, p->paddr);
		put64(at + 32, p->filesz);
		put64(at + 40, p->memsz);
	}
	put32(PVH_NOTE_AT, 4); put32(PVH_NOTE_AT + 4, 4); put32(PVH_NOTE_AT + 8, 18);
	memcpy(img + PVH_NOTE_AT + 12, "Xen", 4);
	put32(PVH_NOTE_AT + 16, (uint32_t)entry);
}

static void test_pvh_builder(void **state)
{
	(void)state;
	const struct phdr64 ph[] = {
		{ PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x3000 },
		{ PT_LOAD, 0x2000, 0x2000000, 0x800, 0x800 },
	};
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.kind, GUEST_PVH_ELF64);
	assert_int_equal(g.entry, PVH_ENTRY);
	assert_int_equal(g.nr_segments, 2);
	expect_segment(0, 0x1000, 0x1000, 0x1000000, 0x3000);
	expect_segment(1, 0x2000, 0x800, 0x2000000, 0x800);
	assert_int_equal(g.segments[1].phdr, 1);
	assert_int_equal(g.phys_lowest, 0x1000000);
	assert_int_equal(g.phys_highest, 0x2000800);
}

/* Issue 11: a segment whose paddr + memsz wraps past 2^64 made phys_highest small, the
 * [lowest, highest) extent passed the load-range check and the copy ran over nestbed. */
static void test_pvh_segment_wraps(void **state)
{
	(void)state;
	struct phdr64 ph[] = {
		{ PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x1000 },
		{ PT_LOAD, 0x2000, 0xFFFFFFFFFFFFF000ull, 0x800, 0x1000000 + 0x1000 },
	};
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error("ELF segment 1: load range [0xfffffffffffff000, +0x1001000) wraps past 2^64");
	/* The largest memsz, from 1 upwards. */
	ph[1].paddr = 1;
	ph[1].memsz = UINT64_MAX;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error("ELF segment 1: load range [0x1, +0xffffffffffffffff) wraps past 2^64");
	/* Ending exactly at 2^64 - 1 does not wrap (placement refuses it later). */
	ph[1].paddr = 0xFFFFFFFFFFFFF000ull;
	ph[1].memsz = 0xFFF;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.phys_highest, UINT64_MAX);
	/* One more byte ends at 2^64: that wraps to 0. */
	ph[1].memsz = 0x1000;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error_containing("ELF segment 1: load range [0xfffffffffffff000, +0x1000) wraps past 2^64");
	/* The first segment wraps. */
	ph[0].paddr = 0x8000000000000000ull;
	ph[0].memsz = 0x8000000000000000ull;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error("ELF segment 0: load range [0x8000000000000000, +0x8000000000000000) wraps past 2^64");
}

static void test_pvh_file_range_wraps(void **state)
{
	(void)state;
	/* p_offset + p_filesz wraps to a small value that is "inside" the file. */
	struct phdr64 ph[] = { { PT_LOAD, 0xFFFFFFFFFFFFF000ull, 0x1000000, 0x1100, 0x2000 } };
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	expect_error("ELF segment 0: file range outside the file");
	ph[0].offset = 0x100;
	ph[0].filesz = UINT64_MAX;
	ph[0].memsz = UINT64_MAX;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	expect_error("ELF segment 0: file range outside the file");
	/* The note segment is checked the same way. */
	ph[0] = (struct phdr64){ PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x1000 };
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put64(64 + 56 + 8, 0xFFFFFFFFFFFFFFF0ull); /* the PT_NOTE's offset */
	put64(64 + 56 + 32, 0x20);
	expect_error("ELF segment 1: file range outside the file");
}

static void test_pvh_program_headers_wrap(void **state)
{
	(void)state;
	const struct phdr64 ph[] = { { PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x1000 } };
	/* e_phoff near 2^64: e_phoff + e_phnum * e_phentsize wraps to a small number. */
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put64(32, 0xFFFFFFFFFFFFFFC8ull); /* + 2 * 56 wraps to 0x30 */
	expect_error("ELF program headers lie outside the file");
	/* The largest table, 0xFFFF * 0xFFFF bytes, ending exactly at 2^64 (that is, 0): the
	 * old check passed it and nestbed read the first header 4 GiB before the image. */
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put64(32, 0ull - 0xFFFFull * 0xFFFF);
	put16(54, 0xFFFF);
	put16(56, 0xFFFF);
	expect_error("ELF program headers lie outside the file");
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put64(32, 0x3000);
	expect_error("ELF program headers lie outside the file");
	/* Huge counts and strides. */
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put16(56, 0xFFFF);
	expect_error("ELF program headers lie outside the file");
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put16(54, 0xFFFF);
	expect_error("ELF program headers lie outside the file");
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put16(54, 55); /* smaller than an Elf64_Phdr */
	expect_error("ELF program headers lie outside the file");
	/* No program headers at all. */
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put16(56, 0);
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
}

static void test_pvh_truncated(void **state)
{
	(void)state;
	const struct phdr64 ph[] = { { PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x1000 } };
	/* Cut inside the loaded bytes, inside the program headers, inside the ELF header. */
	pvh_image_ph(0x1FFF, PVH_ENTRY, ph, 1);
	expect_error("ELF segment 0: file range outside the file");
	pvh_image_ph(64 + 56 + 10, PVH_ENTRY, ph, 1);
	expect_error("ELF program headers lie outside the file");
	pvh_image_ph(63, PVH_ENTRY, ph, 1);
	expect_not_recognised();
	/* Exactly enough. */
	pvh_image_ph(0x2000, PVH_ENTRY, ph, 1);
	assert_int_equal(parse(), 0);
}

static void test_pvh_overlapping_segments(void **state)
{
	(void)state;
	struct phdr64 ph[] = {
		{ PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x3000 },
		{ PT_LOAD, 0x2000, 0x1002FFF, 0x100, 0x100 },
	};
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error("ELF segment 1: load range [0x1002fff-0x10030ff) overlaps segment 0 [0x1000000-0x1003000)");
	/* Inside the other, around it, and the same. */
	ph[1].paddr = 0xFFF000;
	ph[1].memsz = 0x10000;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error_containing("overlaps segment 0");
	ph[1].paddr = 0x1000000;
	ph[1].memsz = 0x3000;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error_containing("overlaps segment 0");
	/* Adjacent is fine. */
	ph[1].paddr = 0x1003000;
	ph[1].memsz = 0x100;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	assert_int_equal(parse(), 0);
	/* A zero-size segment overlaps nothing: it is not loaded. */
	ph[1].paddr = 0x1001000;
	ph[1].filesz = 0;
	ph[1].memsz = 0;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.nr_segments, 1);
}

static void test_pvh_zero_size_and_limits(void **state)
{
	(void)state;
	struct phdr64 ph[GUEST_MAX_SEGMENTS + 1];
	for (uint32_t i = 0; i <= GUEST_MAX_SEGMENTS; i++)
		ph[i] = (struct phdr64){ PT_LOAD, 0x1000, 0x1000000 + i * 0x1000ull, 0x10, 0x1000 };
	/* Only zero-size segments. */
	ph[0].filesz = ph[0].memsz = 0;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	expect_error("ELF has no loadable segment");
	/* 16 segments, then 17. */
	ph[0].filesz = 0x10;
	ph[0].memsz = 0x1000;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, GUEST_MAX_SEGMENTS);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.nr_segments, GUEST_MAX_SEGMENTS);
	pvh_image_ph(0x3000, PVH_ENTRY, ph, GUEST_MAX_SEGMENTS + 1);
	expect_error("ELF has more than 16 loadable segments");
	/* filesz above memsz. */
	ph[0].filesz = 0x1001;
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	expect_error("ELF segment 0 is larger in the file than in memory");
}

static void test_pvh_entry_outside(void **state)
{
	(void)state;
	const struct phdr64 ph[] = { { PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x2000 } };
	pvh_image_ph(0x3000, 0x1002000, ph, 1);
	expect_error("PVH entry 0x1002000 lies in no loadable segment below 4 GiB");
	pvh_image_ph(0x3000, 0xFFFFFF, ph, 1);
	expect_error("PVH entry 0xffffff lies in no loadable segment below 4 GiB");
	pvh_image_ph(0x3000, 0x1001FFF, ph, 1);
	assert_int_equal(parse(), 0);
	/* An 8-byte entry above 4 GiB, even inside a segment: PVH enters with paging off. */
	const struct phdr64 high[] = { { PT_LOAD, 0x1000, 0x100000000ull, 0x1000, 0x2000 } };
	pvh_image_ph(0x3000, 0, high, 1);
	put32(PVH_NOTE_AT + 4, 8);
	put64(PVH_NOTE_AT + 16, 0x100000010ull);
	put64(64 + 56 + 32, 0x18);
	expect_error("PVH entry 0x100000010 lies in no loadable segment below 4 GiB");
}

static void test_pvh_note_truncated(void **state)
{
	(void)state;
	const struct phdr64 ph[] = { { PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x2000 } };
	/* namesz, descsz near 2^32: the note runs past its segment. */
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put32(PVH_NOTE_AT, 0xFFFFFFFF);
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put32(PVH_NOTE_AT + 4, 0xFFFFFFFD);
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
	/* The note segment one byte shorter than the note. */
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put64(64 + 56 + 32, 0x13);
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
	/* A note segment of 0 bytes, or shorter than a note header. */
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put64(64 + 56 + 32, 0);
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 1);
	put64(64 + 56 + 32, 11);
	expect_error("64-bit ELF with neither Multiboot address fields nor a PVH entry note");
}

static void test_pvh_notes_limit(void **state)
{
	(void)state;
	/* PT_NOTEs of 0.5 MiB each before the PVH note: up to 1 MiB of them is walked, more
	 * is refused (65535 of them over a large file would take hours to walk). */
	static uint8_t big[GUEST_NOTES_LIMIT / 2];
	struct phdr64 ph[4];
	for (int i = 0; i < 3; i++)
		ph[i] = (struct phdr64){ PT_NOTE, 0, 0, sizeof(big), sizeof(big) };
	ph[3] = (struct phdr64){ PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x1000 };
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 4);
	memset(big, 0, sizeof(big));
	memcpy(big, img, 0x3000);
	struct guest_image out;
	char e[160];
	assert_int_equal(guest_image_parse(big, sizeof(big), &out, e, sizeof(e)), -1);
	assert_string_equal(e, "ELF notes before the PVH entry note exceed 1048576 bytes");
	/* Two of them, 0x100 bytes shorter each, then the PT_LOAD and the 20-byte PVH note:
	 * less than 1 MiB walked, accepted. */
	ph[0].filesz = ph[1].filesz = sizeof(big) - 0x100;
	ph[2] = ph[3];
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 3);
	memcpy(big, img, 0x3000);
	assert_int_equal(guest_image_parse(big, sizeof(big), &out, e, sizeof(e)), 0);
	assert_int_equal(out.entry, PVH_ENTRY);
}

static void test_elf32_past_4g(void **state)
{
	(void)state;
	struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 },
		{ PT_LOAD, 0x2000, 0xFFFFF000, 0xFFFFF000, 0x100, 0x1001 },
	};
	elf_image(0x3000, 0x100000, ph, 2);
	expect_error("ELF segment 1: load range [0xfffff000, +0x1001) wraps past 4 GiB");
	ph[1].memsz = 0xFFFFFFFF;
	elf_image(0x3000, 0x100000, ph, 2);
	expect_error("ELF segment 1: load range [0xfffff000, +0xffffffff) wraps past 4 GiB");
	/* Up to the last byte below 4 GiB is fine. */
	ph[1].memsz = 0x1000;
	elf_image(0x3000, 0x100000, ph, 2);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.phys_highest, 0x100000000ull);
}

static void test_elf32_overlapping_segments(void **state)
{
	(void)state;
	struct phdr ph[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000, 0x2000 },
		{ PT_LOAD, 0x2000, 0x101000, 0x101000, 0x100, 0x100 },
	};
	elf_image(0x3000, 0x100000, ph, 2);
	expect_error("ELF segment 1: load range [0x101000-0x101100) overlaps segment 0 [0x100000-0x102000)");
	ph[1].paddr = 0xFF000;
	ph[1].memsz = 0x1001;
	elf_image(0x3000, 0x100000, ph, 2);
	expect_error("ELF segment 1: load range [0xff000-0x100001) overlaps segment 0 [0x100000-0x102000)");
	ph[1].memsz = 0x1000;
	elf_image(0x3000, 0x100000, ph, 2);
	assert_int_equal(parse(), 0);
}

static void test_aout_past_4g(void **state)
{
	(void)state;
	/* load_addr + the rest of the file passes 4 GiB. */
	reset(0x3000);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x40, 0xFFFFF040, 0xFFFFF000, 0, 0, 0xFFFFF040);
	expect_error("Multiboot load range [0xfffff000, +0x3000) wraps past 4 GiB");
	/* Ending exactly at 4 GiB is fine. */
	reset(0x1000);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x40, 0xFFFFF040, 0xFFFFF000, 0, 0, 0xFFFFF040);
	assert_int_equal(parse(), 0);
	assert_int_equal(g.phys_highest, 0x100000000ull);
	/* load_end_addr 0xFFFFFFFF with a small load_addr: far past the file. */
	reset(0x3000);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x40, 0x100040, 0x100000, 0xFFFFFFFF, 0, 0x100040);
	expect_error("image truncated: load range needs 4293918719 bytes from offset 0x0, file has 12288");
	/* header_addr far above load_addr: the load would start before the file. */
	reset(0x3000);
	put_mb_header(0x40, MB1_FLAG_ADDRESSES, false);
	put_address_fields(0x40, 0xFFFFFFFF, 0, 0, 0, 0x100);
	expect_error_containing("Multiboot address fields inconsistent: header_addr 0xffffffff, load_addr 0x0");
}

/* The issue's image end to end: parse refuses it before placement is asked. */
static void test_issue11_hostile_pvh(void **state)
{
	(void)state;
	/* A harmless first segment, then one at 2^64 - 4 KiB whose end wraps to 16 MiB + 4 KiB:
	 * the old extent [16 MiB, 16 MiB + 8 KiB) looked usable. */
	const struct phdr64 ph[] = {
		{ PT_LOAD, 0x1000, 0x1000000, 0x1000, 0x2000 },
		{ PT_LOAD, 0x2000, 0xFFFFFFFFFFFFF000ull, 0x1000, 0x1001000 + 0x1000 },
	};
	pvh_image_ph(0x3000, PVH_ENTRY, ph, 2);
	expect_error("ELF segment 1: load range [0xfffffffffffff000, +0x1002000) wraps past 2^64");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_pvh_elf64),
		cmocka_unit_test(test_elf64_without_pvh_note),
		cmocka_unit_test(test_pvh_segment_outside_file),
		cmocka_unit_test(test_aout_basic),
		cmocka_unit_test(test_aout_load_range_starts_inside_file),
		cmocka_unit_test(test_aout_zero_load_end_and_bss_end),
		cmocka_unit_test(test_aout_bss_equal_to_load_end),
		cmocka_unit_test(test_aout_entry_bounds),
		cmocka_unit_test(test_aout_bss_end_below_load_end),
		cmocka_unit_test(test_aout_load_end_not_above_load_addr),
		cmocka_unit_test(test_aout_truncated_file),
		cmocka_unit_test(test_aout_inconsistent_addresses),
		cmocka_unit_test(test_aout_header_truncated),
		cmocka_unit_test(test_aout_for_64bit_elf),
		cmocka_unit_test(test_header_bad_checksum),
		cmocka_unit_test(test_header_skips_bad_candidate),
		cmocka_unit_test(test_header_first_valid_wins),
		cmocka_unit_test(test_header_alignment),
		cmocka_unit_test(test_header_at_start_of_file),
		cmocka_unit_test(test_header_search_limit),
		cmocka_unit_test(test_header_in_tiny_files),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_required_flags),
		cmocka_unit_test(test_required_flags_checked_first),
		cmocka_unit_test(test_elf32_segments),
		cmocka_unit_test(test_elf32_lowest_not_first),
		cmocka_unit_test(test_elf32_bss_only_segment),
		cmocka_unit_test(test_elf32_segment_at_end_of_file),
		cmocka_unit_test(test_elf32_filesz_above_memsz),
		cmocka_unit_test(test_elf32_offset_overflow),
		cmocka_unit_test(test_elf32_entry_outside),
		cmocka_unit_test(test_elf32_no_loadable_segment),
		cmocka_unit_test(test_elf32_segment_limit),
		cmocka_unit_test(test_elf32_wide_program_headers),
		cmocka_unit_test(test_elf32_program_headers_outside),
		cmocka_unit_test(test_elf32_not_i386),
		cmocka_unit_test(test_elf64_without_address_fields),
		cmocka_unit_test(test_not_elf_without_address_fields),
		cmocka_unit_test(test_fixed_elf32_higher_half_entry),
		cmocka_unit_test(test_elf32_higher_half_mixed_segments),
		cmocka_unit_test(test_bzimage),
		cmocka_unit_test(test_bzimage_magic_elsewhere),
		cmocka_unit_test(test_multiboot_takes_precedence_over_bzimage),
		cmocka_unit_test(test_error_truncated_to_buffer),
		cmocka_unit_test(test_pvh_builder),
		cmocka_unit_test(test_pvh_segment_wraps),
		cmocka_unit_test(test_pvh_file_range_wraps),
		cmocka_unit_test(test_pvh_program_headers_wrap),
		cmocka_unit_test(test_pvh_truncated),
		cmocka_unit_test(test_pvh_overlapping_segments),
		cmocka_unit_test(test_pvh_zero_size_and_limits),
		cmocka_unit_test(test_pvh_entry_outside),
		cmocka_unit_test(test_pvh_note_truncated),
		cmocka_unit_test(test_pvh_notes_limit),
		cmocka_unit_test(test_elf32_past_4g),
		cmocka_unit_test(test_elf32_overlapping_segments),
		cmocka_unit_test(test_aout_past_4g),
		cmocka_unit_test(test_issue11_hostile_pvh),
	};
	return cmocka_run_group_tests_name("guest_image", tests, NULL, NULL);
}
