/* testapp.c: a tiny UEFI application for the harness's own tests (gnu-efi).
 * Prints TAP on the firmware console (OVMF mirrors it on COM1), with its load options or
 * the first line of \nestbed.cfg as a comment, then ends through the exit protocol. */
#include <efi.h>
#include <efilib.h>

static void outb(unsigned short port, unsigned char v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static unsigned char inb(unsigned short port)
{
	unsigned char v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void print_cfg(EFI_HANDLE image)
{
	EFI_LOADED_IMAGE *loaded;
	EFI_FILE_HANDLE root, file;
	CHAR8 buf[256];
	UINTN size = sizeof(buf) - 1;

	if (uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
			      (void **)&loaded) != EFI_SUCCESS)
		return;
	root = LibOpenRoot(loaded->DeviceHandle);
	if (!root || uefi_call_wrapper(root->Open, 5, root, &file, L"\\nestbed.cfg",
				       EFI_FILE_MODE_READ, 0) != EFI_SUCCESS) {
		Print(L"# cfg: none\n");
		return;
	}
	if (uefi_call_wrapper(file->Read, 3, file, &size, buf) != EFI_SUCCESS)
		size = 0;
	buf[size] = 0;
	for (UINTN i = 0; i < size; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = 0;
	Print(L"# cfg: %a\n", buf);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	Print(L"TAP version 13\n");
	print_cfg(image);
	Print(L"ok 1 - harness/efi\n1..1\nexit-port: 0\n");
	while (!(inb(0x3f8 + 5) & 0x40))
		;
	outb(0xf4, 0);
	for (const char *s = "Shutdown"; *s; s++)
		outb(0x8900, (unsigned char)*s); /* Bochs; QEMU has stopped already */
	return EFI_SUCCESS;
}
