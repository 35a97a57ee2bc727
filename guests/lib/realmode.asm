; realmode_int (realmode.h): a software interrupt in real mode from the 64-bit guest.
;
; realmode_enter() runs after realmode.c has copied the blob below to REALMODE_BASE and
; written the registers into its data area. Down: 64-bit -> compatibility mode (boot
; GDT's 32-bit code) -> paging off (LMA = 0), EFER.LME = 0 -> the blob's own GDT,
; 16-bit protected mode (64 KiB segments) -> CR0.PE = 0, real mode at REALMODE_SEGMENT:
; IVT at 0, `int n`. Up: protected mode with the blob's GDT -> CR4, CR3, EFER, the boot
; GDT, CR0 (paging, LMA = 1) -> 64-bit code -> IDT, stack, and back to the caller.
; SDM vol.3A 10.9.2 (back to real mode) and 10.8.5 (into IA-32e mode).

REALMODE_BASE  equ 0x6000                 ; realmode.h
REALMODE_SEG   equ REALMODE_BASE >> 4
REALMODE_STACK equ 0x2000                 ; SP: the top of REALMODE_END, as an offset

; the data area (offsets in the segment); the first 32 bytes are struct realmode_regs
DATA       equ 0x600
D_EAX      equ DATA + 0x00
D_EBX      equ DATA + 0x04
D_ECX      equ DATA + 0x08
D_EDX      equ DATA + 0x0c
D_ESI      equ DATA + 0x10
D_EDI      equ DATA + 0x14
D_EBP      equ DATA + 0x18
D_ES       equ DATA + 0x1c
D_DS       equ DATA + 0x1e
D_EFLAGS   equ DATA + 0x20
S_CR0      equ DATA + 0x40
S_CR3      equ DATA + 0x44
S_CR4      equ DATA + 0x48
S_EFER_LO  equ DATA + 0x4c
S_EFER_HI  equ DATA + 0x50
S_GDTR     equ DATA + 0x58                ; 10 bytes (64-bit form; lgdt in 32-bit reads 6)
S_IDTR     equ DATA + 0x68                ; 10 bytes
S_RSP      equ DATA + 0x78
S_RET      equ DATA + 0x80

BOOT_CODE32 equ 0x08                      ; layout.h
BOOT_DATA   equ 0x10
BOOT_CODE64 equ 0x18
RM_CODE32   equ 0x08                      ; the blob's GDT
RM_DATA32   equ 0x10
RM_CODE16   equ 0x18
RM_DATA16   equ 0x20

MSR_EFER   equ 0xC0000080
EFER_LME   equ 1 << 8
EFER_LMA   equ 1 << 10
CR0_PE     equ 1 << 0
CR0_PG     equ 1 << 31

%define LOW(x) (REALMODE_BASE + (x) - realmode_blob)   ; physical address in the copy
%define OFF(x) ((x) - realmode_blob)                   ; offset in REALMODE_SEG

global realmode_blob, realmode_blob_end, realmode_vector_offset, realmode_enter

section .rodata
align 4
realmode_vector_offset: dd OFF(int_insn) + 1   ; the imm8 of `int n` in the copy

section .text
bits 64
realmode_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	pushfq
	cli
	mov [abs REALMODE_BASE + S_RSP], rsp
	lea rax, [rel .back]
	mov [abs REALMODE_BASE + S_RET], rax
	mov rax, cr0
	mov [abs REALMODE_BASE + S_CR0], eax
	mov rax, cr3
	mov [abs REALMODE_BASE + S_CR3], eax  ; the guest's tables lie below 4 GiB
	mov rax, cr4
	mov [abs REALMODE_BASE + S_CR4], eax
	mov ecx, MSR_EFER
	rdmsr
	mov [abs REALMODE_BASE + S_EFER_LO], eax
	mov [abs REALMODE_BASE + S_EFER_HI], edx
	sgdt [abs REALMODE_BASE + S_GDTR]
	sidt [abs REALMODE_BASE + S_IDTR]
	push BOOT_CODE32
	push LOW(pm32_down)
	retfq
.back:
	popfq
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

; ---- the blob: copied to REALMODE_BASE, runs there ----
section .rodata
align 16
realmode_blob:
bits 32
pm32_down:                                  ; compatibility mode, boot GDT
	mov ax, BOOT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr0
	and eax, ~CR0_PG                        ; leaves IA-32e mode: LMA = 0
	mov cr0, eax
	mov ecx, MSR_EFER
	rdmsr
	and eax, ~EFER_LME
	wrmsr
	lgdt [LOW(rm_gdt_pointer)]
	jmp RM_CODE16:OFF(pm16_down)
bits 16
pm16_down:                                  ; 16-bit protected mode, 64 KiB segments
	mov ax, RM_DATA16
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov eax, cr0
	and eax, ~CR0_PE
	mov cr0, eax
	jmp REALMODE_SEG:OFF(rm_entry)
rm_entry:                                   ; real mode
	mov ax, REALMODE_SEG
	mov ds, ax
	mov ss, ax
	mov sp, REALMODE_STACK
	xor ax, ax
	mov fs, ax
	mov gs, ax
	lidt [OFF(rm_ivt_pointer)]
	mov ax, [D_ES]
	mov es, ax
	mov eax, [D_EAX]
	mov ebx, [D_EBX]
	mov ecx, [D_ECX]
	mov edx, [D_EDX]
	mov esi, [D_ESI]
	mov edi, [D_EDI]
	mov ebp, [D_EBP]
	push word [D_DS]
	pop ds
int_insn:
	int 0x15                                ; the vector is written into the copy
	mov [cs:D_EAX], eax
	mov [cs:D_EBX], ebx
	mov [cs:D_ECX], ecx
	mov [cs:D_EDX], edx
	mov [cs:D_ESI], esi
	mov [cs:D_EDI], edi
	mov [cs:D_EBP], ebp
	mov [cs:D_ES], es
	mov [cs:D_DS], ds
	pushfd
	pop dword [cs:D_EFLAGS]
	cli
	mov ax, REALMODE_SEG
	mov ds, ax
	o32 lgdt [OFF(rm_gdt_pointer)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword RM_CODE32:LOW(pm32_up)
bits 32
pm32_up:                                    ; protected mode, the blob's GDT
	mov ax, RM_DATA32
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, [REALMODE_BASE + S_CR4]
	mov cr4, eax
	mov eax, [REALMODE_BASE + S_CR3]
	mov cr3, eax
	mov ecx, MSR_EFER
	mov eax, [REALMODE_BASE + S_EFER_LO]
	and eax, ~EFER_LMA                      ; the CPU sets it with paging
	mov edx, [REALMODE_BASE + S_EFER_HI]
	wrmsr
	lgdt [REALMODE_BASE + S_GDTR]          ; the boot GDT (below 4 GiB)
	mov eax, [REALMODE_BASE + S_CR0]
	mov cr0, eax                            ; paging on: IA-32e mode, compatibility
	jmp BOOT_CODE64:LOW(lm64_up)
bits 64
lm64_up:
	mov ax, BOOT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	lidt [abs REALMODE_BASE + S_IDTR]
	mov rsp, [abs REALMODE_BASE + S_RSP]
	jmp [abs REALMODE_BASE + S_RET]

align 8
rm_gdt:
	dq 0
	dq 0x00cf9a000000ffff                   ; 0x08: 32-bit code, flat
	dq 0x00cf92000000ffff                   ; 0x10: data, flat
	dq 0x00009a000000ffff | (REALMODE_BASE << 16) ; 0x18: 16-bit code, base REALMODE_BASE
	dq 0x000092000000ffff                   ; 0x20: 16-bit data, base 0, 64 KiB
rm_gdt_end:
rm_gdt_pointer:
	dw rm_gdt_end - rm_gdt - 1
	dd LOW(rm_gdt)
rm_ivt_pointer:
	dw 0x3ff
	dd 0
realmode_blob_end:
