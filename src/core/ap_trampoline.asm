; The AP trampoline (SDM vol.3 9.4.4, 9.8.5): nestbed copies it to a low page and starts
; each AP there with INIT-SIPI-SIPI. The AP goes from real mode to protected mode, then
; to long mode on nestbed's page tables (a PML4 copy below 1 MiB, since CR3 is 32 bits
; until long mode), and jumps to ap_main(pcpu) on the stack nestbed gave it. Position
; independent: every address comes from CS (the page's base) at run time.
bits 16
default abs
section .rodata

%define OFF(x) ((x) - ap_trampoline_start)
%define SEL_CODE32 0x08
%define SEL_DATA 0x10
%define SEL_CODE64 0x18
%define CR0_PE 1
%define CR0_PG (1 << 31)
%define CR4_PAE (1 << 5)
%define MSR_EFER 0xC0000080

global ap_trampoline_start
global ap_trampoline_end
global ap_trampoline_params
ap_trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4                      ; the page's physical base
	lea eax, [ebx + OFF(gdt)]
	mov [OFF(gdtr) + 2], eax
	lgdt [OFF(gdtr)]
	lea eax, [ebx + OFF(protected32)]
	mov [OFF(far32)], eax
	mov word [OFF(far32) + 4], SEL_CODE32
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp far dword [OFF(far32)]

bits 32
protected32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [ebx + OFF(param_low_cr3)]
	mov cr3, eax
	mov ecx, MSR_EFER
	mov eax, [ebx + OFF(param_efer)]  ; the BSP's EFER: LME, NXE, SCE
	xor edx, edx
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	lea eax, [ebx + OFF(long64)]
	mov [ebx + OFF(far64)], eax
	mov word [ebx + OFF(far64) + 4], SEL_CODE64
	jmp far dword [ebx + OFF(far64)]

bits 64
long64:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rax, [rbx + OFF(param_cr3)]  ; nestbed's own tables, wherever they are
	mov cr3, rax
	mov rsp, [rbx + OFF(param_stack)]
	mov rdi, [rbx + OFF(param_arg)]
	mov rax, [rbx + OFF(param_entry)]
	push 0                           ; no return: the frame a call would leave
	jmp rax

align 8
gdt:
	dq 0
	dq 0x00CF9A000000FFFF            ; 08: 32-bit code, flat
	dq 0x00CF92000000FFFF            ; 10: data, flat
	dq 0x00AF9A000000FFFF            ; 18: 64-bit code
gdt_end:
gdtr:
	dw gdt_end - gdt - 1
	dd 0
far32:
	dd 0
	dw 0
far64:
	dd 0
	dw 0

align 8
; filled by ap_boot.c before each AP's startup IPI (struct ap_trampoline_params)
ap_trampoline_params:
param_low_cr3: dq 0
param_efer:    dq 0
param_cr3:     dq 0
param_stack:   dq 0
param_arg:     dq 0
param_entry:   dq 0
ap_trampoline_end:
