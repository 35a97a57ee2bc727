/* The IDT: all 256 vectors go to exception_dispatch() through exception_stubs.asm. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

void idt_init(void);
/* Loads the same IDT into this CPU's IDTR (the APs share the boot CPU's). */
void idt_load(void);

#endif
