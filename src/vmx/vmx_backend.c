/* The VT-x backend: the primary guest in a VMCS with EPT, everything passed through
 * except what nestbed must see (SDM vol.3 chapters 23-30). */
#include "vmx/vmx.h"
#include "vmx/vmx_exit_names.h"

#include "core/marks.h"
#include "core/exception.h"
#include "core/lapic.h"
#include "core/apic_base.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/memory.h"
#include "core/msr_safe.h"
#include "core/run.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"
#include "core/x86.h"
#include "vmx/vmx_controls.h"

#define INT_N_LENGTH 2                   /* CD ib */

static bool vmx_supported(const struct machine *m)
{
	return m->caps.vmx;
}

int vmx_cpu_init(struct machine *m, struct pcpu *cpu)
{
	const struct vmx_caps *caps = &m->caps.vmx_caps;
	if (cpu->backend && ((struct vmx_cpu *)cpu->backend)->on)
		return 0;
	if (!cpu->backend) {
		uint64_t pa = alloc_frames_zeroed(1, FRAME_SIZE);
		if (!pa) {
			kprintf("nestbed: vmx: out of memory for CPU %u's state\n", cpu->index);
			return -1;
		}
		cpu->backend = phys_to_virt(pa);
	}
	struct vmx_cpu *c = cpu->backend;
	if (!m->caps.vmx) {
		kprintf("nestbed: vmx: CPUID.1:ECX.VMX[bit 5] is 0: this CPU has no VT-x\n");
		return -1;
	}

	/* 23.7: VMXON outside SMX needs IA32_FEATURE_CONTROL locked with bit 2 set; the
	 * firmware may have locked it already, else nestbed does. */
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		uint64_t want = fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		if (wrmsr_safe(MSR_IA32_FEATURE_CONTROL, want)) {
			kprintf("nestbed: vmx: writing IA32_FEATURE_CONTROL=%#llx raised #GP\n",
				(unsigned long long)want);
			return -1;
		}
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	}
	if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		kprintf("nestbed: vmx: disabled by the firmware: IA32_FEATURE_CONTROL=%#llx is locked "
			"with VMX outside SMX off (SDM vol.3 23.7)\n", (unsigned long long)fc);
		return -1;
	}

	/* 23.8: CR0 and CR4 within IA32_VMX_CR{0,4}_FIXED{0,1} (A.7, A.8), with CR4.VMXE. */
	uint64_t cr0 = (read_cr0() | caps->cr0_fixed0) & caps->cr0_fixed1;
	uint64_t cr4 = (read_cr4() | VMX_CR4_VMXE | caps->cr4_fixed0) & caps->cr4_fixed1;
	if (!(cr4 & VMX_CR4_VMXE)) {
		kprintf("nestbed: vmx: CR4.VMXE cannot be set (IA32_VMX_CR4_FIXED1=%#llx)\n",
			(unsigned long long)caps->cr4_fixed1);
		return -1;
	}
	write_cr0(cr0);
	write_cr4(cr4);

	/* 24.11.5: the VMXON region, revision identifier first. */
	c->revision = (uint32_t)(caps->basic & VMX_BASIC_REVISION_MASK);
	c->vmxon_pa = vmx_alloc_frames(m, 1, "VMXON region");
	if (!c->vmxon_pa)
		return -1;
	*(uint32_t *)phys_to_virt(c->vmxon_pa) = c->revision;
	enum vmx_result r = vmxon(c->vmxon_pa);
	if (r != VMX_OK) {
		vmx_report_failure("VMXON", r);
		return -1;
	}
	c->on = true;
	kprintf("nestbed: vmx: VMX root operation: VMXON region %#llx, VMCS revision %#x, "
		"cr0=%#llx cr4=%#llx feature_control=%#llx\n", (unsigned long long)c->vmxon_pa,
		c->revision, (unsigned long long)cr0, (unsigned long long)cr4, (unsigned long long)fc);
	return 0;
}

static int vmx_vcpu_create(struct machine *m, struct vcpu *v, const struct guest_start *start)
{
	uint64_t pa = alloc_frames_zeroed((sizeof(struct vmx_vcpu) + FRAME_SIZE - 1) / FRAME_SIZE,
					  FRAME_SIZE);
	if (!pa) {
		kprintf("nestbed: vmx: out of memory for a vCPU\n");
		return -1;
	}
	struct vmx_vcpu *vv = phys_to_virt(pa);
	if (vmx_vmcs_create(m, vv, start, &v->state))
		return -1;
	v->backend = vv;
	v->apic_page = vv->apic_page;
	v->wait_for_sipi = start->mode == GUEST_START_WAIT_FOR_SIPI;
	return 0;
}

/* The guest moved its xAPIC or left xAPIC mode: the read-only page of its EPT follows
 * (the old page is writable again, the split tables stay). */
static void vmx_apic_base_changed(struct vcpu *v)
{
	struct vmx_vcpu *vv = v->backend;
	uint64_t page = apic_base_mmio_page(rdmsr(MSR_IA32_APIC_BASE));
	if (page == vv->apic_page)
		return;
	if (vv->apic_page)
		(void)ept_set_4k_permissions(&vv->ept, vv->apic_page, EPT_RWX);
	if (page && ept_set_4k_permissions(&vv->ept, page, EPT_READ))
		guest_failure(v, "the APIC base moved to %#llx, which nestbed cannot keep read-only "
			      "(unmapped, or out of memory)", (unsigned long long)page);
	vv->apic_page = page;
	v->apic_page = page;
	if (machine.caps.vmx_caps.ept_vpid & VMX_EPT_CAP_INVEPT_SINGLE)
		(void)invept(VMX_INVEPT_SINGLE_CONTEXT, vv->eptp);
	else
		(void)invept(VMX_INVEPT_ALL_CONTEXT, 0);
}

/* An INIT exit (27.2: the guest's INIT reached the CPU in VMX non-root operation): the
 * INIT state, waiting for SIPI in guest mode. */
static void vmx_init_signal(struct vcpu *v)
{
	vmx_write_real_mode_state(v->backend, &v->state, INIT_CS_SELECTOR, INIT_CS_BASE, INIT_RIP,
				  VMX_ACTIVITY_WAIT_SIPI);
	v->wait_for_sipi = true;
}

/* A SIPI exit: the vector's real-mode start (SDM vol.3 9.4.4.2). */
static void vmx_startup(struct vcpu *v, uint8_t vector)
{
	vmx_write_real_mode_state(v->backend, &v->state, (uint16_t)(vector << 8),
				  (uint64_t)vector << 12, 0, VMX_ACTIVITY_ACTIVE);
	v->wait_for_sipi = false;
	/* Bochs 2.7 blocks NMIs when a CPU enters wait-for-SIPI and keeps them blocked
	 * through the SIPI exit, until an IRET: the started vCPU would not take the NMIs
	 * sent to it. The INIT state has NMIs unblocked (9.1.1). */
	cpu_unblock_nmi();
}

enum vmx_result vmx_enter_guest(struct vmx_vcpu *vv, struct gprs *gprs)
{
	int rc = vmx_enter(gprs, vv->launched);
	if (rc == 0) {
		/* A failed entry after the guest-state checks began leaves the VMCS unlaunched. */
		if (!(vmcs_read(VMCS_EXIT_REASON) & VMX_EXIT_REASON_ENTRY_FAILURE))
			vv->launched = true;
		return VMX_OK;
	}
	enum vmx_result r = rc == VMX_FAIL_INVALID ? VMX_FAIL_INVALID : VMX_FAIL_VALID;
	vmx_report_failure(vv->launched ? "VMRESUME" : "VMLAUNCH", r);
	vmx_dump_vmcs(false);
	vv->vmcs_dumped = true;
	return r;
}

/* The poll timer is on while the guest enters with IF = 0 (see struct vmx_vcpu). */
static void sync_intr_poll(struct vmx_vcpu *vv, uint64_t rflags)
{
	bool want = vv->intr_poll && !(rflags & RFLAGS_IF);
	if (want == vv->intr_poll_armed)
		return;
	vmcs_write(VMCS_PIN_BASED_CTLS, want ? vv->pin | VMX_PIN_PREEMPTION_TIMER : vv->pin);
	if (want)
		vmcs_write(VMCS_PREEMPTION_TIMER_VALUE, vv->intr_poll_ticks);
	vv->intr_poll_armed = want;
}

static void sync_to_vmcs(struct vcpu *v, struct vmx_vcpu *vv)
{
	const struct vcpu_state *st = &v->state;
	sync_intr_poll(vv, st->rflags);
	vmcs_write(VMCS_GUEST_RSP, st->rsp);
	vmcs_write(VMCS_GUEST_RIP, st->rip);
	vmcs_write(VMCS_GUEST_RFLAGS, st->rflags);
	/* The core keeps the guest's EFER (the MSR is intercepted); the entry control
	 * "IA-32e mode guest" must equal its LMA (26.2.4, 26.3.1.1). */
	vmcs_write(VMCS_GUEST_IA32_EFER, st->efer);
	uint32_t entry = vv->entry_ctls | ((st->efer & EFER_LMA) ? VMX_ENTRY_CTL_IA32E_MODE_GUEST : 0);
	if (entry != vv->entry_ctls_written) {
		vmcs_write(VMCS_ENTRY_CTLS, entry);
		vv->entry_ctls_written = entry;
	}
	if (v->insn_skipped) {
		/* Moving past an instruction ends an STI or MOV SS shadow (24.4.2). */
		uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
		if (intr & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS))
			vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
				   intr & ~(uint64_t)(VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS));
		/* The MTF VM exit the CPU would have given after it: injected as a pending
		 * MTF VM exit, which exits before the next instruction (26.7.8) */
		if (vv->mtf_after_skip && !(vmcs_read(VMCS_ENTRY_INTR_INFO) & VMX_INTR_INFO_VALID))
			vmcs_write(VMCS_ENTRY_INTR_INFO,
				   VMX_INTR_INFO_VALID | (VMX_INTR_TYPE_OTHER_EVENT << VMX_INTR_INFO_TYPE_SHIFT));
		v->insn_skipped = false;
	}
}

static void sync_from_vmcs(struct vcpu *v, struct vmx_vcpu *vv)
{
	struct vcpu_state *st = &v->state;
	st->rsp = vmcs_read(VMCS_GUEST_RSP);
	st->rip = vmcs_read(VMCS_GUEST_RIP);
	st->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	/* The owned bits of CR0/CR4 change only through nestbed's emulation, so the guest's
	 * view of them is still in st; the CPU has the rest. CR2 is not in the VMCS: the
	 * guest's stays in the register (27.5.1 leaves it alone). */
	st->cr0 = vmx_cr_guest_view(vmcs_read(VMCS_GUEST_CR0), st->cr0, vv->cr0_mask);
	st->cr4 = vmx_cr_guest_view(vmcs_read(VMCS_GUEST_CR4), st->cr4, vv->cr4_mask);
	st->cr3 = vmcs_read(VMCS_GUEST_CR3);
	st->cr2 = read_cr2();
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER); /* saved at the exit: LMA follows PG */
	st->efer = (st->efer & ~(uint64_t)EFER_LMA) | (efer & EFER_LMA);
	vv->entry_ctls_written = (uint32_t)vmcs_read(VMCS_ENTRY_CTLS);
	st->cs_base = vmcs_read(VMCS_GUEST_CS_BASE);
	uint32_t cs_ar = (uint32_t)vmcs_read(VMCS_GUEST_CS_AR);
	st->cs_long = (cs_ar & VMX_AR_L) != 0;
	st->cs_db = (cs_ar & VMX_AR_DB) != 0;
	/* 24.4.1: SS.DPL is the current privilege level. */
	st->cpl = (uint8_t)((vmcs_read(VMCS_GUEST_SS_AR) >> VMX_AR_DPL_SHIFT) & VMX_AR_DPL_MASK);
}

static void read_exit(const struct vcpu *v, struct vmx_exit_raw *raw)
{
	raw->reason = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
	raw->qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
	uint32_t basic = raw->reason & VMX_EXIT_REASON_BASIC_MASK;
	raw->insn_len = vmx_exit_has_insn_len(basic) ? (uint32_t)vmcs_read(VMCS_EXIT_INSTRUCTION_LEN) : 0;
	raw->intr_info = raw->intr_error = 0;
	if (basic == VMX_EXIT_REASON_EXCEPTION_NMI) {
		raw->intr_info = (uint32_t)vmcs_read(VMCS_EXIT_INTR_INFO);
		raw->intr_error = (uint32_t)vmcs_read(VMCS_EXIT_INTR_ERROR_CODE);
	}
	raw->gpa = 0;
	if (basic == VMX_EXIT_REASON_EPT_VIOLATION || basic == VMX_EXIT_REASON_EPT_MISCONFIG)
		raw->gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	raw->rcx = v->state.gpr.rcx;
}

/* 27.2.4: an event the CPU was delivering when the exit came is delivered again on the
 * next entry, so nothing in flight is lost (the exit cleared the entry field's valid
 * bit, 27.2.3). */
static void reinject_idt_vectoring(void)
{
	uint32_t idt = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);
	if (!(idt & VMX_INTR_INFO_VALID))
		return;
	uint32_t type = (idt >> VMX_INTR_INFO_TYPE_SHIFT) & VMX_INTR_INFO_TYPE_MASK;
	if (idt & VMX_INTR_INFO_ERROR_VALID)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE));
	if (type == VMX_INTR_TYPE_SW_INTERRUPT || type == VMX_INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == VMX_INTR_TYPE_SW_EXCEPTION)
		vmcs_write(VMCS_ENTRY_INSTRUCTION_LEN, vmcs_read(VMCS_EXIT_INSTRUCTION_LEN));
	/* bits 30:12 are reserved in the entry field (24.8.3) */
	vmcs_write(VMCS_ENTRY_INTR_INFO, idt & ~VMX_INTR_INFO_NMI_UNBLOCKING);
}

static void report_entry_failure(const struct exit *e)
{
	uint32_t basic = (uint32_t)e->native_code & VMX_EXIT_REASON_BASIC_MASK;
	kprintf("nestbed: vmx: VM-entry failure: exit reason %u (%s), qualification %#llx: %s\n",
		basic, vmx_exit_reason_name(basic), (unsigned long long)e->info1,
		vmx_entry_failure_detail(basic, e->info1));
}

/* Blocking by SMI in a guest that is not in SMM, which no VM entry accepts (26.3.1.5):
 * Bochs 2.7 saves it in every exit of a vCPU started by a SIPI exit (its SIPI path
 * leaves SMI and NMI masked). nestbed never runs a guest in SMM, so the bit is never
 * the guest's: cleared (blocking by NMI stays), said once per vCPU; once seen, cleared
 * before every entry of that VMCS, so that entries do not fail first. */
static bool drop_smi_blocking(struct vcpu *v)
{
	struct vmx_vcpu *vv = v->backend;
	uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	if (!(intr & VMX_INTERRUPTIBILITY_SMI))
		return false;
	if (!vv->smi_blocking_dropped)
		kprintf("nestbed: vmx: CPU %u's guest state says blocking by SMI outside SMM (a CPU "
			"departing from SDM 26.3.1.5's rule): cleared\n", v->id);
	vv->smi_blocking_dropped = true;
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)VMX_INTERRUPTIBILITY_SMI);
	return true;
}

/* The poll timer ran out (struct vmx_vcpu intr_poll; timer), or an entry found an
 * interrupt requested: false when no interrupt waits,
 * else true, the interrupt acknowledged when the exit controls say so (27.2.2), and the
 * exit becomes the external-interrupt exit (reason 1) the CPU owed. */
static bool take_polled_interrupt(struct vcpu *v, struct vmx_vcpu *vv, struct vmx_exit_raw *raw, bool timer)
{
	uint8_t vector = 0;
	if (vv->exit_ctls & VMX_EXIT_CTL_ACK_INTR_ON_EXIT) {
		if (!exception_catch_interrupt(&vector))
			return false;
		vv->polled_intr_info = VMX_INTR_INFO_VALID | vector; /* type 0: external interrupt */
	} else {
		if (!lapic_interrupt_pending())
			return false;
		vv->polled_intr_info = 0;
	}
	if (timer && !vv->intr_poll_reported)
		kprintf("nestbed: vmx: CPU %u held an external interrupt while its guest ran with "
			"RFLAGS.IF = 0 despite external-interrupt exiting (a CPU departing from SDM "
			"25.2): delivered by polling with the preemption timer\n", v->id);
	vv->intr_poll_reported |= timer;
	vv->polled_exit = true;
	*raw = (struct vmx_exit_raw){ .reason = VMX_EXIT_REASON_EXTERNAL_INTR, .rcx = v->state.gpr.rcx };
	return true;
}

/* An interrupt already requested when the poll is on: the exit comes before the guest's
 * first instruction, as with a CPU that follows 25.2, without entering. Not while an
 * event is injected, STI or MOV SS blocking holds, or the guest waits for SIPI. */
static bool interrupt_owed_at_entry(struct vcpu *v, struct vmx_vcpu *vv, struct vmx_exit_raw *raw)
{
	if (!vv->intr_poll_armed || (vmcs_read(VMCS_ENTRY_INTR_INFO) & VMX_INTR_INFO_VALID) ||
	    (vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)) ||
	    vmcs_read(VMCS_GUEST_ACTIVITY_STATE) > VMX_ACTIVITY_HLT || !lapic_interrupt_pending())
		return false;
	return take_polled_interrupt(v, vv, raw, false);
}

static int vmx_vcpu_run(struct vcpu *v, struct exit *e)
{
	struct vmx_vcpu *vv = v->backend;
	sync_to_vmcs(v, vv);
	vv->polled_exit = false;
	if (vv->smi_blocking_dropped) /* saved again at every exit (drop_smi_blocking) */
		(void)drop_smi_blocking(v);
	struct vmx_exit_raw raw = { 0 };
	while (!interrupt_owed_at_entry(v, vv, &raw)) {
		uint64_t entered = machine.options.marks ? marks_switch_begin(&v->marks) : 0;
		if (vmx_enter_guest(vv, &v->state.gpr) != VMX_OK)
			return -1;
		if (machine.options.marks)
			marks_switch_end(&v->marks, entered);
		read_exit(v, &raw);
		if (raw.reason == (VMX_EXIT_REASON_ENTRY_FAILURE | VMX_EXIT_REASON_INVALID_GUEST_STATE) &&
		    drop_smi_blocking(v))
			continue;
		/* the poll timer with nothing to deliver: the guest goes on where it was */
		if (raw.reason == VMX_EXIT_REASON_PREEMPTION_TIMER && vv->intr_poll_armed &&
		    !take_polled_interrupt(v, vv, &raw, true))
			continue;
		break;
	}
	sync_from_vmcs(v, vv);
	vmx_decode_exit(&raw, e);
	vv->last_insn_len = e->insn_len;
	if (raw.reason & VMX_EXIT_REASON_ENTRY_FAILURE) {
		report_entry_failure(e); /* the core's handler stops the run with the dump */
		return 0;
	}
	if (!vv->polled_exit) /* a polled interrupt comes on an instruction boundary */
		reinject_idt_vectoring();
	return 0;
}

static void vmx_inject(struct vcpu *v, const struct event *ev)
{
	struct vmx_vcpu *vv = v->backend;
	uint32_t info = ev->vector | ((uint32_t)ev->type << VMX_INTR_INFO_TYPE_SHIFT) | VMX_INTR_INFO_VALID;
	/* 26.2.1.3: an error code is delivered only in protected mode (an unrestricted guest
	 * may be in real mode). */
	if (ev->has_error_code && (v->state.cr0 & VMX_CR0_PE)) {
		info |= VMX_INTR_INFO_ERROR_VALID;
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, ev->error_code);
	}
	if (ev->type == EVENT_SOFTWARE_INT)
		vmcs_write(VMCS_ENTRY_INSTRUCTION_LEN, vv->last_insn_len ? vv->last_insn_len : INT_N_LENGTH);
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
}

static void vmx_set_hlt_intercept(struct vcpu *v, bool on)
{
	struct vmx_vcpu *vv = v->backend;
	vv->proc = on ? vv->proc | VMX_PROC_HLT_EXITING : vv->proc & ~VMX_PROC_HLT_EXITING;
	vmcs_write(VMCS_PROC_BASED_CTLS, vv->proc);
}

static void vmx_dump(struct vcpu *v)
{
	struct vmx_vcpu *vv = v->backend;
	if (!vv)
		return;
	if (vv->vmcs_dumped) {
		kprintf("nestbed:   vmcs: dumped above\n");
		return;
	}
	vmx_dump_vmcs(true);
}

/* ---- control-register accesses (27.2.1 table 27-3) ---- */

static void flush_guest_tlb(const struct vmx_vcpu *vv)
{
	/* Without VPID every entry and exit flushes (28.3.3.1); with it, this vCPU's tag. */
	if (!vv->vpid)
		return;
	if (vv->invvpid_single)
		(void)invvpid(VMX_INVVPID_SINGLE_CONTEXT, vv->vpid, 0);
	else
		(void)invvpid(VMX_INVVPID_ALL_CONTEXT, 0, 0);
}

/* With EPT, PAE paging takes its PDPTEs from the VMCS at entry (26.3.2.4): load them as
 * the CPU's MOV to CR would. */
static int load_pdptes(const struct vcpu *v, uint64_t cr3)
{
	uint64_t pdpte[PDPTE_COUNT];
	/* the vCPU's own guest-physical space (an L2's goes through L1's EPT) */
	if (vcpu_phys_read(v, cr3 & CR3_PAE_PDPT_MASK, pdpte, sizeof(pdpte)))
		return -1;
	for (unsigned i = 0; i < PDPTE_COUNT; i++)
		vmcs_write(VMCS_GUEST_PDPTE(i), pdpte[i]);
	return 0;
}

static int apply_cr_update(struct vcpu *v, struct vmx_vcpu *vv, unsigned cr, const struct vmx_cr_update *up)
{
	struct vcpu_state *st = &v->state;
	uint64_t cr3 = cr == 3 ? up->guest_cr : st->cr3;
	if (up->load_pdptes && load_pdptes(v, cr3))
		return -1;
	switch (cr) {
	case 0:
		vmcs_write(VMCS_GUEST_CR0, up->guest_cr);
		vmcs_write(VMCS_CR0_READ_SHADOW, up->shadow);
		st->cr0 = vmx_cr_guest_view(up->guest_cr, up->shadow, vv->cr0_mask);
		break;
	case 3:
		vmcs_write(VMCS_GUEST_CR3, up->guest_cr);
		st->cr3 = up->guest_cr;
		break;
	case 4:
		vmcs_write(VMCS_GUEST_CR4, up->guest_cr);
		vmcs_write(VMCS_CR4_READ_SHADOW, up->shadow);
		st->cr4 = vmx_cr_guest_view(up->guest_cr, up->shadow, vv->cr4_mask);
		break;
	default:
		break;
	}
	st->efer = up->efer; /* the next entry writes it and the IA-32e mode guest control */
	if (up->flush_tlb)
		flush_guest_tlb(vv);
	return 0;
}

static int write_cr(struct vcpu *v, struct vmx_vcpu *vv, unsigned cr, uint64_t value)
{
	struct vcpu_state *st = &v->state;
	bool long64 = (st->efer & EFER_LMA) && st->cs_long;
	struct vmx_cr_view cur = { .cr0 = st->cr0, .cr3 = st->cr3, .cr4 = st->cr4,
				   .efer = st->efer, .cs_long = long64 };
	struct vmx_cr_update up;
	int rc;
	switch (cr) {
	case 0: rc = vmx_cr0_write(&vv->fixed, &cur, value, &up); break;
	case 3: rc = vmx_cr3_write(&cur, value, &up); break;
	case 4: rc = vmx_cr4_write(&vv->fixed, &cur, value, &up); break;
	default:
		guest_failure(v, "vmx: MOV to CR%u exited, which nestbed never asks for", cr);
	}
	return rc ? rc : apply_cr_update(v, vv, cr, &up);
}

static int vmx_cr_access(struct vcpu *v, const struct exit *e)
{
	struct vmx_vcpu *vv = v->backend;
	struct vcpu_state *st = &v->state;
	struct vmx_cr_access a;
	vmx_decode_cr_access(e->info1, &a);
	bool long64 = (st->efer & EFER_LMA) && st->cs_long;
	uint64_t *reg = vmx_gpr_slot(st, a.gpr);
	switch (a.type) {
	case VMX_CR_QUAL_TYPE_MOV_TO_CR:
		return write_cr(v, vv, a.cr, long64 ? *reg : *reg & CR_LOW32);
	case VMX_CR_QUAL_TYPE_MOV_FROM_CR:
		if (a.cr != 3) /* CR0/CR4 reads come from the shadows, CR8 is not intercepted */
			guest_failure(v, "vmx: MOV from CR%u exited, which nestbed never asks for", a.cr);
		*reg = long64 ? st->cr3 : st->cr3 & CR_LOW32;
		return 0;
	case VMX_CR_QUAL_TYPE_CLTS:
		return write_cr(v, vv, 0, st->cr0 & ~VMX_CR0_TS);
	case VMX_CR_QUAL_TYPE_LMSW:
	default:
		return write_cr(v, vv, 0, vmx_lmsw_value(st->cr0, a.lmsw_data));
	}
}

static void vmx_selftest_op(struct machine *m, void (*result)(bool ok, const char *why))
{
	vmx_selftest(m, result);
}

const struct vmm_ops vmx_ops = {
	.name = "vmx",
	.supported = vmx_supported,
	.cpu_init = vmx_cpu_init,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_run = vmx_vcpu_run,
	.inject = vmx_inject,
	.set_hlt_intercept = vmx_set_hlt_intercept,
	.exit_name = vmx_exit_name,
	.dump = vmx_dump,
	.cr_access = vmx_cr_access,
	.selftest = vmx_selftest_op,
	.init_signal = vmx_init_signal,
	.apic_base_changed = vmx_apic_base_changed,
	.startup = vmx_startup,
	.cpu_waits_for_sipi = true,
};
VMM_BACKEND_REGISTER(vmx_ops);
