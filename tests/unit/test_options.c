/* covers: src/core/options.c src/core/format.c src/core/trace.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/options.h"
#include "core/trace.h"

static struct nestbed_options opts;
static char err[160];

static int parse(const char *cmdline)
{
	memset(&opts, 0xa5, sizeof(opts)); /* every field must be set by the parser */
	memset(err, 0, sizeof(err));
	return options_parse(cmdline, &opts, err, sizeof(err));
}

static void expect_ok(const char *cmdline, bool selftest, bool quiet, uint32_t heap_mib)
{
	assert_int_equal(parse(cmdline), 0);
	assert_int_equal(opts.selftest, selftest);
	assert_int_equal(opts.quiet, quiet);
	assert_int_equal(opts.heap_mib, heap_mib);
}

static void expect_error(const char *cmdline, const char *message)
{
	assert_int_equal(parse(cmdline), -1);
	assert_string_equal(err, message);
}

/* ---- options_parse ---- */

static void test_parse_defaults(void **state)
{
	(void)state;
	expect_ok(NULL, false, false, OPTIONS_DEFAULT_HEAP_MIB);
	expect_ok("", false, false, OPTIONS_DEFAULT_HEAP_MIB);
	expect_ok("   \t\r\n  ", false, false, OPTIONS_DEFAULT_HEAP_MIB);
	assert_int_equal(OPTIONS_DEFAULT_HEAP_MIB, 16);
	assert_false(opts.require_iommu);
}

static void test_parse_require_iommu(void **state)
{
	(void)state;
	expect_ok("require-iommu", false, false, 16);
	assert_true(opts.require_iommu);
	expect_ok(cmdline_skip_image_path("/boot/nestbed.elf quiet require-iommu"), false, true, 16);
	assert_true(opts.require_iommu);
	expect_ok("quiet", false, true, 16);
	assert_false(opts.require_iommu);
	assert_false(opts.viommu);
	expect_ok("require-iommu viommu", false, false, 16);
	assert_true(opts.viommu);
	assert_true(opts.require_iommu);
	assert_false(opts.marks);
	expect_ok("trace marks", false, false, 16);
	assert_true(opts.marks);
	assert_true(opts.trace);
	expect_error("marks=1", "unknown option 'marks=1' (known: selftest, quiet, "
		     "trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("require-iommu=1", "unknown option 'require-iommu=1' (known: selftest, quiet, "
		     "trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("require_iommu", "unknown option 'require_iommu' (known: selftest, quiet, "
		     "trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
}

static void test_parse_flags(void **state)
{
	(void)state;
	expect_ok("selftest", true, false, 16);
	expect_ok("quiet", false, true, 16);
	expect_ok("quiet selftest", true, true, 16);
	expect_ok("\tselftest\n quiet\r\n", true, true, 16);
	expect_ok("selftest selftest", true, false, 16);
}

static void test_parse_heap(void **state)
{
	(void)state;
	expect_ok("heap=32", false, false, 32);
	expect_ok("heap=1", false, false, 1);
	expect_ok("heap=1024", false, false, OPTIONS_MAX_HEAP_MIB);
	expect_ok("heap=0064", false, false, 64);
	expect_ok("selftest heap=128 quiet", true, true, 128);
	expect_ok("heap=32 heap=8", false, false, 8); /* the last one wins */
}

static void test_parse_heap_out_of_range(void **state)
{
	(void)state;
	expect_error("heap=0", "heap=0: want MiB from 1 to 1024");
	expect_error("heap=1025", "heap=1025: want MiB from 1 to 1024");
	expect_error("heap=4294967295", "heap=4294967295: want MiB from 1 to 1024");
	expect_error("heap=4294967296", "heap=4294967296: want MiB from 1 to 1024");
	expect_error("heap=99999999999999999999999", "heap=99999999999999999999999: want MiB from 1 to 1024");
}

static void test_parse_heap_malformed(void **state)
{
	(void)state;
	expect_error("heap=", "heap=: want MiB from 1 to 1024");
	expect_error("heap=abc", "heap=abc: want MiB from 1 to 1024");
	expect_error("heap=-1", "heap=-1: want MiB from 1 to 1024");
	expect_error("heap=+4", "heap=+4: want MiB from 1 to 1024");
	expect_error("heap=16M", "heap=16M: want MiB from 1 to 1024");
	expect_error("heap=0x10", "heap=0x10: want MiB from 1 to 1024");
	expect_error("heap=1=2", "heap=1=2: want MiB from 1 to 1024");
	/* The reason names only the bad word, not what follows it. */
	expect_error("quiet heap=2000 selftest", "heap=2000: want MiB from 1 to 1024");
}

static void test_parse_unknown(void **state)
{
	(void)state;
	expect_error("verbose", "unknown option 'verbose' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("selftest bogus quiet", "unknown option 'bogus' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	/* Prefixes, extensions and case are not options. */
	expect_error("self", "unknown option 'self' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("selftests", "unknown option 'selftests' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("Quiet", "unknown option 'Quiet' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("heap", "unknown option 'heap' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("hea=3", "unknown option 'hea=3' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("heapx=3", "unknown option 'heapx=3' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("quiet=1", "unknown option 'quiet=1' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
	expect_error("=16", "unknown option '=16' (known: selftest, quiet, trace, trace=<kinds>, require-iommu, viommu, marks, heap=<MiB>, nested=0|1)");
}

static void test_parse_trace_kinds(void **state)
{
	(void)state;
	struct nestbed_options o;
	char err[200];
	assert_int_equal(options_parse("trace", &o, err, sizeof(err)), 0);
	assert_true(o.trace);
	assert_int_equal(o.trace_kinds, TRACE_ALL_KINDS);
	assert_int_equal(options_parse("quiet", &o, err, sizeof(err)), 0);
	assert_false(o.trace);
	assert_int_equal(options_parse("trace=cpuid,io quiet", &o, err, sizeof(err)), 0);
	assert_true(o.trace);
	assert_true(o.quiet);
	assert_int_equal(o.trace_kinds, (1u << EXIT_CPUID) | (1u << EXIT_IO));
	assert_int_equal(options_parse("trace=msr", &o, err, sizeof(err)), 0);
	assert_int_equal(o.trace_kinds, (1u << EXIT_MSR_READ) | (1u << EXIT_MSR_WRITE));
	assert_int_equal(options_parse("trace=vm_insn,tdp_fault", &o, err, sizeof(err)), 0);
	assert_int_equal(o.trace_kinds, (1u << EXIT_VM_INSN) | (1u << EXIT_TDP_FAULT));
	expect_error("trace=cpuid,bogus", "trace=cpuid,bogus: 'bogus' is not an exit kind (cpuid, msr, msr_read, msr_write, io, hlt, tdp_fault, exception, intr, nmi, vm_insn, ..., all)");
	expect_error("trace=", "trace=: '' is not an exit kind (cpuid, msr, msr_read, msr_write, io, hlt, tdp_fault, exception, intr, nmi, vm_insn, ..., all)");
	expect_error("trace=cpuid,", "trace=cpuid,: '' is not an exit kind (cpuid, msr, msr_read, msr_write, io, hlt, tdp_fault, exception, intr, nmi, vm_insn, ..., all)");
	/* the kinds are the neutral names, not the manuals' */
	expect_error("trace=CPUID", "trace=CPUID: 'CPUID' is not an exit kind (cpuid, msr, msr_read, msr_write, io, hlt, tdp_fault, exception, intr, nmi, vm_insn, ..., all)");
}

static void test_parse_small_error_buffer(void **state)
{
	(void)state;
	char small[12];
	memset(small, 'x', sizeof(small));
	assert_int_equal(options_parse("nonsense", &opts, small, sizeof(small)), -1);
	assert_string_equal(small, "unknown opt");
	memset(small, 'x', sizeof(small));
	assert_int_equal(options_parse("heap=0", &opts, small, sizeof(small)), -1);
	assert_string_equal(small, "heap=0: wan");
}

static void test_parse_does_not_need_the_error_buffer_on_success(void **state)
{
	(void)state;
	char one[1] = { 'z' };
	assert_int_equal(options_parse("quiet heap=2", &opts, one, sizeof(one)), 0);
	assert_int_equal(one[0], 'z');
	assert_true(opts.quiet);
	assert_int_equal(opts.heap_mib, 2);
}

/* ---- cmdline_split_first ---- */

static void test_split_first_path(void **state)
{
	(void)state;
	char name[64];
	const char *rest = cmdline_split_first("/boot/guests/guest.elf arg1  arg2", name, sizeof(name));
	assert_string_equal(name, "guest.elf");
	assert_string_equal(rest, "arg1  arg2");

	rest = cmdline_split_first("  \t(hd0)/kernel\t\t-x", name, sizeof(name));
	assert_string_equal(name, "kernel");
	assert_string_equal(rest, "-x");

	rest = cmdline_split_first("\\EFI\\nestbed\\guest.efi quiet", name, sizeof(name));
	assert_string_equal(name, "guest.efi");
	assert_string_equal(rest, "quiet");

	rest = cmdline_split_first("a/b\\c/d e", name, sizeof(name));
	assert_string_equal(name, "d");
	assert_string_equal(rest, "e");
}

static void test_split_first_plain_word(void **state)
{
	(void)state;
	char name[64];
	const char *line = "guest.elf";
	const char *rest = cmdline_split_first(line, name, sizeof(name));
	assert_string_equal(name, "guest.elf");
	assert_ptr_equal(rest, line + strlen(line)); /* points at the terminator */

	rest = cmdline_split_first("probe   \n", name, sizeof(name));
	assert_string_equal(name, "probe");
	assert_string_equal(rest, "");
}

static void test_split_first_empty(void **state)
{
	(void)state;
	char name[8];
	memset(name, 'x', sizeof(name));
	assert_string_equal(cmdline_split_first("", name, sizeof(name)), "");
	assert_string_equal(name, "");
	memset(name, 'x', sizeof(name));
	assert_string_equal(cmdline_split_first(" \t ", name, sizeof(name)), "");
	assert_string_equal(name, "");
	/* A trailing separator leaves an empty basename. */
	assert_string_equal(cmdline_split_first("dir/ rest", name, sizeof(name)), "rest");
	assert_string_equal(name, "");
}

static void test_split_first_truncates_name(void **state)
{
	(void)state;
	char name[8];
	memset(name, 'x', sizeof(name));
	assert_string_equal(cmdline_split_first("/p/abcdefghijkl more", name, 5), "more");
	assert_string_equal(name, "abcd");
	assert_int_equal(name[5], 'x'); /* nothing written past namelen */
	assert_string_equal(cmdline_split_first("/p/abcdefg x", name, sizeof(name)), "x");
	assert_string_equal(name, "abcdefg"); /* exactly fits */
	assert_string_equal(cmdline_split_first("/p/abcdefgh x", name, sizeof(name)), "x");
	assert_string_equal(name, "abcdefg");
	assert_string_equal(cmdline_split_first("abc x", name, 1), "x");
	assert_string_equal(name, "");
}

static void test_split_first_without_name(void **state)
{
	(void)state;
	assert_string_equal(cmdline_split_first("/boot/x.elf a b", NULL, 0), "a b");
	assert_string_equal(cmdline_split_first("/boot/x.elf a b", NULL, 16), "a b");
	char name[4] = { 'q', 'q', 'q', 0 };
	assert_string_equal(cmdline_split_first("/boot/x.elf a", name, 0), "a");
	assert_string_equal(name, "qqq"); /* namelen 0: untouched */
}

/* ---- cmdline_skip_image_path ---- */

static void test_skip_image_path_with_path(void **state)
{
	(void)state;
	/* QEMU's -kernel passes the path first. */
	assert_string_equal(cmdline_skip_image_path("/tmp/build/nestbed.elf selftest quiet"),
			    "selftest quiet");
	assert_string_equal(cmdline_skip_image_path("nestbed.elf heap=32"), "heap=32");
	assert_string_equal(cmdline_skip_image_path("boot\\nestbed heap=32"), "heap=32");
	assert_string_equal(cmdline_skip_image_path("  /nestbed\t selftest"), "selftest");
	assert_string_equal(cmdline_skip_image_path("/nestbed"), "");
	assert_string_equal(cmdline_skip_image_path("./nestbed   "), "");
}

static void test_skip_image_path_without_path(void **state)
{
	(void)state;
	/* GRUB 2 passes only the arguments. */
	const char *line = "selftest heap=32";
	assert_ptr_equal(cmdline_skip_image_path(line), line);
	assert_string_equal(cmdline_skip_image_path("  quiet"), "quiet");
	assert_string_equal(cmdline_skip_image_path(""), "");
	assert_string_equal(cmdline_skip_image_path(" \t"), "");
	/* Only the first word decides. */
	assert_string_equal(cmdline_skip_image_path("quiet /not/a/kernel.elf"),
			    "quiet /not/a/kernel.elf");
}

static void test_skip_then_parse(void **state)
{
	(void)state;
	expect_ok(cmdline_skip_image_path("/boot/nestbed.elf selftest heap=64"), true, false, 64);
	expect_ok(cmdline_skip_image_path("selftest heap=64"), true, false, 64);
	expect_ok(cmdline_skip_image_path("/boot/nestbed.elf"), false, false, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_flags),
		cmocka_unit_test(test_parse_require_iommu),
		cmocka_unit_test(test_parse_heap),
		cmocka_unit_test(test_parse_heap_out_of_range),
		cmocka_unit_test(test_parse_heap_malformed),
		cmocka_unit_test(test_parse_unknown),
		cmocka_unit_test(test_parse_trace_kinds),
		cmocka_unit_test(test_parse_small_error_buffer),
		cmocka_unit_test(test_parse_does_not_need_the_error_buffer_on_success),
		cmocka_unit_test(test_split_first_path),
		cmocka_unit_test(test_split_first_plain_word),
		cmocka_unit_test(test_split_first_empty),
		cmocka_unit_test(test_split_first_truncates_name),
		cmocka_unit_test(test_split_first_without_name),
		cmocka_unit_test(test_skip_image_path_with_path),
		cmocka_unit_test(test_skip_image_path_without_path),
		cmocka_unit_test(test_skip_then_parse),
	};
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
