# grub.mk - guests GRUB boots in tests/boot/grub.sh: a boot sector for
# `chainloader` and a Multiboot 2 kernel for `multiboot2` (both nasm, flat).
GRUB_GUESTS := $(BUILD)/guests/grub-chain.bin $(BUILD)/guests/grub-mb2.bin

$(BUILD)/guests/grub-chain.bin: tests/guests/grub_chain.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

$(BUILD)/guests/grub-mb2.bin: tests/guests/grub_mb2.asm
	@mkdir -p $(dir $@)
	nasm -f bin -o $@ $<

GUESTS += $(GRUB_GUESTS)
