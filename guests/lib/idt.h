/* The IDT: all 256 vectors go to exception_dispatch() through exception_stubs.asm. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

void idt_init(void);

#endif
