; svm_fuzz: VMRUNs COUNT VMCBs derived from one valid VMCB by 1-3 random mutations
; (xorshift32 from SEED) and prints one outcome line per state:
;   fuzz <i> m <mutations> exit <EXITCODE> <EXITINFO1> <EXITINFO2>
; `python3 -m harness fuzz` runs it bare and under nestbed and lists the differences.
; Command line: svm_fuzz.elf seed=<decimal> count=<decimal> [first=<decimal>] (states
; before first are generated but not run). L2 is a HLT (intercepted);
; its page tables, IDT and GDT are zeroed memory of this L1, so a wild L2 triple-faults
; (SHUTDOWN intercepted) instead of running away. nasm -f bin.
%include "svm_l1_setup.inc"
L2_PT      equ 0x209000            ; a zeroed page: L2's page tables when paging is on
SAVE_COPY  equ 0x20a000            ; the valid VMCB, restored before each state
L2_IDT     equ 0x20b000            ; 256 32-bit interrupt gates to L2's HLT
L2_PML4    equ 0x20c000            ; long mode: PML4 -> PDPT of four 1 GiB pages
L2_PDPT64  equ 0x20d000
L2_PDPT32  equ 0x20e000            ; PAE: four PDPTEs -> one directory of 2 MiB pages
L2_PD_PAE  equ 0x20f000
L2_PD32    equ 0x210000            ; 32-bit paging: directory -> one table of 4 KiB pages
L2_PT32    equ 0x211000
L2_IDT64   equ 0x212000            ; 256 64-bit interrupt gates to L2's HLT
L2_IVT     equ 0x213000            ; real mode: 256 far pointers to L2's HLT
PTE_PW     equ 0x03
PTE_PWS    equ 0x83

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
	; Page tables for every paging mode a state may end in, and an IDT in each format:
	; after the mutations the L2 gets the ones its mode reads, so a valid state runs to
	; its HLT instead of faulting (Bochs ends the machine on an L2 triple fault).
	mov dword [L2_PML4], L2_PDPT64 | PTE_PW
	xor ecx, ecx
.pdpt64:
	mov eax, ecx
	shl eax, 30
	or eax, PTE_PWS
	mov [L2_PDPT64 + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jne .pdpt64
	mov dword [L2_PDPT32], L2_PD_PAE | 1
	xor ecx, ecx
.pd_pae:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_PWS
	mov [L2_PD_PAE + ecx * 8], eax
	inc ecx
	cmp ecx, 512
	jne .pd_pae
	mov dword [L2_PD32], L2_PT32 | PTE_PW
	xor ecx, ecx
.pt32:
	mov eax, ecx
	shl eax, 12
	or eax, PTE_PW
	mov [L2_PT32 + ecx * 4], eax
	inc ecx
	cmp ecx, 1024
	jne .pt32
	mov edi, L2_IDT64
	mov ecx, 256
.gate64:
	mov eax, l2_code
	and eax, 0xffff
	or eax, 0x18 << 16                     ; the 64-bit code segment
	mov [edi], eax
	mov eax, l2_code
	and eax, 0xffff0000
	or eax, 0x8e00
	mov [edi + 4], eax
	mov dword [edi + 8], 0
	mov dword [edi + 12], 0
	add edi, 16
	loop .gate64
	mov edi, L2_IVT
	mov ecx, 256
.ivt:
	mov eax, l2_code - 0xffff0              ; 0xffff:offset reaches the code above 1 MiB
	or eax, 0xffff << 16
	mov [edi], eax
	add edi, 4
	loop .ivt
	; Mask both PICs: an L2 with a random RFLAGS.IF would otherwise take whatever timer
	; interrupt happens to be pending (the BIOS's PIT), which makes an outcome depend on
	; timing rather than on the seed.
	mov al, 0xff
	out 0x21, al
	out 0xa1, al
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
	mov dword [mutlist], 0xffffffff      ; unused bytes stay ff: the harness counts the mutations
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
	; states before first= are generated (the random sequence stays the same) but not run:
	; the harness restarts an emulator that died on a state from the one after it
	mov eax, [index]
	cmp eax, [first]
	jb .next_state
	call fit_tables_to_mode
	; the state as VMRUN gets it (a #VMEXIT overwrites it): the harness explains
	; disagreements by it
	mov eax, [VMCB + S_EFER]
	mov [state_efer], eax
	mov eax, [VMCB + S_CR0]
	mov [state_cr0], eax
	mov eax, [VMCB + 0x548]
	mov [state_cr4], eax
	mov eax, [VMCB + 0x550 + 4]
	mov [state_cr3_high], eax
	mov eax, [VMCB + S_RFLAGS]
	mov [state_rflags], eax
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
	; " vmcb <efer> <cr0> <cr4> <cr3[63:32]> <rflags>": the low halves VMRUN was given
	mov esi, msg_state
	call puts
	mov eax, [state_efer]
	call puthex
	mov al, ' '
	call putc
	mov eax, [state_cr0]
	call puthex
	mov al, ' '
	call putc
	mov eax, [state_cr4]
	call puthex
	mov al, ' '
	call putc
	mov eax, [state_cr3_high]
	call puthex
	mov al, ' '
	call putc
	mov eax, [state_rflags]
	call puthex
	mov al, 10
	call putc
.next_state:
	inc dword [index]
	jmp .state
.all_done:
	mov esi, msg_ok
	call puts
	xor eax, eax
	jmp finish

; CR3 and IDTR for the mode the mutated state is in (the high CR3 bits a mutation set
; stay: only the low dword is written)
fit_tables_to_mode:
	mov eax, [VMCB + S_CR0]
	mov edx, [VMCB + 0x548]                ; CR4
	mov ecx, [VMCB + S_EFER]
	test eax, 1 << 31
	jz .idt
	test ecx, 1 << 8
	jz .not_long
	mov dword [VMCB + 0x550], L2_PML4
	jmp .idt
.not_long:
	test edx, 1 << 5
	jz .legacy
	mov dword [VMCB + 0x550], L2_PDPT32
	jmp .idt
.legacy:
	mov dword [VMCB + 0x550], L2_PD32
.idt:
	test eax, 1
	jnz .protected
	mov dword [VMCB + S_IDTR + 4], 256 * 4 - 1
	mov dword [VMCB + S_IDTR + 8], L2_IVT
	ret
.protected:
	test ecx, 1 << 8
	jz .idt32
	test eax, 1 << 31
	jz .idt32
	mov dword [VMCB + S_IDTR + 4], 256 * 16 - 1
	mov dword [VMCB + S_IDTR + 8], L2_IDT64
	ret
.idt32:
	mov dword [VMCB + S_IDTR + 4], 256 * 8 - 1
	mov dword [VMCB + S_IDTR + 8], L2_IDT
	ret

%include "xorshift32.inc"

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
	cmp dword [esi], 'firs'
	jne .try_count2
	cmp word [esi + 4], 't='
	jne .next
	add esi, 6
	call parse_decimal
	mov [first], eax
	jmp .scan
.try_count2:
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
	and eax, 0x3d7fd5                  ; defined RFLAGS bits but VM (virtual-8086 needs a TSS)
	or eax, 2
	mov [VMCB + S_RFLAGS], eax
	ret

mutations:
	dd m_efer_svme, m_efer_lme, m_efer_reserved, m_cr0_pg, m_cr0_pe, m_cr0_nw_cd
	dd m_cr0_high, m_cr4_pae, m_cr4_reserved, m_cr3_high, m_dr6_high, m_dr7_high
	dd m_cs_l, m_cs_d, m_no_vmrun_icpt, m_asid_zero, m_asid_big, m_eventinj
	dd m_iopm_high, m_msrpm_high, m_long_mode, m_rflags
NR_MUTATIONS equ ($ - mutations) / 4

; L2's code: HLT (intercepted)
l2_code:
	hlt
	jmp l2_code


%include "svm_l1_lib.inc"

msg_tap: db "TAP version 13", 10, "1..1", 10, 0
msg_skip_all: db "ok 1 - fuzz/vmcb12 # SKIP no SVM (CPUID 8000_0001h ECX[2] = 0)", 10, 0
msg_ok: db "ok 1 - fuzz/vmcb12", 10, 0
msg_fuzz: db "fuzz ", 0
msg_m: db " m ", 0
msg_exit_code: db " exit ", 0
msg_state: db " vmcb ", 0

seed: dd 1
count: dd 100
first: dd 0
state_efer: dd 0
state_cr0: dd 0
state_cr4: dd 0
state_cr3_high: dd 0
state_rflags: dd 0

load_end:
COMMON_BSS
align 8
index: resd 1
nmut: resd 1
mutlist: resd 1
	resb 4096
stack_top:
bss_end:
