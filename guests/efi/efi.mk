# The conformance guest as a UEFI application (included by guests/guests.mk).
#
# build/guests/conformance.efi: the same runtime (guests/lib) and probes as
# conformance.elf, with the UEFI entry of guests/efi/ instead of entry.asm, and the pure
# UEFI helpers nestbed.efi uses (src/boot/efi: load options, \nestbed.cfg, device paths,
# files, the memory-map conversion). gnu-efi's recipe (see the top GNUmakefile's
# nestbed.efi): -fpic objects, crt0 + our linker script (gnu-efi's plus the probe
# registry), -shared -Bsymbolic, objcopy to a PE with subsystem 10 (application).

GUEST_EFI_BUILD  := $(GUEST_BUILD)/efi
GUEST_EFI_CFLAGS := $(filter-out -fno-pic -fno-pie -mcmodel=small,$(GUEST_CFLAGS)) \
	-fpic -fshort-wchar -DGNU_EFI_USE_MS_ABI -DGUEST_EFI \
	-I/usr/include/efi -I/usr/include/efi/x86_64
GUEST_EFI_LDS    := guests/efi/conformance-efi.lds
GUEST_EFI_CRT0   := /usr/lib/crt0-efi-x86_64.o

GUEST_EFI_ASM    := $(sort $(wildcard guests/efi/*.asm)) \
	$(filter-out guests/lib/entry.asm,$(GUEST_LIB_ASM))
GUEST_EFI_C      := $(sort $(wildcard guests/efi/*.c)) $(GUEST_LIB_C) $(GUEST_CORE_C) \
	$(addprefix src/boot/efi/,efi_args.c efi_device_path.c efi_files.c \
		efi_load_options.c efi_memmap.c efi_status.c efi_text.c) \
	$(GUEST_PROBES_C)
GUEST_EFI_OBJS   := $(patsubst %,$(GUEST_EFI_BUILD)/%.o,$(GUEST_EFI_ASM) $(GUEST_EFI_C))

GUEST_IMAGES += $(GUEST_BUILD)/conformance.efi

$(GUEST_EFI_BUILD)/src/core/string.c.o: GUEST_EXTRA_CFLAGS := $(GUEST_STRING_CFLAGS)
# nestbed compiles its UEFI helpers so; they were written for it.
$(GUEST_EFI_BUILD)/src/boot/efi/%.c.o: GUEST_EXTRA_CFLAGS := -fno-strict-aliasing

$(GUEST_EFI_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(gefi) $<")
	$(Q)$(CC) $(GUEST_EFI_CFLAGS) $(GUEST_EXTRA_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_EFI_BUILD)/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $<")
	$(Q)$(NASM) -f elf64 -g -DGUEST_EFI -Iguests/lib/ -MD $@.d $< -o $@

$(GUEST_BUILD)/conformance-efi.objs: guests-object-list
	@mkdir -p $(dir $@)
	@echo '$(GUEST_EFI_OBJS)' | cmp -s - $@ || echo '$(GUEST_EFI_OBJS)' > $@

$(GUEST_BUILD)/conformance-efi.so: $(GUEST_EFI_OBJS) $(GUEST_BUILD)/conformance-efi.objs \
		$(GUEST_EFI_LDS) guests/efi/check-relocations
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) -nostdlib -znocombreloc -z noexecstack -shared -Bsymbolic -T $(GUEST_EFI_LDS) \
		$(GUEST_EFI_CRT0) $(GUEST_EFI_OBJS) -o $@ -L/usr/lib -lefi -lgnuefi
	$(Q)guests/efi/check-relocations $@

# The probe registry lies inside .data (conformance-efi.lds): its relocations are in .rela.
$(GUEST_BUILD)/conformance.efi: $(GUEST_BUILD)/conformance-efi.so guests/efi/efi.mk
	@$(if $(Q),echo "  OBJCOPY $@")
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@
