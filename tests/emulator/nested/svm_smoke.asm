; svm_smoke: a minimal AMD-V hypervisor (L1) as a 32-bit Multiboot kernel. It runs a
; tiny L2 with VMRUN and checks the exact #VMEXIT values, printing TAP on COM1:
;   1 nested/svm-cpuid-exit     EXITCODE 0x72, next_rip = rip + 2 (when NRIPS is offered)
;   2 nested/svm-l2-state-saved L2's EAX..EDX after CPUID are back in VMCB RAX/GPRs, RIP
;   3 nested/svm-hlt-exit       EXITCODE 0x78 after resuming at next_rip
;   4 nested/svm-ioio-exit      OUT 0x80,AL: EXITCODE 0x7b, EXITINFO1 port/size/type,
;                               EXITINFO2 the next RIP
;   5 nested/svm-vmrun-asid0    VMRUN with ASID 0: EXITCODE VMEXIT_INVALID (low 32 bits)
; It runs bare on any AMD-V platform and as L1 under nestbed. nasm -f bin.
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

	; ---- 1: CPUID exit
	call run_l2
	mov eax, [VMCB + C_EXITCODE]
	cmp eax, 0x72
	jne .t1_bad
	cmp dword [nrips], 0
	je .t1_ok                               ; without NRIPS next_rip is not defined
	mov eax, [VMCB + C_NEXT_RIP]
	cmp eax, l2_code + 2
	jne .t1_bad_rip
.t1_ok:
	mov esi, msg_ok1
	call puts
	jmp .t2
.t1_bad:
	mov esi, msg_bad1
	call puts_fail_code
	jmp .t2
.t1_bad_rip:
	mov esi, msg_bad1_rip
	call puts_fail_eax

	; ---- 2: L2's RIP stays at the CPUID, RAX holds leaf 0 (nothing executed it)
.t2:
	mov eax, [VMCB + S_RIP]
	cmp eax, l2_code
	jne .t2_bad
	cmp dword [VMCB + S_RAX], 0
	jne .t2_bad
	mov esi, msg_ok2
	call puts
	jmp .t3
.t2_bad:
	mov esi, msg_bad2
	call puts_fail_eax

	; ---- 3: resume past CPUID (2 bytes): HLT exit
.t3:
	mov dword [VMCB + S_RIP], l2_code + 2
	call run_l2
	mov eax, [VMCB + C_EXITCODE]
	cmp eax, 0x78
	jne .t3_bad
	mov eax, [VMCB + S_RIP]
	cmp eax, l2_hlt
	jne .t3_bad_rip
	mov esi, msg_ok3
	call puts
	jmp .t4
.t3_bad:
	mov esi, msg_bad3
	call puts_fail_code
	jmp .t4
.t3_bad_rip:
	mov esi, msg_bad3_rip
	call puts_fail_eax

	; ---- 4: resume past HLT: OUT 0x80, AL -> IOIO exit
.t4:
	mov dword [VMCB + S_RIP], l2_hlt + 1
	call run_l2
	mov eax, [VMCB + C_EXITCODE]
	cmp eax, 0x7b
	jne .t4_bad
	; EXITINFO1: port 0x80 << 16, SZ8 (bit 4), A32 (bit 8), OUT (type 0), seg DS? (bits 12:10 = 0 for non-string)
	mov eax, [VMCB + C_EXITINFO1]
	and eax, 0xffff0001 | 0x70
	cmp eax, (0x80 << 16) | 0x10
	jne .t4_bad_info
	mov eax, [VMCB + C_EXITINFO2]
	cmp eax, l2_out + 2
	jne .t4_bad_info2
	mov esi, msg_ok4
	call puts
	jmp .t5
.t4_bad:
	mov esi, msg_bad4
	call puts_fail_code
	jmp .t5
.t4_bad_info:
	mov esi, msg_bad4_info
	call puts_fail_eax
	jmp .t5
.t4_bad_info2:
	mov esi, msg_bad4_info2
	call puts_fail_eax

	; ---- 5: ASID 0 is refused with VMEXIT_INVALID
.t5:
	mov dword [VMCB + C_ASID], 0
	mov dword [VMCB + C_EXITCODE], 0x12345678
	call run_l2
	mov eax, [VMCB + C_EXITCODE]
	cmp eax, 0xffffffff
	jne .t5_bad
	mov esi, msg_ok5
	call puts
	jmp .done
.t5_bad:
	mov esi, msg_bad5
	call puts_fail_code
.done:
	mov eax, [failures]
	test eax, eax
	jz finish
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

; L2's code: CPUID, HLT, OUT
l2_code:
	cpuid
l2_hlt:
	hlt
l2_out:
	out 0x80, al
	jmp $

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
msg_tap: db "TAP version 13", 10, "1..5", 10, 0
msg_skip_all: db "ok 1 - nested/svm-cpuid-exit # SKIP no SVM (CPUID 8000_0001h ECX[2] = 0)", 10
	db "ok 2 - nested/svm-l2-state-saved # SKIP no SVM", 10
	db "ok 3 - nested/svm-hlt-exit # SKIP no SVM", 10
	db "ok 4 - nested/svm-ioio-exit # SKIP no SVM", 10
	db "ok 5 - nested/svm-vmrun-asid0 # SKIP no SVM", 10, 0
msg_ok1: db "ok 1 - nested/svm-cpuid-exit", 10, 0
msg_bad1: db "not ok 1 - nested/svm-cpuid-exit # expected EXITCODE 0x72, observed 0x", 0
msg_bad1_rip: db "not ok 1 - nested/svm-cpuid-exit # expected next_rip = CPUID + 2, observed 0x", 0
msg_ok2: db "ok 2 - nested/svm-l2-state-saved", 10, 0
msg_bad2: db "not ok 2 - nested/svm-l2-state-saved # expected RIP at the CPUID and RAX 0, observed RIP 0x", 0
msg_ok3: db "ok 3 - nested/svm-hlt-exit", 10, 0
msg_bad3: db "not ok 3 - nested/svm-hlt-exit # expected EXITCODE 0x78, observed 0x", 0
msg_bad3_rip: db "not ok 3 - nested/svm-hlt-exit # expected RIP at the HLT, observed 0x", 0
msg_ok4: db "ok 4 - nested/svm-ioio-exit", 10, 0
msg_bad4: db "not ok 4 - nested/svm-ioio-exit # expected EXITCODE 0x7b, observed 0x", 0
msg_bad4_info: db "not ok 4 - nested/svm-ioio-exit # expected EXITINFO1 port 0x80, SZ8, OUT (0x00800010), observed 0x", 0
msg_bad4_info2: db "not ok 4 - nested/svm-ioio-exit # expected EXITINFO2 = the next RIP, observed 0x", 0
msg_ok5: db "ok 5 - nested/svm-vmrun-asid0", 10, 0
msg_bad5: db "not ok 5 - nested/svm-vmrun-asid0 # expected EXITCODE 0xffffffff (VMEXIT_INVALID), observed 0x", 0
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
align 4
nrips: resd 1
failures: resd 1
	resb 4096
stack_top:
bss_end:
