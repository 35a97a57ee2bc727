; svm_smoke: a minimal AMD-V hypervisor (L1) as a 32-bit Multiboot kernel. It runs a
; tiny L2 with VMRUN and checks the exact #VMEXIT values, printing TAP on COM1:
;   1 nested/svm-cpuid-exit     EXITCODE 0x72, next_rip = rip + 2 (when NRIPS is offered)
;   2 nested/svm-l2-state-saved L2's EAX..EDX after CPUID are back in VMCB RAX/GPRs, RIP
;   3 nested/svm-hlt-exit       EXITCODE 0x78 after resuming at next_rip
;   4 nested/svm-ioio-exit      OUT 0x80,AL: EXITCODE 0x7b, EXITINFO1 port/size/type,
;                               EXITINFO2 the next RIP
;   5 nested/svm-vmrun-asid0    VMRUN with ASID 0: EXITCODE VMEXIT_INVALID (low 32 bits)
; It runs bare on any AMD-V platform and as L1 under nestbed. nasm -f bin.
%include "svm_l1_setup.inc"

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

; L2's code: CPUID, HLT, OUT
l2_code:
	cpuid
l2_hlt:
	hlt
l2_out:
	out 0x80, al
	jmp $


%include "svm_l1_lib.inc"

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


load_end:
COMMON_BSS
align 4
	resb 4096
stack_top:
bss_end:
