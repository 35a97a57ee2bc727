#include "lib/exception.h"

#include "lib/cpu.h"
#include "lib/exit.h"
#include "lib/layout.h"
#include "lib/print.h"
#include "lib/runner.h"
#include "lib/tap.h"
#include "core/format.h"

/* An armed exc_try; built on its stack by exc_try.asm (offsets 0, 8, 16). */
struct exc_try_context {
	struct exc_record *record;
	struct exc_try_context *previous;
	uint64_t padding;
};

/* Innermost armed exc_try, NULL when none. One chain for the machine: with several CPUs
 * (lib/smp.h) one CPU at a time arms catchers, while the others wait for it. */
struct exc_try_context *exc_try_top;

extern char exc_try_resume[];

static interrupt_hook current_interrupt_hook;
static interrupt_frame_hook current_interrupt_frame_hook;

void exception_set_interrupt_hook(interrupt_hook hook)
{
	current_interrupt_hook = hook;
}

void exception_set_interrupt_frame_hook(interrupt_frame_hook hook)
{
	current_interrupt_frame_hook = hook;
}

#define BACKTRACE_DEPTH 8

const char *exception_mnemonic(uint64_t vector)
{
	static const char *const names[EXCEPTION_VECTORS] = {
		[EXC_DE] = "#DE", [EXC_DB] = "#DB", [EXC_NMI] = "NMI", [EXC_BP] = "#BP",
		[EXC_OF] = "#OF", [EXC_BR] = "#BR", [EXC_UD] = "#UD", [EXC_NM] = "#NM",
		[EXC_DF] = "#DF", [EXC_TS] = "#TS", [EXC_NP] = "#NP", [EXC_SS] = "#SS",
		[EXC_GP] = "#GP", [EXC_PF] = "#PF", [EXC_MF] = "#MF", [EXC_AC] = "#AC",
		[EXC_MC] = "#MC", [EXC_XM] = "#XM", [EXC_VE] = "#VE", [EXC_CP] = "#CP",
		[EXC_HV] = "#HV", [EXC_VC] = "#VC", [EXC_SX] = "#SX",
	};
	if (vector < EXCEPTION_VECTORS && names[vector])
		return names[vector];
	return vector < EXCEPTION_VECTORS ? "#??" : "interrupt";
}

static bool inside_image(uint64_t address)
{
	return address >= (uint64_t)guest_image_start && address < (uint64_t)guest_bss_end;
}

/* Follows the frame-pointer chain (the guest is built with -fno-omit-frame-pointer)
 * as long as it stays inside the image. */
static void format_backtrace(char *out, size_t size, uint64_t rbp)
{
	size_t used = (size_t)format_buf(out, size, "  backtrace:");
	for (int depth = 0; depth < BACKTRACE_DEPTH && used < size; depth++) {
		if (rbp % 8 || !inside_image(rbp) || !inside_image(rbp + 8))
			break;
		const uint64_t *frame = (const uint64_t *)rbp;
		used += (size_t)format_buf(out + used, size - used, " %#llx", (unsigned long long)frame[1]);
		rbp = frame[0];
	}
}

/* In a probe: "not ok N - probe # unexpected ...", the registers as its YAML block (after
 * whatever the probe said), then "Bail out!". In the runtime: "# ..." lines, "Bail out!". */
static __attribute__((noreturn)) void report_unexpected(const struct exception_frame *f,
							uint64_t cr2)
{
	static bool reporting;
	if (reporting) {
		printf("Bail out! exception %s (vector %llu) while reporting an exception\n",
		       exception_mnemonic(f->vector), (unsigned long long)f->vector);
		guest_exit(EXIT_FATAL);
	}
	reporting = true;

	const char *probe = runner_current_probe();
	bool in_probe = probe && tap_capturing();
	tap_note("unexpected %s (vector %llu), error code %#llx, in %s",
		 exception_mnemonic(f->vector), (unsigned long long)f->vector,
		 (unsigned long long)f->error_code, probe ? probe : "the runtime");
	tap_note("  rip %#018llx cs %#06llx rflags %#010llx rsp %#018llx ss %#06llx",
		 (unsigned long long)f->rip, (unsigned long long)f->cs,
		 (unsigned long long)f->rflags, (unsigned long long)f->rsp,
		 (unsigned long long)f->ss);
	tap_note("  cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx", (unsigned long long)read_cr0(),
		 (unsigned long long)cr2, (unsigned long long)read_cr3(),
		 (unsigned long long)read_cr4());
	tap_note("  rax %#018llx rbx %#018llx rcx %#018llx rdx %#018llx",
		 (unsigned long long)f->rax, (unsigned long long)f->rbx,
		 (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	tap_note("  rsi %#018llx rdi %#018llx rbp %#018llx r8  %#018llx",
		 (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		 (unsigned long long)f->rbp, (unsigned long long)f->r8);
	tap_note("  r9  %#018llx r10 %#018llx r11 %#018llx r12 %#018llx",
		 (unsigned long long)f->r9, (unsigned long long)f->r10,
		 (unsigned long long)f->r11, (unsigned long long)f->r12);
	tap_note("  r13 %#018llx r14 %#018llx r15 %#018llx", (unsigned long long)f->r13,
		 (unsigned long long)f->r14, (unsigned long long)f->r15);
	char backtrace[160];
	format_backtrace(backtrace, sizeof(backtrace), f->rbp);
	tap_note("%s", backtrace);
	if (in_probe) {
		printf("not ok %u - %s # unexpected %s (vector %llu) at rip %#llx\n",
		       runner_current_number(), probe, exception_mnemonic(f->vector),
		       (unsigned long long)f->vector, (unsigned long long)f->rip);
		tap_capture_end();
	}
	printf("Bail out! unexpected %s (vector %llu) at rip %#llx%s%s\n",
	       exception_mnemonic(f->vector), (unsigned long long)f->vector,
	       (unsigned long long)f->rip, probe ? " in " : "", probe ? probe : "");
	guest_exit(EXIT_FATAL);
}

void exception_dispatch(struct exception_frame *frame)
{
	uint64_t cr2 = read_cr2();
	struct exc_try_context *catcher = exc_try_top;

	bool interrupt = frame->vector >= EXCEPTION_VECTORS || frame->vector == EXC_NMI;
	if (current_interrupt_hook && interrupt) {
		current_interrupt_hook(frame->vector);
		return;
	}
	if (current_interrupt_frame_hook && interrupt) {
		current_interrupt_frame_hook(frame);
		return;
	}

	if (catcher && frame->vector < EXCEPTION_VECTORS) {
		*catcher->record = (struct exc_record){
			.vector = frame->vector,
			.error_code = frame->error_code,
			.rip = frame->rip,
			.cr2 = cr2,
			.rsp = frame->rsp,
			.rflags = frame->rflags,
		};
		exc_try_top = catcher->previous;
		/* Return into exc_try's epilogue, on exc_try's stack, in the CS/SS we are
		 * already running with. */
		frame->rip = (uint64_t)exc_try_resume;
		frame->rsp = (uint64_t)catcher;
		frame->cs = GDT_CODE64;
		frame->ss = GDT_DATA;
		return;
	}
	report_unexpected(frame, cr2);
}
