# devices.mk - the devices probe guest (tests/boot/devices.sh): an ELF64
# entered at `start64` (nobios's elf64 format), C with probe.h.
GUESTS += $(BUILD)/guests/devices_probe.elf

DEVICES_PROBE_SRC := tests/guests/devices/entry.S tests/guests/devices/probe_devices.c

# -mgeneral-regs-only: no SSE moves, which this host's KVM cannot emulate.
$(BUILD)/guests/devices_probe.elf: $(DEVICES_PROBE_SRC) tests/guests/devices/link.ld tests/guests/probe.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -m64 -mgeneral-regs-only -static -no-pie \
	  -Wl,-T,tests/guests/devices/link.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
	  -o $@ $(DEVICES_PROBE_SRC)
