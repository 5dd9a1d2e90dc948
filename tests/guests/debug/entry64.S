/* entry64.S - the gdb probe's entry: nobios's elf64 format enters `start64`
 * in long mode with identity paging.  Switch to our own stack, call
 * probe_main(). */
	.text
	.code64
	.globl start64
start64:
	cli
	lea stack_top(%rip), %rsp
	xor %ebp, %ebp
	call probe_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.space 16384
stack_top:
