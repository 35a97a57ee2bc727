; Instructions that fault on purpose, at known addresses, for nestbed's self-tests:
; the test arms exception_expect(vector, *_resume) and checks the recorded RIP.
default rel
bits 64
section .text

global selftest_trigger_ud, selftest_ud_site, selftest_ud_resume
selftest_trigger_ud:
selftest_ud_site:
	ud2
selftest_ud_resume:
	ret

; uint64_t selftest_trigger_read(uint64_t address)
global selftest_trigger_read, selftest_read_site, selftest_read_resume
selftest_trigger_read:
	xor eax, eax
selftest_read_site:
	mov rax, [rdi]
selftest_read_resume:
	ret
