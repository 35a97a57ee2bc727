; The mini-hypervisor's world switches and L2's runtime stubs.
;
; int  mhv_vmx_enter(struct mhv_gprs *gprs, int resume)
;      VMLAUNCH (resume = 0) or VMRESUME L2 with gprs loaded; returns 0 after a VM exit
;      with gprs saved, 1 on VMfailInvalid, 2 on VMfailValid. VM exits restore only
;      RSP and RIP of the host (SDM vol.3C 28.5): the stub keeps the rest on its stack.
; void mhv_svm_enter(struct mhv_gprs *gprs, uint64_t vmcb_pa)
;      CLGI; VMRUN; STGI with gprs loaded (RAX lives in the VMCB); saves them after the
;      #VMEXIT, which restores only RAX, RSP and RIP of the host (APM vol.2 15.6).
;
; L2 side: mhv_l2_stub_table (IDT handlers that record the event in mhv_l2_event and
; report it with the hypercall RAX = MHV_HC_EVENT, then IRETQ when L1 resumes them) and
; mhv_l2_return (where an L2 function returns to: hypercall RAX = MHV_HC_DONE).
; The hypercall is VMMCALL under SVM and VMCALL under VMX (mhv_l2_svm), 3 bytes each.

extern mhv_l2_event, mhv_l2_svm, mhv_l2_result

; struct mhv_gprs (mhv.h)
G_RAX equ 0
G_RBX equ 8
G_RCX equ 16
G_RDX equ 24
G_RSI equ 32
G_RDI equ 40
G_RBP equ 48
G_R8  equ 56
G_R9  equ 64
G_R10 equ 72
G_R11 equ 80
G_R12 equ 88
G_R13 equ 96
G_R14 equ 104
G_R15 equ 112
G_CR2 equ 120

; struct mhv_l2_event (mhv.h)
E_VECTOR equ 0
E_ERROR  equ 8
E_RIP    equ 16
E_CS     equ 24
E_RFLAGS equ 32
E_RSP    equ 40
E_SS     equ 48
E_CR2    equ 56
E_COUNT  equ 64

VMCS_HOST_RSP equ 0x6c14
VMCS_HOST_RIP equ 0x6c16

MHV_HC_DONE  equ 0x4d48562d444f4e45
MHV_HC_EVENT equ 0x4d48562d45564e54

%macro LOAD_GUEST_GPRS 0                  ; rdi = gprs; all but RAX (and RDI last)
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
%endmacro

%macro SAVE_GUEST_GPRS 0                  ; [rsp] = gprs pointer: saves all but RAX
	xchg rdi, [rsp]                   ; rdi = gprs, [rsp] = L2's RDI
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
	pop rbx
	mov [rdi + G_RDI], rbx
%endmacro

%macro PUSH_CALLEE_SAVED 0
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
%endmacro

%macro POP_CALLEE_SAVED 0
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
%endmacro

section .text
bits 64

global mhv_vmx_enter
mhv_vmx_enter:
	PUSH_CALLEE_SAVED
	push rdi                          ; found again at [rsp] after the exit
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	mov rax, VMCS_HOST_RIP
	lea rdx, [rel .vm_exit]
	vmwrite rax, rdx
	mov rax, [rdi + G_CR2]            ; VMX does not switch CR2
	mov cr2, rax
	mov rax, [rdi + G_RAX]
	test esi, esi                     ; MOVs below keep the flags
	LOAD_GUEST_GPRS
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:                                  ; CF=1 VMfailInvalid, ZF=1 VMfailValid
	pop rdi
	mov eax, 1
	jc .out
	mov eax, 2
	jz .out
	mov eax, 3
.out:
	POP_CALLEE_SAVED
	ret
.vm_exit:
	push rax                          ; L2's RAX
	mov rax, [rsp + 8]
	pop qword [rax + G_RAX]
	SAVE_GUEST_GPRS
	mov rax, cr2
	mov [rdi + G_CR2], rax
	xor eax, eax
	POP_CALLEE_SAVED
	ret

global mhv_svm_enter
mhv_svm_enter:
	PUSH_CALLEE_SAVED
	push rdi
	mov rax, rsi                      ; the VMCB
	clgi
	LOAD_GUEST_GPRS
	vmrun
	SAVE_GUEST_GPRS                   ; RAX is in the VMCB
	stgi
	POP_CALLEE_SAVED
	ret

; L2's way back to L1: the vendor's hypercall with RAX = the function.
%macro L2_HYPERCALL 0
	cmp byte [rel mhv_l2_svm], 0
	je %%vmcall
	vmmcall
	jmp %%done
%%vmcall:
	vmcall
%%done:
%endmacro

global mhv_l2_return
mhv_l2_return:
	mov [rel mhv_l2_result], rax      ; the L2 function's return value
.again:
	mov rax, MHV_HC_DONE
	L2_HYPERCALL
	jmp .again

; Vectors for which the CPU pushes an error code: SDM vol.3A 6.15, Table 6-1.
%define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%assign vector 0
%rep 256
align 16
mhv_l2_stub_ %+ vector:
%if HAS_ERROR_CODE(vector)
	push qword vector
%else
	push qword 0
	push qword vector
%endif
	jmp mhv_l2_event_common
%assign vector vector + 1
%endrep

mhv_l2_event_common:                      ; [rsp] vector, error, rip, cs, rflags, rsp, ss
	push rax
	push rbx
	lea rbx, [rel mhv_l2_event]
	mov rax, [rsp + 16]
	mov [rbx + E_VECTOR], rax
	mov rax, [rsp + 24]
	mov [rbx + E_ERROR], rax
	mov rax, [rsp + 32]
	mov [rbx + E_RIP], rax
	mov rax, [rsp + 40]
	mov [rbx + E_CS], rax
	mov rax, [rsp + 48]
	mov [rbx + E_RFLAGS], rax
	mov rax, [rsp + 56]
	mov [rbx + E_RSP], rax
	mov rax, [rsp + 64]
	mov [rbx + E_SS], rax
	mov rax, cr2
	mov [rbx + E_CR2], rax
	inc qword [rbx + E_COUNT]
	mov rax, MHV_HC_EVENT
	L2_HYPERCALL
	pop rbx
	pop rax
	add rsp, 16                       ; vector and error code
	iretq

section .rodata
align 8
global mhv_l2_stub_table
mhv_l2_stub_table:
%assign vector 0
%rep 256
	dq mhv_l2_stub_ %+ vector
%assign vector vector + 1
%endrep
