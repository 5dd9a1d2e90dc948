/* bios_blob.S - the assembled pseudo-BIOS image inside libnobios. */
	.section .rodata
	.balign 16
	.globl bios_image
	.type bios_image, @object
bios_image:
	.incbin BIOS_BIN_PATH
bios_image_end:
	.balign 4
	.globl bios_image_size
	.type bios_image_size, @object
bios_image_size:
	.long bios_image_end - bios_image
	.section .note.GNU-stack, "", @progbits
