# disk.mk - probe boot disks for tests/boot/disk.sh: INT 13h writes until the
# host fails, and a reader that loops until its sector is gone.
DISK_PROBES := $(BUILD)/guests/bios-diskio.img $(BUILD)/guests/bios-diskio-read.img

$(BUILD)/guests/bios-diskio.img: tests/guests/bios_diskio.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

$(BUILD)/guests/bios-diskio-read.img: tests/guests/bios_diskio.asm
	@mkdir -p $(dir $@)
	nasm -f bin -DREADLOOP -o $@ $<

GUESTS += $(DISK_PROBES)

# an LD_PRELOAD shim that makes the host fail on demand (tests/boot/fault_inject.c)
$(BUILD)/tests/fault_inject.so: tests/boot/fault_inject.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl

GUESTS += $(BUILD)/tests/fault_inject.so
