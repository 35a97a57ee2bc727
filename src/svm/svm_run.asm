; The SVM world switch (APM vol.2 15.5): VMRUN saves the host's RIP, RSP, RAX and
; segment state in the host-save area and restores them at #VMEXIT; everything else
; is ours to keep. VMLOAD/VMSAVE move the state VMRUN leaves alone (FS, GS, TR, LDTR,
; KernelGSBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*) between the CPU and a VMCB.
;
; void svm_world_switch(uint64_t guest_vmcb_pa, struct gprs *gprs, uint64_t host_vmcb_pa,
;                       uint64_t host_if, uint64_t state_vmcb_pa)
; state_vmcb_pa: the VMCB the guest's VMLOAD/VMSAVE state is loaded from and saved to
; around VMRUN: the guest VMCB, or L1's while its L2 runs (that state stays in the CPU
; across a nested VMRUN and #VMEXIT, APM 15.5.2, so L1 and L2 share one copy).
; host_if: run the guest with the host's RFLAGS.IF set (an L2 whose L1 had IF=1 at its
; VMRUN: with V_INTR_MASKING, physical interrupts follow the host's IF). GIF is 0 around
; here, so no interrupt is taken in nestbed between STI and VMRUN or VMRUN and CLI.
; gprs: rax (unused: the VMCB has it), rbx, rcx, rdx, rsi, rdi, rbp, r8..r15
default rel
bits 64
section .text

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

global svm_world_switch
global svm_vmexit_return
svm_world_switch:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdx                    ; [rsp+24] host VMCB
	push rsi                    ; [rsp+16] gprs
	push rdi                    ; [rsp+8]  guest VMCB
	push r8                     ; [rsp]    the guest's VMLOAD/VMSAVE state

	test rcx, rcx
	jz .interrupts_stay_off
	sti
.interrupts_stay_off:
	mov rax, rdx
	vmsave                      ; host's FS/GS/TR/LDTR/syscall MSRs
	mov rax, [rsp]
	vmload                      ; the guest's
	mov rax, [rsp + 8]          ; the guest VMCB, for VMRUN

	mov rbx, [rsi + G_RBX]
	mov rcx, [rsi + G_RCX]
	mov rdx, [rsi + G_RDX]
	mov rdi, [rsi + G_RDI]
	mov rbp, [rsi + G_RBP]
	mov r8,  [rsi + G_R8]
	mov r9,  [rsi + G_R9]
	mov r10, [rsi + G_R10]
	mov r11, [rsi + G_R11]
	mov r12, [rsi + G_R12]
	mov r13, [rsi + G_R13]
	mov r14, [rsi + G_R14]
	mov r15, [rsi + G_R15]
	mov rsi, [rsi + G_RSI]

	vmrun                       ; rax = guest VMCB; returns at #VMEXIT with GIF=0
svm_vmexit_return:              ; where Bochs raises a guest's single-step #DB
	cli

	mov rax, [rsp]
	vmsave                      ; the guest's state
	mov rax, [rsp + 16]         ; gprs
	mov [rax + G_RBX], rbx
	mov [rax + G_RCX], rcx
	mov [rax + G_RDX], rdx
	mov [rax + G_RSI], rsi
	mov [rax + G_RDI], rdi
	mov [rax + G_RBP], rbp
	mov [rax + G_R8],  r8
	mov [rax + G_R9],  r9
	mov [rax + G_R10], r10
	mov [rax + G_R11], r11
	mov [rax + G_R12], r12
	mov [rax + G_R13], r13
	mov [rax + G_R14], r14
	mov [rax + G_R15], r15

	mov rax, [rsp + 24]
	vmload                      ; the host's state back
	add rsp, 32
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
