# bench/: the raw-KVM floor program and the trivial PVH guest.
GUESTS += $(BUILD)/bench/floor $(BUILD)/bench/trivial.elf
$(BUILD)/bench/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ $<
$(BUILD)/bench/trivial.elf: bench/trivial.S bench/trivial.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,bench/trivial.ld \
	  -Wl,-z,noexecstack -o $@ $<
# disk_io: INT 13h's data path, mapping vs pread/pwrite (README "Disk images and input files")
GUESTS += $(BUILD)/bench/disk_io
$(BUILD)/bench/disk_io: bench/disk_io.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(WHOLE) $(LIBS)
# load: reading and placing a kernel, without KVM (README "Disk images and input files")
GUESTS += $(BUILD)/bench/load
$(BUILD)/bench/load: bench/load.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(WHOLE) $(LIBS)
