; UEFI entry of a conformance guest, second half: after ExitBootServices, efi_main()
; (efi_main.c) calls efi_enter_runtime(pml4) on the firmware's stack, GDT and page
; tables. This loads the runtime's GDT (the selectors of entry.asm and layout.h),
; reloads every segment register, switches to the runtime's identity map and its own
; stack, and calls efi_runtime_start(). The firmware's state is never used again.
;
; Position independent (gnu-efi relocates the image where the firmware loaded it):
; RIP-relative addressing only; the 64-bit addresses in .data are relocated by crt0.

default rel

GDT_CODE64 equ 0x18
GDT_DATA   equ 0x10
BOOT_STACK_SIZE equ 16384

extern efi_runtime_start

section .text
bits 64
global efi_enter_runtime
efi_enter_runtime:                       ; rdi = the runtime's PML4 (physical = virtual)
	cli
	cld
	lgdt [boot_gdt_pointer]
	lea rax, [.reload_cs]
	push qword GDT_CODE64
	push rax
	o64 retf                             ; far return: CS = GDT_CODE64
.reload_cs:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov cr3, rdi                         ; the code and the GDT are identity-mapped in both
	lea rsp, [boot_stack_top]
	xor ebp, ebp                         ; ends frame-pointer backtraces
	call efi_runtime_start
.halt:
	cli
	hlt
	jmp .halt

section .data
align 16
global boot_gdt
boot_gdt:                                ; the same layout as entry.asm's
	dq 0                                 ; null
	dq 0x00cf9a000000ffff                ; 0x08: 32-bit code, flat
	dq 0x00cf92000000ffff                ; 0x10: data, flat
	dq 0x00af9a000000ffff                ; 0x18: 64-bit code (L=1)
	dq 0, 0                              ; 0x20: 64-bit TSS, written by tss.c
boot_gdt_end:
align 8
	dw 0, 0, 0                           ; puts the base at an 8-byte boundary
boot_gdt_pointer:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt

; conformance-efi.lds folds .bss into .data (the PE has no .bss); the guard page is
; page-aligned within the image, which the firmware loads page-aligned.
section .bss
align 4096
global boot_stack_guard
boot_stack_guard:      resb 4096           ; not present (efi_paging.c)
boot_stack:            resb BOOT_STACK_SIZE
global boot_stack_top
boot_stack_top:
