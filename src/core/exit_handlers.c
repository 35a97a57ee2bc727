/* The neutral exit handlers, written once for both vendors (ACRN-style table). */
#include "core/pcpu.h"
#include "core/bios_int15_hook.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/cpu_caps.h"
#include "core/cpuid_policy.h"
#include "core/cr0_write.h"
#include "core/fw_cfg.h"
#include "core/guest_mem.h"
#include "core/apic_emulation.h"
#include "core/apic_icr.h"
#include "core/guest_msr.h"
#include "core/hypercall_abi.h"
#include "core/marks.h"
#include "core/msr_safe.h"
#include "core/nested_ops.h"
#include "core/platform.h"
#include "core/run.h"
#include "core/smm_msr.h"
#include "core/smram_lock.h"
#include "core/string.h"
#include "core/x86.h"
#include "core/vmm.h"
#include "iommu/vamdvi_hw.h"

#define VM_CR_LOCK (1ull << 3)        /* APM vol.2 15.30.1 */
#define FEATURE_CONTROL_LOCKED 1ull   /* lock bit, VMX off: SDM vol.4 2.1 IA32_FEATURE_CONTROL */
#define EFER_ALLOWED_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | (1u << 13) | (1u << 14) | (1u << 15))

/* 16 bytes nestbed keeps in its own memory; the isolation probe looks for them in every
 * byte the guest can see. Filled at the first request, from the TSC. */

static void set_result32(struct vcpu *v, const struct cpuid_result *r)
{
	v->state.gpr.rax = r->eax;
	v->state.gpr.rbx = r->ebx;
	v->state.gpr.rcx = r->ecx;
	v->state.gpr.rdx = r->edx;
}

static void inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	struct event ev = { .type = EVENT_EXCEPTION, .vector = vector,
			    .has_error_code = has_error, .error_code = error };
	v->ops->inject(v, &ev);
}

static void handle_cpuid(struct vcpu *v, struct exit *e)
{
	uint32_t leaf = (uint32_t)v->state.gpr.rax, subleaf = (uint32_t)v->state.gpr.rcx;
	marks_cpuid(v, leaf, subleaf);
	struct cpuid_regs host = cpuid(leaf, subleaf);
	struct cpuid_result r = { host.eax, host.ebx, host.ecx, host.edx };
	cpuid_policy_apply(&machine.cpuid_policy, leaf, subleaf, v->state.cr4, &r);
	set_result32(v, &r);
	vcpu_skip_instruction(v, e);
}

/* Only the MSRs nestbed intercepts arrive here; anything else is passed through with
 * a #GP for the guest if the CPU refuses it. */
static void handle_msr_read(struct vcpu *v, struct exit *e)
{
	uint32_t msr = e->u.msr;
	uint64_t value;
	int smm_rc = smm_msr_read(msr, &value);
	if (smm_rc < 0) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	if (smm_rc == 0)
		goto done;
	int nested_rc = v->nested ? v->nested->msr_read(v, msr, &value) : 1;
	if (nested_rc < 0) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	if (nested_rc == 0)
		goto done;
	switch (msr) {
	case MSR_EFER:
		value = v->state.efer;
		break;
	case MSR_VM_CR:
		value = VM_CR_LOCK | VM_CR_SVMDIS; /* SVM is not offered (yet) */
		break;
	case MSR_VM_HSAVE_PA:
		value = 0;
		break;
	case MSR_IA32_FEATURE_CONTROL:
		value = FEATURE_CONTROL_LOCKED;
		break;
	default:
		if ((msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC) || rdmsr_safe(msr, &value)) {
			inject_exception(v, VECTOR_GP, true, 0);
			return;
		}
		break;
	}
done:
	v->state.gpr.rax = (uint32_t)value;
	v->state.gpr.rdx = value >> 32;
	vcpu_skip_instruction(v, e);
}

static void handle_msr_write(struct vcpu *v, struct exit *e)
{
	uint32_t msr = e->u.msr;
	uint64_t value = (v->state.gpr.rdx << 32) | (uint32_t)v->state.gpr.rax;
	int smm_rc = smm_msr_write(msr, value);
	if (smm_rc < 0) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	if (smm_rc == 0) {
		vcpu_skip_instruction(v, e);
		return;
	}
	int nested_rc = v->nested ? v->nested->msr_write(v, msr, value) : 1;
	if (nested_rc < 0) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	if (nested_rc == 0) {
		vcpu_skip_instruction(v, e);
		return;
	}
	uint64_t efer_allowed = EFER_ALLOWED_BITS | (v->nested ? v->nested->efer_extra_bits : 0);
	switch (msr) {
	case MSR_EFER:
		/* reserved bits, or LME changed while paging is on (APM vol.2 3.1.7) */
		if ((value & ~efer_allowed) ||
		    (((value ^ v->state.efer) & EFER_LME) && (v->state.cr0 & CR0_PG))) {
			inject_exception(v, VECTOR_GP, true, 0);
			return;
		}
		/* LMA is the CPU's to set; keep what it says */
		v->state.efer = (value & ~(uint64_t)EFER_LMA) | (v->state.efer & EFER_LMA);
		break;
	case MSR_VM_CR:
	case MSR_VM_HSAVE_PA:
	case MSR_IA32_FEATURE_CONTROL:
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	case MSR_X2APIC_ICR:
		vcpu_skip_instruction(v, e); /* first: the IPI may end in an exit to L1 */
		apic_x2apic_icr_write(v, value);
		return;
	default:
		if ((msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC) || guest_wrmsr(v, msr, value)) {
			inject_exception(v, VECTOR_GP, true, 0);
			return;
		}
		break;
	}
	vcpu_skip_instruction(v, e);
}

/* The exit port: a write to it ends the run with the guest's code, after nestbed's
 * counters (QEMU isa-debug-exit at 0xf4, Bochs' "Shutdown" at 0x8900). fw_cfg's DMA
 * register and the PCI configuration ports go to their mediators (io_intercepts.h). */
static void handle_io(struct vcpu *v, struct exit *e)
{
	const struct exit_io *io = &e->u.io;
	static const char shutdown_word[] = "Shutdown";
	if (io->string)
		guest_failure(v, "string I/O on intercepted port %#x is not supported", io->port);
	if (machine.fwcfg_dma && fwcfg_dma_port(io->port, io->size)) {
		fwcfg_dma_io(v, io);
		vcpu_skip_instruction(v, e);
		return;
	}
	if (machine.smram_chipset != SMRAM_CHIPSET_UNKNOWN && smram_pci_port(io->port, io->size)) {
		smram_pci_io(v, io);
		vcpu_skip_instruction(v, e);
		return;
	}
	if (io->in) {
		uint64_t all_ones = io->size == 4 ? 0xffffffffull : io->size == 2 ? 0xffffull : 0xffull;
		v->state.gpr.rax = (v->state.gpr.rax & ~all_ones) | all_ones;
		vcpu_skip_instruction(v, e);
		return;
	}
	uint32_t value = (uint32_t)v->state.gpr.rax;
	if (io->port == QEMU_DEBUG_EXIT_PORT) {
		kprintf("nestbed: guest wrote %#x to the exit port\n", value);
		run_end(v, (int)(value & 0x7f));
	}
	if (io->port == BOCHS_SHUTDOWN_PORT) {
		char c = (char)value;
		v->shutdown_port_match = c == shutdown_word[v->shutdown_port_match] ?
						 (uint8_t)(v->shutdown_port_match + 1) :
						 (c == shutdown_word[0] ? 1 : 0);
		if (v->shutdown_port_match == sizeof(shutdown_word) - 1) {
			kprintf("nestbed: guest asked for shutdown (port 0x8900)\n");
			run_end(v, 0);
		}
	}
	vcpu_skip_instruction(v, e);
}

/* HLT with interrupts off can never wake up on a single CPU: report it. Otherwise let the
 * CPU execute it for real (intercept paused until the next exit). */
static void handle_hlt(struct vcpu *v, struct exit *e)
{
	(void)e;
	/* With several CPUs another CPU's INIT or NMI wakes it (how operating systems park
	 * CPUs), so it waits as on hardware and there is nothing to watch: the intercept
	 * goes for good (an idle SMP Linux halted thousands of times, each an exit). */
	if (machine.nr_cpus >= 2) {
		v->ops->set_hlt_intercept(v, false);
		return;
	}
	/* With one CPU nothing can wake it. */
	if (!(v->state.rflags & RFLAGS_IF))
		guest_failure(v, "the guest halted with interrupts disabled (HLT at %#llx)",
			      (unsigned long long)v->state.rip);
	v->ops->set_hlt_intercept(v, false);
	v->hlt_intercept_paused = true;
}

static void handle_shutdown(struct vcpu *v, struct exit *e)
{
	(void)e;
	guest_failure(v, "the guest shut down (triple fault)");
}

static void handle_tdp_fault(struct vcpu *v, struct exit *e)
{
	const struct exit_tdp *t = &e->u.tdp;
	/* a write to the protected xAPIC page (read-only in every table nestbed builds, the
	 * shadow of L1's included): performed or emulated (apic_emulation.c). An L1 that maps
	 * the APIC read-only for its L2 is not honoured here yet. */
	if (v->level >= 2 && v->nested && v->nested->apic_access && v->nested->apic_access(v, e))
		return;
	if ((v->level == 1 || t->present) && apic_mmio_write_exit(v, e))
		return;
	if (vamdvi_mmio_exit(v, e))   /* L1's registers of its virtual AMD-Vi */
		return;
	if (v->nested && v->nested->tdp_fault(v, e))
		return;
	const struct guest_memmap *g = &machine.guest_map;
	for (uint32_t i = 0; i < g->nr_ranges; i++)
		if (g->ranges[i].type == MEM_NESTBED && t->gpa >= g->ranges[i].base &&
		    t->gpa < g->ranges[i].base + g->ranges[i].length)
			guest_failure(v, "the guest accessed nestbed's memory at %#llx (%s%s%s): stopped",
				      (unsigned long long)t->gpa, t->read ? "read" : "",
				      t->write ? "write" : "", t->fetch ? "fetch" : "");
	guest_failure(v, "nested page fault at %#llx outside nestbed's map (%s%s%s)",
		      (unsigned long long)t->gpa, t->read ? "read" : "", t->write ? "write" : "",
		      t->fetch ? "fetch" : "");
}

void exit_handlers_init(struct machine *m)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t seed = ((uint64_t)hi << 32 | lo) * 0x9E3779B97F4A7C15ull;
	m->l0_canary[0] = seed ^ 0x6e65737462656421ull; /* never zero in practice */
	m->l0_canary[1] = (seed >> 7) * 0xC2B2AE3D27D4EB4Full;
}

static void hypercall_canary(struct vcpu *v)
{
	const uint64_t *l0_canary = machine.l0_canary; /* set before any guest runs */
	uint64_t key = (l0_canary[0] * 0xFF51AFD7ED558CCDull) ^ 0x5a5a5a5a5a5a5a5aull;
	uint64_t masked[2] = { l0_canary[0] ^ key, l0_canary[1] ^ key };
	if (v->state.gpr.rcx < sizeof(masked) ||
	    guest_linear_write_supervisor(v, v->state.gpr.rbx, masked, sizeof(masked))) {
		v->state.gpr.rax = NESTBED_HC_ERROR;
		return;
	}
	v->state.gpr.rdx = key;
	v->state.gpr.rax = 0;
}

/* nestbed's interface serves L1 at CPL 0 only. Anyone else gets what the CPU gives
 * without nestbed: VMMCALL outside an intercepting hypervisor raises #UD (APM vol.3
 * VMMCALL), at any CPL; VMCALL raises #UD outside VMX operation, and in the VMX root
 * operation nestbed emulates for L1 #GP(0) at CPL > 0 or VMfail (SDM vol.2B VMCALL): the
 * nested layer, which knows, decides. An L2 gets here only when its L1 intercepts
 * neither VMMCALL nor #UD (the nested layer reflects those exits first; VT-x always
 * reflects L2's VMCALL, SDM vol.3C 26.1.2): #UD in L2. */
static void hypercall_own_range(struct vcpu *v)
{
	const struct guest_memmap *g = &machine.guest_map;
	uint64_t wanted = v->state.gpr.rbx, n = 0;
	v->state.gpr.rax = NESTBED_HC_ERROR;
	for (uint32_t i = 0; i < g->nr_ranges; i++) {
		if (g->ranges[i].type != MEM_NESTBED || n++ != wanted)
			continue;
		v->state.gpr.rax = 0;
		v->state.gpr.rbx = g->ranges[i].base;
		v->state.gpr.rcx = g->ranges[i].length;
		return;
	}
}

static void handle_hypercall(struct vcpu *v, struct exit *e)
{
	uint64_t rax = v->state.gpr.rax;
	if (bios_int15_hypercall(v, e))
		return; /* the real-mode INT 15h stub's call, bios_int15_hook.c */
	if ((rax & NESTBED_HC_MAGIC_MASK) != NESTBED_HC_MAGIC || v->level != 1 || v->state.cpl != 0) {
		if (v->nested && v->level == 1)
			v->nested->emulate_vm_insn(v, e);
		else
			inject_exception(v, VECTOR_UD, false, 0);
		return;
	}
	switch (rax & ~NESTBED_HC_MAGIC_MASK) {
	case NESTBED_HC_VERSION:
		v->state.gpr.rax = 0;
		v->state.gpr.rbx = NESTBED_HC_ABI_VERSION;
		v->state.gpr.rcx = machine.caps.svm ? NESTBED_HC_VENDOR_SVM : NESTBED_HC_VENDOR_VMX;
		v->state.gpr.rdx = v->trace.level[1].total;
		break;
	case NESTBED_HC_COUNTERS: {
		struct nestbed_hc_counters c;
		memset(&c, 0, sizeof(c));
		c.total = v->trace.level[1].total;
		for (unsigned k = 0; k < EXIT_KIND_COUNT && k < NESTBED_HC_COUNTER_KINDS; k++)
			c.by_kind[k] = v->trace.level[1].by_kind[k];
		if (v->state.gpr.rcx < sizeof(c) ||
		    guest_linear_write_supervisor(v, v->state.gpr.rbx, &c, sizeof(c)))
			v->state.gpr.rax = NESTBED_HC_ERROR;
		else
			v->state.gpr.rax = sizeof(c);
		break;
	}
	case NESTBED_HC_PRINT_STATS:
		print_stats(v);
		v->state.gpr.rax = 0;
		break;
	case NESTBED_HC_CANARY:
		hypercall_canary(v);
		break;
	case NESTBED_HC_OWN_RANGE:
		hypercall_own_range(v);
		break;
	case NESTBED_HC_IOMMU:
		v->state.gpr.rax = 0;
		v->state.gpr.rbx = machine.iommu.nr_enabled |
				   (machine.iommu.viommu ? NESTBED_HC_IOMMU_VIRTUAL : 0);
		v->state.gpr.rcx = machine.bi->image_phys;
		v->state.gpr.rdx = machine.bi->image_size;
		break;
	default:
		v->state.gpr.rax = NESTBED_HC_ERROR;
		break;
	}
	vcpu_skip_instruction(v, e);
}

/* The nested layer emulates virtualization instructions; without it they behave as on a
 * CPU that does not offer them: #UD. */
static void handle_vm_insn(struct vcpu *v, struct exit *e)
{
	/* before the nested layer runs it: a VMRUN/VMLAUNCH makes state other CPUs may ask
	 * this or any vCPU to pick up (struct machine nested_used, run.c) */
	__atomic_store_n(&machine.nested_used, 1, __ATOMIC_RELEASE);
	if (v->nested && v->level == 1) {
		v->nested->emulate_vm_insn(v, e);
		return;
	}
	if (v->nested && v->nested->l2_vm_insn) {
		v->nested->l2_vm_insn(v, e);
		return;
	}
	inject_exception(v, VECTOR_UD, false, 0);
}

static void handle_xsetbv(struct vcpu *v, struct exit *e)
{
	uint64_t value = (v->state.gpr.rdx << 32) | (uint32_t)v->state.gpr.rax;
	if (!(read_cr4() & CR4_OSXSAVE) || !(v->state.cr4 & CR4_OSXSAVE)) {
		inject_exception(v, VECTOR_UD, false, 0); /* no XSAVE here, or the guest has not enabled it */
		return;
	}
	if (xsetbv_safe((uint32_t)v->state.gpr.rcx, value)) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	vcpu_skip_instruction(v, e);
}

/* A control-register access the backend had to intercept: it emulates, the core skips. */
static void handle_cr_access(struct vcpu *v, struct exit *e)
{
	if (!v->ops->cr_access)
		guest_failure(v, "control-register access exit (native %#llx, info1 %#llx) without emulation",
			      (unsigned long long)e->native_code, (unsigned long long)e->info1);
	if (v->ops->cr_access(v, e)) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	vcpu_skip_instruction(v, e);
}

/* L1's interrupt or NMI that its hypervisor state holds (SVM: GIF 0), for the nested
 * layer to deliver later */
static bool held_by_nested(struct vcpu *v, const struct exit *e)
{
	return v->level == 1 && v->nested && v->nested->l1_interrupt && v->nested->l1_interrupt(v, e);
}

static void handle_resume(struct vcpu *v, struct exit *e)
{
	/* a physical interrupt: it is the guest's, delivered on entry */
	(void)held_by_nested(v, e);
}

static void handle_init(struct vcpu *v, struct exit *e)
{
	(void)e;
	if (v->started_by_sipi && v->level == 1 && v->state.rip == 0 &&
	    v->state.cs_base == (uint64_t)v->sipi_vector << SIPI_VECTOR_SHIFT) {
		/* INIT, SIPI, SIPI (SDM vol.3 9.4.4.1): natively the INIT reset the waiting CPU
		 * and the first SIPI started it; in VMX non-root the CPU held that INIT until the
		 * SIPI exit and delivers it now, before the vCPU's first instruction (Bochs 2.7
		 * even twice). It changes nothing: the vCPU starts again at the SIPI's vector
		 * (the exit's saved state is not reused: Bochs 2.7 saves blocking by SMI there,
		 * which no VM entry outside SMM accepts), and the second SIPI finds it running
		 * and is ignored, as natively. */
		v->ops->startup(v, v->sipi_vector);
		return;
	}
	v->started_by_sipi = false;
	apic_init_exit(v);
}

static void handle_sipi(struct vcpu *v, struct exit *e)
{
	sipi_wait_clear(&v->cpu->sipi); /* this start's, if posted */
	v->ops->startup(v, (uint8_t)e->info1);
	v->started_by_sipi = true;
	v->sipi_vector = (uint8_t)e->info1;
}

/* An intercepted NMI (SVM: nestbed took it in the host already): nestbed's own kick
 * (see apic_emulation.c), or the guest's, given back to it (APM vol.2 15.20). */
static void handle_nmi(struct vcpu *v, struct exit *e)
{
	if (held_by_nested(v, e))
		return;
	struct event nmi = { .type = EVENT_NMI, .vector = VECTOR_NMI };
	v->ops->inject(v, &nmi);
}

static void handle_invalid_state(struct vcpu *v, struct exit *e)
{
	guest_failure(v, "the CPU refused the guest state (native exit %#llx)",
		      (unsigned long long)e->native_code);
}

static void handle_exception(struct vcpu *v, struct exit *e)
{
	guest_failure(v, "unexpected intercepted exception vector %u error %#x",
		      e->u.exception.vector, e->u.exception.error_code);
}

const exit_handler_fn exit_handlers[EXIT_KIND_COUNT] = {
	[EXIT_CPUID] = handle_cpuid,
	[EXIT_MSR_READ] = handle_msr_read,
	[EXIT_MSR_WRITE] = handle_msr_write,
	[EXIT_IO] = handle_io,
	[EXIT_HLT] = handle_hlt,
	[EXIT_SHUTDOWN] = handle_shutdown,
	[EXIT_TDP_FAULT] = handle_tdp_fault,
	[EXIT_HYPERCALL] = handle_hypercall,
	[EXIT_VM_INSN] = handle_vm_insn,
	[EXIT_XSETBV] = handle_xsetbv,
	[EXIT_INTR] = handle_resume,
	[EXIT_NMI] = handle_nmi,
	[EXIT_INVALID_STATE] = handle_invalid_state,
	[EXIT_EXCEPTION] = handle_exception,
	[EXIT_CR_ACCESS] = handle_cr_access,
	[EXIT_INIT] = handle_init,
	[EXIT_SIPI] = handle_sipi,
};
