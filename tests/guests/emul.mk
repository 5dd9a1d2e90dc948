# tests/guests/emul.mk - probe guests of instruction completion (issue 6):
# emul64.elf (ring-0 long mode, entered at start64 by the elf64 format),
# emul32.elf (multiboot, 32-bit protected mode), emul-refuse.elf (AVX in ring
# 0, which nobios cannot complete), and sse-guest.elf, a small C
# kernel compiled with SSE whose checksum tests/boot/emul.sh compares with
# the same C compiled for the host (sse-guest-host).
EMUL_DIR   := tests/guests/emul
EMUL_LD    := tests/guests/direct/link.ld
EMUL_FLAGS := $(GUEST_CFLAGS) -static -Wl,--build-id=none -Wl,-T,$(EMUL_LD) \
              -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
EMUL_SSE_CFLAGS := -O2 -msse2 -ftree-vectorize -fno-tree-loop-distribute-patterns
GUESTS += $(addprefix $(BUILD)/guests/,emul64.elf emul32.elf emul-refuse.elf sse-guest.elf sse-guest-host)

$(BUILD)/guests/emul64.elf: $(EMUL_DIR)/entry64.S $(EMUL_DIR)/emul_probe.c tests/guests/probe.h $(EMUL_LD)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 -mcmodel=small -mgeneral-regs-only $(EMUL_FLAGS) -o $@ $< $(EMUL_DIR)/emul_probe.c
$(BUILD)/guests/emul32.elf: $(EMUL_DIR)/entry32.S $(EMUL_DIR)/emul_probe.c tests/guests/probe.h $(EMUL_LD)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -mgeneral-regs-only $(EMUL_FLAGS) -o $@ $< $(EMUL_DIR)/emul_probe.c
$(BUILD)/guests/emul-refuse.elf: $(EMUL_DIR)/entry64.S $(EMUL_DIR)/emul_probe.c tests/guests/probe.h $(EMUL_LD)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 -mcmodel=small -mgeneral-regs-only -DEMUL_REFUSE $(EMUL_FLAGS) -o $@ $< $(EMUL_DIR)/emul_probe.c
$(BUILD)/guests/sse-guest.elf: $(EMUL_DIR)/entry64.S $(EMUL_DIR)/sse_guest.c tests/guests/probe.h $(EMUL_LD)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 -mcmodel=small $(EMUL_FLAGS) $(EMUL_SSE_CFLAGS) -o $@ $< $(EMUL_DIR)/sse_guest.c
$(BUILD)/guests/sse-guest-host: $(EMUL_DIR)/sse_guest.c
	@mkdir -p $(dir $@)
	$(CC) $(EMUL_SSE_CFLAGS) -DSSE_GUEST_HOST -o $@ $<

# The engine benchmark without KVM (bench/emul.sh).
GUESTS += $(BUILD)/bench/emul_engine
$(BUILD)/bench/emul_engine: bench/emul_engine.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(WHOLE) $(LIBS)
