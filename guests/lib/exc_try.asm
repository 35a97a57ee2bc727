; bool exc_try(struct exc_record *record, void (*fn)(void *), void *arg)
;
; Calls fn(arg) with an exception catcher armed. If fn returns, exc_try returns false.
; If fn raises an exception, exception_dispatch() fills *record, unlinks the catcher and
; makes the interrupt return land on exc_try_resume with RSP at the catcher, and
; exc_try returns true. Catchers nest: each lives in its exc_try's stack frame.
;
; The catcher (struct exc_try_context in exception.c): record, previous, padding.

extern exc_try_top

section .text
bits 64

global exc_try
exc_try:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	sub rsp, 24                       ; the catcher; RSP is 16-byte aligned again
	mov [rsp + 0], rdi
	mov rax, [rel exc_try_top]
	mov [rsp + 8], rax
	mov qword [rsp + 16], 0
	mov [rel exc_try_top], rsp
	mov rdi, rdx
	call rsi
	mov rax, [rsp + 8]                ; fn returned: unlink the catcher
	mov [rel exc_try_top], rax
	xor eax, eax
.return:
	add rsp, 24
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

global exc_try_resume
exc_try_resume:                           ; RSP = the catcher, already unlinked
	mov eax, 1
	jmp exc_try.return
