/* io/...: IN and OUT of each size with an immediate port and with DX, string and REP
 * string I/O, and the I/O bitmap itself. The exit must describe the instruction
 * exactly: SVM IOIO EXITINFO1 (port, size, direction, string, REP, address size) and
 * EXITINFO2 (the next RIP), APM vol.2 15.10.2; VMX exit qualification (size, direction,
 * string, REP, operand encoding, port), instruction length, and for INS/OUTS the
 * instruction information and guest-linear address, SDM vol.3C 28.2.1 Table 28-5. */
#include "lib/mhv.h"
#include "lib/svm.h"
#include "lib/vmx.h"

#define IMM_PORT 0xe0
#define DX_PORT  0x3456

uint8_t io_probe_buffer[64] __attribute__((aligned(64)));

/* mov $DX_PORT, %edx is 5 bytes; lea io_probe_buffer(%rip), %rsi/%rdi 7; mov $4, %ecx 5. */
#define SET_DX "mov $0x3456, %edx\n\t"
MHV_L2_ASM(l2_in_imm_b, "in $0xe0, %al");
MHV_L2_ASM(l2_in_imm_w, "in $0xe0, %ax");
MHV_L2_ASM(l2_in_imm_l, "in $0xe0, %eax");
MHV_L2_ASM(l2_out_imm_b, "out %al, $0xe0");
MHV_L2_ASM(l2_out_imm_w, "out %ax, $0xe0");
MHV_L2_ASM(l2_out_imm_l, "out %eax, $0xe0");
MHV_L2_ASM(l2_in_dx_b, SET_DX "in (%dx), %al");
MHV_L2_ASM(l2_in_dx_w, SET_DX "in (%dx), %ax");
MHV_L2_ASM(l2_in_dx_l, SET_DX "in (%dx), %eax");
MHV_L2_ASM(l2_out_dx_b, SET_DX "out %al, (%dx)");
MHV_L2_ASM(l2_out_dx_w, SET_DX "out %ax, (%dx)");
MHV_L2_ASM(l2_out_dx_l, SET_DX "out %eax, (%dx)");
MHV_L2_ASM(l2_outsb, SET_DX "lea io_probe_buffer(%rip), %rsi\n\toutsb");
MHV_L2_ASM(l2_insw, SET_DX "lea io_probe_buffer(%rip), %rdi\n\tinsw");
MHV_L2_ASM(l2_rep_outsl, SET_DX "lea io_probe_buffer(%rip), %rsi\n\tmov $4, %ecx\n\trep outsl");
MHV_L2_ASM(l2_rep_insb, SET_DX "lea io_probe_buffer(%rip), %rdi\n\tmov $4, %ecx\n\trep insb");

struct io_case {
	void (*code)(void *);
	unsigned offset, len;
	uint16_t port;
	uint8_t size;
	bool in, imm, string, rep;
};

static const struct io_case cases[] = {
	{ l2_in_imm_b, 0, 2, IMM_PORT, 1, true, true, false, false },
	{ l2_in_imm_w, 0, 3, IMM_PORT, 2, true, true, false, false },
	{ l2_in_imm_l, 0, 2, IMM_PORT, 4, true, true, false, false },
	{ l2_out_imm_b, 0, 2, IMM_PORT, 1, false, true, false, false },
	{ l2_out_imm_w, 0, 3, IMM_PORT, 2, false, true, false, false },
	{ l2_out_imm_l, 0, 2, IMM_PORT, 4, false, true, false, false },
	{ l2_in_dx_b, 5, 1, DX_PORT, 1, true, false, false, false },
	{ l2_in_dx_w, 5, 2, DX_PORT, 2, true, false, false, false },
	{ l2_in_dx_l, 5, 1, DX_PORT, 4, true, false, false, false },
	{ l2_out_dx_b, 5, 1, DX_PORT, 1, false, false, false, false },
	{ l2_out_dx_w, 5, 2, DX_PORT, 2, false, false, false, false },
	{ l2_out_dx_l, 5, 1, DX_PORT, 4, false, false, false, false },
	{ l2_outsb, 12, 1, DX_PORT, 1, false, false, true, false },
	{ l2_insw, 12, 2, DX_PORT, 2, true, false, true, false },
	{ l2_rep_outsl, 17, 2, DX_PORT, 4, false, false, true, true },
	{ l2_rep_insb, 17, 2, DX_PORT, 1, true, false, true, true },
};

static uint64_t svm_expected_info1(const struct io_case *c)
{
	uint64_t size = c->size == 1 ? SVM_IOIO_SZ8 : c->size == 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32;
	return ((uint64_t)c->port << SVM_IOIO_PORT_SHIFT) | size | SVM_IOIO_A64 |
	       (c->in ? SVM_IOIO_IN : 0) | (c->string ? SVM_IOIO_STRING : 0) |
	       (c->rep ? SVM_IOIO_REP : 0);
}

static uint64_t vmx_expected_qualification(const struct io_case *c)
{
	return (uint64_t)(c->size - 1) | (c->in ? VMX_IO_QUAL_IN : 0) |
	       (c->string ? VMX_IO_QUAL_STRING : 0) | (c->rep ? VMX_IO_QUAL_REP : 0) |
	       (c->imm ? VMX_IO_QUAL_IMM : 0) | ((uint64_t)c->port << VMX_IO_QUAL_PORT_SHIFT);
}

/* The address-size bits A16/A32/A64 (EXITINFO1[9:7]) are checked only by the probes
 * about them (io/address-size, io/string-address-size, mode/...), so that a platform
 * that gets them wrong fails those and not every I/O probe. */
#define SVM_IOIO_ASIZE_MASK (SVM_IOIO_A16 | SVM_IOIO_A32 | SVM_IOIO_A64)

static enum probe_status check_io_exit_asize(struct probe_run *run, const struct mhv_exit *e,
					     const struct io_case *c, bool check_asize)
{
	uint64_t rip = (uint64_t)c->code + c->offset;
	MHV_CHECK(mhv_expect_insn(run, e, MHV_EXIT_IO, rip, c->len));
	if (e->vendor == MHV_VENDOR_SVM) {
		/* SEG (bits 12:10) is only defined with DecodeAssists. */
		uint64_t info1 = e->exitinfo1;
		if (!mhv_has(MHV_FEATURE_DECODE_ASSISTS))
			info1 &= ~SVM_IOIO_SEG_MASK;
		else if (c->string)
			/* OUTS: DS by default; INS: always ES, 0 (APM vol.2 15.10.3) */
			EXPECT_EQ(run, c->in ? "SVM EXITINFO1 SEG (ES)" : "SVM EXITINFO1 SEG (DS)",
				  c->in ? 0 : 3,
				  (e->exitinfo1 & SVM_IOIO_SEG_MASK) >> SVM_IOIO_SEG_SHIFT);
		if (check_asize)
			EXPECT_EQ(run, "SVM EXITINFO1 (IOIO) address size (A64, bit 9)",
				  SVM_IOIO_A64, info1 & SVM_IOIO_ASIZE_MASK);
		EXPECT_EQ(run, "SVM EXITINFO1 (IOIO; address-size bits not compared)",
			  svm_expected_info1(c) & ~SVM_IOIO_ASIZE_MASK,
			  info1 & ~(SVM_IOIO_SEG_MASK | SVM_IOIO_ASIZE_MASK));
		EXPECT_EQ(run, "SVM EXITINFO2 (next RIP)", rip + c->len, e->exitinfo2);
	} else {
		EXPECT_EQ(run, "VMX exit qualification (I/O)", vmx_expected_qualification(c),
			  e->qualification);
		if (c->string) {
			EXPECT_EQ(run, "VMX guest-linear address (string operand)",
				  (uint64_t)io_probe_buffer, e->guest_linear);
			if (mhv_has(MHV_FEATURE_INSN_INFO)) {
				EXPECT_EQ(run, "VMX instruction information address size (64-bit)", 2,
					  (e->insn_info & VMX_INSN_INFO_ASIZE_MASK) >>
						  VMX_INSN_INFO_ASIZE_SHIFT);
				if (!c->in)
					EXPECT_EQ(run, "VMX instruction information segment (DS)", 3,
						  (e->insn_info & VMX_INSN_INFO_SEG_MASK) >>
							  VMX_INSN_INFO_SEG_SHIFT);
			}
		}
	}
	/* The neutral decoding agrees. */
	EXPECT_EQ(run, "decoded port", c->port, e->io.port);
	EXPECT_EQ(run, "decoded size", c->size, e->io.size);
	EXPECT_EQ(run, "decoded direction (in)", c->in, e->io.in);
	EXPECT_EQ(run, "decoded string", c->string, e->io.string);
	EXPECT_EQ(run, "decoded REP", c->rep, e->io.rep);
	return PROBE_PASS;
}

static enum probe_status check_io_exit(struct probe_run *run, const struct mhv_exit *e,
				       const struct io_case *c)
{
	return check_io_exit_asize(run, e, c, false);
}

static enum probe_status run_case(struct probe_run *run, const struct io_case *c)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_io(vm, c->port, true);
	mhv_l2_call(vm, c->code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("I/O", &e);
	MHV_CHECK(check_io_exit(run, &e, c));
	mhv_advance_rip(vm, c->len);
	return mhv_run_expect_done(run, vm);
}

#define IO_PROBE(fn, index, name)                                     \
	static enum probe_status fn(struct probe_run *run)            \
	{                                                             \
		return run_case(run, &cases[index]);                  \
	}                                                             \
	PROBE(name, fn)

IO_PROBE(in_imm8_byte, 0, "io/in-imm8-byte");
IO_PROBE(in_imm8_word, 1, "io/in-imm8-word");
IO_PROBE(in_imm8_dword, 2, "io/in-imm8-dword");
IO_PROBE(out_imm8_byte, 3, "io/out-imm8-byte");
IO_PROBE(out_imm8_word, 4, "io/out-imm8-word");
IO_PROBE(out_imm8_dword, 5, "io/out-imm8-dword");
IO_PROBE(in_dx_byte, 6, "io/in-dx-byte");
IO_PROBE(in_dx_word, 7, "io/in-dx-word");
IO_PROBE(in_dx_dword, 8, "io/in-dx-dword");
IO_PROBE(out_dx_byte, 9, "io/out-dx-byte");
IO_PROBE(out_dx_word, 10, "io/out-dx-word");
IO_PROBE(out_dx_dword, 11, "io/out-dx-dword");
IO_PROBE(outsb, 12, "io/outsb");
IO_PROBE(insw, 13, "io/insw");
IO_PROBE(rep_outsd, 14, "io/rep-outsd");
IO_PROBE(rep_insb, 15, "io/rep-insb");

/* io/bitmap-clear: with the bitmap in use, a port whose bit is clear does not exit. */
MHV_L2_ASM(l2_out_port80, "mov $0x80, %edx\n\tout %al, (%dx)");

static enum probe_status bitmap_clear(struct probe_run *run)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_io(vm, 0x81, true); /* a neighbour, not the port used */
	mhv_intercept_io(vm, 0x7f, true);
	mhv_l2_call(vm, l2_out_port80, NULL);
	return mhv_run_expect_done(run, vm);
}
PROBE("io/bitmap-clear", bitmap_clear);

/* io/bitmap-high-port: ports from 8000h use the second half of the bitmap (VMX I/O
 * bitmap B; SVM IOPM bits 8000h+); only the intercepted port exits. */
MHV_L2_ASM(l2_out_high, "mov $0xabcc, %edx\n\tout %al, (%dx)\n\t"
			"mov $0xabcd, %edx\n\tout %al, (%dx)");

static enum probe_status bitmap_high_port(struct probe_run *run)
{
	static const struct io_case c = { l2_out_high, 11, 1, 0xabcd, 1, false, false, false,
					  false };
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_io(vm, 0xabcd, true);
	mhv_l2_call(vm, c.code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("I/O", &e);
	MHV_CHECK(check_io_exit(run, &e, &c));
	mhv_advance_rip(vm, c.len);
	return mhv_run_expect_done(run, vm);
}
PROBE("io/bitmap-high-port", bitmap_high_port);

/* io/bitmap-straddle: a word access to port 7FFFh also touches 8000h: it exits when
 * only 8000h's bit is set (VMX: "any bit ... for a port it accesses", SDM vol.3C
 * 26.1.3; SVM: every byte's bit is checked, APM vol.2 15.10.1). */
MHV_L2_ASM(l2_out_straddle, "mov $0x7fff, %edx\n\tout %ax, (%dx)");

static enum probe_status bitmap_straddle(struct probe_run *run)
{
	static const struct io_case c = { l2_out_straddle, 5, 2, 0x7fff, 2, false, false, false,
					  false };
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_io(vm, 0x8000, true);
	mhv_l2_call(vm, c.code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("I/O", &e);
	MHV_CHECK(check_io_exit(run, &e, &c));
	mhv_advance_rip(vm, c.len);
	return mhv_run_expect_done(run, vm);
}
PROBE("io/bitmap-straddle", bitmap_straddle);

/* io/address-size, io/string-address-size: the address size of the instruction in
 * SVM's EXITINFO1 (one-hot A16/A32/A64, bits 9:7, APM vol.2 15.10.2 Figure 15-2) and in
 * VMX's instruction information for INS/OUTS (bits 9:7: 0 16-bit, 1 32-bit, 2 64-bit;
 * VMX reports none for IN/OUT). In 64-bit mode: A64 / 2. */
static enum probe_status address_size(struct probe_run *run, const struct io_case *c)
{
	struct mhv_vm *vm;
	MHV_START(run, vm, MHV_MODE_LONG, 0);
	mhv_intercept_io(vm, c->port, true);
	mhv_l2_call(vm, c->code, NULL);
	struct mhv_exit e;
	mhv_run(vm, &e);
	mhv_diag_exit("I/O", &e);
	MHV_CHECK(check_io_exit_asize(run, &e, c, true));
	if (e.vendor == MHV_VENDOR_VMX && !c->string)
		diag("VMX: no address size for IN/OUT (instruction information undefined)");
	return PROBE_PASS;
}

static enum probe_status io_address_size(struct probe_run *run)
{
	return address_size(run, &cases[9]); /* out %al, (%dx) */
}
PROBE("io/address-size", io_address_size);

static enum probe_status io_string_address_size(struct probe_run *run)
{
	return address_size(run, &cases[12]); /* outsb */
}
PROBE("io/string-address-size", io_string_address_size);
