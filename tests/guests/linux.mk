# tests/guests/linux.mk - the Linux boot-protocol probe (tests/boot/linux.sh):
# a tiny bzImage of our own (setup.asm: boot sector + setup header "HdrS",
# protocol 2.15, XLF_KERNEL_64, no payload) whose protected-mode part has a
# 32-bit entry at offset 0 and a 64-bit entry at 0x200, both checking the
# state and zero page they get (probe.c).  The initrd and command line the
# probe expects are built here too, so the test passes exactly these.
LINUX_PROBE_DIR := tests/guests/linux64_probe
LINUX_PROBE_CMDLINE := linux64-probe root=/dev/ram0 nobios.test=1 console=ttyS0
LINUX_PROBE_INITRD_SIZE := 12345
GUESTS += $(BUILD)/guests/linux64_probe.bzImage $(BUILD)/guests/linux64_probe.initrd \
          $(BUILD)/guests/linux64_probe.cmdline

$(BUILD)/guests/linux64_probe_pm.elf: $(LINUX_PROBE_DIR)/entry.S $(LINUX_PROBE_DIR)/probe.c \
		$(LINUX_PROBE_DIR)/link.ld tests/guests/probe.h tests/guests/linux.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -m64 -mgeneral-regs-only -static -no-pie \
	  -DPROBE_CMDLINE='"$(LINUX_PROBE_CMDLINE)"' \
	  -Wl,-T,$(LINUX_PROBE_DIR)/link.ld -Wl,--build-id=none -Wl,-z,noexecstack \
	  -Wl,--no-warn-rwx-segments -o $@ $(LINUX_PROBE_DIR)/entry.S $(LINUX_PROBE_DIR)/probe.c

$(BUILD)/guests/linux64_probe_pm.bin: $(BUILD)/guests/linux64_probe_pm.elf
	objcopy -O binary $< $@

$(BUILD)/guests/linux64_probe.bzImage: $(LINUX_PROBE_DIR)/setup.asm $(BUILD)/guests/linux64_probe_pm.bin
	nasm -f bin -DPM_BIN='"$(BUILD)/guests/linux64_probe_pm.bin"' -o $@ $<

# byte i = (i * 7 + 3) & 0xFF, as probe.c checks
$(BUILD)/guests/linux64_probe.initrd: tests/guests/linux.mk
	@mkdir -p $(dir $@)
	perl -e 'print map { chr(($$_ * 7 + 3) & 255) } 0 .. $(LINUX_PROBE_INITRD_SIZE) - 1' > $@

$(BUILD)/guests/linux64_probe.cmdline: tests/guests/linux.mk
	@mkdir -p $(dir $@)
	printf '%s' '$(LINUX_PROBE_CMDLINE)' > $@
