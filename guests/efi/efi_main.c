/* UEFI entry of a conformance guest (build/guests/conformance.efi), first half.
 *
 * gnu-efi's crt0 relocates the image and calls efi_main(), which, while boot services
 * still run, reads the command line (LoadOptions, else the first line of \nestbed.cfg
 * on the boot volume) and describes the firmware; then it takes the memory map, leaves
 * the firmware with ExitBootServices, converts the map as an OS sees it (conventional,
 * boot services and loader memory are usable), builds the runtime's identity map and
 * hands over to efi_entry.asm, which loads the runtime's GDT, page tables and stack and
 * calls efi_runtime_start(): from there on the guest runs exactly as the Multiboot build
 * does (its own TSS and IDT, interrupts off, COM1, the exit protocol). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "boot/efi/efi_args.h"
#include "boot/efi/efi_device_path.h"
#include "boot/efi/efi_files.h"
#include "boot/efi/efi_firmware.h"
#include "boot/efi/efi_load_options.h"
#include "boot/efi/efi_memmap.h"
#include "boot/efi/efi_status.h"
#include "boot/efi/efi_text.h"
#include "core/format.h"
#include "core/string.h"
#include "efi/efi_paging.h"
#include "lib/boot_info.h"
#include "lib/cpu.h"
#include "lib/exit.h"
#include "lib/layout.h"
#include "lib/print.h"
#include "lib/serial.h"
#include "lib/start.h"

#define CONFIG_FILE_PATH "\\nestbed.cfg" /* what the harness writes (qemu-uefi-svm) */
#define DEFAULT_IMAGE_NAME "conformance.efi"
#define IMAGE_PATH_MAX 128
#define MEMORY_MAP_BUFFER_SIZE (64 * 1024) /* OVMF: about 100 descriptors of 48 bytes */
/* GetMemoryMap and ExitBootServices race with the firmware's own allocations: a map key
 * gone stale makes ExitBootServices fail with EFI_INVALID_PARAMETER (UEFI 2.10, 7.4). */
#define EXIT_BOOT_SERVICES_ATTEMPTS 4

#define CR0_WP (1ull << 16) /* SDM vol.3A 2.5 */
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* efi_files.c reaches the firmware through these. */
EFI_SYSTEM_TABLE *efi_system_table;
EFI_HANDLE efi_image_handle;

static uint64_t memory_map_buffer[MEMORY_MAP_BUFFER_SIZE / sizeof(uint64_t)];
static struct mem_range converted[GUEST_MAX_MEMORY_RANGES];

#define SAME_TYPE(a, b) _Static_assert((int)(a) == (int)(b), "E820 numbering: " #a)
SAME_TYPE(MEM_USABLE, MEMORY_USABLE);
SAME_TYPE(MEM_RESERVED, MEMORY_RESERVED);
SAME_TYPE(MEM_ACPI_RECLAIM, MEMORY_ACPI_RECLAIMABLE);
SAME_TYPE(MEM_ACPI_NVS, MEMORY_ACPI_NVS);
SAME_TYPE(MEM_BAD, MEMORY_BAD);

void efi_enter_runtime(uint64_t pml4) __attribute__((noreturn)); /* efi_entry.asm */
void efi_runtime_start(void) __attribute__((noreturn));
EFI_STATUS efi_main(EFI_HANDLE image_handle, EFI_SYSTEM_TABLE *system_table);

/* Before the runtime runs: one line on COM1 (which the firmware has set up; its own
 * console may be a screen) and the exit protocol. */
static __attribute__((noreturn, format(printf, 1, 2))) void efi_fatal(const char *fmt, ...)
{
	char reason[160];
	va_list ap;
	va_start(ap, fmt);
	format_buf_v(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	serial_init();
	printf("conformance: UEFI entry: %s\n", reason);
	guest_exit(EXIT_FATAL);
}

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
		efi_fatal("loaded image protocol: %s", status_reason(status));
	return image;
}

/* "EDK II 0x00010000 (UEFI 2.7)": vendor, its revision and the spec revision (major in
 * the high half, minor*10 + sub-minor in the low half, UEFI 2.10 4.2). */
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

/* The arguments: LoadOptions when they hold text, else the first line of \nestbed.cfg,
 * else none. Returns false when they do not fit into out. */
static bool read_arguments(const EFI_LOADED_IMAGE *image, const char *image_path, char *out,
			   size_t out_size)
{
	switch (efi_load_options_to_cmdline(image->LoadOptions, image->LoadOptionsSize,
					    image_path, out, out_size)) {
	case EFI_LOAD_OPTIONS_TEXT:
		return true;
	case EFI_LOAD_OPTIONS_TOO_LONG:
		return false;
	case EFI_LOAD_OPTIONS_EMPTY:
	case EFI_LOAD_OPTIONS_NOT_TEXT: /* EDK II's own boot options carry a GUID */
		break;
	}

	out[0] = '\0';
	EFI_FILE_HANDLE root = NULL;
	if (efi_volume_open(image->DeviceHandle, &root) != EFI_SUCCESS)
		return true; /* no file system (e.g. a network boot): no arguments */
	void *text = NULL;
	uint64_t size = 0;
	EFI_STATUS status = efi_file_read_pool(root, CONFIG_FILE_PATH, &text, &size);
	root->Close(root);
	if (status == EFI_NOT_FOUND)
		return true;
	if (status != EFI_SUCCESS)
		efi_fatal("%s: %s", CONFIG_FILE_PATH, status_reason(status));
	int complete = efi_config_first_line(text, size, out, out_size);
	efi_system_table->BootServices->FreePool(text);
	return complete;
}

/* The runtime's command line: "<image name> <arguments>", as a Multiboot loader gives
 * it (guests/README.md: the first word is the image name). */
static void read_command_line(const EFI_LOADED_IMAGE *image, struct guest_boot_info *bi)
{
	static char arguments[CMDLINE_MAX];
	char image_path[IMAGE_PATH_MAX];
	efi_device_path_file_name(image->FilePath, image_path, sizeof(image_path));
	const char *name = efi_path_basename(image_path);
	if (name[0] == '\0')
		name = DEFAULT_IMAGE_NAME;

	bi->has_cmdline = true;
	if (!read_arguments(image, image_path, arguments, sizeof(arguments))) {
		bi->cmdline_truncated = true;
		return;
	}
	int len = arguments[0] ? format_buf(bi->cmdline, sizeof(bi->cmdline), "%s %s", name,
					    arguments)
			       : format_buf(bi->cmdline, sizeof(bi->cmdline), "%s", name);
	bi->cmdline_truncated = len < 0 || (size_t)len >= sizeof(bi->cmdline);
}

/* Takes the memory map and leaves the firmware. From the first ExitBootServices call on,
 * only GetMemoryMap and ExitBootServices may be called (UEFI 2.10, 7.4). */
static void exit_boot_services(struct guest_efi_memory_map *map)
{
	EFI_BOOT_SERVICES *bs = efi_system_table->BootServices;
	EFI_STATUS status = EFI_SUCCESS;
	for (unsigned attempt = 0; attempt < EXIT_BOOT_SERVICES_ATTEMPTS; attempt++) {
		UINTN size = sizeof(memory_map_buffer), key = 0, descriptor_size = 0;
		UINT32 version = 0;
		status = bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)memory_map_buffer, &key,
					  &descriptor_size, &version);
		if (status == EFI_BUFFER_TOO_SMALL)
			efi_fatal("memory map: %llu bytes, more than the %u the guest keeps",
				  (unsigned long long)size, MEMORY_MAP_BUFFER_SIZE);
		if (status != EFI_SUCCESS)
			efi_fatal("GetMemoryMap: %s", status_reason(status));
		status = bs->ExitBootServices(efi_image_handle, key);
		if (status == EFI_SUCCESS) {
			*map = (struct guest_efi_memory_map){
				.descriptors = memory_map_buffer,
				.size = size,
				.descriptor_size = descriptor_size,
				.descriptor_version = version,
			};
			return;
		}
		if (status != EFI_INVALID_PARAMETER)
			break;
	}
	efi_fatal("ExitBootServices: %s", status_reason(status));
}

/* The firmware's map as an OS sees it after ExitBootServices (efi_memmap.c: sorted,
 * touching ranges of one type merged). */
static void convert_memory_map(struct guest_boot_info *bi)
{
	const struct guest_efi_memory_map *map = &bi->efi_memory_map;
	struct efi_memmap_result r = efi_memmap_convert(map->descriptors, map->size,
							map->descriptor_size, EFI_VIEW_OS,
							converted, GUEST_MAX_MEMORY_RANGES);
	if (r.bad_descriptor_size)
		return; /* has_memory_map stays false: platform/memory-map says why */
	bi->has_memory_map = true;
	bi->memory_map_truncated = r.nr_dropped != 0;
	bi->nr_memory_ranges = r.nr_ranges;
	for (uint32_t i = 0; i < r.nr_ranges; i++)
		bi->memory_ranges[i] = (struct memory_range){
			.base = converted[i].base,
			.length = converted[i].length,
			.type = converted[i].type,
		};
}

static void write_cr0(uint64_t value)
{
	__asm__ volatile("mov %0, %%cr0" ::"r"(value) : "memory");
}

static void wrmsr_zero(uint32_t msr)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"(0), "d"(0) : "memory");
}

/* The ACPI 2.0 RSDP from the configuration table, else the 1.0 one (UEFI 2.10 4.6); 0. */
static uint64_t find_rsdp(const EFI_SYSTEM_TABLE *st)
{
	static const EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	uint64_t v1 = 0;
	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		const EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
		if (memcmp(&t->VendorGuid, &acpi20, sizeof(acpi20)) == 0)
			return (uint64_t)(uintptr_t)t->VendorTable;
		if (memcmp(&t->VendorGuid, &acpi10, sizeof(acpi10)) == 0)
			v1 = (uint64_t)(uintptr_t)t->VendorTable;
	}
	return v1;
}

/* Called by gnu-efi's crt0 with the SysV convention: not EFIAPI. */
EFI_STATUS efi_main(EFI_HANDLE image_handle, EFI_SYSTEM_TABLE *system_table)
{
	struct guest_boot_info *bi = &guest_boot_info;
	efi_image_handle = image_handle;
	efi_system_table = system_table;

	memset(bi, 0, sizeof(*bi));
	bi->protocol = GUEST_BOOT_UEFI;

	const EFI_LOADED_IMAGE *image = loaded_image();
	uint64_t image_end = (uint64_t)(uintptr_t)image->ImageBase + image->ImageSize;
	if (image_end > IDENTITY_MAP_END)
		efi_fatal("loaded at %#llx-%#llx, above the 4 GiB the guest maps",
			  (unsigned long long)(uintptr_t)image->ImageBase,
			  (unsigned long long)image_end - 1);
	describe_firmware(bi->loader_name, sizeof(bi->loader_name));
	bi->acpi_rsdp = find_rsdp(system_table);
	read_command_line(image, bi);

	exit_boot_services(&bi->efi_memory_map);
	/* The firmware is gone: no more calls into it, its console included. */
	__asm__ volatile("cli" ::: "memory");
	convert_memory_map(bi);

	/* The state entry.asm gives the Multiboot build: caches on, supervisor writes to
	 * read-only pages fault, no FS/GS bases. */
	write_cr0((read_cr0() | CR0_WP) & ~(CR0_CD | CR0_NW));
	wrmsr_zero(MSR_FS_BASE);
	wrmsr_zero(MSR_GS_BASE);
	wrmsr_zero(MSR_KERNEL_GS_BASE);
	efi_enter_runtime(efi_paging_build((uint64_t)boot_stack_guard));
}

/* On the runtime's GDT, page tables and stack (efi_entry.asm). */
void efi_runtime_start(void)
{
	guest_runtime_init();
	guest_main();
}
