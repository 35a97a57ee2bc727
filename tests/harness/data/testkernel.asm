; testkernel.asm: a tiny Multiboot 1 kernel for the harness's own tests.
;
;   nasm -f bin -o testkernel.bin testkernel.asm
;
; Flat binary loaded at 1 MiB through the Multiboot "a.out kludge" (flags bit 16), so
; QEMU -kernel, GRUB (BIOS) and GRUB (EFI) all load it. It prints TAP version 13 on COM1
; and ends through the exit protocol every nestbed image follows:
;   "exit-port: <code>" line, drain the UART (LSR bit 6), outb(code, 0xf4) for QEMU's
;   isa-debug-exit, then "Shutdown" to port 0x8900 for Bochs.
;
; Words in its command line choose the behaviour (the harness tests use them):
;   fail   test 2 is "not ok", exit code 1        fatal  exit code 2, no TAP failure
;   bail   prints "Bail out!"                     spin   hangs before any TAP (timeout)
;   crash  triple fault before any TAP            liar   prints "exit-port: 0", writes 1
;   noplan no "1..3" line
; It echoes its command line ("# cmdline: ...") and each module's ("# module: ...").

bits 32
org 0x100000

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ (1 << 0) | (1 << 1) | (1 << 16)  ; align modules, memory info, address fields
COM1        equ 0x3f8
EXIT_PORT   equ 0xf4                             ; QEMU isa-debug-exit
BOCHS_PORT  equ 0x8900                           ; Bochs: "Shutdown" ends the simulation

header:
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)
        dd header                                ; header_addr
        dd header                                ; load_addr
        dd load_end                              ; load_end_addr
        dd bss_end                               ; bss_end_addr
        dd start                                 ; entry_addr

start:
        cli
        mov esp, stack_top
        mov [mbi], ebx
        call serial_init

        mov esi, s_version
        call puts
        ; command line (Multiboot info flags bit 2, field at +16)
        mov ebx, [mbi]
        test dword [ebx], 1 << 2
        jz .no_cmdline
        mov eax, [ebx + 16]
        mov [cmdline], eax
        mov esi, s_cmdline
        call puts
        mov esi, [cmdline]
        call puts
        call newline
.no_cmdline:
        ; modules (flags bit 3: count at +20, table at +24, 16 bytes each, string at +8)
        test dword [ebx], 1 << 3
        jz .no_mods
        mov ecx, [ebx + 20]
        mov edi, [ebx + 24]
.mod_loop:
        test ecx, ecx
        jz .no_mods
        mov esi, s_module
        call puts
        mov esi, [edi + 8]
        call puts
        call newline
        add edi, 16
        dec ecx
        jmp .mod_loop
.no_mods:

        mov esi, w_crash
        call has_word
        jz .not_crash
        lidt [idt_empty]                         ; no IDT: int3 -> #GP -> #DF -> triple fault
        int3
.not_crash:
        mov esi, w_spin
        call has_word
        jz .not_spin
        mov esi, s_spin
        call puts
.spin:  hlt
        jmp .spin
.not_spin:

        mov esi, s_ok1
        call puts
        mov esi, w_fail
        call has_word
        jz .ok2
        mov esi, s_notok2
        call puts
        mov byte [code], 1
        jmp .t3
.ok2:   mov esi, s_ok2
        call puts
.t3:    mov esi, s_skip3
        call puts
        mov esi, w_bail
        call has_word
        jz .no_bail
        mov esi, s_bail
        call puts
.no_bail:
        mov esi, w_noplan
        call has_word
        jnz .no_plan
        mov esi, s_plan
        call puts
.no_plan:
        mov esi, w_fatal
        call has_word
        jz .not_fatal
        mov byte [code], 2
.not_fatal:

        ; exit protocol
        mov esi, s_exit
        call puts
        mov esi, w_liar
        call has_word
        mov al, [code]
        jz .print_code
        xor al, al                               ; claims 0 ...
        mov byte [code], 1                       ; ... writes 1
.print_code:
        add al, '0'
        call putc
        call newline
.drain: mov dx, COM1 + 5
        in al, dx
        test al, 0x40                            ; LSR bit 6: transmitter empty
        jz .drain
        mov al, [code]
        out EXIT_PORT, al
        mov dx, BOCHS_PORT
        mov esi, s_shutdown
        mov ecx, 8
        rep outsb
.halt:  hlt
        jmp .halt

; ZF clear (nz) when the command line contains the word at esi (as a substring).
has_word:
        push esi
        push edi
        push ecx
        mov edi, [cmdline]
        test edi, edi
        jz .no
.next:  mov al, [edi]
        test al, al
        jz .no
        xor ecx, ecx
.cmp:   mov al, [esi + ecx]
        test al, al
        jz .yes
        cmp al, [edi + ecx]
        jne .adv
        inc ecx
        jmp .cmp
.adv:   inc edi
        jmp .next
.yes:   or ecx, 1                               ; nz
        jmp .out
.no:    xor ecx, ecx                            ; zf
.out:   pop ecx
        pop edi
        pop esi
        ret

serial_init:
        mov dx, COM1 + 1
        xor al, al
        out dx, al                               ; no interrupts
        mov dx, COM1 + 3
        mov al, 0x80
        out dx, al                               ; DLAB
        mov dx, COM1
        mov al, 1
        out dx, al                               ; 115200 baud
        mov dx, COM1 + 1
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 3
        out dx, al                               ; 8N1
        mov dx, COM1 + 2
        mov al, 0xc7
        out dx, al                               ; FIFO on
        mov dx, COM1 + 4
        mov al, 0x0b
        out dx, al
        ret

; putc(al); puts(esi, NUL-terminated); newline
putc:
        push edx
        push eax
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20                            ; LSR bit 5: holding register empty
        jz .wait
        pop eax
        mov dx, COM1
        out dx, al
        pop edx
        ret
puts:
        push esi
        push eax
.loop:  lodsb
        test al, al
        jz .done
        call putc
        jmp .loop
.done:  pop eax
        pop esi
        ret
newline:
        push eax
        mov al, 10
        call putc
        pop eax
        ret

idt_empty:  dw 0
            dd 0
s_version:  db "TAP version 13", 10, 0
s_cmdline:  db "# cmdline: ", 0
s_module:   db "# module: ", 0
s_spin:     db "# spinning", 10, 0
s_ok1:      db "ok 1 - harness/first", 10, 0
s_ok2:      db "ok 2 - harness/second", 10, 0
s_notok2:   db "not ok 2 - harness/second # deliberate failure", 10, 0
s_skip3:    db "ok 3 - harness/third # SKIP not on this platform", 10, 0
s_bail:     db "Bail out! deliberate", 10, 0
s_plan:     db "1..3", 10, 0
s_exit:     db "exit-port: ", 0
s_shutdown: db "Shutdown"
w_crash:    db "crash", 0
w_spin:     db "spin", 0
w_fail:     db "fail", 0
w_bail:     db "bail", 0
w_noplan:   db "noplan", 0
w_fatal:    db "fatal", 0
w_liar:     db "liar", 0
code:       db 0
align 4
load_end:
mbi:        dd 0
cmdline:    dd 0
            times 1024 db 0
stack_top:
bss_end:
