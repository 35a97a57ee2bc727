# Host fuzz targets (libFuzzer, Debian's clang). Each tests/fuzz/fuzz_*.c starts with a
#   /* covers: src/core/a.c src/core/b.c */
# line naming the pure sources it links, as the unit tests do. tests/run_all.py --fuzz runs
# each for NESTBED_FUZZ_SECONDS (default 60) from its seeds in tests/fuzz/corpus/<name>/
# (written by tests/fuzz/guest_images.py seeds), and fails on a crash, a sanitizer report
# or a broken invariant.
FUZZ_CC      := clang
FUZZ_CFLAGS  := -std=c11 -O1 -g $(WARN) -Isrc -DHOST_TEST -DNESTBED_VERSION=\"test\" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

$(BUILD)/fuzz/%: tests/fuzz/%.c $$(call unit_covers,tests/fuzz/$$*.c) $(UNIT_HEADERS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# The malformed guest images the emulator scenarios give nestbed (bad-input/image-*).
BAD_IMAGE_NAMES := pvh-wrap.elf pvh-phdrs-wrap.elf pvh-over-nestbed.elf elf32-truncated.elf mb-wrap.elf \
	mb-outside-file.elf mb-header-before-file.elf
BAD_IMAGES   := $(addprefix $(BUILD)/tests/bad-images/,$(BAD_IMAGE_NAMES))

$(BAD_IMAGES) &: tests/fuzz/guest_images.py
	@mkdir -p $(BUILD)/tests/bad-images
	@$(if $(Q),echo "  GEN     $(BUILD)/tests/bad-images")
	$(Q)$(PYTHON) tests/fuzz/guest_images.py bad $(BUILD)/tests/bad-images
	$(Q)touch $(BAD_IMAGES)

fuzz: $(FUZZ_TARGETS)
