; svm_cpuid_loop: the smallest L1 hypervisor loop, for `make bench`: L2 executes CPUID
; forever, L1 intercepts it and re-enters L2 with nothing but VMRUN (no CLGI/STGI,
; no VMLOAD/VMSAVE), LOOPS times. It prints one TAP test with the TSC ticks per round
; trip; under QEMU -icount the TSC counts instructions, so the figure is exact. Under
; nestbed, the stats line gives L0 exits per reflected exit (the floor is 2).
bits 32
org 0x100000

MB_MAGIC   equ 0x1BADB002
MB_FLAGS   equ (1 << 1) | (1 << 16)
COM1       equ 0x3f8

VMCB       equ 0x200000            ; L2's VMCB (page aligned)
HSAVE      equ 0x201000
IOPM       equ 0x202000            ; 12 KiB
MSRPM      equ 0x205000            ; 8 KiB
L2_STACK   equ 0x208000
LOOPS      equ 10000

; VMCB offsets (APM vol.2 appendix B)
C_ICPT_MISC1 equ 0x00c
C_ICPT_MISC2 equ 0x010
C_IOPM       equ 0x040
C_MSRPM      equ 0x048
C_ASID       equ 0x058
C_EXITCODE   equ 0x070
C_EXITINFO1  equ 0x078
C_EXITINFO2  equ 0x080
C_NEXT_RIP   equ 0x0c8
S_ES         equ 0x400
S_CS         equ 0x410
S_SS         equ 0x420
S_DS         equ 0x430
S_GDTR       equ 0x460
S_IDTR       equ 0x480
S_TR         equ 0x490
S_EFER       equ 0x4d0
S_CR0        equ 0x558
S_RFLAGS     equ 0x570
S_RIP        equ 0x578
S_RSP        equ 0x5d8
S_RAX        equ 0x5f8

ICPT_CPUID   equ 1 << 18
ICPT_HLT     equ 1 << 24
ICPT_IOIO    equ 1 << 27
ICPT_VMRUN   equ 1 << 0

header:
	dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	dd header, header, load_end, bss_end, start

start:
	mov esp, stack_top
	lgdt [gdt_ptr]
	jmp 0x08:.flush
.flush:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov esi, msg_tap
	call puts

	; SVM present? CPUID 8000_0001h ECX[2]
	mov eax, 0x80000001
	cpuid
	test ecx, 1 << 2
	jnz .have_svm
	mov esi, msg_skip_all
	call puts
	xor eax, eax
	jmp finish
.have_svm:
	; NRIPS offered? CPUID 8000_000Ah EDX[3]
	mov eax, 0x8000000a
	cpuid
	and edx, 1 << 3
	mov [nrips], edx

	; EFER.SVME, host save area
	mov ecx, 0xc0000080
	rdmsr
	or eax, 1 << 12
	wrmsr
	mov ecx, 0xc0010117
	mov eax, HSAVE
	xor edx, edx
	wrmsr

	; clear VMCB and the maps
	mov edi, VMCB
	mov ecx, (0x208000 - VMCB) / 4
	xor eax, eax
	rep stosd

	mov dword [VMCB + C_ICPT_MISC1], ICPT_CPUID | ICPT_HLT | ICPT_IOIO
	mov dword [VMCB + C_ICPT_MISC2], ICPT_VMRUN
	mov dword [VMCB + C_IOPM], IOPM
	mov dword [VMCB + C_MSRPM], MSRPM
	mov dword [VMCB + C_ASID], 1
	or byte [IOPM + 0x80 / 8], 1 << (0x80 % 8)   ; intercept port 0x80
	; L2: flat 32-bit protected mode, paging off (like this L1)
	mov word [VMCB + S_CS], 0x08
	mov word [VMCB + S_CS + 2], 0xc9b
	mov dword [VMCB + S_CS + 4], 0xffffffff
	mov ebx, S_ES
.segs:
	mov word [VMCB + ebx], 0x10
	mov word [VMCB + ebx + 2], 0xc93
	mov dword [VMCB + ebx + 4], 0xffffffff
	add ebx, 0x10
	cmp ebx, S_DS + 0x10
	jne .segs
	mov dword [VMCB + S_GDTR + 4], gdt_end - gdt - 1
	mov dword [VMCB + S_GDTR + 8], gdt
	mov word [VMCB + S_TR + 2], 0x08b
	mov dword [VMCB + S_TR + 4], 0xffff
	mov dword [VMCB + S_EFER], 1 << 12
	mov dword [VMCB + S_CR0], 0x11
	mov dword [VMCB + S_RFLAGS], 2
	mov dword [VMCB + S_RIP], l2_code
	mov dword [VMCB + S_RSP], L2_STACK
	mov dword [VMCB + S_RAX], 0            ; CPUID leaf 0

	; ---- the loop: CPUID exits, L1 resumes L2 at the CPUID again
	mov dword [VMCB + S_RAX], 0
	call run_l2                             ; warm up once
	mov eax, [VMCB + C_EXITCODE]
	cmp eax, 0x72
	jne .bad
	rdtsc
	mov [t0], eax
	mov [t0 + 4], edx
	mov ecx, LOOPS
	mov eax, VMCB
.loop:
	vmrun
	dec ecx
	jnz .loop
	rdtsc
	sub eax, [t0]
	sbb edx, [t0 + 4]
	mov [ticks], eax
	mov [ticks + 4], edx
	cmp dword [VMCB + C_EXITCODE], 0x72
	jne .bad
	mov esi, msg_ok
	call puts
	mov eax, [ticks + 4]
	call puthex
	mov eax, [ticks]
	call puthex
	mov esi, msg_per
	call puts
	mov eax, [ticks]
	mov edx, [ticks + 4]
	mov ecx, LOOPS
	div ecx
	call puthex
	mov al, 10
	call putc
	xor eax, eax
	jmp finish
.bad:
	mov esi, msg_bad
	call puts_fail_code
	mov eax, 1

; eax = exit code
finish:
	push eax
	mov esi, msg_exit
	call puts
	pop eax
	push eax
	add al, '0'
	call putc
	mov al, 10
	call putc
.drain:
	mov dx, COM1 + 5
	in al, dx
	test al, 0x40
	jz .drain
	pop eax
	out 0xf4, al
	mov dx, 0x8900
	mov esi, msg_shutdown
.sd:
	lodsb
	test al, al
	jz .halt
	out dx, al
	jmp .sd
.halt:
	cli
	hlt
	jmp .halt

run_l2:
	pushad
	clgi
	mov eax, VMCB
	vmrun
	stgi
	popad
	ret

; L2's code: CPUID forever (L1 resumes it at the CPUID each time)
l2_code:
	cpuid
	jmp l2_code

puts_fail_code:                         ; esi = message, prints EXITCODE
	mov eax, [VMCB + C_EXITCODE]
puts_fail_eax:                          ; esi = message, eax = observed
	inc dword [failures]
	push eax
	call puts
	pop eax
	call puthex
	mov al, 10
	call putc
	ret

puts:
	lodsb
	test al, al
	jz .end
	call putc
	jmp puts
.end:
	ret

putc:
	push edx
	push eax
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	pop eax
	mov dx, COM1
	out dx, al
	pop edx
	ret

puthex:                                 ; eax
	mov ecx, 8
	mov edx, eax
.digit:
	rol edx, 4
	mov eax, edx
	and eax, 0xf
	mov al, [hex + eax]
	call putc
	loop .digit
	ret

hex: db "0123456789abcdef"
msg_tap: db "TAP version 13", 10, "1..1", 10, 0
msg_skip_all: db "ok 1 - bench/l2-cpuid-loop # SKIP no SVM (CPUID 8000_0001h ECX[2] = 0)", 10, 0
msg_ok: db "ok 1 - bench/l2-cpuid-loop # round trips 0x00002710, ticks 0x", 0
msg_per: db ", ticks per round trip 0x", 0
msg_bad: db "not ok 1 - bench/l2-cpuid-loop # expected EXITCODE 0x72, observed 0x", 0
msg_exit: db "exit-port: ", 0
msg_shutdown: db "Shutdown", 0

align 8
gdt:
	dq 0
	dq 0x00cf9a000000ffff
	dq 0x00cf92000000ffff
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

load_end:
align 8
t0: resq 1
ticks: resq 1
nrips: resd 1
failures: resd 1
	resb 4096
stack_top:
bss_end:
