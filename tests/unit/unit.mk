# Host-side unit tests (cmocka). Each tests/unit/test_*.c starts with a line
#   /* covers: src/core/format.c src/core/other.c */
# naming the pure sources it links; they are compiled for the host with HOST_TEST.
HOST_CFLAGS := -std=c11 -O1 -g $(WARN) -Isrc -Iguests -DHOST_TEST -DNESTBED_VERSION=\"test\"
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_TESTS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
unit_covers = $(shell sed -n '1s|^/\* covers: \(.*\) \*/$$|\1|p' $(1))

# Headers are few: every test depends on all of them (generated tables included).
UNIT_HEADERS := $(wildcard src/*/*.h src/*/*/*.h guests/lib/*.h tests/unit/*.h)

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call unit_covers,tests/unit/$$*.c) $(UNIT_HEADERS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(HOST_CFLAGS) $(COVERAGE_CFLAGS) -o $@ $(filter %.c,$^) -lcmocka
