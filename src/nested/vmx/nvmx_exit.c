/* L2's exits: reflected to L1 when its VMCS12 asks for them, as a VM exit the CPU would
 * give it (SDM vol.3 27: exit information, L2's state saved, L1's host state loaded,
 * the MSR areas), or left to nestbed. */
#include "nested/vmx/nvmx.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/guest_mem.h"
#include "core/guest_msr.h"
#include "core/msr_safe.h"
#include "core/nested_ops.h"
#include "core/platform.h"
#include "core/run.h"
#include "core/string.h"
#include "nested/vmx/nvmx_reflect.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_exit.h"
#include "core/x86.h"

#define HOST_LIMIT 0xffffffffu     /* 27.5.2 */
#define HOST_TR_LIMIT 0x67u
#define HOST_DT_LIMIT 0xffffu
#define AR_TSS_BUSY 0xbu
#define CR_QUAL_GPR_SHIFT 8
#define CR_QUAL_GPR_MASK 0xfull
#define ENTRY_INTR_VALID (1u << 31)

/* Exit-information fields (24.9) copied from VMCS02 into VMCS12. */
static const uint32_t exit_info_fields[] = {
	VMCS_EXIT_INTR_INFO, VMCS_EXIT_INTR_ERROR_CODE, VMCS_IDT_VECTORING_INFO,
	VMCS_IDT_VECTORING_ERROR_CODE, VMCS_EXIT_INSTRUCTION_LEN, VMCS_EXIT_INSTRUCTION_INFO,
	VMCS_GUEST_LINEAR_ADDRESS, VMCS_GUEST_PHYSICAL_ADDRESS,
	/* not the I/O RCX, RSI, RDI and RIP fields: only a VM exit from SMM writes them
	 * (27.2.1, 34.15.2), and nestbed never runs L2 in SMM */
};

/* Guest-state fields saved as they are at every exit (27.3): what L1 and nestbed read at
 * most exits (CS and SS for L2's mode and CPL). */
static const uint32_t saved_fields[] = {
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR,
	VMCS_GUEST_CS_BASE, VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE,
	VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
};

/* The rest of the guest state a VM exit saves (27.3), which L2 rarely changes: left in
 * VMCS02 and copied into VMCS12 when L1 or nestbed first needs it (KVM's "rare" fields,
 * sync_vmcs02_to_vmcs12_rare): L1's VMREAD of one exits (nvmx_shadow_vmcs.c), and every
 * path that reads or writes them in VMCS12 calls nvmx_sync_rare first. */
static const uint32_t rare_fields[] = { NVMX_RARE_FIELDS };

bool nvmx_is_rare_field(uint32_t encoding)
{
	for (unsigned i = 0; i < sizeof(rare_fields) / sizeof(rare_fields[0]); i++)
		if (rare_fields[i] == encoding)
			return true;
	return false;
}

void nvmx_sync_rare(struct vcpu *v, struct nvmx *n)
{
	if (!n->rare_stale)
		return;
	n->rare_stale = false;
	/* VMCS01 is current (L1 runs): VMCS02 still holds L2's state */
	enum vmx_result r = vmptrld(n->vv02.vmcs_pa);
	if (r == VMX_OK) {
		for (unsigned i = 0; i < sizeof(rare_fields) / sizeof(rare_fields[0]); i++)
			vmcs12_save(n, rare_fields[i], nvmx_vmread(rare_fields[i]));
		r = vmptrld(n->vv01->vmcs_pa);
	}
	if (r != VMX_OK) {
		vmx_report_failure("VMPTRLD while saving L2's state into VMCS12", r);
		guest_failure(v, "nested-vmx: cannot save L2's state from VMCS02");
	}
}

static void write_segment(uint32_t index, uint16_t selector, uint32_t limit, uint32_t ar, uint64_t base)
{
	/* ES..GS, LDTR, TR: each encoding steps by 2 (B.1.2, B.3.3, B.4.3) */
	nvmx_vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * index, selector);
	nvmx_vmwrite(VMCS_GUEST_ES_LIMIT + 2 * index, limit);
	nvmx_vmwrite(VMCS_GUEST_ES_AR + 2 * index, ar);
	nvmx_vmwrite(VMCS_GUEST_ES_BASE + 2 * index, base);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* 27.4: the VM-exit MSR-store area gets the values L2 leaves. */
static void store_exit_msrs(struct vcpu *v, struct nvmx *n)
{
	uint32_t count = (uint32_t)vmcs12_get(n, VMCS_EXIT_MSR_STORE_COUNT);
	uint64_t addr = vmcs12_get(n, VMCS_EXIT_MSR_STORE_ADDR);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t entry[2];
		uint64_t pa = addr + (uint64_t)i * MSR_ENTRY_SIZE;
		if (guest_phys_read(pa, entry, sizeof(entry)))
			guest_failure(v, "nested-vmx: VMX abort: the VM-exit MSR-store area at %#llx is not L1's memory",
				      (unsigned long long)addr);
		uint32_t msr = (uint32_t)entry[0];
		uint64_t value = 0;
		uint32_t field = nvmx_msr_guest_field(msr);
		if (msr == MSR_EFER)
			value = v->state.efer;
		else if (field && (field != VMCS_GUEST_IA32_PAT || n->vv02.load_pat))
			value = nvmx_vmread(field); /* VMCS02 (current) has L2's value, the CPU nestbed's */
		else if (v->nested->msr_read(v, msr, &value) != 0 && rdmsr_safe(msr, &value))
			guest_failure(v, "nested-vmx: VMX abort: the VM-exit MSR-store area names MSR %#x (27.4)", msr);
		(void)guest_phys_write(pa + 8, &value, sizeof(value));
	}
}

/* 27.6: the VM-exit MSR-load area, after the host state; a failing entry is a VMX abort
 * (27.7), which stops the run. The MSRs VMCS01 switches for L1 go into VMCS01 (current),
 * after the CPU's WRMSR checks. */
static void load_exit_msrs(struct vcpu *v, struct nvmx *n)
{
	uint32_t count = (uint32_t)vmcs12_get(n, VMCS_EXIT_MSR_LOAD_COUNT);
	uint64_t addr = vmcs12_get(n, VMCS_EXIT_MSR_LOAD_ADDR);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t entry[2];
		if (guest_phys_read(addr + (uint64_t)i * MSR_ENTRY_SIZE, entry, sizeof(entry)))
			guest_failure(v, "nested-vmx: VMX abort: the VM-exit MSR-load area at %#llx is not L1's memory",
				      (unsigned long long)addr);
		uint32_t msr = (uint32_t)entry[0];
		uint32_t field = nvmx_msr_guest_field(msr);
		bool in_vmcs = field && (field != VMCS_GUEST_IA32_PAT || n->vv01->load_pat);
		uint64_t old = 0;
		bool ok = !(entry[0] >> 32) && msr != MSR_FS_BASE && msr != MSR_GS_BASE &&
			  (msr >> 8) != MSR_X2APIC_HIGH_BITS && msr != MSR_IA32_SMM_MONITOR_CTL;
		if (ok && msr == MSR_EFER)
			v->state.efer = entry[1];
		else if (ok && in_vmcs && !rdmsr_safe(msr, &old) && !wrmsr_safe(msr, entry[1]) && !wrmsr_safe(msr, old))
			nvmx_vmwrite(field, entry[1]);
		else if (!ok || in_vmcs || guest_wrmsr(v, msr, entry[1]))
			guest_failure(v, "nested-vmx: VMX abort: entry %u of the VM-exit MSR-load area (MSR %#x) "
				      "fails (27.6)", i + 1, msr);
	}
}

/* 27.5: L1 continues with VMCS12's host state; VMCS01 (current) holds it as L1's guest
 * state. General-purpose registers other than RSP keep L2's values. */
static void load_host_state(struct vcpu *v, struct nvmx *n, uint64_t l2_efer, uint64_t l2_pat)
{
	struct vmx_vcpu *vv01 = n->vv01;
	struct vcpu_state *st = &v->state;
	uint32_t exit12 = (uint32_t)vmcs12_get(n, VMCS_EXIT_CTLS);
	bool long64 = exit12 & VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;

	uint64_t cr0 = vmcs12_get(n, VMCS_HOST_CR0), cr4 = vmcs12_get(n, VMCS_HOST_CR4);
	nvmx_vmwrite(VMCS_GUEST_CR0, cr0 | vv01->cr0_mask);
	nvmx_vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	nvmx_vmwrite(VMCS_GUEST_CR4, cr4 | vv01->cr4_mask);
	nvmx_vmwrite(VMCS_CR4_READ_SHADOW, cr4);
	nvmx_vmwrite(VMCS_GUEST_CR3, vmcs12_get(n, VMCS_HOST_CR3));
	nvmx_vmwrite(VMCS_GUEST_DR7, DR7_INIT);
	nvmx_vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
	nvmx_vmwrite(VMCS_GUEST_SYSENTER_CS, vmcs12_get(n, VMCS_HOST_SYSENTER_CS));
	nvmx_vmwrite(VMCS_GUEST_SYSENTER_ESP, vmcs12_get(n, VMCS_HOST_SYSENTER_ESP));
	nvmx_vmwrite(VMCS_GUEST_SYSENTER_EIP, vmcs12_get(n, VMCS_HOST_SYSENTER_EIP));
	if (vv01->load_pat)
		nvmx_vmwrite(VMCS_GUEST_IA32_PAT, (exit12 & VMX_EXIT_CTL_LOAD_IA32_PAT) ?
						       vmcs12_get(n, VMCS_HOST_IA32_PAT) : l2_pat);
	uint64_t efer = l2_efer;
	if (exit12 & VMX_EXIT_CTL_LOAD_IA32_EFER)
		efer = vmcs12_get(n, VMCS_HOST_IA32_EFER);
	else if (long64)
		efer |= EFER_LMA | EFER_LME;
	else
		efer &= ~(uint64_t)(EFER_LMA | EFER_LME);

	uint32_t code = VMX_AR_G | VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_CODE_XR_ACCESSED |
			(long64 ? VMX_AR_L : VMX_AR_DB);
	write_segment(SEG_CS, (uint16_t)vmcs12_get(n, VMCS_HOST_CS_SELECTOR), HOST_LIMIT, code, 0);
	static const uint32_t data_segs[] = { SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS };
	static const uint32_t data_sel[] = { VMCS_HOST_ES_SELECTOR, VMCS_HOST_SS_SELECTOR, VMCS_HOST_DS_SELECTOR,
					     VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR };
	for (unsigned i = 0; i < 5; i++) {
		uint16_t sel = (uint16_t)vmcs12_get(n, data_sel[i]);
		uint64_t base = data_segs[i] == SEG_FS ? vmcs12_get(n, VMCS_HOST_FS_BASE) :
				data_segs[i] == SEG_GS ? vmcs12_get(n, VMCS_HOST_GS_BASE) : 0;
		uint32_t ar = (sel & ~SELECTOR_RPL_TI) ? (VMX_AR_DATA_FLAT) : VMX_AR_UNUSABLE;
		if (data_segs[i] == SEG_SS && !(sel & ~SELECTOR_RPL_TI))
			ar = VMX_AR_UNUSABLE | VMX_AR_DATA_FLAT; /* 27.5.2: a null SS keeps its other attributes */
		write_segment(data_segs[i], sel, HOST_LIMIT, ar, base);
	}
	write_segment(SEG_TR, (uint16_t)vmcs12_get(n, VMCS_HOST_TR_SELECTOR), HOST_TR_LIMIT,
		      VMX_AR_P | AR_TSS_BUSY, vmcs12_get(n, VMCS_HOST_TR_BASE));
	write_segment(SEG_LDTR, 0, 0, VMX_AR_UNUSABLE, 0);
	nvmx_vmwrite(VMCS_GUEST_GDTR_BASE, vmcs12_get(n, VMCS_HOST_GDTR_BASE));
	nvmx_vmwrite(VMCS_GUEST_GDTR_LIMIT, HOST_DT_LIMIT);
	nvmx_vmwrite(VMCS_GUEST_IDTR_BASE, vmcs12_get(n, VMCS_HOST_IDTR_BASE));
	nvmx_vmwrite(VMCS_GUEST_IDTR_LIMIT, HOST_DT_LIMIT);
	nvmx_vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	nvmx_vmwrite(VMCS_GUEST_ACTIVITY_STATE, VMX_ACTIVITY_ACTIVE);
	nvmx_vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	nvmx_vmwrite(VMCS_ENTRY_INTR_INFO, 0);

	st->cr0 = cr0;
	st->cr3 = vmcs12_get(n, VMCS_HOST_CR3);
	st->cr4 = cr4;
	st->efer = efer;
	st->rip = vmcs12_get(n, VMCS_HOST_RIP);
	st->rsp = vmcs12_get(n, VMCS_HOST_RSP);
	st->rflags = RFLAGS_FIXED;
	st->cs_base = 0;
	st->cs_long = long64;
	st->cs_db = !long64;
	st->cpl = 0;
	v->insn_skipped = false;
	load_exit_msrs(v, n);
}

static void to_vmcs01(struct vcpu *v, struct nvmx *n)
{
	enum vmx_result r = vmptrld(n->vv01->vmcs_pa);
	if (r != VMX_OK) {
		vmx_report_failure("VMPTRLD of VMCS01", r);
		guest_failure(v, "nested-vmx: cannot make VMCS01 current");
	}
	v->backend = n->vv01;
	v->level = 1;
	n->in_l2 = false;
}

void nvmx_entry_failure(struct vcpu *v, struct nvmx *n, uint32_t reason, uint64_t qualification)
{
	/* 26.8: exit reason with bit 31, the qualification, host state loaded; no guest state
	 * is saved and the VMCS stays unlaunched */
	vmcs12_save(n, VMCS_EXIT_REASON, reason | VMX_EXIT_REASON_ENTRY_FAILURE);
	vmcs12_save(n, VMCS_EXIT_QUALIFICATION, qualification);
	vmcs12_save(n, VMCS_EXIT_INTR_INFO, 0);
	uint64_t pat = n->vv01->load_pat ? nvmx_vmread(VMCS_GUEST_IA32_PAT) : 0;
	load_host_state(v, n, v->state.efer, pat);
}

void nvmx_vmexit(struct vcpu *v, struct nvmx *n, uint32_t reason, uint64_t qualification)
{
	struct vcpu_state *st = &v->state;
	/* VMCS02 is current: exit information and L2's state into VMCS12 */
	vmcs12_save(n, VMCS_EXIT_REASON, reason);
	vmcs12_save(n, VMCS_EXIT_QUALIFICATION, qualification);
	for (unsigned i = 0; i < sizeof(exit_info_fields) / sizeof(exit_info_fields[0]); i++)
		vmcs12_save(n, exit_info_fields[i], nvmx_vmread(exit_info_fields[i]));
	if (n->vv02.polled_exit) { /* an interrupt nestbed polled for (struct vmx_vcpu intr_poll) */
		vmcs12_save(n, VMCS_EXIT_INTR_INFO, n->vv02.polled_intr_info);
		vmcs12_save(n, VMCS_IDT_VECTORING_INFO, 0);
		n->vv02.polled_exit = false;
	}
	for (unsigned i = 0; i < sizeof(saved_fields) / sizeof(saved_fields[0]); i++)
		vmcs12_save(n, saved_fields[i], nvmx_vmread(saved_fields[i]));
	n->rare_stale = true; /* the rest stays in VMCS02 until needed */
	/* blocking by SMI is never L2's outside SMM, where nestbed never runs it (Bochs 2.7
	 * saves it for a CPU it started through a SIPI exit; vmx_backend.c drop_smi_blocking) */
	vmcs12_save(n, VMCS_GUEST_INTERRUPTIBILITY,
		   vmcs12_get(n, VMCS_GUEST_INTERRUPTIBILITY) & ~(uint64_t)VMX_INTERRUPTIBILITY_SMI);
	/* CR0/CR4 as L2 has them: VMCS02's value (nestbed's forced bits are forced for L2 too) */
	vmcs12_save(n, VMCS_GUEST_RIP, st->rip);
	vmcs12_save(n, VMCS_GUEST_RSP, st->rsp);
	vmcs12_save(n, VMCS_GUEST_RFLAGS, st->rflags);
	uint32_t exit12 = (uint32_t)vmcs12_get(n, VMCS_EXIT_CTLS);
	if (exit12 & VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS) {
		vmcs12_save(n, VMCS_GUEST_DR7, nvmx_vmread(VMCS_GUEST_DR7));
		vmcs12_save(n, VMCS_GUEST_IA32_DEBUGCTL, nvmx_vmread(VMCS_GUEST_IA32_DEBUGCTL));
	}
	uint64_t l2_pat = n->vv02.load_pat ? nvmx_vmread(VMCS_GUEST_IA32_PAT) : 0;
	if (exit12 & VMX_EXIT_CTL_SAVE_IA32_PAT)
		vmcs12_save(n, VMCS_GUEST_IA32_PAT, l2_pat);
	if (exit12 & VMX_EXIT_CTL_SAVE_IA32_EFER)
		vmcs12_save(n, VMCS_GUEST_IA32_EFER, st->efer);
	/* 27.3.4: the guest interrupt status with virtual-interrupt delivery (RVI, SVI) */
	if ((vmcs12_get(n, VMCS_PROC_BASED_CTLS) & VMX_PROC_ACTIVATE_SECONDARY) &&
	    (vmcs12_get(n, VMCS_PROC_BASED_CTLS2) & VMX_PROC2_VIRTUAL_INTR_DELIVERY))
		vmcs12_save(n, VMCS_GUEST_INTR_STATUS, nvmx_vmread(VMCS_GUEST_INTR_STATUS));
	/* 27.3.4: what is left of the timer (0 after its own exit), which VMCS02 saved */
	if ((exit12 & VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER) &&
	    (vmcs12_get(n, VMCS_PIN_BASED_CTLS) & VMX_PIN_PREEMPTION_TIMER))
		vmcs12_save(n, VMCS_PREEMPTION_TIMER_VALUE, nvmx_vmread(VMCS_PREEMPTION_TIMER_VALUE));
	if (nvmx_ept12(n))
		for (unsigned i = 0; i < 4; i++)
			vmcs12_save(n, VMCS_GUEST_PDPTE(i), nvmx_vmread(VMCS_GUEST_PDPTE(i)));
	/* 27.2: "IA-32e mode guest" follows L2's EFER.LMA; the entry event is consumed */
	uint64_t entry12 = vmcs12_get(n, VMCS_ENTRY_CTLS);
	entry12 = (st->efer & EFER_LMA) ? entry12 | VMX_ENTRY_CTL_IA32E_MODE_GUEST :
					  entry12 & ~(uint64_t)VMX_ENTRY_CTL_IA32E_MODE_GUEST;
	vmcs12_save(n, VMCS_ENTRY_CTLS, entry12);
	vmcs12_save(n, VMCS_ENTRY_INTR_INFO, vmcs12_get(n, VMCS_ENTRY_INTR_INFO) & ~(uint64_t)ENTRY_INTR_VALID);
	store_exit_msrs(v, n);
	uint64_t l2_efer = st->efer;
	to_vmcs01(v, n);
	load_host_state(v, n, l2_efer, l2_pat);
	nvmx_shadow_push(n); /* the exit information for L1's VMREADs */
}

/* The CPU refused VMCS02 after nestbed's VMCS12 checks (26.2-26.3) passed it: nestbed's
 * bug, never L1's. The CPU's failed entry loaded nestbed's host state (26.7: RIP, CR3, ...),
 * which must never reach VMCS12 as L2's: one line, the VMCS02 dump, and the run stops. */
static _Noreturn void vmcs02_refused(struct vcpu *v, uint32_t reason, uint64_t qualification)
{
	uint32_t basic = reason & VMX_EXIT_REASON_BASIC_MASK;
	kprintf("nestbed: nested-vmx: the CPU refused VMCS02 (exit reason %u with bit 31, %s, qualification "
		"%#llx: %s) after nestbed's VMCS12 checks passed: nestbed's bug, stopped\n", basic,
		vmx_exit_reason_name(basic), (unsigned long long)qualification,
		vmx_entry_failure_detail(basic, qualification));
	if (v->ops && v->ops->dump)
		v->ops->dump(v); /* VMCS02 is current */
	run_end(v, EXIT_CODE_FATAL);
}

bool nvmx_reflect_if_wanted(struct vcpu *v, struct exit *e)
{
	struct nvmx *n = nvmx_of(v);
	if (!n->in_l2)
		return false;
	uint32_t reason = (uint32_t)e->native_code;
	if (reason & VMX_EXIT_REASON_ENTRY_FAILURE)
		vmcs02_refused(v, reason, e->info1);
	if (nvmx_l2_vmcs_shadow_claims(v, n, e))
		return false; /* L2's VMREAD/VMWRITE of L1's shadow VMCS: emulated (l2_vm_insn) */
	if (!(reason & VMX_EXIT_REASON_ENTRY_FAILURE)) {
		nvmx_maps_refresh(n, e); /* L1's bitmap bits as they are now */
		uint32_t proc = (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS);
		struct nvmx_exit_controls c = {
			.pin = (uint32_t)vmcs12_get(n, VMCS_PIN_BASED_CTLS),
			.proc = proc,
			.proc2 = (proc & VMX_PROC_ACTIVATE_SECONDARY) ? (uint32_t)vmcs12_get(n, VMCS_PROC_BASED_CTLS2) : 0,
			.exception_bitmap = (uint32_t)vmcs12_get(n, VMCS_EXCEPTION_BITMAP),
			.pfec_mask = (uint32_t)vmcs12_get(n, VMCS_PF_ERROR_CODE_MASK),
			.pfec_match = (uint32_t)vmcs12_get(n, VMCS_PF_ERROR_CODE_MATCH),
			.cr0_mask = vmcs12_get(n, VMCS_CR0_GUEST_HOST_MASK),
			.cr0_shadow = vmcs12_get(n, VMCS_CR0_READ_SHADOW),
			.cr4_mask = vmcs12_get(n, VMCS_CR4_GUEST_HOST_MASK),
			.cr4_shadow = vmcs12_get(n, VMCS_CR4_READ_SHADOW),
			.cr3_target_count = (uint32_t)vmcs12_get(n, VMCS_CR3_TARGET_COUNT),
			.io_bitmaps = n->io_bitmaps12,
			.msr_bitmap = n->msr_bitmap12,
		};
		for (unsigned i = 0; i < 4; i++)
			c.cr3_targets[i] = vmcs12_get(n, 0x6008u + 2 * i);
		struct nvmx_exit_event ev = { .reason = reason & VMX_EXIT_REASON_BASIC_MASK,
					      .qualification = e->info1, .msr = e->u.msr };
		if (ev.reason == VMX_EXIT_REASON_EXCEPTION_NMI) {
			ev.intr_info = (uint32_t)nvmx_vmread(VMCS_EXIT_INTR_INFO);
			ev.error_code = (uint32_t)nvmx_vmread(VMCS_EXIT_INTR_ERROR_CODE);
		}
		if (ev.reason == VMX_EXIT_REASON_CR_ACCESS) {
			uint64_t *reg = vmx_gpr_slot(&v->state, (unsigned)((e->info1 >> CR_QUAL_GPR_SHIFT) & CR_QUAL_GPR_MASK));
			ev.cr_value = reg ? *reg : 0;
		}
		if (!nvmx_l1_wants_exit(&c, &ev))
			return nvmx_maps_retry(v, n, e); /* a stale merge's exit runs again */
	}
	nvmx_vmexit(v, n, reason, e->info1);
	return true;
}
