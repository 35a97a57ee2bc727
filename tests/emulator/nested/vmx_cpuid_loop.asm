; vmx_cpuid_loop: the smallest VT-x L1 hypervisor loop, for `make bench` (the twin of
; svm_cpuid_loop): L2 executes CPUID forever; CPUID exits unconditionally (SDM 25.1.2),
; and L1 re-enters L2 at the same CPUID with nothing but VMRESUME, LOOPS times. No VMREAD
; or VMWRITE in the loop: L2 leaves its GPRs alone (the CPUID never executes), so L1 keeps
; its counter in a register, and HOST_RIP points straight at the loop. It prints one TAP
; test with the TSC ticks per round trip. Under nestbed, the stats line gives L0 exits per
; reflected exit (the floor is 2: the L2 exit and L1's VMRESUME).
%include "vmx_l1_setup.inc"
LOOPS      equ 10000

	; ---- warm up once through vmx_enter: VMLAUNCH must exit on the CPUID
	xor edi, edi
	call vmx_enter
	call expect_exit
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_CPUID, "exit reason"
	cmp byte [cur_bad], 0
	jne report

	; ---- the loop
	VMW VMCS_HOST_RIP, loop_exit
	mov rax, rsp
	VMW VMCS_HOST_RSP, rax
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r13, rax
	mov r12d, LOOPS
loop_resume:
	vmresume
	pushfq                                  ; only a failed VMRESUME falls through
	pop rax
	call flags_outcome
	CHECK rax, OUT_VM_EXIT, OUTCOME_WHAT
	jmp report
loop_exit:
	dec r12d
	jnz loop_resume
	rdtsc
	shl rdx, 32
	or rax, rdx
	sub rax, r13
	mov [ticks], rax
	CHECK_FIELD VMCS_EXIT_REASON, EXIT_REASON_CPUID, "exit reason"
	CHECK_FIELD VMCS_GUEST_RIP, l2_code, "guest RIP (the CPUID)"

report:
	cmp byte [cur_bad], 0
	jne .bad
	mov rsi, msg_ok_line
	call puts
	mov rax, [ticks]
	call puthex
	mov rsi, msg_per
	call puts
	mov rax, [ticks]
	xor edx, edx
	mov ecx, LOOPS
	div rcx
	call puthex
	mov al, 10
	call putc
	xor eax, eax
	jmp finish
.bad:
	TEST_END "bench/l2-cpuid-loop"
	mov eax, 1
	jmp finish

; L2's code: CPUID forever (L1 resumes it at the CPUID each time)
l2_code:
	cpuid
	jmp l2_code


%include "vmx_l1_lib.inc"

msg_tap: db "TAP version 13", 10, "1..1", 10, 0
; the format harness/bench.py parses (TICKS), as svm_cpuid_loop prints it
msg_ok_line: db "ok 1 - bench/l2-cpuid-loop # round trips 0x2710, ticks 0x", 0
msg_per: db ", ticks per round trip 0x", 0

%if LOOPS != 0x2710
%error "msg_ok_line states the round trips: keep it equal to LOOPS"
%endif


load_end:
COMMON_BSS
ticks: resq 1
alignb 16
	resb 4096
stack_top:
bss_end:
