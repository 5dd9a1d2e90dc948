/* bios_blob.S - the assembled pseudo-BIOS image inside libnobios. */
	.section .rodata
	.balign 16
	.globl bios_image
	.type bios_image, @object
bios_image:
	.incbin BIOS_BIN_PATH
	.globl bios_image_end
bios_image_end:
	.section .note.GNU-stack, "", @progbits
