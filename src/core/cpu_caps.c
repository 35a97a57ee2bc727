#include "core/cpu_caps.h"

#include "core/console.h"
#include "core/cpu.h"
#include "core/string.h"

/* CPUID Fn8000_000A_EDX feature names, APM vol.3 E.4.9. */
static const char *const svm_feature_names[] = {
	[0] = "np", [1] = "lbrv", [2] = "svml", [3] = "nrips", [4] = "tsc-rate",
	[5] = "vmcb-clean", [6] = "flush-by-asid", [7] = "decode-assists",
	[10] = "pause-filter", [12] = "pause-filter-threshold", [13] = "avic",
	[15] = "vmsave-virt", [16] = "vgif", [17] = "gmet",
};

static void detect_vmx(struct vmx_caps *v)
{
	v->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
	v->basic = rdmsr(MSR_IA32_VMX_BASIC);
	v->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	v->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	v->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	v->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	v->misc = rdmsr(MSR_IA32_VMX_MISC);
	v->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	v->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	v->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	v->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	v->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
	/* Each MSR below exists only when the capability naming it is offered (SDM vol.3 A.1-A.11). */
	if (v->procbased & VMX_PROCBASED_ACTIVATE_SECONDARY) {
		v->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if (v->procbased2 & (VMX_PROCBASED2_EPT | VMX_PROCBASED2_VPID))
			v->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
		if (v->procbased2 & VMX_PROCBASED2_VMFUNC)
			v->vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
	}
	if (v->basic & VMX_BASIC_TRUE_CTLS) {
		v->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		v->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		v->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		v->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
}

void cpu_caps_detect(struct cpu_caps *c)
{
	memset(c, 0, sizeof(*c));
	struct cpuid_regs r = cpuid(0, 0);
	c->max_leaf = r.eax;
	memcpy(c->vendor_string + 0, &r.ebx, 4);
	memcpy(c->vendor_string + 4, &r.edx, 4);
	memcpy(c->vendor_string + 8, &r.ecx, 4);
	c->vendor_string[12] = 0;
	if (!strcmp(c->vendor_string, "GenuineIntel"))
		c->vendor = CPU_VENDOR_INTEL;
	else if (!strcmp(c->vendor_string, "AuthenticAMD"))
		c->vendor = CPU_VENDOR_AMD;

	r = cpuid(1, 0);
	uint32_t base_family = (r.eax >> 8) & 0xF, base_model = (r.eax >> 4) & 0xF;
	c->family = base_family == 0xF ? base_family + ((r.eax >> 20) & 0xFF) : base_family;
	c->model = (base_family == 0x6 || base_family == 0xF) ?
			   (((r.eax >> 16) & 0xF) << 4) | base_model : base_model;
	c->stepping = r.eax & 0xF;
	c->vmx = (r.ecx & CPUID_1_ECX_VMX) != 0;
	c->x2apic = (r.ecx & CPUID_1_ECX_X2APIC) != 0;

	c->max_ext_leaf = cpuid(0x80000000u, 0).eax;
	if (c->max_ext_leaf >= 0x80000001u) {
		r = cpuid(0x80000001u, 0);
		c->svm = (r.ecx & CPUID_80000001_ECX_SVM) != 0;
		c->page1gb = (r.edx & CPUID_80000001_EDX_PAGE1GB) != 0;
	}
	c->maxphyaddr = MAXPHYADDR_DEFAULT;
	if (c->max_ext_leaf >= CPUID_ADDR_SIZE_LEAF)
		c->maxphyaddr = cpuid(CPUID_ADDR_SIZE_LEAF, 0).eax & 0xff;
	if (c->vmx)
		detect_vmx(&c->vmx_caps);
	if (c->svm && c->max_ext_leaf >= CPUID_SVM_LEAF) {
		r = cpuid(CPUID_SVM_LEAF, 0);
		c->svm_caps.revision = r.eax & 0xFF;
		c->svm_caps.nasid = r.ebx;
		c->svm_caps.features = r.edx;
		c->svm_caps.vm_cr = rdmsr(MSR_VM_CR);
	}
}

#define X(v) ((unsigned long long)(v))

void cpu_caps_print(const struct cpu_caps *c)
{
	kprintf("nestbed: cpu vendor=%s family=%#x model=%#x stepping=%#x virt=%s page1gb=%d\n",
		c->vendor_string, c->family, c->model, c->stepping,
		c->vmx ? (c->svm ? "vmx+svm" : "vmx") : c->svm ? "svm" : "none", c->page1gb);
	if (c->svm) {
		const struct svm_caps *s = &c->svm_caps;
		kprintf("nestbed: svm revision=%u nasid=%u features=%#010x vm_cr=%#llx",
			s->revision, s->nasid, s->features, X(s->vm_cr));
		for (unsigned bit = 0; bit < sizeof(svm_feature_names) / sizeof(svm_feature_names[0]); bit++)
			if (svm_feature_names[bit])
				kprintf(" %s=%u", svm_feature_names[bit], (s->features >> bit) & 1);
		kprintf("\n");
	}
	if (c->vmx) {
		const struct vmx_caps *v = &c->vmx_caps;
		kprintf("nestbed: vmx basic=%#llx feature_control=%#llx pinbased=%#llx procbased=%#llx "
			"procbased2=%#llx exit=%#llx entry=%#llx misc=%#llx\n",
			X(v->basic), X(v->feature_control), X(v->pinbased), X(v->procbased),
			X(v->procbased2), X(v->exit), X(v->entry), X(v->misc));
		kprintf("nestbed: vmx cr0_fixed0=%#llx cr0_fixed1=%#llx cr4_fixed0=%#llx cr4_fixed1=%#llx "
			"vmcs_enum=%#llx ept_vpid=%#llx vmfunc=%#llx\n",
			X(v->cr0_fixed0), X(v->cr0_fixed1), X(v->cr4_fixed0), X(v->cr4_fixed1),
			X(v->vmcs_enum), X(v->ept_vpid), X(v->vmfunc));
		kprintf("nestbed: vmx true_pinbased=%#llx true_procbased=%#llx true_exit=%#llx true_entry=%#llx\n",
			X(v->true_pinbased), X(v->true_procbased), X(v->true_exit), X(v->true_entry));
	}
}
