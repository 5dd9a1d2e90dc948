/* entry.S - entry of the virtio probe: an ELF64 entered at `start64` in long
 * mode (nobios's elf64 format: identity paging over the first 4 GiB, so the
 * virtio-mmio windows at 0xD0000000 are mapped; IF = 0).  Polling only. */
	.text
	.code64
	.globl start64
start64:
	cli
	lea stack_top(%rip), %rsp
	call probe_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.space 16384
stack_top:
