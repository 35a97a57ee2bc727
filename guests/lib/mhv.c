/* The mini-hypervisor's vendor-neutral part: picks the half for this CPU, owns what
 * both halves share (L2's stack, IDT, nested page tables, scratch pages), and
 * compares exits with what the manuals prescribe. */
#include "lib/mhv.h"

#include "core/format.h"
#include "core/string.h"
#include "lib/cpu.h"
#include "lib/cpuid.h"
#include "lib/exception.h"
#include "lib/layout.h"
#include "lib/mhv_backend.h"
#include "lib/svm.h"
#include "lib/vmx.h"

uint8_t mhv_l2_stack[MHV_L2_STACK_SIZE] __attribute__((aligned(4096)));
struct mhv_idt_gate mhv_l2_idt[256] __attribute__((aligned(4096)));
struct tdp mhv_tdp;
bool mhv_l2_svm;
volatile struct mhv_l2_event mhv_l2_event;
volatile uint64_t mhv_l2_result;

static uint64_t tdp_pool[TDP_POOL_PAGES][512] __attribute__((aligned(4096)));
static uint8_t scratch[MHV_SCRATCH_PAGES][4096] __attribute__((aligned(4096)));
static struct mhv_vm the_vm;

/* The state of the extensions: tried once per boot. */
static const struct mhv_backend *backend;
static enum probe_status enable_status;
static bool enable_tried;
static char enable_reason[PROBE_REASON_MAX];

#define GATE_INTERRUPT_64 0x8eull /* present, DPL 0, 64-bit interrupt gate */

static void build_l2_idt(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t stub = mhv_l2_stub_table[v];
		mhv_l2_idt[v].low = (stub & 0xffff) | ((uint64_t)GDT_CODE64 << 16) |
				    (GATE_INTERRUPT_64 << 40) | (((stub >> 16) & 0xffff) << 48);
		mhv_l2_idt[v].high = stub >> 32;
	}
}

static const char *no_virtualization_reason(void)
{
	bool hv = cpu_hypervisor_present();
	switch (cpu_vendor()) {
	case CPU_VENDOR_AMD:
		return hv ? "SVM not offered to this guest: a hypervisor is present "
			    "(CPUID.1:ECX[31]) and CPUID.80000001h:ECX.SVM = 0"
			  : "SVM absent (CPUID.80000001h:ECX.SVM = 0)";
	case CPU_VENDOR_INTEL:
		return hv ? "VMX not offered to this guest: a hypervisor is present "
			    "(CPUID.1:ECX[31]) and CPUID.1:ECX.VMX = 0"
			  : "VMX absent (CPUID.1:ECX.VMX = 0)";
	default:
		return "neither an Intel CPU with VMX nor an AMD CPU with SVM";
	}
}

static enum probe_status enable_once(struct probe_run *run)
{
	if (!enable_tried) {
		enable_tried = true;
		struct probe_run scratch_run = { .name = run->name };
		if (cpu_vendor() == CPU_VENDOR_AMD && cpu_has_svm())
			backend = &mhv_svm_backend;
		else if (cpu_vendor() == CPU_VENDOR_INTEL && cpu_has_vmx())
			backend = &mhv_vmx_backend;
		/* No interrupts for L2 to stumble on: mask both PICs (L1 runs with
		 * interrupts off anyway). */
		outb(0x21, 0xff);
		outb(0xa1, 0xff);
		if (!backend) {
			enable_status = probe_skip(&scratch_run, "%s", no_virtualization_reason());
		} else {
			build_l2_idt();
			mhv_l2_svm = backend->vendor == MHV_VENDOR_SVM;
			enable_status = backend->enable(&scratch_run);
			if (enable_status != PROBE_PASS)
				backend = NULL;
		}
		strlcpy(enable_reason, scratch_run.reason, sizeof(enable_reason));
		if (enable_status == PROBE_PASS)
			diag("mini-hypervisor: %s enabled", mhv_vendor_name(mhv_vendor()));
	}
	if (enable_status != PROBE_PASS)
		strlcpy(run->reason, enable_reason, sizeof(run->reason));
	return enable_status;
}

enum probe_status mhv_prepare(struct probe_run *run)
{
	enum probe_status status = enable_once(run);
	if (status == PROBE_PASS)
		backend->release();
	return status;
}

enum probe_status mhv_enable_this_cpu(struct probe_run *run, struct mhv_cpu *cpu)
{
	if (!enable_tried)
		return probe_fail(run, "mhv_enable_this_cpu before mhv_prepare on the boot CPU");
	MHV_CHECK(enable_once(run));
	return backend->enable_cpu(run, cpu->region);
}

void mhv_disable_this_cpu(struct mhv_vm *vm)
{
	if (backend)
		backend->disable_cpu(vm);
}

enum mhv_vendor mhv_vendor(void)
{
	return backend ? backend->vendor : MHV_VENDOR_NONE;
}

const char *mhv_vendor_name(enum mhv_vendor vendor)
{
	switch (vendor) {
	case MHV_VENDOR_VMX: return "VMX";
	case MHV_VENDOR_SVM: return "SVM";
	default: return "none";
	}
}

bool mhv_has(enum mhv_feature feature)
{
	return backend && backend->has(feature);
}

static const char *feature_name(enum mhv_feature feature)
{
	bool svm = mhv_vendor() == MHV_VENDOR_SVM;
	switch (feature) {
	case MHV_FEATURE_TDP: return svm ? "nested paging (CPUID.8000000Ah:EDX.NP)" : "EPT";
	case MHV_FEATURE_NEXT_RIP: return "NRIPS (CPUID.8000000Ah:EDX[3])";
	case MHV_FEATURE_DECODE_ASSISTS: return "DecodeAssists (CPUID.8000000Ah:EDX[7])";
	case MHV_FEATURE_UNRESTRICTED:
		return svm ? "nested paging (unpaged L2 modes)" : "unrestricted guest with EPT";
	case MHV_FEATURE_RDTSCP:
		return svm ? "RDTSCP (CPUID.80000001h:EDX[27])" : "the enable-RDTSCP control";
	case MHV_FEATURE_XSAVE: return "XSAVE (CPUID.1:ECX[26])";
	case MHV_FEATURE_MONITOR: return "MONITOR/MWAIT (CPUID.1:ECX[3])";
	case MHV_FEATURE_INSN_INFO: return "INS/OUTS instruction information (IA32_VMX_BASIC[54])";
	case MHV_FEATURE_VGIF: return "vGIF (CPUID.8000000Ah:EDX[16])";
	case MHV_FEATURE_VMCB_CLEAN: return "VMCB clean bits (CPUID.8000000Ah:EDX[5])";
	}
	return "?";
}

enum probe_status mhv_require(struct probe_run *run, enum mhv_feature feature)
{
	if (mhv_has(feature))
		return PROBE_PASS;
	return probe_skip(run, "%s: %s absent", mhv_vendor_name(mhv_vendor()),
			  feature_name(feature));
}

enum probe_status mhv_require_vendor(struct probe_run *run, enum mhv_vendor vendor,
				     const char *why)
{
	if (mhv_vendor() == vendor)
		return PROBE_PASS;
	return probe_skip(run, "%s-only: %s", mhv_vendor_name(vendor), why);
}

void *mhv_scratch_page(unsigned n)
{
	return scratch[n % MHV_SCRATCH_PAGES];
}

enum probe_status mhv_start(struct probe_run *run, struct mhv_vm **out, enum mhv_mode mode,
			    unsigned options)
{
	*out = NULL;
	MHV_CHECK(enable_once(run));
	if (options & MHV_TDP)
		MHV_CHECK(mhv_require(run, MHV_FEATURE_TDP));
	if (mode != MHV_MODE_LONG) {
		MHV_CHECK(mhv_require(run, MHV_FEATURE_UNRESTRICTED));
		options |= MHV_TDP;
	}

	struct mhv_vm *vm = &the_vm;
	memset(vm, 0, sizeof(*vm));
	vm->vendor = backend->vendor;
	vm->mode = mode;
	vm->options = options;
	memset(scratch, 0, sizeof(scratch));
	memset((void *)&mhv_l2_event, 0, sizeof(mhv_l2_event));
	mhv_l2_result = 0;
	if ((options & MHV_TDP) && tdp_build_identity(&mhv_tdp, vm->vendor == MHV_VENDOR_SVM ?
						      TDP_NPT : TDP_EPT, &tdp_pool) < 0)
		return probe_fail(run, "building the nested page tables failed");
	vm->tlb_dirty = true;
	MHV_CHECK(backend->vm_init(run, vm));
	*out = vm;
	return PROBE_PASS;
}

void mhv_l2_call(struct mhv_vm *vm, void (*fn)(void *), void *arg)
{
	uint64_t *top = (uint64_t *)(mhv_l2_stack + MHV_L2_STACK_SIZE);
	top[-1] = (uint64_t)mhv_l2_return;
	mhv_set(vm, MHV_REG_RIP, (uint64_t)fn);
	mhv_set(vm, MHV_REG_RSP, (uint64_t)&top[-1]);
	mhv_set(vm, MHV_REG_RFLAGS, 2);
	vm->regs.rdi = (uint64_t)arg;
}

void mhv_l2_call_value(struct mhv_vm *vm, uint64_t (*fn)(void *), void *arg)
{
	mhv_l2_call(vm, (void (*)(void *))(uintptr_t)fn, arg);
}

void mhv_l2_enter(struct mhv_vm *vm, void (*code)(void *))
{
	backend->enter_at(vm, (uint64_t)code);
	uint64_t top = (uint64_t)(mhv_l2_stack + MHV_L2_STACK_SIZE);
	mhv_set(vm, MHV_REG_RSP, vm->mode == MHV_MODE_REAL ? 0xfff0 : top);
	mhv_set(vm, MHV_REG_RFLAGS, 2);
}

void mhv_set_tsc_offset(struct mhv_vm *vm, uint64_t offset)
{
	backend->tsc_offset(vm, offset);
}

void mhv_run(struct mhv_vm *vm, struct mhv_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	backend->run(vm, exit);
	vm->exits++;
	if (exit->kind == MHV_EXIT_HYPERCALL && exit->rax == MHV_HC_DONE)
		exit->kind = MHV_EXIT_DONE;
	else if (exit->kind == MHV_EXIT_HYPERCALL && exit->rax == MHV_HC_EVENT)
		exit->kind = MHV_EXIT_L2_EVENT;
}

void mhv_advance_rip(struct mhv_vm *vm, unsigned len)
{
	mhv_set(vm, MHV_REG_RIP, mhv_get(vm, MHV_REG_RIP) + len);
}

uint64_t mhv_get(struct mhv_vm *vm, enum mhv_reg reg)
{
	if (reg == MHV_REG_CR2 && vm->vendor == MHV_VENDOR_VMX)
		return vm->regs.cr2;
	return backend->get(vm, reg);
}

void mhv_set(struct mhv_vm *vm, enum mhv_reg reg, uint64_t value)
{
	if (reg == MHV_REG_CR2 && vm->vendor == MHV_VENDOR_VMX) {
		vm->regs.cr2 = value;
		return;
	}
	backend->set(vm, reg, value);
}

static const char *const intercept_names[MHV_INTERCEPT_COUNT] = {
	[MHV_INTERCEPT_CPUID] = "CPUID", [MHV_INTERCEPT_HLT] = "HLT",
	[MHV_INTERCEPT_INVLPG] = "INVLPG", [MHV_INTERCEPT_RDTSC] = "RDTSC",
	[MHV_INTERCEPT_RDTSCP] = "RDTSCP", [MHV_INTERCEPT_RDPMC] = "RDPMC",
	[MHV_INTERCEPT_PAUSE] = "PAUSE", [MHV_INTERCEPT_WBINVD] = "WBINVD",
	[MHV_INTERCEPT_INVD] = "INVD", [MHV_INTERCEPT_XSETBV] = "XSETBV",
	[MHV_INTERCEPT_MONITOR] = "MONITOR", [MHV_INTERCEPT_MWAIT] = "MWAIT",
	[MHV_INTERCEPT_HYPERCALL] = "hypercall", [MHV_INTERCEPT_IO] = "I/O",
	[MHV_INTERCEPT_MSR] = "MSR", [MHV_INTERCEPT_CR0_READ] = "CR0 read",
	[MHV_INTERCEPT_CR0_WRITE] = "CR0 write", [MHV_INTERCEPT_CR3_READ] = "CR3 read",
	[MHV_INTERCEPT_CR3_WRITE] = "CR3 write", [MHV_INTERCEPT_CR4_READ] = "CR4 read",
	[MHV_INTERCEPT_CR4_WRITE] = "CR4 write", [MHV_INTERCEPT_CR8_READ] = "CR8 read",
	[MHV_INTERCEPT_CR8_WRITE] = "CR8 write", [MHV_INTERCEPT_DR] = "MOV DR",
	[MHV_INTERCEPT_DESCRIPTOR] = "descriptor-table", [MHV_INTERCEPT_INTR] = "INTR",
	[MHV_INTERCEPT_NMI] = "NMI", [MHV_INTERCEPT_INTR_WINDOW] = "interrupt window",
	[MHV_INTERCEPT_SHUTDOWN] = "shutdown", [MHV_INTERCEPT_VM_INSN] = "VM instruction",
	[MHV_INTERCEPT_NMI_WINDOW] = "NMI window", [MHV_INTERCEPT_MTF] = "monitor trap",
};

enum probe_status mhv_intercept(struct probe_run *run, struct mhv_vm *vm,
				enum mhv_intercept what, bool on)
{
	const char *why = backend->intercept(vm, what, on);
	if (!why)
		return PROBE_PASS;
	return probe_skip(run, "%s: cannot turn the %s intercept %s: %s",
			  mhv_vendor_name(vm->vendor), intercept_names[what], on ? "on" : "off", why);
}

void mhv_intercept_exception(struct mhv_vm *vm, unsigned vector, bool on)
{
	backend->intercept_exception(vm, vector, on);
}

void mhv_intercept_io(struct mhv_vm *vm, uint16_t port, bool on)
{
	backend->intercept_io(vm, port, on);
}

bool mhv_intercept_msr(struct mhv_vm *vm, uint32_t msr, bool read, bool write)
{
	return backend->intercept_msr(vm, msr, read, write);
}

enum probe_status mhv_tdp_set(struct probe_run *run, struct mhv_vm *vm, uint64_t gpa,
			      unsigned rights)
{
	if (!(vm->options & MHV_TDP))
		return probe_fail(run, "mhv_tdp_set without MHV_TDP");
	if (tdp_set_page(&mhv_tdp, gpa, rights) < 0)
		return probe_fail(run, "cannot give gpa %#llx rights %#x in the nested tables",
				  (unsigned long long)gpa, rights);
	vm->tlb_dirty = true;
	return PROBE_PASS;
}

uint64_t *mhv_tdp_entry(struct mhv_vm *vm, uint64_t gpa)
{
	vm->tlb_dirty = true;
	return tdp_leaf_entry(&mhv_tdp, gpa);
}

void mhv_tdp_changed(struct mhv_vm *vm)
{
	vm->tlb_dirty = true;
}

void mhv_inject(struct mhv_vm *vm, enum mhv_event_type type, uint8_t vector, bool has_error,
		uint32_t error_code, unsigned insn_len)
{
	backend->inject(vm, type, vector, has_error, error_code, insn_len);
}

enum probe_status mhv_preemption_timer(struct probe_run *run, struct mhv_vm *vm, bool on,
				       uint32_t value, bool save, unsigned *rate_shift)
{
	if (!backend->preemption_timer)
		return probe_skip(run, "%s: no preemption timer: AMD-V has no control that exits "
				  "after a guest time slice (APM vol.2 table B-1)", mhv_vendor_name(vm->vendor));
	unsigned shift = 0;
	const char *why = backend->preemption_timer(vm, on, value, save, &shift);
	if (why)
		return probe_skip(run, "%s: no preemption timer: %s", mhv_vendor_name(vm->vendor), why);
	if (rate_shift)
		*rate_shift = shift;
	return PROBE_PASS;
}

uint32_t mhv_preemption_timer_value(struct mhv_vm *vm)
{
	return backend->preemption_timer_value ? backend->preemption_timer_value(vm) : 0;
}

/* Names and expectations. */

static const char *const kind_names[MHV_EXIT_KINDS] = {
	[MHV_EXIT_NONE] = "none", [MHV_EXIT_DONE] = "done", [MHV_EXIT_L2_EVENT] = "L2 event",
	[MHV_EXIT_CPUID] = "CPUID", [MHV_EXIT_HLT] = "HLT", [MHV_EXIT_INVLPG] = "INVLPG",
	[MHV_EXIT_RDTSC] = "RDTSC", [MHV_EXIT_RDTSCP] = "RDTSCP", [MHV_EXIT_RDPMC] = "RDPMC",
	[MHV_EXIT_PAUSE] = "PAUSE", [MHV_EXIT_WBINVD] = "WBINVD", [MHV_EXIT_INVD] = "INVD",
	[MHV_EXIT_XSETBV] = "XSETBV", [MHV_EXIT_MONITOR] = "MONITOR", [MHV_EXIT_MWAIT] = "MWAIT",
	[MHV_EXIT_HYPERCALL] = "hypercall", [MHV_EXIT_IO] = "I/O",
	[MHV_EXIT_MSR_READ] = "RDMSR", [MHV_EXIT_MSR_WRITE] = "WRMSR",
	[MHV_EXIT_CR_READ] = "CR read", [MHV_EXIT_CR_WRITE] = "CR write",
	[MHV_EXIT_DR_ACCESS] = "DR access", [MHV_EXIT_EXCEPTION] = "exception",
	[MHV_EXIT_NMI] = "NMI", [MHV_EXIT_INTR] = "INTR",
	[MHV_EXIT_INTR_WINDOW] = "interrupt window", [MHV_EXIT_NMI_WINDOW] = "NMI window",
	[MHV_EXIT_SHUTDOWN] = "shutdown", [MHV_EXIT_TDP_FAULT] = "nested page fault",
	[MHV_EXIT_TDP_MISCONFIG] = "EPT misconfiguration", [MHV_EXIT_VM_INSN] = "VM instruction",
	[MHV_EXIT_DESCRIPTOR] = "descriptor-table access", [MHV_EXIT_TASK_SWITCH] = "task switch",
	[MHV_EXIT_INVALID_STATE] = "invalid guest state", [MHV_EXIT_ENTRY_MSR] = "MSR loading",
	[MHV_EXIT_VMFAIL] = "VMfail", [MHV_EXIT_SOFT_INT] = "INTn", [MHV_EXIT_IRET] = "IRET",
	[MHV_EXIT_MTF] = "monitor trap flag", [MHV_EXIT_PREEMPTION_TIMER] = "preemption timer",
	[MHV_EXIT_OTHER] = "other",
};

const char *mhv_exit_kind_name(enum mhv_exit_kind kind)
{
	return kind < MHV_EXIT_KINDS && kind_names[kind] ? kind_names[kind] : "?";
}

void mhv_describe_exit(const struct mhv_exit *e, char *buf, unsigned size)
{
	if (e->vendor == MHV_VENDOR_SVM)
		format_buf(buf, size,
			   "%s: EXITCODE %#llx EXITINFO1 %#llx EXITINFO2 %#llx EXITINTINFO %#llx "
			   "next_rip %#llx rip %#llx",
			   mhv_exit_kind_name(e->kind), (unsigned long long)e->exitcode,
			   (unsigned long long)e->exitinfo1, (unsigned long long)e->exitinfo2,
			   (unsigned long long)e->exitintinfo, (unsigned long long)e->next_rip,
			   (unsigned long long)e->rip);
	else if (e->kind == MHV_EXIT_VMFAIL)
		format_buf(buf, size, "%s: VMLAUNCH/VMRESUME %s, VM-instruction error %u",
			   mhv_exit_kind_name(e->kind),
			   e->vmfail == VMX_FAIL_VALID ? "VMfailValid" : "VMfailInvalid",
			   e->vm_insn_error);
	else
		format_buf(buf, size,
			   "%s: reason %#x qualification %#llx intr-info %#x/%#x "
			   "idt-vectoring %#x/%#x len %u insn-info %#x gpa %#llx rip %#llx",
			   mhv_exit_kind_name(e->kind), e->reason,
			   (unsigned long long)e->qualification, e->intr_info, e->intr_error,
			   e->idt_vectoring_info, e->idt_vectoring_error, e->insn_len, e->insn_info,
			   (unsigned long long)e->guest_physical, (unsigned long long)e->rip);
}

void mhv_diag_exit(const char *what, const struct mhv_exit *e)
{
	char line[320];
	mhv_describe_exit(e, line, sizeof(line));
	diag("%s: %s", what, line);
}

static enum probe_status fail_kind(struct probe_run *run, const struct mhv_exit *e,
				   enum mhv_exit_kind kind)
{
	char observed[320];
	mhv_describe_exit(e, observed, sizeof(observed));
	if (e->kind == MHV_EXIT_DONE) {
		/* The hypercall at the end of L2's code: nothing exited before it. */
		format_buf(observed, sizeof(observed), "no exit (L2 ran to its end)");
	}
	if (e->vendor == MHV_VENDOR_SVM)
		return probe_fail(run, "expected %s exit (SVM EXITCODE %#llx), observed %s",
				  mhv_exit_kind_name(kind),
				  (unsigned long long)mhv_svm_exitcode_of(kind), observed);
	return probe_fail(run, "expected %s exit (VMX exit reason %#llx), observed %s",
			  mhv_exit_kind_name(kind), (unsigned long long)mhv_vmx_reason_of(kind),
			  observed);
}

void mhv_exit_asserted(enum mhv_vendor vendor, uint32_t code)
{
	tap_exit_asserted(vendor == MHV_VENDOR_SVM ? "svm" : "vmx", code);
}

/* Kinds that are one exit code on each vendor: an expectation of one names its code even
 * when another exit came. The others (CR/DR numbers, VMX instructions, descriptor tables,
 * MWAIT's two SVM codes) are named by the exit that came, when it is of that kind. */
static bool kind_has_one_code(enum mhv_exit_kind kind)
{
	switch (kind) {
	case MHV_EXIT_NONE:
	case MHV_EXIT_DONE:
	case MHV_EXIT_L2_EVENT:
	case MHV_EXIT_VMFAIL:
	case MHV_EXIT_OTHER:
	case MHV_EXIT_KINDS:
	case MHV_EXIT_CR_READ:
	case MHV_EXIT_CR_WRITE:
	case MHV_EXIT_DR_ACCESS:
	case MHV_EXIT_EXCEPTION:
	case MHV_EXIT_VM_INSN:
	case MHV_EXIT_DESCRIPTOR:
	case MHV_EXIT_MWAIT:
		return false;
	default:
		return true;
	}
}

/* The exit code an expectation of kind asserts: the one that came when it is of that kind
 * (its own number in a family), else the kind's one code. Not for DONE / L2_EVENT (the
 * mini-hypervisor's own hypercalls) nor a failed VMLAUNCH. */
static void note_expected(const struct mhv_exit *e, enum mhv_exit_kind kind)
{
	if (kind == MHV_EXIT_DONE || kind == MHV_EXIT_L2_EVENT || kind == MHV_EXIT_VMFAIL ||
	    kind == MHV_EXIT_OTHER || kind == MHV_EXIT_NONE)
		return;
	if (e->kind == kind) {
		if (e->vendor == MHV_VENDOR_SVM)
			mhv_exit_asserted(e->vendor, (uint32_t)e->exitcode);
		else
			mhv_exit_asserted(e->vendor, e->reason & VMX_EXIT_BASIC_MASK);
		return;
	}
	if (!kind_has_one_code(kind))
		return;
	int64_t code = e->vendor == MHV_VENDOR_SVM ? mhv_svm_exitcode_of(kind)
						   : mhv_vmx_reason_of(kind);
	if (code >= 0)
		mhv_exit_asserted(e->vendor, e->vendor == MHV_VENDOR_SVM
						     ? (uint32_t)code
						     : (uint32_t)code & VMX_EXIT_BASIC_MASK);
}

enum probe_status mhv_expect_kind(struct probe_run *run, const struct mhv_exit *e,
				  enum mhv_exit_kind kind)
{
	note_expected(e, kind);
	if (e->kind != kind)
		return fail_kind(run, e, kind);
	/* Native codes too, where the kind has exactly one. */
	if (e->vendor == MHV_VENDOR_SVM) {
		int64_t code = mhv_svm_exitcode_of(kind);
		if (kind == MHV_EXIT_INVALID_STATE) {
			if ((uint32_t)e->exitcode != (uint32_t)SVM_EXIT_INVALID)
				return fail_kind(run, e, kind);
		} else if (code >= 0 && kind != MHV_EXIT_VM_INSN && kind != MHV_EXIT_MWAIT &&
			   kind != MHV_EXIT_DESCRIPTOR && e->exitcode != (uint64_t)code) {
			return fail_kind(run, e, kind);
		}
	} else if (e->kind != MHV_EXIT_VMFAIL) {
		int64_t reason = mhv_vmx_reason_of(kind);
		if (reason >= 0 && kind != MHV_EXIT_VM_INSN && kind != MHV_EXIT_DESCRIPTOR &&
		    e->reason != (uint32_t)reason)
			return fail_kind(run, e, kind);
	}
	return PROBE_PASS;
}

enum probe_status mhv_expect_insn(struct probe_run *run, const struct mhv_exit *e,
				  enum mhv_exit_kind kind, uint64_t rip, unsigned len)
{
	MHV_CHECK(mhv_expect_kind(run, e, kind));
	if (rip)
		EXPECT_EQ(run, "L2 RIP at the exit", rip, e->rip);
	if (!len)
		return PROBE_PASS;
	if (e->vendor == MHV_VENDOR_SVM) {
		if (mhv_has(MHV_FEATURE_NEXT_RIP))
			EXPECT_EQ(run, "SVM next_rip (VMCB 0xc8)", e->rip + len, e->next_rip);
	} else {
		EXPECT_EQ(run, "VMX VM-exit instruction length", len, e->insn_len);
	}
	return PROBE_PASS;
}

enum probe_status mhv_expect_exception(struct probe_run *run, const struct mhv_exit *e,
				       unsigned vector, bool has_error, uint32_t error_code,
				       uint64_t rip)
{
	char observed[320];
	mhv_describe_exit(e, observed, sizeof(observed));
	mhv_exit_asserted(e->vendor, e->vendor == MHV_VENDOR_SVM
					     ? SVM_EXIT_EXCEPTION_BASE + vector
					     : VMX_EXIT_EXCEPTION_NMI);
	if (e->vendor == MHV_VENDOR_SVM) {
		uint64_t code = SVM_EXIT_EXCEPTION_BASE + vector;
		if (e->exitcode != code)
			return probe_fail(run, "expected SVM EXITCODE %#llx (exception %u), observed %s",
					  (unsigned long long)code, vector, observed);
		if (has_error)
			EXPECT_EQ(run, "SVM EXITINFO1 (error code)", error_code, e->exitinfo1);
	} else {
		unsigned type = (vector == 3 || vector == 4) ? VMX_INTR_TYPE_SOFT_EXCEPTION
							     : VMX_INTR_TYPE_HW_EXCEPTION;
		uint32_t info = VMX_INTR_VALID | (type << VMX_INTR_TYPE_SHIFT) | vector |
				(has_error ? VMX_INTR_ERROR_VALID : 0);
		if (e->reason != VMX_EXIT_EXCEPTION_NMI)
			return probe_fail(run, "expected VMX exit reason 0 (exception %u), observed %s",
					  vector, observed);
		/* Bit 12 (NMI unblocking due to IRET) is not the probe's business. */
		EXPECT_EQ(run, "VMX VM-exit interruption information", info,
			  e->intr_info & ~VMX_INTR_NMI_UNBLOCK);
		if (has_error)
			EXPECT_EQ(run, "VMX VM-exit interruption error code", error_code,
				  e->intr_error);
	}
	if (rip)
		EXPECT_EQ(run, "L2 RIP at the exit", rip, e->rip);
	return PROBE_PASS;
}

enum probe_status mhv_expect_done(struct probe_run *run, const struct mhv_exit *e)
{
	if (e->kind == MHV_EXIT_DONE)
		return PROBE_PASS;
	char observed[320];
	mhv_describe_exit(e, observed, sizeof(observed));
	if (e->kind == MHV_EXIT_L2_EVENT)
		return probe_fail(run, "expected L2 to finish, observed %s delivered inside L2 "
				  "(vector %llu, error code %#llx, rip %#llx)",
				  exception_mnemonic(mhv_l2_event.vector),
				  (unsigned long long)mhv_l2_event.vector,
				  (unsigned long long)mhv_l2_event.error_code,
				  (unsigned long long)mhv_l2_event.rip);
	return probe_fail(run, "expected L2 to finish (hypercall with RAX %#llx), observed %s",
			  MHV_HC_DONE, observed);
}

enum probe_status mhv_run_expect_done(struct probe_run *run, struct mhv_vm *vm)
{
	struct mhv_exit e;
	mhv_run(vm, &e);
	return mhv_expect_done(run, &e);
}

enum probe_status mhv_expect_no_vectoring(struct probe_run *run, const struct mhv_exit *e)
{
	if (e->vendor == MHV_VENDOR_SVM)
		EXPECT_EQ(run, "SVM EXITINTINFO", 0, e->exitintinfo & SVM_EVENT_VALID);
	else
		EXPECT_EQ(run, "VMX IDT-vectoring information valid bit", 0,
			  e->idt_vectoring_info & VMX_INTR_VALID);
	return PROBE_PASS;
}
