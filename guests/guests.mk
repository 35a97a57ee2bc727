# Conformance guests (owned by guests/): builds $(GUEST_IMAGES).
#
# build/guests/conformance.elf: guests/lib (the freestanding runtime), every probe under
# guests/probes/, and nestbed's pure printf engine and string functions. A Multiboot 1
# image linked at 1 MiB; guests/tools/check-flat-load proves after each link that the
# a.out-kludge flat load matches the ELF layout.

GUEST_BUILD  := $(BUILD)/guests
GUEST_CFLAGS := -std=c11 -ffreestanding -fno-stack-protector -fno-builtin -nostdlib \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-80387 -fno-omit-frame-pointer \
	-fno-pic -fno-pie -mcmodel=small -fno-asynchronous-unwind-tables -O2 -g $(WARN) \
	-DNESTBED_VERSION=\"$(VERSION)\" -Isrc -Iguests
# The string functions must not be turned back into calls to themselves.
GUEST_STRING_CFLAGS := -fno-tree-loop-distribute-patterns

GUEST_LIB_ASM  := $(sort $(wildcard guests/lib/*.asm))
GUEST_LIB_C    := $(sort $(wildcard guests/lib/*.c))
GUEST_PROBES_C := $(sort $(wildcard guests/probes/*/*.c guests/probes/*/*/*.c))
GUEST_CORE_C   := src/core/format.c src/core/string.c src/core/acpi.c src/core/acpi_madt.c
GUEST_OBJS     := $(patsubst %,$(GUEST_BUILD)/%.o,$(GUEST_LIB_ASM) $(GUEST_LIB_C) \
	$(GUEST_CORE_C) $(GUEST_PROBES_C))

GUEST_IMAGES := $(GUEST_BUILD)/conformance.elf

$(GUEST_BUILD)/src/core/string.c.o: GUEST_EXTRA_CFLAGS := $(GUEST_STRING_CFLAGS)

$(GUEST_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(gst) $<")
	$(Q)$(CC) $(GUEST_CFLAGS) $(GUEST_EXTRA_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_BUILD)/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $<")
	$(Q)$(NASM) -f elf64 -g -Iguests/lib/ -MD $@.d $< -o $@

# The object list as a file that changes only when the list does, so that adding or
# removing a probe source relinks even though no object is newer than the image.
$(GUEST_BUILD)/conformance.objs: guests-object-list
	@mkdir -p $(dir $@)
	@echo '$(GUEST_OBJS)' | cmp -s - $@ || echo '$(GUEST_OBJS)' > $@

$(GUEST_BUILD)/conformance.elf: $(GUEST_OBJS) $(GUEST_BUILD)/conformance.objs guests/lib/guest.ld \
		guests/tools/check-flat-load
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
		-T guests/lib/guest.ld -o $@ $(GUEST_OBJS)
	$(Q)guests/tools/check-flat-load $@

.PHONY: guests guests-object-list
guests: $(GUEST_IMAGES)

# build/guests/conformance.efi: the same runtime and probes as a UEFI application.
include guests/efi/efi.mk
