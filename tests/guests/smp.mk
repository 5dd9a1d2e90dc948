# smp.mk - the SMP probe guest (tests/boot/smp.sh): 32-bit, one image per
# way the ACPI RSDP reaches it (PVH's rsdp_paddr, Multiboot2's ACPI tags,
# Multiboot 1 and the legacy scan).  It checks nobios's ACPI and MP tables
# byte for byte and starts every AP itself with INIT-SIPI-SIPI.
SMP_DIR    := tests/guests/smp
SMP_SRC    := $(SMP_DIR)/entry32.S $(SMP_DIR)/smp_probe.c
SMP_FLAGS  := $(GUEST_CFLAGS) -m32 -mgeneral-regs-only -static -Wl,--build-id=none \
              -Wl,-T,$(SMP_DIR)/link.ld -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack \
              -Wl,--no-warn-rwx-segments
SMP_GUESTS := $(addprefix $(BUILD)/guests/,smp-pvh.elf smp-mb2.elf smp-mb1.elf)
GUESTS += $(SMP_GUESTS)

$(BUILD)/guests/smp-%.elf: $(SMP_SRC) $(SMP_DIR)/link.ld tests/guests/probe.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) -DPROTO_$(shell echo $* | tr a-z A-Z) $(SMP_FLAGS) -o $@ $(SMP_SRC)
