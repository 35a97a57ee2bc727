; vmx_fuzz: the VT-x twin of svm_fuzz. VMLAUNCHes COUNT VMCS states derived from one valid
; VMCS (vmx_l1_setup.inc's 64-bit L2, whose code is a CPUID: it exits unconditionally) by 1-3 random
; mutations (xorshift32 from SEED), each aimed at one VM-entry check of SDM vol.3C 26.2.1
; (controls), 26.2.2-26.2.4 (host state) or 26.3.1 (guest state), and prints one line per
; state:
;   fuzz <i> m <mutations> result invalid                 VMfailInvalid
;   fuzz <i> m <mutations> result valid <error>           VMfailValid, VM-instruction error
;   fuzz <i> m <mutations> result exit <reason> <qual>    a VM exit (bit 31: entry failure)
; followed by " vmcs <pin> <proc> <proc2> <exit> <entry> <eptp> <activity> <intr-info>
; <cr0> <cr4> <rflags> <rip> <cs-ar> <ss-ar> <interruptibility> <pending-debug> <debugctl>
; <dr7> <link> <entry-msr-load-count> <entry-error-code> <entry-insn-len> <msr-load-2>":
; the controls and guest fields VMLAUNCH was given, and the second entry of the VM-entry
; MSR-load area (its index, reserved half). A line "fuzz-state <i> m <mutations>" comes
; before each VMLAUNCH: a state that ends the machine leaves that much. After a VM exit
; (not a failed entry: bit 31 of the exit reason clear) the line goes on " after <rip>
; <idt-vectoring-info> <exit-insn-len> <interruptibility> <activity> <rsp>", the guest
; state the exit saved. A first line
;   fuzz-caps basic <> pin <> proc <> proc2 <> exit <> entry <> misc <> ept <> cpuid7 <>
; gives the capability MSRs this L1 saw (TRUE controls where IA32_VMX_BASIC[55]) and
; CPUID.(EAX=7,ECX=0) EBX:ECX, so the
; harness can tell a feature nestbed does not offer from a wrong check.
; `python3 -m harness fuzz --platform bochs-vmx` runs it bare and under nestbed and lists
; the differences. Command line: vmx_fuzz.elf seed=<decimal> count=<decimal>
; [first=<decimal>] (states before first are generated but not run).
; Every state starts from the valid VMCS: VMCLEAR + VMPTRLD (launch state clear) and every
; field in restore_fields written back. L2 has an IDT whose 256 gates lead to its HLT, so
; an injected or raised event ends in the CPUID exit too (a real-mode L2 gets an IVT); a
; halted or shut-down L2 gets the VMX-preemption timer, so it ends in exit 52. nasm -f bin.
%include "vmx_l1_setup.inc"

; Pages above vmx_l1_setup.inc's (PAGES_END), zeroed here
L2_IDT      equ 0x209000                ; 256 64-bit interrupt gates to l2_code
EPT_PML4    equ 0x20a000                ; EPT identity map of the first GiB in 2-MiB pages
EPT_PDPT    equ 0x20b000
EPT_PD      equ 0x20c000
MSR_LOAD    equ 0x20d000                ; VM-entry MSR-load area (SDM 24.8.2)
MSR_STORE   equ 0x20e000                ; VM-exit MSR-store area (SDM 24.7.2)
MSR_XLOAD   equ 0x20f000                ; VM-exit MSR-load area
VAPIC       equ 0x210000                ; virtual-APIC page (SDM 24.6.8)
LINK_VMCS   equ 0x211000                ; a VMCS for the link pointer (SDM 24.4.2)
MSR_BITMAP  equ 0x212000
L2_IVT      equ 0x213000                ; real mode: 256 far pointers to l2_code
PAE_PDPT    equ 0x214000                ; a 32-bit PAE L2: PDPT -> one directory of 2-MiB
PAE_PD      equ 0x215000                ; pages, identity (SDM vol.3A 4.4)
FUZZ_PAGES_END equ 0x216000

; EPT (SDM 28.3.2, 24.6.11)
EPT_RWX       equ 7
EPT_LEAF_2M   equ 0x80 | (6 << 3) | EPT_RWX ; large page, memory type WB
EPTP_VALID    equ EPT_PML4 | (3 << 3) | 6  ; 4-level walk, WB
PAT_DEFAULT   equ 0x0007040600070406    ; the power-up PAT (SDM vol.3A 13.12.4)
MSR_SYSENTER_CS equ 0x174
PIN_PREEMPTION_TIMER equ 1 << 6         ; SDM 24.6.1
PIN_NMI_EXITING equ 1 << 3
PIN_VIRTUAL_NMIS equ 1 << 5
PROC_NMI_WINDOW equ 1 << 22             ; SDM 24.6.2
PROC_TPR_SHADOW equ 1 << 21
PROC_MSR_BITMAPS equ 1 << 28
PROC_SECONDARY equ 1 << 31
PROC2_EPT     equ 1 << 1                ; SDM 24.6.2 Table 24-7
PROC2_VPID    equ 1 << 5
PROC2_UG      equ 1 << 7
ENTRY_LOAD_DEBUG equ 1 << 2             ; SDM 24.8.1
ENTRY_LOAD_PAT equ 1 << 14
ENTRY_LOAD_EFER equ 1 << 15
EXIT_LOAD_PAT equ 1 << 19               ; SDM 24.7.1
EXIT_LOAD_EFER equ 1 << 21
AR_L          equ 1 << 13               ; SDM 24.4.1 Table 24-2
AR_DB         equ 1 << 14
PREEMPTION_TIMER_HALTED equ 0x4000      ; how long a halted L2 waits
MAX_ACTIVITY equ 7
GUEST_CR0     equ 0x80000031              ; PG, NE, ET, PE
CR0_NW        equ 1 << 29               ; SDM vol.3A 2.5
CR0_CD        equ 1 << 30
EFER_L2       equ 0x500                 ; LME | LMA: a 64-bit L2
NONCANONICAL  equ 0x0000800000000000    ; bit 47 set, 63:48 clear
CANONICAL_HIGH equ 0xffff800000000000

; More field encodings (SDM appendix B) than vmx_l1_setup.inc names
F_VPID         equ 0x0000
F_MSR_BITMAP   equ 0x2004
F_EXIT_STORE_ADDR equ 0x2006
F_EXIT_LOAD_ADDR equ 0x2008
F_ENTRY_LOAD_ADDR equ 0x200a
F_TSC_OFFSET   equ 0x2010
F_VAPIC_ADDR   equ 0x2012
F_EPTP         equ 0x201a
F_GUEST_PAT    equ 0x2804
F_GUEST_EFER   equ 0x2806
F_GUEST_PDPTE0 equ 0x280a
F_HOST_PAT     equ 0x2c00
F_HOST_EFER    equ 0x2c02
F_ENTRY_ERRCODE equ 0x4018
F_ENTRY_INSN_LEN equ 0x401a
F_TPR_THRESHOLD equ 0x401c
F_PROC2        equ 0x401e
F_PREEMPTION_TIMER equ 0x482e
F_GUEST_CS_BASE equ 0x6808

%macro RAND_BELOW 1                     ; eax = rand() % %1
	call rand
	xor edx, edx
	mov ecx, %1
	div ecx
	mov eax, edx
%endmacro

; Mutations change the current VMCS with these: field, then a value or operand (r12 is
; clobbered; the operand may be rax)
%macro FXOR 2
	mov r12, %2
	mov edx, %1
	call vmr
	xor rax, r12
	mov edx, %1
	call vmw
%endmacro
%macro FOR 2
	mov r12, %2
	mov edx, %1
	call vmr
	or rax, r12
	mov edx, %1
	call vmw
%endmacro
%macro FAND 2
	mov r12, %2
	mov edx, %1
	call vmr
	and rax, r12
	mov edx, %1
	call vmw
%endmacro

	; ---- L1's CR0 the same bare and under nestbed: Bochs' loader leaves CD and NW set
	; (their reset value, SDM vol.3A 9.1.1), nestbed starts its guest with both clear
	; (Multiboot leaves them undefined). VMCS_HOST_CR0 is L1's CR0 and the saved fields
	; are memory an L2 whose CS base is mutated (0x1000 past l2_code) runs as code: one
	; differing byte there changed what such an L2 executed (seed 7, state 81).
	mov rax, cr0
	and rax, ~(CR0_CD | CR0_NW)               ; normal cache mode (SDM vol.3A 11.5.1)
	mov cr0, rax
	VMW VMCS_HOST_CR0, rax
	; ---- the fuzzer's own pages
	mov rdi, PAGES_END
	mov ecx, (FUZZ_PAGES_END - PAGES_END) / 8
	xor eax, eax
	rep stosq
	mov rdi, L2_IDT
	mov ecx, 256
.gate:                                  ; 64-bit interrupt gate, DPL 0 (SDM vol.3A 6.14.1)
	mov eax, l2_code
	and eax, 0xffff
	or eax, SEL_CODE64 << 16
	mov [rdi], eax
	mov eax, l2_code
	and eax, 0xffff0000
	or eax, 0x8e00
	mov [rdi + 4], eax
	add rdi, 16
	loop .gate
	mov rdi, L2_IVT                         ; FFFF:offset reaches l2_code above 1 MiB
	mov eax, l2_code - 0xffff0
	or eax, 0xffff << 16
	mov ecx, 256
	rep stosd
	mov qword [PAE_PDPT], PAE_PD | 1         ; a PDPTE has P and no R/W (4.4.1)
	mov rdi, PAE_PD
	mov eax, 0x83                           ; present, writable, 2-MiB page
	mov ecx, 512
.pae_pd:
	mov [rdi], rax
	add rax, 0x200000
	add rdi, 8
	loop .pae_pd
	mov qword [EPT_PML4], EPT_PDPT | EPT_RWX
	mov qword [EPT_PDPT], EPT_PD | EPT_RWX
	mov rdi, EPT_PD
	mov eax, EPT_LEAF_2M
	mov ecx, 512
.ept_pd:
	mov [rdi], rax
	add rax, 0x200000
	add rdi, 8
	loop .ept_pd
	; Mask both PICs: an L2 with a random RFLAGS.IF must not take the BIOS's timer
	mov al, 0xff
	out 0x21, al
	out 0xa1, al

	; ---- the rest of the valid VMCS: what the mutations turn on starts valid
	VMW VMCS_GUEST_CR0, GUEST_CR0            ; not L1's: its CD/NW differ with nestbed
	VMW VMCS_GUEST_IDTR_BASE, L2_IDT
	VMW VMCS_GUEST_IDTR_LIMIT, 256 * 16 - 1
	VMW F_VPID, 1
	VMW F_EPTP, EPTP_VALID
	VMW F_MSR_BITMAP, MSR_BITMAP
	VMW F_EXIT_STORE_ADDR, MSR_STORE
	VMW F_EXIT_LOAD_ADDR, MSR_XLOAD
	VMW F_ENTRY_LOAD_ADDR, MSR_LOAD
	VMW F_TSC_OFFSET, 0
	VMW F_GUEST_PAT, PAT_DEFAULT
	VMW F_HOST_PAT, PAT_DEFAULT
	VMW F_GUEST_EFER, EFER_L2
	VMW F_HOST_EFER, EFER_L2
	VMW F_GUEST_PDPTE0, 0
	VMW F_GUEST_PDPTE0 + 2, 0
	VMW F_GUEST_PDPTE0 + 4, 0
	VMW F_GUEST_PDPTE0 + 6, 0
	VMW F_ENTRY_ERRCODE, 0
	VMW F_ENTRY_INSN_LEN, 0
	VMW F_TPR_THRESHOLD, 0
	VMW F_PROC2, 0
	VMW F_PREEMPTION_TIMER, 0
	mov edx, F_VAPIC_ADDR                   ; absent where TPR shadow is (nestbed)
	mov eax, VAPIC
	vmwrite rdx, rax

	call parse_cmdline
	call print_caps
	; keep the valid VMCS
	xor ebx, ebx
.save:
	movzx edx, word [restore_fields + rbx * 2]
	call vmr
	mov [saved + rbx * 8], rax
	inc ebx
	cmp ebx, NR_RESTORE
	jb .save

	mov dword [index], 0
.state:
	mov eax, [index]
	cmp eax, [count]
	jae .all_done
	; the valid state: launch state clear, every field as saved, the memory it points to
	vmclear [vmcs_pa]
	vmptrld [vmcs_pa]
	OUTCOME
	mov rsi, msg_vmptrld
	call expect_succeed
	xor ebx, ebx
.restore:
	movzx edx, word [restore_fields + rbx * 2]
	mov rax, [saved + rbx * 8]
	call vmw
	inc ebx
	cmp ebx, NR_RESTORE
	jb .restore
	mov qword [MSR_LOAD], MSR_SYSENTER_CS
	mov qword [MSR_LOAD + 8], 0
	mov qword [MSR_LOAD + 16], MSR_SYSENTER_CS
	mov qword [MSR_LOAD + 24], 0
	mov qword [MSR_XLOAD], MSR_SYSENTER_CS
	mov qword [MSR_XLOAD + 8], 0
	mov qword [MSR_STORE], MSR_SYSENTER_CS
	mov qword [MSR_STORE + 8], 0
	mov byte [VAPIC + 0x80], 0
	; an L2 in IA-32e mode with the PAE PDPT as its PML4 sets an accessed bit there,
	; a reserved bit in a PDPTE (SDM vol.3A 4.4.1, 4.5.4)
	mov qword [PAE_PDPT], PAE_PD | 1
	mov eax, [revision]
	mov [LINK_VMCS], eax
	; 1..3 mutations
	call rand
	xor edx, edx
	mov ecx, 3
	div ecx
	inc edx
	mov [nmut], edx
	mov dword [mutlist], 0xffffffff      ; unused bytes stay ff: the harness counts the mutations
.mutate:
	RAND_BELOW NR_MUTATIONS
	shl dword [mutlist], 8
	or [mutlist], al
	call [mutations + rax * 8]
	dec dword [nmut]
	jnz .mutate
	; a halted or shut-down L2 ends when the VMX-preemption timer expires, whatever
	; the mutations did to the control
	mov edx, VMCS_GUEST_ACTIVITY
	call vmr
	dec eax
	cmp eax, 1
	ja .awake
	FOR VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER
	VMW F_PREEMPTION_TIMER, PREEMPTION_TIMER_HALTED
.awake:
	; states before first= are generated (the random sequence stays the same) but not run
	mov eax, [index]
	cmp eax, [first]
	jb .next_state
	; the state as VMLAUNCH gets it (an exit overwrites the guest fields)
	xor ebx, ebx
.snapshot:
	movzx edx, word [line_fields + rbx * 2]
	call vmr
	mov [line_values + rbx * 8], rax
	inc ebx
	cmp ebx, NR_LINE_FIELDS
	jb .snapshot
	; "fuzz-state <i> m <mutations>" before VMLAUNCH: a state that ends the machine
	; leaves it on the console, naming its mutations (and nestbed's report of a failed
	; VM entry comes after it)
	mov rsi, msg_fuzz_state
	call put_state_name
	mov al, 10
	call putc
	xor edi, edi
	call vmx_enter
	mov [outcome], eax
	; An L2 entered with blocking by NMI (and virtual NMIs 0) leaves NMIs blocked after
	; its VM exit: only VM exits caused by NMIs change that blocking (SDM 27.5.5), an
	; IRET ends it (6.7.1). So that no state inherits it, IRET to the next instruction.
	mov rax, rsp
	push SEL_DATA
	push rax
	pushfq
	push SEL_CODE64
	lea rax, [rel .nmi_unblocked]
	push rax
	iretq
.nmi_unblocked:
	; fuzz <i> m <mutations> result ...
	mov rsi, msg_fuzz
	call put_state_name
	mov eax, [outcome]
	cmp eax, OUT_FAIL_INVALID
	jne .not_invalid
	mov rsi, msg_result_invalid
	call puts
	jmp .fields
.not_invalid:
	cmp eax, OUT_FAIL_VALID
	jne .exit
	mov rsi, msg_result_valid
	call puts
	mov edx, VMCS_VM_INSN_ERROR
	call vmr
	call puthex32
	jmp .fields
.exit:
	mov rsi, msg_result_exit
	call puts
	mov edx, VMCS_EXIT_REASON
	call vmr
	call puthex32
	mov al, ' '
	call putc
	mov edx, VMCS_EXIT_QUALIFICATION
	call vmr
	call puthex64
.fields:
	mov rsi, msg_vmcs
	call puts
	xor ebx, ebx
.field:
	mov al, ' '
	call putc
	mov rax, [line_values + rbx * 8]
	cmp byte [line_wide + rbx], 0
	jne .wide
	call puthex32
	jmp .field_next
.wide:
	call puthex64
.field_next:
	inc ebx
	cmp ebx, NR_LINE_FIELDS
	jb .field
	mov al, ' '                             ; the second VM-entry MSR-load entry's MSR
	call putc
	mov rax, [MSR_LOAD + 16]
	call puthex64
	; " after <rip> <idt-vectoring> <exit-insn-len> <interruptibility> <activity>": what
	; a VM exit saved (SDM 27.2, 27.3); a failed entry (exit reason bit 31) leaves most
	; of them as they were (SDM 26.8), which says nothing
	cmp dword [outcome], OUT_VM_EXIT
	jne .line_end
	mov edx, VMCS_EXIT_REASON
	call vmr
	test eax, eax
	js .line_end
	mov rsi, msg_after
	call puts
	xor ebx, ebx
.after:
	mov al, ' '
	call putc
	movzx edx, word [after_fields + rbx * 2]
	call vmr
	cmp ebx, 0
	je .after_wide
	cmp ebx, NR_AFTER_FIELDS - 1
	jne .after_narrow
.after_wide:
	call puthex64
	jmp .after_next
.after_narrow:
	call puthex32
.after_next:
	inc ebx
	cmp ebx, NR_AFTER_FIELDS
	jb .after
.line_end:
	mov al, 10
	call putc
.next_state:
	inc dword [index]
	jmp .state
.all_done:
	mov rsi, msg_done
	call puts
	xor eax, eax
	jmp finish

; rsi = "fuzz " or "fuzz-state ": that, "<i> m <mutations>"
put_state_name:
	call puts
	mov eax, [index]
	call puthex32
	mov rsi, msg_m
	call puts
	mov eax, [mutlist]
	jmp puthex32

; "fuzz-caps basic <> pin <> proc <> proc2 <> exit <> entry <> misc <> ept <> cpuid7 <>"
print_caps:
	mov rsi, msg_caps
	call puts
	mov ecx, MSR_IA32_VMX_BASIC
	call put_msr
	mov rsi, msg_cap_pin
	call puts
	mov rax, [cap_pin]
	call puthex64
	mov rsi, msg_cap_proc
	call puts
	mov rax, [cap_proc]
	call puthex64
	mov rsi, msg_cap_proc2
	call puts
	xor eax, eax                            ; without secondary controls: none allowed
	test dword [cap_proc + 4], PROC_SECONDARY
	jz .no_proc2
	mov ecx, MSR_IA32_VMX_PROCBASED_CTLS2
	call put_msr
	jmp .proc2_done
.no_proc2:
	call puthex64
.proc2_done:
	mov rsi, msg_cap_exit
	call puts
	mov rax, [cap_exit]
	call puthex64
	mov rsi, msg_cap_entry
	call puts
	mov rax, [cap_entry]
	call puthex64
	mov rsi, msg_cap_misc
	call puts
	mov ecx, MSR_IA32_VMX_MISC
	call put_msr
	mov rsi, msg_cap_ept
	call puts
	xor eax, eax
	test dword [cap_proc + 4], PROC_SECONDARY
	jz .no_ept
	mov ecx, MSR_IA32_VMX_PROCBASED_CTLS2
	rdmsr
	test edx, PROC2_EPT | PROC2_VPID
	mov eax, 0
	jz .no_ept
	mov ecx, MSR_IA32_VMX_EPT_VPID_CAP
	call put_msr
	jmp .ept_done
.no_ept:
	call puthex64
.ept_done:
	mov rsi, msg_cap_cpuid7                 ; CPUID.(7,0) EBX:ECX (SGX, RTM, bus-lock detection)
	call puts
	mov eax, 7
	xor ecx, ecx
	cpuid
	mov eax, ecx
	shl rbx, 32
	or rax, rbx
	call puthex64
	mov al, 10
	jmp putc

put_msr:                                ; ecx = MSR: its 16 hex digits
	rdmsr
	shl rdx, 32
	mov eax, eax
	or rax, rdx
	jmp puthex64

MSR_IA32_VMX_PROCBASED_CTLS2 equ 0x48b  ; SDM A.3.3
MSR_IA32_VMX_EPT_VPID_CAP equ 0x48c     ; SDM A.10

%include "xorshift32.inc"

; r12 = the default PAT with one random entry set to a random type (2, 3 and 8+ are
; reserved: 26.2.2, 26.3.1.1); rax, rbx, rcx, rdx clobbered
random_pat:
	RAND_BELOW 64
	mov ecx, eax
	and ecx, 7 << 3                         ; which entry
	and eax, 7                              ; its type
	mov rbx, 0xff
	shl rbx, cl
	not rbx
	shl rax, cl
	mov r12, PAT_DEFAULT
	and r12, rbx
	or r12, rax
	ret

; rax = one of the qwords at rsi, rcx of them, chosen at random
pick:
	push rsi
	push rcx
	call rand
	xor edx, edx
	pop rcx
	div ecx
	pop rsi
	mov rax, [rsi + rdx * 8]
	ret

; eax = a random bit (1 << (rand % 32)), rcx/rdx clobbered
rand_bit32:
	RAND_BELOW 32
	mov ecx, eax
	mov eax, 1
	shl eax, cl
	ret

; rax = a random bit among 63:52, beyond any MAXPHYADDR (SDM vol.3A 4.1.4: at most 52):
; an address with it fails its check, where one below the width but above memory would
; pass and, in a VM-exit MSR area, end in a VMX abort (SDM 27.7: shutdown, no output)
rand_high_bit:
	RAND_BELOW 12
	lea ecx, [rax + 52]
	mov eax, 1
	shl rax, cl
	ret

; "seed=<n>", "count=<n>", "first=<n>" from the Multiboot command line
parse_cmdline:
	mov esi, [mbi]
	test dword [rsi], 1 << 2
	jz .end
	mov esi, [rsi + 16]
.scan:
	mov al, [rsi]
	test al, al
	jz .end
	cmp dword [rsi], 'seed'
	jne .try_first
	cmp byte [rsi + 4], '='
	jne .next
	add rsi, 5
	call parse_decimal
	test eax, eax
	jnz .seed_ok
	mov eax, 1                         ; xorshift needs a non-zero state
.seed_ok:
	mov [seed], eax
	jmp .scan
.try_first:
	cmp dword [rsi], 'firs'
	jne .try_count
	cmp word [rsi + 4], 't='
	jne .next
	add rsi, 6
	call parse_decimal
	mov [first], eax
	jmp .scan
.try_count:
	cmp dword [rsi], 'coun'
	jne .next
	cmp word [rsi + 4], 't='
	jne .next
	add rsi, 6
	call parse_decimal
	mov [count], eax
	jmp .scan
.next:
	inc rsi
	jmp .scan
.end:
	ret

parse_decimal:                          ; rsi -> digits; eax = value, rsi past them
	xor eax, eax
.digit:
	movzx edx, byte [rsi]
	sub edx, '0'
	cmp edx, 9
	ja .done
	imul eax, eax, 10
	add eax, edx
	inc rsi
	jmp .digit
.done:
	ret

puthex32:                               ; eax: 8 hex digits
	push rbx
	push rcx
	mov ebx, eax
	mov ecx, 8
.digit:
	rol ebx, 4
	mov eax, ebx
	and eax, 0xf
	mov al, [hex + rax]
	call putc
	loop .digit
	pop rcx
	pop rbx
	ret

puthex64:                               ; rax: 16 hex digits
	push rax
	shr rax, 32
	call puthex32
	pop rax
	jmp puthex32

; ---- mutations: each changes one thing a VM-entry check looks at (SDM 26.2, 26.3)

; 26.2.1.1-26.2.1.3: a random bit of a control field flips (allowed or not)
m_pin_bit:
	call rand_bit32
	FXOR VMCS_PIN_CONTROLS, rax
	ret
m_proc_bit:
	call rand_bit32
	FXOR VMCS_PROC_CONTROLS, rax
	ret
m_proc2_bit:
	FOR VMCS_PROC_CONTROLS, PROC_SECONDARY
	call rand_bit32
	FXOR F_PROC2, rax
	ret
m_exit_bit:
	call rand_bit32
	FXOR VMCS_EXIT_CONTROLS, rax
	ret
m_entry_bit:
	call rand_bit32
	FXOR VMCS_ENTRY_CONTROLS, rax
	ret
m_cr3_target_count:                     ; IA32_VMX_MISC[24:16] targets allowed
	RAND_BELOW 9
	mov edx, VMCS_CR3_TARGET_COUNT
	jmp vmw
m_io_bitmap:                            ; 4-KiB aligned, within the address width
	call rand
	mov ebx, VMCS_IO_BITMAP_A
	test al, 1
	jz .a
	mov ebx, VMCS_IO_BITMAP_B
.a:
	test al, 2
	jz .high
	and eax, 0xff0
	jmp .write
.high:
	call rand_high_bit
.write:
	mov r12, rax
	mov edx, ebx
	call vmr
	xor rax, r12
	mov edx, ebx
	jmp vmw
m_msr_bitmap:
	FOR VMCS_PROC_CONTROLS, PROC_MSR_BITMAPS
	call rand
	test al, 1
	jz .done                                ; the valid bitmap
	test al, 2
	jz .high
	and eax, 0xff8
	or eax, 8
	jmp .write
.high:
	call rand_high_bit
.write:
	FXOR F_MSR_BITMAP, rax
.done:
	ret
m_tpr_shadow:                           ; TPR threshold against VTPR (26.2.1.1)
	FOR VMCS_PROC_CONTROLS, PROC_TPR_SHADOW
	call rand
	mov [VAPIC + 0x80], al
	shr eax, 8
	and eax, 0x1f
	mov edx, F_TPR_THRESHOLD
	jmp vmw
m_nmi_controls:                         ; NMI exiting, virtual NMIs, NMI-window exiting
	call rand
	mov ebx, eax
	test bl, 1
	jz .no_nmi_exiting
	FOR VMCS_PIN_CONTROLS, PIN_NMI_EXITING
.no_nmi_exiting:
	test bl, 2
	jz .no_virtual_nmis
	FOR VMCS_PIN_CONTROLS, PIN_VIRTUAL_NMIS
.no_virtual_nmis:
	test bl, 4
	jz .done
	FOR VMCS_PROC_CONTROLS, PROC_NMI_WINDOW
.done:
	ret
m_vpid:
	FOR VMCS_PROC_CONTROLS, PROC_SECONDARY
	FOR F_PROC2, PROC2_VPID
	call rand
	and eax, 1                              ; VPID 0 or 1
	mov edx, F_VPID
	jmp vmw
m_ept:                                  ; EPTP memory type, walk length, A/D, reserved bits
	FOR VMCS_PROC_CONTROLS, PROC_SECONDARY
	FOR F_PROC2, PROC2_EPT
	call rand
	mov ebx, eax
	mov r12d, EPT_PML4
	test bl, 1
	jz .wb
	mov eax, ebx
	shr eax, 1
	and eax, 7
	or r12d, eax
	jmp .walk
.wb:
	or r12d, 6
.walk:
	test bl, 0x10
	jz .walk4
	mov eax, ebx
	shr eax, 5
	and eax, 7 << 3
	or r12d, eax
	jmp .ad
.walk4:
	or r12d, 3 << 3
.ad:
	mov eax, ebx
	and eax, 1 << 6                         ; bit 6: A/D flags
	or r12d, eax
	test ebx, 0x3000
	jnz .write
	mov eax, ebx                            ; a quarter: bit 7 or a reserved bit 11:8
	shr eax, 14
	and eax, 0xf
	or eax, 1
	shl eax, 7
	and eax, 0xf80
	or r12d, eax
.write:
	VMW F_EPTP, r12
	ret
m_unrestricted:
	FOR VMCS_PROC_CONTROLS, PROC_SECONDARY
	FOR F_PROC2, PROC2_UG
	call rand
	mov ebx, eax
	test bl, 1
	jz .no_ept
	FOR F_PROC2, PROC2_EPT
.no_ept:
	test bl, 2
	jz .done
	FAND VMCS_GUEST_CR0, ~0x80000001        ; real mode (with IA-32e mode guest still 1)
	VMW VMCS_GUEST_IDTR_BASE, L2_IVT        ; an injected event lands on l2_code
	VMW VMCS_GUEST_IDTR_LIMIT, 256 * 4 - 1
.done:
	ret
m_event_injection:                      ; 24.8.3, checked by 26.2.1.3
	call rand
	mov ebx, eax
	mov r12d, eax
	and r12d, 0x7ff                         ; vector, type
	test ebx, 0x1000
	jz .vector_ok
	and r12d, 0x71f                         ; half the time an exception vector
.vector_ok:
	mov eax, ebx
	and eax, 1 << 11                        ; deliver error code
	or r12d, eax
	or r12d, 1 << 31
	test ebx, 0xe000
	jnz .no_reserved
	call rand_bit32                         ; an eighth: one more bit, maybe reserved 30:12
	and eax, 0x7ffff000
	or r12d, eax
.no_reserved:
	VMW VMCS_ENTRY_INTR_INFO, r12
	call rand
	mov ebx, eax
	and eax, 0xffff
	test ebx, 0x30000
	jnz .errcode
	or eax, 0x10000                         ; a quarter: bits 31:16 not 0
.errcode:
	mov edx, F_ENTRY_ERRCODE
	call vmw
	RAND_BELOW 17
	mov edx, F_ENTRY_INSN_LEN
	jmp vmw
; MSR areas: a count of 1-2 entries, the address 16-byte aligned or not, within the width
; or not (26.2.1.2, 26.2.1.3); the entries themselves are checked by 26.4
msr_area:                               ; ebx = address field, r13d = count field
	RAND_BELOW 2
	inc eax
	mov edx, r13d
	call vmw
	call rand
	test al, 3
	jnz .done
	test al, 4
	jz .high
	and eax, 0xf8
	or eax, 8
	jmp .write
.high:
	call rand_high_bit
.write:
	mov r12, rax
	mov edx, ebx
	call vmr
	xor rax, r12
	mov edx, ebx
	jmp vmw
.done:
	ret
m_exit_msr_store:
	mov ebx, F_EXIT_STORE_ADDR
	mov r13d, VMCS_EXIT_MSR_STORE_COUNT
	jmp msr_area
m_exit_msr_load:
	mov ebx, F_EXIT_LOAD_ADDR
	mov r13d, VMCS_EXIT_MSR_LOAD_COUNT
	jmp msr_area
m_entry_msr_load:
	mov ebx, F_ENTRY_LOAD_ADDR
	mov r13d, VMCS_ENTRY_MSR_LOAD_COUNT
	call msr_area
	; the second entry: an MSR the area may load or one 26.4 refuses
	mov rsi, msr_load_choices
	mov ecx, NR_MSR_LOAD_CHOICES
	call pick
	mov [MSR_LOAD + 16], rax
	ret
m_ia32e_guest:
	FXOR VMCS_ENTRY_CONTROLS, ENTRY_IA32E_GUEST
	ret
m_load_efer:                            ; 26.3.1.1: EFER reserved bits, LMA/LME
	FOR VMCS_ENTRY_CONTROLS, ENTRY_LOAD_EFER
	mov rsi, efer_choices
	mov ecx, NR_EFER_CHOICES
	call pick
	mov edx, F_GUEST_EFER
	jmp vmw
m_load_pat:                             ; 26.3.1.1: PAT memory types 2, 3, 8+ reserved
	FOR VMCS_ENTRY_CONTROLS, ENTRY_LOAD_PAT
	call random_pat
	VMW F_GUEST_PAT, r12
	ret
m_debug_controls:                       ; 26.3.1.1: DR7 63:32, DEBUGCTL reserved bits
	FOR VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG
	call rand
	test al, 1
	jz .debugctl
	call rand_high_bit
	or rax, 0x400
	mov edx, VMCS_GUEST_DR7
	jmp vmw
.debugctl:
	call rand_bit32
	mov edx, VMCS_GUEST_DEBUGCTL
	jmp vmw
m_host_cr0:                             ; 26.2.2: the fixed bits
	mov rsi, cr0_bits
	mov ecx, NR_CR0_BITS
	call pick
	FXOR VMCS_HOST_CR0, rax
	ret
m_host_cr4:
	mov rsi, cr4_bits
	mov ecx, NR_CR4_BITS
	call pick
	FXOR VMCS_HOST_CR4, rax
	ret
m_host_cr3:
	call rand_high_bit
	FXOR VMCS_HOST_CR3, rax
	ret
m_host_selector:                        ; 26.2.3: RPL/TI, null CS/TR/SS
	RAND_BELOW 7
	lea ebx, [VMCS_HOST_ES_SEL + rax * 2]
	call rand
	test al, 8
	jz .null
	and eax, 7
	or eax, 1
	mov r12, rax
	mov edx, ebx
	call vmr
	xor rax, r12
	mov edx, ebx
	jmp vmw
.null:
	xor eax, eax
	mov edx, ebx
	jmp vmw
m_host_base:                            ; 26.2.3: FS, GS, TR, GDTR, IDTR bases canonical
	RAND_BELOW 5
	lea ebx, [VMCS_HOST_FS_BASE + rax * 2]
	mov rsi, noncanonical_choices
	mov ecx, NR_NONCANONICAL
	call pick
	mov edx, ebx
	jmp vmw
m_host_rip:                             ; 26.2.4: RIP canonical, address-space size
	call rand
	test al, 1
	jz .size
	mov rsi, noncanonical_choices
	mov ecx, NR_NONCANONICAL
	call pick
	mov edx, VMCS_HOST_RIP
	jmp vmw
.size:
	FXOR VMCS_EXIT_CONTROLS, EXIT_HOST_64
	ret
m_host_sysenter:
	call rand
	mov ebx, VMCS_HOST_SYSENTER_ESP
	test al, 1
	jz .esp
	mov ebx, VMCS_HOST_SYSENTER_EIP
.esp:
	mov rsi, noncanonical_choices
	mov ecx, NR_NONCANONICAL
	call pick
	mov edx, ebx
	jmp vmw
m_guest_cr0:                            ; 26.3.1.1
	mov rsi, cr0_bits
	mov ecx, NR_CR0_BITS
	call pick
	FXOR VMCS_GUEST_CR0, rax
	ret
m_guest_cr4:
	mov rsi, cr4_bits
	mov ecx, NR_CR4_BITS
	call pick
	FXOR VMCS_GUEST_CR4, rax
	ret
m_guest_cr3:
	call rand_high_bit
	FXOR VMCS_GUEST_CR3, rax
	ret
m_seg_ar:                               ; 26.3.1.2: one access-rights bit of one register
	RAND_BELOW 8
	lea ebx, [VMCS_GUEST_ES_AR + rax * 2]
	RAND_BELOW 20                           ; bits 19:0: type..G, unusable, reserved
	mov ecx, eax
	mov eax, 1
	shl eax, cl
	mov r12, rax
	mov edx, ebx
	call vmr
	xor rax, r12
	mov edx, ebx
	jmp vmw
m_seg_limit:
	RAND_BELOW 8
	lea ebx, [VMCS_GUEST_ES_LIMIT + rax * 2]
	mov rsi, limit_choices
	mov ecx, NR_LIMITS
	call pick
	mov edx, ebx
	jmp vmw
m_seg_base:
	RAND_BELOW 8
	lea ebx, [VMCS_GUEST_ES_BASE + rax * 2]
	mov rsi, base_choices
	mov ecx, NR_BASES
	call pick
	mov edx, ebx
	jmp vmw
m_selector:
	RAND_BELOW 8
	lea ebx, [VMCS_GUEST_ES_SEL + rax * 2]
	RAND_BELOW 7
	inc eax                                 ; RPL and TI
	mov r12, rax
	mov edx, ebx
	call vmr
	xor rax, r12
	mov edx, ebx
	jmp vmw
m_dtr:                                  ; 26.3.1.3
	call rand
	mov ebx, eax
	test bl, 1
	jz .base
	mov eax, ebx
	shr eax, 8
	or eax, 0x10000                         ; limit bits 31:16 not 0
	mov edx, VMCS_GUEST_GDTR_LIMIT
	test bl, 2
	jz .write
	mov edx, VMCS_GUEST_IDTR_LIMIT
	jmp .write
.base:
	mov rsi, noncanonical_choices
	mov ecx, NR_NONCANONICAL
	call pick
	mov edx, VMCS_GUEST_GDTR_BASE
	test bl, 2
	jz .write
	mov edx, VMCS_GUEST_IDTR_BASE
.write:
	jmp vmw
m_guest_rip:                            ; 26.3.1.4
	mov rsi, rip_choices
	mov ecx, NR_RIPS
	call pick
	mov edx, VMCS_GUEST_RIP
	jmp vmw
m_rflags:
	call rand
	mov ebx, eax
	and eax, 0x3f7fd7                       ; defined bits
	test ebx, 0x10000000
	jnz .no_reserved
	push rax
	call rand_bit32                         ; sometimes a reserved bit (or bit 1 flips)
	mov r12, rax
	pop rax
	xor rax, r12
.no_reserved:
	test ebx, 0x20000000
	jnz .write
	or eax, 2
.write:
	mov edx, VMCS_GUEST_RFLAGS
	jmp vmw
m_activity:                             ; 26.3.1.5: HLT, shutdown, 4-7 (not wait-for-SIPI)
	RAND_BELOW MAX_ACTIVITY - 1
	inc eax                                 ; 1..6
	cmp eax, 3
	jb .write
	inc eax                                 ; 4..7
.write:
	mov edx, VMCS_GUEST_ACTIVITY
	jmp vmw
m_interruptibility:
	call rand
	mov ebx, eax
	and eax, 0x1f
	test ebx, 0x700
	jnz .write
	mov r12, rax                            ; an eighth: one more bit, maybe reserved
	call rand_bit32
	or rax, r12
.write:
	mov edx, VMCS_GUEST_INTERRUPTIBILITY
	jmp vmw
m_pending_debug:
	mov rsi, pending_dbg_choices
	mov ecx, NR_PENDING_DBG
	call pick
	mov edx, VMCS_GUEST_PENDING_DEBUG
	jmp vmw
m_link_pointer:                         ; 26.3.1.5
	RAND_BELOW 7
	cmp eax, 1
	jne .not_shadow
	or dword [LINK_VMCS], 1 << 31           ; shadow-VMCS indicator without shadowing
.not_shadow:
	cmp eax, 2
	jne .not_revision
	xor dword [LINK_VMCS], 1                ; another revision
.not_revision:
	mov rax, [link_choices + rax * 8]
	mov edx, VMCS_LINK_POINTER
	jmp vmw
m_guest_sysenter:
	call rand
	mov ebx, VMCS_GUEST_SYSENTER_ESP
	test al, 1
	jz .esp
	mov ebx, VMCS_GUEST_SYSENTER_EIP
.esp:
	mov rsi, noncanonical_choices
	mov ecx, NR_NONCANONICAL
	call pick
	mov edx, ebx
	jmp vmw
m_tr_type:
	RAND_BELOW 16
	mov r12, rax
	mov edx, VMCS_GUEST_ES_AR + 2 * SEG_TR
	call vmr
	and rax, ~0xf
	or rax, r12
	mov edx, VMCS_GUEST_ES_AR + 2 * SEG_TR
	jmp vmw
m_pae_guest:                            ; a valid 32-bit L2 with PAE paging (26.3.1.6 PDPTEs)
	FAND VMCS_ENTRY_CONTROLS, ~ENTRY_IA32E_GUEST
	FAND VMCS_GUEST_ES_AR + 2 * SEG_CS, ~AR_L
	FOR VMCS_GUEST_ES_AR + 2 * SEG_CS, AR_DB
	VMW VMCS_GUEST_CR3, PAE_PDPT
	VMW F_GUEST_PDPTE0, PAE_PD | 1          ; what EPT takes instead (26.3.2.4)
	ret
m_host_efer_pat:                        ; 26.2.2: host EFER (reserved bits, LMA/LME), PAT
	call rand
	test al, 1
	jz .pat
	FOR VMCS_EXIT_CONTROLS, EXIT_LOAD_EFER
	mov rsi, efer_choices
	mov ecx, NR_EFER_CHOICES
	call pick
	mov edx, F_HOST_EFER
	jmp vmw
.pat:
	FOR VMCS_EXIT_CONTROLS, EXIT_LOAD_PAT
	call random_pat
	VMW F_HOST_PAT, r12
	ret
m_preemption_timer:                     ; 0: an exit before the first instruction
	FOR VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER   ; (SDM 26.7.4); a small count races the
	call rand                               ; first instruction: only 0 or a large one
	and eax, PREEMPTION_TIMER_HALTED
	mov edx, F_PREEMPTION_TIMER
	jmp vmw

align 8
mutations:
	dq m_pin_bit, m_proc_bit, m_proc2_bit, m_exit_bit, m_entry_bit, m_cr3_target_count
	dq m_io_bitmap, m_msr_bitmap, m_tpr_shadow, m_nmi_controls, m_vpid, m_ept
	dq m_unrestricted, m_event_injection, m_exit_msr_store, m_exit_msr_load
	dq m_entry_msr_load, m_ia32e_guest, m_load_efer, m_load_pat, m_debug_controls
	dq m_host_cr0, m_host_cr4, m_host_cr3, m_host_selector, m_host_base, m_host_rip
	dq m_host_sysenter, m_guest_cr0, m_guest_cr4, m_guest_cr3, m_seg_ar, m_seg_limit
	dq m_seg_base, m_selector, m_dtr, m_guest_rip, m_rflags, m_activity
	dq m_interruptibility, m_pending_debug, m_link_pointer, m_guest_sysenter
	dq m_tr_type, m_preemption_timer, m_pae_guest, m_host_efer_pat
NR_MUTATIONS equ ($ - mutations) / 8

; CR0: PE, NE, ET, WP, NW, CD, PG, bit 32; CR4: VME, PAE, PGE, VMXE, LA57, PCIDE, bit 32
cr0_bits: dq 1 << 0, 1 << 5, 1 << 4, 1 << 16, 1 << 29, 1 << 30, 1 << 31, 1 << 32
NR_CR0_BITS equ ($ - cr0_bits) / 8
cr4_bits: dq 1 << 0, 1 << 5, 1 << 7, 1 << 13, 1 << 12, 1 << 17, 1 << 32
NR_CR4_BITS equ ($ - cr4_bits) / 8
noncanonical_choices: dq NONCANONICAL, 0x7fffffffffffffff, 0xfff0000000000000
NR_NONCANONICAL equ ($ - noncanonical_choices) / 8
limit_choices: dq 0, 0xfff, 0xffff, 0xfffff, 0xfffff000, 0xffffffff, 0x67, 0x12345
NR_LIMITS equ ($ - limit_choices) / 8
base_choices: dq 0x1000, 1 << 32, NONCANONICAL, CANONICAL_HIGH
NR_BASES equ ($ - base_choices) / 8
rip_choices: dq l2_code + (1 << 32), NONCANONICAL, CANONICAL_HIGH, l2_code + 1
NR_RIPS equ ($ - rip_choices) / 8
; LME|LMA (valid), LMA alone, LME alone, none, +NXE, +SCE, +bit 9, +bit 12 (SVME)
efer_choices: dq 0x500, 0x400, 0x100, 0, 0xd00, 0x501, 0x700, 0x1500
NR_EFER_CHOICES equ ($ - efer_choices) / 8
; B0, BS, enabled breakpoint, RTM, BS|bit 12, reserved bits 4, 13, 15, 17
pending_dbg_choices: dq 1, 1 << 14, 1 << 12, 1 << 16, (1 << 14) | (1 << 12), 1 << 4, 1 << 13, 1 << 15, 1 << 17
NR_PENDING_DBG equ ($ - pending_dbg_choices) / 8
; the valid link VMCS, with the shadow indicator, with another revision, misaligned, beyond
; the address width, the current VMCS, the second VMCS (valid: its revision is right)
link_choices: dq LINK_VMCS, LINK_VMCS, LINK_VMCS, LINK_VMCS + 0x800, LINK_VMCS | (1 << 60), VMCS, VMCS2
; MSR-load entries (index, reserved 32 bits): SYSENTER_CS (valid), FS_BASE, GS_BASE,
; the x2APIC TPR, SMBASE-region IA32_SMM_MONITOR_CTL, a reserved dword, IA32_BIOS_UPDT_TRIG
msr_load_choices: dq MSR_SYSENTER_CS, 0xc0000100, 0xc0000101, 0x808, 0x9b, MSR_SYSENTER_CS | (1 << 32), 0x79
NR_MSR_LOAD_CHOICES equ ($ - msr_load_choices) / 8

; The fields a state may change, written back before each state
restore_fields:
	dw VMCS_PIN_CONTROLS, VMCS_PROC_CONTROLS, F_PROC2, VMCS_EXIT_CONTROLS, VMCS_ENTRY_CONTROLS
	dw VMCS_CR3_TARGET_COUNT, VMCS_IO_BITMAP_A, VMCS_IO_BITMAP_B, F_MSR_BITMAP, F_TPR_THRESHOLD
	dw F_VPID, F_EPTP, VMCS_ENTRY_INTR_INFO, F_ENTRY_ERRCODE, F_ENTRY_INSN_LEN
	dw F_EXIT_STORE_ADDR, VMCS_EXIT_MSR_STORE_COUNT, F_EXIT_LOAD_ADDR, VMCS_EXIT_MSR_LOAD_COUNT
	dw F_ENTRY_LOAD_ADDR, VMCS_ENTRY_MSR_LOAD_COUNT, F_GUEST_EFER, F_GUEST_PAT, F_PREEMPTION_TIMER
	dw VMCS_GUEST_DR7, VMCS_GUEST_DEBUGCTL
	dw VMCS_HOST_CR0, VMCS_HOST_CR3, VMCS_HOST_CR4, VMCS_HOST_RIP
	dw VMCS_HOST_ES_SEL, VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL, VMCS_HOST_DS_SEL, VMCS_HOST_FS_SEL
	dw VMCS_HOST_GS_SEL, VMCS_HOST_TR_SEL
	dw VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_TR_BASE, VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE
	dw VMCS_HOST_SYSENTER_ESP, VMCS_HOST_SYSENTER_EIP
	dw VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4
%assign s 0
%rep 8
	dw VMCS_GUEST_ES_SEL + 2 * s, VMCS_GUEST_ES_BASE + 2 * s, VMCS_GUEST_ES_LIMIT + 2 * s, VMCS_GUEST_ES_AR + 2 * s
%assign s s + 1
%endrep
	dw VMCS_GUEST_GDTR_BASE, VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_IDTR_LIMIT
	dw VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS, VMCS_GUEST_ACTIVITY
	dw VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_PENDING_DEBUG, VMCS_LINK_POINTER
	dw VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP
	dw F_GUEST_PDPTE0, F_GUEST_PDPTE0 + 2, F_GUEST_PDPTE0 + 4, F_GUEST_PDPTE0 + 6
	dw F_HOST_EFER, F_HOST_PAT
NR_RESTORE equ ($ - restore_fields) / 2

; The fields of the " vmcs ..." part of a line, and which are printed with 16 digits
line_fields:
	dw VMCS_PIN_CONTROLS, VMCS_PROC_CONTROLS, F_PROC2, VMCS_EXIT_CONTROLS, VMCS_ENTRY_CONTROLS
	dw F_EPTP, VMCS_GUEST_ACTIVITY, VMCS_ENTRY_INTR_INFO, VMCS_GUEST_CR0, VMCS_GUEST_CR4
	dw VMCS_GUEST_RFLAGS, VMCS_GUEST_RIP, VMCS_GUEST_ES_AR + 2 * SEG_CS
	dw VMCS_GUEST_ES_AR + 2 * SEG_SS, VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_PENDING_DEBUG
	dw VMCS_GUEST_DEBUGCTL, VMCS_GUEST_DR7, VMCS_LINK_POINTER, VMCS_ENTRY_MSR_LOAD_COUNT
	dw F_ENTRY_ERRCODE, F_ENTRY_INSN_LEN
NR_LINE_FIELDS equ ($ - line_fields) / 2
line_wide: db 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0

; After a VM exit: guest RIP (16 digits), 8-digit fields, guest RSP (16 digits: lower
; than L2's stack top when L2 took an event)
after_fields:
	dw VMCS_GUEST_RIP, VMCS_IDT_VECTORING_INFO, VMCS_EXIT_INSN_LEN, VMCS_GUEST_INTERRUPTIBILITY
	dw VMCS_GUEST_ACTIVITY, VMCS_GUEST_RSP
NR_AFTER_FIELDS equ ($ - after_fields) / 2

; L2: CPUID, which exits unconditionally (SDM 25.1.2) whatever the mutated controls say;
; every IDT gate and IVT entry leads here too
l2_code:
	cpuid
	jmp l2_code


%include "vmx_l1_lib.inc"

msg_tap: db "TAP version 13", 10, "1..1", 10, 0
msg_done: db "ok 1 - fuzz/vmcs12", 10, 0
msg_fuzz: db "fuzz ", 0
msg_fuzz_state: db "fuzz-state ", 0
msg_m: db " m ", 0
msg_result_invalid: db " result invalid", 0
msg_result_valid: db " result valid ", 0
msg_result_exit: db " result exit ", 0
msg_vmcs: db " vmcs", 0
msg_after: db " after", 0
msg_caps: db "fuzz-caps basic ", 0
msg_cap_pin: db " pin ", 0
msg_cap_proc: db " proc ", 0
msg_cap_proc2: db " proc2 ", 0
msg_cap_exit: db " exit ", 0
msg_cap_entry: db " entry ", 0
msg_cap_misc: db " misc ", 0
msg_cap_ept: db " ept ", 0
msg_cap_cpuid7: db " cpuid7 ", 0

align 4
seed: dd 1
count: dd 100
first: dd 0

load_end:
COMMON_BSS
alignb 8
saved: resq NR_RESTORE
line_values: resq NR_LINE_FIELDS
index: resd 1
nmut: resd 1
mutlist: resd 1
outcome: resd 1
alignb 16
	resb 4096
stack_top:
bss_end:
