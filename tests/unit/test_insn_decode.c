/* covers: src/core/insn_decode.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/insn_decode.h"
#include "insn_vectors.h"

#define R16 INSN_MODE_REAL16
#define P16 INSN_MODE_PROT16
#define P32 INSN_MODE_PROT32
#define L64 INSN_MODE_LONG64
#define INTEL INSN_VENDOR_INTEL
#define AMD INSN_VENDOR_AMD

static const char *mode_name(enum insn_mode mode)
{
	switch (mode) {
	case R16: return "real16";
	case P16: return "prot16";
	case P32: return "prot32";
	case L64: return "long64";
	}
	return "?";
}

/* "0f 01 d8" -> bytes; returns the count. */
static size_t parse_hex(const char *hex, uint8_t *buf, size_t size)
{
	size_t n = 0;
	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		char *end;
		unsigned long v = strtoul(hex, &end, 16);
		assert_true(end == hex + 2 && v <= 0xff && n < size);
		buf[n++] = (uint8_t)v;
		hex = end;
	}
	return n;
}

/* Decodes hex (all of it available) and prints a useful line when it fails. */
static int decode_hex(const char *hex, enum insn_mode mode, enum insn_vendor vendor,
		      struct insn *out)
{
	uint8_t buf[32];
	size_t n = parse_hex(hex, buf, sizeof(buf));
	return insn_decode(buf, n, mode, vendor, out);
}

static void expect_full(const char *hex, enum insn_mode mode, enum insn_vendor vendor,
			int length, enum insn_kind kind)
{
	struct insn in;
	int ret = decode_hex(hex, mode, vendor, &in);
	if (ret != 0 || in.length != length || in.kind != kind) {
		print_error("'%s' in %s (%s): got %s, length %d, %s; want length %d, %s\n", hex,
			    mode_name(mode), vendor == AMD ? "amd" : "intel", insn_error_name(ret),
			    in.length, insn_kind_name(in.kind), length, insn_kind_name(kind));
		fail();
	}
}

/* Same answer from both vendors. */
static void expect(const char *hex, enum insn_mode mode, int length, enum insn_kind kind)
{
	expect_full(hex, mode, INTEL, length, kind);
	expect_full(hex, mode, AMD, length, kind);
}

static void expect_error(const char *hex, enum insn_mode mode, int error)
{
	struct insn in;
	for (int vendor = INTEL; vendor <= AMD; vendor++) {
		int ret = decode_hex(hex, mode, (enum insn_vendor)vendor, &in);
		if (ret != error) {
			print_error("'%s' in %s: got %s (length %d), want %s\n", hex, mode_name(mode),
				    insn_error_name(ret), in.length, insn_error_name(error));
			fail();
		}
	}
}

static struct insn decode_ok(const char *hex, enum insn_mode mode, enum insn_vendor vendor)
{
	struct insn in;
	int ret = decode_hex(hex, mode, vendor, &in);
	if (ret != 0) {
		print_error("'%s' in %s: %s\n", hex, mode_name(mode), insn_error_name(ret));
		fail();
	}
	return in;
}

/* ---- GNU as / objdump vectors ---- */

static void check_vector(const struct insn_vector *v, enum insn_mode mode, enum insn_vendor vendor,
			 int *failures)
{
	uint8_t buf[INSN_MAX_LENGTH + 4];
	struct insn in;

	/* with plenty of bytes after it (NOPs), then with exactly its bytes */
	memset(buf, 0x90, sizeof(buf));
	memcpy(buf, v->bytes, v->length);
	int ret = insn_decode(buf, sizeof(buf), mode, vendor, &in);
	int ret_exact = insn_decode(v->bytes, v->length, mode, vendor, &in);
	if (ret != 0 || ret_exact != 0 || in.length != v->length) {
		if (*failures < 40) {
			char hex[64] = "";
			for (int i = 0; i < v->length; i++)
				snprintf(hex + 3 * i, 4, "%02x ", v->bytes[i]);
			print_error("%s %s: '%s' [%s] want %d: got %s/%s length %d\n",
				    mode_name(mode), vendor == AMD ? "amd" : "intel", v->source,
				    hex, v->length, insn_error_name(ret), insn_error_name(ret_exact),
				    in.length);
		}
		(*failures)++;
		return;
	}
	/* one byte short of the end, at every length, is truncated */
	for (int avail = 0; avail < v->length; avail++) {
		ret = insn_decode(v->bytes, (size_t)avail, mode, vendor, &in);
		if (ret != INSN_ERR_TRUNCATED) {
			if (*failures < 40)
				print_error("%s: '%s' with %d bytes: %s, want truncated\n",
					    mode_name(mode), v->source, avail, insn_error_name(ret));
			(*failures)++;
			return;
		}
	}
}

/* The kind objdump's mnemonic implies, for the cross-check below; false when the
 * text does not tell (a sweep "mov" without operands). */
static bool kind_from_objdump(const char *text, enum insn_kind *kind)
{
	static const struct {
		const char *mnemonic;
		enum insn_kind kind;
	} names[] = {
		{ "cpuid", INSN_KIND_CPUID }, { "rdtsc", INSN_KIND_RDTSC },
		{ "rdtscp", INSN_KIND_RDTSCP }, { "rdpmc", INSN_KIND_RDPMC },
		{ "rdmsr", INSN_KIND_RDMSR }, { "wrmsr", INSN_KIND_WRMSR },
		{ "hlt", INSN_KIND_HLT }, { "pause", INSN_KIND_PAUSE },
		{ "in", INSN_KIND_IN }, { "out", INSN_KIND_OUT },
		{ "ins", INSN_KIND_INS }, { "outs", INSN_KIND_OUTS },
		{ "invlpg", INSN_KIND_INVLPG }, { "invlpga", INSN_KIND_INVLPGA },
		{ "invd", INSN_KIND_INVD }, { "wbinvd", INSN_KIND_WBINVD },
		{ "wbnoinvd", INSN_KIND_WBNOINVD }, { "monitor", INSN_KIND_MONITOR },
		{ "mwait", INSN_KIND_MWAIT }, { "monitorx", INSN_KIND_MONITORX },
		{ "mwaitx", INSN_KIND_MWAITX }, { "xgetbv", INSN_KIND_XGETBV },
		{ "xsetbv", INSN_KIND_XSETBV }, { "vmrun", INSN_KIND_VMRUN },
		{ "vmmcall", INSN_KIND_VMMCALL }, { "vmload", INSN_KIND_VMLOAD },
		{ "vmsave", INSN_KIND_VMSAVE }, { "stgi", INSN_KIND_STGI },
		{ "clgi", INSN_KIND_CLGI }, { "skinit", INSN_KIND_SKINIT },
		{ "vmcall", INSN_KIND_VMCALL }, { "vmlaunch", INSN_KIND_VMLAUNCH },
		{ "vmresume", INSN_KIND_VMRESUME }, { "vmxoff", INSN_KIND_VMXOFF },
		{ "vmxon", INSN_KIND_VMXON }, { "vmclear", INSN_KIND_VMCLEAR },
		{ "vmptrld", INSN_KIND_VMPTRLD }, { "vmptrst", INSN_KIND_VMPTRST },
		{ "vmread", INSN_KIND_VMREAD }, { "vmwrite", INSN_KIND_VMWRITE },
		{ "invept", INSN_KIND_INVEPT }, { "invvpid", INSN_KIND_INVVPID },
		{ "vmfunc", INSN_KIND_VMFUNC }, { "invpcid", INSN_KIND_INVPCID },
		{ "lmsw", INSN_KIND_LMSW }, { "clts", INSN_KIND_CLTS }, { "smsw", INSN_KIND_SMSW },
		{ "lgdt", INSN_KIND_LGDT }, { "lgdtw", INSN_KIND_LGDT }, { "lgdtd", INSN_KIND_LGDT },
		{ "sgdt", INSN_KIND_SGDT }, { "sgdtw", INSN_KIND_SGDT }, { "sgdtd", INSN_KIND_SGDT },
		{ "lidt", INSN_KIND_LIDT }, { "lidtw", INSN_KIND_LIDT }, { "lidtd", INSN_KIND_LIDT },
		{ "sidt", INSN_KIND_SIDT }, { "sidtw", INSN_KIND_SIDT }, { "sidtd", INSN_KIND_SIDT },
		{ "lldt", INSN_KIND_LLDT }, { "sldt", INSN_KIND_SLDT }, { "ltr", INSN_KIND_LTR },
		{ "str", INSN_KIND_STR }, { "int", INSN_KIND_INT_N }, { "int3", INSN_KIND_INT3 },
		{ "into", INSN_KIND_INTO }, { "int1", INSN_KIND_INT1 }, { "iret", INSN_KIND_IRET },
		{ "iretw", INSN_KIND_IRET }, { "iretd", INSN_KIND_IRET }, { "iretq", INSN_KIND_IRET },
		{ "popf", INSN_KIND_POPF }, { "popfw", INSN_KIND_POPF }, { "popfd", INSN_KIND_POPF },
		{ "popfq", INSN_KIND_POPF }, { "pushf", INSN_KIND_PUSHF },
		{ "pushfw", INSN_KIND_PUSHF }, { "pushfd", INSN_KIND_PUSHF },
		{ "pushfq", INSN_KIND_PUSHF }, { "rsm", INSN_KIND_RSM }, { "ud2", INSN_KIND_UD2 },
		{ "syscall", INSN_KIND_SYSCALL }, { "sysret", INSN_KIND_SYSRET },
		{ "sysretd", INSN_KIND_SYSRET }, { "sysretq", INSN_KIND_SYSRET },
		{ "sysenter", INSN_KIND_SYSENTER }, { "sysexit", INSN_KIND_SYSEXIT },
		{ "sysexitq", INSN_KIND_SYSEXIT }, { "getsec", INSN_KIND_GETSEC },
		{ "rdrand", INSN_KIND_RDRAND }, { "rdseed", INSN_KIND_RDSEED },
		{ "xsaves", INSN_KIND_XSAVES }, { "xsaves64", INSN_KIND_XSAVES },
		{ "xrstors", INSN_KIND_XRSTORS }, { "xrstors64", INSN_KIND_XRSTORS },
		{ "rdpru", INSN_KIND_RDPRU }, { "invlpgb", INSN_KIND_INVLPGB },
		{ "tlbsync", INSN_KIND_TLBSYNC },
	};
	static const char *const prefix_words[] = {
		"rep", "repz", "repnz", "repe", "repne", "lock", "data16", "data32", "addr16",
		"addr32", "cs", "ds", "es", "fs", "gs", "ss", "notrack", "bnd",
	};
	char word[32];
	const char *p = text;
	for (;;) {
		size_t n = strcspn(p, " ");
		if (n == 0 || n >= sizeof(word))
			return false;
		memcpy(word, p, n);
		word[n] = 0;
		p += n + (p[n] == ' ');
		bool is_prefix = strncmp(word, "rex", 3) == 0 || word[0] == '{';
		for (size_t i = 0; i < sizeof(prefix_words) / sizeof(prefix_words[0]); i++)
			is_prefix |= strcmp(word, prefix_words[i]) == 0;
		if (!is_prefix)
			break;
	}
	if (strcmp(word, "mov") == 0) {
		/* "mov rax,cr0" / "mov cr3,rax"; the sweep keeps no operands */
		const char *comma = strchr(p, ',');
		if (!comma)
			return false;
		bool from = comma[1] == 'c' && comma[2] == 'r';
		bool to = p[0] == 'c' && p[1] == 'r';
		bool from_dr = comma[1] == 'd' && comma[2] == 'r';
		bool to_dr = p[0] == 'd' && p[1] == 'r';
		*kind = from ? INSN_KIND_MOV_FROM_CR : to ? INSN_KIND_MOV_TO_CR :
			from_dr ? INSN_KIND_MOV_FROM_DR : to_dr ? INSN_KIND_MOV_TO_DR :
			INSN_KIND_OTHER;
		return true;
	}
	*kind = INSN_KIND_OTHER;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(word, names[i].mnemonic) == 0)
			*kind = names[i].kind;
	return true;
}

/* The classification agrees with objdump's mnemonic on every vector. */
static void test_vector_kinds(void **state)
{
	(void)state;
	int failures = 0, checked = 0;
	for (size_t i = 0; i < sizeof(insn_vectors) / sizeof(insn_vectors[0]); i++) {
		const struct insn_vector *v = &insn_vectors[i];
		enum insn_kind want;
		if (!kind_from_objdump(v->objdump, &want))
			continue;
		struct insn in;
		int ret = insn_decode(v->bytes, v->length, v->mode, INSN_VENDOR_AMD, &in);
		checked++;
		if (ret != 0 || in.kind != want) {
			if (failures++ < 40)
				print_error("%s '%s' (objdump: %s): got %s, want %s\n",
					    mode_name(v->mode), v->source, v->objdump,
					    insn_kind_name(in.kind), insn_kind_name(want));
		}
	}
	print_message("# %d vectors classified like objdump names them\n", checked);
	assert_int_equal(failures, 0);
}

static void test_assembler_vectors(void **state)
{
	(void)state;
	int failures = 0, checked = 0;
	for (size_t i = 0; i < sizeof(insn_vectors) / sizeof(insn_vectors[0]); i++) {
		const struct insn_vector *v = &insn_vectors[i];
		for (int vendor = INTEL; vendor <= AMD; vendor++) {
			check_vector(v, v->mode, (enum insn_vendor)vendor, &failures);
			/* 16-bit code sizes the same in real and protected mode */
			if (v->mode == R16)
				check_vector(v, P16, (enum insn_vendor)vendor, &failures);
			checked++;
		}
	}
	print_message("# %d vectors x 2 vendors, %d failures\n", checked / 2, failures);
	assert_int_equal(failures, 0);
}

/* insn_length_quick agrees with insn_decode on every vector it answers, in every mode, and
 * answers the hot ones. */
static void test_length_quick(void **state)
{
	(void)state;
	int answered = 0;
	for (size_t i = 0; i < sizeof(insn_vectors) / sizeof(insn_vectors[0]); i++) {
		const struct insn_vector *v = &insn_vectors[i];
		unsigned quick = insn_length_quick(v->bytes, v->length);
		if (!quick)
			continue;
		answered++;
		struct insn in;
		assert_int_equal(insn_decode(v->bytes, v->length, v->mode, INSN_VENDOR_AMD, &in), 0);
		assert_int_equal(quick, in.length);
	}
	print_message("# insn_length_quick answered %d vectors\n", answered);
	assert_true(answered > 0);
	static const struct { const char *hex; unsigned length; } hot[] = {
		{ "0fa2", 2 }, { "0f32", 2 }, { "0f30", 2 }, { "0f01d8", 3 }, { "0f01da", 3 },
		{ "0f01db", 3 }, { "0f01dc", 3 }, { "0f01dd", 3 }, { "0f01d9", 3 }, { "0f01c1", 3 },
		{ "0f01f9", 3 }, { "f4", 1 }, { "ee", 1 }, { "e6f4", 2 }, { "e4e0", 2 },
		{ "0f01", 0 }, { "0f0110", 0 }, { "660fa2", 0 }, { "480f32", 0 }, { "0fa0", 0 },
		{ "e6", 0 }, { "", 0 },
	};
	for (size_t i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
		uint8_t b[8];
		size_t n = strlen(hot[i].hex) / 2;
		for (size_t j = 0; j < n; j++)
			sscanf(hot[i].hex + 2 * j, "%2hhx", &b[j]);
		assert_int_equal(insn_length_quick(b, n), hot[i].length);
		if (hot[i].length) {
			struct insn in;
			assert_int_equal(insn_decode(b, n, L64, INSN_VENDOR_AMD, &in), 0);
			assert_int_equal(in.length, hot[i].length);
		}
	}
}

/* ---- intercepted instructions: exact encodings, lengths and kinds ---- */

static void test_cpuid_tsc_msr_pmc(void **state)
{
	(void)state;
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f a2", m, 2, INSN_KIND_CPUID);
		expect("0f 31", m, 2, INSN_KIND_RDTSC);
		expect("0f 01 f9", m, 3, INSN_KIND_RDTSCP);
		expect("0f 33", m, 2, INSN_KIND_RDPMC);
		expect("0f 32", m, 2, INSN_KIND_RDMSR);
		expect("0f 30", m, 2, INSN_KIND_WRMSR);
		expect("f4", m, 1, INSN_KIND_HLT);
		expect("f3 90", m, 2, INSN_KIND_PAUSE);
		expect("66 f3 90", m, 3, INSN_KIND_PAUSE);
		expect("90", m, 1, INSN_KIND_OTHER);		/* NOP */
		expect("f2 90", m, 2, INSN_KIND_OTHER);
		expect("f3 f2 90", m, 3, INSN_KIND_OTHER);	/* the last of F2/F3 counts */
		expect("f2 f3 90", m, 3, INSN_KIND_PAUSE);
	}
	/* prefixes that change nothing */
	expect("2e 0f a2", L64, 3, INSN_KIND_CPUID);
	expect("48 0f a2", L64, 3, INSN_KIND_CPUID);
	expect("48 0f 32", L64, 3, INSN_KIND_RDMSR);
	/* F3 REX.B 90 is XCHG r8d, eax with a REP prefix, not PAUSE */
	expect("f3 41 90", L64, 3, INSN_KIND_OTHER);
	expect("f3 48 90", L64, 3, INSN_KIND_PAUSE);
}

static void test_port_io(void **state)
{
	(void)state;
	struct insn in;
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("e4 60", m, 2, INSN_KIND_IN);
		expect("e5 60", m, 2, INSN_KIND_IN);
		expect("66 e5 60", m, 3, INSN_KIND_IN);
		expect("ec", m, 1, INSN_KIND_IN);
		expect("ed", m, 1, INSN_KIND_IN);
		expect("66 ed", m, 2, INSN_KIND_IN);
		expect("e6 80", m, 2, INSN_KIND_OUT);
		expect("e7 80", m, 2, INSN_KIND_OUT);
		expect("66 e7 80", m, 3, INSN_KIND_OUT);
		expect("ee", m, 1, INSN_KIND_OUT);
		expect("ef", m, 1, INSN_KIND_OUT);
		expect("66 ef", m, 2, INSN_KIND_OUT);
		expect("6c", m, 1, INSN_KIND_INS);
		expect("6d", m, 1, INSN_KIND_INS);
		expect("f3 6c", m, 2, INSN_KIND_INS);
		expect("f3 6d", m, 2, INSN_KIND_INS);
		expect("66 f3 6d", m, 3, INSN_KIND_INS);
		expect("6e", m, 1, INSN_KIND_OUTS);
		expect("6f", m, 1, INSN_KIND_OUTS);
		expect("f3 6e", m, 2, INSN_KIND_OUTS);
		expect("f3 66 6f", m, 3, INSN_KIND_OUTS);
		expect("2e f3 6e", m, 3, INSN_KIND_OUTS);
		expect("67 f3 6f", m, 3, INSN_KIND_OUTS);
	}
	/* REX.W does not widen port I/O, but it is part of the instruction */
	expect("48 ef", L64, 2, INSN_KIND_OUT);

	/* the sizes an I/O handler needs */
	in = decode_ok("66 ef", P32, AMD);
	assert_int_equal(in.operand_size, 2);
	in = decode_ok("ef", P32, AMD);
	assert_int_equal(in.operand_size, 4);
	in = decode_ok("ef", R16, AMD);
	assert_int_equal(in.operand_size, 2);
	in = decode_ok("66 ef", R16, AMD);
	assert_int_equal(in.operand_size, 4);
	in = decode_ok("48 ef", L64, AMD);
	assert_int_equal(in.operand_size, 4);
	in = decode_ok("ef", L64, AMD);
	assert_int_equal(in.operand_size, 4);
	in = decode_ok("e6 80", L64, AMD);
	assert_int_equal(in.immediate_size, 1);
	assert_int_equal(in.immediate, 0x80);
	in = decode_ok("f3 6e", L64, AMD);
	assert_true(in.rep);
	assert_false(in.repne);
	in = decode_ok("2e 67 f3 6f", L64, AMD);
	assert_int_equal(in.segment, 0x2e);
	assert_int_equal(in.address_size, 4);
	assert_true(in.rep);
	assert_int_equal(in.prefix_count, 3);
	in = decode_ok("f3 6c", R16, AMD);
	assert_int_equal(in.address_size, 2);
	in = decode_ok("67 f3 6c", R16, AMD);
	assert_int_equal(in.address_size, 4);
}

static void test_tlb_and_cache(void **state)
{
	(void)state;
	expect("0f 01 38", L64, 3, INSN_KIND_INVLPG);		/* [rax] */
	expect("0f 01 7d 08", L64, 4, INSN_KIND_INVLPG);	/* [rbp+8] */
	expect("0f 01 3c 24", L64, 4, INSN_KIND_INVLPG);	/* [rsp] */
	expect("41 0f 01 3c 24", L64, 5, INSN_KIND_INVLPG);	/* [r12] */
	expect("0f 01 3d 00 10 00 00", L64, 7, INSN_KIND_INVLPG); /* [rip+0x1000] */
	expect("0f 01 bc 88 00 10 00 00", L64, 8, INSN_KIND_INVLPG);
	expect("0f 01 38", P32, 3, INSN_KIND_INVLPG);		/* [eax] */
	expect("0f 01 3d 00 10 00 00", P32, 7, INSN_KIND_INVLPG); /* [0x1000] */
	expect("0f 01 38", R16, 3, INSN_KIND_INVLPG);		/* [bx+si] */
	expect("0f 01 3e 34 12", R16, 5, INSN_KIND_INVLPG);	/* [0x1234] */
	expect("0f 01 7e 00", R16, 4, INSN_KIND_INVLPG);	/* [bp+0] */
	expect("67 0f 01 38", R16, 4, INSN_KIND_INVLPG);	/* [eax] */
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f 01 df", m, 3, INSN_KIND_INVLPGA);
		expect("67 0f 01 df", m, 4, INSN_KIND_INVLPGA);
		expect("0f 08", m, 2, INSN_KIND_INVD);
		expect("0f 09", m, 2, INSN_KIND_WBINVD);
		expect("f3 0f 09", m, 3, INSN_KIND_WBNOINVD);
		expect("0f 01 fe", m, 3, INSN_KIND_INVLPGB);
		expect("0f 01 ff", m, 3, INSN_KIND_TLBSYNC);
	}
	expect("66 0f 38 82 08", L64, 5, INSN_KIND_INVPCID);	/* invpcid rcx, [rax] */
	expect("66 44 0f 38 82 00", L64, 6, INSN_KIND_INVPCID);
	expect("66 0f 38 82 08", P32, 5, INSN_KIND_INVPCID);
}

static void test_monitor_mwait_xcr(void **state)
{
	(void)state;
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f 01 c8", m, 3, INSN_KIND_MONITOR);
		expect("0f 01 c9", m, 3, INSN_KIND_MWAIT);
		expect("0f 01 fa", m, 3, INSN_KIND_MONITORX);
		expect("0f 01 fb", m, 3, INSN_KIND_MWAITX);
		expect("0f 01 d0", m, 3, INSN_KIND_XGETBV);
		expect("0f 01 d1", m, 3, INSN_KIND_XSETBV);
		expect("67 0f 01 c8", m, 4, INSN_KIND_MONITOR);
	}
	/* prefixed 0F 01 register forms are other instructions */
	expect("f3 0f 01 fa", L64, 4, INSN_KIND_OTHER);		/* MCOMMIT */
	expect("f2 0f 01 c9", L64, 4, INSN_KIND_OTHER);
}

static void test_svm_instructions(void **state)
{
	(void)state;
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f 01 d8", m, 3, INSN_KIND_VMRUN);
		expect("0f 01 d9", m, 3, INSN_KIND_VMMCALL);
		expect("0f 01 da", m, 3, INSN_KIND_VMLOAD);
		expect("0f 01 db", m, 3, INSN_KIND_VMSAVE);
		expect("0f 01 dc", m, 3, INSN_KIND_STGI);
		expect("0f 01 dd", m, 3, INSN_KIND_CLGI);
		expect("0f 01 de", m, 3, INSN_KIND_SKINIT);
		expect("0f 01 df", m, 3, INSN_KIND_INVLPGA);
		expect("67 0f 01 d8", m, 4, INSN_KIND_VMRUN);	/* VMRUN eAX / AX */
		expect("0f 01 fd", m, 3, INSN_KIND_RDPRU);
	}
	expect("48 0f 01 d8", L64, 4, INSN_KIND_VMRUN);
	expect("41 0f 01 da", L64, 4, INSN_KIND_VMLOAD);	/* REX.B: still rm=2 */
	struct insn in = decode_ok("67 0f 01 d8", L64, AMD);
	assert_int_equal(in.address_size, 4);
	in = decode_ok("0f 01 d8", R16, AMD);
	assert_int_equal(in.address_size, 2);
}

static void test_vmx_instructions(void **state)
{
	(void)state;
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f 01 c1", m, 3, INSN_KIND_VMCALL);
		expect("0f 01 c2", m, 3, INSN_KIND_VMLAUNCH);
		expect("0f 01 c3", m, 3, INSN_KIND_VMRESUME);
		expect("0f 01 c4", m, 3, INSN_KIND_VMXOFF);
		expect("0f 01 d4", m, 3, INSN_KIND_VMFUNC);
		expect("0f 37", m, 2, INSN_KIND_GETSEC);
	}
	/* the pointer instructions by mandatory prefix, 0F C7 /6 and /7 */
	expect("f3 0f c7 30", L64, 4, INSN_KIND_VMXON);		/* [rax] */
	expect("66 0f c7 30", L64, 4, INSN_KIND_VMCLEAR);
	expect("0f c7 30", L64, 3, INSN_KIND_VMPTRLD);
	expect("0f c7 38", L64, 3, INSN_KIND_VMPTRST);
	expect("f3 0f c7 35 00 10 00 00", L64, 8, INSN_KIND_VMXON);	/* [rip+0x1000] */
	expect("f3 41 0f c7 74 24 08", L64, 7, INSN_KIND_VMXON);	/* [r12+8] */
	expect("66 f3 0f c7 30", L64, 5, INSN_KIND_VMXON);	/* F3 beats 66 */
	expect("f3 0f c7 30", P32, 4, INSN_KIND_VMXON);		/* [eax] */
	expect("0f c7 36 00 10", R16, 5, INSN_KIND_VMPTRLD);	/* [0x1000] */
	expect("0f c7 36 00 10", P16, 5, INSN_KIND_VMPTRLD);
	expect("0f c7 36 00 10", P32, 3, INSN_KIND_VMPTRLD);	/* [esi], then other bytes */
	expect("66 0f c7 77 10", R16, 5, INSN_KIND_VMCLEAR);	/* [bx+0x10] */
	expect("f3 0f c7 34", R16, 4, INSN_KIND_VMXON);		/* [si] */
	expect("0f c7 3d", R16, 3, INSN_KIND_VMPTRST);		/* [di] */
	expect("f2 0f c7 30", L64, 4, INSN_KIND_OTHER);
	expect("66 0f c7 38", L64, 4, INSN_KIND_OTHER);

	expect("0f 78 c8", L64, 3, INSN_KIND_VMREAD);		/* vmread rax, rcx */
	expect("0f 78 c8", P32, 3, INSN_KIND_VMREAD);
	expect("0f 78 04 24", L64, 4, INSN_KIND_VMREAD);	/* vmread [rsp], rax */
	expect("4c 0f 78 00", L64, 4, INSN_KIND_VMREAD);
	expect("0f 79 c1", L64, 3, INSN_KIND_VMWRITE);
	expect("0f 79 07", R16, 3, INSN_KIND_VMWRITE);		/* vmwrite eax, [bx] */
	expect("0f 79 06 34 12", R16, 5, INSN_KIND_VMWRITE);
	expect("66 0f 38 80 08", L64, 5, INSN_KIND_INVEPT);	/* invept rcx, [rax] */
	expect("66 0f 38 81 08", L64, 5, INSN_KIND_INVVPID);
	expect("66 44 0f 38 80 41 10", L64, 7, INSN_KIND_INVEPT); /* invept r8, [rcx+16] */
	expect("66 0f 38 80 07", R16, 5, INSN_KIND_INVEPT);	/* invept eax, [bx] */
	expect("0f 38 80 08", L64, 4, INSN_KIND_OTHER);		/* no 66: not INVEPT */
}

static void test_control_and_debug_registers(void **state)
{
	(void)state;
	struct insn in;
	expect("0f 22 d8", L64, 3, INSN_KIND_MOV_TO_CR);	/* mov cr3, rax */
	expect("0f 20 c0", L64, 3, INSN_KIND_MOV_FROM_CR);	/* mov rax, cr0 */
	expect("44 0f 20 c0", L64, 4, INSN_KIND_MOV_FROM_CR);	/* mov rax, cr8 */
	expect("44 0f 22 c0", L64, 4, INSN_KIND_MOV_TO_CR);	/* mov cr8, rax */
	expect("0f 21 f8", L64, 3, INSN_KIND_MOV_FROM_DR);	/* mov rax, dr7 */
	expect("0f 23 c0", L64, 3, INSN_KIND_MOV_TO_DR);	/* mov dr0, rax */
	for (enum insn_mode m = R16; m <= P32; m++) {
		expect("0f 22 d8", m, 3, INSN_KIND_MOV_TO_CR);
		expect("0f 20 e0", m, 3, INSN_KIND_MOV_FROM_CR);
		expect("0f 23 f8", m, 3, INSN_KIND_MOV_TO_DR);
		expect("0f 21 c8", m, 3, INSN_KIND_MOV_FROM_DR);
	}
	/* the mod field is ignored: never a displacement (SDM vol.2 "MOV") */
	expect("0f 22 18", L64, 3, INSN_KIND_MOV_TO_CR);
	expect("0f 20 45", L64, 3, INSN_KIND_MOV_FROM_CR);
	expect("0f 22 9c", P32, 3, INSN_KIND_MOV_TO_CR);
	expect("0f 21 06", R16, 3, INSN_KIND_MOV_FROM_DR);

	in = decode_ok("44 0f 20 c0", L64, AMD);
	assert_int_equal(in.reg, 8);
	assert_int_equal(in.rm, 0);
	assert_int_equal(in.operand_size, 8);
	in = decode_ok("41 0f 22 d8", L64, AMD);	/* mov cr3, r8 */
	assert_int_equal(in.reg, 3);
	assert_int_equal(in.rm, 8);
	in = decode_ok("0f 22 18", L64, AMD);
	assert_int_equal(in.mod, 3);
	assert_int_equal(in.displacement_size, 0);
	assert_int_equal(in.reg, 3);
	in = decode_ok("66 0f 22 d9", P32, AMD);	/* 66h does not shrink it */
	assert_int_equal(in.operand_size, 4);
	assert_int_equal(in.rm, 1);
	in = decode_ok("0f 20 e0", R16, AMD);
	assert_int_equal(in.operand_size, 4);
	/* AMD's alternative CR8 encoding: LOCK MOV CR0 (APM vol.3 "MOV CRn") */
	in = decode_ok("f0 0f 22 c0", P32, AMD);
	assert_int_equal(in.length, 4);
	assert_int_equal(in.kind, INSN_KIND_MOV_TO_CR);
	assert_int_equal(in.reg, 8);
	assert_true(in.lock);
	in = decode_ok("f0 0f 20 c0", P32, INTEL);
	assert_int_equal(in.reg, 0);

	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f 06", m, 2, INSN_KIND_CLTS);
		expect("0f 01 f0", m, 3, INSN_KIND_LMSW);	/* lmsw ax */
		expect("0f 01 e0", m, 3, INSN_KIND_SMSW);	/* smsw ax */
	}
	expect("0f 01 30", L64, 3, INSN_KIND_LMSW);		/* lmsw [rax] */
	expect("0f 01 20", L64, 3, INSN_KIND_SMSW);		/* smsw [rax] */
	expect("48 0f 01 e0", L64, 4, INSN_KIND_SMSW);		/* smsw rax */
	expect("0f 01 36 34 12", R16, 5, INSN_KIND_LMSW);	/* lmsw [0x1234] */
	expect("0f 01 a0 00 01 00 00", P32, 7, INSN_KIND_SMSW);
}

static void test_descriptor_tables(void **state)
{
	(void)state;
	expect("0f 01 10", L64, 3, INSN_KIND_LGDT);
	expect("0f 01 00", L64, 3, INSN_KIND_SGDT);
	expect("0f 01 18", L64, 3, INSN_KIND_LIDT);
	expect("0f 01 08", L64, 3, INSN_KIND_SIDT);
	expect("0f 01 15 00 10 00 00", L64, 7, INSN_KIND_LGDT);	/* [rip+0x1000] */
	expect("0f 01 54 24 08", L64, 5, INSN_KIND_LGDT);	/* [rsp+8] */
	expect("0f 01 16 34 12", R16, 5, INSN_KIND_LGDT);	/* [0x1234] */
	expect("66 0f 01 16 34 12", R16, 6, INSN_KIND_LGDT);	/* 32-bit base */
	expect("67 66 0f 01 15 00 10 00 00", R16, 9, INSN_KIND_LGDT);
	expect("0f 01 1e 34 12", P16, 5, INSN_KIND_LIDT);
	expect("0f 01 0d 00 10 00 00", P32, 7, INSN_KIND_SIDT);
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f 00 d0", m, 3, INSN_KIND_LLDT);	/* lldt ax */
		expect("0f 00 c0", m, 3, INSN_KIND_SLDT);
		expect("0f 00 d8", m, 3, INSN_KIND_LTR);
		expect("0f 00 c8", m, 3, INSN_KIND_STR);
		expect("0f 00 e0", m, 3, INSN_KIND_OTHER);	/* verr */
		expect("0f 00 e8", m, 3, INSN_KIND_OTHER);	/* verw */
	}
	expect("0f 00 10", L64, 3, INSN_KIND_LLDT);		/* lldt [rax] */
	expect("0f 00 18", P32, 3, INSN_KIND_LTR);
	expect("0f 00 16 34 12", R16, 5, INSN_KIND_LLDT);
	expect("0f 00 48 10", L64, 4, INSN_KIND_STR);		/* str [rax+16] */
}

static void test_interrupts_and_flags(void **state)
{
	(void)state;
	struct insn in;
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("cd 80", m, 2, INSN_KIND_INT_N);
		expect("cc", m, 1, INSN_KIND_INT3);
		expect("f1", m, 1, INSN_KIND_INT1);
		expect("cf", m, 1, INSN_KIND_IRET);
		expect("66 cf", m, 2, INSN_KIND_IRET);
		expect("9c", m, 1, INSN_KIND_PUSHF);
		expect("9d", m, 1, INSN_KIND_POPF);
		expect("66 9d", m, 2, INSN_KIND_POPF);
		expect("0f aa", m, 2, INSN_KIND_RSM);
		expect("0f 0b", m, 2, INSN_KIND_UD2);
		expect("0f 05", m, 2, INSN_KIND_SYSCALL);
		expect("0f 07", m, 2, INSN_KIND_SYSRET);
		expect("0f 34", m, 2, INSN_KIND_SYSENTER);
		expect("0f 35", m, 2, INSN_KIND_SYSEXIT);
	}
	expect("ce", R16, 1, INSN_KIND_INTO);
	expect("ce", P32, 1, INSN_KIND_INTO);
	expect_error("ce", L64, INSN_ERR_INVALID);
	expect("48 cf", L64, 2, INSN_KIND_IRET);		/* iretq */
	expect("48 0f 07", L64, 3, INSN_KIND_SYSRET);		/* sysretq */
	expect("48 9d", L64, 2, INSN_KIND_POPF);

	in = decode_ok("cd 21", R16, AMD);
	assert_int_equal(in.immediate, 0x21);
	assert_int_equal(in.immediate_size, 1);
	/* POPF/PUSHF default to 64 bits in 64-bit mode (d64); 66h makes 16 */
	assert_int_equal(decode_ok("9d", L64, AMD).operand_size, 8);
	assert_int_equal(decode_ok("66 9d", L64, AMD).operand_size, 2);
	assert_int_equal(decode_ok("9c", P32, AMD).operand_size, 4);
	assert_int_equal(decode_ok("66 9c", P32, AMD).operand_size, 2);
	assert_int_equal(decode_ok("9c", R16, AMD).operand_size, 2);
	/* IRET is 32-bit by default in 64-bit mode, IRETQ with REX.W */
	assert_int_equal(decode_ok("cf", L64, AMD).operand_size, 4);
	assert_int_equal(decode_ok("48 cf", L64, AMD).operand_size, 8);
}

static void test_other_exits(void **state)
{
	(void)state;
	for (enum insn_mode m = R16; m <= L64; m++) {
		expect("0f c7 f0", m, 3, INSN_KIND_RDRAND);	/* rdrand eax */
		expect("66 0f c7 f0", m, 4, INSN_KIND_RDRAND);
		expect("0f c7 f8", m, 3, INSN_KIND_RDSEED);
		expect("f3 0f c7 f8", m, 4, INSN_KIND_OTHER);	/* rdpid */
		expect("0f c7 28", m, 3, INSN_KIND_XSAVES);
		expect("0f c7 18", m, 3, INSN_KIND_XRSTORS);
		expect("0f c7 20", m, 3, INSN_KIND_OTHER);	/* xsavec */
		expect("0f c7 08", m, 3, INSN_KIND_OTHER);	/* cmpxchg8b */
		expect("0f ae 20", m, 3, INSN_KIND_OTHER);	/* xsave */
	}
	expect("48 0f c7 f0", L64, 4, INSN_KIND_RDRAND);
	expect("48 0f c7 2c 24", L64, 5, INSN_KIND_XSAVES);
	expect("48 0f c7 08", L64, 4, INSN_KIND_OTHER);		/* cmpxchg16b */
}

/* ---- fields and length rules ---- */

static void test_prefix_rules(void **state)
{
	(void)state;
	struct insn in;

	/* all six segment overrides; the last one is kept */
	in = decode_ok("2e 3e 26 64 65 36 90", L64, AMD);
	assert_int_equal(in.length, 7);
	assert_int_equal(in.prefix_count, 6);
	assert_int_equal(in.segment, 0x36);

	/* REX directly before the opcode */
	in = decode_ok("48 01 c8", L64, AMD);
	assert_int_equal(in.rex, 0x48);
	assert_true(in.rex_w);
	assert_int_equal(in.operand_size, 8);
	in = decode_ok("4d 01 c8", L64, AMD);
	assert_true(in.rex_w && in.rex_r && in.rex_b);
	assert_false(in.rex_x);
	assert_int_equal(in.reg, 9);
	assert_int_equal(in.rm, 8);
	in = decode_ok("4a 8b 04 c8", L64, AMD);	/* mov rax, [rax+r9*8] */
	assert_true(in.rex_x);
	assert_true(in.has_sib);
	assert_int_equal(in.sib, 0xc8);

	/* a REX followed by a legacy prefix is ignored (SDM vol.2 2.2.1) */
	in = decode_ok("48 66 01 c8", L64, AMD);
	assert_int_equal(in.length, 4);
	assert_int_equal(in.rex, 0);
	assert_false(in.rex_w);
	assert_int_equal(in.operand_size, 2);
	assert_int_equal(in.prefix_count, 2);
	/* two REX: the last one counts */
	in = decode_ok("41 48 01 c8", L64, AMD);
	assert_int_equal(in.rex, 0x48);
	assert_false(in.rex_b);
	/* REX.W beats 66h */
	in = decode_ok("66 48 01 c8", L64, AMD);
	assert_int_equal(in.operand_size, 8);
	in = decode_ok("66 48 05 78 56 34 12", L64, AMD);	/* add rax, imm32 */
	assert_int_equal(in.length, 7);
	assert_int_equal(in.immediate_size, 4);
	in = decode_ok("66 05 34 12", L64, AMD);		/* add ax, imm16 */
	assert_int_equal(in.length, 4);
	assert_int_equal(in.immediate, 0x1234);

	/* 40-4F are INC/DEC outside 64-bit mode */
	expect("48", P32, 1, INSN_KIND_OTHER);
	expect("40", R16, 1, INSN_KIND_OTHER);
	expect("4f 90", P16, 1, INSN_KIND_OTHER);
	expect_error("48", L64, INSN_ERR_TRUNCATED);
	expect("40 90", L64, 2, INSN_KIND_OTHER);

	/* mandatory prefix selection */
	in = decode_ok("66 f2 0f 58 c1", L64, AMD);		/* addsd */
	assert_int_equal(in.mandatory_prefix, 0xf2);
	assert_true(in.repne);
	assert_true(in.operand_size_prefix);
	in = decode_ok("66 0f 58 c1", L64, AMD);		/* addpd */
	assert_int_equal(in.mandatory_prefix, 0x66);
	in = decode_ok("0f 58 c1", L64, AMD);
	assert_int_equal(in.mandatory_prefix, 0);

	/* prefixes in any order, repeated */
	expect("f3 f3 f3 f3 a4", P32, 5, INSN_KIND_OTHER);
	expect("66 67 2e f0 f2 66 01 00", P32, 8, INSN_KIND_OTHER);
	in = decode_ok("f0 66 67 2e 01 00", P32, AMD);
	assert_true(in.lock);
	assert_int_equal(in.address_size, 2);
	assert_int_equal(in.operand_size, 2);
}

static void test_modrm_addressing(void **state)
{
	(void)state;
	struct insn in;

	/* 32/64-bit: SIB, disp8, disp32, RIP-relative, base=5 with mod=0 */
	in = decode_ok("8b 44 24 f8", L64, AMD);		/* mov eax, [rsp-8] */
	assert_int_equal(in.length, 4);
	assert_true(in.has_sib);
	assert_int_equal(in.displacement_size, 1);
	assert_int_equal(in.displacement, -8);
	in = decode_ok("8b 05 78 56 34 12", L64, AMD);		/* [rip+0x12345678] */
	assert_int_equal(in.length, 6);
	assert_true(in.rip_relative);
	assert_int_equal(in.displacement, 0x12345678);
	in = decode_ok("8b 05 00 00 00 80", P32, AMD);		/* [0x80000000] */
	assert_false(in.rip_relative);
	assert_int_equal(in.displacement, (int64_t)INT32_MIN);
	in = decode_ok("67 8b 05 00 00 00 00", L64, AMD);	/* [eip+0] */
	assert_true(in.rip_relative);
	assert_int_equal(in.length, 7);
	in = decode_ok("41 8b 05 00 00 00 00", L64, AMD);	/* REX.B: still RIP */
	assert_true(in.rip_relative);
	assert_int_equal(in.length, 7);
	expect("8b 04 25 00 10 00 00", L64, 7, INSN_KIND_OTHER); /* [0x1000] */
	expect("8b 04 8d 00 10 00 00", L64, 7, INSN_KIND_OTHER); /* [rcx*4+0x1000] */
	expect("8b 04 0d 00 10 00 00", P32, 7, INSN_KIND_OTHER);
	expect("8b 44 25 00", L64, 4, INSN_KIND_OTHER);		/* [rbp+riz+0] */
	expect("8b 84 25 00 00 00 00", L64, 7, INSN_KIND_OTHER);
	expect("8b 45 00", L64, 3, INSN_KIND_OTHER);		/* [rbp+0] */
	expect("41 8b 45 00", L64, 4, INSN_KIND_OTHER);		/* [r13+0] */
	expect("41 8b 04 24", L64, 4, INSN_KIND_OTHER);		/* [r12] */
	expect("41 8b 04 25 00 00 00 00", L64, 8, INSN_KIND_OTHER); /* SIB base=5 even with REX.B */
	expect("8b 80 00 01 00 00", P32, 6, INSN_KIND_OTHER);
	expect("8b c0", P32, 2, INSN_KIND_OTHER);

	/* 16-bit: no SIB; mod=0 rm=6 is [disp16]; mod=1 disp8; mod=2 disp16 */
	in = decode_ok("8b 06 34 12", R16, AMD);
	assert_int_equal(in.length, 4);
	assert_int_equal(in.displacement_size, 2);
	assert_int_equal(in.displacement, 0x1234);
	assert_false(in.has_sib);
	expect("8b 04", R16, 2, INSN_KIND_OTHER);		/* [si]: rm=4 is no SIB */
	expect("8b 05", R16, 2, INSN_KIND_OTHER);		/* [di] */
	expect("8b 46 00", R16, 3, INSN_KIND_OTHER);		/* [bp+0] */
	expect("8b 86 00 80", R16, 4, INSN_KIND_OTHER);		/* [bp-0x8000] */
	expect("8b 04 00", P32, 3, INSN_KIND_OTHER);		/* rm=4 is SIB here */
	in = decode_ok("8b 86 00 80", P16, AMD);
	assert_int_equal(in.displacement, -0x8000);
	/* 67h switches the addressing form both ways */
	expect("67 8b 04 24", R16, 4, INSN_KIND_OTHER);		/* [esp] */
	expect("67 8b 06 34 12", P32, 5, INSN_KIND_OTHER);	/* [0x1234] */
	expect("67 8b 44 24", P32, 4, INSN_KIND_OTHER);		/* [si+0x24] */
}

static void test_immediate_rules(void **state)
{
	(void)state;
	struct insn in;

	/* F6/F7 Group 3: only /0 and /1 (TEST) carry an immediate */
	expect("f6 c0 01", L64, 3, INSN_KIND_OTHER);
	expect("f6 c8 01", L64, 3, INSN_KIND_OTHER);
	expect("f6 d0", L64, 2, INSN_KIND_OTHER);		/* not */
	expect("f6 38", L64, 2, INSN_KIND_OTHER);		/* idiv byte [rax] */
	expect("f7 c0 78 56 34 12", L64, 6, INSN_KIND_OTHER);
	expect("48 f7 c0 78 56 34 12", L64, 7, INSN_KIND_OTHER);
	expect("66 f7 c0 34 12", L64, 5, INSN_KIND_OTHER);
	expect("f7 c0 34 12", R16, 4, INSN_KIND_OTHER);
	expect("f7 d8", L64, 2, INSN_KIND_OTHER);		/* neg eax */
	expect("f7 05 00 00 00 00 78 56 34 12", L64, 10, INSN_KIND_OTHER);

	/* MOV r, imm: 64-bit only with REX.W (B8-BF) */
	in = decode_ok("48 b8 88 77 66 55 44 33 22 11", L64, AMD);
	assert_int_equal(in.length, 10);
	assert_int_equal(in.immediate_size, 8);
	assert_true(in.immediate == 0x1122334455667788ull);
	expect("b8 78 56 34 12", L64, 5, INSN_KIND_OTHER);
	expect("66 b8 34 12", L64, 4, INSN_KIND_OTHER);
	expect("b8 34 12", R16, 3, INSN_KIND_OTHER);
	expect("66 b8 78 56 34 12", R16, 6, INSN_KIND_OTHER);
	expect("48 c7 c0 78 56 34 12", L64, 7, INSN_KIND_OTHER);	/* C7: imm32 even with REX.W */

	/* A0-A3 moffs: the address size, 8 bytes in 64-bit mode */
	in = decode_ok("a1 88 77 66 55 44 33 22 11", L64, AMD);
	assert_int_equal(in.length, 9);
	assert_int_equal(in.displacement_size, 8);
	assert_true((uint64_t)in.displacement == 0x1122334455667788ull);
	expect("67 a1 78 56 34 12", L64, 6, INSN_KIND_OTHER);
	expect("a0 78 56 34 12", P32, 5, INSN_KIND_OTHER);
	expect("67 a2 34 12", P32, 4, INSN_KIND_OTHER);
	expect("a3 34 12", R16, 3, INSN_KIND_OTHER);
	expect("67 a3 78 56 34 12", R16, 6, INSN_KIND_OTHER);
	expect("66 a1 34 12", R16, 4, INSN_KIND_OTHER);		/* 66h: data, not offset */

	/* ENTER Iw, Ib; RET/RETF Iw */
	in = decode_ok("c8 10 00 03", L64, AMD);
	assert_int_equal(in.length, 4);
	assert_int_equal(in.immediate, 0x10);
	assert_int_equal(in.immediate2, 3);
	assert_int_equal(in.immediate2_size, 1);
	expect("66 c8 10 00 03", P32, 5, INSN_KIND_OTHER);
	expect("c2 08 00", L64, 3, INSN_KIND_OTHER);
	expect("66 c2 08 00", P32, 4, INSN_KIND_OTHER);
	expect("ca 08 00", R16, 3, INSN_KIND_OTHER);

	/* far CALL/JMP ptr16:16 / ptr16:32, invalid in 64-bit mode */
	in = decode_ok("9a 78 56 34 12 00 10", P32, AMD);
	assert_int_equal(in.length, 7);
	assert_int_equal(in.immediate, 0x12345678);
	assert_int_equal(in.immediate2, 0x1000);
	assert_int_equal(in.immediate2_size, 2);
	expect("66 9a 34 12 00 10", P32, 6, INSN_KIND_OTHER);
	expect("ea 34 12 00 10", R16, 5, INSN_KIND_OTHER);
	expect("66 ea 78 56 34 12 00 10", R16, 8, INSN_KIND_OTHER);

	/* PUSH imm */
	expect("68 78 56 34 12", L64, 5, INSN_KIND_OTHER);
	expect("66 68 34 12", L64, 4, INSN_KIND_OTHER);
	expect("68 34 12", R16, 3, INSN_KIND_OTHER);
	expect("6a 01", L64, 2, INSN_KIND_OTHER);
	assert_int_equal(decode_ok("68 78 56 34 12", L64, AMD).operand_size, 8);

	/* RTM: XBEGIN rel16/32 (C7 F8), XABORT imm8 (C6 F8) */
	expect("c7 f8 00 00 00 00", L64, 6, INSN_KIND_OTHER);
	expect("66 c7 f8 00 00", L64, 5, INSN_KIND_OTHER);
	expect("c6 f8 01", L64, 3, INSN_KIND_OTHER);

	/* 3DNow!: ModRM then the opcode suffix as an imm8 */
	in = decode_ok("0f 0f c1 b4", L64, AMD);
	assert_int_equal(in.length, 4);
	assert_int_equal(in.opcode_map, INSN_MAP_0F);
	assert_int_equal(in.opcode, 0x0f);
	assert_int_equal(in.immediate, 0xb4);
	expect("0f 0f 40 10 9e", L64, 5, INSN_KIND_OTHER);
	expect("0f 0f 06 34 12 9e", R16, 6, INSN_KIND_OTHER);

	/* SSE4a EXTRQ/INSERTQ (66/F2 0F 78) take two imm8; VMREAD none */
	in = decode_ok("66 0f 78 c0 01 02", L64, AMD);
	assert_int_equal(in.length, 6);
	assert_int_equal(in.immediate, 1);
	assert_int_equal(in.immediate2, 2);
	expect("f2 0f 78 c1 01 02", L64, 6, INSN_KIND_OTHER);
	expect("f2 66 0f 78 c1 01 02", L64, 7, INSN_KIND_OTHER);
	expect("66 0f 79 c1", L64, 4, INSN_KIND_OTHER);
	expect("f2 0f 79 c1", L64, 4, INSN_KIND_OTHER);
	expect_error("f3 0f 78 c0", L64, INSN_ERR_INVALID);
	expect_error("f3 0f 79 c0", L64, INSN_ERR_INVALID);

	/* 0F 3A always has an imm8, 0F 38 never */
	expect("66 0f 3a 0f c1 08", L64, 6, INSN_KIND_OTHER);
	expect("66 0f 3a 0f 44 24 08 08", L64, 8, INSN_KIND_OTHER);
	expect("66 0f 38 00 c1", L64, 5, INSN_KIND_OTHER);
	expect("0f 38 f0 06 34 12", R16, 6, INSN_KIND_OTHER);	/* movbe ax, [0x1234] */

	/* shift by imm8, group 8, SSE shifts and shuffles */
	expect("c1 e0 05", L64, 3, INSN_KIND_OTHER);
	expect("0f ba e0 05", L64, 4, INSN_KIND_OTHER);
	expect("66 0f 73 d8 04", L64, 5, INSN_KIND_OTHER);
	expect("66 0f 70 c1 1b", L64, 5, INSN_KIND_OTHER);
	expect("0f c2 c1 01", L64, 4, INSN_KIND_OTHER);
	expect("0f a4 c3 04", L64, 4, INSN_KIND_OTHER);
}

static void test_near_branches_by_vendor(void **state)
{
	(void)state;
	struct insn in;
	/* 64-bit mode: Intel ignores 66h on near branches, AMD makes them rel16 */
	expect_full("66 e8 00 00 00 00", L64, INTEL, 6, INSN_KIND_OTHER);
	expect_full("66 e8 00 00", L64, AMD, 4, INSN_KIND_OTHER);
	expect_full("66 e9 00 00 00 00", L64, INTEL, 6, INSN_KIND_OTHER);
	expect_full("66 e9 00 00", L64, AMD, 4, INSN_KIND_OTHER);
	expect_full("66 0f 85 00 00 00 00", L64, INTEL, 7, INSN_KIND_OTHER);
	expect_full("66 0f 85 00 00", L64, AMD, 5, INSN_KIND_OTHER);
	in = decode_ok("66 e8 00 00", L64, AMD);
	assert_int_equal(in.operand_size, 2);
	in = decode_ok("66 e8 00 00 00 00", L64, INTEL);
	assert_int_equal(in.operand_size, 8);
	/* REX.W wins over 66h on both */
	expect("66 48 e8 00 00 00 00", L64, 7, INSN_KIND_OTHER);
	/* rel8 branches and outside 64-bit mode: no difference */
	expect("66 eb 00", L64, 3, INSN_KIND_OTHER);
	expect("66 74 00", L64, 3, INSN_KIND_OTHER);
	expect("e8 00 00 00 00", L64, 5, INSN_KIND_OTHER);
	expect("66 e8 00 00", P32, 4, INSN_KIND_OTHER);
	expect("e8 00 00", R16, 3, INSN_KIND_OTHER);
	expect("66 e8 00 00 00 00", R16, 6, INSN_KIND_OTHER);
	expect("0f 84 00 00", P16, 4, INSN_KIND_OTHER);
	assert_int_equal(decode_ok("e8 00 00 00 00", L64, AMD).operand_size, 8);
	assert_int_equal(decode_ok("ff d0", L64, AMD).operand_size, 8);	/* call rax */
	assert_int_equal(decode_ok("ff 30", L64, AMD).operand_size, 8);	/* push [rax] */
}

static void test_invalid_in_64bit_mode(void **state)
{
	(void)state;
	/* SDM vol.2 Table A-2 "i64"; C4/C5/62 are VEX/EVEX escapes instead */
	static const struct {
		const char *hex;
		int length_outside_64;
	} cases[] = {
		{ "06", 1 }, { "07", 1 }, { "0e", 1 }, { "16", 1 }, { "17", 1 }, { "1e", 1 },
		{ "1f", 1 }, { "27", 1 }, { "2f", 1 }, { "37", 1 }, { "3f", 1 }, { "60", 1 },
		{ "61", 1 }, { "82 c0 01", 3 }, { "9a 00 00 00 00 00 00", 7 }, { "ce", 1 },
		{ "d4 0a", 2 }, { "d5 0a", 2 }, { "d6", 1 }, { "ea 00 00 00 00 00 00", 7 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_error(cases[i].hex, L64, INSN_ERR_INVALID);
		struct insn in = decode_ok(cases[i].hex, P32, INTEL);
		assert_int_equal(in.length, cases[i].length_outside_64);
	}
	expect("82 c0 01", R16, 3, INSN_KIND_OTHER);
	expect("9a 00 00 00 00", R16, 5, INSN_KIND_OTHER);
	/* still invalid behind prefixes */
	expect_error("66 2e 06", L64, INSN_ERR_INVALID);
	expect_error("48 60", L64, INSN_ERR_INVALID);
	/* LES/LDS/BOUND outside 64-bit mode (memory ModRM) */
	expect("c4 06", P32, 2, INSN_KIND_OTHER);		/* les eax, [esi] */
	expect("c4 1e 34 12", R16, 4, INSN_KIND_OTHER);		/* les bx, [0x1234] */
	expect("c5 45 08", P32, 3, INSN_KIND_OTHER);		/* lds eax, [ebp+8] */
	expect("62 00", P32, 2, INSN_KIND_OTHER);		/* bound eax, [eax] */
	expect("62 06 34 12", R16, 4, INSN_KIND_OTHER);
	/* 63: ARPL outside 64-bit mode, MOVSXD in it: ModRM either way */
	expect("63 c0", P32, 2, INSN_KIND_OTHER);
	expect("48 63 c1", L64, 3, INSN_KIND_OTHER);
}

static void test_undefined_opcodes(void **state)
{
	(void)state;
	static const char *const undefined[] = {
		"0f 04", "0f 0a", "0f 0c", "0f 24 c0", "0f 25 c0", "0f 26 c0", "0f 27 c0",
		"0f 36", "0f 39", "0f 3b", "0f 3c", "0f 3d", "0f 3e", "0f 3f", "0f 7a c0",
		"0f 7b c0", "0f a6 c0", "0f a7 c0", "0f b8 c0" /* JMPE */, "f2 0f b8 c0",
		"8f 20" /* POP /4; /1-/3 and /5-/7 read as XOP map 8-31 */, "8f e0",
	};
	for (enum insn_mode m = R16; m <= L64; m++)
		for (size_t i = 0; i < sizeof(undefined) / sizeof(undefined[0]); i++)
			expect_error(undefined[i], m, INSN_ERR_INVALID);
	expect("f3 0f b8 c0", L64, 4, INSN_KIND_OTHER);		/* popcnt */
	expect("0f ff 00", L64, 3, INSN_KIND_OTHER);		/* ud0 with ModRM */
	expect("0f b9 00", L64, 3, INSN_KIND_OTHER);		/* ud1 */
	expect("8f 00", L64, 2, INSN_KIND_OTHER);		/* pop [rax] */
	expect("8f c0", P32, 2, INSN_KIND_OTHER);		/* pop eax */
	expect("8f 06 34 12", R16, 4, INSN_KIND_OTHER);		/* pop [0x1234] */
	/* D6 (SALC) is undocumented but executes outside 64-bit mode */
	expect("d6", R16, 1, INSN_KIND_OTHER);
}

static void test_vex_evex_xop(void **state)
{
	(void)state;
	struct insn in;

	/* VEX2 (C5) */
	in = decode_ok("c5 fc 58 c2", L64, AMD);		/* vaddps ymm0, ymm0, ymm2 */
	assert_int_equal(in.length, 4);
	assert_int_equal(in.encoding, INSN_ENC_VEX);
	assert_int_equal(in.opcode_map, INSN_MAP_0F);
	assert_int_equal(in.opcode, 0x58);
	assert_int_equal(in.mandatory_prefix, 0);
	assert_int_equal(in.kind, INSN_KIND_OTHER);
	in = decode_ok("c5 7d 58 04 24", L64, AMD);		/* vaddpd ymm8, ymm0, [rsp] */
	assert_int_equal(in.length, 5);
	assert_true(in.rex_r);
	assert_int_equal(in.reg, 8);
	assert_int_equal(in.mandatory_prefix, 0x66);
	in = decode_ok("c5 f8 77", L64, AMD);			/* vzeroupper: no ModRM */
	assert_int_equal(in.length, 3);
	assert_false(in.has_modrm);
	expect("c5 fc 77", P32, 3, INSN_KIND_OTHER);		/* vzeroall */
	expect("c5 f9 70 c1 1b", L64, 5, INSN_KIND_OTHER);	/* vpshufd imm8 */
	expect("c5 f9 c5 c0 01", L64, 5, INSN_KIND_OTHER);	/* vpextrw imm8 */
	expect("c5 f8 ae 10", L64, 4, INSN_KIND_OTHER);		/* vldmxcsr [rax] */
	/* VEX3 (C4): maps 0F, 0F38, 0F3A */
	in = decode_ok("c4 e3 fd 00 c1 1b", L64, AMD);		/* vpermq ymm0, ymm1, 0x1b */
	assert_int_equal(in.length, 6);
	assert_int_equal(in.opcode_map, INSN_MAP_0F3A);
	assert_true(in.rex_w);
	assert_int_equal(in.immediate, 0x1b);
	expect("c4 e2 7d 00 c2", L64, 5, INSN_KIND_OTHER);	/* vpshufb */
	expect("c4 e1 7c 77", L64, 4, INSN_KIND_OTHER);		/* VEX3 vzeroall */
	expect("c4 c1 78 58 04 24", L64, 6, INSN_KIND_OTHER);	/* [r12] */
	in = decode_ok("c4 42 f0 f2 c2", L64, AMD);		/* andn r8, rcx, r10 */
	assert_true(in.rex_r && in.rex_b && in.rex_w);
	assert_false(in.rex_x);
	expect("c4 e2 79 18 05 00 00 00 00", L64, 9, INSN_KIND_OTHER); /* rip-relative */
	expect("c4 e2 79 18 06 34 12", P16, 7, INSN_KIND_OTHER);	/* [0x1234] */
	expect("67 c4 e2 79 18 06 34 12", P32, 8, INSN_KIND_OTHER);
	/* VEX outside 64-bit mode needs ModRM.mod=11 in the payload's place */
	expect("c5 f8 58 c0", P32, 4, INSN_KIND_OTHER);
	assert_int_equal(decode_ok("c5 f8 58 c0", P32, AMD).encoding, INSN_ENC_VEX);
	assert_int_equal(decode_ok("c5 38 58", P32, AMD).encoding, INSN_ENC_LEGACY); /* lds */
	/* reserved or newer maps */
	expect_error("c4 e0 78 58 c0", L64, INSN_ERR_UNSUPPORTED);	/* map 0 */
	expect_error("c4 e4 78 58 c0", L64, INSN_ERR_UNSUPPORTED);	/* map 4 */
	expect_error("c4 e7 78 f8 c0 00 00 00 00", L64, INSN_ERR_UNSUPPORTED); /* map 7 */
	/* #UD after 66/F2/F3/F0/REX, fine after segment and 67 */
	expect_error("66 c5 f8 58 c0", L64, INSN_ERR_INVALID);
	expect_error("f3 c5 f8 58 c0", L64, INSN_ERR_INVALID);
	expect_error("f2 c4 e1 78 58 c0", L64, INSN_ERR_INVALID);
	expect_error("f0 c5 f8 58 c0", L64, INSN_ERR_INVALID);
	expect_error("48 c5 f8 58 c0", L64, INSN_ERR_INVALID);
	expect_error("40 62 f1 7c 48 58 c1", L64, INSN_ERR_INVALID);
	expect("2e c5 f8 58 00", L64, 5, INSN_KIND_OTHER);
	expect("67 c5 f8 58 00", L64, 5, INSN_KIND_OTHER);
	/* real mode has no VEX: the register forms of LES/LDS do not exist */
	expect_error("c5 f8 58 c0", R16, INSN_ERR_INVALID);
	expect_error("c4 e1 78 58 c0", R16, INSN_ERR_INVALID);
	expect("c5 f8 58 c0", P16, 4, INSN_KIND_OTHER);

	/* EVEX */
	in = decode_ok("62 f1 7c 48 58 c1", L64, AMD);		/* vaddps zmm0, zmm0, zmm1 */
	assert_int_equal(in.length, 6);
	assert_int_equal(in.encoding, INSN_ENC_EVEX);
	assert_int_equal(in.opcode_map, INSN_MAP_0F);
	expect("62 f1 7c 48 58 40 01", L64, 7, INSN_KIND_OTHER);	/* disp8*N */
	expect("62 f1 7c 48 58 80 00 01 00 00", L64, 10, INSN_KIND_OTHER);
	expect("62 f3 75 48 25 c2 ff", L64, 7, INSN_KIND_OTHER);	/* vpternlogd */
	expect("62 f1 7d 48 72 d1 03", L64, 7, INSN_KIND_OTHER);	/* vpsrld imm8 */
	expect("62 f2 75 48 7e c2", L64, 6, INSN_KIND_OTHER);		/* vpermt2d */
	in = decode_ok("62 f5 74 48 58 c2", L64, AMD);			/* vaddph: map 5 */
	assert_int_equal(in.opcode_map, INSN_MAP_EVEX5);
	assert_int_equal(in.length, 6);
	in = decode_ok("62 f6 75 48 98 c2", L64, AMD);			/* vfmadd132ph: map 6 */
	assert_int_equal(in.opcode_map, INSN_MAP_EVEX6);
	expect("62 f1 7c 48 58 c1", P32, 6, INSN_KIND_OTHER);
	expect("62 f1 7c 48 58 c1", P16, 6, INSN_KIND_OTHER);
	expect_error("62 f1 7c 48 58 c1", R16, INSN_ERR_INVALID);
	expect_error("62 f4 7c 48 58 c1", L64, INSN_ERR_UNSUPPORTED);	/* map 4 (APX) */
	expect_error("62 f7 7c 48 58 c1", L64, INSN_ERR_UNSUPPORTED);	/* map 7 */
	expect_error("62 f0 7c 48 58 c1", L64, INSN_ERR_UNSUPPORTED);	/* map 0 */
	expect_error("62 00 00 00 00 00", L64, INSN_ERR_UNSUPPORTED);	/* no BOUND in 64 */

	/* XOP (8F with map_select >= 8) */
	in = decode_ok("8f e8 78 a2 c1 30", L64, AMD);		/* vpcmov: map 8, imm8 */
	assert_int_equal(in.length, 6);
	assert_int_equal(in.encoding, INSN_ENC_XOP);
	assert_int_equal(in.opcode_map, INSN_MAP_XOP8);
	in = decode_ok("8f e9 78 80 c1", L64, AMD);		/* vfrczps: map 9 */
	assert_int_equal(in.length, 5);
	assert_int_equal(in.opcode_map, INSN_MAP_XOP9);
	in = decode_ok("8f ea 78 10 c3 34 12 00 00", L64, AMD);	/* bextr: map A, imm32 */
	assert_int_equal(in.length, 9);
	assert_int_equal(in.immediate, 0x1234);
	assert_int_equal(in.opcode_map, INSN_MAP_XOPA);
	expect("8f e8 78 a2 c1 30", P32, 6, INSN_KIND_OTHER);
	expect("8f e8 78 a2 c1 30", P16, 6, INSN_KIND_OTHER);
	expect_error("8f e8 78 a2 c1 30", R16, INSN_ERR_INVALID);
	expect_error("8f eb 78 10 c3", L64, INSN_ERR_UNSUPPORTED);	/* map B */
	expect_error("66 8f e8 78 a2 c1 30", L64, INSN_ERR_INVALID);
}

/* ---- errors: truncated, too long ---- */

static void test_truncated(void **state)
{
	(void)state;
	static const char *const partial[] = {
		"", "66", "f3", "0f", "0f 01", "0f 38", "0f 3a 0f c1", "c4", "c4 e1 78",
		"c5 f8", "62 f1 7c 48", "8f e8 78 a2 c1", "8b", "8b 04", "8b 80 00 00",
		"8b 05 00 00 00", "e8 00", "b8 00 00", "48 b8 00 00 00 00 00 00 00",
		"c8 00 00", "0f 0f c1", "a1 00 00 00 00 00 00 00", "66 0f 78 c0 01",
	};
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++)
		expect_error(partial[i], L64, INSN_ERR_TRUNCATED);
	expect_error("8b 06 34", R16, INSN_ERR_TRUNCATED);
	expect_error("9a 00 00 00 00 00", P32, INSN_ERR_TRUNCATED);
	expect_error("c5", P32, INSN_ERR_TRUNCATED);
	expect_error("8f", P32, INSN_ERR_TRUNCATED);

	struct insn in;
	uint8_t cpuid[] = { 0x0f, 0xa2 };
	assert_int_equal(insn_decode(cpuid, 1, L64, AMD, &in), INSN_ERR_TRUNCATED);
	assert_int_equal(insn_decode(cpuid, 0, L64, AMD, &in), INSN_ERR_TRUNCATED);
	assert_int_equal(insn_decode(NULL, 0, L64, AMD, &in), INSN_ERR_TRUNCATED);
}

static void test_too_long(void **state)
{
	(void)state;
	uint8_t buf[32];
	struct insn in;

	/* 14 prefixes + NOP = 15 bytes: fine; 15 prefixes + NOP: #GP */
	memset(buf, 0x66, sizeof(buf));
	buf[14] = 0x90;
	assert_int_equal(insn_decode(buf, sizeof(buf), L64, AMD, &in), 0);
	assert_int_equal(in.length, 15);
	buf[14] = 0x66;
	buf[15] = 0x90;
	for (enum insn_mode m = R16; m <= L64; m++)
		assert_int_equal(insn_decode(buf, sizeof(buf), m, AMD, &in), INSN_ERR_TOO_LONG);
	/* 16 prefixes, nothing else */
	memset(buf, 0x2e, 16);
	assert_int_equal(insn_decode(buf, 16, P32, AMD, &in), INSN_ERR_TOO_LONG);
	/* only 15 bytes are ever looked at: the 16th need not be there */
	assert_int_equal(insn_decode(buf, 15, P32, AMD, &in), INSN_ERR_TOO_LONG);
	/* 10 prefixes + mov eax, imm32 = 15: fine; 11 prefixes: too long */
	memset(buf, 0x2e, 10);
	memcpy(buf + 10, "\xb8\x78\x56\x34\x12", 5);
	assert_int_equal(insn_decode(buf, 15, P32, AMD, &in), 0);
	assert_int_equal(in.length, 15);
	memset(buf, 0x2e, 11);
	memcpy(buf + 11, "\xb8\x78\x56\x34\x12", 5);
	assert_int_equal(insn_decode(buf, 16, P32, AMD, &in), INSN_ERR_TOO_LONG);
	/* too long wins over truncated: more bytes would not help */
	assert_int_equal(insn_decode(buf, 12, P32, AMD, &in), INSN_ERR_TOO_LONG);
	/* but not before the length is known */
	assert_int_equal(insn_decode(buf, 11, P32, AMD, &in), INSN_ERR_TRUNCATED);
	/* a long but legal encoding */
	expect("66 67 f0 48 81 84 88 78 56 34 12 78 56 34 12", L64, 15, INSN_KIND_OTHER);
	expect_error("26 66 67 f0 48 81 84 88 78 56 34 12 78 56 34 12", L64, INSN_ERR_TOO_LONG);
	expect_error("66 67 f0 48 81 84 88 78 56 34 12 78 56 34", L64, INSN_ERR_TRUNCATED);
	/* REX counts towards the limit */
	memset(buf, 0x48, 15);
	buf[15] = 0x90;
	assert_int_equal(insn_decode(buf, 16, L64, AMD, &in), INSN_ERR_TOO_LONG);
}

/* ---- properties over random bytes ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint8_t random_byte(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint8_t)((rng_state * 0x2545f4914f6cdd1dull) >> 56);
}

static void test_random_bytes_are_consistent(void **state)
{
	(void)state;
	/* Bias towards prefixes and escapes so that the interesting paths run. */
	static const uint8_t interesting[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x48, 0x41,
					       0x0f, 0x0f, 0x38, 0x3a, 0xc4, 0xc5, 0x62, 0x8f };
	int decoded = 0;
	for (int round = 0; round < 200000; round++) {
		uint8_t buf[INSN_MAX_LENGTH];
		for (size_t i = 0; i < sizeof(buf); i++) {
			uint8_t r = random_byte();
			buf[i] = (r & 0x80) && (r & 0x40) ? interesting[r & 0xf] : random_byte();
		}
		enum insn_mode mode = (enum insn_mode)(round & 3);
		enum insn_vendor vendor = (round & 4) ? AMD : INTEL;
		struct insn in, again;
		int ret = insn_decode(buf, sizeof(buf), mode, vendor, &in);
		if (ret != 0) {
			assert_true(ret == INSN_ERR_TOO_LONG || ret == INSN_ERR_INVALID ||
				    ret == INSN_ERR_UNSUPPORTED);
			continue;
		}
		decoded++;
		assert_in_range(in.length, 1, INSN_MAX_LENGTH);
		assert_in_range(in.kind, INSN_KIND_OTHER, INSN_KIND_COUNT - 1);
		assert_true(in.displacement_size + in.immediate_size + in.immediate2_size <
			    in.length);
		/* the bytes after the instruction do not matter */
		assert_int_equal(insn_decode(buf, in.length, mode, vendor, &again), 0);
		assert_int_equal(again.length, in.length);
		assert_int_equal(again.kind, in.kind);
		assert_int_equal(insn_decode(buf, in.length - 1u, mode, vendor, &again),
				 INSN_ERR_TRUNCATED);
	}
	print_message("# %d of 200000 random sequences decoded\n", decoded);
	assert_true(decoded > 100000);
}

/* ---- helpers ---- */

static void test_mode_of_and_names(void **state)
{
	(void)state;
	/* cr0_pe, rflags_vm, efer_lma, cs_l, cs_d */
	assert_int_equal(insn_mode_of(false, false, false, false, false), R16);
	assert_int_equal(insn_mode_of(false, false, false, false, true), R16);
	assert_int_equal(insn_mode_of(true, true, false, false, true), R16);	/* virtual-8086 */
	assert_int_equal(insn_mode_of(true, false, false, false, false), P16);
	assert_int_equal(insn_mode_of(true, false, false, false, true), P32);
	assert_int_equal(insn_mode_of(true, false, true, false, true), P32);	/* compatibility */
	assert_int_equal(insn_mode_of(true, false, true, false, false), P16);
	assert_int_equal(insn_mode_of(true, false, true, true, false), L64);
	assert_int_equal(insn_mode_of(true, false, false, true, true), P32);	/* L without LMA */

	for (int k = 0; k < INSN_KIND_COUNT; k++) {
		const char *name = insn_kind_name((enum insn_kind)k);
		assert_string_not_equal(name, "?");
		for (int j = 0; j < k; j++)
			assert_string_not_equal(name, insn_kind_name((enum insn_kind)j));
	}
	assert_string_equal(insn_kind_name(INSN_KIND_VMRUN), "VMRUN");
	assert_string_equal(insn_kind_name(INSN_KIND_COUNT), "?");
	assert_string_equal(insn_error_name(0), "ok");
	assert_string_equal(insn_error_name(INSN_ERR_TRUNCATED), "truncated");
	assert_string_equal(insn_error_name(INSN_ERR_TOO_LONG), "too long");
	assert_string_equal(insn_error_name(INSN_ERR_INVALID), "invalid");
	assert_string_equal(insn_error_name(INSN_ERR_UNSUPPORTED), "unsupported");
	assert_string_equal(insn_error_name(-99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assembler_vectors),
		cmocka_unit_test(test_length_quick),
		cmocka_unit_test(test_vector_kinds),
		cmocka_unit_test(test_cpuid_tsc_msr_pmc),
		cmocka_unit_test(test_port_io),
		cmocka_unit_test(test_tlb_and_cache),
		cmocka_unit_test(test_monitor_mwait_xcr),
		cmocka_unit_test(test_svm_instructions),
		cmocka_unit_test(test_vmx_instructions),
		cmocka_unit_test(test_control_and_debug_registers),
		cmocka_unit_test(test_descriptor_tables),
		cmocka_unit_test(test_interrupts_and_flags),
		cmocka_unit_test(test_other_exits),
		cmocka_unit_test(test_prefix_rules),
		cmocka_unit_test(test_modrm_addressing),
		cmocka_unit_test(test_immediate_rules),
		cmocka_unit_test(test_near_branches_by_vendor),
		cmocka_unit_test(test_invalid_in_64bit_mode),
		cmocka_unit_test(test_undefined_opcodes),
		cmocka_unit_test(test_vex_evex_xop),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_random_bytes_are_consistent),
		cmocka_unit_test(test_mode_of_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
