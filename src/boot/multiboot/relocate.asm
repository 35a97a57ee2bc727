; relocate_and_switch(dst_phys, src_virt, bytes, new_cr3): copies nestbed's image to
; dst_phys (reached through the identity map) and switches to page tables that map the
; image's virtual addresses there. The return address was pushed before the copy, so
; `ret` finds it in the copy; nothing is written to memory between copy and switch.
bits 64
default rel
section .text
global relocate_and_switch
relocate_and_switch:
	mov rax, rcx                ; new_cr3
	mov rcx, rdx                ; bytes
	cld
	rep movsb                   ; rdi = dst_phys, rsi = src_virt
	mov cr3, rax
	ret
