/* The UEFI entry path: gnu-efi's crt0 relocates the image and calls efi_main(), which
 * reads the guest's files from the boot volume with boot services, exits them, and hands
 * the machine to the core the way the Multiboot path does: its own page tables, stack,
 * GDT, TSS and IDT, COM1 as the console, the image staying where the firmware loaded it. */
#include <stdint.h>

#include "boot/efi/efi_args.h"
#include "boot/efi/efi_boot_memory.h"
#include "boot/efi/efi_console.h"
#include "boot/efi/efi_device_path.h"
#include "boot/efi/efi_exit_boot_services.h"
#include "boot/efi/efi_files.h"
#include "boot/efi/efi_firmware.h"
#include "boot/efi/efi_load_options.h"
#include "boot/efi/efi_poweroff.h"
#include "boot/efi/efi_rsdp.h"
#include "boot/efi/efi_status.h"
#include "boot/efi/efi_take_over.h"
#include "boot/efi/efi_text.h"
#include "core/boot_info.h"
#include "core/console.h"
#include "core/format.h"
#include "core/main.h"
#include "core/options.h"
#include "core/platform.h"
#include "core/string.h"
#include "core/units.h"

#define CONFIG_FILE_PATH "\\nestbed.cfg"
/* The whole line: nestbed's arguments plus every module's path and arguments. */
#define RAW_CMDLINE_MAX (BOOT_CMDLINE_MAX * (BOOT_MAX_MODULES + 1))
#define IMAGE_NAME_MAX 128

EFI_SYSTEM_TABLE *efi_system_table;
EFI_HANDLE efi_image_handle;

/* Static: too large for the firmware's stack, and only one CPU runs this. */
static struct boot_info boot_info;
static struct efi_boot_args boot_args;
static char raw_cmdline[RAW_CMDLINE_MAX];

/* A one-line reason for a firmware error, e.g. "not found" or "EFI status 0x...". */
static const char *status_reason(EFI_STATUS status)
{
	static char unknown[40];
	const char *text = efi_status_text(status);
	if (text)
		return text;
	format_buf(unknown, sizeof(unknown), "EFI status %#llx", (unsigned long long)status);
	return unknown;
}

static EFI_LOADED_IMAGE *loaded_image(void)
{
	EFI_GUID guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *image = NULL;
	EFI_STATUS status = efi_system_table->BootServices->HandleProtocol(
		efi_image_handle, &guid, (void **)&image);
	if (status != EFI_SUCCESS)
		fatal("loaded image protocol: %s", status_reason(status));
	return image;
}

/* "EDK II 0x00010000 (UEFI 2.7)": the vendor, its own revision number and the spec
 * revision (major in the high half, minor*10 + sub-minor in the low half, 4.2). */
static void describe_firmware(char *out, size_t out_size)
{
	char vendor[40];
	efi_ucs2_to_ascii(vendor, sizeof(vendor), efi_system_table->FirmwareVendor, SIZE_MAX);
	uint32_t spec = efi_system_table->Hdr.Revision;
	unsigned major = spec >> 16, minor = (spec & 0xffff) / 10, sub = (spec & 0xffff) % 10;
	if (sub)
		format_buf(out, out_size, "%s %#010x (UEFI %u.%u.%u)", vendor,
			   efi_system_table->FirmwareRevision, major, minor, sub);
	else
		format_buf(out, out_size, "%s %#010x (UEFI %u.%u)", vendor,
			   efi_system_table->FirmwareRevision, major, minor);
}

/* The command line: LoadOptions when they hold one, else \nestbed.cfg's first line,
 * else empty. */
static void read_command_line(const EFI_LOADED_IMAGE *image, EFI_FILE_HANDLE root)
{
	char image_name[IMAGE_NAME_MAX];
	efi_device_path_file_name(image->FilePath, image_name, sizeof(image_name));
	switch (efi_load_options_to_cmdline(image->LoadOptions, image->LoadOptionsSize,
					    image_name, raw_cmdline, sizeof(raw_cmdline))) {
	case EFI_LOAD_OPTIONS_TEXT:
		return;
	case EFI_LOAD_OPTIONS_TOO_LONG:
		fatal("load options: longer than %u characters", RAW_CMDLINE_MAX - 1);
	case EFI_LOAD_OPTIONS_EMPTY:
	case EFI_LOAD_OPTIONS_NOT_TEXT:
		break;
	}

	raw_cmdline[0] = '\0';
	if (root == NULL)
		return;
	void *text = NULL;
	uint64_t size = 0;
	EFI_STATUS status = efi_file_read_pool(root, CONFIG_FILE_PATH, &text, &size);
	if (status == EFI_NOT_FOUND)
		return;
	if (status != EFI_SUCCESS)
		fatal("%s: %s", CONFIG_FILE_PATH, status_reason(status));
	int complete = efi_config_first_line(text, size, raw_cmdline, sizeof(raw_cmdline));
	efi_system_table->BootServices->FreePool(text);
	if (!complete)
		fatal("%s: first line longer than %u characters", CONFIG_FILE_PATH,
		      RAW_CMDLINE_MAX - 1);
}

static void load_modules(EFI_FILE_HANDLE root, struct boot_info *bi)
{
	for (uint32_t i = 0; i < boot_args.nr_modules; i++) {
		const struct efi_module_spec *spec = &boot_args.modules[i];
		struct boot_module *module = &bi->modules[i];
		if (root == NULL)
			fatal("module %s: the boot device has no file system", spec->path);
		if (!efi_module_cmdline(spec, module->cmdline, sizeof(module->cmdline)))
			fatal("module %s: command line longer than %u characters", spec->path,
			      BOOT_CMDLINE_MAX - 1);
		EFI_STATUS status = efi_file_read_pages(root, spec->path, &module->phys,
							&module->size);
		if (status != EFI_SUCCESS)
			fatal("module %s: %s", spec->path, status_reason(status));
		bi->nr_modules = i + 1;
	}
}

/* heap=<MiB> from nestbed's arguments (a bad value is the core's to report) plus room
 * for the core to copy every module and for efi_take_over()'s page tables and stack. */
static uint64_t heap_bytes(const struct boot_info *bi)
{
	struct nestbed_options options;
	char ignored_error[8];
	uint64_t bytes = OPTIONS_DEFAULT_HEAP_MIB * MIB + EFI_TAKE_OVER_HEAP;
	if (options_parse(bi->cmdline, &options, ignored_error, sizeof(ignored_error)) == 0)
		bytes = options.heap_mib * MIB + EFI_TAKE_OVER_HEAP;
	for (uint32_t i = 0; i < bi->nr_modules; i++)
		bytes += bi->modules[i].size;
	return bytes;
}

/* Called by gnu-efi's crt0 with the SysV convention: not EFIAPI. */
EFI_STATUS efi_main(EFI_HANDLE image_handle, EFI_SYSTEM_TABLE *system_table);

EFI_STATUS efi_main(EFI_HANDLE image_handle, EFI_SYSTEM_TABLE *system_table)
{
	struct boot_info *bi = &boot_info;
	efi_image_handle = image_handle;
	efi_system_table = system_table;

	console_init();
	efi_console_attach();
	platform_poweroff_hook = nestbed_uefi_poweroff;

	bi->path = BOOT_PATH_UEFI;
	describe_firmware(bi->loader_name, sizeof(bi->loader_name));

	const EFI_LOADED_IMAGE *image = loaded_image();
	bi->image_phys = (uint64_t)(uintptr_t)image->ImageBase;
	bi->image_virt = bi->image_phys; /* the firmware maps memory 1:1 */
	bi->image_size = image->ImageSize;

	/* No file system (e.g. a network boot) is an error only once a file is needed. */
	EFI_FILE_HANDLE root = NULL;
	if (efi_volume_open(image->DeviceHandle, &root) != EFI_SUCCESS)
		root = NULL;

	read_command_line(image, root);
	enum efi_args_error args_error = efi_args_parse(raw_cmdline, &boot_args);
	if (args_error != EFI_ARGS_OK)
		fatal("command line: %s", efi_args_error_text(args_error));
	strlcpy(bi->cmdline, boot_args.nestbed_args, sizeof(bi->cmdline));
	load_modules(root, bi);
	if (root)
		root->Close(root);

	bi->rsdp_phys = efi_find_rsdp();

	EFI_STATUS status = efi_allocate_heap(bi, heap_bytes(bi));
	if (status != EFI_SUCCESS)
		fatal("heap of %llu MiB: %s", (unsigned long long)(heap_bytes(bi) / MIB),
		      status_reason(status));

	/* The firmware's screen output ends with boot services; COM1 stays. */
	console_set_extra_sink(NULL);
	uint32_t nr_dropped = 0;
	status = efi_exit_boot_services(bi, &nr_dropped);
	if (status != EFI_SUCCESS)
		fatal("ExitBootServices: %s", status_reason(status));
	bi->firmware_active = false;
	if (nr_dropped)
		kprintf("nestbed: memory map: %u firmware ranges beyond the first %u left out\n",
			nr_dropped, BOOT_MAX_MEM_RANGES);

	efi_take_over(bi);
}
