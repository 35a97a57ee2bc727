; svm_fuzz: VMRUNs COUNT VMCBs derived from one valid VMCB by 1-3 random mutations
; (xorshift32 from SEED) and prints one outcome line per state:
;   fuzz <i> m <mutations> exit <EXITCODE> <EXITINFO1> <EXITINFO2>
; `python3 -m harness fuzz` runs it bare and under nestbed and lists the differences.
; Command line: svm_fuzz.elf seed=<decimal> count=<decimal>. L2 is a HLT (intercepted);
; its page tables, IDT and GDT are zeroed memory of this L1, so a wild L2 triple-faults
; (SHUTDOWN intercepted) instead of running away. nasm -f bin.
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
L2_PT      equ 0x209000            ; a zeroed page: L2's page tables when paging is on
SAVE_COPY  equ 0x20a000            ; the valid VMCB, restored before each state
L2_IDT     equ 0x20b000            ; 256 32-bit interrupt gates to L2's HLT

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
	mov [mbi], ebx
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
	mov ecx, (0x20b000 - VMCB) / 4
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

	; L2's IDT: every vector lands on its HLT, so an injected event is delivered and
	; ends in the intercepted HLT (Bochs takes a triple fault during event injection
	; for the whole machine, not as a SHUTDOWN exit)
	mov edi, L2_IDT
	mov ecx, 256
.gate:
	mov eax, l2_code
	and eax, 0xffff
	or eax, 0x08 << 16
	mov [edi], eax
	mov eax, l2_code
	and eax, 0xffff0000
	or eax, 0x8e00                         ; present, DPL 0, 32-bit interrupt gate
	mov [edi + 4], eax
	add edi, 8
	loop .gate
	mov dword [VMCB + S_IDTR + 4], 256 * 8 - 1
	mov dword [VMCB + S_IDTR + 8], L2_IDT
	; the baseline also intercepts SHUTDOWN (a wild L2 ends there)
	or dword [VMCB + C_ICPT_MISC1], 1 << 31
	mov dword [VMCB + 0x550], L2_PT             ; CR3
	mov dword [VMCB + S_RIP], l2_code
	call parse_cmdline
	; keep the valid VMCB
	mov esi, VMCB
	mov edi, SAVE_COPY
	mov ecx, 1024
	rep movsd
	mov dword [index], 0
.state:
	mov eax, [index]
	cmp eax, [count]
	jae .all_done
	mov esi, SAVE_COPY
	mov edi, VMCB
	mov ecx, 1024
	rep movsd
	; 1..3 mutations
	call rand
	xor edx, edx
	mov ecx, 3
	div ecx
	inc edx
	mov [nmut], edx
	mov dword [mutlist], 0
.mutate:
	call rand
	xor edx, edx
	mov ecx, NR_MUTATIONS
	div ecx
	shl dword [mutlist], 8
	or [mutlist], dl
	call [mutations + edx * 4]
	dec dword [nmut]
	jnz .mutate
	mov dword [VMCB + C_EXITCODE], 0x5a5a5a5a
	mov dword [VMCB + C_EXITCODE + 4], 0x5a5a5a5a
	call run_l2
	; fuzz <i> m <mutations> exit <code> <info1> <info2>
	mov esi, msg_fuzz
	call puts
	mov eax, [index]
	call puthex
	mov esi, msg_m
	call puts
	mov eax, [mutlist]
	call puthex
	mov esi, msg_exit_code
	call puts
	mov eax, [VMCB + C_EXITCODE + 4]
	call puthex
	mov eax, [VMCB + C_EXITCODE]
	call puthex
	mov al, ' '
	call putc
	mov eax, [VMCB + C_EXITINFO1 + 4]
	call puthex
	mov eax, [VMCB + C_EXITINFO1]
	call puthex
	mov al, ' '
	call putc
	mov eax, [VMCB + C_EXITINFO2 + 4]
	call puthex
	mov eax, [VMCB + C_EXITINFO2]
	call puthex
	mov al, 10
	call putc
	inc dword [index]
	jmp .state
.all_done:
	mov esi, msg_ok
	call puts
	xor eax, eax
	jmp finish

; xorshift32 (Marsaglia): eax = next
rand:
	mov eax, [seed]
	mov edx, eax
	shl edx, 13
	xor eax, edx
	mov edx, eax
	shr edx, 17
	xor eax, edx
	mov edx, eax
	shl edx, 5
	xor eax, edx
	mov [seed], eax
	ret

; "seed=<n>" and "count=<n>" from the Multiboot command line (ebx saved at entry)
parse_cmdline:
	mov esi, [mbi]
	test dword [esi], 1 << 2
	jz .end
	mov esi, [esi + 16]
.scan:
	mov al, [esi]
	test al, al
	jz .end
	cmp dword [esi], 'seed'
	jne .try_count
	cmp byte [esi + 4], '='
	jne .next
	add esi, 5
	call parse_decimal
	test eax, eax
	jnz .seed_ok
	mov eax, 1                         ; xorshift needs a non-zero state
.seed_ok:
	mov [seed], eax
	jmp .scan
.try_count:
	cmp dword [esi], 'coun'
	jne .next
	cmp word [esi + 4], 't='
	jne .next
	add esi, 6
	call parse_decimal
	mov [count], eax
	jmp .scan
.next:
	inc esi
	jmp .scan
.end:
	ret

parse_decimal:                          ; esi -> digits; eax = value, esi past them
	xor eax, eax
.digit:
	movzx edx, byte [esi]
	sub edx, '0'
	cmp edx, 9
	ja .done
	imul eax, eax, 10
	add eax, edx
	inc esi
	jmp .digit
.done:
	ret

; ---- mutations: each changes one thing the VMRUN checks look at (APM vol.2 15.5.1)
m_efer_svme:    xor dword [VMCB + S_EFER], 1 << 12
	ret
m_efer_lme:     xor dword [VMCB + S_EFER], 1 << 8
	ret
m_efer_reserved: call rand
	and eax, 0x3fff0000                ; bits 16..29: must be zero
	or eax, 1 << 16
	xor [VMCB + S_EFER], eax
	ret
m_cr0_pg:       xor dword [VMCB + S_CR0], 1 << 31
	ret
m_cr0_pe:       xor dword [VMCB + S_CR0], 1
	ret
m_cr0_nw_cd:    call rand
	and eax, 3 << 29
	xor [VMCB + S_CR0], eax
	ret
m_cr0_high:     mov dword [VMCB + S_CR0 + 4], 1
	ret
m_cr4_pae:      xor dword [VMCB + 0x548], 1 << 5
	ret
m_cr4_reserved: mov dword [VMCB + 0x548 + 4], 1
	ret
m_cr3_high:     mov dword [VMCB + 0x550 + 4], 0x00100000   ; bit 52
	ret
m_dr6_high:     mov dword [VMCB + 0x568 + 4], 1
	ret
m_dr7_high:     mov dword [VMCB + 0x560 + 4], 1
	ret
m_cs_l:         xor word [VMCB + S_CS + 2], 1 << 9
	ret
m_cs_d:         xor word [VMCB + S_CS + 2], 1 << 10
	ret
m_no_vmrun_icpt: and dword [VMCB + C_ICPT_MISC2], ~ICPT_VMRUN
	ret
m_asid_zero:    mov dword [VMCB + C_ASID], 0
	ret
m_asid_big:     call rand
	and eax, 0xffff
	mov [VMCB + C_ASID], eax
	ret
m_eventinj:     call rand
	and eax, 0x7ff                     ; vector and type
	or eax, 1 << 31                    ; valid
	mov [VMCB + 0x0a8], eax
	ret
m_iopm_high:    mov dword [VMCB + C_IOPM + 4], 0x00ffffff
	ret
m_msrpm_high:   mov dword [VMCB + C_MSRPM + 4], 0x00ffffff
	ret
m_long_mode:    or dword [VMCB + S_EFER], 1 << 8      ; LME + PG + PAE: long mode L2
	or dword [VMCB + S_CR0], 1 << 31
	or dword [VMCB + 0x548], 1 << 5
	ret
m_rflags:       call rand
	and eax, 0x3f7fd5                  ; defined RFLAGS bits
	or eax, 2
	mov [VMCB + S_RFLAGS], eax
	ret

mutations:
	dd m_efer_svme, m_efer_lme, m_efer_reserved, m_cr0_pg, m_cr0_pe, m_cr0_nw_cd
	dd m_cr0_high, m_cr4_pae, m_cr4_reserved, m_cr3_high, m_dr6_high, m_dr7_high
	dd m_cs_l, m_cs_d, m_no_vmrun_icpt, m_asid_zero, m_asid_big, m_eventinj
	dd m_iopm_high, m_msrpm_high, m_long_mode, m_rflags
NR_MUTATIONS equ ($ - mutations) / 4

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

; L2's code: HLT (intercepted)
l2_code:
	hlt
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
msg_skip_all: db "ok 1 - fuzz/vmcb12 # SKIP no SVM (CPUID 8000_0001h ECX[2] = 0)", 10, 0
msg_ok: db "ok 1 - fuzz/vmcb12", 10, 0
msg_fuzz: db "fuzz ", 0
msg_m: db " m ", 0
msg_exit_code: db " exit ", 0
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
seed: dd 1
count: dd 100

load_end:
align 8
mbi: resd 1
index: resd 1
nmut: resd 1
mutlist: resd 1
nrips: resd 1
failures: resd 1
	resb 4096
stack_top:
bss_end:
