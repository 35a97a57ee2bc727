/* The 64-bit TSS: interrupt stacks (IST) for the exceptions that must work even when
 * the current stack is broken, and a non-zero TR, which VMX requires of a host. */
#ifndef GUEST_TSS_H
#define GUEST_TSS_H

/* IST slots used by the IDT (1-based, SDM vol.3A 7.14.5). */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHECK 3

void tss_init(void);

#endif
