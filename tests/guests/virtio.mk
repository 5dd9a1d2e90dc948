# virtio.mk - the virtio probe guest (tests/boot/virtio_probe.sh): an ELF64
# entered at `start64` that drives virtio-blk through its MMIO registers.
GUESTS += $(BUILD)/guests/virtio_probe.elf

VIRTIO_PROBE_SRC := tests/guests/virtio/entry.S tests/guests/virtio/virtio_probe.c

$(BUILD)/guests/virtio_probe.elf: $(VIRTIO_PROBE_SRC) tests/guests/virtio/link.ld tests/guests/probe.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -m64 -mgeneral-regs-only -static -no-pie \
	  -Wl,-T,tests/guests/virtio/link.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
	  -o $@ $(VIRTIO_PROBE_SRC)
