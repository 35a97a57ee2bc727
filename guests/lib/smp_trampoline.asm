; The AP trampoline: copied by smp.c to a page below 1 MiB (vector << 12), where a
; startup IPI starts an AP in real mode at CS = vector << 8, IP = 0 (SDM vol.3A 9.4.4,
; 11.6.1; APM vol.2 16.5). It first records the state the AP started in (the
; architectural INIT state, SDM Table 9-1, APM Table 14-1) in the page's data block,
; then goes to protected mode, long mode (SDM vol.3A 10.8.5) with the boot CPU's page
; tables, and calls the C entry with the per-CPU area and stack the boot CPU left in
; the data block. Offsets: SMP_TRAMPOLINE_* in smp.h (keep both in step).

DATA        equ 0xe00           ; the data block; the 16-bit stack grows down from here
D_EAX       equ DATA + 0x00     ; eax ebx ecx edx esi edi ebp esp, 4 bytes each
D_EFLAGS    equ DATA + 0x20
D_IP        equ DATA + 0x24     ; IP of entry_ip, from a CALL
D_CR0       equ DATA + 0x28     ; cr0 cr2 cr3 cr4 dr6 dr7
D_EFER      equ DATA + 0x40     ; 8 bytes
D_SEGS      equ DATA + 0x48     ; cs ds es ss fs gs, 2 bytes each
D_GDTR      equ DATA + 0x58     ; limit (2), base (4)
D_IDTR      equ DATA + 0x60
D_ENTRIES   equ DATA + 0x68     ; times the AP entered the trampoline
; inputs, written by smp.c
I_CR3       equ DATA + 0x80
I_CR4       equ DATA + 0x84
I_CR0       equ DATA + 0x88
I_EFER      equ DATA + 0x8c
I_GDTR      equ DATA + 0x90     ; the boot GDT: limit (2), base (4)
I_JMP32     equ DATA + 0x98     ; far pointer to pm32: offset (4), selector (2)
I_JMP64     equ DATA + 0xa0     ; far pointer to lm64: offset (4), selector (2)
I_STACK     equ DATA + 0xa8
I_CPU       equ DATA + 0xb0
I_ENTRY     equ DATA + 0xb8

GDT_DATA    equ 0x10

section .rodata
align 16
global smp_trampoline_start, smp_trampoline_end, smp_trampoline_entry_ip
global smp_trampoline_pm32, smp_trampoline_lm64

smp_trampoline_start:
bits 16
	mov [cs:D_EAX + 0], eax          ; MOV changes no flag: EFLAGS stays as INIT left it
	mov [cs:D_EAX + 4], ebx
	mov [cs:D_EAX + 8], ecx
	mov [cs:D_EAX + 12], edx
	mov [cs:D_EAX + 16], esi
	mov [cs:D_EAX + 20], edi
	mov [cs:D_EAX + 24], ebp
	mov [cs:D_EAX + 28], esp
	mov [cs:D_SEGS + 0], cs
	mov [cs:D_SEGS + 2], ds
	mov [cs:D_SEGS + 4], es
	mov [cs:D_SEGS + 6], ss
	mov [cs:D_SEGS + 8], fs
	mov [cs:D_SEGS + 10], gs
	mov eax, cr0
	mov [cs:D_CR0 + 0], eax
	mov eax, cr2
	mov [cs:D_CR0 + 4], eax
	mov eax, cr3
	mov [cs:D_CR0 + 8], eax
	mov eax, cr4
	mov [cs:D_CR0 + 12], eax
	mov eax, dr6
	mov [cs:D_CR0 + 16], eax
	mov eax, dr7
	mov [cs:D_CR0 + 20], eax
	o32 sgdt [cs:D_GDTR]
	o32 sidt [cs:D_IDTR]
	mov ecx, 0xc0000080              ; EFER
	rdmsr
	mov [cs:D_EFER + 0], eax
	mov [cs:D_EFER + 4], edx
	mov ax, cs
	mov ds, ax
	mov ss, ax
	mov sp, DATA
	pushfd
	pop dword [D_EFLAGS]
	call smp_trampoline_entry_ip
smp_trampoline_entry_ip:
	pop word [D_IP]
	lock inc dword [D_ENTRIES]

	xor ebx, ebx                     ; EBX = the page's linear address from here on
	mov bx, cs
	shl ebx, 4
	o32 lgdt [I_GDTR]
	mov eax, cr0
	or eax, 1                        ; PE
	mov cr0, eax
	jmp far dword [I_JMP32]

bits 32
smp_trampoline_pm32:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, [ebx + I_CR4]
	mov cr4, eax                     ; PAE
	mov eax, [ebx + I_CR3]
	mov cr3, eax
	mov ecx, 0xc0000080
	mov eax, [ebx + I_EFER]          ; LME
	xor edx, edx
	wrmsr
	mov eax, [ebx + I_CR0]           ; PG PE WP, as the boot CPU runs
	mov cr0, eax
	jmp far dword [ebx + I_JMP64]

bits 64
smp_trampoline_lm64:
	mov ebx, ebx                     ; the upper halves are undefined after the switch
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, [rbx + I_STACK]
	mov rdi, [rbx + I_CPU]
	mov rax, [rbx + I_ENTRY]
	xor ebp, ebp
	call rax
.halt:
	cli
	hlt
	jmp .halt
smp_trampoline_end:
