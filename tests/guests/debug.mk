# tests/guests/debug.mk - probe guests of the debugging aids (issue 5): the
# gdb probe (ELF64 with symbols, entered at start64; the same file is gdb's
# symbol file) and guests that fail on purpose for the crash dumps.
DEBUG_DIR    := tests/guests/debug
DEBUG_LDFLAGS := -static -Wl,--build-id=none -Wl,-T,$(DEBUG_DIR)/link.ld \
                 -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
DEBUG_GUESTS := $(addprefix $(BUILD)/guests/,debug_probe.elf crash_gdt.elf crash_gp.elf \
                crash_spin.elf crash_hlt.elf crash_nopae.elf \
                crash_gp32.elf)
GUESTS += $(DEBUG_GUESTS)

# -O0 -g: gdb sees every variable and line; -mgeneral-regs-only: no SSE
# moves (this host's KVM cannot emulate them in ring 0).
$(BUILD)/guests/debug_probe.elf: $(DEBUG_DIR)/entry64.S $(DEBUG_DIR)/debug_probe.c $(DEBUG_DIR)/link.ld tests/guests/probe.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -O0 -g -m64 -mgeneral-regs-only $(DEBUG_LDFLAGS) \
	  -o $@ $(DEBUG_DIR)/entry64.S $(DEBUG_DIR)/debug_probe.c

$(BUILD)/guests/crash_gdt.elf $(BUILD)/guests/crash_gp.elf $(BUILD)/guests/crash_spin.elf \
  $(BUILD)/guests/crash_hlt.elf: \
  $(BUILD)/guests/crash_%.elf: $(DEBUG_DIR)/crash.S $(DEBUG_DIR)/link.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -m64 -DCRASH_$(shell echo $* | tr a-z A-Z) $(DEBUG_LDFLAGS) -o $@ $<

$(BUILD)/guests/crash_nopae.elf $(BUILD)/guests/crash_gp32.elf: \
  $(BUILD)/guests/crash_%.elf: $(DEBUG_DIR)/crash.S $(DEBUG_DIR)/link.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -m32 -DCRASH_$(shell echo $* | tr a-z A-Z) $(DEBUG_LDFLAGS) -Wl,-e,_start -o $@ $<
