# bios.mk - probe boot disks for the pseudo-BIOS (tests/boot/bios.sh): the
# same probe as an 8 MiB hard disk and as a 1.44 MB diskette; a key reader.
BIOS_PROBES := $(BUILD)/guests/bios-probe-hd.img $(BUILD)/guests/bios-probe-fd.img \
               $(BUILD)/guests/bios-keys.img

$(BUILD)/guests/bios-probe-hd.img: tests/guests/bios_probe.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

$(BUILD)/guests/bios-probe-fd.img: tests/guests/bios_probe.asm
	@mkdir -p $(dir $@)
	nasm -f bin -DFLOPPY -o $@ $<

# a boot sector that reads three keys through INT 16h
$(BUILD)/guests/bios-keys.img: tests/guests/bios_keys.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

GUESTS += $(BIOS_PROBES)

# a Multiboot 1 kernel that calls the BIOS from real mode (tests/boot/bios.sh)
$(BUILD)/guests/bios-direct.bin: tests/guests/bios_direct.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<
GUESTS += $(BUILD)/guests/bios-direct.bin
