# bench/: the raw-KVM floor program and the trivial PVH guest.
GUESTS += $(BUILD)/bench/floor $(BUILD)/bench/trivial.elf
$(BUILD)/bench/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ $<
$(BUILD)/bench/trivial.elf: bench/trivial.S bench/trivial.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,bench/trivial.ld \
	  -Wl,-z,noexecstack -o $@ $<
