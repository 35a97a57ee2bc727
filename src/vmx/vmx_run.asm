; The VMX world switch (SDM vol.3 26, 27.5): VM entry loads the guest's RSP and RIP from
; the VMCS, a VM exit loads the host's RSP and RIP from it and nothing else of the
; general-purpose registers: this stub keeps the others, both ways.
;
; int vmx_enter(struct gprs *gprs, uint64_t launched)
;   VMLAUNCH when launched is 0, else VMRESUME. HOST_RSP is written here, just before the
;   entry, so the exit stub finds `gprs` on top of the stack. Returns 0 after a VM exit,
;   1 for VMfailInvalid, 2 for VMfailValid (30.2); then the guest never ran.
; gprs: rax, rbx, rcx, rdx, rsi, rdi, rbp, r8..r15 (struct gprs in core/vcpu.h)
default rel
bits 64
section .text

%define G_RAX 0
%define G_RBX 8
%define G_RCX 16
%define G_RDX 24
%define G_RSI 32
%define G_RDI 40
%define G_RBP 48
%define G_R8 56
%define G_R9 64
%define G_R10 72
%define G_R11 80
%define G_R12 88
%define G_R13 96
%define G_R14 104
%define G_R15 112

%define VMCS_HOST_RSP 0x6C14          ; SDM vol.3 appendix B.4.4
%define VMX_ENTER_EXITED 0
%define VMX_ENTER_FAIL_INVALID 1
%define VMX_ENTER_FAIL_VALID 2

global vmx_enter
global vmx_exit_stub

vmx_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdi                    ; [rsp] = gprs, where HOST_RSP points

	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp            ; a failure here shows as the entry's own failure below

	test rsi, rsi               ; launched? the MOVs below leave the flags alone
	mov rax, [rdi + G_RAX]
	mov rbx, [rdi + G_RBX]
	mov rcx, [rdi + G_RCX]
	mov rdx, [rdi + G_RDX]
	mov rsi, [rdi + G_RSI]
	mov rbp, [rdi + G_RBP]
	mov r8,  [rdi + G_R8]
	mov r9,  [rdi + G_R9]
	mov r10, [rdi + G_R10]
	mov r11, [rdi + G_R11]
	mov r12, [rdi + G_R12]
	mov r13, [rdi + G_R13]
	mov r14, [rdi + G_R14]
	mov r15, [rdi + G_R15]
	mov rdi, [rdi + G_RDI]
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
	; Still here: the entry failed before loading guest state. CF=1: VMfailInvalid,
	; ZF=1: VMfailValid. The guest's values in our registers are dropped; the callee-
	; saved ones are restored below.
	mov eax, VMX_ENTER_FAIL_VALID
	mov ecx, VMX_ENTER_FAIL_INVALID
	cmovc eax, ecx
	add rsp, 8                  ; gprs
	jmp vmx_restore_host

; HOST_RIP: the CPU arrives here at every VM exit with RSP = HOST_RSP, RFLAGS = 2
; (IF=0), and the guest's general-purpose registers still live.
vmx_exit_stub:
	push rdi                    ; the guest's rdi; [rsp + 8] = gprs
	mov rdi, [rsp + 8]
	mov [rdi + G_RAX], rax
	mov [rdi + G_RBX], rbx
	mov [rdi + G_RCX], rcx
	mov [rdi + G_RDX], rdx
	mov [rdi + G_RSI], rsi
	mov [rdi + G_RBP], rbp
	mov [rdi + G_R8],  r8
	mov [rdi + G_R9],  r9
	mov [rdi + G_R10], r10
	mov [rdi + G_R11], r11
	mov [rdi + G_R12], r12
	mov [rdi + G_R13], r13
	mov [rdi + G_R14], r14
	mov [rdi + G_R15], r15
	pop rax
	mov [rdi + G_RDI], rax
	add rsp, 8                  ; gprs
	mov eax, VMX_ENTER_EXITED

vmx_restore_host:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
