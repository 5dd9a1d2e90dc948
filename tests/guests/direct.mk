# tests/guests/direct.mk - probe guests of the direct-boot formats (issue 3):
# Multiboot (ELF and a.out kludge), Multiboot2, PVH (ELF32 with the Xen
# PHYS32_ENTRY note) and an ELF64 entered at start64, linked at its load
# address or (direct-elf64-high, issue 11) 1 GiB above it as OSv is.
DIRECT_DIR    := tests/guests/direct
DIRECT_SRC    := $(DIRECT_DIR)/direct_probe.c tests/guests/probe.h $(DIRECT_DIR)/link.ld
DIRECT_FLAGS  := $(GUEST_CFLAGS) -static -Wl,--build-id=none -Wl,-T,$(DIRECT_DIR)/link.ld \
                 -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments
DIRECT_GUESTS := $(addprefix $(BUILD)/guests/,direct-mb1.elf direct-mb1-aout.bin \
                 direct-mb2.elf direct-pvh.elf direct-elf64.elf direct-elf64-high.elf)
GUESTS += $(DIRECT_GUESTS)

$(BUILD)/guests/direct-mb1.elf: $(DIRECT_DIR)/entry32.S $(DIRECT_SRC)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -DPROTO_MB1 $(DIRECT_FLAGS) -o $@ $< $(DIRECT_DIR)/direct_probe.c
$(BUILD)/guests/direct-mb1-aout.elf: $(DIRECT_DIR)/entry32.S $(DIRECT_SRC)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -DPROTO_MB1_AOUT $(DIRECT_FLAGS) -o $@ $< $(DIRECT_DIR)/direct_probe.c
# The a.out kludge image is a flat binary: only the header says where it goes.
$(BUILD)/guests/direct-mb1-aout.bin: $(BUILD)/guests/direct-mb1-aout.elf
	objcopy -O binary -j .text -j .rodata -j .data $< $@
$(BUILD)/guests/direct-mb2.elf: $(DIRECT_DIR)/entry32.S $(DIRECT_SRC)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -DPROTO_MB2 $(DIRECT_FLAGS) -o $@ $< $(DIRECT_DIR)/direct_probe.c
$(BUILD)/guests/direct-pvh.elf: $(DIRECT_DIR)/entry32.S $(DIRECT_SRC)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -DPROTO_PVH $(DIRECT_FLAGS) -o $@ $< $(DIRECT_DIR)/direct_probe.c
$(BUILD)/guests/direct-elf64.elf: $(DIRECT_DIR)/entry64.S $(DIRECT_SRC)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 -mcmodel=small -DPROTO_ELF64 $(DIRECT_FLAGS) -o $@ $< $(DIRECT_DIR)/direct_probe.c
$(BUILD)/guests/direct-elf64-high.elf: $(DIRECT_DIR)/entry64.S $(DIRECT_SRC) $(DIRECT_DIR)/link-high.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m64 -mcmodel=small -DPROTO_ELF64 -DELF64_HIGH \
		$(subst link.ld,link-high.ld,$(DIRECT_FLAGS)) -o $@ $< $(DIRECT_DIR)/direct_probe.c
