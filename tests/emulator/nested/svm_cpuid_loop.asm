; svm_cpuid_loop: the smallest L1 hypervisor loop, for `make bench`: L2 executes CPUID
; forever, L1 intercepts it and re-enters L2 with nothing but VMRUN (no CLGI/STGI,
; no VMLOAD/VMSAVE), LOOPS times. It prints one TAP test with the TSC ticks per round
; trip; under QEMU -icount the TSC counts instructions, so the figure is exact. Under
; nestbed, the stats line gives L0 exits per reflected exit (the floor is 2).
; Where the CPU offers VMCB clean bits (CPUID 8000_000Ah EDX[5]), the loop's VMRUNs mark
; every group of APM vol.2 table 15-9 but AVIC clean: L1 changes nothing in the VMCB
; between them (the CPU's #VMEXIT writes are what it caches).
%include "svm_l1_setup.inc"
LOOPS      equ 10000
C_CLEAN    equ 0x0c0               ; VMCB clean field (APM vol.2 15.15.3)
CLEAN_ALL  equ 0x7ff               ; bits 0-10: intercepts ... LBR
SVM_VMCB_CLEAN equ 1 << 5          ; CPUID 8000_000Ah EDX

	; ---- the loop: CPUID exits, L1 resumes L2 at the CPUID again
	mov dword [VMCB + S_RAX], 0
	call run_l2                             ; warm up once
	mov eax, [VMCB + C_EXITCODE]
	cmp eax, 0x72
	jne .bad
	mov eax, 0x8000000a
	cpuid
	test edx, SVM_VMCB_CLEAN
	jz .no_clean
	mov dword [VMCB + C_CLEAN], CLEAN_ALL
.no_clean:
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

; L2's code: CPUID forever (L1 resumes it at the CPUID each time)
l2_code:
	cpuid
	jmp l2_code


%include "svm_l1_lib.inc"

msg_tap: db "TAP version 13", 10, "1..1", 10, 0
msg_skip_all: db "ok 1 - bench/l2-cpuid-loop # SKIP no SVM (CPUID 8000_0001h ECX[2] = 0)", 10, 0
msg_ok: db "ok 1 - bench/l2-cpuid-loop # round trips 0x00002710, ticks 0x", 0
msg_per: db ", ticks per round trip 0x", 0
msg_bad: db "not ok 1 - bench/l2-cpuid-loop # expected EXITCODE 0x72, observed 0x", 0


load_end:
COMMON_BSS
align 8
t0: resq 1
ticks: resq 1
	resb 4096
stack_top:
bss_end:
