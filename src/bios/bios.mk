# bios.mk - the pseudo-BIOS firmware: assembled with nasm and linked into
# libnobios as the symbols bios_image/bios_image_size (bios_blob.S .incbin's
# the binary), so the nobios binary carries it.
BIOS_BIN  := $(BUILD)/bios/pseudo-bios.bin
BIOS_BLOB := $(BUILD)/bios/bios_blob.o

$(BIOS_BIN): src/bios/pseudo-bios.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

$(BIOS_BLOB): src/bios/bios_blob.S $(BIOS_BIN)
	@mkdir -p $(dir $@)
	$(CC) -c -DBIOS_BIN_PATH='"$(BIOS_BIN)"' -o $@ $<

# Extra archive member: $(LIB)'s recipe archives all of its prerequisites.
$(LIB): $(BIOS_BLOB)
GUESTS += $(BIOS_BIN)
