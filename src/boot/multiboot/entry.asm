; nestbed's Multiboot 1 entry: 32-bit protected mode -> long mode -> the high half.
; Multiboot spec 0.6.96, 3.1 (header) and 3.2 (machine state at entry).

MB_MAGIC            equ 0x1BADB002
MB_BOOTLOADER_MAGIC equ 0x2BADB002
MB_FLAG_PAGE_ALIGN  equ 1 << 0        ; modules page aligned
MB_FLAG_MEMINFO     equ 1 << 1        ; mem_* and mmap_* fields
MB_FLAG_ADDRESSES   equ 1 << 16       ; header_addr..entry_addr are valid (a.out kludge)
MB_FLAGS            equ MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_ADDRESSES

KERNEL_VMA          equ 0xFFFFFFFF80000000

CR0_PG              equ 1 << 31
CR0_NW              equ 1 << 29
CR0_CD              equ 1 << 30
CR4_PAE             equ 1 << 5
MSR_EFER            equ 0xC0000080
EFER_LME            equ 1 << 8
PTE_P               equ 1 << 0
PTE_W               equ 1 << 1
PTE_PS              equ 1 << 7

BOOT_STACK_SIZE     equ 16384

extern _mb_load_start, _mb_load_end, _mb_bss_end
extern multiboot_start

section .multiboot progbits alloc noexec nowrite align=4
bits 32
mb_header:
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)
	dd mb_header                ; header_addr
	dd _mb_load_start           ; load_addr
	dd _mb_load_end             ; load_end_addr
	dd _mb_bss_end              ; bss_end_addr
	dd mb_entry32               ; entry_addr

section .boot32 progbits alloc exec nowrite align=16
bits 32
global mb_entry32
mb_entry32:
	cli
	cld
	mov esp, boot_stack_top32
	mov edi, eax                ; Multiboot magic, kept for C
	mov esi, ebx                ; Multiboot information (physical)

	; Identity-map 0-4 GiB with 2 MiB pages: four page directories.
	mov ecx, 0
.fill_pd:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	mov [boot_pd + ecx * 8], eax
	mov eax, ecx
	shr eax, 11                 ; bits 32+ of (ecx << 21)
	mov [boot_pd + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, 4 * 512
	jne .fill_pd

	; PDPT[0..3] -> the four directories (identity); the high-half PDPT's entry 510
	; (0xFFFFFFFF80000000) reuses the first directory, so VMA = KERNEL_VMA + phys.
	mov eax, boot_pd
	or eax, PTE_P | PTE_W
	mov [boot_pdpt_low], eax
	add eax, 4096
	mov [boot_pdpt_low + 8], eax
	add eax, 4096
	mov [boot_pdpt_low + 16], eax
	add eax, 4096
	mov [boot_pdpt_low + 24], eax
	mov eax, boot_pd
	or eax, PTE_P | PTE_W
	mov [boot_pdpt_high + 510 * 8], eax
	mov eax, boot_pdpt_low
	or eax, PTE_P | PTE_W
	mov [boot_pml4], eax
	mov eax, boot_pdpt_high
	or eax, PTE_P | PTE_W
	mov [boot_pml4 + 511 * 8], eax

	mov eax, boot_pml4
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	; Caches on: a loader may hand over with CR0.CD/NW set (GRUB on Bochs does), and
	; everything nestbed and its guests do would run uncached (SDM vol.3 11.5.1).
	mov eax, cr0
	and eax, ~(CR0_CD | CR0_NW)
	or eax, CR0_PG
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp 0x08:mb_entry64

section .boot64 progbits alloc exec nowrite align=16
bits 64
mb_entry64:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor ax, ax
	mov fs, ax
	mov gs, ax
	; Into the high half: the stack and everything after here use high addresses.
	mov rax, strict qword boot_stack64_top
	mov rsp, rax
	mov rax, strict qword multiboot_start
	; rdi = magic, rsi = info (zero-extended by the 32-bit moves above)
	mov edi, edi
	mov esi, esi
	xor ebp, ebp
	call rax
.hang:
	cli
	hlt
	jmp .hang

section .bootdata progbits alloc noexec write align=4096
align 4096
boot_pml4:      times 4096 db 0
boot_pdpt_low:  times 4096 db 0
boot_pdpt_high: times 4096 db 0
boot_pd:        times 4 * 4096 db 0

boot_gdt:
	dq 0
	dq 0x00AF9A000000FFFF       ; 0x08: 64-bit code, present, DPL 0
	dq 0x00CF92000000FFFF       ; 0x10: data
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dd boot_gdt

align 16
boot_stack:     times 4096 db 0
boot_stack_top32:

; The 64-bit boot stack lives in .bss (high half), so it moves with the image.
section .bss
align 16
global boot_stack64
boot_stack64:   resb BOOT_STACK_SIZE
boot_stack64_top:
