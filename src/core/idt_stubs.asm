; Entry stubs for all 256 IDT vectors: each pushes a dummy error code where the CPU
; pushes none (SDM vol.3 6.13), then its vector, then every GPR, and calls
; exception_dispatch(struct exception_frame *) in exception.c.
default rel
bits 64

extern exception_dispatch

section .text

%assign v 0
%rep 256
idt_stub_ %+ v:
%if (v = 8) || (v >= 10 && v <= 14) || (v = 17) || (v = 21) || (v = 29) || (v = 30)
%else
	push qword 0
%endif
	push qword v
	jmp idt_common
%assign v v + 1
%endrep

idt_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	mov rbx, rsp
	and rsp, -16
	call exception_dispatch
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                 ; vector and error code
	iretq

section .data
align 8
global idt_stub_table
idt_stub_table:
%assign v 0
%rep 256
	dq idt_stub_ %+ v
%assign v v + 1
%endrep
