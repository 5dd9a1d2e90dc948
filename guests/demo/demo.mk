# guests/demo: the README's first guest (a tiny bzImage of our own).
GUESTS += $(BUILD)/guests/demo.bzImage
DEMO_SRC := guests/demo/head.S guests/demo/demo.c
$(BUILD)/guests/demo.elf: $(DEMO_SRC) guests/demo/demo.ld tests/guests/probe.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -m64 -mcmodel=small -mgeneral-regs-only -static -Wl,--build-id=none \
	  -Wl,-T,guests/demo/demo.ld -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ $(DEMO_SRC)
$(BUILD)/guests/demo.bzImage: $(BUILD)/guests/demo.elf
	objcopy -O binary $< $@
