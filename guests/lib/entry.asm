; Multiboot 1 entry of a conformance guest: 32-bit protected mode -> long mode -> C.
;
; The loader (QEMU -kernel, GRUB `multiboot`) copies the file flat to 1 MiB using the
; header's address fields (flags bit 16), because QEMU refuses 64-bit ELF images.
; Then: check the magic, clear .bss, identity-map the first 4 GiB (2 MiB pages; the
; first 2 MiB in 4 KiB pages with page 0 and the stack guard page absent), enable
; long mode, call guest_start(multiboot_info_phys). Selectors and the map match
; layout.h.

MB_HEADER_MAGIC   equ 0x1BADB002           ; Multiboot 0.6.96, 3.1.1
MB_PAGE_ALIGN     equ 1 << 0               ; modules on 4 KiB boundaries
MB_MEMORY_INFO    equ 1 << 1               ; mem_* and mmap_* wanted
MB_ADDRESS_FIELDS equ 1 << 16              ; header_addr..entry_addr are valid (3.1.3)
MB_HEADER_FLAGS   equ MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_ADDRESS_FIELDS
MB_BOOT_MAGIC     equ 0x2BADB002           ; in EAX at entry, 3.2

GDT_CODE64 equ 0x18
GDT_DATA   equ 0x10

PTE_PRESENT  equ 1 << 0                    ; SDM vol.3A 4.5, Tables 4-15..4-20
PTE_WRITABLE equ 1 << 1
PDE_LARGE    equ 1 << 7                    ; 2 MiB page
CR0_PE       equ 1 << 0                    ; SDM vol.3A 2.5
CR0_WP       equ 1 << 16
CR0_NW       equ 1 << 29
CR0_CD       equ 1 << 30                   ; left set by some firmware: caching off
CR0_PG       equ 1 << 31
CR4_PAE      equ 1 << 5
MSR_EFER     equ 0xC0000080
EFER_LME     equ 1 << 8

PD_COUNT     equ 4                         ; 4 page directories x 1 GiB = 4 GiB
BOOT_STACK_SIZE equ 16384

COM1_THR equ 0x3f8
COM1_LSR equ 0x3fd
QEMU_DEBUG_EXIT_PORT equ 0xf4
BOCHS_SHUTDOWN_PORT  equ 0x8900
EXIT_FATAL equ 2

extern guest_image_start, guest_load_end, guest_bss_start, guest_bss_end
extern guest_start

section .multiboot progbits alloc noexec nowrite align=4
multiboot_header:
	dd MB_HEADER_MAGIC
	dd MB_HEADER_FLAGS
	dd -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)
	dd multiboot_header      ; header_addr
	dd guest_image_start     ; load_addr
	dd guest_load_end        ; load_end_addr
	dd guest_bss_end         ; bss_end_addr
	dd multiboot_entry       ; entry_addr

section .text.entry progbits alloc exec nowrite align=16
bits 32
global multiboot_entry
multiboot_entry:
	cli
	cld
	cmp eax, MB_BOOT_MAGIC
	jne .bad_magic
	mov esi, ebx                     ; Multiboot information (physical address)

	; The loader zeroes .bss already; doing it here too costs little and makes the
	; page tables and the stack safe under any loader.
	mov edi, guest_bss_start
	mov ecx, guest_bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	mov esp, boot_stack_top

	; PML4[0] -> PDPT; PDPT[0..3] -> the four page directories.
	mov dword [boot_pml4], boot_pdpt + PTE_PRESENT + PTE_WRITABLE
	mov edi, boot_pdpt
	mov eax, boot_page_directories + PTE_PRESENT + PTE_WRITABLE
	mov ecx, PD_COUNT
.fill_pdpt:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .fill_pdpt

	; 2048 PDEs of 2 MiB each; the high dwords stay 0 (all below 4 GiB).
	mov edi, boot_page_directories
	mov eax, PTE_PRESENT + PTE_WRITABLE + PDE_LARGE
	mov ecx, 512 * PD_COUNT
.fill_pd:
	mov [edi], eax
	add eax, 0x200000
	add edi, 8
	loop .fill_pd

	; The first 2 MiB through a page table, page 0 not present (NULL guard).
	mov dword [boot_page_directories], boot_low_page_table + PTE_PRESENT + PTE_WRITABLE
	mov edi, boot_low_page_table + 8
	mov eax, 0x1000 + PTE_PRESENT + PTE_WRITABLE
	mov ecx, 511
.fill_pt:
	mov [edi], eax
	add eax, 0x1000
	add edi, 8
	loop .fill_pt

	; A stack overflow must fault (#PF, then #DF on its own IST stack) instead of
	; running over .bss: unmap the page below the stack (in the first 2 MiB, guest.ld).
	mov eax, boot_stack_guard
	shr eax, 12
	mov dword [boot_low_page_table + eax * 8], 0

	; Long mode: SDM vol.3A 10.8.5 "Initializing IA-32e mode".
	mov eax, boot_pml4
	mov cr3, eax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PE | CR0_PG | CR0_WP
	and eax, ~(CR0_CD | CR0_NW)
	mov cr0, eax
	lgdt [boot_gdt_pointer]
	jmp GDT_CODE64:.long_mode

.bad_magic:
	; Not started by a Multiboot loader: say so on COM1 (as the BIOS left it) and stop.
	mov esi, bad_magic_message
.next_char:
	lodsb
	test al, al
	jz .stop
	mov ah, al
	mov dx, COM1_LSR
.wait_thr:
	in al, dx
	test al, 0x20
	jz .wait_thr
	mov al, ah
	mov dx, COM1_THR
	out dx, al
	jmp .next_char
.stop:
	mov al, EXIT_FATAL
	out QEMU_DEBUG_EXIT_PORT, al
	mov esi, bochs_shutdown
	mov dx, BOCHS_SHUTDOWN_PORT
	mov ecx, 8
	rep outsb
.halt32:
	cli
	hlt
	jmp .halt32

bits 64
.long_mode:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top          ; the upper halves are undefined after the switch
	xor ebp, ebp                     ; ends frame-pointer backtraces
	mov edi, esi                     ; guest_start(multiboot_info_phys)
	call guest_start
.halt64:
	cli
	hlt
	jmp .halt64

section .rodata
bad_magic_message:
	db "conformance: not started by a Multiboot loader (EAX is not 0x2BADB002)", 10
	db "exit-port: 2", 10, 0
bochs_shutdown:
	db "Shutdown"

section .data
align 16
global boot_gdt
boot_gdt:
	dq 0                             ; null
	dq 0x00cf9a000000ffff            ; 0x08: 32-bit code, flat
	dq 0x00cf92000000ffff            ; 0x10: data, flat
	dq 0x00af9a000000ffff            ; 0x18: 64-bit code (L=1)
	dq 0, 0                          ; 0x20: 64-bit TSS, written by tss.c
boot_gdt_end:
align 8
	dw 0                             ; puts the base at an 8-byte boundary
boot_gdt_pointer:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt                      ; 32-bit lgdt reads the low 4 bytes only

section .bss
align 4096
boot_pml4:             resb 4096
boot_pdpt:             resb 4096
boot_page_directories: resb 4096 * PD_COUNT
boot_low_page_table:   resb 4096
align 4096
global boot_stack_guard
boot_stack_guard:      resb 4096           ; not present
boot_stack:            resb BOOT_STACK_SIZE
global boot_stack_top
boot_stack_top:
