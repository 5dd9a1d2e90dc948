/* init_blob.S - the guest init of `nobios exec` inside libnobios. */
	.section .rodata
	.balign 16
	.globl exec_init_image
	.type exec_init_image, @object
exec_init_image:
	.incbin EXEC_INIT_PATH
exec_init_image_end:
	.balign 4
	.globl exec_init_image_size
	.type exec_init_image_size, @object
exec_init_image_size:
	.long exec_init_image_end - exec_init_image
	.section .note.GNU-stack, "", @progbits
