/*
 * xen_exit_loops: exit loops run by a Linux guest of Xen (a PVH dom0, or a domU), for the
 * "L1 = Xen" scenario (python3 -m harness xen; guests/linux/xen-init.sh runs it from the
 * initramfs scripts/make-xen-initramfs builds). In a PVH guest, Xen intercepts CPUID, the
 * PCI configuration ports and HLT with SVM/VMX: each check below is an exit to Xen, and
 * under nestbed an L2 exit reflected to Xen (L1).
 *
 *   <prefix>/cpuid-signature   CPUID 0x40000000: "XenVMMXenVMM", EAX >= 0x40000002
 *                              (Xen's hypervisor leaves, xen/include/
 *                              public/arch-x86/cpuid.h: XEN_CPUID_SIGNATURE_*)
 *   <prefix>/cpuid-version     CPUID 0x40000001 EAX = major << 16 | minor, as --xen-version
 *   <prefix>/cpuid-hv-bit      CPUID 1 ECX bit 31 (hypervisor present) set
 *   <prefix>/cpuid-loop        N CPUIDs of leaf 0x40000000, each with the same answer; timed
 *   <prefix>/pio-pci-id        port 0xCF8 <- 0x80000000 (PCI configuration mechanism #1,
 *                              PCI Local Bus 3.0 3.2.2.3.2: bus 0 device 0 function 0
 *                              register 0), port 0xCFC -> vendor | device << 16 of the
 *                              host bridge, as --pci-id says (the harness knows the machine)
 *   <prefix>/pio-loop          N such port pairs, each with the same answer; timed
 *   <prefix>/hlt-wakes         M sleeps of SLEEP_NS: the vCPU idles in HLT (Linux's idle
 *                              loop; user space cannot HLT) and a timer interrupt wakes it:
 *                              each sleep returns after at least SLEEP_NS, and the CPU's
 *                              idle time in /proc/stat grows
 *
 * Output: TAP version 13 on stdout, then "xen-loops: PASS <prefix>" when every test passed
 * or "xen-loops: FAIL <prefix>" (the harness waits for one of them).
 * Exit status: 0 when every test passed, 1 otherwise.
 *
 *   xen_exit_loops [--prefix P] [--loops N] [--xen-version MAJ.MIN] [--pci-id HEX]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <time.h>
#include <unistd.h>

#define XEN_CPUID_BASE      0x40000000u /* xen/include/public/arch-x86/cpuid.h */
#define XEN_CPUID_MIN_LEAF  0x40000002u /* the base leaf's EAX: at least 2 leaves follow */
#define CPUID_HV_BIT        (1u << 31)  /* CPUID 1 ECX: hypervisor present (APM vol.3 E.3.2) */
#define PCI_CONF_ADDR       0xcf8u      /* PCI configuration mechanism #1 */
#define PCI_CONF_DATA       0xcfcu
#define PCI_CONF_ENABLE     0x80000000u /* enable bit; bus 0, device 0, function 0, reg 0 */
#define DEFAULT_LOOPS       2000u
#define HLT_SLEEPS          20u         /* 100 ms of sleep: 25 jiffies at HZ=250 */
#define SLEEP_NS            5000000L    /* 5 ms */

static unsigned tests, failed;
static const char *prefix = "xen/guest";

static void result(int ok, const char *name, const char *fmt, ...)
{
	char why[256] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, sizeof why, fmt, ap);
		va_end(ap);
	}
	tests++;
	if (!ok)
		failed++;
	printf("%sok %u - %s/%s%s%s\n", ok ? "" : "not ", tests, prefix, name,
	       why[0] ? " # " : "", why);
	fflush(stdout);
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void rate(const char *what, unsigned n, double seconds)
{
	printf("# %s loop: %u exits in %.3f s: %.0f/s, %.2f us each\n", what, n, seconds,
	       seconds > 0 ? n / seconds : 0.0, seconds * 1e6 / n);
}

static void check_cpuid(unsigned loops, int major, int minor)
{
	uint32_t r[4], s[4];
	char sig[13];

	cpuid(XEN_CPUID_BASE, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	result(!strcmp(sig, "XenVMMXenVMM") && r[0] >= XEN_CPUID_MIN_LEAF, "cpuid-signature",
	       "leaf 0x%x: eax 0x%" PRIx32 ", signature \"%s\"", XEN_CPUID_BASE, r[0], sig);

	cpuid(XEN_CPUID_BASE + 1, s);
	if (major < 0)
		result(1, "cpuid-version", "SKIP no --xen-version given (eax 0x%" PRIx32 ")", s[0]);
	else
		result(s[0] == ((uint32_t)major << 16 | (uint32_t)minor), "cpuid-version",
		       "leaf 0x%x eax 0x%" PRIx32 " (Xen %u.%u), expected %d.%d",
		       XEN_CPUID_BASE + 1, s[0], s[0] >> 16, s[0] & 0xffff, major, minor);

	cpuid(1, s);
	result(!!(s[2] & CPUID_HV_BIT), "cpuid-hv-bit", "leaf 1 ecx 0x%" PRIx32, s[2]);

	unsigned bad = 0;
	double t0 = now();
	for (unsigned i = 0; i < loops; i++) {
		cpuid(XEN_CPUID_BASE, s);
		bad += memcmp(r, s, sizeof s) != 0;
	}
	double t = now() - t0;
	rate("CPUID", loops, t);
	result(!bad, "cpuid-loop", "%u CPUIDs, %u with another answer", loops, bad);
}

static uint32_t pci_read_id(void)
{
	outl(PCI_CONF_ENABLE, PCI_CONF_ADDR);
	return inl(PCI_CONF_DATA);
}

static void check_pio(unsigned loops, long expected)
{
	if (ioperm(PCI_CONF_ADDR, 8, 1)) {
		result(0, "pio-pci-id", "ioperm(0x%x, 8): %s", PCI_CONF_ADDR, strerror(errno));
		result(0, "pio-loop", "no port access");
		return;
	}
	uint32_t id = pci_read_id();
	if (expected < 0)
		result(id != 0xffffffffu && id != 0, "pio-pci-id",
		       "00:00.0 id 0x%08" PRIx32 " (no --pci-id: only checked present)", id);
	else
		result(id == (uint32_t)expected, "pio-pci-id",
		       "00:00.0 id 0x%08" PRIx32 ", expected 0x%08lx", id, expected);

	unsigned bad = 0;
	double t0 = now();
	for (unsigned i = 0; i < loops; i++)
		bad += pci_read_id() != id;
	double t = now() - t0;
	rate("I/O", 2 * loops, t);  /* one OUT and one IN each: two exits */
	result(!bad, "pio-loop", "%u OUT 0x%x + IN 0x%x pairs, %u with another answer", loops,
	       PCI_CONF_ADDR, PCI_CONF_DATA, bad);
}

/* The idle jiffies of the CPU this runs on ("cpuN" line of /proc/stat), -1 on error. */
static long long idle_ticks(int cpu)
{
	char line[512], name[16];
	long long v[4];
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	snprintf(name, sizeof name, "cpu%d ", cpu);
	long long idle = -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, name, strlen(name)) &&
		    sscanf(line + strlen(name), "%lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3]) == 4)
			idle = v[3];
	fclose(f);
	return idle;
}

static void check_hlt(void)
{
	int cpu = sched_getcpu();
	long long before = idle_ticks(cpu < 0 ? 0 : cpu);
	unsigned short_sleeps = 0;
	double t0 = now();
	for (unsigned i = 0; i < HLT_SLEEPS; i++) {
		struct timespec ts = { 0, SLEEP_NS };
		double s = now();
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		if (now() - s < SLEEP_NS / 1e9)
			short_sleeps++;
	}
	double t = now() - t0;
	long long after = idle_ticks(cpu < 0 ? 0 : cpu);
	result(!short_sleeps && before >= 0 && after > before, "hlt-wakes",
	       "%u sleeps of %ld us in %.3f s, %u short; cpu%d idle ticks %lld -> %lld", HLT_SLEEPS,
	       SLEEP_NS / 1000, t, short_sleeps, cpu, before, after);
}

int main(int argc, char **argv)
{
	unsigned loops = DEFAULT_LOOPS;
	int major = -1, minor = -1;
	long pci_id = -1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "xen_exit_loops: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--prefix"))
			prefix = v;
		else if (!strcmp(a, "--loops"))
			loops = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--xen-version")) {
			if (sscanf(v, "%d.%d", &major, &minor) != 2) {
				fprintf(stderr, "xen_exit_loops: bad --xen-version %s\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--pci-id"))
			pci_id = strtol(v, NULL, 16);
		else {
			fprintf(stderr, "usage: xen_exit_loops [--prefix P] [--loops N] "
				"[--xen-version MAJ.MIN] [--pci-id HEX]\n");
			return 2;
		}
	}
	if (!loops)
		loops = 1;
	printf("TAP version 13\n1..7\n");
	check_cpuid(loops, major, minor);
	check_pio(loops, pci_id);
	check_hlt();
	printf("xen-loops: %s %s (%u of %u tests failed)\n", failed ? "FAIL" : "PASS", prefix,
	       failed, tests);
	fflush(stdout);
	return failed ? 1 : 0;
}
