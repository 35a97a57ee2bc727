; One entry stub per IDT vector. Each gives the common path the same frame
; (struct exception_frame in exception.h): a 0 error code where the CPU pushes none,
; then the vector, then the general-purpose registers.

extern exception_dispatch

; Vectors for which the CPU pushes an error code: SDM vol.3A 6.15, Table 6-1.
%define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text
bits 64

%assign vector 0
%rep 256
align 16
exception_stub_ %+ vector:
%if HAS_ERROR_CODE(vector)
	push qword vector
%else
	push qword 0
	push qword vector
%endif
	jmp exception_common
%assign vector vector + 1
%endrep

; 64-bit mode aligns RSP to 16 before pushing the interrupt frame; 5 + 2 + 15 pushes
; of 8 bytes keep it aligned for the call.
exception_common:
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
	cld
	mov rdi, rsp
	call exception_dispatch           ; may rewrite the frame (exc_try resumes)
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
	add rsp, 16                       ; vector and error code
	iretq

section .rodata
align 8
global exception_stub_table
exception_stub_table:
%assign vector 0
%rep 256
	dq exception_stub_ %+ vector
%assign vector vector + 1
%endrep
