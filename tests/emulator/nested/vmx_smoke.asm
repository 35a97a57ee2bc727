; vmx_smoke: a minimal VT-x hypervisor (L1) as a Multiboot kernel, the twin of svm_smoke.
; vmx_l1_setup.inc enters long mode, enables VMX and fills one VMCS for a 64-bit L2; this
; file runs that L2 with VMLAUNCH/VMRESUME and checks exact architectural values, printing
; TAP on COM1:
;   1 nested/vmx-vmptrst              VMPTRST stores the VMCS that VMPTRLD made current
;   2 nested/vmx-cpuid-exit           exit reason 10, instruction length 2, RIP at the CPUID
;   3 nested/vmx-l2-gprs-kept         the GPRs L2 set are L2's after the exit; guest RSP
;   4 nested/vmx-io-out-imm8-exit     OUT imm8 to an I/O-bitmap port: reason 30,
;                                     qualification port/imm/OUT/1 byte, length 2
;   5 nested/vmx-io-in-dx-exit        IN AX,DX: qualification port/DX/IN/2 bytes, length 2
;   6 nested/vmx-hlt-exit             reason 12, length 1, RIP at the HLT, still active
;   7 nested/vmx-vmlaunch-launched    VMLAUNCH of a launched VMCS: VMfailValid 4
;   8 nested/vmx-vmptrld-misaligned   VMPTRLD of an address not 4-KiB aligned: VMfailValid 9
;   9 nested/vmx-vmread-unsupported   VMREAD of a field that does not exist: VMfailValid 12
;  10 nested/vmx-vmwrite-readonly     VMWRITE of EXIT_REASON: VMfailValid 13, or VMsucceed
;                                     where IA32_VMX_MISC[29] allows it
;  11 nested/vmx-vmresume-clear       VMRESUME of a clear VMCS: VMfailValid 5
;  12 nested/vmx-vmlaunch-bad-pin     VMLAUNCH with a pin-based control the CPU does not
;                                     allow: VMfailValid 7
;  13 nested/vmx-vmclear-keeps-vmcs   after VMCLEAR + VMPTRLD the VMCS still holds its
;                                     contents: VMLAUNCH exits at L2's HLT
;  14 nested/vmx-vmxon-in-root       VMXON in VMX root operation: VMfailValid 15
;  15 nested/vmx-vmclear-vmxon-pointer VMCLEAR of the VMXON region: VMfailValid 3
; It runs bare on any VT-x platform and as L1 under nestbed. nasm -f bin.
%include "vmx_l1_setup.inc"

MARK        equ 0x0101010101010101      ; L2 puts MARK * n in GPR number n
RAX_MARK    equ MARK * 0x10             ; RAX is register 0: a marker that is not 0
L2_RSP_DROP equ 0x40                    ; L2 moves its RSP by this much
; A field encoding no VMCS has: natural-width host-state index 0x1ff (SDM B.4.4 lists the
; host-state fields 0x6c00-0x6c16)
UNSUPPORTED_FIELD equ 0x6ffe
VMREAD_SENTINEL   equ 0x5e57e1a15e57e1a1
MISALIGNED        equ 0x10              ; VMPTRLD needs a 4-KiB aligned address (SDM 30.3)

	; ---- 1: VMPTRST (SDM 30.3)
	mov qword [scratch], 0
	vmptrst [scratch]
	OUTCOME
	CHECK rax, OUT_SUCCEED, OUTCOME_WHAT
	CHECK [scratch], VMCS, "current-VMCS pointer"
	TEST_END "nested/vmx-vmptrst"

	; ---- 2: VMLAUNCH; L2 loads its registers and executes CPUID, which exits
	; unconditionally (SDM 25.1.2). The exit leaves RIP at the CPUID (SDM 27.3.3).
	xor edi, edi
	call vmx_enter
	call expect_exit
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_CPUID, "exit reason"
	CHECK_FIELD VMCS_EXIT_INSN_LEN, 2, "VM-exit instruction length"
	CHECK_FIELD VMCS_GUEST_RIP, l2_cpuid, "guest RIP (the CPUID)"
	CHECK_FIELD VMCS_IDT_VECTORING_INFO, 0, "IDT-vectoring information (no event delivery)"
	TEST_END "nested/vmx-cpuid-exit"

	; ---- 3: the exit saved only RSP and RIP of L2 (SDM 27.3.3); every other GPR is still
	; L2's, as the exit stub found it. l2_regs held zeros before L2 ran.
%assign reg 0
%rep 16
%if reg == 0
	CHECK [l2_regs], RAX_MARK, "L2 RAX"
%elif reg != 4
	CHECK [l2_regs + 8 * reg], MARK * reg, "L2 GPR n (n in every byte)"
%endif
%assign reg reg + 1
%endrep
	CHECK_FIELD VMCS_GUEST_RSP, L2_STACK - L2_RSP_DROP, "guest RSP"
	TEST_END "nested/vmx-l2-gprs-kept"

	; ---- 4: past the CPUID, VMRESUME: OUT imm8 to port 0x80, set in I/O bitmap A
	; (SDM 25.1.3); its exit qualification (SDM 27.2.1 Table 27-5)
	call advance_rip
	mov edi, 1
	call vmx_enter
	call expect_exit
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_IO, "exit reason"
	CHECK_FIELD VMCS_EXIT_QUALIFICATION, (L2_PORT << IO_QUAL_PORT_SHIFT) | IO_QUAL_IMM | IO_QUAL_SIZE_1, \
		"exit qualification (port << 16, immediate, OUT, 1 byte)"
	CHECK_FIELD VMCS_EXIT_INSN_LEN, 2, "VM-exit instruction length"
	CHECK_FIELD VMCS_GUEST_RIP, l2_out, "guest RIP (the OUT)"
	TEST_END "nested/vmx-io-out-imm8-exit"

	; ---- 5: IN AX, DX with DX = 0x80: a 2-byte access, port from DX
	call advance_rip
	mov edi, 1
	call vmx_enter
	call expect_exit
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_IO, "exit reason"
	CHECK_FIELD VMCS_EXIT_QUALIFICATION, (L2_PORT << IO_QUAL_PORT_SHIFT) | IO_QUAL_IN | IO_QUAL_SIZE_2, \
		"exit qualification (port << 16, DX, IN, 2 bytes)"
	CHECK_FIELD VMCS_EXIT_INSN_LEN, 2, "VM-exit instruction length (66 ED)"
	CHECK_FIELD VMCS_GUEST_RIP, l2_in, "guest RIP (the IN)"
	TEST_END "nested/vmx-io-in-dx-exit"

	; ---- 6: HLT with HLT exiting: the exit comes before the HLT executes, so L2 is
	; still active (SDM 25.1.3, 27.3.4)
	call advance_rip
	mov edi, 1
	call vmx_enter
	call expect_exit
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_HLT, "exit reason"
	CHECK_FIELD VMCS_EXIT_INSN_LEN, 1, "VM-exit instruction length"
	CHECK_FIELD VMCS_GUEST_RIP, l2_hlt, "guest RIP (the HLT)"
	CHECK_FIELD VMCS_GUEST_ACTIVITY, 0, "guest activity state (active)"
	TEST_END "nested/vmx-hlt-exit"

	; ---- 7: VMLAUNCH of a VMCS whose launch state is "launched" (SDM 30.3 VMLAUNCH).
	; Should it enter anyway, L2 exits at once on its HLT.
	VMW VMCS_GUEST_RIP, l2_hlt
	xor edi, edi
	call vmx_enter
	CHECK rax, OUT_FAIL_VALID, OUTCOME_WHAT
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_VMLAUNCH_NONCLEAR, "VM-instruction error"
	TEST_END "nested/vmx-vmlaunch-launched"

	; ---- 8: VMPTRLD of an address that is not 4-KiB aligned: VMfailValid 9 into the
	; current VMCS, which stays current (SDM 30.3 VMPTRLD)
	mov rax, VMCS2 + MISALIGNED
	mov [scratch], rax
	vmptrld [scratch]
	OUTCOME
	CHECK rax, OUT_FAIL_VALID, OUTCOME_WHAT
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_VMPTRLD_INVALID_ADDR, "VM-instruction error"
	vmptrst [scratch]
	CHECK [scratch], VMCS, "current-VMCS pointer (unchanged)"
	TEST_END "nested/vmx-vmptrld-misaligned"

	; ---- 9: VMREAD of an unsupported field: VMfailValid 12, the destination untouched
	; (SDM 30.3 VMREAD)
	mov rbx, VMREAD_SENTINEL
	mov edx, UNSUPPORTED_FIELD
	vmread rbx, rdx
	OUTCOME
	mov [scratch], rbx
	CHECK rax, OUT_FAIL_VALID, OUTCOME_WHAT
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_UNSUPPORTED_FIELD, "VM-instruction error"
	CHECK [scratch], VMREAD_SENTINEL, "VMREAD destination (unchanged)"
	TEST_END "nested/vmx-vmread-unsupported"

	; ---- 10: VMWRITE of EXIT_REASON, a VM-exit information field: read-only (VMfailValid
	; 13) unless IA32_VMX_MISC[29] says VMWRITE may write it (SDM 30.3 VMWRITE, A.6). The
	; field holds the HLT exit's reason (test 7's failure wrote no exit information).
	test dword [cap_misc], VMX_MISC_VMWRITE_ANY
	jnz .t10_writable
	mov edx, VMCS_EXIT_REASON
	mov eax, EXIT_REASON_CPUID
	vmwrite rdx, rax
	OUTCOME
	CHECK rax, OUT_FAIL_VALID, OUTCOME_WHAT
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_VMWRITE_READONLY, "VM-instruction error"
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_HLT, "exit reason (unchanged)"
	jmp .t10_end
.t10_writable:
	mov rsi, msg_misc29
	call puts
	mov edx, VMCS_EXIT_REASON
	mov eax, EXIT_REASON_CPUID
	vmwrite rdx, rax
	OUTCOME
	CHECK rax, OUT_SUCCEED, OUTCOME_WHAT
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_CPUID, "exit reason (as written)"
.t10_end:
	TEST_END "nested/vmx-vmwrite-readonly"

	; ---- 11: VMRESUME of a VMCS whose launch state is "clear" (SDM 30.3 VMRESUME): the
	; second VMCS, fresh from VMCLEAR
	vmclear [vmcs2_pa]
	OUTCOME
	CHECK rax, OUT_SUCCEED, {"VMCLEAR ", OUTCOME_WHAT}
	vmptrld [vmcs2_pa]
	OUTCOME
	CHECK rax, OUT_SUCCEED, {"VMPTRLD ", OUTCOME_WHAT}
	mov edi, 1
	call vmx_enter
	CHECK rax, OUT_FAIL_VALID, {"VMRESUME ", OUTCOME_WHAT}
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_VMRESUME_NONLAUNCHED, "VM-instruction error"
	TEST_END "nested/vmx-vmresume-clear"

	; ---- 12: VMCLEAR + VMPTRLD L2's VMCS (launch state "clear" again), then VMLAUNCH with
	; a pin-based control set that the allowed-1 settings forbid (SDM 26.2.1.1, A.3.1).
	; Without such a bit, one the allowed-0 settings fix to 1 is cleared instead.
	vmclear [vmcs_pa]
	OUTCOME
	CHECK rax, OUT_SUCCEED, {"VMCLEAR ", OUTCOME_WHAT}
	vmptrld [vmcs_pa]
	OUTCOME
	CHECK rax, OUT_SUCCEED, {"VMPTRLD ", OUTCOME_WHAT}
	mov edx, VMCS_PIN_CONTROLS
	call vmr
	mov [good_pin], eax
	mov ecx, [cap_pin + 4]                  ; allowed-1
	not ecx
	test ecx, ecx
	jz .t12_clear_fixed
	mov edx, ecx
	neg edx
	and ecx, edx                            ; the lowest bit that may not be 1
	or eax, ecx
	jmp .t12_write
.t12_clear_fixed:
	mov ecx, [cap_pin]                      ; allowed-0: the bits that must be 1
	mov edx, ecx
	neg edx
	and ecx, edx
	not ecx
	and eax, ecx
.t12_write:
	mov [bad_pin], eax
	VMW VMCS_PIN_CONTROLS, [bad_pin]
	xor edi, edi
	call vmx_enter
	CHECK rax, OUT_FAIL_VALID, {"VMLAUNCH ", OUTCOME_WHAT}
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_INVALID_CONTROL, "VM-instruction error"
	TEST_END "nested/vmx-vmlaunch-bad-pin"

	; ---- 13: with the pin-based controls restored, the VMCS that went through VMCLEAR and
	; VMPTRLD launches again and L2 exits at its HLT: VMCLEAR wrote the VMCS data back to
	; memory and VMPTRLD took it up (SDM 24.1, 30.3 VMCLEAR)
	VMW VMCS_PIN_CONTROLS, [good_pin]
	xor edi, edi
	call vmx_enter
	call expect_exit
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_HLT, "exit reason"
	CHECK_FIELD VMCS_GUEST_RIP, l2_hlt, "guest RIP (the HLT)"
	TEST_END "nested/vmx-vmclear-keeps-vmcs"

	; ---- 14: VMXON in VMX root operation: VMfailValid 15 with a current VMCS (SDM 30.3 VMXON)
	vmxon [vmxon_pa]
	OUTCOME
	CHECK rax, OUT_FAIL_VALID, OUTCOME_WHAT
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_VMXON_IN_ROOT, "VM-instruction error"
	TEST_END "nested/vmx-vmxon-in-root"

	; ---- 15: VMCLEAR of the VMXON region: VMfailValid 3 (SDM 30.3 VMCLEAR), and the
	; current VMCS stays current
	vmclear [vmxon_pa]
	OUTCOME
	CHECK rax, OUT_FAIL_VALID, OUTCOME_WHAT
	CHECK_FIELD VMCS_VM_INSN_ERROR, VMXERR_VMCLEAR_VMXON_PTR, "VM-instruction error"
	vmptrst [scratch]
	CHECK [scratch], VMCS, "current-VMCS pointer (unchanged)"
	TEST_END "nested/vmx-vmclear-vmxon-pointer"

	mov eax, [failures]
	test eax, eax
	jz finish
	mov eax, 1
	jmp finish

; L2's code (64-bit, on L1's page tables): its registers, then CPUID, OUT, IN, HLT
l2_code:
	sub rsp, L2_RSP_DROP
	mov rax, RAX_MARK
	mov rcx, MARK * 1
	mov rdx, MARK * 2
	mov rbx, MARK * 3
	mov rbp, MARK * 5
	mov rsi, MARK * 6
	mov rdi, MARK * 7
	mov r8, MARK * 8
	mov r9, MARK * 9
	mov r10, MARK * 10
	mov r11, MARK * 11
	mov r12, MARK * 12
	mov r13, MARK * 13
	mov r14, MARK * 14
	mov r15, MARK * 15
l2_cpuid:
	cpuid                                   ; 0f a2
l2_out:
	out L2_PORT, al                         ; e6 80
	mov dx, L2_PORT
l2_in:
	in ax, dx                               ; 66 ed
l2_hlt:
	hlt                                     ; f4
	jmp l2_hlt


%include "vmx_l1_lib.inc"

msg_tap: db "TAP version 13", 10, "1..15", 10, 0
msg_misc29: db "# IA32_VMX_MISC[29] = 1: VMWRITE may write VM-exit information fields", 10, 0


load_end:
COMMON_BSS
good_pin: resd 1
bad_pin: resd 1
alignb 16
	resb 4096
stack_top:
bss_end:
