; RDMSR/WRMSR/XSETBV that report a #GP instead of crashing nestbed: the caller arms
; exception_expect(13, *_resume) first (see msr_safe.c).
default rel
bits 64
section .text

; uint64_t msr_safe_rdmsr_raw(uint32_t msr)
global msr_safe_rdmsr_raw, msr_safe_rdmsr_resume
msr_safe_rdmsr_raw:
	mov ecx, edi
	xor eax, eax
	xor edx, edx
	rdmsr
msr_safe_rdmsr_resume:
	shl rdx, 32
	or rax, rdx
	ret

; void msr_safe_wrmsr_raw(uint32_t msr, uint64_t value)
global msr_safe_wrmsr_raw, msr_safe_wrmsr_resume
msr_safe_wrmsr_raw:
	mov ecx, edi
	mov eax, esi
	mov rdx, rsi
	shr rdx, 32
	wrmsr
msr_safe_wrmsr_resume:
	ret

; void msr_safe_xsetbv_raw(uint32_t index, uint64_t value)
global msr_safe_xsetbv_raw, msr_safe_xsetbv_resume
msr_safe_xsetbv_raw:
	mov ecx, edi
	mov eax, esi
	mov rdx, rsi
	shr rdx, 32
	xsetbv
msr_safe_xsetbv_resume:
	ret
