/*
 * kvm_l2_runner: runs a tiny L2 guest through Linux's KVM API (/dev/kvm) and checks every
 * exit it causes, for the "L1 = Linux KVM" scenario (guests/linux/kvm-init.sh runs it as
 * part of the initramfs that scripts/make-kvm-initramfs builds).
 *
 * One VM, one memory slot (guest-physical 0 .. MEM_SIZE), one vCPU in real mode at
 * CODE_GPA. The L2 code (l2_code below, 16-bit) does port I/O of every size in both
 * directions, sets general registers that user space reads and the reverse (a VMCB keeps
 * only RAX, RSP and RIP: the others must survive every layer's exit path), CPUID leaf 0
 * and the hypervisor leaf 0x40000000 (each result register
 * written out through OUT, since KVM answers CPUID in the kernel), a read-modify-write of
 * guest memory and HLT. Without an in-kernel irqchip every OUT, IN and HLT goes to user
 * space: the program checks each KVM_RUN exit (reason, direction, size, port, count,
 * value) against the script the code follows. Then a loop phase: N CPUIDs handled in the
 * kernel (one exit at the end) and N port-I/O exits to user space, timed.
 *
 * Output: TAP version 13 on stdout, one test per check, diagnostics as "# " lines.
 * Exit status: 0 when every test passed, 1 otherwise.
 *
 *   kvm_l2_runner [--loops N] [--phase-timeout S] [--cmdline FILE] [--vcpus N] [--pin]
 *   kvm_l2_runner --exit-port CODE
 *
 * --exit-port CODE ends the run (the exit protocol's port writes, for kvm-init.sh): once
 * the console's UART has sent everything (tcdrain), CODE to port 0xf4 (QEMU's
 * isa-debug-exit; nestbed), then "Shutdown" to port 0x8900 (Bochs), through /dev/port.
 * kvm-init.sh's former "sleep 0.2" and a dd per byte took 19 s on Bochs with 2 CPUs (its
 * guest clock runs far slower than its instructions), more than the harness waits after
 * the exit-port line. Status 0 when every write was made.
 *
 * --vcpus N (default 1, at most MAX_VCPUS): with N > 1 the VM has N vCPUs, each run by its
 * own thread through the same script and loops, in parallel, each in its own 64 KiB of
 * guest memory (real-mode segment base index * VCPU_STRIDE: the same code and GPAs within
 * the segment); the per-vCPU tests are named kvm/vcpuI/... Each thread is pinned to its own
 * CPU when there are N online CPUs (--pin: fewer is a failure, not a skip). Then
 * kvm/smp-pinned (each thread ran on its own CPU), kvm/smp-concurrent (all threads were
 * inside KVM_RUN of their loop phase at once: a shared counter) and kvm/smp-l2-ring (the
 * L2 vCPUs pass a token around in shared guest memory, RING_ROUNDS turns each, with no exit
 * between turns: they run at the same time and see each other's stores).
 *
 * --cmdline (default /proc/cmdline): kvm_amd.X=V / kvm_intel.X=V words there are module
 * parameters the init script passed to insmod; kvm/module-params checks that they are in
 * effect under /sys/module.
 * --phase-timeout (default 60): a phase of L2 (the script, the CPUID loop, the I/O loop)
 * that has not ended by then fails (SIGALRM interrupts KVM_RUN), so a lost exit or an L2
 * that loops forever is a failed test with L2's registers, not a silent hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id                  /* glibc 2.36 has the field, not the name */
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define MEM_SIZE    0x200000u     /* one slot: 2 MiB at guest-physical 0 */
#define CODE_GPA    0x1000u       /* where l2_code is copied; CS = 0, IP = CODE_GPA */
#define DATA_GPA    0x2000u       /* the memory test's words (see l2_code) */
#define DATA_IN     0x12345678u   /* user space puts this at DATA_GPA + 4 */
#define DATA_MAGIC  0x600dbeefu   /* L2 writes this at DATA_GPA */
#define IN8_VALUE   0x5au         /* what user space answers to the byte IN */
#define IN32_VALUE  0x87654321u   /* ... and to the dword IN */
#define DEFAULT_LOOPS 10000u
#define DEFAULT_PHASE_TIMEOUT 60u /* seconds a phase (the script, each loop) may take */
#define KVM_TSS_GPA 0xfffbd000u   /* VMX without unrestricted guest needs a TSS (3 pages) */
#define MAX_VCPUS   8u
#define VCPU_STRIDE 0x10000u      /* vCPU i's segments have base i * VCPU_STRIDE */
#define RING_IP     0x3000u       /* l2_ring is copied there (N > 1 only), CS-relative */
#define RING_GPA    0x80000u      /* the shared token word (FS base, above every vCPU's 64 KiB) */
#define RING_ROUNDS 100u          /* turns each vCPU takes in kvm/smp-l2-ring */

/* The ports of the script (all above 0xff but the first, so DX carries them); l2_code
 * repeats them as literals. */
#define PORT_OUT8   0x10          /* out %al, $imm8 */
#define PORT_OUT16  0x511
#define PORT_OUT32  0x512
#define PORT_IN8    0x513
#define PORT_ECHO8  0x514
#define PORT_IN32   0x515
#define PORT_ECHO32 0x516
#define PORT_REGS   0x522         /* the register test: L2's GPRs reach user space */
#define PORT_REGS_ECHO 0x523      /* ... and user space's reach L2 */
#define PORT_CPUID  0x520         /* eax, ebx, ecx, edx of each CPUID, in this order */
#define PORT_MEM    0x521         /* the memory test's result */
#define PORT_LOOP_CPUID 0x530     /* the CPUID loop is done: its iteration count */
#define PORT_LOOP_IO    0x531     /* one exit per iteration, the iteration number */
#define PORT_RING       0x532     /* the ring is done: how often this vCPU spun waiting */
#define PORT_EXIT_CODE  0xf4      /* the exit protocol: QEMU's isa-debug-exit (nestbed too) */
#define PORT_SHUTDOWN   0x8900    /* ... Bochs stops at "Shutdown" written there */

/*
 * The L2 code, 16-bit real mode. CPUID clobbers EAX-EDX, so the loops count in ESI/EDI/EBP.
 * Phase 1 starts at l2_code, phase 2 (the loops) at l2_loop with ESI = N.
 */
extern const unsigned char l2_code[], l2_hlt[], l2_loop[], l2_loop_hlt[], l2_code_end[];
__asm__(
	".pushsection .rodata\n"
	".globl l2_code, l2_hlt, l2_loop, l2_loop_hlt, l2_code_end\n"
	".code16\n"
	"l2_code:\n"
	"	movb $0x42, %al\n"
	"	outb %al, $0x10\n"                  /* PORT_OUT8 */
	"	movw $0x511, %dx\n"
	"	movw $0xbeef, %ax\n"
	"	outw %ax, %dx\n"
	"	movw $0x512, %dx\n"
	"	movl $0xcafef00d, %eax\n"
	"	outl %eax, %dx\n"
	"	movw $0x513, %dx\n"
	"	inb %dx, %al\n"
	"	incb %al\n"
	"	movw $0x514, %dx\n"
	"	outb %al, %dx\n"                    /* IN8_VALUE + 1 */
	"	movw $0x515, %dx\n"
	"	inl %dx, %eax\n"
	"	notl %eax\n"
	"	movw $0x516, %dx\n"
	"	outl %eax, %dx\n"                   /* ~IN32_VALUE */
	"	movl $0x11111111, %ebx\n"           /* kvm/l2-registers */
	"	movl $0x22222222, %ecx\n"
	"	movl $0x33333333, %esi\n"
	"	movl $0x44444444, %edi\n"
	"	movl $0x55555555, %ebp\n"
	"	movl $0x66660522, %edx\n"           /* DX = PORT_REGS */
	"	movl $0x77777777, %eax\n"
	"	outl %eax, %dx\n"
	"	movw $0x523, %dx\n"                 /* user space changed them meanwhile */
	"	movl %ebx, %eax\n"
	"	outl %eax, %dx\n"
	"	movl %ecx, %eax\n"
	"	outl %eax, %dx\n"
	"	movl %esi, %eax\n"
	"	outl %eax, %dx\n"
	"	movl %edi, %eax\n"
	"	outl %eax, %dx\n"
	"	movl %ebp, %eax\n"
	"	outl %eax, %dx\n"
	"	movw $0x520, %di\n"
	"	xorl %eax, %eax\n"
	"	xorl %ecx, %ecx\n"
	"	cpuid\n"
	"	call 1f\n"
	"	movl $0x40000000, %eax\n"
	"	xorl %ecx, %ecx\n"
	"	cpuid\n"
	"	call 1f\n"
	"	movl 0x2004, %eax\n"                /* DATA_GPA + 4 */
	"	addl $1, %eax\n"
	"	movl %eax, 0x2008\n"
	"	movl $0x600dbeef, 0x2000\n"
	"	movw $0x521, %dx\n"
	"	movl 0x2008, %eax\n"
	"	outl %eax, %dx\n"                   /* DATA_IN + 1, read back */
	"	hlt\n"
	"l2_hlt:\n"
	"	jmp l2_hlt\n"
	"1:	pushl %edx\n"                      /* out eax, ebx, ecx, edx to port DI */
	"	movw %di, %dx\n"
	"	outl %eax, %dx\n"
	"	movl %ebx, %eax\n"
	"	outl %eax, %dx\n"
	"	movl %ecx, %eax\n"
	"	outl %eax, %dx\n"
	"	popl %eax\n"
	"	outl %eax, %dx\n"
	"	ret\n"
	"l2_loop:\n"
	"	movl %esi, %edi\n"
	"	xorl %ebp, %ebp\n"
	"2:	xorl %eax, %eax\n"
	"	xorl %ecx, %ecx\n"
	"	cpuid\n"
	"	incl %ebp\n"
	"	decl %edi\n"
	"	jnz 2b\n"
	"	movl %ebp, %eax\n"
	"	movw $0x530, %dx\n"
	"	outl %eax, %dx\n"
	"	movl %esi, %edi\n"
	"	xorl %ebp, %ebp\n"
	"	movw $0x531, %dx\n"
	"3:	movl %ebp, %eax\n"
	"	outl %eax, %dx\n"
	"	incl %ebp\n"
	"	decl %edi\n"
	"	jnz 3b\n"
	"	hlt\n"
	"l2_loop_hlt:\n"
	"	jmp l2_loop_hlt\n"
	"l2_code_end:\n"
	".code64\n"
	".popsection\n");

#define GPA_OF(sym) (CODE_GPA + (uint32_t)((sym) - l2_code))

/*
 * The token ring of kvm/smp-l2-ring (N > 1), 16-bit, at RING_IP: EBX = this vCPU's index,
 * ECX = N, ESI = turns. The token is the dword at FS:0 (RING_GPA, shared by all vCPUs);
 * vCPU i takes the turns i, i + N, i + 2N, ...: it waits until the token equals its turn,
 * then stores turn + 1. No exit until the OUT of the spin count and HLT.
 */
extern const unsigned char l2_ring[], l2_ring_hlt[], l2_ring_end[];
__asm__(
	".pushsection .rodata\n"
	".globl l2_ring, l2_ring_hlt, l2_ring_end\n"
	".code16\n"
	"l2_ring:\n"
	"	movl %ebx, %edi\n"                 /* the next turn */
	"	xorl %ebp, %ebp\n"                 /* spins */
	"1:	movl %fs:0, %eax\n"
	"	cmpl %edi, %eax\n"
	"	je 2f\n"
	"	pause\n"
	"	incl %ebp\n"
	"	jmp 1b\n"
	"2:	incl %eax\n"
	"	movl %eax, %fs:0\n"
	"	addl %ecx, %edi\n"
	"	decl %esi\n"
	"	jnz 1b\n"
	"	movl %ebp, %eax\n"
	"	movw $0x532, %dx\n"                /* PORT_RING */
	"	outl %eax, %dx\n"
	"	hlt\n"
	"l2_ring_hlt:\n"
	"	jmp l2_ring_hlt\n"
	"l2_ring_end:\n"
	".code64\n"
	".popsection\n");

#define RING_IP_OF(sym) (RING_IP + (uint32_t)((sym) - l2_ring))

/* ------------------------------------------------------------------------- TAP */

/* The vCPU threads print at once: one line (or one diagnostic) at a time. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int tap_number;
static int tap_failed;

static void vdiag_list(const char *prefix, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&out_lock);
	printf("# %s", prefix);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag_list("", fmt, ap);
	va_end(ap);
}

/* One TAP line "kvm/<prefix><name>": ok when why is NULL or empty, else "not ok ... # why". */
static void tap_prefixed(const char *prefix, const char *name, const char *why)
{
	pthread_mutex_lock(&out_lock);
	++tap_number;
	if (why && *why) {
		printf("not ok %d - kvm/%s%s # %s\n", tap_number, prefix, name, why);
		++tap_failed;
	} else {
		printf("ok %d - kvm/%s%s\n", tap_number, prefix, name);
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void tap(const char *name, const char *why)
{
	tap_prefixed("", name, why);
}

static void tap_skip(const char *name, const char *why)
{
	pthread_mutex_lock(&out_lock);
	printf("ok %d - kvm/%s # SKIP %s\n", ++tap_number, name, why);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* The tests, in order: the plan is printed first, so the list is fixed. First the VM's,
 * then each vCPU's (kvm/NAME with one vCPU, kvm/vcpuI/NAME with several; the threads'
 * lines interleave), then, with several vCPUs, the SMP ones. */
static const char *const VM_TESTS[] = {
	"module-loaded", "module-params", "api-version", "create-vm",
};
static const char *const VCPU_TESTS[] = {
	"l2-io-out", "l2-io-in", "l2-registers", "l2-cpuid", "l2-cpuid-hypervisor-leaf",
	"l2-memory", "l2-hlt", "l2-exit-count", "l2-cpuid-loop", "l2-io-loop",
};
static const char *const SMP_TESTS[] = { "smp-pinned", "smp-concurrent", "smp-l2-ring" };
#define NVM_TESTS ((int)(sizeof(VM_TESTS) / sizeof(VM_TESTS[0])))
#define NVCPU_TESTS ((int)(sizeof(VCPU_TESTS) / sizeof(VCPU_TESTS[0])))
#define NSMP_TESTS ((int)(sizeof(SMP_TESTS) / sizeof(SMP_TESTS[0])))

/* ------------------------------------------------------------------------- files */

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int is_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* ------------------------------------------------------------------------- modules */

static const char *vendor_module(void)
{
	if (is_dir("/sys/module/kvm_amd"))
		return "kvm_amd";
	if (is_dir("/sys/module/kvm_intel"))
		return "kvm_intel";
	return NULL;
}

static void check_module_loaded(char *why, size_t size)
{
	const char *vm = vendor_module();
	why[0] = 0;
	if (!is_dir("/sys/module/kvm"))
		snprintf(why, size, "/sys/module/kvm does not exist (insmod kvm failed?)");
	else if (!vm)
		snprintf(why, size, "neither kvm_amd nor kvm_intel is loaded");
	if (why[0])
		return;
	static const char *const params[] = { "nested", "npt", "ept", "avic", "vls", "vgif",
					      "nrips", "enable_shadow_vmcs", "unrestricted_guest" };
	char line[512], value[64], path[128];
	int len = snprintf(line, sizeof line, "%s:", vm);
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		snprintf(path, sizeof path, "/sys/module/%s/parameters/%s", vm, params[i]);
		if (read_text(path, value, sizeof value) == 0 && len < (int)sizeof line)
			len += snprintf(line + len, sizeof line - len, " %s=%s", params[i], value);
	}
	diag("%s", line);
}

/* A parameter value as /sys/module shows it: bools are Y/N, numbers are numbers. */
static int param_matches(const char *want, const char *have)
{
	if (strcmp(want, have) == 0)
		return 1;
	int want_true = !strcmp(want, "1") || !strcasecmp(want, "y") || !strcasecmp(want, "yes")
		|| !strcasecmp(want, "on") || !strcasecmp(want, "true");
	int want_false = !strcmp(want, "0") || !strcasecmp(want, "n") || !strcasecmp(want, "no")
		|| !strcasecmp(want, "off") || !strcasecmp(want, "false");
	if (!strcmp(have, "Y") || !strcmp(have, "1"))
		return want_true;
	if (!strcmp(have, "N") || !strcmp(have, "0"))
		return want_false;
	return 0;
}

/* Checks every kvm / kvm_amd / kvm_intel parameter on the command line. Returns how many
 * there were (0: SKIP). */
static int check_module_params(const char *cmdline_path, char *why, size_t size)
{
	char cmdline[4096];
	int n = 0;
	why[0] = 0;
	if (read_text(cmdline_path, cmdline, sizeof cmdline) < 0) {
		snprintf(why, size, "cannot read %s", cmdline_path);
		return -1;
	}
	for (char *save = NULL, *w = strtok_r(cmdline, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		char *dot = strchr(w, '.'), *eq = strchr(w, '=');
		if (!dot || !eq || eq < dot)
			continue;
		*dot = 0;
		*eq = 0;
		for (char *c = w; *c; c++)
			if (*c == '-')
				*c = '_';
		if (strcmp(w, "kvm") && strcmp(w, "kvm_amd") && strcmp(w, "kvm_intel"))
			continue;
		if (strcmp(w, "kvm") && vendor_module() && strcmp(w, vendor_module()))
			continue;       /* the other vendor's module */
		char path[256], have[64];
		snprintf(path, sizeof path, "/sys/module/%s/parameters/%s", w, dot + 1);
		n++;
		if (read_text(path, have, sizeof have) < 0) {
			if (!why[0])
				snprintf(why, size, "%s.%s=%s: %s does not exist", w, dot + 1,
					 eq + 1, path);
		} else if (!param_matches(eq + 1, have)) {
			if (!why[0])
				snprintf(why, size, "%s.%s=%s on the command line but %s is %s", w,
					 dot + 1, eq + 1, path, have);
		} else {
			diag("%s.%s=%s is in effect (%s)", w, dot + 1, eq + 1, have);
		}
	}
	return n;
}

/* ------------------------------------------------------------------------- the VM */

/* What the vCPU threads share (N > 1). */
struct smp {
	unsigned n;                 /* vCPUs */
	int pin;                    /* threads are pinned (n CPUs online) */
	pthread_barrier_t barrier;  /* the loops and the ring start together */
	atomic_int in_run;          /* threads inside KVM_RUN of their loop phase now */
	atomic_int max_in_run;      /* ... at most, so far */
	struct vm *vms;             /* the n vCPUs */
};

/* One vCPU and what it needs of its VM: vCPU i sees the memory from its segment base
 * (mem is the slot's memory + i * VCPU_STRIDE), so the script's GPAs are the same. */
struct vm {
	int kvm, fd, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
	struct kvm_cpuid_entry2 leaf0, leaf_hv;    /* what L2 must see */
	int have_hv;
	unsigned long exits[64];                   /* KVM_RUN exits by reason */
	unsigned long total_exits;
	unsigned index;                            /* the vCPU id */
	char prefix[16];                           /* "" (one vCPU) or "vcpuI/" (TAP names) */
	char dprefix[16];                          /* "" or "vcpuI: " (diagnostics) */
	int ntests;                                /* VCPU_TESTS reported so far */
	timer_t timer;                             /* the phase deadline of this thread */
	int have_timer;
	struct smp *smp;                           /* NULL with one vCPU */
	int counting;                              /* in the loop phase: counts in smp->in_run */
	int alive;                                 /* the script and the loops ended as expected */
	unsigned loops;                            /* iterations of each loop */
	int script_ok;                             /* phase 1 ended with L2 still running */
	int cpu, cpu_start, cpu_end;               /* pinned to (-1: no), ran on */
	char pin_why[160];                         /* why pinning failed */
	char ring_why[400];                        /* kvm/smp-l2-ring's failure, "" */
	pthread_t thread;
};

static void vdiag(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag_list(vm->dprefix, fmt, ap);
	va_end(ap);
}

/* The vCPU's next test. */
static void vtap(struct vm *vm, const char *why)
{
	tap_prefixed(vm->prefix, VCPU_TESTS[vm->ntests++], why);
}

/* Every test of the vCPU not reported yet fails with the same reason. */
static void vfail_rest(struct vm *vm, const char *why)
{
	while (vm->ntests < NVCPU_TESTS)
		vtap(vm, why);
}

/* ------------------------------------------------------------------------- deadline */

static _Thread_local volatile sig_atomic_t deadline_passed;
static unsigned phase_timeout = DEFAULT_PHASE_TIMEOUT;

static void on_alarm(int sig)
{
	(void)sig;
	deadline_passed = 1;
}

/* From now, the current phase of this thread's vCPU has phase_timeout seconds: then
 * SIGALRM goes to this thread (no SA_RESTART: its KVM_RUN returns EINTR). */
static void deadline_arm(struct vm *vm)
{
	if (!vm->have_timer) {
		struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };
		sev.sigev_notify_thread_id = gettid();
		if (timer_create(CLOCK_MONOTONIC, &sev, &vm->timer) < 0) {
			vdiag(vm, "timer_create: %s: no phase timeout", strerror(errno));
			return;
		}
		vm->have_timer = 1;
	}
	deadline_passed = 0;
	struct itimerspec its = { .it_value = { .tv_sec = phase_timeout } };
	timer_settime(vm->timer, 0, &its, NULL);
}

static void deadline_disarm(struct vm *vm)
{
	struct itimerspec its = { 0 };
	if (vm->have_timer)
		timer_settime(vm->timer, 0, &its, NULL);
}

static const char *exit_name(uint32_t reason)
{
	static const char *const names[] = {
		"UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO",
		"IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY", "INTR", "SET_TPR", "TPR_ACCESS",
		"S390_SIEIC", "S390_RESET", "DCR", "NMI", "INTERNAL_ERROR",
	};
	return reason < sizeof names / sizeof names[0] ? names[reason] : "?";
}

static void dump_state(struct vm *vm)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	if (ioctl(vm->vcpu, KVM_GET_REGS, &r) == 0)
		vdiag(vm, "L2 rip=%#llx rflags=%#llx rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx "
		     "rsi=%#llx rdi=%#llx rbp=%#llx rsp=%#llx", r.rip, r.rflags, r.rax, r.rbx,
		     r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp);
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &s) == 0)
		vdiag(vm, "L2 cs=%#x base=%#llx cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx",
		     s.cs.selector, s.cs.base, s.cr0, s.cr3, s.cr4, s.efer);
}

/* One KVM_RUN. Returns the exit reason, or -1 (why filled) when the ioctl failed. */
static int vm_run(struct vm *vm, char *why, size_t size)
{
	for (;;) {
		struct smp *smp = vm->smp;
		if (vm->counting) {
			int now = atomic_fetch_add(&smp->in_run, 1) + 1;
			int max = atomic_load(&smp->max_in_run);
			while (now > max && !atomic_compare_exchange_weak(&smp->max_in_run, &max, now))
				;
		}
		int rc = ioctl(vm->vcpu, KVM_RUN, 0);
		if (vm->counting)
			atomic_fetch_sub(&smp->in_run, 1);
		if (rc < 0) {
			if (errno == EINTR && deadline_passed) {
				snprintf(why, size, "L2 ran for %u s without the expected exit "
					 "(KVM_RUN interrupted)", phase_timeout);
				vdiag(vm, "%s", why);
				dump_state(vm);
				return -1;
			}
			if (errno == EINTR)
				continue;
			snprintf(why, size, "KVM_RUN failed: %s", strerror(errno));
			return -1;
		}
		uint32_t reason = vm->run->exit_reason;
		vm->total_exits++;
		vm->exits[reason < 64 ? reason : 63]++;
		if (reason == KVM_EXIT_INTR)
			continue;
		return (int)reason;
	}
}

/* Describes an exit that is not the expected one, with the details KVM gives. */
static void describe_exit(struct vm *vm, char *why, size_t size, const char *expected)
{
	struct kvm_run *run = vm->run;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint32_t v = 0;
		memcpy(&v, (uint8_t *)run + run->io.data_offset,
		       run->io.size <= 4 ? run->io.size : 4);
		snprintf(why, size, "expected %s, got KVM_EXIT_IO %s size %u port %#x count %u "
			 "value %#x", expected, run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			 run->io.size, run->io.port, run->io.count, v);
		break;
	}
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, size, "expected %s, got KVM_EXIT_FAIL_ENTRY reason %#llx", expected,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		int len = snprintf(why, size, "expected %s, got KVM_EXIT_INTERNAL_ERROR suberror "
				   "%u, data", expected, run->internal.suberror);
		for (uint32_t i = 0; i < run->internal.ndata && i < 16 && len < (int)size; i++)
			len += snprintf(why + len, size - len, " %#llx",
					(unsigned long long)run->internal.data[i]);
		break;
	}
	case KVM_EXIT_MMIO:
		snprintf(why, size, "expected %s, got KVM_EXIT_MMIO %s %#llx len %u", expected,
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	default:
		snprintf(why, size, "expected %s, got KVM_EXIT_%s (%u)", expected,
			 exit_name(run->exit_reason), run->exit_reason);
	}
	vdiag(vm, "unexpected exit: %s", why);
	dump_state(vm);
}

/* Runs L2 to its next exit and checks it is the port I/O given. For an IN, value is
 * written as the data L2 reads; for an OUT, it is compared with the data. Returns 0, or
 * -1 with why filled. */
static int expect_io(struct vm *vm, int out, unsigned size, unsigned port, uint32_t value,
		     char *why, size_t wsize)
{
	char expected[96];
	snprintf(expected, sizeof expected, "KVM_EXIT_IO %s size %u port %#x", out ? "out" : "in",
		 size, port);
	if (vm_run(vm, why, wsize) < 0)
		return -1;
	struct kvm_run *run = vm->run;
	if (run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != (out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN) ||
	    run->io.size != size || run->io.port != port || run->io.count != 1) {
		describe_exit(vm, why, wsize, expected);
		return -1;
	}
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	if (out) {
		uint32_t got = 0;
		memcpy(&got, data, size);
		if (got != value) {
			snprintf(why, wsize, "OUT to port %#x (size %u): value %#x, expected %#x",
				 port, size, got, value);
			return -1;
		}
	} else {
		memcpy(data, &value, size);
	}
	return 0;
}

/* Runs one CPUID's four OUTs and compares them with the entry. */
static int expect_cpuid(struct vm *vm, const struct kvm_cpuid_entry2 *e, uint32_t got[4],
			char *why, size_t size)
{
	const uint32_t want[4] = { e->eax, e->ebx, e->ecx, e->edx };
	static const char *const regs[4] = { "eax", "ebx", "ecx", "edx" };
	for (int i = 0; i < 4; i++) {
		if (vm_run(vm, why, size) < 0)
			return -1;
		struct kvm_run *run = vm->run;
		if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.size != 4 || run->io.port != PORT_CPUID || run->io.count != 1) {
			describe_exit(vm, why, size, "KVM_EXIT_IO out size 4 port 0x520 (CPUID)");
			return -1;
		}
		memcpy(&got[i], (uint8_t *)run + run->io.data_offset, 4);
	}
	for (int i = 0; i < 4; i++)
		if (got[i] != want[i]) {
			snprintf(why, size, "CPUID %#x: %s=%#x, expected %#x (eax=%#x ebx=%#x "
				 "ecx=%#x edx=%#x)", e->function, regs[i], got[i], want[i], got[0],
				 got[1], got[2], got[3]);
			return -1;
		}
	return 0;
}

static void vendor_string(const uint32_t r[4], char out[13], int hv)
{
	/* leaf 0: ebx, edx, ecx; the hypervisor leaf: ebx, ecx, edx */
	memcpy(out, &r[1], 4);
	memcpy(out + 4, hv ? &r[2] : &r[3], 4);
	memcpy(out + 8, hv ? &r[3] : &r[2], 4);
	out[12] = 0;
	for (int i = 0; i < 12; i++)
		if (out[i] && (out[i] < 0x20 || out[i] > 0x7e))
			out[i] = '?';
}

/* The VM: its memory slot and the CPUID entries KVM supports (returned in *cpuid, for
 * every vCPU). vm->mem is the slot's memory. */
static int create_vm(struct vm *vm, struct kvm_cpuid2 **cpuid_out, char *why, size_t size)
{
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		snprintf(why, size, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
	    ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		diag("KVM_SET_TSS_ADDR: %s (ignored)", strerror(errno));
	vm->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		snprintf(why, size, "mmap of %u bytes: %s", MEM_SIZE, strerror(errno));
		return -1;
	}
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		snprintf(why, size, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}

	/* CPUID: what KVM supports, as is; L2 must read exactly these entries. */
	struct kvm_cpuid2 *cpuid = NULL;
	for (unsigned n = 64; n <= 4096; n *= 2) {
		free(cpuid);
		cpuid = calloc(1, sizeof *cpuid + n * sizeof(struct kvm_cpuid_entry2));
		if (!cpuid) {
			snprintf(why, size, "out of memory");
			return -1;
		}
		cpuid->nent = n;
		if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG) {
			snprintf(why, size, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			free(cpuid);
			return -1;
		}
	}
	int have0 = 0;
	for (unsigned i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 0) {
			vm->leaf0 = cpuid->entries[i];
			have0 = 1;
		}
		if (cpuid->entries[i].function == 0x40000000) {
			vm->leaf_hv = cpuid->entries[i];
			vm->have_hv = 1;
		}
	}
	if (!have0) {
		snprintf(why, size, "KVM_GET_SUPPORTED_CPUID has no leaf 0 (%u entries)",
			 cpuid->nent);
		free(cpuid);
		return -1;
	}
	*cpuid_out = cpuid;
	return 0;
}

/* vCPU vm->index of the VM (vm->fd): its code and data in its own segment (vm->mem is
 * already the segment's base), CPUID, real mode at CODE_GPA. With several vCPUs, FS is
 * the shared page of the ring and l2_ring is at RING_IP. */
static int create_vcpu(struct vm *vm, const struct kvm_cpuid2 *cpuid, int several, char *why,
		       size_t size)
{
	memcpy(vm->mem + CODE_GPA, l2_code, (size_t)(l2_code_end - l2_code));
	memcpy(vm->mem + DATA_GPA + 4, &(uint32_t){ DATA_IN }, 4);
	if (several)
		memcpy(vm->mem + RING_IP, l2_ring, (size_t)(l2_ring_end - l2_ring));
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)vm->index);
	if (vm->vcpu < 0) {
		snprintf(why, size, "KVM_CREATE_VCPU %u: %s", vm->index, strerror(errno));
		return -1;
	}
	int run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run)) {
		snprintf(why, size, "KVM_GET_VCPU_MMAP_SIZE: %d (%s)", run_size,
			 run_size < 0 ? strerror(errno) : "too small");
		return -1;
	}
	vm->run_size = (size_t)run_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED) {
		snprintf(why, size, "mmap of the vCPU's kvm_run: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vcpu, KVM_SET_CPUID2, cpuid) < 0) {
		snprintf(why, size, "KVM_SET_CPUID2 (%u entries): %s", cpuid->nent, strerror(errno));
		return -1;
	}
	vdiag(vm, "KVM_SET_CPUID2: %u entries", cpuid->nent);

	/* Real mode, segments at the vCPU's base, IP = CODE_GPA, interrupts off. */
	struct kvm_sregs sregs;
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(why, size, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	struct kvm_segment *segs[] = { &sregs.cs, &sregs.ds, &sregs.es, &sregs.fs, &sregs.gs,
				       &sregs.ss };
	const uint32_t base = vm->index * VCPU_STRIDE;
	for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
		segs[i]->base = base;
		segs[i]->selector = (uint16_t)(base >> 4);
	}
	if (several) {
		sregs.fs.base = RING_GPA;
		sregs.fs.selector = RING_GPA >> 4;
	}
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0) {
		snprintf(why, size, "KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 0x2, .rsp = 0x1000 };
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0) {
		snprintf(why, size, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Measurement marks around the loops: a CPUID of nestbed's mark leaf (src/core/marks.h)
 * with ECX = MARK_TAG(phase, vCPU). Under nestbed with its option `marks`, nestbed prints
 * its exit counters at each one (`nestbed-mark {json}`), so the harness counts the L0
 * exits of each loop alone (harness/kvm_window.py); anywhere else it is a CPUID of a leaf
 * no CPU defines, which costs one exit at most (to L0 under a hypervisor), outside the
 * timed part.
 */
#define MARK_LEAF 0x4e420000u
#define MARK_CPUID_BEGIN 1u
#define MARK_CPUID_END   2u
#define MARK_IO_BEGIN    3u
#define MARK_IO_END      4u
#define MARK_TAG(phase, vcpu) ((phase) | (vcpu) << 8)

static void mark(const struct vm *vm, unsigned phase)
{
	uint32_t a = MARK_LEAF, b, c = MARK_TAG(phase, vm->index), d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) :: "memory");
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The register test: returns 0, or -1 with why filled ("L2 ..." when L2 can go on). */
static int check_registers(struct vm *vm, char *why, size_t size)
{
	static const char *const names[] = { "rbx", "rcx", "rsi", "rdi", "rbp", "rdx" };
	static const uint32_t set[] = { 0x1b1b1b1b, 0x1c1c1c1c, 0x15151515, 0x1d1d1d1d,
					0x1e1e1e1e };
	const uint64_t want[] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555,
				  0x66660522 };
	struct kvm_regs r;
	if (expect_io(vm, 1, 4, PORT_REGS, 0x77777777, why, size) < 0)
		return -1;
	if (ioctl(vm->vcpu, KVM_GET_REGS, &r) < 0) {
		snprintf(why, size, "KVM_GET_REGS: %s", strerror(errno));
		return -1;
	}
	__u64 *have[] = { &r.rbx, &r.rcx, &r.rsi, &r.rdi, &r.rbp, &r.rdx };
	why[0] = 0;
	for (int i = 0; i < 6; i++)
		if (*have[i] != want[i] && !why[0])
			snprintf(why, size, "L2 set %s=%#llx but user space reads %#llx at the "
				 "next exit (rbx=%#llx rcx=%#llx rdx=%#llx rsi=%#llx rdi=%#llx "
				 "rbp=%#llx)", names[i], (unsigned long long)want[i],
				 (unsigned long long)*have[i], r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp);
	char mismatch[512];
	snprintf(mismatch, sizeof mismatch, "%s", why);
	for (int i = 0; i < 5; i++)
		*have[i] = set[i];
	if (ioctl(vm->vcpu, KVM_SET_REGS, &r) < 0) {
		snprintf(why, size, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		char port_why[400];
		if (expect_io(vm, 1, 4, PORT_REGS_ECHO, set[i], port_why, sizeof port_why) < 0) {
			if (strncmp(port_why, "OUT", 3) != 0) {
				/* L2 is lost: say what went wrong before, if anything */
				snprintf(why, size, "%.250s%s%.250s", mismatch,
					 mismatch[0] ? "; then " : "", port_why);
				return -1;
			}
			if (!mismatch[0])
				snprintf(mismatch, sizeof mismatch, "L2 %s after KVM_SET_REGS: %s",
					 names[i], port_why);
		}
	}
	snprintf(why, size, "%s", mismatch);
	return why[0] ? -1 : 0;
}

/* Phase 1: the script. Reports tests 5..11; returns -1 when L2 can no longer run. */
static int run_script(struct vm *vm)
{
	char why[512] = "";
	int dead = 0;
	const unsigned long before = vm->total_exits;

	/* kvm/l2-io-out: byte (imm8 port), word and dword OUTs */
	if (expect_io(vm, 1, 1, PORT_OUT8, 0x42, why, sizeof why) ||
	    expect_io(vm, 1, 2, PORT_OUT16, 0xbeef, why, sizeof why) ||
	    expect_io(vm, 1, 4, PORT_OUT32, 0xcafef00d, why, sizeof why))
		dead = 1;
	vtap(vm, why);
	if (dead)
		return -1;

	/* kvm/l2-io-in: byte and dword INs; L2 echoes what it read (changed) */
	if (expect_io(vm, 0, 1, PORT_IN8, IN8_VALUE, why, sizeof why) ||
	    expect_io(vm, 1, 1, PORT_ECHO8, IN8_VALUE + 1, why, sizeof why) ||
	    expect_io(vm, 0, 4, PORT_IN32, IN32_VALUE, why, sizeof why) ||
	    expect_io(vm, 1, 4, PORT_ECHO32, ~IN32_VALUE, why, sizeof why))
		dead = 1;
	vtap(vm, why);
	if (dead)
		return -1;

	/* kvm/l2-registers: the GPRs L2 set are the ones user space reads at its next exit
	 * (only RAX, RSP and RIP live in the VMCB: the rest must survive the exit path), and
	 * the ones user space sets are the ones L2 then has */
	if (check_registers(vm, why, sizeof why) < 0 && strncmp(why, "L2 ", 3) != 0)
		dead = 1;
	vtap(vm, why);
	if (dead)
		return -1;

	/* kvm/l2-cpuid: leaf 0, handled by KVM in the kernel */
	uint32_t r[4];
	char vendor[13];
	if (expect_cpuid(vm, &vm->leaf0, r, why, sizeof why) == 0) {
		vendor_string(r, vendor, 0);
		vdiag(vm, "L2 CPUID 0: max basic leaf %#x, vendor \"%s\"", r[0], vendor);
	} else if (strncmp(why, "CPUID", 5) != 0) {
		dead = 1;
	}
	vtap(vm, why);
	if (dead)
		return -1;

	/* kvm/l2-cpuid-hypervisor-leaf: 0x40000000, KVM's signature */
	struct kvm_cpuid_entry2 hv = vm->leaf_hv;
	if (!vm->have_hv)
		memset(&hv, 0, sizeof hv), hv.function = 0x40000000;
	why[0] = 0;
	if (expect_cpuid(vm, &hv, r, why, sizeof why) == 0) {
		vendor_string(r, vendor, 1);
		vdiag(vm, "L2 CPUID 0x40000000: max leaf %#x, signature \"%s\"", r[0], vendor);
		if (memcmp(&r[1], "KVMKVMKVM\0\0\0", 12) != 0)
			snprintf(why, sizeof why, "signature \"%s\", expected \"KVMKVMKVM\"", vendor);
	} else if (strncmp(why, "CPUID", 5) != 0) {
		dead = 1;
	}
	vtap(vm, why);
	if (dead)
		return -1;

	/* kvm/l2-memory: L2 read DATA_IN, wrote DATA_IN + 1 and DATA_MAGIC */
	why[0] = 0;
	if (expect_io(vm, 1, 4, PORT_MEM, DATA_IN + 1, why, sizeof why) == 0) {
		uint32_t magic, sum;
		memcpy(&magic, vm->mem + DATA_GPA, 4);
		memcpy(&sum, vm->mem + DATA_GPA + 8, 4);
		if (magic != DATA_MAGIC || sum != DATA_IN + 1)
			snprintf(why, sizeof why, "guest memory at %#x: %#x %#x, expected %#x %#x",
				 DATA_GPA, magic, sum, DATA_MAGIC, DATA_IN + 1);
	} else if (strncmp(why, "OUT", 3) != 0) {
		dead = 1;
	}
	vtap(vm, why);
	if (dead)
		return -1;

	/* kvm/l2-hlt: KVM_EXIT_HLT (no in-kernel irqchip), RIP after the HLT */
	why[0] = 0;
	if (vm_run(vm, why, sizeof why) >= 0) {
		struct kvm_regs regs;
		if (vm->run->exit_reason != KVM_EXIT_HLT) {
			describe_exit(vm, why, sizeof why, "KVM_EXIT_HLT");
			dead = 1;
		} else if (ioctl(vm->vcpu, KVM_GET_REGS, &regs) < 0) {
			snprintf(why, sizeof why, "KVM_GET_REGS: %s", strerror(errno));
		} else if (regs.rip != GPA_OF(l2_hlt)) {
			snprintf(why, sizeof why, "RIP after HLT %#llx, expected %#x", regs.rip,
				 GPA_OF(l2_hlt));
		}
	} else {
		dead = 1;
	}
	vtap(vm, why);
	if (dead)
		return -1;

	/* kvm/l2-exit-count: 3 + 4 + 6 + 8 + 1 + 1 exits, all of them the script's */
	const unsigned long expected = 3 + 4 + 6 + 8 + 1 + 1, got = vm->total_exits - before;
	why[0] = 0;
	if (got != expected)
		snprintf(why, sizeof why, "%lu KVM_RUN exits, expected %lu", got, expected);
	vdiag(vm, "phase 1: %lu exits to user space (IO %lu, HLT %lu)", got, vm->exits[KVM_EXIT_IO],
	     vm->exits[KVM_EXIT_HLT]);
	vtap(vm, why);
	return 0;
}

/* Phase 2: the loops. Sets vm->alive when L2 ended them at its HLT. */
static void run_loops(struct vm *vm, unsigned loops)
{
	char why[512] = "";
	struct kvm_regs regs = { .rip = GPA_OF(l2_loop), .rflags = 0x2, .rsi = loops,
				 .rsp = 0x1000 };
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0) {
		snprintf(why, sizeof why, "KVM_SET_REGS: %s", strerror(errno));
		vfail_rest(vm, why);
		return;
	}

	/* kvm/l2-cpuid-loop: the next exit after N CPUIDs is the OUT of the count */
	const unsigned long before = vm->total_exits;
	vm->counting = vm->smp != NULL;
	deadline_arm(vm);
	mark(vm, MARK_CPUID_BEGIN);
	double t0 = now_seconds();
	int rc = expect_io(vm, 1, 4, PORT_LOOP_CPUID, loops, why, sizeof why);
	double t1 = now_seconds();
	mark(vm, MARK_CPUID_END);
	deadline_disarm(vm);
	if (rc == 0 && vm->total_exits - before != 1)
		snprintf(why, sizeof why, "%lu exits to user space during the CPUID loop, "
			 "expected 1", vm->total_exits - before);
	if (rc == 0)
		vdiag(vm, "L2 CPUID loop: %u CPUIDs handled in the kernel in %.6f s: %.0f/s, %.3f us "
		     "each", loops, t1 - t0, loops / (t1 - t0), (t1 - t0) * 1e6 / loops);
	vtap(vm, why);
	if (rc != 0 && strncmp(why, "OUT", 3) != 0) {
		vm->counting = 0;
		vfail_rest(vm, "not run: the CPUID loop failed");
		return;
	}

	/* kvm/l2-io-loop: N exits to user space, each with its iteration number */
	char err[512] = "", msg[600] = "";
	deadline_arm(vm);
	mark(vm, MARK_IO_BEGIN);
	t0 = now_seconds();
	unsigned i;
	for (i = 0; i < loops; i++)
		if (expect_io(vm, 1, 4, PORT_LOOP_IO, i, err, sizeof err) < 0)
			break;
	mark(vm, MARK_IO_END);
	if (i == loops) {
		if (vm_run(vm, err, sizeof err) >= 0 && vm->run->exit_reason != KVM_EXIT_HLT)
			describe_exit(vm, err, sizeof err, "KVM_EXIT_HLT after the I/O loop");
		snprintf(msg, sizeof msg, "%s", err);
	} else {
		snprintf(msg, sizeof msg, "iteration %u: %s", i, err);
	}
	t1 = now_seconds();
	deadline_disarm(vm);
	vm->counting = 0;
	vm->alive = !msg[0] && rc == 0;
	if (!msg[0])
		vdiag(vm, "L2 I/O loop: %u OUT exits to user space in %.6f s: %.0f/s, %.3f us each",
		     loops, t1 - t0, loops / (t1 - t0), (t1 - t0) * 1e6 / loops);
	vtap(vm, msg);
}

/* Phase 3 (N > 1): the token ring. Fills vm->ring_why on failure. */
static void run_ring(struct vm *vm)
{
	struct smp *smp = vm->smp;
	char *why = vm->ring_why;
	const size_t size = sizeof vm->ring_why;
	struct kvm_regs regs = { .rip = RING_IP_OF(l2_ring), .rflags = 0x2, .rbx = vm->index,
				 .rcx = smp->n, .rsi = RING_ROUNDS, .rsp = 0x1000 };
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0) {
		snprintf(why, size, "vcpu%u: KVM_SET_REGS: %s", vm->index, strerror(errno));
		return;
	}
	char err[360] = "";
	deadline_arm(vm);
	double t0 = now_seconds();
	int reason = vm_run(vm, err, sizeof err);
	uint32_t spins = 0;
	if (reason >= 0) {
		struct kvm_run *run = vm->run;
		if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.size != 4 || run->io.port != PORT_RING || run->io.count != 1)
			describe_exit(vm, err, sizeof err, "KVM_EXIT_IO out size 4 port 0x532 (ring)");
		else
			memcpy(&spins, (uint8_t *)run + run->io.data_offset, 4);
	}
	double t1 = now_seconds();
	if (!err[0] && vm_run(vm, err, sizeof err) >= 0 && vm->run->exit_reason != KVM_EXIT_HLT)
		describe_exit(vm, err, sizeof err, "KVM_EXIT_HLT after the ring");
	deadline_disarm(vm);
	if (err[0])
		snprintf(why, size, "vcpu%u: %s", vm->index, err);
	else
		vdiag(vm, "L2 ring: %u turns in %.3f s, %u spins waiting for the others", RING_ROUNDS,
		      t1 - t0, spins);
}

/* The i-th CPU of the set, -1 when there is none. */
static int nth_cpu(const cpu_set_t *set, unsigned i)
{
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set) && i-- == 0)
			return cpu;
	return -1;
}

/* One vCPU, start to end: the script, then (with the others) the loops and the ring. */
static void *vcpu_main(void *arg)
{
	struct vm *vm = arg;
	struct smp *smp = vm->smp;
	if (smp && vm->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(vm->cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0)
			snprintf(vm->pin_why, sizeof vm->pin_why, "vcpu%u: sched_setaffinity(CPU %d): "
				 "%s", vm->index, vm->cpu, strerror(errno));
	}
	vm->cpu_start = sched_getcpu();
	deadline_arm(vm);
	int script = run_script(vm);
	deadline_disarm(vm);
	vm->script_ok = script == 0;
	if (script < 0)
		vfail_rest(vm, "not run: L2 stopped at an earlier test");
	if (smp)
		pthread_barrier_wait(&smp->barrier);    /* the loop phases run at once */
	if (script == 0)
		run_loops(vm, vm->loops);
	if (smp) {
		pthread_barrier_wait(&smp->barrier);    /* every vCPU is at its HLT, or lost */
		unsigned lost = smp->n;
		for (unsigned i = 0; i < smp->n && lost == smp->n; i++)
			if (!smp->vms[i].alive)
				lost = i;
		if (lost == smp->n)
			run_ring(vm);
		else
			snprintf(vm->ring_why, sizeof vm->ring_why, "not run: vcpu%u failed its "
				 "script or loops", lost);
	}
	vm->cpu_end = sched_getcpu();
	return NULL;
}

/* The SMP tests, after every thread has ended. */
static void report_smp(struct smp *smp, unsigned online, int want_pin)
{
	char why[512] = "";
	int len = 0;

	/* kvm/smp-pinned: thread i on its own CPU from start to end */
	for (unsigned i = 0; i < smp->n; i++) {
		struct vm *vm = &smp->vms[i];
		if (vm->cpu >= 0)
			vdiag(vm, "thread pinned to CPU %d, ran on CPU %d (start) and %d (end)",
			      vm->cpu, vm->cpu_start, vm->cpu_end);
		else
			vdiag(vm, "thread not pinned, ran on CPU %d (start) and %d (end)",
			      vm->cpu_start, vm->cpu_end);
		if (!smp->pin)
			continue;
		if (vm->pin_why[0] && len < (int)sizeof why)
			len += snprintf(why + len, sizeof why - len, "%s%s", len ? "; " : "",
					vm->pin_why);
		else if ((vm->cpu_start != vm->cpu || vm->cpu_end != vm->cpu) && len < (int)sizeof why)
			len += snprintf(why + len, sizeof why - len, "%svcpu%u ran on CPU %d and %d, "
					"pinned to %d", len ? "; " : "", i, vm->cpu_start,
					vm->cpu_end, vm->cpu);
	}
	char unpinned[160];
	snprintf(unpinned, sizeof unpinned, "%u vCPUs but %u online CPU(s): the threads are not "
		 "pinned", smp->n, online);
	if (smp->pin)
		tap("smp-pinned", why);
	else if (want_pin)
		tap("smp-pinned", unpinned);
	else
		tap_skip("smp-pinned", unpinned);

	/* kvm/smp-concurrent: all threads inside KVM_RUN of their loop phase at once */
	int max = atomic_load(&smp->max_in_run);
	diag("at most %d of %u vCPU threads were inside KVM_RUN of their loop phase at once",
	     max, smp->n);
	why[0] = 0;
	if (max != (int)smp->n)
		snprintf(why, sizeof why, "at most %d of %u vCPU threads were inside KVM_RUN of "
			 "their loop phase at once", max, smp->n);
	if (smp->pin)
		tap("smp-concurrent", why);
	else if (want_pin)
		tap("smp-concurrent", unpinned);
	else
		tap_skip("smp-concurrent", unpinned);

	/* kvm/smp-l2-ring: every vCPU took its turns; the token is n * RING_ROUNDS */
	why[0] = 0;
	for (unsigned i = 0; i < smp->n && !why[0]; i++)
		snprintf(why, sizeof why, "%s", smp->vms[i].ring_why);
	if (!why[0]) {
		uint32_t token;
		memcpy(&token, smp->vms[0].mem + RING_GPA, 4);   /* vCPU 0's base is 0 */
		if (token != smp->n * RING_ROUNDS)
			snprintf(why, sizeof why, "the token at %#x is %u, expected %u", RING_GPA,
				 token, smp->n * RING_ROUNDS);
	}
	tap("smp-l2-ring", why);
}

/* --exit-port CODE. Returns the status. */
static int exit_protocol(const char *arg)
{
	char *end;
	unsigned long code = strtoul(arg, &end, 10);
	if (!*arg || *end || code > 255) {
		fprintf(stderr, "kvm_l2_runner: bad --exit-port %s (0..255)\n", arg);
		return 2;
	}
	/* the exit-port line must leave the UART before the emulator stops: tcdrain waits for
	 * the console's transmitter, a sleep only when stdout is no terminal (a sleep is long
	 * on Bochs with 2 CPUs, whose guest clock runs hundreds of times slower) */
	if (tcdrain(STDOUT_FILENO) < 0) {
		struct timespec drain = { .tv_nsec = 200000000 };
		nanosleep(&drain, NULL);
	}
	int fd = open("/dev/port", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kvm_l2_runner: /dev/port: %s\n", strerror(errno));
		return 1;
	}
	const uint8_t byte = (uint8_t)code;
	int rc = pwrite(fd, &byte, 1, PORT_EXIT_CODE) == 1 ? 0 : 1;
	for (const char *c = "Shutdown"; *c; c++)
		if (pwrite(fd, c, 1, PORT_SHUTDOWN) != 1)
			rc = 1;
	if (rc)
		fprintf(stderr, "kvm_l2_runner: writing to /dev/port: %s\n", strerror(errno));
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--exit-port"))
		return exit_protocol(argv[2]);
	unsigned loops = DEFAULT_LOOPS, nvcpus = 1;
	int want_pin = 0;
	const char *cmdline = "/proc/cmdline";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--loops") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 0);
			if (*end || v == 0 || v > 100000000) {
				fprintf(stderr, "kvm_l2_runner: bad --loops %s (1..100000000)\n", argv[i]);
				return 2;
			}
			loops = (unsigned)v;
		} else if (!strcmp(argv[i], "--phase-timeout") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 0);
			if (*end || v == 0 || v > 86400) {
				fprintf(stderr, "kvm_l2_runner: bad --phase-timeout %s (1..86400)\n",
					argv[i]);
				return 2;
			}
			phase_timeout = (unsigned)v;
		} else if (!strcmp(argv[i], "--vcpus") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end || v == 0 || v > MAX_VCPUS) {
				fprintf(stderr, "kvm_l2_runner: bad --vcpus %s (1..%u)\n", argv[i],
					MAX_VCPUS);
				return 2;
			}
			nvcpus = (unsigned)v;
		} else if (!strcmp(argv[i], "--pin")) {
			want_pin = 1;
		} else if (!strcmp(argv[i], "--cmdline") && i + 1 < argc) {
			cmdline = argv[++i];
		} else {
			fprintf(stderr, "usage: kvm_l2_runner [--loops N] [--phase-timeout S] "
				"[--cmdline FILE] [--vcpus N] [--pin]\n"
				"       kvm_l2_runner --exit-port CODE\n");
			return 2;
		}
	}
	char why[512];
	struct vm vms[MAX_VCPUS];
	memset(vms, 0, sizeof vms);
	struct vm *const vm = &vms[0];
	vm->kvm = vm->fd = vm->vcpu = -1;
	struct smp smp = { .n = nvcpus, .vms = vms };
	struct kvm_cpuid2 *cpuid = NULL;
	const int several = nvcpus > 1;

	struct sigaction sa = { .sa_handler = on_alarm };   /* no SA_RESTART: KVM_RUN returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	printf("TAP version 13\n1..%d\n", NVM_TESTS + (int)nvcpus * NVCPU_TESTS +
	       (several ? NSMP_TESTS : 0));
	fflush(stdout);

	check_module_loaded(why, sizeof why);
	tap("module-loaded", why);
	int nparams = check_module_params(cmdline, why, sizeof why);
	if (nparams == 0)
		tap_skip("module-params", "no kvm parameters on the command line");
	else
		tap("module-params", why);

	for (unsigned i = 0; i < nvcpus; i++) {
		vms[i].index = i;
		vms[i].loops = loops;
		vms[i].cpu = -1;
		vms[i].smp = several ? &smp : NULL;
		if (several) {
			snprintf(vms[i].prefix, sizeof vms[i].prefix, "vcpu%u/", i);
			snprintf(vms[i].dprefix, sizeof vms[i].dprefix, "vcpu%u: ", i);
		}
	}
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0) {
		snprintf(why, sizeof why, "cannot open /dev/kvm: %s", strerror(errno));
		goto fail_all;
	}
	int api = ioctl(vm->kvm, KVM_GET_API_VERSION, 0);
	why[0] = 0;
	if (api != KVM_API_VERSION)
		snprintf(why, sizeof why, "KVM_GET_API_VERSION returned %d (%s), expected %d", api,
			 api < 0 ? strerror(errno) : "wrong version", KVM_API_VERSION);
	tap("api-version", why);
	if (why[0]) {
		snprintf(why, sizeof why, "not run: wrong KVM API version");
		goto fail_all;
	}

	why[0] = 0;
	if (create_vm(vm, &cpuid, why, sizeof why) == 0) {
		uint8_t *mem = vm->mem;
		for (unsigned i = 0; i < nvcpus && !why[0]; i++) {
			if (i > 0) {
				vms[i].kvm = vm->kvm;
				vms[i].fd = vm->fd;
				vms[i].leaf0 = vm->leaf0;
				vms[i].leaf_hv = vm->leaf_hv;
				vms[i].have_hv = vm->have_hv;
			}
			vms[i].mem = mem + i * VCPU_STRIDE;
			create_vcpu(&vms[i], cpuid, several, why, sizeof why);
		}
	}
	free(cpuid);
	if (!why[0] && several)
		diag("VM: one slot of %u KiB at 0, %u vCPUs in real mode at %#x, vCPU i's segments "
		     "at i * %#x (%zu bytes of L2 code, %zu of ring code at %#x)", MEM_SIZE / 1024,
		     nvcpus, CODE_GPA, VCPU_STRIDE, (size_t)(l2_code_end - l2_code),
		     (size_t)(l2_ring_end - l2_ring), RING_IP);
	else if (!why[0])
		diag("VM: one slot of %u KiB at 0, one vCPU in real mode at %#x (%zu bytes of L2 "
		     "code)", MEM_SIZE / 1024, CODE_GPA, (size_t)(l2_code_end - l2_code));
	tap("create-vm", why);
	if (why[0]) {
		snprintf(why, sizeof why, "not run: no VM");
		goto fail_all;
	}

	if (!several) {
		vcpu_main(vm);
		if (vm->script_ok)
			diag("KVM_RUN exits in all: %lu (IO %lu, HLT %lu, other %lu)",
			     vm->total_exits, vm->exits[KVM_EXIT_IO], vm->exits[KVM_EXIT_HLT],
			     vm->total_exits - vm->exits[KVM_EXIT_IO] - vm->exits[KVM_EXIT_HLT]);
		goto out;
	}

	/* Several vCPUs: thread i pinned to the i-th online CPU when there are enough. */
	cpu_set_t online_set;
	unsigned online = 0;
	if (sched_getaffinity(0, sizeof online_set, &online_set) == 0)
		online = (unsigned)CPU_COUNT(&online_set);
	smp.pin = online >= nvcpus;
	for (unsigned i = 0; i < nvcpus && smp.pin; i++)
		vms[i].cpu = nth_cpu(&online_set, i);
	diag("%u vCPU threads, %u CPU(s) this process may run on: %s", nvcpus, online,
	     smp.pin ? "one CPU each" : "not pinned");
	pthread_barrier_init(&smp.barrier, NULL, nvcpus);
	unsigned started = 0;
	for (; started < nvcpus; started++) {
		int err = pthread_create(&vms[started].thread, NULL, vcpu_main, &vms[started]);
		if (err) {
			/* the others would wait at the barrier forever */
			printf("Bail out! pthread_create for vcpu%u: %s\n", started, strerror(err));
			fflush(stdout);
			return 2;
		}
	}
	for (unsigned i = 0; i < nvcpus; i++)
		pthread_join(vms[i].thread, NULL);
	for (unsigned i = 0; i < nvcpus; i++)
		vdiag(&vms[i], "KVM_RUN exits in all: %lu (IO %lu, HLT %lu, other %lu)",
		      vms[i].total_exits, vms[i].exits[KVM_EXIT_IO], vms[i].exits[KVM_EXIT_HLT],
		      vms[i].total_exits - vms[i].exits[KVM_EXIT_IO] - vms[i].exits[KVM_EXIT_HLT]);
	report_smp(&smp, online, want_pin);
	goto out;

fail_all:
	/* every test not reported yet fails with the same reason */
	while (tap_number < NVM_TESTS)
		tap(VM_TESTS[tap_number], why);
	for (unsigned i = 0; i < nvcpus; i++)
		vfail_rest(&vms[i], why);
	for (int i = 0; several && i < NSMP_TESTS; i++)
		tap(SMP_TESTS[i], why);
out:
	diag("kvm_l2_runner: %d of %d tests failed", tap_failed, tap_number);
	return tap_failed ? 1 : 0;
}
