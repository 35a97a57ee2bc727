#include "boot/efi/efi_console.h"

#include <stdint.h>

#include "boot/efi/efi_device_path.h"
#include "boot/efi/efi_firmware.h"
#include "boot/efi/efi_text.h"
#include "core/console.h"
#include "core/cpu.h"
#include "core/x86.h"

#define EFI_CONSOLE_MAX_OUTPUTS 4
/* Small chunks: OutputString wants a terminated string, and the stack stays small. */
#define EFI_CONSOLE_CHUNK_UNITS 64
/* Output held back while interrupts are off; more than this is dropped (COM1 has it). */
#define EFI_CONSOLE_HELD_MAX 2048

static SIMPLE_TEXT_OUTPUT_INTERFACE *outputs[EFI_CONSOLE_MAX_OUTPUTS];
static unsigned nr_outputs;
static char held[EFI_CONSOLE_HELD_MAX];
static size_t nr_held;

static void write_outputs(const char *s, size_t len)
{
	uint16_t chunk[EFI_CONSOLE_CHUNK_UNITS];
	while (len > 0) {
		size_t used = efi_console_chunk(chunk, EFI_CONSOLE_CHUNK_UNITS, s, len);
		for (unsigned i = 0; i < nr_outputs; i++)
			outputs[i]->OutputString(outputs[i], (CHAR16 *)chunk);
		s += used;
		len -= used;
	}
}

/* Any firmware call may enable interrupts (EDK II's RestoreTPL does), and nestbed
 * disables them when it must not be interrupted (its own IDT loaded, a VM exit being
 * handled): then the text waits until a call with interrupts on. */
static void efi_console_sink(const char *s, size_t len)
{
	if (!(read_rflags() & RFLAGS_IF)) {
		for (size_t i = 0; i < len && nr_held < EFI_CONSOLE_HELD_MAX; i++)
			held[nr_held++] = s[i];
		return;
	}
	if (nr_held > 0) {
		write_outputs(held, nr_held);
		nr_held = 0;
	}
	write_outputs(s, len);
}

/* A text output that is a real device other than a serial terminal. The console
 * splitter's virtual handles (ConOut, StdErr) have no device path of their own. */
static int is_screen_console(EFI_HANDLE handle)
{
	EFI_GUID device_path_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
	EFI_DEVICE_PATH *path = NULL;
	if (handle == efi_system_table->ConsoleOutHandle ||
	    handle == efi_system_table->StandardErrorHandle)
		return 0;
	if (efi_system_table->BootServices->HandleProtocol(handle, &device_path_guid,
							   (void **)&path) != EFI_SUCCESS ||
	    path == NULL)
		return 0;
	return !efi_device_path_has_uart(path);
}

void efi_console_attach(void)
{
	EFI_BOOT_SERVICES *bs = efi_system_table->BootServices;
	EFI_GUID text_out_guid = EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL_GUID;
	EFI_HANDLE *handles = NULL;
	UINTN count = 0;

	if (bs->LocateHandleBuffer(ByProtocol, &text_out_guid, NULL, &count, &handles) !=
	    EFI_SUCCESS)
		return;
	nr_outputs = 0;
	for (UINTN i = 0; i < count && nr_outputs < EFI_CONSOLE_MAX_OUTPUTS; i++) {
		SIMPLE_TEXT_OUTPUT_INTERFACE *out = NULL;
		if (!is_screen_console(handles[i]) ||
		    bs->HandleProtocol(handles[i], &text_out_guid, (void **)&out) != EFI_SUCCESS)
			continue;
		outputs[nr_outputs++] = out;
	}
	bs->FreePool(handles);
	if (nr_outputs > 0)
		console_set_extra_sink(efi_console_sink);
}
